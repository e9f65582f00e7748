//! Real crashes: a child process streams acknowledged upserts and is killed with SIGKILL at
//! random moments; every acknowledged write must be there after reopening. In the indexed
//! variant the background indexer builds graphs and value graphs while the child is killed:
//! the database must still open, and searches through whatever graphs it loaded must find
//! every acknowledged point — also in a `Float16` collection, whose segment files hold
//! half-precision rows.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use azimuth_engine::*;
use serde_json::json;

use crate::common::{payload, Rng};

const CHILD_DIR: &str = "AZIMUTH_CRASH_CHILD_DIR";
const CHILD_START: &str = "AZIMUTH_CRASH_CHILD_START";
const CHILD_INDEXED: &str = "AZIMUTH_CRASH_CHILD_INDEXED";
const BATCH: u64 = 40;
const DIM: usize = 16;

fn config(indexed: bool) -> CollectionConfig {
    let mut cfg = CollectionConfig::single(DIM, Distance::Dot);
    // Small thresholds so checkpoints and merges happen while the child is being killed.
    cfg.optimizer.flush_threshold_bytes = 48 << 10;
    cfg.optimizer.default_segment_number = 3;
    if indexed {
        // Euclid: a point's own vector finds it at distance 0. Segments of 300 rows and
        // more get graphs (of about 20 KiB of vectors).
        cfg = CollectionConfig {
            optimizer: cfg.optimizer,
            ..CollectionConfig::single(DIM, Distance::Euclid)
        };
        cfg.optimizer.indexing_threshold = (300 * DIM * 4usize).div_ceil(1024);
        cfg.hnsw.m = 8;
        cfg.hnsw.ef_construct = 64;
        cfg.hnsw.full_scan_threshold = 1;
    }
    cfg
}

/// The tag of point `i`: a keyword with a value index, so segments get value graphs.
fn tag(i: u64) -> String {
    format!("t{}", i % 4)
}

fn vector(id: u64) -> Vec<f32> {
    let mut rng = Rng(id);
    rng.vector(DIM)
}

/// Point `id`'s vector as the collection stores it (rounded to half precision in a
/// `Float16` collection).
fn stored(id: u64, datatype: Datatype) -> Vec<f32> {
    use azimuth_index::distance::half::{f16_to_f32, f32_to_f16};
    match datatype {
        Datatype::Float16 => vector(id)
            .iter()
            .map(|&x| f16_to_f32(f32_to_f16(x)))
            .collect(),
        _ => vector(id),
    }
}

/// The child side: does nothing unless started by `kill_9_loses_no_acknowledged_write`.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let start: u64 = std::env::var(CHILD_START)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let indexed = std::env::var(CHILD_INDEXED).is_ok();
    let opts = DbOptions {
        background_interval: Duration::from_millis(20),
        indexer: IndexerOptions {
            threads: 2,
            quiet: Duration::from_millis(10),
            max_wait: Duration::from_millis(50),
        },
        ..Default::default()
    };
    let db = Database::open_with(&dir, opts).expect("child open");
    let c = match db.collection("crash") {
        Ok(c) => c,
        Err(_) => db
            .create_collection("crash", config(indexed))
            .expect("create"),
    };
    for b in start.. {
        let pts = (b * BATCH..(b + 1) * BATCH)
            .map(|i| {
                let p = payload(json!({"batch": b, "i": i, "tag": tag(i)}));
                PointStruct::new(i, vector(i), p)
            })
            .collect();
        c.upsert(pts, true).expect("upsert");
        // A payload edit on an older, likely sealed, point: exercises copy-on-write.
        let old = PointSelector::Ids(vec![PointId::Num(b / 2 * BATCH)]);
        c.set_payload(&old, payload(json!({"touched": true})), None, true)
            .expect("set_payload");
        println!("ack {b}");
    }
}

fn run_child(
    dir: &std::path::Path,
    start: u64,
    kill_after: Duration,
    indexed: bool,
) -> Option<u64> {
    let exe = std::env::current_exe().unwrap();
    let mut command = Command::new(exe);
    if indexed {
        command.env(CHILD_INDEXED, "1");
    }
    let mut child = command
        .args([
            "crash::crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_START, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(b) = line
                .strip_prefix("ack ")
                .and_then(|s| s.parse::<u64>().ok())
            {
                let _ = tx.send(b);
            }
        }
    });
    let deadline = Instant::now() + kill_after;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    reader.join().unwrap();
    rx.try_iter().max()
}

