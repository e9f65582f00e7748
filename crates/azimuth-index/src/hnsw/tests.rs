use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use std::sync::Arc;

use super::persist::crc32;
use super::*;
use crate::flat;

const METRICS: [Metric; 3] = [Metric::Dot, Metric::L2Squared, Metric::L1];
const DIM: usize = 64;

fn normal(rng: &mut StdRng) -> f32 {
    // Box–Muller; `1 - u` keeps the logarithm finite.
    let (u, v): (f32, f32) = (rng.gen(), rng.gen());
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

/// Latent dimensions of the synthetic data: real embeddings have a low intrinsic dimension,
/// and data with none (isotropic noise in 64-d) needs a far wider beam for any index.
const LATENT: usize = 24;

/// `rows` points around 64 gaussian centres in a `LATENT`-dimensional space, mapped to `dim`
/// dimensions by a fixed random matrix, plus a little isotropic noise (the spread within a cluster equals the spread of the centres); unit length for Dot
/// (cosine), as the engine stores them. The same `dim` gives the same mapping for every seed.
fn clustered(seed: u64, rows: usize, dim: usize, metric: Metric) -> Vec<f32> {
    let mut fixed = StdRng::seed_from_u64(dim as u64);
    let centres: Vec<f32> = (0..64 * LATENT).map(|_| normal(&mut fixed)).collect();
    let mapping: Vec<f32> = (0..LATENT * dim).map(|_| normal(&mut fixed)).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut data = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        let centre = &centres[rng.gen_range(0..64) * LATENT..][..LATENT];
        let latent: Vec<f32> = centre.iter().map(|c| c + normal(&mut rng)).collect();
        let start = data.len();
        for d in 0..dim {
            let x: f32 = (0..LATENT).map(|l| latent[l] * mapping[l * dim + d]).sum();
            data.push(x + 0.1 * normal(&mut rng));
        }
        if metric == Metric::Dot {
            let row = &mut data[start..];
            let norm = crate::distance::norm(row).max(f32::MIN_POSITIVE);
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    data
}

fn params() -> HnswParams {
    HnswParams {
        m: 16,
        ef_construct: 100,
        seed: 7,
    }
}

/// Mean recall@k of `index` against exact search over rows with `accept`.
fn recall(
    index: &Hnsw,
    data: &[f32],
    queries: &[f32],
    (k, ef): (usize, usize),
    accept: &dyn Fn(u32) -> bool,
) -> f64 {
    let (mut hits, mut total) = (0, 0);
    for query in queries.chunks_exact(index.dim()) {
        let want = flat::search(query, data, index.dim(), index.metric(), k, accept);
        let got = index.search(data, query, k, ef, Some(accept));
        assert!(got.len() <= k && got.iter().all(|(row, _)| accept(*row)));
        assert!(got
            .windows(2)
            .all(|w| ordered(index.metric(), w[0].1, w[1].1)));
        hits += got
            .iter()
            .filter(|g| want.iter().any(|w| w.0 == g.0))
            .count();
        total += want.len();
    }
    hits as f64 / total.max(1) as f64
}

fn ordered(metric: Metric, first: f32, second: f32) -> bool {
    if metric.higher_is_better() {
        first >= second
    } else {
        first <= second
    }
}

#[test]
fn parallel_build_reaches_recall_for_every_metric() {
    for metric in METRICS {
        let data = clustered(1, 20_000, DIM, metric);
        let queries = clustered(2, 200, DIM, metric);
        let index = Hnsw::build(&data, DIM, metric, params(), 2);
        assert_eq!(index.len(), 20_000);
        let r = recall(&index, &data, &queries, (10, 64), &|_| true);
        assert!(r >= 0.95, "{metric:?}: recall@10 {r}");
    }
}

/// 256 well separated gaussian clusters of about 230 rows (the spread inside one is 0.6 of
/// the centres'): the neighbour heuristic must keep the few long links between clusters,
/// or walks stay in the cluster they enter first.
#[test]
fn separate_clusters_stay_connected() {
    let dim = 128;
    let mut fixed = StdRng::seed_from_u64(5);
    let centres: Vec<f32> = (0..256 * dim).map(|_| normal(&mut fixed)).collect();
    let draw = |seed: u64, rows: usize| -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..rows)
            .flat_map(|_| {
                let c = rng.gen_range(0..256);
                let centre = centres[c * dim..(c + 1) * dim].to_vec();
                centre
                    .into_iter()
                    .map(|x| x + 0.6 * normal(&mut rng))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (data, queries) = (draw(1, 60_000), draw(2, 200));
    let index = Hnsw::build(&data, dim, Metric::L2Squared, params(), 2);
    let r = recall(&index, &data, &queries, (10, 32), &|_| true);
    // 0.95 when a relaxed heuristic could displace those links
    assert!(r >= 0.97, "recall@10 at ef 32: {r}");
}

#[test]
fn one_by_one_insert_reaches_recall_for_every_metric() {
    for metric in METRICS {
        let data = clustered(3, 20_000, DIM, metric);
        let queries = clustered(4, 200, DIM, metric);
        let mut index = Hnsw::new(DIM, metric, params());
        for row in 0..20_000 {
            index.insert(&data, row).unwrap();
        }
        let r = recall(&index, &data, &queries, (10, 64), &|_| true);
        assert!(r >= 0.95, "{metric:?}: recall@10 {r}");
    }
}

#[test]
fn insert_after_build_finds_the_new_rows() {
    let data = clustered(5, 12_000, DIM, Metric::L2Squared);
    let mut index = Hnsw::build(&data[..10_000 * DIM], DIM, Metric::L2Squared, params(), 2);
    for row in 10_000..12_000 {
        index.insert(&data, row).unwrap();
    }
    for row in (10_000..12_000).step_by(97) {
        let query = &data[row as usize * DIM..][..DIM];
        let got = index.search(&data, query, 1, 32, None);
        assert_eq!(got[0].0, row);
    }
    let queries = clustered(6, 100, DIM, Metric::L2Squared);
    let r = recall(&index, &data, &queries, (10, 64), &|_| true);
    assert!(r >= 0.95, "recall@10 {r}");
}

#[test]
fn filtered_search_keeps_recall() {
    let data = clustered(7, 20_000, DIM, Metric::Dot);
    let queries = clustered(8, 200, DIM, Metric::Dot);
    let index = Hnsw::build(&data, DIM, Metric::Dot, params(), 2);
    let half = recall(&index, &data, &queries, (10, 128), &|row| {
        row.is_multiple_of(2)
    });
    assert!(half >= 0.95, "50% filter: recall@10 {half}");
    let tenth = recall(&index, &data, &queries, (10, 128), &|row| {
        row.is_multiple_of(10)
    });
    assert!(tenth >= 0.95, "10% filter: recall@10 {tenth}");
}

/// A graph derived from the links of a built one, for 40 % of its rows: every link obeys the
/// graph's invariants (loading checks them all), the walk keeps recall, the result does not
/// depend on the number of threads, and bad arguments are errors.
#[test]
fn derived_subset_graphs_keep_recall_and_the_invariants() {
    let data = clustered(21, 20_000, DIM, Metric::Dot);
    let queries = clustered(22, 200, DIM, Metric::Dot);
    let index = Hnsw::build(&data, DIM, Metric::Dot, params(), 2);
    let rows: Vec<u32> = (0..20_000).filter(|r| r % 5 < 2).collect();
    let sub: Vec<f32> = rows
        .iter()
        .flat_map(|&r| data[r as usize * DIM..][..DIM].iter().copied())
        .collect();
    let control = BuildControl::new();
    let derived = index.derive_subset(&rows, &sub, 2, &control).unwrap();
    let derived = derived.expect("not cancelled");
    assert_eq!(control.linked(), rows.len());
    assert_eq!(
        (derived.len(), derived.params(), derived.dim()),
        (rows.len(), index.params(), DIM)
    );
    let loaded = Hnsw::from_bytes(&derived.to_bytes()).unwrap();
    let r = recall(&loaded, &sub, &queries, (10, 64), &|_| true);
    assert!(r >= 0.95, "recall@10 of the derived graph {r}");
    let one = index.derive_subset(&rows, &sub, 1, &BuildControl::new());
    assert_eq!(one.unwrap().unwrap().to_bytes(), derived.to_bytes());

    let invalid = |rows: &[u32], sub: &[f32]| {
        matches!(
            index.derive_subset(rows, sub, 1, &BuildControl::new()),
            Err(HnswError::InvalidArgument(_))
        )
    };
    assert!(invalid(&[3, 1], &sub), "rows out of order");
    assert!(invalid(&[1, 1], &sub), "a row twice");
    assert!(invalid(&[1, 20_000], &sub), "a row outside the graph");
    assert!(invalid(&rows, &sub[DIM..]), "too little data");
    let partial = Hnsw::build_leaving_out(
        &data[..1000 * DIM],
        DIM,
        Metric::Dot,
        params(),
        1,
        &BuildControl::new(),
        &[5],
    )
    .unwrap();
    let absent = partial.derive_subset(&[4, 5], &sub, 1, &BuildControl::new());
    assert!(matches!(absent, Err(HnswError::InvalidArgument(_))));
    let cancelled = BuildControl::new();
    cancelled.cancel();
    assert!(index
        .derive_subset(&rows, &sub, 2, &cancelled)
        .unwrap()
        .is_none());
}

#[test]
fn deleted_rows_are_never_returned() {
    let data = clustered(9, 5_000, DIM, Metric::L2Squared);
    let queries = clustered(10, 100, DIM, Metric::L2Squared);
    let mut index = Hnsw::build(&data, DIM, Metric::L2Squared, params(), 1);
    for row in (0..5_000).filter(|row| row % 3 != 0) {
        assert!(index.mark_deleted(row));
    }
    assert!(!index.mark_deleted(1), "already deleted");
    assert!(!index.mark_deleted(5_000), "not indexed");
    assert!(index.is_deleted(1) && !index.is_deleted(0) && !index.is_deleted(99_999));
    assert_eq!(index.deleted_count(), 3_333);
    let live = |row: u32| row.is_multiple_of(3);
    for query in queries.chunks_exact(DIM) {
        let got = index.search(&data, query, 10, 64, None);
        assert_eq!(got.len(), 10);
        assert!(got.iter().all(|(row, _)| live(*row)));
    }
    // Deletions combine with a filter, and recall holds over the live rows.
    let r = recall(&index, &data, &queries, (10, 64), &live);
    assert!(r >= 0.95, "recall@10 over live rows {r}");
    let even_live = |row: u32| row.is_multiple_of(2);
    for query in queries.chunks_exact(DIM).take(10) {
        let got = index.search(&data, query, 10, 64, Some(&even_live));
        assert!(got
            .iter()
            .all(|(row, _)| live(*row) && row.is_multiple_of(2)));
    }
}

#[test]
fn scores_match_exact_search_units() {
    for metric in METRICS {
        let data = clustered(11, 2_000, DIM, metric);
        let index = Hnsw::build(&data, DIM, metric, params(), 1);
        let query = &data[5 * DIM..6 * DIM];
        let want = flat::search(query, &data, DIM, metric, 5, |_| true);
        assert_eq!(index.search(&data, query, 5, 100, None), want, "{metric:?}");
    }
}

#[test]
fn bytes_round_trip_to_identical_results() {
    let data = clustered(12, 3_000, DIM, Metric::Dot);
    let queries = clustered(13, 50, DIM, Metric::Dot);
    let mut index = Hnsw::build(&data, DIM, Metric::Dot, params(), 2);
    index.mark_deleted(17);
    let bytes = index.to_bytes();
    let loaded = Hnsw::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.to_bytes(), bytes);
    assert_eq!(
        (loaded.len(), loaded.dim(), loaded.metric()),
        (3_000, DIM, Metric::Dot)
    );
    assert_eq!((loaded.params(), loaded.deleted_count()), (params(), 1));
    for query in queries.chunks_exact(DIM) {
        let filter = |row: u32| row % 4 != 1;
        assert_eq!(
            loaded.search(&data, query, 10, 40, None),
            index.search(&data, query, 10, 40, None)
        );
        assert_eq!(
            loaded.search(&data, query, 10, 40, Some(&filter)),
            index.search(&data, query, 10, 40, Some(&filter))
        );
    }
    let empty = Hnsw::new(3, Metric::L1, HnswParams::default());
    let loaded = Hnsw::from_bytes(&empty.to_bytes()).unwrap();
    assert!(loaded.is_empty() && loaded.to_bytes() == empty.to_bytes());
}

/// A graph loaded with `from_shared` reads its level-0 lists where they lie (when aligned)
/// and answers exactly as the graph it was saved from; an insert copies them first; a
/// misaligned image or a version-1 one is copied; a range outside the bytes is an error.
#[test]
fn shared_images_are_read_in_place_and_answer_identically() {
    let data = clustered(15, 3_000, DIM, Metric::L2Squared);
    let queries = clustered(16, 30, DIM, Metric::L2Squared);
    let mut index = Hnsw::build_leaving_out(
        &data,
        DIM,
        Metric::L2Squared,
        params(),
        2,
        &BuildControl::new(),
        &[7],
    )
    .unwrap();
    index.mark_deleted(11);
    let image = index.to_bytes();
    let answers = |g: &Hnsw| -> Vec<Vec<(u32, f32)>> {
        queries
            .chunks_exact(DIM)
            .map(|q| g.search(&data, q, 10, 40, None))
            .collect()
    };
    let want = answers(&index);
    let place = |at: usize| -> SharedBytes {
        let mut bytes = vec![0u8; at];
        bytes.extend_from_slice(&image);
        Arc::new(bytes)
    };
    let level0 = index.graph.len() * (1 + 2 * params().m) * 4;
    let shared = Hnsw::from_shared(place(64), 64..64 + image.len()).unwrap();
    assert_eq!(shared.shared_bytes(), level0);
    assert_eq!(
        shared.memory_bytes() + level0,
        Hnsw::from_bytes(&image).unwrap().memory_bytes()
    );
    assert_eq!(answers(&shared), want);
    assert_eq!(
        (shared.to_bytes(), shared.deleted_count()),
        (image.clone(), 1)
    );
    // an insert copies the lists first; the graph then matches one that never shared
    let (mut shared, mut owned) = (shared, Hnsw::from_bytes(&image).unwrap());
    shared.insert(&data, 7).unwrap();
    owned.insert(&data, 7).unwrap();
    assert_eq!(shared.shared_bytes(), 0);
    assert_eq!(shared.to_bytes(), owned.to_bytes());
    // misaligned: copied
    let copied = Hnsw::from_shared(place(1), 1..1 + image.len()).unwrap();
    assert_eq!((copied.shared_bytes(), answers(&copied)), (0, want.clone()));
    // version 1 (no padding): still read, copied
    let mut v1 = image.clone();
    let pad_at = 56 + 3_000 + 3_000usize.div_ceil(8);
    v1.drain(pad_at..pad_at.next_multiple_of(64));
    v1[8] = 1;
    v1.truncate(v1.len() - 4);
    let crc = crc32(&v1);
    v1.extend_from_slice(&crc.to_le_bytes());
    let old: SharedBytes = Arc::new(v1.clone());
    let old = Hnsw::from_shared(old, 0..v1.len()).unwrap();
    assert_eq!((old.shared_bytes(), answers(&old)), (0, want));
    assert_eq!(old.to_bytes(), image, "saved again as version 2");
    assert!(matches!(
        Hnsw::from_shared(place(0), 0..image.len() + 1),
        Err(HnswError::Corruption(_))
    ));
}

/// A small graph with a gap (row 3 never inserted), several levels and a deletion.
fn small_graph() -> (Vec<f32>, Hnsw) {
    let data = clustered(14, 60, 4, Metric::L2Squared);
    let mut index = Hnsw::new(4, Metric::L2Squared, HnswParams { m: 2, ..params() });
    for row in (0..60).filter(|&row| row != 3) {
        index.insert(&data, row).unwrap();
    }
    index.mark_deleted(10);
    (data, index)
}

#[test]
fn every_single_byte_flip_is_detected() {
    let (_, index) = small_graph();
    let bytes = index.to_bytes();
    for at in 0..bytes.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut flipped = bytes.clone();
            flipped[at] ^= mask;
            assert!(
                Hnsw::from_bytes(&flipped).is_err(),
                "flip {mask:#x} at {at}"
            );
        }
    }
    for len in 0..bytes.len() {
        assert!(
            Hnsw::from_bytes(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
}

#[test]
fn flips_behind_a_valid_checksum_never_panic() {
    let (data, index) = small_graph();
    let bytes = index.to_bytes();
    let body = bytes.len() - 4;
    let (mut rejected, mut accepted) = (0, 0);
    for at in 0..body {
        for mask in [0x01, 0x02, 0x10, 0x80, 0xff] {
            let mut flipped = bytes[..body].to_vec();
            flipped[at] ^= mask;
            let crc = crc32(&flipped);
            flipped.extend_from_slice(&crc.to_le_bytes());
            match Hnsw::from_bytes(&flipped) {
                Err(_) => rejected += 1,
                Ok(graph) => {
                    accepted += 1;
                    for query in data.chunks_exact(4).take(5) {
                        graph.search(&data, query, 5, 10, None);
                    }
                    let mut graph = graph;
                    let _ = graph.insert(&data, 3);
                }
            }
        }
    }
    // Flips in the seed, ef_construct, or a deleted bit of a present row are still valid.
    assert!(
        rejected > 10 * accepted,
        "rejected {rejected}, accepted {accepted}"
    );
}

#[test]
fn degenerate_inputs_are_handled() {
    let data = clustered(15, 5, 8, Metric::L1);
    let empty = Hnsw::build(&[], 8, Metric::L1, params(), 2);
    assert!(empty.is_empty() && empty.search(&data, &data[..8], 3, 10, None).is_empty());
    assert!(Hnsw::build(&data, 0, Metric::L1, params(), 1).is_empty());

    let index = Hnsw::build(&data, 8, Metric::L1, params(), 2);
    let query = &data[8..16];
    let all = index.search(&data, query, 10, 1, None);
    assert_eq!(all, flat::search(query, &data, 8, Metric::L1, 10, |_| true));
    assert_eq!(all.len(), 5, "k > n returns every row");
    assert_eq!(index.search(&data, query, 2, 0, None).len(), 2, "ef < k");
    assert!(index.search(&data, query, 0, 10, None).is_empty());
    assert!(index.search(&data, &query[..7], 3, 10, None).is_empty());
    assert!(index.search(&data[..32], query, 3, 10, None).is_empty());
    assert!(index
        .search(&data, query, 3, 10, Some(&|_| false))
        .is_empty());

    let mut index = index;
    let more = clustered(16, 7, 8, Metric::L1);
    assert!(index.insert(&data, 5).is_err(), "row outside the data");
    assert!(index.insert(&data, 2).is_err(), "already indexed");
    assert!(index.insert(&more[..40], 5).is_err(), "outside the data");
    assert!(
        index.insert(&more[..32], 1).is_err(),
        "data shorter than the index"
    );
    index.insert(&more, 6).unwrap();
    assert!(index.contains(6) && !index.contains(5) && index.len() == 6);
    assert!(index.search(&more, &more[48..], 1, 10, None)[0].0 == 6);
}

#[test]
fn parameters_are_clamped() {
    let data = clustered(17, 50, 4, Metric::Dot);
    let wild = HnswParams {
        m: 0,
        ef_construct: 0,
        seed: 1,
    };
    let index = Hnsw::build(&data, 4, Metric::Dot, wild, 3);
    assert_eq!((index.params().m, index.params().ef_construct), (2, 1));
    assert_eq!(index.search(&data, &data[..4], 1, 50, None).len(), 1);
    let huge = HnswParams {
        m: usize::MAX,
        ..wild
    };
    assert_eq!(Hnsw::new(4, Metric::Dot, huge).params().m, MAX_M);
}

#[test]
fn single_thread_build_is_deterministic() {
    let data = clustered(18, 2_000, 16, Metric::L2Squared);
    let a = Hnsw::build(&data, 16, Metric::L2Squared, params(), 1);
    let b = Hnsw::build(&data, 16, Metric::L2Squared, params(), 1);
    assert_eq!(a.to_bytes(), b.to_bytes());
    assert!(a.memory_bytes() >= 2_000 * 33 * 4);
}

#[test]
fn concurrent_searches_agree_with_sequential_ones() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let data = clustered(19, 3_000, 16, Metric::L1);
    let index = Hnsw::build(&data, 16, Metric::L1, params(), 2);
    shareable(&index);
    let queries: Vec<&[f32]> = data.chunks_exact(16).step_by(37).collect();
    let sequential: Vec<_> = queries
        .iter()
        .map(|q| index.search(&data, q, 5, 32, None))
        .collect();
    std::thread::scope(|scope| {
        let search_all = || -> Vec<_> {
            queries
                .iter()
                .map(|q| index.search(&data, q, 5, 32, None))
                .collect()
        };
        let workers: Vec<_> = (0..3).map(|_| scope.spawn(search_all)).collect();
        for worker in workers {
            assert_eq!(worker.join().unwrap(), sequential);
        }
    });
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

/// Prints recall against exact search for a range of beam widths and filters:
/// `cargo test -p azimuth-index --release hnsw::tests::recall_table -- --ignored --nocapture`.
#[test]
#[ignore]
fn recall_table() {
    let filters: [(&str, &dyn Fn(u32) -> bool); 4] = [
        ("all", &|_| true),
        ("50%", &|row| row.is_multiple_of(2)),
        ("10%", &|row| row.is_multiple_of(10)),
        ("1%", &|row| row.is_multiple_of(100)),
    ];
    for metric in METRICS {
        let data = clustered(1, 20_000, DIM, metric);
        let queries = clustered(2, 200, DIM, metric);
        let index = Hnsw::build(&data, DIM, metric, params(), 2);
        for (name, accept) in filters {
            let row: Vec<String> = [16, 32, 64, 128, 256]
                .iter()
                .map(|&ef| {
                    format!(
                        "ef {ef}: {:.4}",
                        recall(&index, &data, &queries, (10, ef), accept)
                    )
                })
                .collect();
            println!("{metric:?} {name}: {}", row.join(", "));
        }
    }
}

/// Nodes of `index` that no list links to, per level (the entry point at its top level, the
/// start of every walk, is not counted).
fn orphans(index: &Hnsw) -> Vec<usize> {
    let graph = &index.graph;
    let top = (0..graph.len() as u32)
        .filter_map(|n| graph.level(n))
        .max()
        .unwrap_or(0);
    let mut list = Vec::new();
    (0..=top)
        .map(|lev| {
            let nodes = || (0..graph.len() as u32).filter(move |&n| graph.level(n) >= Some(lev));
            let mut linked = vec![false; graph.len()];
            for node in nodes() {
                graph.neighbors_into(node, lev, &mut list);
                list.iter().for_each(|&next| linked[next as usize] = true);
            }
            nodes()
                .filter(|&n| !linked[n as usize])
                .filter(|&n| !(Some(n) == index.entry && lev == top))
                .count()
        })
        .collect()
}

/// HNSW's pruning leaves some nodes that no list links to, which no walk can reach through
/// that level (on debian-minilm, M 16: about 33 rows at level 0). Here (uniform 16-d rows,
/// M 8) plain HNSW leaves 10 at level 1; built and derived graphs give each an in-link.
#[test]
fn every_node_keeps_an_in_link() {
    let (dim, rows) = (16, 20_000);
    let mut rng = StdRng::seed_from_u64(3);
    let data: Vec<f32> = (0..rows * dim)
        .map(|_| rng.gen_range(-1.0f32..1.0))
        .collect();
    let p = HnswParams {
        m: 8,
        ef_construct: 64,
        seed: 7,
    };
    let index = Hnsw::build(&data, dim, Metric::L2Squared, p, 1);
    let subset: Vec<u32> = (0..rows as u32).filter(|r| r % 4 == 1).collect();
    let sub: Vec<f32> = subset
        .iter()
        .flat_map(|&r| data[r as usize * dim..][..dim].iter().copied())
        .collect();
    let derived = index.derive_subset(&subset, &sub, 1, &BuildControl::new());
    let derived = derived.unwrap().expect("not cancelled");
    for graph in [&index, &derived] {
        let unlinked = orphans(graph);
        assert!(unlinked.iter().all(|&n| n == 0), "{unlinked:?}");
        // and the links from the entry point reach every row at level 0
        let mut reached = vec![false; graph.graph.len()];
        let mut stack: Vec<u32> = graph.entry.into_iter().collect();
        let mut list = Vec::new();
        while let Some(node) = stack.pop() {
            if !std::mem::replace(&mut reached[node as usize], true) {
                graph.graph.neighbors_into(node, 0, &mut list);
                stack.extend_from_slice(&list);
            }
        }
        assert!(reached.iter().all(|&r| r), "a row no walk reaches");
    }
}
