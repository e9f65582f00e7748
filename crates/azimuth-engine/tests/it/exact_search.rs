//! Exact search on real data: debian-minilm (144,796 MiniLM embeddings) against its
//! brute-force ground truth.

use azimuth_engine::*;
use azimuth_index::npy;

use crate::common::shared_data;

fn load(name: &str) -> Vec<u8> {
    let path = shared_data().join("debian-minilm").join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set AZIMUTH_SHARED_DATA to the shared data folder)",
            path.display()
        )
    })
}

#[test]
fn exact_search_matches_ground_truth_on_debian_minilm() {
    let base = npy::parse_f32(&load("base.f16.npy")).unwrap();
    let queries = npy::parse_f32(&load("queries.f32.npy")).unwrap();
    let (gt_rows, gt_k, gt) = npy::parse_i64(&load("gt_cosine_top100.i32.npy")).unwrap();
    let gt_scores = npy::parse_f32(&load("gt_cosine_top100_scores.f32.npy")).unwrap();
    assert_eq!(
        (base.cols, queries.rows, gt_rows, gt_k),
        (384, 1000, 1000, 100)
    );

    let db = Database::in_memory();
    let c = db
        .create_collection("debian", CollectionConfig::single(384, Distance::Cosine))
        .unwrap();
    for start in (0..base.rows).step_by(5000) {
        let end = (start + 5000).min(base.rows);
        let pts = (start..end)
            .map(|i| PointStruct::new(i as u64, base.row(i).to_vec(), Payload::new()))
            .collect();
        c.upsert(pts, false).unwrap();
    }
    assert_eq!(c.len(), 144_796);

    let k = 100;
    let reqs: Vec<SearchRequest> = (0..queries.rows)
        .map(|q| {
            let mut r = SearchRequest::dense(queries.row(q).to_vec(), k);
            r.params.exact = true;
            r
        })
        .collect();
    let mut mismatches = 0;
    for (q, hits) in c.search_batch(&reqs).unwrap().into_iter().enumerate() {
        assert_eq!(hits.len(), k);
        let truth: std::collections::HashSet<i64> =
            gt[q * k..(q + 1) * k].iter().copied().collect();
        let kth = gt_scores.row(q)[k - 1];
        for (rank, h) in hits.iter().enumerate() {
            let PointId::Num(id) = h.id else {
                panic!("unexpected id")
            };
            let expected = gt_scores.row(q)[rank];
            assert!(
                (h.score - expected).abs() < 1e-5,
                "query {q} rank {rank}: score {} vs ground truth {expected}",
                h.score
            );
            if !truth.contains(&(id as i64)) {
                mismatches += 1;
                assert!((h.score - kth).abs() < 1e-6, "query {q}: id {id} (score {}) is not in the ground truth and does not tie its 100th score {kth}", h.score);
            }
        }
    }
    eprintln!("{mismatches} hits outside the ground-truth set, all tied with the 100th score");
}

fn payloads() -> Vec<Payload> {
    use std::io::BufRead;
    let gz = load("payload.jsonl.gz");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(&gz[..]));
    reader
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

/// Filtered exact search (the data set's filters at 1 %, 8 % and 48 % selectivity) agrees with
/// the filtered ground truth, with and without a payload index on the filtered field.
#[test]
fn filtered_exact_search_matches_ground_truth() {
    let base = npy::parse_f32(&load("base.f16.npy")).unwrap();
    let queries = npy::parse_f32(&load("queries.f32.npy")).unwrap();
    let payloads = payloads();
    assert_eq!(payloads.len(), base.rows);
    let filters: serde_json::Value = serde_json::from_slice(&load("filters.json")).unwrap();
    let db = Database::in_memory();
    let c = db
        .create_collection("debian", CollectionConfig::single(384, Distance::Cosine))
        .unwrap();
    let pts: Vec<PointStruct> = payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| PointStruct::new(i as u64, base.row(i).to_vec(), p))
        .collect();
    for chunk in pts.chunks(5000) {
        c.upsert(chunk.to_vec(), false).unwrap();
    }
    for indexed in [false, true] {
        if indexed {
            c.create_payload_index("section", FieldSchema::Keyword, true)
                .unwrap();
        }
        for spec in filters.as_array().unwrap() {
            let filter = Filter::from_json(&spec["filter"]).unwrap();
            let (rows, k, gt) = npy::parse_i64(&load(spec["file"].as_str().unwrap())).unwrap();
            let selectivity = spec["selectivity"].as_f64().unwrap();
            let count = c.count(Some(&filter)).unwrap() as f64 / base.rows as f64;
            assert!(
                (count - selectivity).abs() < 0.005,
                "selectivity {count} vs {selectivity}"
            );
            for q in (0..rows).step_by(10) {
                let mut req = SearchRequest::dense(queries.row(q).to_vec(), k);
                req.filter = Some(filter.clone());
                req.params.exact = true;
                let hits = c.search(&req).unwrap();
                let truth: std::collections::HashSet<i64> =
                    gt[q * k..(q + 1) * k].iter().copied().collect();
                let outside = hits
                    .iter()
                    .filter(|h| !matches!(h.id, PointId::Num(i) if truth.contains(&(i as i64))))
                    .count();
                // Ties at the k-th score may swap an id in or out; more than one is a real miss.
                assert!(outside <= 1, "query {q}, filter {}: {outside} hits outside the ground truth (indexed: {indexed})", spec["file"]);
            }
        }
    }
}