fn verify(dir: &std::path::Path, acked_through: Option<u64>, indexed: bool) {
    // no background work: the checks below see the collection as it opened
    let opts = DbOptions {
        background: false,
        ..Default::default()
    };
    let db = Database::open_with(dir, opts).expect("the database must open after a crash");
    let Some(last) = acked_through else { return };
    let c = db
        .collection("crash")
        .expect("collection exists once a batch was acknowledged");
    let datatype = c.config().vectors[""].datatype;
    let ids: Vec<PointId> = (0..(last + 1) * BATCH).map(PointId::Num).collect();
    let got = c
        .get(&ids, &PayloadSelector::All, &VectorSelector::All)
        .unwrap();
    assert_eq!(
        got.len(),
        ids.len(),
        "acknowledged points missing after kill -9"
    );
    for r in got {
        let PointId::Num(i) = r.id else {
            panic!("unexpected id {:?}", r.id)
        };
        let p = r.payload.unwrap();
        assert_eq!(p["i"], json!(i), "payload of point {i}");
        assert_eq!(p["batch"], json!(i / BATCH));
        assert_eq!(
            r.vectors.unwrap()[""],
            Vector::Dense(stored(i, datatype)),
            "vector of point {i}"
        );
    }
    if indexed {
        verify_searches(&c, last, datatype);
    }
}

/// 200 acknowledged points (the last batch and 160 at random) are found by their own vectors
/// (at distance 0), with and without a filter on their tag: always by an exact search, and
/// nearly always through whatever graphs the reopened collection loaded (a walk is
/// approximate: a rare row is reachable by no link); and the collection can be indexed
/// until only rows below the indexing threshold are left.
fn verify_searches(c: &Collection, last: u64, datatype: Datatype) {
    let found = |i: u64, filter: Option<Filter>, exact: bool| {
        let mut req = SearchRequest::dense(stored(i, datatype), 10);
        req.filter = filter;
        req.params.exact = exact;
        let hits = c.search(&req).expect("search after a crash");
        let first = &hits[0];
        if exact {
            assert_eq!(
                first.id,
                PointId::Num(i),
                "point {i} not found by exact search"
            );
        }
        first.id == PointId::Num(i) && first.score.abs() < 1e-4
    };
    let check = || {
        let (mut walks, mut missed) = (0, 0);
        let mut rng = Rng(last);
        let points = (last * BATCH..(last + 1) * BATCH)
            .chain((0..160).map(|_| rng.below((last + 1) * BATCH)));
        for i in points {
            let f = json!({"must": [{"key": "tag", "match": {"value": tag(i)}}]});
            for filter in [None, Some(Filter::from_json(&f).unwrap())] {
                assert!(found(i, filter.clone(), true));
                walks += 1;
                missed += usize::from(!found(i, filter, false));
            }
        }
        assert!(
            missed * 200 <= walks,
            "{missed} of {walks} points not found by their vectors"
        );
    };
    check();
    c.build_indexes().expect("index after a crash");
    let info = c.info();
    assert!(!info.indexing.pending);
    // what is left unindexed (the mutable segment and small sealed ones) is below the
    // indexing threshold of 300 rows, and stays exact
    let unindexed = info.points_count - info.indexing.indexed_vectors;
    assert!(
        unindexed < 300,
        "{unindexed} of {} points left unindexed",
        info.points_count
    );
    check();
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    kill_9_rounds(false, 24);
}

#[test]
fn kill_9_while_indexing_loses_nothing_and_reopens_searchable() {
    kill_9_rounds(true, 16);
}

/// The same with half-precision rows in memory and in the segment files.
#[test]
fn kill_9_while_indexing_a_float16_collection_loses_nothing() {
    kill_9_rounds_of(true, Datatype::Float16, 8);
}

fn kill_9_rounds(indexed: bool, rounds: usize) {
    kill_9_rounds_of(indexed, Datatype::Float32, rounds);
}

fn kill_9_rounds_of(indexed: bool, datatype: Datatype, rounds: usize) {
    let dir = tempfile::tempdir().unwrap();
    if indexed {
        // made before the first child, so no kill falls between creating the collection
        // and its payload index
        let db = Database::open(dir.path()).unwrap();
        let mut cfg = config(true);
        cfg.vectors.get_mut("").unwrap().datatype = datatype;
        let c = db.create_collection("crash", cfg).unwrap();
        c.create_payload_index("tag", FieldSchema::Keyword, true)
            .unwrap();
    }
    let mut rng = Rng(0xC0FFEE);
    let mut acked: Option<u64> = None;
    let mut rounds_with_acks = 0;
    for _round in 0..rounds {
        let start = acked.map_or(0, |a| a + 1);
        let kill_after = Duration::from_millis(80 + rng.below(500));
        let got = run_child(dir.path(), start, kill_after, indexed);
        if got.is_some() {
            rounds_with_acks += 1;
            acked = got;
        }
        verify(dir.path(), acked, indexed);
    }
    assert!(
        rounds_with_acks >= rounds / 2,
        "only {rounds_with_acks} rounds acknowledged anything"
    );
    assert!(
        acked.unwrap_or(0) >= 50,
        "too few batches were written to test anything"
    );
}
