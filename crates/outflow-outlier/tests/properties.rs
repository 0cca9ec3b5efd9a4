//! Invariants of the detectors, the fusion and the metrics.

use ndarray::{Array2, Axis};
use outflow_outlier::metrics::{average_precision, precision_at_n, roc_auc};
use outflow_outlier::{
    Algorithm, Fit, FusionMethod, FusionParams, IForestParams, InputError, OutlierError, OutlierModel, ScoreSamples,
};
use proptest::prelude::*;

/// Rows of `d` values from a small grid (duplicates on purpose, as in flow data) plus a continuous part.
fn data(max_rows: usize) -> impl Strategy<Value = Array2<f64>> {
    (12usize..max_rows, 1usize..4).prop_flat_map(|(n, d)| {
        prop::collection::vec(prop_oneof![(0i32..4).prop_map(f64::from), -50.0f64..50.0], n * d)
            .prop_map(move |v| Array2::from_shape_vec((n, d), v).unwrap())
    })
}

/// Failures a valid detector may legitimately report on degenerate data.
fn acceptable(e: &OutlierError) -> bool {
    matches!(e, OutlierError::Numerical(_) | OutlierError::Input(InputError::TooFewRows { .. }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_detector_gives_finite_scores(x in data(40)) {
        for name in Algorithm::NAMES {
            let d = Algorithm::preset(name, 1).unwrap();
            match d.fit(x.view()) {
                Ok(m) => {
                    prop_assert_eq!(m.training_scores().len(), x.nrows());
                    prop_assert!(m.training_scores().iter().all(|s| s.is_finite()), "{}: {:?}", name, m.training_scores());
                    let again = m.score_samples(x.slice(ndarray::s![..5, ..])).unwrap();
                    prop_assert!(again.iter().all(|s| s.is_finite()), "{}", name);
                    let t = m.threshold(0.1).unwrap();
                    let flagged = m.training_labels(0.1).unwrap().iter().filter(|&&f| f).count() as f64;
                    prop_assert!(t.is_finite() && flagged <= 0.1 * x.nrows() as f64 + 0.9 + 1e-9, "{}", name);
                }
                Err(e) => prop_assert!(acceptable(&e), "{}: {}", name, e),
            }
        }
    }

    #[test]
    fn rank_fusion_is_in_unit_interval(x in data(40)) {
        let p = FusionParams {
            method: FusionMethod::Rank,
            members: ["iforest", "ecod", "knn"].iter().map(|n| Algorithm::preset(n, 3).unwrap()).collect(),
        };
        let m = p.fit(x.view()).unwrap();
        let q = x.mapv(|v| v * 1.5 - 3.0);
        for s in m.training_scores().iter().chain(m.score_samples(q.view()).unwrap().iter()) {
            prop_assert!((0.0..=1.0).contains(s), "{}", s);
        }
    }

    #[test]
    fn iforest_scores_rows_independently(x in data(60), seed in 0u64..1000) {
        // A row's score depends on the forest only: scoring a permuted batch permutes the scores.
        let m = IForestParams { seed, n_estimators: 20, ..Default::default() }.fit(x.view()).unwrap();
        let n = x.nrows();
        let perm: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
        let unique = { let mut p = perm.clone(); p.sort_unstable(); p.dedup(); p.len() == n };
        prop_assume!(unique);
        let xp = x.select(Axis(0), &perm);
        let s = m.score_samples(x.view()).unwrap();
        let sp = m.score_samples(xp.view()).unwrap();
        for (k, &i) in perm.iter().enumerate() {
            prop_assert_eq!(sp[k], s[i]);
        }
        prop_assert_eq!(&s[..], m.training_scores());
        prop_assert!(s.iter().all(|v| *v > 0.0 && *v <= 1.0));
    }

    #[test]
    fn metrics_are_rank_based(y in prop::collection::vec(any::<bool>(), 4..80), raw in prop::collection::vec(0i32..6, 80)) {
        prop_assume!(y.iter().any(|&v| v) && y.iter().any(|&v| !v));
        let s: Vec<f64> = raw[..y.len()].iter().map(|&v| f64::from(v)).collect();
        let a = roc_auc(&y, &s).unwrap();
        let neg: Vec<f64> = s.iter().map(|v| -v).collect();
        prop_assert!((a + roc_auc(&y, &neg).unwrap() - 1.0).abs() < 1e-12);
        let mono: Vec<f64> = s.iter().map(|v| (v * 0.3).exp() + 10.0).collect();
        prop_assert_eq!(a, roc_auc(&y, &mono).unwrap());
        let ap = average_precision(&y, &s).unwrap();
        prop_assert!((0.0..=1.0).contains(&ap));
        prop_assert!((0.0..=1.0).contains(&precision_at_n(&y, &s).unwrap()));
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Larger than every block size (GMM 4096 rows, k-means 2048, IForest 128), with duplicates.
    let n = 5000;
    let x = Array2::from_shape_fn((n, 3), |(i, j)| {
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17 + j as u32);
        if i % 5 == 0 { (i % 7) as f64 } else { (h % 100_000) as f64 / 997.0 + j as f64 }
    });
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            Algorithm::NAMES
                .iter()
                .map(|name| {
                    let m = Algorithm::preset(name, 5).unwrap().fit(x.view()).unwrap();
                    (m.training_scores().to_vec(), m.score_samples(x.slice(ndarray::s![..300, ..])).unwrap())
                })
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    let three = run(3);
    for (k, name) in Algorithm::NAMES.iter().enumerate() {
        assert!(one[k] == three[k], "{name} differs between 1 and 3 threads");
    }
}
