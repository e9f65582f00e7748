//! Rank fusion (RRF, DBSF) and grouping of ranked hits, exactly as Qdrant defines them.

use std::collections::HashMap;

use azimuth_engine::PointId;
use serde_json::Value;

use super::query::Hit;

fn fused(scores: HashMap<PointId, (f64, u64)>) -> Vec<Hit> {
    let mut out: Vec<Hit> = scores
        .into_iter()
        .map(|(id, (s, version))| Hit {
            id,
            score: s as f32,
            version,
            order_value: None,
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Reciprocal rank fusion: Σ over lists of `1 / ((rank + 1) / weight + k − 1)`, rank from 0.
pub(super) fn rrf(lists: &[Vec<Hit>], k: f64, weights: Option<&[f64]>) -> Vec<Hit> {
    let mut scores: HashMap<PointId, (f64, u64)> = HashMap::new();
    for (i, list) in lists.iter().enumerate() {
        let w = weights.and_then(|w| w.get(i)).copied().unwrap_or(1.0);
        for (rank, h) in list.iter().enumerate() {
            let e = scores.entry(h.id.clone()).or_insert((0.0, h.version));
            e.0 += 1.0 / ((rank as f64 + 1.0) / w + k - 1.0);
        }
    }
    fused(scores)
}

/// Distribution-based score fusion: each list normalised as `(s − (μ − 3σ)) / 6σ` (sample
/// standard deviation), summed per id; a single result or zero spread scores 0.5.
pub(super) fn dbsf(lists: &[Vec<Hit>]) -> Vec<Hit> {
    let mut scores: HashMap<PointId, (f64, u64)> = HashMap::new();
    for list in lists {
        let n = list.len() as f64;
        let mean = list.iter().map(|h| h.score as f64).sum::<f64>() / n.max(1.0);
        let var = if list.len() > 1 {
            list.iter()
                .map(|h| (h.score as f64 - mean).powi(2))
                .sum::<f64>()
                / (n - 1.0)
        } else {
            0.0
        };
        let sd = var.sqrt();
        for h in list {
            let norm = if sd == 0.0 {
                0.5
            } else {
                (h.score as f64 - (mean - 3.0 * sd)) / (6.0 * sd)
            };
            scores.entry(h.id.clone()).or_insert((0.0, h.version)).0 += norm;
        }
    }
    fused(scores)
}

/// Groups hits (best first) by the keyword/integer values `key_of` gives: up to `limit`
/// groups of up to `size` hits, groups ordered by their best hit. A hit with several values
/// joins several groups; hits without a usable value are skipped.
pub(super) fn group(
    hits: &[Hit],
    key_of: impl Fn(&PointId) -> Vec<Value>,
    size: usize,
    limit: usize,
) -> Vec<(Value, Vec<Hit>)> {
    let mut groups: Vec<(Value, Vec<Hit>)> = Vec::new();
    for h in hits {
        for key in key_of(&h.id) {
            if !(key.is_string() || key.is_i64() || key.is_u64()) {
                continue;
            }
            match groups.iter().position(|(k, _)| *k == key) {
                Some(i) if groups[i].1.len() < size => groups[i].1.push(h.clone()),
                Some(_) => {}
                None if groups.len() < limit => groups.push((key, vec![h.clone()])),
                None => {}
            }
        }
        if groups.len() == limit && groups.iter().all(|(_, m)| m.len() >= size) {
            break;
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(ids: &[u64], scores: &[f32]) -> Vec<Hit> {
        ids.iter()
            .zip(scores)
            .map(|(&i, &s)| Hit {
                id: PointId::Num(i),
                score: s,
                version: 0,
                order_value: None,
            })
            .collect()
    }

    #[test]
    fn rrf_uses_k_2_by_default_and_weights() {
        let a = hits(&[1, 2], &[0.9, 0.8]);
        let b = hits(&[2, 3], &[0.7, 0.1]);
        let out = rrf(&[a.clone(), b.clone()], 2.0, None);
        // id 2: 1/(2/1+1) + 1/(1+1) = 1/3 + 1/2
        assert_eq!(out[0].id, PointId::Num(2));
        assert!((out[0].score - (1.0 / 3.0 + 0.5)).abs() < 1e-6);
        let weighted = rrf(&[a, b], 2.0, Some(&[2.0, 1.0]));
        // id 1: 1/(1/2 + 1) = 2/3
        let one = weighted.iter().find(|h| h.id == PointId::Num(1)).unwrap();
        assert!((one.score - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn dbsf_normalises_with_sample_deviation() {
        let out = dbsf(&[hits(&[1, 2, 3], &[1.0, 2.0, 3.0]), hits(&[9], &[5.0])]);
        // mean 2, sample sd 1: id 3 → (3 - (2 - 3)) / 6 = 4/6
        let three = out.iter().find(|h| h.id == PointId::Num(3)).unwrap();
        assert!((three.score - 4.0 / 6.0).abs() < 1e-6);
        let nine = out.iter().find(|h| h.id == PointId::Num(9)).unwrap();
        assert_eq!(nine.score, 0.5);
    }

    #[test]
    fn groups_fill_in_rank_order() {
        let h = hits(&[1, 2, 3, 4], &[4.0, 3.0, 2.0, 1.0]);
        let key = |id: &PointId| match id {
            PointId::Num(n) => vec![Value::from(if *n % 2 == 0 { "even" } else { "odd" })],
            _ => vec![],
        };
        let g = group(&h, key, 1, 5);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].0, Value::from("odd"));
        assert_eq!(g[0].1[0].id, PointId::Num(1));
    }
}
