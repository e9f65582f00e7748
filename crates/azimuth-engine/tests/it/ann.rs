//! The ANN index inside the engine: segments get graphs, searches use them with recall close
//! to exact search, deletes and filters are honoured, graphs persist and reopen unchanged.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use azimuth_engine::*;
use azimuth_index::npy;
use serde_json::json;

use crate::common::{payload, shared_data, Rng};

/// Clustered data, closer to real embeddings than uniform noise: 64 centres, points near one.
/// Returns `n` data rows and `nq` queries drawn the same way.
fn data_and_queries(
    rng: &mut Rng,
    n: usize,
    nq: usize,
    dim: usize,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mut all = clustered(rng, n + nq, dim);
    let queries = all.split_off(n);
    (all, queries)
}

fn clustered(rng: &mut Rng, n: usize, dim: usize) -> Vec<Vec<f32>> {
    let centres: Vec<Vec<f32>> = (0..64).map(|_| rng.vector(dim)).collect();
    (0..n)
        .map(|_| {
            let c = &centres[rng.below(64) as usize];
            c.iter().map(|x| x + 0.35 * rng.f32()).collect()
        })
        .collect()
}

/// The first `rows` base rows and `queries` queries of the debian-minilm set (384-d).
fn minilm(rows: usize, queries: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let path = shared_data().join("debian-minilm");
    let base = npy::parse_f32(&std::fs::read(path.join("base.f16.npy")).unwrap()).unwrap();
    let qs = npy::parse_f32(&std::fs::read(path.join("queries.f32.npy")).unwrap()).unwrap();
    (
        (0..rows).map(|i| base.row(i).to_vec()).collect(),
        (0..queries).map(|i| qs.row(i).to_vec()).collect(),
    )
}

/// A config whose segments are indexed from `threshold_rows` rows on.
fn config(dim: usize, d: Distance, threshold_rows: usize) -> CollectionConfig {
    let mut c = CollectionConfig::single(dim, d);
    c.optimizer.indexing_threshold = (threshold_rows * dim * 4).div_ceil(1024);
    c.hnsw.ef_construct = 100;
    c.hnsw.full_scan_threshold = 100 * dim * 4 / 1024;
    c
}

fn no_background() -> DbOptions {
    DbOptions {
        background: false,
        ..Default::default()
    }
}

fn load(c: &Collection, vectors: &[Vec<f32>], payload_of: impl Fn(usize) -> Payload) {
    let pts: Vec<PointStruct> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| PointStruct::new(i as u64, v.clone(), payload_of(i)))
        .collect();
    for chunk in pts.chunks(2000) {
        c.upsert(chunk.to_vec(), false).unwrap();
    }
}

fn ids(hits: &[ScoredPoint]) -> Vec<PointId> {
    hits.iter().map(|h| h.id.clone()).collect()
}

/// The `(id, score)` of each hit of `req`.
fn id_scores(c: &Collection, req: &SearchRequest) -> Vec<(PointId, f32)> {
    c.search(req)
        .unwrap()
        .into_iter()
        .map(|h| (h.id, h.score))
        .collect()
}

/// The top 10 `(id, score)` of each query, with `edit` applied to every request.
fn scored(
    c: &Collection,
    queries: &[Vec<f32>],
    edit: impl Fn(&mut SearchRequest),
) -> Vec<Vec<(PointId, f32)>> {
    queries
        .iter()
        .map(|q| {
            let mut req = SearchRequest::dense(q.clone(), 10);
            edit(&mut req);
            id_scores(c, &req)
        })
        .collect()
}

/// Mean recall@k of `req` with graphs against the same request searched exactly.
fn recall(
    c: &Collection,
    queries: &[Vec<f32>],
    k: usize,
    edit: impl Fn(&mut SearchRequest),
) -> f64 {
    let mut found = 0usize;
    let mut total = 0usize;
    for q in queries {
        let mut req = SearchRequest::dense(q.clone(), k);
        edit(&mut req);
        let approx: HashSet<PointId> = ids(&c.search(&req).unwrap()).into_iter().collect();
        req.params.exact = true;
        let exact = ids(&c.search(&req).unwrap());
        found += exact.iter().filter(|id| approx.contains(id)).count();
        total += exact.len();
    }
    found as f64 / total.max(1) as f64
}

#[test]
fn indexed_search_keeps_recall_for_every_distance() {
    for d in [
        Distance::Cosine,
        Distance::Dot,
        Distance::Euclid,
        Distance::Manhattan,
    ] {
        let mut rng = Rng(7);
        let (data, queries) = data_and_queries(&mut rng, 6000, 100, 24);
        let db = Database::in_memory_with(no_background());
        let c = db.create_collection("c", config(24, d, 1000)).unwrap();
        load(&c, &data, |_| Payload::new());
        c.build_indexes().unwrap();
        let info = c.info();
        assert_eq!(
            info.indexing.indexed_vectors, 6000,
            "{d:?}: {:?}",
            info.indexing
        );
        assert!(!info.indexing.pending);
        assert_eq!(
            info.segments_count, 2,
            "one sealed segment plus the empty mutable one"
        );
        let r = recall(&c, &queries, 10, |_| {});
        assert!(r >= 0.95, "{d:?}: recall@10 {r}");
    }
}

#[test]
fn deleted_points_are_never_returned_and_filters_keep_recall() {
    let mut rng = Rng(11);
    let (data, queries) = data_and_queries(&mut rng, 8000, 60, 16);
    let db = Database::in_memory_with(no_background());
    let c = db
        .create_collection("c", config(16, Distance::Cosine, 1000))
        .unwrap();
    load(&c, &data, |i| {
        payload(json!({"bucket": i % 100, "tag": format!("t{}", i % 100)}))
    });
    c.build_indexes().unwrap();
    // Delete a fifth (under the vacuum threshold, so the graph stays and must skip them).
    let gone: Vec<PointId> = (0..8000u64)
        .filter(|i| i % 5 == 0)
        .map(PointId::Num)
        .collect();
    c.delete(&PointSelector::Ids(gone.clone()), true).unwrap();
    assert_eq!(c.info().indexing.indexed_vectors, 6400);
    let gone: HashSet<PointId> = gone.into_iter().collect();
    for q in &queries {
        let hits = c.search(&SearchRequest::dense(q.clone(), 20)).unwrap();
        assert_eq!(hits.len(), 20);
        assert!(
            hits.iter().all(|h| !gone.contains(&h.id)),
            "a deleted point came back"
        );
    }
    assert!(recall(&c, &queries, 10, |_| {}) >= 0.95);

    // Selectivity 1 %, 10 %, 50 %, without and with a payload index.
    for indexed in [false, true] {
        if indexed {
            c.create_payload_index("tag", FieldSchema::Keyword, true)
                .unwrap();
            c.create_payload_index("bucket", FieldSchema::Integer, true)
                .unwrap();
        }
        for (share, filter) in [
            (
                1,
                json!({"must": [{"key": "tag", "match": {"value": "t3"}}]}),
            ),
            (
                10,
                json!({"must": [{"key": "bucket", "range": {"lt": 10}}]}),
            ),
            (
                50,
                json!({"must_not": [{"key": "bucket", "range": {"gte": 50}}]}),
            ),
        ] {
            let holds = |b: u64| match share {
                1 => b == 3,
                10 => b < 10,
                _ => b < 50,
            };
            let f = Filter::from_json(&filter).unwrap();
            let r = recall(&c, &queries, 10, |req| req.filter = Some(f.clone()));
            assert!(r >= 0.95, "{share}% (payload index: {indexed}): recall {r}");
            for q in &queries[..10] {
                let mut req = SearchRequest::dense(q.clone(), 10);
                req.filter = Some(f.clone());
                req.with_payload = PayloadSelector::All;
                for h in c.search(&req).unwrap() {
                    assert!(!gone.contains(&h.id));
                    let b = h
                        .payload
                        .as_ref()
                        .and_then(|p| p["bucket"].as_u64())
                        .unwrap();
                    assert!(holds(b), "{share}%: a hit fails the filter");
                }
            }
        }
    }
}

