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
