//! Exact (brute-force) top-k search over a contiguous row-major f32 matrix.
//!
//! Row `i` is `data[i * dim..(i + 1) * dim]`; a trailing partial row is ignored, `dim == 0`
//! means no rows, and rows past `u32::MAX` are not addressable. Results are `(row, score)`
//! pairs, best first, with ties going to the smaller row.

mod topk;

pub use topk::TopK;

use crate::distance::{kernels, Metric};

/// The best `k` rows of `data` for `query` among those where `accept(row)` is true.
pub fn search(
    query: &[f32],
    data: &[f32],
    dim: usize,
    metric: Metric,
    k: usize,
    mut accept: impl FnMut(u32) -> bool,
) -> Vec<(u32, f32)> {
    if k == 0 || dim == 0 {
        return Vec::new();
    }
    let kernels = kernels();
    let mut top = TopK::new(k, metric.higher_is_better());
    for (row, vector) in (0..=u32::MAX).zip(data.chunks_exact(dim)) {
        if accept(row) {
            top.push(row, kernels.score(metric, query, vector));
        }
    }
    top.into_sorted_vec()
}

/// The best `k` of the candidate `rows` (ascending, for memory locality). Rows outside
/// `data` are skipped, as are repeats of the previous row.
pub fn search_rows(
    query: &[f32],
    data: &[f32],
    dim: usize,
    metric: Metric,
    k: usize,
    rows: &[u32],
) -> Vec<(u32, f32)> {
    if k == 0 || dim == 0 {
        return Vec::new();
    }
    let kernels = kernels();
    best_of_rows(rows, k, metric.higher_is_better(), |row| {
        row_slice(data, dim, row).map(|vector| kernels.score(metric, query, vector))
    })
}

/// The best `k` of `rows` (ascending) by `score` (`None`: the row is skipped), best first,
/// ties to the smaller row; a repeat of the previous row counts once.
pub fn best_of_rows(
    rows: &[u32],
    k: usize,
    higher_is_better: bool,
    mut score: impl FnMut(u32) -> Option<f32>,
) -> Vec<(u32, f32)> {
    let mut top = TopK::new(k, higher_is_better);
    let mut previous = None;
    for &row in rows {
        if previous == Some(row) {
            continue;
        }
        previous = Some(row);
        if let Some(s) = score(row) {
            top.push(row, s);
        }
    }
    top.into_sorted_vec()
}

/// Writes the score of every row into `out` (one per row, up to `out.len()`).
pub fn scores_into(query: &[f32], data: &[f32], dim: usize, metric: Metric, out: &mut [f32]) {
    kernels().scores_into(query, data, dim, metric, out);
}

/// Row `row` of `data`, or `None` if it lies (partly) outside.
fn row_slice(data: &[f32], dim: usize, row: u32) -> Option<&[f32]> {
    let start = usize::try_from(row).ok()?.checked_mul(dim)?;
    data.get(start..start.checked_add(dim)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const METRICS: [Metric; 3] = [Metric::Dot, Metric::L2Squared, Metric::L1];

    fn random_matrix(seed: u64, len: usize) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    /// Every accepted row's score, sorted best first with ties to the smaller row.
    fn brute_force(
        query: &[f32],
        data: &[f32],
        dim: usize,
        metric: Metric,
        k: usize,
        accept: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let mut all: Vec<(u32, f32)> = (0u32..)
            .zip(data.chunks_exact(dim))
            .filter(|(row, _)| accept(*row))
            .map(|(row, v)| (row, metric.score(query, v)))
            .collect();
        all.sort_by(|a, b| {
            let by_score = a.1.total_cmp(&b.1);
            let by_score = if metric.higher_is_better() {
                by_score.reverse()
            } else {
                by_score
            };
            by_score.then(a.0.cmp(&b.0))
        });
        all.truncate(k);
        all
    }

    #[test]
    fn search_equals_sorted_scores() {
        let (dim, rows) = (33, 500);
        let data = random_matrix(1, dim * rows);
        let query = random_matrix(2, dim);
        for metric in METRICS {
            for k in [1, 10, 499, 500, 2000] {
                let got = search(&query, &data, dim, metric, k, |_| true);
                assert_eq!(got.len(), k.min(rows));
                assert_eq!(got, brute_force(&query, &data, dim, metric, k, |_| true));
            }
        }
    }

    #[test]
    fn accept_filter_and_candidate_rows_agree() {
        let (dim, rows) = (384, 300);
        let data = random_matrix(3, dim * rows);
        let query = random_matrix(4, dim);
        let odd = |row: u32| row % 3 == 1;
        let candidates: Vec<u32> = (0..rows as u32).filter(|r| odd(*r)).collect();
        for metric in METRICS {
            let want = brute_force(&query, &data, dim, metric, 7, odd);
            assert!(want.iter().all(|(row, _)| odd(*row)));
            assert_eq!(search(&query, &data, dim, metric, 7, odd), want);
            assert_eq!(
                search_rows(&query, &data, dim, metric, 7, &candidates),
                want
            );
        }
    }

    #[test]
    fn ties_go_to_the_smaller_row() {
        let data = [1.0, 0.0, 0.5, 0.5, 1.0, 0.0, 1.0, 0.0];
        let got = search(&[1.0, 0.0], &data, 2, Metric::Dot, 3, |_| true);
        assert_eq!(got, vec![(0, 1.0), (2, 1.0), (3, 1.0)]);
    }

    #[test]
    fn degenerate_inputs_return_empty_or_partial() {
        let data = random_matrix(5, 10);
        let query = random_matrix(6, 3);
        assert!(search(&query, &data, 3, Metric::Dot, 0, |_| true).is_empty());
        assert!(search(&query, &data, 0, Metric::Dot, 5, |_| true).is_empty());
        assert!(search(&query, &[], 3, Metric::L1, 5, |_| true).is_empty());
        assert_eq!(search(&query, &data, 3, Metric::L1, 9, |_| true).len(), 3);
        let rows = [0, 0, 2, 3, u32::MAX];
        let got = search_rows(&query, &data, 3, Metric::L1, 9, &rows);
        let mut got_rows: Vec<u32> = got.iter().map(|r| r.0).collect();
        got_rows.sort_unstable();
        assert_eq!(got_rows, vec![0, 2]);
        assert!(search_rows(&query, &data, 3, Metric::L1, 0, &rows).is_empty());
    }

    #[test]
    fn scores_into_scores_every_row() {
        let (dim, rows) = (17, 40);
        let data = random_matrix(7, dim * rows);
        let query = random_matrix(8, dim);
        for metric in METRICS {
            let mut out = vec![0.0; rows];
            scores_into(&query, &data, dim, metric, &mut out);
            for (row, vector) in data.chunks_exact(dim).enumerate() {
                assert_eq!(out[row], metric.score(&query, vector));
            }
        }
    }
}
