//! Real crashes: a child process streams acknowledged upserts and is killed with SIGKILL at
//! random moments; every acknowledged write must be there after reopening.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use azimuth_engine::*;
use serde_json::json;

use crate::common::{payload, Rng};

const CHILD_DIR: &str = "AZIMUTH_CRASH_CHILD_DIR";
const CHILD_START: &str = "AZIMUTH_CRASH_CHILD_START";
const BATCH: u64 = 40;
const DIM: usize = 16;

fn config() -> CollectionConfig {
    let mut cfg = CollectionConfig::single(DIM, Distance::Dot);
    // Small thresholds so checkpoints and merges happen while the child is being killed.
    cfg.optimizer.flush_threshold_bytes = 48 << 10;
    cfg.optimizer.default_segment_number = 3;
    cfg
}

fn vector(id: u64) -> Vec<f32> {
    let mut rng = Rng(id);
    rng.vector(DIM)
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
    let opts = DbOptions {
        background_interval: Duration::from_millis(20),
        ..Default::default()
    };
    let db = Database::open_with(&dir, opts).expect("child open");
    let c = match db.collection("crash") {
        Ok(c) => c,
        Err(_) => db.create_collection("crash", config()).expect("create"),
    };
    for b in start.. {
        let pts = (b * BATCH..(b + 1) * BATCH)
            .map(|i| PointStruct::new(i, vector(i), payload(json!({"batch": b, "i": i}))))
            .collect();
        c.upsert(pts, true).expect("upsert");
        // A payload edit on an older, likely sealed, point: exercises copy-on-write.
        let old = PointSelector::Ids(vec![PointId::Num(b / 2 * BATCH)]);
        c.set_payload(&old, payload(json!({"touched": true})), None, true)
            .expect("set_payload");
        println!("ack {b}");
    }
}

fn run_child(dir: &std::path::Path, start: u64, kill_after: Duration) -> Option<u64> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
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

fn verify(dir: &std::path::Path, acked_through: Option<u64>) {
    let db = Database::open(dir).expect("the database must open after a crash");
    let Some(last) = acked_through else { return };
    let c = db
        .collection("crash")
        .expect("collection exists once a batch was acknowledged");
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
            Vector::Dense(vector(i)),
            "vector of point {i}"
        );
    }
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xC0FFEE);
    let mut acked: Option<u64> = None;
    let mut rounds_with_acks = 0;
    for _round in 0..24 {
        let start = acked.map_or(0, |a| a + 1);
        let kill_after = Duration::from_millis(80 + rng.below(500));
        let got = run_child(dir.path(), start, kill_after);
        if got.is_some() {
            rounds_with_acks += 1;
            acked = got;
        }
        verify(dir.path(), acked);
    }
    assert!(
        rounds_with_acks >= 12,
        "only {rounds_with_acks} rounds acknowledged anything"
    );
    assert!(
        acked.unwrap_or(0) >= 50,
        "too few batches were written to test anything"
    );
}
