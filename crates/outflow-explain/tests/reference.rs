//! Comparison with the Python references, from the fixtures written by
//! `tools/reference/explain_reference.py` (no Python needed here):
//! - TreeSHAP values, expected values and model outputs equal shap 0.51's `TreeExplainer` on forests that
//!   the Rust code exported in shap's custom-tree JSON form (and on one scikit-learn forest) within 1e-9;
//! - the CART grows the same tree as scikit-learn 1.9's `DecisionTreeClassifier` on tie-free data.

use std::path::PathBuf;

use ndarray::Array2;
use outflow_explain::{
    ClassWeight, DecisionTreeParams, FitSupervised, Predict, TreeEnsemble, feature_matrix, labels_from_table,
};
use outflow_io::{CsvOptions, Input, read_csv};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference").join(name)
}

fn read_table(name: &str) -> outflow_io::Table {
    read_csv(&Input::path(fixture(name)).unwrap(), &CsvOptions::default()).unwrap()
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(floats).collect(),
        v => vec![v.as_f64().unwrap()],
    }
}

fn max_abs_diff(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    a.into_iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

#[test]
fn shap_values_equal_the_shap_package() {
    let mut worst: f64 = 0.0;
    for case in ["binary", "multiclass", "deep", "sklearn_rf"] {
        let ensemble =
            TreeEnsemble::from_shap_json(&std::fs::read_to_string(fixture(&format!("{case}.forest.json"))).unwrap())
                .unwrap();
        let x = feature_matrix(&read_table(&format!("{case}.x.csv")), &[]).unwrap().x;
        let reference = json(&format!("{case}.shap.json"));
        let ours = ensemble.shap_values(x.view()).unwrap();
        let textbook = ensemble.shap_values_recursive(x.view()).unwrap();
        let want = floats(&reference["shap_values"]);
        assert_eq!(want.len(), ours.values.len(), "{case}");
        let d_values = max_abs_diff(ours.values.iter().copied(), want.iter().copied());
        let d_textbook = max_abs_diff(textbook.values.iter().copied(), want.iter().copied());
        let d_expected = max_abs_diff(ours.expected_value.iter().copied(), floats(&reference["expected_value"]));
        let pred = ensemble.predict(x.view()).unwrap();
        let d_output = max_abs_diff(pred.iter().copied(), floats(&reference["model_output"]));
        println!(
            "{case}: {} rows × {} features × {} classes, max |Δ| SHAP {d_values:.2e} (recursive {d_textbook:.2e}), \
             expected {d_expected:.2e}, output {d_output:.2e}",
            x.nrows(),
            x.ncols(),
            ensemble.n_outputs()
        );
        for d in [d_values, d_textbook, d_expected, d_output] {
            assert!(d < 1e-9, "{case}: {d}");
            worst = worst.max(d);
        }
    }
    println!("worst difference to shap: {worst:.2e}");
}

#[test]
fn deep_case_exercises_long_paths() {
    let e = TreeEnsemble::from_shap_json(&std::fs::read_to_string(fixture("deep.forest.json")).unwrap()).unwrap();
    let t = &e.trees()[0];
    let mut depth = vec![0usize; t.n_nodes()];
    for i in 0..t.n_nodes() {
        if t.children_left[i] >= 0 {
            depth[t.children_left[i] as usize] = depth[i] + 1;
            depth[t.children_right[i] as usize] = depth[i] + 1;
        }
    }
    assert!(depth.iter().max().unwrap() >= &8, "{:?}", depth.iter().max());
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

#[test]
fn cart_grows_scikit_learns_tree() {
    for case in ["cart", "cart_balanced"] {
        let table = read_table(&format!("{case}.train.csv"));
        let x: Array2<f64> = feature_matrix(&table, &["label"]).unwrap().x;
        let y = labels_from_table(&table, "label").unwrap();
        let r = json(&format!("{case}.sklearn.json"));
        let p = &r["params"];
        let params = DecisionTreeParams {
            max_depth: p["max_depth"].as_u64().map(|d| d as usize),
            min_samples_leaf: p["min_samples_leaf"].as_u64().unwrap_or(1) as usize,
            class_weight: if p["class_weight"] == "balanced" { ClassWeight::Balanced } else { ClassWeight::Uniform },
            ..Default::default()
        };
        let t = params.fit(x.view(), &y).unwrap();
        assert_eq!(t.classes(), ints(&r["classes"]).as_slice(), "{case}");
        let left: Vec<i64> = t.children_left().iter().map(|&v| v as i64).collect();
        let right: Vec<i64> = t.children_right().iter().map(|&v| v as i64).collect();
        let feature: Vec<i64> = t.feature().iter().map(|&v| v as i64).collect();
        assert_eq!(left, ints(&r["children_left"]), "{case}: children_left");
        assert_eq!(right, ints(&r["children_right"]), "{case}: children_right");
        assert_eq!(feature, ints(&r["feature"]), "{case}: feature");
        assert_eq!(t.threshold(), floats(&r["threshold"]).as_slice(), "{case}: thresholds differ");
        let n_samples: Vec<i64> = t.n_node_samples().iter().map(|&v| v as i64).collect();
        assert_eq!(n_samples, ints(&r["n_node_samples"]), "{case}: n_node_samples");
        let dw = max_abs_diff(t.weighted_n_node_samples().iter().copied(), floats(&r["weighted_n_node_samples"]));
        let di = max_abs_diff(t.impurity().iter().copied(), floats(&r["impurity"]));
        // scikit-learn ≥ 1.4 stores class fractions in `value` for classifiers.
        let ours: Vec<f64> = (0..t.n_nodes()).flat_map(|i| t.node_proba(i)).collect();
        let dv = max_abs_diff(ours, floats(&r["value"]));
        let dimp = max_abs_diff(t.feature_importances(), floats(&r["feature_importances"]));
        println!(
            "{case}: {} nodes identical; max |Δ| weights {dw:.1e}, impurity {di:.1e}, value {dv:.1e}, importances {dimp:.1e}",
            t.n_nodes()
        );
        for d in [dw, di, dv, dimp] {
            assert!(d < 1e-9, "{case}: {d}");
        }
        assert_eq!(t.predict(x.view()).unwrap(), ints(&r["predict"]), "{case}: predictions");
    }
}
