//! Parity with scikit-learn 1.9.1 on the fixtures of `tools/reference/embed_reference.py`: the
//! trustworthiness of an embedding exactly, and t-SNE maps as trustworthy as scikit-learn's.

use ndarray::Array2;
use outflow_embed::{Fit, TsneParams, trustworthiness};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows = v.as_array().unwrap();
    let d = rows[0].as_array().unwrap().len();
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j].as_f64().unwrap())
}

#[test]
fn trustworthiness_equals_sklearn() {
    let f = load("trustworthiness.json");
    let x = matrix(&f["x"]);
    for c in f["cases"].as_array().unwrap() {
        let e = matrix(&c["embedding"]);
        let k = c["k"].as_u64().unwrap() as usize;
        let want = c["trustworthiness"].as_f64().unwrap();
        let got = trustworthiness(x.view(), e.view(), k).unwrap();
        assert!((got - want).abs() < 1e-12, "k {k}: {got} vs {want}");
    }
}

#[test]
fn tsne_maps_are_as_trustworthy_as_sklearn() {
    // The bound: within 0.02 of scikit-learn's TSNE (defaults) on the same data.
    let f = load("tsne_runs.json");
    for r in f["runs"].as_array().unwrap() {
        let x = matrix(&r["x"]);
        let t = TsneParams::default().fit(x.view()).unwrap();
        for k in [5, 10] {
            let ours = trustworthiness(x.view(), t.embedding.view(), k).unwrap();
            let theirs = r[format!("trustworthiness_{k}")].as_f64().unwrap();
            println!("{} k {k}: trustworthiness {ours:.4} (scikit-learn {theirs:.4})", r["name"].as_str().unwrap());
            assert!(ours >= theirs - 0.02, "{} k {k}: {ours} vs scikit-learn {theirs}", r["name"]);
        }
        let kl = r["kl_divergence"].as_f64().unwrap();
        println!(
            "{}: KL {:.4} (scikit-learn {kl:.4}), {} iterations",
            r["name"].as_str().unwrap(),
            t.kl_divergence,
            t.n_iter
        );
        assert!(t.kl_divergence <= kl * 1.1 + 0.02, "{}: KL {} vs {kl}", r["name"], t.kl_divergence);
    }
}
