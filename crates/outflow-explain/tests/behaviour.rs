//! End-to-end behaviour: importances on a simple rule, typed errors on bad input, the full report.

use ndarray::Array2;
use outflow_explain::{
    ExplainError, ExplainParams, FitSupervised, InputError, PermutationParams, Predict, RandomForestParams, explain,
    permutation_importance,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn uniform(seed: u64, n: usize, m: usize) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, m), |_| rng.random::<f64>())
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
}

#[test]
fn x0_rule_ranks_x0_first_by_every_importance() {
    let x = uniform(1, 600, 5);
    let y: Vec<i64> = x.column(0).iter().map(|&v| i64::from(v > 0.5)).collect();
    let forest = RandomForestParams { n_estimators: 30, max_depth: Some(5), seed: 4, ..Default::default() }
        .fit(x.view(), &y)
        .unwrap();
    assert!(forest.accuracy(x.view(), &y).unwrap() > 0.98);
    let gini = forest.feature_importances();
    assert!((gini.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(argmax(&gini), 0, "{gini:?}");
    let perm = permutation_importance(&forest, x.view(), &y, &PermutationParams { n_repeats: 3, seed: 2 }).unwrap();
    assert_eq!(argmax(&perm.mean), 0, "{:?}", perm.mean);
    assert!(perm.mean[0] > 0.3);
    let shap = forest.shap_values(x.view()).unwrap();
    let mean_abs = shap.mean_abs();
    let per_feature: Vec<f64> = mean_abs.outer_iter().map(|r| r.sum()).collect();
    assert_eq!(argmax(&per_feature), 0, "{per_feature:?}");
}

fn small_params() -> ExplainParams {
    ExplainParams {
        forest: RandomForestParams { n_estimators: 10, ..RandomForestParams::surrogate() },
        permutation: PermutationParams { n_repeats: 2, seed: 0 },
        ..Default::default()
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = uniform(2, 50, 3);
    let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    let labels: Vec<i64> = (0..50).map(|i| i % 2).collect();
    let p = small_params();
    assert!(matches!(
        explain(x.view(), &names, &labels[..49], None, &p),
        Err(ExplainError::Input(InputError::LengthMismatch { expected: 50, found: 49, .. }))
    ));
    assert!(matches!(explain(x.view(), &names, &[3; 50], None, &p), Err(ExplainError::SingleClass { class: 3 })));
    let mut nan = x.clone();
    nan[[7, 1]] = f64::NAN;
    assert!(matches!(
        explain(nan.view(), &names, &labels, None, &p),
        Err(ExplainError::Input(InputError::NonFinite { row: 7, .. }))
    ));
    let scores = vec![0.5; 49];
    assert!(matches!(
        explain(x.view(), &names, &labels, Some(&scores), &p),
        Err(ExplainError::Input(InputError::LengthMismatch { .. }))
    ));
    let mut bad_scores = vec![0.5; 50];
    bad_scores[3] = f64::NAN;
    assert!(matches!(
        explain(x.view(), &names, &labels, Some(&bad_scores), &p),
        Err(ExplainError::Input(InputError::NonFinite { row: 3, .. }))
    ));
    let zero_trees = ExplainParams { forest: RandomForestParams { n_estimators: 0, ..Default::default() }, ..p };
    assert!(matches!(
        explain(x.view(), &names, &labels, None, &zero_trees),
        Err(ExplainError::Input(InputError::InvalidParameter { .. }))
    ));
    let forest = RandomForestParams { n_estimators: 2, ..Default::default() }.fit(x.view(), &labels).unwrap();
    assert!(matches!(
        forest.predict(x.slice(ndarray::s![.., ..2])),
        Err(ExplainError::Input(InputError::WidthMismatch { expected: 3, found: 2 }))
    ));
    assert!(matches!(forest.shap_values(nan.view()), Err(ExplainError::Input(InputError::NonFinite { .. }))));
}

#[test]
fn full_report_on_clusters() {
    // Three "clusters" in Zeek units plus noise.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 400;
    let mut x = Array2::zeros((n, 3));
    let mut labels = Vec::new();
    let mut scores = Vec::new();
    for i in 0..n {
        let (label, dur, orig, resp) = match i % 10 {
            0 => (-1, rng.random_range(0.0..100.0), rng.random_range(0.0..1e7), rng.random_range(0.0..1e7)),
            1..=3 => (0, rng.random_range(100.0..200.0), rng.random_range(2e6..5e6), rng.random_range(1e3..1e4)),
            _ => (1, rng.random_range(0.0..0.5), rng.random_range(50.0..500.0), rng.random_range(50.0..900.0)),
        };
        x[[i, 0]] = dur;
        x[[i, 1]] = orig;
        x[[i, 2]] = resp;
        labels.push(label);
        scores.push(if label == -1 { rng.random_range(0.8..1.0) } else { rng.random_range(0.0..0.5) });
    }
    let names: Vec<String> = ["duration", "orig_bytes", "resp_bytes"].map(String::from).to_vec();
    let e = explain(x.view(), &names, &labels, Some(&scores), &small_params()).unwrap();
    assert!(e.fidelity.accuracy > 0.95);
    let s = e.summary();
    assert_eq!(s.classes, vec![-1, 0, 1]);
    assert_eq!(s.features.len(), 3);
    let by = |l: i64| s.profiles.clusters.iter().find(|c| c.label == l).unwrap();
    assert_eq!(by(-1).interpretation, "anomaly / potential attack or scan");
    assert_eq!(by(0).interpretation, "high-volume transfer, exfiltration candidate");
    assert_eq!(by(1).interpretation, "short interactive/background flows");
    assert_eq!(by(1).count, 240);
    let sev = s.severity.as_ref().unwrap();
    assert_eq!(sev.n_severe, 4);
    assert_eq!(sev.top.len(), 3);
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"mean_abs_shap\""));
    let mut csv = Vec::new();
    e.shap.write_csv(&mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "row,class,expected_value,duration,orig_bytes,resp_bytes");
    assert!(lines.next().unwrap().starts_with("0,-1,"));
    assert_eq!(text.lines().count(), 1 + n * 3);
}

#[test]
fn permutation_importance_equals_the_naive_computation() {
    use rand::Rng;
    use rand::seq::SliceRandom;
    let x = uniform(3, 300, 4);
    let y: Vec<i64> =
        (0..300).map(|i| i64::from(x[[i, 0]] + 0.3 * x[[i, 2]] > 0.6) - i64::from(x[[i, 1]] > 0.9)).collect();
    let forest = RandomForestParams { n_estimators: 15, max_depth: Some(5), seed: 8, ..Default::default() }
        .fit(x.view(), &y)
        .unwrap();
    let params = PermutationParams { n_repeats: 3, seed: 77 };
    let got = permutation_importance(&forest, x.view(), &y, &params).unwrap();
    // The documented permutations: feature j shuffles with the j-th u64 of ChaCha8(seed), repeat after repeat.
    let mut master = ChaCha8Rng::seed_from_u64(params.seed);
    let seeds: Vec<u64> = (0..4).map(|_| master.next_u64()).collect();
    let baseline = forest.accuracy(x.view(), &y).unwrap();
    assert_eq!(got.baseline, baseline);
    for j in 0..4 {
        let mut rng = ChaCha8Rng::seed_from_u64(seeds[j]);
        let mut perm: Vec<usize> = (0..300).collect();
        for rep in 0..3 {
            perm.shuffle(&mut rng);
            let mut xp = x.clone();
            for i in 0..300 {
                xp[[i, j]] = x[[perm[i], j]];
            }
            assert_eq!(
                got.drops[[j, rep]],
                baseline - forest.accuracy(xp.view(), &y).unwrap(),
                "feature {j} repeat {rep}"
            );
        }
    }
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(one.install(|| permutation_importance(&forest, x.view(), &y, &params).unwrap()), got);
}