#[test]
fn bulk_load_ends_as_one_indexed_segment_and_reopens_without_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(3);
    let (data, queries) = data_and_queries(&mut rng, 5000, 30, 32);
    let before: Vec<Vec<(PointId, f32)>>;
    {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db
            .create_collection("c", config(32, Distance::Euclid, 500))
            .unwrap();
        // Several checkpoints: several sealed segments before indexing.
        for chunk in data.chunks(1000).enumerate() {
            let pts = chunk
                .1
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    PointStruct::new((chunk.0 * 1000 + j) as u64, v.clone(), Payload::new())
                })
                .collect();
            c.upsert(pts, true).unwrap();
            c.flush().unwrap();
        }
        assert_eq!(c.info().segments_count, 6);
        assert!(c.info().indexing.pending);
        c.build_indexes().unwrap();
        let info = c.info();
        assert_eq!(info.segments_count, 2, "merged into one sealed segment");
        assert_eq!(info.indexing.indexed_vectors, 5000);
        assert_eq!(info.indexing.calibration.len(), 1);
        before = scored(&c, &queries, |_| {});
    }
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    let info = c.info();
    assert_eq!(
        info.indexing.indexed_vectors, 5000,
        "the graph was loaded, not rebuilt"
    );
    assert!(!info.indexing.pending);
    let after = scored(&c, &queries, |_| {});
    assert_eq!(before, after, "identical results after reopening");
    drop(c);
    drop(db);

    // A damaged graph file is reported by name, with what to do.
    let graph = damage_a_graph_file(dir.path());
    std::fs::remove_file(&graph).unwrap();
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    assert!(
        c.info().indexing.pending,
        "without its graph the segment waits to be indexed"
    );
    c.build_indexes().unwrap();
    assert_eq!(c.info().indexing.indexed_vectors, 5000);
}

/// Flips a bit of `file` at byte `at` (from the end when negative) and checks that opening
/// the database in `dir` refuses it as corruption naming a file ending in `ext`.
fn assert_damage_is_reported(dir: &std::path::Path, file: &std::path::Path, at: isize, ext: &str) {
    let mut bytes = std::fs::read(file).unwrap();
    let at = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    bytes[at] ^= 0x40;
    std::fs::write(file, &bytes).unwrap();
    let Err(err) = Database::open_with(dir, no_background()) else {
        panic!("a damaged {ext} file went unnoticed")
    };
    assert_eq!(err.kind(), ErrorKind::Corruption);
    assert!(err.to_string().contains(ext), "{err}");
}

/// Flips a byte in the middle of a graph file under `dir` and checks that opening reports
/// it; returns the file.
fn damage_a_graph_file(dir: &std::path::Path) -> std::path::PathBuf {
    let graph = walk(dir)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "azg"))
        .expect("a graph file");
    let middle = std::fs::metadata(&graph).unwrap().len() as isize / 2;
    assert_damage_is_reported(dir, &graph, middle, ".azg");
    graph
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn background_indexer_indexes_after_writes_pause() {
    let dir = tempfile::tempdir().unwrap();
    let options = DbOptions {
        background_interval: Duration::from_millis(50),
        indexer: IndexerOptions {
            threads: 2,
            quiet: Duration::from_millis(200),
            max_wait: Duration::from_secs(30),
        },
        ..Default::default()
    };
    let db = Database::open_with(dir.path(), options).unwrap();
    let mut rng = Rng(5);
    let (data, queries) = data_and_queries(&mut rng, 3000, 30, 16);
    let c = db
        .create_collection("c", config(16, Distance::Cosine, 500))
        .unwrap();
    load(&c, &data, |_| Payload::new());
    let start = Instant::now();
    loop {
        let info = c.info();
        if info.indexing.indexed_vectors == 3000 && !info.indexing.pending {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not indexed: {:?}",
            info.indexing
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(recall(&c, &queries, 10, |_| {}) >= 0.95);
}

#[test]
fn target_recall_picks_ef_from_the_calibration() {
    let mut rng = Rng(9);
    let (data, queries) = data_and_queries(&mut rng, 6000, 100, 32);
    let db = Database::in_memory_with(no_background());
    let c = db
        .create_collection("c", config(32, Distance::Cosine, 1000))
        .unwrap();
    load(&c, &data, |_| Payload::new());
    c.build_indexes().unwrap();
    let table = &c.info().indexing.calibration[0].1;
    assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(table.last().unwrap().1 >= 0.95, "{table:?}");
    let mut req = SearchRequest::dense(data[0].clone(), 10);
    req.params.target_recall = Some(0.9);
    let est = c.estimated_recall(&req).unwrap();
    assert!(est >= 0.9, "estimate {est}");
    let measured = recall(&c, &queries, 10, |r| r.params.target_recall = Some(0.9));
    eprintln!("target 0.9: estimate {est}, measured {measured}; table {table:?}");
    assert!(measured >= 0.85, "measured {measured} for target 0.9");
    req.params.exact = true;
    assert_eq!(c.estimated_recall(&req), None);
}

/// Real embeddings: a 20,000-row subset of debian-minilm, 200 of its queries.
#[test]
fn indexed_search_keeps_recall_on_debian_minilm_subset() {
    let n = 20_000;
    let (data, qs) = minilm(n, 200);
    let db = Database::in_memory_with(no_background());
    let mut cfg = CollectionConfig::single(384, Distance::Cosine);
    cfg.optimizer.indexing_threshold = 1000;
    let c = db.create_collection("debian", cfg).unwrap();
    load(&c, &data, |_| Payload::new());
    c.build_indexes().unwrap();
    assert_eq!(c.info().indexing.indexed_vectors, n);
    let r = recall(&c, &qs, 10, |_| {});
    eprintln!("debian-minilm 20k: recall@10 {r:.4} at the default ef");
    assert!(r >= 0.95, "recall@10 {r}");
}

/// Quantized collections walk int8 or binary codes and rescore from the f32 rows: recall
/// stays ≥ 0.95 at the default ef, before and after reopening, with the same codes (binary
/// codes are kept in the graph file, int8 codes encoded again on load).
#[test]
fn quantized_search_with_rescoring_keeps_recall() {
    let (data, qs) = minilm(10_000, 100);
    let mut graph_file_bytes = Vec::new();
    for quantization in [
        Quantization::Scalar {
            quantile: Some(0.99),
            always_ram: true,
        },
        Quantization::Binary { always_ram: true },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = CollectionConfig::single(384, Distance::Cosine);
        cfg.optimizer.indexing_threshold = 1000;
        cfg.quantization = Some(quantization.clone());
        // scores from the codes alone: any difference in the codes shows
        let estimated =
            |c: &Collection| scored(c, &qs, |req| req.params.quantization.rescore = Some(false));
        let (r, before) = {
            let db = Database::open_with(dir.path(), no_background()).unwrap();
            let c = db.create_collection("q", cfg).unwrap();
            load(&c, &data, |_| Payload::new());
            c.build_indexes().unwrap();
            let r = recall(&c, &qs, 10, |_| {});
            let ignored = recall(&c, &qs, 10, |req| req.params.quantization.ignore = true);
            eprintln!("{quantization:?}: recall@10 {r:.4} (codes ignored: {ignored:.4})");
            assert!(r >= 0.95, "{quantization:?}: recall {r}");
            (r, estimated(&c))
        };
        let azg: Vec<u64> = walk(dir.path())
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "azg"))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect();
        assert_eq!(azg.len(), 1, "one graph file");
        graph_file_bytes.push(azg[0]);
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db.collection("q").unwrap();
        assert_eq!(
            recall(&c, &qs, 10, |_| {}),
            r,
            "same results after reopening"
        );
        assert_eq!(estimated(&c), before, "the same codes after reopening");
    }
    // the same graph (same rows and parameters) in both files; the binary one also holds
    // the codes: 384 bits and 18 bytes per row
    let kept = graph_file_bytes[1] - graph_file_bytes[0];
    assert!(kept >= 10_000 * (48 + 18), "{graph_file_bytes:?}");
}

/// The engine's recall estimate for a top-10 search of `query` at `ef` with `filter`.
fn estimate_at(c: &Collection, query: &[f32], filter: Option<&Filter>, ef: usize) -> Option<f32> {
    let mut req = SearchRequest::dense(query.to_vec(), 10);
    req.filter = filter.cloned();
    req.params.hnsw_ef = Some(ef);
    c.estimated_recall(&req)
}

/// Checks that a `target_recall` search filtered by `f` reads the calibration of the value or
/// filter graph it walks: the estimate meets the target and the searches achieve about it,
/// and at some ef it differs from the segment graph's (measured with other queries on
/// another graph, the two tables cannot agree at every ef). Returns the estimate at each
/// ladder ef, for comparisons across a reopen.
fn assert_subset_estimates(c: &Collection, queries: &[Vec<f32>], f: &Filter) -> Vec<Option<f32>> {
    let target = |req: &mut SearchRequest| {
        req.filter = Some(f.clone());
        req.params.target_recall = Some(0.95);
    };
    let mut req = SearchRequest::dense(queries[0].clone(), 10);
    target(&mut req);
    let estimate = c.estimated_recall(&req).expect("a calibrated graph");
    let achieved = recall(c, queries, 10, target);
    assert!(estimate >= 0.95, "estimate {estimate}");
    assert!(
        achieved >= 0.93 && (achieved - f64::from(estimate)).abs() < 0.05,
        "estimated {estimate}, achieved {achieved}"
    );
    let at = |filter: Option<&Filter>, ef: usize| estimate_at(c, &queries[0], filter, ef);
    let ladder = [10, 16, 24, 32, 48, 64];
    let filtered: Vec<Option<f32>> = ladder.iter().map(|&ef| at(Some(f), ef)).collect();
    assert!(
        ladder
            .iter()
            .zip(&filtered)
            .any(|(&ef, e)| *e != at(None, ef)),
        "a filtered estimate read the segment's table"
    );
    filtered
}

