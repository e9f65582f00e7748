use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const LENGTHS: &[usize] = &[
    0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 383, 384, 385,
    1000, 1536, 1537,
];
const METRICS: [Metric; 3] = [Metric::Dot, Metric::L2Squared, Metric::L1];

fn available() -> Vec<Kernels> {
    SimdLevel::ALL
        .into_iter()
        .filter_map(Kernels::for_level)
        .collect()
}

fn random_vec(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// `(exact value, sum of |terms|)` in f64; the second bounds the rounding error of any
/// summation order.
fn reference(metric: Metric, a: &[f32], b: &[f32]) -> (f64, f64) {
    let terms = a.iter().zip(b).map(|(&x, &y)| {
        let (x, y) = (f64::from(x), f64::from(y));
        match metric {
            Metric::Dot => x * y,
            Metric::L2Squared => (x - y) * (x - y),
            Metric::L1 => (x - y).abs(),
        }
    });
    terms.fold((0.0, 0.0), |(sum, mag), t| (sum + t, mag + t.abs()))
}

fn assert_close(got: f32, (exact, magnitude): (f64, f64), what: &str) {
    let err = (f64::from(got) - exact).abs();
    assert!(
        err <= 1e-4 * magnitude.max(1e-6),
        "{what}: got {got}, want {exact} (error {err}, magnitude {magnitude})"
    );
}

#[test]
fn every_available_kernel_matches_f64_reference() {
    let mut rng = StdRng::seed_from_u64(7);
    for kernels in available() {
        for &len in LENGTHS {
            for _ in 0..3 {
                let (a, b) = (random_vec(&mut rng, len), random_vec(&mut rng, len));
                for metric in METRICS {
                    let what = format!("{:?} {metric:?} len {len}", kernels.level());
                    assert_close(
                        kernels.score(metric, &a, &b),
                        reference(metric, &a, &b),
                        &what,
                    );
                }
            }
        }
    }
}

#[test]
fn kernels_agree_across_levels_on_large_values() {
    let mut rng = StdRng::seed_from_u64(8);
    let a: Vec<f32> = random_vec(&mut rng, 385).iter().map(|x| x * 1e3).collect();
    let b: Vec<f32> = random_vec(&mut rng, 385)
        .iter()
        .map(|x| x * 1e3 + 5.0)
        .collect();
    for kernels in available() {
        for metric in METRICS {
            let what = format!("{:?} {metric:?}", kernels.level());
            assert_close(
                kernels.score(metric, &a, &b),
                reference(metric, &a, &b),
                &what,
            );
        }
    }
}

#[test]
fn zero_length_inputs_score_zero() {
    for kernels in available() {
        for metric in METRICS {
            assert_eq!(
                kernels.score(metric, &[], &[]),
                0.0,
                "{:?}",
                kernels.level()
            );
        }
    }
    assert_eq!(dot(&[], &[]), 0.0);
    assert_eq!(norm(&[]), 0.0);
}

#[test]
fn mismatched_lengths_use_the_common_prefix() {
    let mut rng = StdRng::seed_from_u64(9);
    let (a, b) = (random_vec(&mut rng, 40), random_vec(&mut rng, 23));
    for kernels in available() {
        for metric in METRICS {
            // Bypass `Kernels::score`, whose debug_assert rejects unequal lengths.
            // SAFETY: `available` only returns kernels the CPU supports.
            let got = unsafe { kernels.pair[metric.index()](&a, &b) };
            let want = kernels.score(metric, &a[..23], &b);
            assert_eq!(got, want, "{:?} {metric:?}", kernels.level());
        }
    }
}

#[test]
fn norm_is_euclidean_length() {
    assert_eq!(norm(&[3.0, 4.0]), 5.0);
    assert_eq!(norm(&[-2.0]), 2.0);
    let ones = vec![1.0f32; 385];
    assert!((norm(&ones) - 385f32.sqrt()).abs() < 1e-4);
}

#[test]
fn free_functions_use_the_active_level() {
    let level = kernels().level();
    let requested = std::env::var(SIMD_ENV_VAR).ok();
    assert_eq!(
        level,
        choose_level(requested.as_deref(), SimdLevel::best_available())
    );
    assert_eq!(simd_level(), level.name());
    assert_eq!(dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    assert_eq!(l2_squared(&[1.0, 2.0], &[3.0, 5.0]), 13.0);
    assert_eq!(l1(&[1.0, 2.0], &[3.0, -5.0]), 9.0);
    assert_eq!(Metric::L1.score(&[1.0], &[-1.0]), 2.0);
}

#[test]
fn scores_into_matches_pairwise_scores() {
    let mut rng = StdRng::seed_from_u64(10);
    for dim in [1, 17, 384] {
        let (query, data) = (
            random_vec(&mut rng, dim),
            random_vec(&mut rng, dim * 9 + dim / 2),
        );
        for kernels in available() {
            for metric in METRICS {
                let mut out = vec![f32::NAN; 12];
                kernels.scores_into(&query, &data, dim, metric, &mut out);
                for (i, row) in data.chunks_exact(dim).enumerate() {
                    assert_eq!(out[i], kernels.score(metric, &query, row), "row {i}");
                }
                assert!(out[9..].iter().all(|x| x.is_nan()), "wrote past the rows");
                let mut short = [0.0f32; 2];
                kernels.scores_into(&query, &data, dim, metric, &mut short);
                assert_eq!(short, out[..2]);
            }
        }
    }
}

#[test]
fn scores_into_treats_zero_dim_as_no_rows() {
    let mut out = [7.0f32; 3];
    kernels().scores_into(&[], &[1.0, 2.0], 0, Metric::Dot, &mut out);
    assert_eq!(out, [7.0; 3]);
}

#[test]
fn simd_env_value_only_lowers_the_level() {
    use SimdLevel::*;
    assert_eq!(choose_level(None, Avx512), Avx512);
    assert_eq!(choose_level(Some("scalar"), Avx512), Scalar);
    assert_eq!(choose_level(Some(" AVX512 "), Scalar), Scalar);
    assert_eq!(choose_level(Some("sse9"), Scalar), Scalar);
    if Avx2.is_available() {
        assert_eq!(choose_level(Some("avx2"), Avx512), Avx2);
    }
}

#[test]
fn level_names_round_trip() {
    for level in SimdLevel::ALL {
        assert_eq!(SimdLevel::from_name(level.name()), Some(level));
    }
    assert_eq!(SimdLevel::from_name("neon"), None);
    assert!(SimdLevel::best_available().is_available());
    assert!(Metric::Dot.higher_is_better());
    assert!(!Metric::L2Squared.higher_is_better() && !Metric::L1.higher_is_better());
}
