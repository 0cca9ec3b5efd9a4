//! Property tests of the forest and TreeSHAP: local accuracy, missing features, brute-force Shapley
//! values, the sum over classes, agreement with the textbook recursion, thread-count independence.

use ndarray::Array2;
use outflow_explain::{
    ClassWeight, FitSupervised, MaxFeatures, RandomForest, RandomForestParams, ShapTree, TreeEnsemble,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random dataset: `n × m` features on a coarse grid (ties happen), `k` classes from a noisy rule.
fn dataset(seed: u64, n: usize, m: usize, k: usize) -> (Array2<f64>, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, m), |_| (rng.random_range(0..20) as f64) / 4.0);
    let y = (0..n)
        .map(|i| {
            let s: f64 = x.row(i).iter().enumerate().map(|(j, v)| v * (j as f64 + 1.0).sqrt()).sum();
            if rng.random_range(0..10) == 0 { rng.random_range(0..k as i64) - 1 } else { (s as i64) % k as i64 - 1 }
        })
        .collect();
    (x, y)
}

fn params() -> impl Strategy<Value = RandomForestParams> {
    (1usize..5, 1usize..7, any::<bool>(), any::<bool>(), 0usize..3, 1usize..4, any::<u64>()).prop_map(
        |(trees, depth, bootstrap, balanced, mf, leaf, seed)| RandomForestParams {
            n_estimators: trees,
            max_depth: Some(depth),
            min_samples_leaf: leaf,
            bootstrap,
            class_weight: if balanced { ClassWeight::Balanced } else { ClassWeight::Uniform },
            max_features: [MaxFeatures::All, MaxFeatures::Sqrt, MaxFeatures::Fraction(0.5)][mf],
            seed,
            ..Default::default()
        },
    )
}

fn fitted(seed: u64, n: usize, m: usize, k: usize, p: &RandomForestParams) -> Option<(Array2<f64>, RandomForest)> {
    let (x, y) = dataset(seed, n, m, k);
    let mut classes = y.clone();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        return None;
    }
    Some((x.clone(), p.fit(x.view(), &y).unwrap()))
}

/// The path-dependent value function: E[f(x) | x_S] with unknown features averaged by node weights.
fn cond_value(t: &ShapTree, c: usize, x: &[f64], known: u32, node: usize, out: usize) -> f64 {
    if t.children_left[node] < 0 {
        return t.values[node * c + out];
    }
    let f = t.features[node] as usize;
    let (l, r) = (t.children_left[node] as usize, t.children_right[node] as usize);
    if known >> f & 1 == 1 {
        let next = if x[f] <= t.thresholds[node] { l } else { r };
        cond_value(t, c, x, known, next, out)
    } else {
        let w = t.node_sample_weight[node];
        (t.node_sample_weight[l] * cond_value(t, c, x, known, l, out)
            + t.node_sample_weight[r] * cond_value(t, c, x, known, r, out))
            / w
    }
}