/// Collection "c" of `data` with payload `tag` = `t{i % 10}`, indexed, then given a keyword
/// index on `tag` and its value graphs; also the index bytes before the value graphs.
fn tagged_with_value_graphs(
    db: &Database,
    data: &[Vec<f32>],
) -> (std::sync::Arc<Collection>, usize) {
    let c = db
        .create_collection("c", config(16, Distance::Cosine, 1000))
        .unwrap();
    load(&c, data, |i| {
        payload(json!({"tag": format!("t{}", i % 10)}))
    });
    c.build_indexes().unwrap();
    let graph_bytes = c.info().indexing.index_bytes;
    c.create_payload_index("tag", FieldSchema::Keyword, true)
        .unwrap();
    assert!(c.info().indexing.pending, "value graphs are pending work");
    c.build_indexes().unwrap();
    (c, graph_bytes)
}

/// A keyword index gets a graph per value whose rows are too many to scan but a small share
/// of the segment; `key == value` filters walk it, with recall ≥ 0.95 and only matching hits.
#[test]
fn value_graphs_serve_keyword_filters() {
    let mut rng = Rng(21);
    let (data, queries) = data_and_queries(&mut rng, 8000, 60, 16);
    let db = Database::in_memory_with(no_background());
    let (c, before) = tagged_with_value_graphs(&db, &data);
    let after = c.info().indexing;
    assert!(!after.pending);
    assert!(after.index_bytes > before, "value graphs were built");
    let f =
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": "t4"}}]})).unwrap();
    let r = recall(&c, &queries, 10, |req| req.filter = Some(f.clone()));
    assert!(r >= 0.95, "recall {r}");
    assert_subset_estimates(&c, &queries, &f);
    // with another condition beside it the value graph's table does not stand for the
    // filter: the estimate is the segment's, as for any filtered walk
    let narrowed = Filter::from_json(&json!({
        "must": [{"key": "tag", "match": {"value": "t4"}}],
        "must_not": [{"key": "tag", "match": {"value": "t5"}}]
    }))
    .unwrap();
    for ef in [10, 16, 24, 32, 48] {
        let estimate = |filter: Option<&Filter>| estimate_at(&c, &queries[0], filter, ef);
        assert_eq!(estimate(Some(&narrowed)), estimate(None), "ef {ef}");
    }
    for q in &queries[..10] {
        let mut req = SearchRequest::dense(q.clone(), 10);
        req.filter = Some(f.clone());
        let hits = c.search(&req).unwrap();
        assert_eq!(hits.len(), 10);
        assert!(hits
            .iter()
            .all(|h| matches!(h.id, PointId::Num(i) if i % 10 == 4)));
    }
    // Dropping the index drops its value graphs.
    c.delete_payload_index("tag", true).unwrap();
    assert_eq!(c.info().indexing.index_bytes, before);
}

/// Value graphs are written beside the segment's graph and loaded on reopen, not built
/// again (rows deleted since stay in them and are skipped); a key no longer indexed is not
/// loaded, and a damaged file is reported by name.
#[test]
fn value_graphs_are_loaded_on_reopen() {
    let mut rng = Rng(22);
    let (data, queries) = data_and_queries(&mut rng, 8000, 40, 16);
    let dir = tempfile::tempdir().unwrap();
    let f =
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": "t4"}}]})).unwrap();
    let doomed: Vec<PointId> = (0..8000u64)
        .filter(|i| i % 10 == 4 && i % 7 == 0)
        .map(PointId::Num)
        .collect();
    let filtered = |c: &Collection| scored(c, &queries, |req| req.filter = Some(f.clone()));
    let (graph_bytes, before, estimates) = {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let (c, graph_bytes) = tagged_with_value_graphs(&db, &data);
        assert!(c.info().indexing.index_bytes > graph_bytes * 3 / 2);
        c.delete(&PointSelector::Ids(doomed.clone()), true).unwrap();
        let estimates = assert_subset_estimates(&c, &queries, &f);
        (graph_bytes, filtered(&c), estimates)
    };
    let azv = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        walk(dir)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "azv"))
            .collect()
    };
    assert_eq!(azv(dir.path()).len(), 1, "one value-graph file");
    {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db.collection("c").unwrap();
        let info = c.info().indexing;
        assert!(!info.pending, "value graphs loaded, nothing to build");
        assert!(
            info.index_bytes > graph_bytes * 3 / 2,
            "value graphs loaded"
        );
        let after = filtered(&c);
        assert_eq!(before, after, "identical filtered results after reopening");
        assert!(after.iter().flatten().all(|(id, _)| !doomed.contains(id)));
        assert_eq!(
            assert_subset_estimates(&c, &queries, &f),
            estimates,
            "the value graphs' calibration was loaded with them"
        );
        c.delete_payload_index("tag", true).unwrap();
    }
    {
        // the file is still there, but its key is no longer indexed: not loaded
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db.collection("c").unwrap();
        assert!(c.info().indexing.index_bytes < graph_bytes * 3 / 2);
        c.create_payload_index("tag", FieldSchema::Keyword, true)
            .unwrap();
        assert!(
            c.info().indexing.pending,
            "an indexed key's graphs are built again"
        );
        c.build_indexes().unwrap();
        // graphs built again (on several threads) may differ a little; the hits barely do
        let rebuilt = filtered(&c);
        let same = rebuilt
            .iter()
            .zip(&before)
            .map(|(a, b)| a.iter().filter(|h| b.contains(h)).count())
            .sum::<usize>();
        assert!(same * 100 >= 95 * before.iter().map(Vec::len).sum::<usize>());
        // new graph parameters: the value graphs go with the graph and are built again
        let mut cfg = (*c.config()).clone();
        cfg.hnsw.m = 8;
        c.update_config(cfg).unwrap();
        assert!(azv(dir.path()).is_empty(), "value-graph file removed");
        assert!(c.info().indexing.pending);
        c.build_indexes().unwrap();
        assert_eq!(azv(dir.path()).len(), 1);
    }
    {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db.collection("c").unwrap();
        assert!(!c.info().indexing.pending, "rebuilt value graphs loaded");
    }
    let file = azv(dir.path()).pop().expect("a value-graph file");
    let middle = std::fs::metadata(&file).unwrap().len() as isize / 2;
    assert_damage_is_reported(dir.path(), &file, middle, ".azv");
}

/// Writes to points of an indexed segment (payload set, overwritten or deleted, a new
/// vector) are seen at once by searches that walk value graphs and filter graphs: the old
/// rows never answer for the new state, before and after the indexer runs again.
#[test]
fn writes_to_indexed_points_are_seen_through_value_and_filter_graphs() {
    let mut rng = Rng(24);
    let (data, queries) = data_and_queries(&mut rng, 8000, 80, 16);
    let db = Database::in_memory_with(no_background());
    let (c, _) = tagged_with_value_graphs(&db, &data);
    let tag = |t: &str| {
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": t}}]})).unwrap()
    };
    let broad = Filter::from_json(&json!({"must_not": [{"key": "tag", "match":
        {"any": ["t0", "t1", "t2", "t3", "t4", "t5"]}}]}))
    .unwrap();
    recall(&c, &queries, 10, |req| req.filter = Some(broad.clone())); // earns its graph
    c.build_indexes().unwrap();
    assert_eq!(c.info().indexing.filter_graphs.0, 1);
    let top = |v: &[f32], f: &Filter| -> Vec<PointId> {
        let mut req = SearchRequest::dense(v.to_vec(), 3);
        req.filter = Some(f.clone());
        ids(&c.search(&req).unwrap())
    };
    let n = |i: u64| PointId::Num(i);
    // point 4 (t4) becomes t7; 14 (t4) is overwritten with t9; 24 (t4) loses its tag;
    // 34 (t4) gets the first query as its vector
    let one = |i: u64| PointSelector::Ids(vec![n(i)]);
    c.set_payload(&one(4), payload(json!({"tag": "t7"})), None, true)
        .unwrap();
    c.overwrite_payload(&one(14), payload(json!({"tag": "t9"})), true)
        .unwrap();
    c.delete_payload(&one(24), &["tag".to_string()], true)
        .unwrap();
    c.upsert(
        vec![PointStruct::new(
            34u64,
            queries[0].clone(),
            payload(json!({"tag": "t4"})),
        )],
        true,
    )
    .unwrap();
    for indexed_again in [false, true] {
        let at = format!("indexed again: {indexed_again}");
        assert_eq!(top(&data[4], &tag("t7"))[0], n(4), "{at}");
        assert_eq!(top(&data[14], &tag("t9"))[0], n(14), "{at}");
        for i in [4, 14, 24] {
            assert!(
                !top(&data[i], &tag("t4")).contains(&n(i as u64)),
                "{i}, {at}"
            );
            // now admitted by the filter whose graph holds the old rows' complement
            assert_eq!(top(&data[i], &broad)[0], n(i as u64), "{i}, {at}");
        }
        assert_eq!(top(&queries[0], &tag("t4"))[0], n(34), "{at}");
        assert!(!top(&data[34], &tag("t4")).contains(&n(34)), "{at}");
        c.build_indexes().unwrap();
    }
}

