//! Concurrent writers and readers on one durable collection.

use std::sync::Arc;

use azimuth_engine::*;
use serde_json::json;

use crate::common::{payload, Rng};

#[test]
fn concurrent_durable_writers_and_readers() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        let mut cfg = CollectionConfig::single(8, Distance::Euclid);
        cfg.optimizer.flush_threshold_bytes = 32 << 10; // checkpoints race the writers
        let c = db.create_collection("c", cfg).unwrap();
        let writers: Vec<_> = (0..4u64)
            .map(|t| {
                let c: Arc<Collection> = c.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng(t);
                    for i in 0..100u64 {
                        let id = t * 1000 + i;
                        let p =
                            PointStruct::new(id, rng.vector(8), payload(json!({"t": t, "i": i})));
                        c.upsert(vec![p], true).unwrap();
                    }
                })
            })
            .collect();
        let reader = {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                while last < 400 {
                    let n = c.count(None).unwrap();
                    assert!(n >= last, "count went backwards");
                    last = n;
                    let hits = c.search(&SearchRequest::dense(vec![0.0; 8], 5)).unwrap();
                    assert!(hits.len() <= 5 && hits.windows(2).all(|w| w[0].score <= w[1].score));
                }
            })
        };
        writers.into_iter().for_each(|w| w.join().unwrap());
        reader.join().unwrap();
    }
    let db = Database::open(dir.path()).unwrap();
    let c = db.collection("c").unwrap();
    assert_eq!(c.len(), 400);
    for t in 0..4u64 {
        let f = Filter::from_json(&json!({"must": [{"key": "t", "match": {"value": t}}]})).unwrap();
        assert_eq!(c.count(Some(&f)).unwrap(), 100);
    }
}

/// Staged checkpoints (segment files written outside the write lock) racing plain ones,
/// merges, snapshots, deletes and payload edits: after a reopen every point is as the last
/// acknowledged write left it.
#[test]
fn staged_checkpoints_race_every_other_writer_of_files() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        let mut cfg = CollectionConfig::single(8, Distance::Dot);
        cfg.optimizer.flush_threshold_bytes = 4 << 10;
        cfg.optimizer.default_segment_number = 2;
        let c = db.create_collection("c", cfg).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..3u64)
            .map(|t| {
                let c: Arc<Collection> = c.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng(t + 10);
                    for i in 0..300u64 {
                        let id = t * 1000 + i;
                        let p =
                            PointStruct::new(id, rng.vector(8), payload(json!({"t": t, "i": i})));
                        c.upsert(vec![p], true).unwrap();
                        if i % 7 == 3 {
                            let old = PointSelector::Ids(vec![PointId::Num(t * 1000 + i / 2)]);
                            // NotFound when that point was deleted already
                            let _ =
                                c.set_payload(&old, payload(json!({"edited": true})), None, true);
                        }
                        if i % 11 == 5 && i >= 100 {
                            // old enough to sit in a sealed segment: the mutable one keeps no
                            // deletions, so checkpoints take the staged path
                            let gone = PointSelector::Ids(vec![PointId::Num(t * 1000 + i - 100)]);
                            c.delete(&gone, true).unwrap();
                        }
                    }
                })
            })
            .collect();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match n % 3 {
                        0 => c.flush().unwrap(),
                        1 => {
                            c.optimize().unwrap();
                        }
                        _ => {
                            let info = db.create_snapshot("c").unwrap();
                            db.delete_snapshot("c", &info.name).unwrap();
                        }
                    }
                    n += 1;
                    // leave room for the writers' own (staged) checkpoints
                    std::thread::sleep(std::time::Duration::from_millis(30));
                }
            });
            writers.into_iter().for_each(|w| w.join().unwrap());
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
    let db = Database::open(dir.path()).unwrap();
    let c = db.collection("c").unwrap();
    for t in 0..3u64 {
        let deleted = |i: u64| (100..300u64).any(|j| j % 11 == 5 && j - 100 == i);
        let edited = |i: u64| (0..300u64).any(|j| j % 7 == 3 && j / 2 == i);
        for i in 0..300u64 {
            let got = c
                .get(
                    &[PointId::Num(t * 1000 + i)],
                    &PayloadSelector::All,
                    &VectorSelector::None,
                )
                .unwrap();
            if deleted(i) {
                assert!(got.is_empty(), "{t}/{i} was deleted");
                continue;
            }
            assert_eq!(got.len(), 1, "{t}/{i} missing");
            let p = got[0].payload.clone().unwrap();
            assert_eq!(p["i"], json!(i));
            assert_eq!(p.contains_key("edited"), edited(i), "{t}/{i} edit");
        }
    }
}