fn brute_force(t: &ShapTree, c: usize, m: usize, x: &[f64], out: usize) -> Vec<f64> {
    let fact = |n: usize| (1..=n).map(|v| v as f64).product::<f64>();
    let mut phi = vec![0.0; m];
    for (i, p) in phi.iter_mut().enumerate() {
        for s in 0u32..(1 << m) {
            if s >> i & 1 == 1 {
                continue;
            }
            let size = s.count_ones() as usize;
            let w = fact(size) * fact(m - size - 1) / fact(m);
            *p += w * (cond_value(t, c, x, s | 1 << i, 0, out) - cond_value(t, c, x, s, 0, out));
        }
    }
    phi
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn local_accuracy_and_class_sums(seed in any::<u64>(), n in 12usize..70, m in 1usize..8, k in 2usize..5,
                                     p in params()) {
        let Some((x, forest)) = fitted(seed, n, m, k, &p) else { return Ok(()) };
        let shap = forest.shap_values(x.view()).unwrap();
        let proba = forest.predict_proba(x.view()).unwrap();
        let c = forest.classes().len();
        for i in 0..x.nrows() {
            for out in 0..c {
                let total: f64 = shap.expected_value[out] + (0..m).map(|j| shap.values[[i, j, out]]).sum::<f64>();
                prop_assert!((total - proba[[i, out]]).abs() < 1e-9, "row {i} class {out}: {total} vs {}", proba[[i, out]]);
            }
            for j in 0..m {
                let s: f64 = (0..c).map(|out| shap.values[[i, j, out]]).sum();
                prop_assert!(s.abs() < 1e-12, "row {i} feature {j}: Σ_c φ = {s}");
            }
        }
        // Features no tree splits on get exactly 0.
        let used: Vec<bool> = (0..m)
            .map(|j| forest.trees().iter().any(|t| t.feature().contains(&(j as i32))))
            .collect();
        for (j, &u) in used.iter().enumerate() {
            if !u {
                prop_assert!(shap.values.slice(ndarray::s![.., j, ..]).iter().all(|&v| v == 0.0));
            }
        }
        // The table algorithm agrees with the paper's recursion.
        let reference = forest.tree_ensemble().shap_values_recursive(x.view()).unwrap();
        for (a, b) in shap.values.iter().zip(reference.values.iter()) {
            prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn equals_brute_force_shapley_on_a_single_tree(seed in any::<u64>(), n in 12usize..60, m in 1usize..7,
                                                  k in 2usize..4, p in params()) {
        let p = RandomForestParams { n_estimators: 1, ..p };
        let Some((x, forest)) = fitted(seed, n, m, k, &p) else { return Ok(()) };
        let ens = forest.tree_ensemble();
        let t = &ens.trees()[0];
        let c = ens.n_outputs();
        let shap = ens.shap_values(x.view()).unwrap();
        for i in 0..x.nrows().min(8) {
            let row = x.row(i).to_vec();
            for out in 0..c {
                let bf = brute_force(t, c, m, &row, out);
                for (j, want) in bf.iter().enumerate() {
                    let got = shap.values[[i, j, out]];
                    prop_assert!((want - got).abs() < 1e-12, "row {i} feature {j} class {out}: brute {want} vs {got}");
                }
            }
        }
    }
}

#[test]
fn deep_paths_use_the_direct_formula_and_agree() {
    // Explaining few rows on deep trees forces the O(d²) direct path for most leaves.
    let (x, y) = dataset(3, 400, 16, 4);
    let forest = RandomForestParams { n_estimators: 3, max_depth: None, seed: 1, ..Default::default() }
        .fit(x.view(), &y)
        .unwrap();
    assert!(forest.trees().iter().any(|t| t.depth() > 12));
    let ens = forest.tree_ensemble();
    for rows in [1usize, 3, 400] {
        let xs = x.slice(ndarray::s![..rows, ..]);
        let fast = ens.shap_values(xs).unwrap();
        let slow = ens.shap_values_recursive(xs).unwrap();
        let pred = ens.predict(xs).unwrap();
        for i in 0..rows {
            for out in 0..ens.n_outputs() {
                let total = fast.expected_value[out] + fast.values.slice(ndarray::s![i, .., out]).sum();
                assert!((total - pred[[i, out]]).abs() < 1e-9);
            }
        }
        for (a, b) in fast.values.iter().zip(slow.values.iter()) {
            assert!((a - b).abs() < 1e-12, "{rows} rows: {a} vs {b}");
        }
    }
}

#[test]
fn same_forest_and_shap_for_any_thread_count() {
    let (x, y) = dataset(11, 300, 6, 3);
    let p = RandomForestParams { n_estimators: 12, max_depth: Some(6), seed: 99, ..RandomForestParams::surrogate() };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let f = p.fit(x.view(), &y).unwrap();
            let s = f.shap_values(x.view()).unwrap();
            (f, s)
        })
    };
    let (f1, s1) = run(1);
    let (f2, s2) = run(2);
    assert_eq!(f1, f2);
    assert_eq!(s1.values, s2.values);
    let f3 = RandomForestParams { seed: 100, ..p.clone() }.fit(x.view(), &y).unwrap();
    assert_ne!(f1, f3);
}

#[test]
fn shap_json_round_trips() {
    let (x, y) = dataset(5, 120, 4, 3);
    let forest =
        RandomForestParams { n_estimators: 4, max_depth: Some(4), ..Default::default() }.fit(x.view(), &y).unwrap();
    let names: Vec<String> = (0..4).map(|j| format!("feat {j}")).collect();
    let json = forest.to_shap_json(Some(&names)).unwrap();
    let back = TreeEnsemble::from_shap_json(&json).unwrap();
    assert_eq!(back, forest.tree_ensemble().with_feature_names(names).unwrap());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t0 = &v["trees"][0];
    for key in [
        "children_left",
        "children_right",
        "children_default",
        "features",
        "thresholds",
        "values",
        "node_sample_weight",
    ] {
        assert!(t0[key].is_array(), "{key}");
    }
    let leaf = t0["children_left"].as_array().unwrap().iter().position(|c| c == -1).unwrap();
    assert_eq!(t0["features"][leaf], -2);
    assert_eq!(t0["children_right"][leaf], -1);
    // Σ over trees of the exported values is predict_proba.
    let pred = back.predict(x.view()).unwrap();
    let proba = forest.predict_proba(x.view()).unwrap();
    for (a, b) in pred.iter().zip(proba.iter()) {
        assert!((a - b).abs() < 1e-12);
    }
    // A broken model is a typed error.
    let broken = json.replacen("\"children_left\":[1", "\"children_left\":[7", 1);
    assert!(matches!(TreeEnsemble::from_shap_json(&broken), Err(outflow_explain::ExplainError::InvalidModel(_))));
}