#[test]
fn repeated_filters_earn_a_graph_of_their_rows() {
    let mut rng = Rng(23);
    let (data, queries) = data_and_queries(&mut rng, 8000, 80, 16);
    let db = Database::in_memory_with(no_background());
    let c = db
        .create_collection("c", config(16, Distance::Dot, 1000))
        .unwrap();
    load(&c, &data, |i| {
        payload(json!({"tag": i % 10, "odd": i % 2 == 1}))
    });
    c.build_indexes().unwrap();
    // 40 % of the rows, not a `key == value` condition: no value graph serves it; its graph
    // is derived from the segment's
    let f = Filter::from_json(
        &json!({"must_not": [{"key": "tag", "match": {"any": [0, 1, 2, 3, 4, 5]}}]}),
    )
    .unwrap();
    // 20 %: too few rows for a derived graph to keep recall, so its graph is built
    let small =
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"any": [8, 9]}}]})).unwrap();
    let other =
        Filter::from_json(&json!({"must": [{"key": "odd", "match": {"value": true}}]})).unwrap();
    let walked = recall(&c, &queries, 10, |req| req.filter = Some(f.clone()));
    assert!(walked >= 0.95, "recall of the filtered walk {walked}");
    let walked = recall(&c, &queries, 10, |req| req.filter = Some(small.clone()));
    assert!(walked >= 0.95, "recall of the filtered walk {walked}");
    assert_eq!(
        c.info().indexing.filter_graphs.0,
        0,
        "no graph before the indexer runs"
    );
    assert!(
        !c.info().indexing.pending,
        "filter graphs are not indexing work"
    );
    c.build_indexes().unwrap();
    let (graphs, rows, bytes) = c.info().indexing.filter_graphs;
    assert_eq!(
        (graphs, rows),
        (2, 3200 + 1600),
        "graphs of the filters' rows"
    );
    assert!(bytes > 0);
    for f in [&f, &small] {
        let served = recall(&c, &queries, 10, |req| req.filter = Some(f.clone()));
        assert!(served >= 0.95, "recall through the filter graph {served}");
        // a recall target reads the filter graph's own calibration (measured with rows the
        // filter rejects as queries), and its estimate is what the searches get
        assert_subset_estimates(&c, &queries, f);
    }
    // deleted rows never come back through it; hits still satisfy the whole filter
    let doomed: Vec<PointId> = (0..8000u64)
        .filter(|i| i % 10 == 7 && i % 3 == 0)
        .map(PointId::Num)
        .collect();
    c.delete(&PointSelector::Ids(doomed), true).unwrap();
    for q in &queries[..20] {
        let mut req = SearchRequest::dense(q.clone(), 10);
        req.filter = Some(f.clone());
        let hits = c.search(&req).unwrap();
        assert_eq!(hits.len(), 10);
        for h in &hits {
            let PointId::Num(i) = h.id else {
                panic!("{:?}", h.id)
            };
            assert!(i % 10 >= 6, "{i} fails the filter");
            assert!(!(i % 10 == 7 && i % 3 == 0), "{i} was deleted");
        }
        // other filters do not use it
        req.filter = Some(other.clone());
        let hits = c.search(&req).unwrap();
        assert!(hits
            .iter()
            .all(|h| matches!(h.id, PointId::Num(i) if i % 2 == 1)));
    }
    assert_eq!(c.info().indexing.filter_graphs.0, graphs);
}

/// Recommend (best and summed score), discovery and context queries: exact scans score every
/// point by Qdrant's formulas; graph walks over an indexed segment find nearly the same top 10
/// — over f32 rows and over half-precision ones (a `Float16` vector).
#[test]
fn example_queries_score_exactly_and_walk_the_graph() {
    for datatype in [Datatype::Float32, Datatype::Float16] {
        example_queries_on(datatype);
    }
}

fn example_queries_on(datatype: Datatype) {
    let mut rng = Rng(19);
    let (data, queries) = data_and_queries(&mut rng, 5000, 12, 16);
    let db = Database::in_memory_with(no_background());
    let mut cfg = config(16, Distance::Euclid, 1000);
    cfg.vectors.get_mut("").unwrap().datatype = datatype;
    let c = db.create_collection("c", cfg).unwrap();
    load(&c, &data, |i| payload(json!({"even": i % 2 == 0})));
    c.build_indexes().unwrap();
    // the stored values (rounded to half precision for Float16)
    let data: Vec<Vec<f32>> = match datatype {
        Datatype::Float16 => data.iter().map(|v| rounded_half(v)).collect(),
        _ => data,
    };
    let sim = |a: &[f32], b: &[f32]| -> f32 {
        -a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>()
    };
    let sig = |x: f32| 0.5 * (x / (1.0 + x.abs()) + 1.0);
    let pair = |i: usize| ContextPair {
        positive: queries[i].clone(),
        negative: queries[i + 1].clone(),
    };
    type Reference<'a> = Box<dyn Fn(&[f32]) -> f32 + 'a>;
    let cases: Vec<(ExampleQuery, Reference)> = vec![
        (
            ExampleQuery::BestScore {
                positive: vec![queries[0].clone(), queries[1].clone()],
                negative: vec![queries[2].clone()],
            },
            Box::new(|v: &[f32]| {
                let p = sim(&queries[0], v).max(sim(&queries[1], v));
                let n = sim(&queries[2], v);
                if p > n {
                    sig(p)
                } else {
                    -sig(n)
                }
            }),
        ),
        (
            ExampleQuery::SumScores {
                positive: vec![queries[3].clone()],
                negative: vec![queries[4].clone()],
            },
            Box::new(|v: &[f32]| sim(&queries[3], v) - sim(&queries[4], v)),
        ),
        (
            ExampleQuery::Discover {
                target: queries[5].clone(),
                context: vec![pair(6), pair(8)],
            },
            Box::new(|v: &[f32]| {
                let rank: f32 = [6, 8]
                    .iter()
                    .map(|&i| {
                        let (a, b) = (sim(&queries[i], v), sim(&queries[i + 1], v));
                        if a > b {
                            1.0
                        } else if a < b {
                            -1.0
                        } else {
                            0.0
                        }
                    })
                    .sum();
                rank + sig(sim(&queries[5], v))
            }),
        ),
        (
            ExampleQuery::Context(vec![pair(10)]),
            Box::new(|v: &[f32]| {
                let d = sim(&queries[10], v) - sim(&queries[11], v) - f32::EPSILON;
                let d = d.min(0.0);
                d / (1.0 + d.abs())
            }),
        ),
    ];
    let even =
        Filter::from_json(&json!({"must": [{"key": "even", "match": {"value": true}}]})).unwrap();
    for (n, (q, score)) in cases.into_iter().enumerate() {
        for filtered in [false, true] {
            let mut req = SearchRequest::dense(Vec::new(), 10);
            req.query = QueryVector::Examples(q.clone());
            req.filter = filtered.then(|| even.clone());
            req.params.exact = true;
            let exact = c.search(&req).unwrap();
            // The reference: every passing point scored by the test's own formula.
            let mut want: Vec<(f32, u64)> = data
                .iter()
                .enumerate()
                .filter(|(i, _)| !filtered || i % 2 == 0)
                .map(|(i, v)| (score(v), i as u64))
                .collect();
            want.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
            for (hit, (s, _)) in exact.iter().zip(&want) {
                assert!(
                    (hit.score - s).abs() <= 1e-3 * s.abs().max(1.0),
                    "case {n}: {} vs {s}",
                    hit.score
                );
            }
            assert_eq!(exact.len(), 10);
            if n == 3 {
                continue; // context scores tie at 0 for most points: the order among them is free
            }
            req.params.exact = false;
            req.params.hnsw_ef = Some(200);
            let walked: HashSet<PointId> = ids(&c.search(&req).unwrap()).into_iter().collect();
            let same = exact.iter().filter(|h| walked.contains(&h.id)).count();
            assert!(
                same >= 8,
                "{datatype:?} case {n} (filtered {filtered}): walk found {same}/10"
            );
        }
    }
    // No examples at all is bad input, not an empty answer.
    let mut req = SearchRequest::dense(Vec::new(), 10);
    req.query = QueryVector::Examples(ExampleQuery::BestScore {
        positive: vec![],
        negative: vec![],
    });
    assert_eq!(
        c.search(&req).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    req.query = QueryVector::Examples(ExampleQuery::SumScores {
        positive: vec![vec![1.0; 3]],
        negative: vec![],
    });
    assert_eq!(
        c.search(&req).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn mmr_reranks_candidates_for_diversity() {
    let db = Database::in_memory_with(no_background());
    let c = db
        .create_collection("c", CollectionConfig::single(2, Distance::Cosine))
        .unwrap();
    // Two near-duplicates of the query and one point off to the side.
    let pts = vec![
        PointStruct::new(1, vec![1.0, 0.0], Payload::new()),
        PointStruct::new(2, vec![0.999, 0.01], Payload::new()),
        PointStruct::new(3, vec![0.7, 0.7], Payload::new()),
        PointStruct::new(4, vec![-1.0, 0.0], Payload::new()),
    ];
    c.upsert(pts, true).unwrap();
    let mut req = SearchRequest::dense(vec![1.0, 0.0], 2);
    let plain = ids(&c.search(&req).unwrap());
    assert_eq!(plain, vec![PointId::Num(1), PointId::Num(2)]);
    let mmr = Mmr {
        diversity: 0.8,
        candidates: Some(3),
    };
    let hits = c.search_mmr(&req, &mmr).unwrap();
    assert_eq!(ids(&hits), vec![PointId::Num(1), PointId::Num(3)]);
    // Scores stay the query's similarity; vectors only when asked for.
    assert!((hits[1].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-4);
    assert!(hits.iter().all(|h| h.vectors.is_none()));
    req.offset = 1;
    req.with_vectors = VectorSelector::All;
    let hits = c.search_mmr(&req, &mmr).unwrap();
    assert_eq!(ids(&hits), vec![PointId::Num(3), PointId::Num(2)]);
    assert!(hits[0].vectors.is_some());
    let bad = Mmr {
        diversity: 1.5,
        candidates: None,
    };
    assert_eq!(
        c.search_mmr(&req, &bad).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn config_updates_rebuild_graphs_persist_and_refuse_shape_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(23);
    let (data, queries) = data_and_queries(&mut rng, 3000, 20, 16);
    {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let mut cfg = config(16, Distance::Cosine, 500);
        cfg.optimizer.indexing_threshold = 0; // indexing off while loading
        let c = db.create_collection("c", cfg).unwrap();
        load(&c, &data, |_| Payload::new());
        c.build_indexes().unwrap();
        assert_eq!(c.info().indexing.indexed_vectors, 0);

        let mut cfg = (*c.config()).clone();
        cfg.optimizer.indexing_threshold = 500 * 16 * 4 / 1024;
        c.update_config(cfg).unwrap();
        c.build_indexes().unwrap();
        assert_eq!(c.info().indexing.indexed_vectors, 3000);
        assert!(recall(&c, &queries, 10, |_| {}) >= 0.95);
        // kept to stand for a graph file a settings change crashed before removing
        let azg = graph_file(dir.path());
        std::fs::copy(&azg, dir.path().join("m16.keep")).unwrap();

        // New graph parameters and quantization: the graph goes, the indexer builds it again.
        let mut cfg = (*c.config()).clone();
        cfg.hnsw.m = 8;
        cfg.quantization = Some(Quantization::Scalar {
            quantile: None,
            always_ram: true,
        });
        c.update_config(cfg).unwrap();
        assert_eq!(c.info().indexing.indexed_vectors, 0);
        assert!(c.info().indexing.pending);
        c.build_indexes().unwrap();
        assert_eq!(c.info().indexing.indexed_vectors, 3000);
        assert!(recall(&c, &queries, 10, |_| {}) >= 0.9);

        // The vector space itself is fixed.
        let mut cfg = (*c.config()).clone();
        cfg.vectors.get_mut("").unwrap().size = 8;
        assert_eq!(
            c.update_config(cfg).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let mut cfg = (*c.config()).clone();
        cfg.vectors.get_mut("").unwrap().distance = Distance::Dot;
        assert_eq!(
            c.update_config(cfg).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    let cfg = c.config();
    assert_eq!(cfg.hnsw.m, 8);
    assert!(cfg.quantization.is_some());
    assert_eq!(
        c.info().indexing.indexed_vectors,
        3000,
        "the rebuilt graph was persisted"
    );
    drop(c);
    drop(db);
    // CONFIG says m = 8, the file holds the m = 16 graph (a settings change interrupted
    // between saving CONFIG and removing the file): not loaded, removed, built again
    let azg = graph_file(dir.path());
    std::fs::rename(dir.path().join("m16.keep"), &azg).unwrap();
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    assert_eq!(c.info().indexing.indexed_vectors, 0);
    assert!(!azg.exists(), "the stale graph file was removed");
    c.build_indexes().unwrap();
    assert_eq!(c.info().indexing.indexed_vectors, 3000);
    assert!(recall(&c, &queries, 10, |_| {}) >= 0.9);
}

/// The one graph file under `dir`.
fn graph_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "azg"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn has_id_searches_look_rows_up_and_match_a_full_ranking() {
    let mut rng = Rng(29);
    let (data, queries) = data_and_queries(&mut rng, 3000, 5, 16);
    let db = Database::in_memory_with(no_background());
    let c = db
        .create_collection("c", config(16, Distance::Euclid, 1000))
        .unwrap();
    load(&c, &data[..2500], |i| payload(json!({"odd": i % 2 == 1})));
    c.build_indexes().unwrap(); // a sealed, indexed segment …
    load(&c, &data[2500..], |i| payload(json!({"odd": i % 2 == 1}))); // … and a mutable one
                                                                      // Ids in both segments, some deleted, some never existing.
    let ids: std::collections::HashSet<PointId> = (0..3000u64)
        .step_by(37)
        .chain([2501, 2999, 5000, 7000])
        .map(PointId::Num)
        .collect();
    c.delete(
        &PointSelector::Ids(vec![PointId::Num(0), PointId::Num(2999)]),
        true,
    )
    .unwrap();
    let odd =
        Filter::from_json(&json!({"must": [{"key": "odd", "match": {"value": false}}]})).unwrap();
    for q in &queries {
        let mut all = SearchRequest::dense(q.clone(), 10_000);
        all.params.exact = true;
        all.filter = Some(odd.clone());
        let want: Vec<(PointId, f32)> = c
            .search(&all)
            .unwrap()
            .into_iter()
            .filter(|h| ids.contains(&h.id))
            .take(7)
            .map(|h| (h.id, h.score))
            .collect();
        let mut req = SearchRequest::dense(q.clone(), 7);
        req.filter = Some(Filter {
            must: vec![
                filter::Condition::HasId(ids.clone()),
                filter::Condition::Filter(odd.clone()),
            ],
            ..Default::default()
        });
        let got = id_scores(&c, &req);
        assert_eq!(got, want);
        assert!(got.iter().all(|(id, _)| *id != PointId::Num(0)));
    }
}

/// `hnsw_config.on_disk`: a sealed segment's graph reads its level-0 lists through a map
/// of its graph file — once built, after a reopen, and following settings updates — and
/// answers exactly as when it holds them; a damaged graph file is caught when it is opened.
#[test]
fn on_disk_graphs_read_their_links_through_maps_of_the_graph_files() {
    let mut rng = Rng(41);
    let (data, queries) = data_and_queries(&mut rng, 6000, 60, 16);
    // level-0 lists: 6000 nodes × (1 + 2·16) slots of 4 bytes
    let level0 = 6000 * 33 * 4;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(16, Distance::Cosine, 1000);
    cfg.hnsw.on_disk = true;
    let walks = |c: &Collection| scored(c, &queries, |_| {});
    let (walked, in_memory) = {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db.create_collection("g", cfg).unwrap();
        load(&c, &data, |_| Payload::new());
        c.build_indexes().unwrap();
        let ix = c.info().indexing;
        assert_eq!(ix.index_bytes_mapped, level0, "the built graph was mapped");
        let r = recall(&c, &queries, 10, |_| {});
        assert!(r >= 0.95, "recall {r}");
        let walked = walks(&c);
        // off: the lists are copied into memory; on again: mapped; the same answers
        let mut cfg = (*c.config()).clone();
        cfg.hnsw.on_disk = false;
        c.update_config(cfg.clone()).unwrap();
        let copied = c.info().indexing;
        assert_eq!(copied.index_bytes_mapped, 0);
        assert_eq!(copied.index_bytes, ix.index_bytes + level0);
        assert_eq!(walks(&c), walked);
        cfg.hnsw.on_disk = true;
        c.update_config(cfg).unwrap();
        assert_eq!(c.info().indexing, ix);
        assert_eq!(walks(&c), walked);
        (walked, ix.index_bytes)
    };
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("g").unwrap();
    let ix = c.info().indexing;
    assert!(!ix.pending, "loaded, not built again");
    assert_eq!((ix.index_bytes_mapped, ix.index_bytes), (level0, in_memory));
    assert_eq!(walks(&c), walked, "identical results after reopening");
    drop(c);
    drop(db);
    damage_a_graph_file(dir.path());
}

#[test]
fn on_disk_vectors_are_read_through_maps_of_the_segment_files() {
    let (data, qs) = minilm(6000, 60);
    let all_bytes = 6000 * 384 * 4;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = CollectionConfig::single(384, Distance::Cosine);
    cfg.optimizer.indexing_threshold = 1000;
    cfg.quantization = Some(Quantization::Scalar {
        quantile: Some(0.99),
        always_ram: true,
    });
    let searches = |c: &Collection, exact: bool| scored(c, &qs, |req| req.params.exact = exact);
    let (walked, exact) = {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let ram = db.create_collection("ram", cfg.clone()).unwrap();
        let mut disk_cfg = cfg.clone();
        disk_cfg.vectors.get_mut("").unwrap().on_disk = true;
        let disk = db.create_collection("disk", disk_cfg).unwrap();
        for c in [&ram, &disk] {
            load(c, &data, |_| Payload::new());
            c.flush().unwrap();
            c.build_indexes().unwrap();
        }
        let b = disk.info().dense_bytes;
        assert_eq!(
            (b.mapped, b.in_memory),
            (all_bytes, 0),
            "sealed rows are mapped"
        );
        let b = ram.info().dense_bytes;
        assert_eq!((b.mapped, b.in_memory), (0, all_bytes));
        let exact = searches(&disk, true);
        assert_eq!(
            exact,
            searches(&ram, true),
            "the same vectors, mapped or not"
        );
        let r = recall(&disk, &qs, 10, |_| {});
        assert!(r >= 0.95, "recall {r} with codes in memory, rows mapped");
        (searches(&disk, false), exact)
    };
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let disk = db.collection("disk").unwrap();
    let b = disk.info().dense_bytes;
    assert_eq!(
        (b.mapped, b.in_memory),
        (all_bytes, 0),
        "mapped again on open"
    );
    assert!(!disk.info().indexing.pending, "the graph was loaded");
    assert_eq!(
        searches(&disk, false),
        walked,
        "identical results after reopening"
    );
    assert_eq!(searches(&disk, true), exact);
    disk.release_mapped_memory(); // pages leave the process; reads fault them back in
    assert_eq!(searches(&disk, false), walked);

    // A write over a mapped row goes to the mutable segment (the file is never written).
    let moved = data[0].iter().map(|x| -x).collect::<Vec<f32>>();
    disk.upsert(
        vec![PointStruct::new(0u64, moved.clone(), Payload::new())],
        true,
    )
    .unwrap();
    let hit = &disk.search(&SearchRequest::dense(moved, 1)).unwrap()[0];
    assert_eq!(hit.id, PointId::Num(0));
    assert!((hit.score - 1.0).abs() < 1e-5);

    // Turning `on_disk` off brings the rows back into memory, and on maps them again.
    let current = searches(&disk, true);
    let mut cfg = (*disk.config()).clone();
    cfg.vectors.get_mut("").unwrap().on_disk = false;
    disk.update_config(cfg.clone()).unwrap();
    let b = disk.info().dense_bytes;
    assert_eq!(b.mapped, 0);
    assert!(b.in_memory >= all_bytes);
    assert_eq!(searches(&disk, true), current);
    cfg.vectors.get_mut("").unwrap().on_disk = true;
    disk.update_config(cfg).unwrap();
    assert_eq!(disk.info().dense_bytes.mapped, all_bytes);
    assert_eq!(searches(&disk, true), current);
    drop(disk);
    drop(db);

    // A damaged mapped segment file is caught by its checksum when it is opened.
    let mut cfg = CollectionConfig::single(4, Distance::Euclid);
    cfg.vectors.get_mut("").unwrap().on_disk = true;
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db.create_collection("small", cfg).unwrap();
        let pts = (0..100u64)
            .map(|i| PointStruct::new(i, vec![i as f32; 4], Payload::new()))
            .collect();
        c.upsert(pts, true).unwrap();
        c.flush().unwrap();
        assert_eq!(c.info().dense_bytes.mapped, 100 * 16);
    }
    let seg = walk(dir.path())
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "azs"))
        .expect("a segment file");
    assert_damage_is_reported(dir.path(), &seg, -200, ".azs");
}

#[test]
fn filter_graphs_are_loaded_on_reopen() {
    let mut rng = Rng(31);
    let (data, queries) = data_and_queries(&mut rng, 8000, 80, 16);
    let dir = tempfile::tempdir().unwrap();
    let f = Filter::from_json(
        &json!({"must_not": [{"key": "tag", "match": {"any": [0, 1, 2, 3, 4, 5]}}]}),
    )
    .unwrap();
    let filtered = |c: &Collection| scored(c, &queries, |req| req.filter = Some(f.clone()));
    let (graphs, before, estimates) = {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let c = db
            .create_collection("c", config(16, Distance::Dot, 1000))
            .unwrap();
        load(&c, &data, |i| payload(json!({"tag": i % 10})));
        c.build_indexes().unwrap();
        filtered(&c); // the walks that earn the filter its graph
        c.build_indexes().unwrap();
        let graphs = c.info().indexing.filter_graphs;
        assert!(graphs.0 >= 1, "{graphs:?}");
        let estimates = assert_subset_estimates(&c, &queries, &f);
        (graphs, filtered(&c), estimates)
    };
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    assert_eq!(
        c.info().indexing.filter_graphs,
        graphs,
        "the filter graphs were loaded"
    );
    let after = filtered(&c);
    assert_eq!(before, after, "identical filtered results after reopening");
    assert!(recall(&c, &queries, 10, |req| req.filter = Some(f.clone())) >= 0.95);
    assert_eq!(
        assert_subset_estimates(&c, &queries, &f),
        estimates,
        "the filter graph's calibration was loaded with it"
    );
}

/// In a quantized collection, value graphs and filter graphs walk the segment's codes and
/// rescore from the vectors, like the segment's graph: recall holds, and without rescoring
/// the scores are the codes' estimates.
#[test]
fn value_and_filter_graphs_walk_the_quantized_codes() {
    let (data, qs) = minilm(6000, 80);
    let mut cfg = CollectionConfig::single(384, Distance::Cosine);
    cfg.optimizer.indexing_threshold = 1000;
    cfg.hnsw.full_scan_threshold = 150 * 384 * 4 / 1024;
    cfg.quantization = Some(Quantization::Scalar {
        quantile: Some(0.99),
        always_ram: true,
    });
    let db = Database::in_memory_with(no_background());
    let c = db.create_collection("q", cfg).unwrap();
    load(&c, &data, |i| payload(json!({"tag": i % 10})));
    c.build_indexes().unwrap();
    let graph_bytes = c.info().indexing.index_bytes;
    c.create_payload_index("tag", FieldSchema::Integer, true)
        .unwrap();
    c.build_indexes().unwrap();
    let with_values = c.info().indexing.index_bytes;
    // ten values of 600 rows: links and row lists of ten small graphs
    assert!(
        with_values > graph_bytes + 10 * 600 * 16,
        "value graphs were built: {graph_bytes} → {with_values} bytes"
    );
    let value =
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": 4}}]})).unwrap();
    let repeated = Filter::from_json(
        &json!({"must_not": [{"key": "tag", "match": {"any": [0, 1, 2, 3, 4, 5]}}]}),
    )
    .unwrap();
    for q in &qs {
        let mut req = SearchRequest::dense(q.clone(), 10);
        req.filter = Some(repeated.clone());
        c.search(&req).unwrap(); // earns the filter its graph
    }
    c.build_indexes().unwrap();
    assert_eq!(c.info().indexing.filter_graphs.0, 1);
    for f in [&value, &repeated] {
        let r = recall(&c, &qs, 10, |req| req.filter = Some(f.clone()));
        assert!(r >= 0.95, "{f:?}: recall {r}");
        let mut estimated = 0;
        for q in &qs[..20] {
            let mut req = SearchRequest::dense(q.clone(), 10);
            req.filter = Some(f.clone());
            let exact = id_scores(&c, &req);
            req.params.quantization.rescore = Some(false);
            for h in c.search(&req).unwrap() {
                if let Some((_, s)) = exact.iter().find(|(id, _)| *id == h.id) {
                    // an estimate of the same similarity (same sign, same units)
                    assert!((s - h.score).abs() < 0.05, "{s} vs {}", h.score);
                    estimated += usize::from((s - h.score).abs() > 1e-5);
                }
            }
        }
        assert!(estimated > 0, "{f:?}: the walk read the codes");
    }
}

/// A filter graph read back from a file serves only after the first search with its filter
/// has checked it against the filter's rows now: here `has_vector "s"` matched half the
/// rows when the graph was built, and after "s" is deleted and created again it matches
/// none of them — before and after a reopen, the search finds nothing.
#[test]
fn restored_filter_graphs_are_checked_against_the_filter() {
    let mut rng = Rng(37);
    let (data, queries) = data_and_queries(&mut rng, 6000, 80, 16);
    let dir = tempfile::tempdir().unwrap();
    let f = Filter::from_json(&json!({"must": [{"has_vector": "s"}]})).unwrap();
    let hits = |c: &Collection| -> usize {
        queries
            .iter()
            .map(|q| {
                let mut req = SearchRequest::dense(q.clone(), 10);
                req.using = "a".into();
                req.filter = Some(f.clone());
                c.search(&req).unwrap().len()
            })
            .sum()
    };
    {
        let db = Database::open_with(dir.path(), no_background()).unwrap();
        let mut cfg = CollectionConfig::named(std::collections::BTreeMap::from([(
            "a".to_string(),
            VectorParams::new(16, Distance::Dot),
        )]));
        let template = config(16, Distance::Dot, 1000);
        cfg.optimizer = template.optimizer;
        cfg.hnsw = template.hnsw;
        cfg.sparse_vectors
            .insert("s".into(), SparseVectorParams::default());
        let c = db.create_collection("c", cfg).unwrap();
        let pts: Vec<PointStruct> = data
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut vectors = NamedVectors::new();
                vectors.insert("a".into(), Vector::Dense(v.clone()));
                if i % 2 == 0 {
                    let s = SparseVector {
                        indices: vec![1],
                        values: vec![1.0],
                    };
                    vectors.insert("s".into(), Vector::Sparse(s));
                }
                PointStruct {
                    id: PointId::Num(i as u64),
                    vectors,
                    payload: Payload::new(),
                }
            })
            .collect();
        c.upsert(pts, true).unwrap();
        c.build_indexes().unwrap();
        assert_eq!(hits(&c), 800); // and the walks earn the filter a graph
        c.build_indexes().unwrap();
        assert_eq!(c.info().indexing.filter_graphs.0, 1);
        c.delete_vector("s").unwrap();
        c.create_vector("s", NewVector::Sparse(SparseVectorParams::default()))
            .unwrap();
        assert_eq!(hits(&c), 0, "no sealed row has the new vector");
    }
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    assert_eq!(
        c.info().indexing.filter_graphs.0,
        1,
        "restored, not checked yet"
    );
    assert_eq!(
        hits(&c),
        0,
        "the restored graph no longer covers the filter's rows"
    );
    assert_eq!(c.info().indexing.filter_graphs.0, 0, "and was dropped");
}

/// The segment ids that the graph (`.azg`) and value-graph (`.azv`) files under `dir` belong
/// to, and the ids of the segment files (`.azs`).
fn index_file_segments(dir: &std::path::Path) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
    let (mut graphs, mut values, mut segments) = (Vec::new(), Vec::new(), Vec::new());
    for p in walk(dir) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let id = |rest: &str| u64::from_str_radix(rest.split(['-', '.']).next().unwrap(), 16);
        if let Some(rest) = name.strip_prefix("graph-") {
            graphs.push(id(rest).unwrap());
        } else if let Some(rest) = name.strip_prefix("values-") {
            values.push(id(rest).unwrap());
        } else if let Some(rest) = name.strip_prefix("seg-") {
            segments.push(id(rest).unwrap());
        }
    }
    for v in [&mut graphs, &mut values, &mut segments] {
        v.sort_unstable();
    }
    (graphs, values, segments)
}

/// A vacuum (an indexed segment with many deletions rewritten) and a merge of indexed
/// segments replace them by segments without graphs, which are searched exactly until
/// indexed again; the old graph and value-graph files go with the old segments, no
/// deleted point comes back, and a reopen loads the new graphs.
#[test]
fn vacuum_and_merge_of_indexed_segments_index_the_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(41);
    let (data, queries) = data_and_queries(&mut rng, 6000, 40, 16);
    let tag =
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": "t4"}}]})).unwrap();
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let mut cfg = config(16, Distance::Cosine, 1000);
    cfg.optimizer.default_segment_number = 4;
    let c = db.create_collection("c", cfg).unwrap();
    c.create_payload_index("tag", FieldSchema::Keyword, true)
        .unwrap();
    // three sealed segments of 2,000 rows, each with its graph and value graphs
    for (s, chunk) in data.chunks(2000).enumerate() {
        let pts = chunk
            .iter()
            .enumerate()
            .map(|(j, v)| {
                let i = s * 2000 + j;
                let p = payload(json!({"tag": format!("t{}", i % 10)}));
                PointStruct::new(i as u64, v.clone(), p)
            })
            .collect();
        c.upsert(pts, true).unwrap();
        c.flush().unwrap();
        c.build_indexes().unwrap();
    }
    let (graphs, values, segments) = index_file_segments(dir.path());
    assert_eq!((graphs.len(), segments.len()), (3, 3));
    assert_eq!(graphs, segments);
    assert!(!values.is_empty(), "value graphs were built");
    assert_eq!(c.info().indexing.indexed_vectors, 6000);

    let check = |c: &Collection, gone: &HashSet<PointId>| {
        for q in &queries[..10] {
            for filter in [None, Some(tag.clone())] {
                let mut req = SearchRequest::dense(q.clone(), 20);
                req.filter = filter;
                let hits = c.search(&req).unwrap();
                assert_eq!(hits.len(), 20);
                assert!(
                    hits.iter().all(|h| !gone.contains(&h.id)),
                    "a deleted point"
                );
            }
        }
        let r = recall(c, &queries, 10, |_| {});
        assert!(r >= 0.95, "recall {r}");
        let r = recall(c, &queries, 10, |req| req.filter = Some(tag.clone()));
        assert!(r >= 0.95, "filtered recall {r}");
    };

    // Vacuum: 30 % of the middle segment deleted (over the 20 % threshold).
    let gone: Vec<PointId> = (2000..2600u64).map(PointId::Num).collect();
    c.delete(&PointSelector::Ids(gone.clone()), true).unwrap();
    let gone: HashSet<PointId> = gone.into_iter().collect();
    assert!(c.optimize().unwrap(), "the segment is vacuumed");
    let info = c.info();
    assert!(
        info.indexing.pending,
        "the rewritten segment awaits its graph"
    );
    assert_eq!(info.indexing.indexed_vectors, 4000);
    let (graphs, _, segments) = index_file_segments(dir.path());
    assert_eq!(
        (graphs.len(), segments.len()),
        (2, 3),
        "the old graph file went"
    );
    check(&c, &gone); // the new segment is scanned exactly meanwhile
    c.build_indexes().unwrap();
    assert_eq!(c.info().indexing.indexed_vectors, 5400);
    let (graphs, values, segments) = index_file_segments(dir.path());
    assert_eq!(graphs, segments);
    assert!(values.iter().all(|v| segments.contains(v)), "{values:?}");
    check(&c, &gone);

    // Merge: one segment wanted, three indexed ones merged into it.
    let mut cfg = (*c.config()).clone();
    cfg.optimizer.default_segment_number = 1;
    c.update_config(cfg).unwrap();
    while c.optimize().unwrap() {}
    let (graphs, values, segments) = index_file_segments(dir.path());
    assert_eq!(segments.len(), 1);
    assert!(
        graphs.is_empty() && values.is_empty(),
        "{graphs:?} {values:?}"
    );
    check(&c, &gone);
    c.build_indexes().unwrap();
    let info = c.info();
    assert_eq!(
        (info.indexing.indexed_vectors, info.segments_count),
        (5400, 2)
    );
    let (graphs, values, segments) = index_file_segments(dir.path());
    assert_eq!(graphs, segments);
    assert_eq!(values, segments, "the merged segment has value graphs");
    check(&c, &gone);
    let before = scored(&c, &queries, |req| req.filter = Some(tag.clone()));
    drop(c);
    drop(db);

    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("c").unwrap();
    let info = c.info();
    assert_eq!(info.indexing.indexed_vectors, 5400, "loaded, not rebuilt");
    assert!(!info.indexing.pending);
    assert_eq!(
        before,
        scored(&c, &queries, |req| req.filter = Some(tag.clone()))
    );
    check(&c, &gone);
}

/// A `float16` space keeps its vectors rounded to half precision: they come back rounded,
/// and an indexed segment walks and scores half-precision rows in memory (half the bytes of
/// f32) with exactly the scores of an exact search, while its f32 rows are read through maps
/// of the segment file; the datatype persists and cannot be changed.
#[test]
fn float16_spaces_hold_half_precision_rows_in_memory_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(61);
    let (data, queries) = data_and_queries(&mut rng, 4000, 30, 32);
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let mut cfg = config(32, Distance::Euclid, 1000);
    cfg.vectors.get_mut("").unwrap().datatype = Datatype::Float16;
    let c = db.create_collection("half", cfg.clone()).unwrap();
    load(&c, &data, |i| payload(json!({"tag": i % 50})));
    c.create_payload_index("tag", FieldSchema::Integer, true)
        .unwrap();
    // the float32 twin in a database of its own, to compare the files
    let dir32 = tempfile::tempdir().unwrap();
    let db32 = Database::open_with(dir32.path(), no_background()).unwrap();
    let twin = db32
        .create_collection("full", config(32, Distance::Euclid, 1000))
        .unwrap();
    load(&twin, &data, |i| payload(json!({"tag": i % 50})));

    // values come back rounded; a value beyond half precision's range is refused
    let stored = |c: &Collection, id: u64| crate::common::vectors_of(c, id)[""].clone();
    assert_ne!(rounded_half(&data[7]), data[7]);
    assert_eq!(stored(&c, 7), Vector::Dense(rounded_half(&data[7])));
    let mut huge = data[0].clone();
    huge[3] = 70_000.0;
    let err = c
        .upsert(vec![PointStruct::new(99_999, huge, Payload::new())], true)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("float16"), "{err}");
    // a vector set on its own is rounded as well
    let mut named = NamedVectors::new();
    named.insert(String::new(), Vector::Dense(data[8].clone()));
    c.update_vectors(vec![(PointId::Num(8), named)], None, true)
        .unwrap();
    assert_eq!(stored(&c, 8), Vector::Dense(rounded_half(&data[8])));

    for col in [&c, &twin] {
        col.flush().unwrap();
        col.build_indexes().unwrap();
        assert_eq!(col.info().indexing.indexed_vectors, 4000);
    }
    let (half, full) = (c.info(), twin.info());
    let rows_bytes = 4000 * 32 * 4;
    assert_eq!(full.dense_bytes.in_memory, rows_bytes);
    assert_eq!(
        (half.dense_bytes.in_memory, half.dense_bytes.mapped),
        (rows_bytes / 2, 0),
        "rows held in half precision"
    );
    assert_eq!(
        half.indexing.index_bytes, full.indexing.index_bytes,
        "the walk reads the column's own half-precision rows (no copy beside the graph)"
    );
    // the segment files hold half precision too
    let (f16_bytes, f32_bytes) = (
        segment_file_bytes(dir.path()),
        segment_file_bytes(dir32.path()),
    );
    assert!(
        f32_bytes - f16_bytes >= rows_bytes as u64 / 2
            && f32_bytes - f16_bytes < rows_bytes as u64 / 2 + 4096,
        "segment files: {f16_bytes} bytes for float16, {f32_bytes} for float32"
    );

    // walks on half-precision rows: recall, and the scores of an exact search
    assert!(recall(&c, &queries, 10, |_| {}) >= 0.95);
    for q in &queries {
        let walk = id_scores(&c, &SearchRequest::dense(q.clone(), 10));
        let mut req = SearchRequest::dense(q.clone(), 10);
        req.params.exact = true;
        let exact: std::collections::HashMap<PointId, f32> =
            id_scores(&c, &req).into_iter().collect();
        for (id, score) in &walk {
            let PointId::Num(i) = id else {
                panic!("unexpected id {id:?}")
            };
            let i = *i as usize;
            let direct: f32 = rounded_half(&data[i])
                .iter()
                .zip(q)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt();
            assert!((score - direct).abs() < 1e-3, "{score} vs {direct}");
            if let Some(e) = exact.get(id) {
                assert!((score - e).abs() < 1e-4, "{score} vs exact {e}");
            }
        }
    }
    // a selective filter (80 rows, scanned rather than walked) gets the exact search's
    // answer (that the scan reads the half-precision rows is `F16Rows::search_rows`'s
    // unit test in the index crate)
    let tag = Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": 7}}]})).unwrap();
    let scan = scored(&c, &queries, |req| req.filter = Some(tag.clone()));
    let exact = scored(&c, &queries, |req| {
        req.filter = Some(tag.clone());
        req.params.exact = true;
    });
    for (s, e) in scan.iter().zip(&exact) {
        let ids = |v: &[(PointId, f32)]| v.iter().map(|h| h.0.clone()).collect::<Vec<_>>();
        assert_eq!(ids(s), ids(e));
        assert!(s.iter().zip(e).all(|(a, b)| (a.1 - b.1).abs() < 1e-4));
    }
    let before = scored(&c, &queries, |_| {});

    // the datatype is part of the collection's shape
    let mut changed = (*c.config()).clone();
    changed.vectors.get_mut("").unwrap().datatype = Datatype::Float32;
    let err = c.update_config(changed).unwrap_err();
    assert!(err.to_string().contains("datatypes"), "{err}");
    drop((c, twin, db, db32));

    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("half").unwrap();
    assert_eq!(c.config().vectors[""].datatype, Datatype::Float16);
    let info = c.info();
    assert_eq!(info.indexing.indexed_vectors, 4000, "loaded, not rebuilt");
    assert_eq!(info.dense_bytes.in_memory, rows_bytes / 2);
    // (a graph read back holds its lists in vectors of other capacities than a build's)
    assert!(
        info.indexing.index_bytes < half.indexing.index_bytes + rows_bytes / 4,
        "no half-precision copy beside the graph: {} vs {}",
        info.indexing.index_bytes,
        half.indexing.index_bytes
    );
    assert_eq!(stored(&c, 7), Vector::Dense(rounded_half(&data[7])));
    assert_eq!(
        before,
        scored(&c, &queries, |_| {}),
        "identical after reopen"
    );

    // on_disk: the half-precision rows are read in place from the segment files
    let mut on_disk = (*c.config()).clone();
    on_disk.vectors.get_mut("").unwrap().on_disk = true;
    let index_bytes = c.info().indexing.index_bytes;
    c.update_config(on_disk).unwrap();
    assert_eq!(
        (c.info().dense_bytes.in_memory, c.info().dense_bytes.mapped),
        (0, rows_bytes / 2)
    );
    assert_eq!(
        c.info().indexing.index_bytes,
        index_bytes,
        "the walk reads the mapped rows (its in-memory copy went with the column's)"
    );
    assert_eq!(
        before,
        scored(&c, &queries, |_| {}),
        "identical when mapped"
    );
    drop((c, db));
    let db = Database::open_with(dir.path(), no_background()).unwrap();
    let c = db.collection("half").unwrap();
    assert_eq!(c.info().dense_bytes.mapped, rows_bytes / 2);
    assert_eq!(stored(&c, 7), Vector::Dense(rounded_half(&data[7])));
    assert_eq!(
        before,
        scored(&c, &queries, |_| {}),
        "identical when reopened mapped"
    );

    // in memory: sealed segments hold the rows once, in half precision
    let db = Database::in_memory_with(no_background());
    let mut cfg = config(32, Distance::Euclid, 1000);
    cfg.vectors.get_mut("").unwrap().datatype = Datatype::Float16;
    let m = db.create_collection("half", cfg).unwrap();
    load(&m, &data, |_| Payload::new());
    m.build_indexes().unwrap();
    let info = m.info();
    assert_eq!(info.indexing.indexed_vectors, 4000);
    assert_eq!(info.dense_bytes.in_memory, rows_bytes / 2);
    assert_eq!(info.indexing.index_bytes, half.indexing.index_bytes);
    assert!(recall(&m, &queries, 10, |_| {}) >= 0.95);
}

/// Bytes of the segment files under a data directory.
fn segment_file_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            total += segment_file_bytes(&path);
        } else if path.extension().is_some_and(|e| e == "azs") {
            total += entry.metadata().unwrap().len();
        }
    }
    total
}

/// `v` rounded to half precision, as a `Float16` vector stores it.
fn rounded_half(v: &[f32]) -> Vec<f32> {
    use azimuth_index::distance::half::{f16_to_f32, f32_to_f16};
    v.iter().map(|&x| f16_to_f32(f32_to_f16(x))).collect()
}
