//! Parity with scikit-learn 1.9.1 on the fixtures of `tools/reference/embed_reference.py`: the
//! trustworthiness of an embedding exactly, and t-SNE maps as trustworthy as scikit-learn's.

use ndarray::Array2;
use outflow_embed::{Fit, Transform, TsneParams, UmapParams, trustworthiness};
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

#[test]
fn umap_curve_equals_umap_learn() {
    let f = load("umap_curve.json");
    for c in f["cases"].as_array().unwrap() {
        let (spread, min_dist) = (c["spread"].as_f64().unwrap(), c["min_dist"].as_f64().unwrap());
        let (a, b) = outflow_embed::umap::find_ab_params(spread, min_dist);
        let (wa, wb) = (c["a"].as_f64().unwrap(), c["b"].as_f64().unwrap());
        assert!((a - wa).abs() < 1e-5 * wa.max(1.0), "spread {spread} min_dist {min_dist}: a {a} vs {wa}");
        assert!((b - wb).abs() < 1e-5 * wb.max(1.0), "spread {spread} min_dist {min_dist}: b {b} vs {wb}");
    }
}

#[test]
fn umap_fuzzy_graph_equals_umap_learn() {
    let f = load("umap_graph.json");
    let x = matrix(&f["x"]);
    for c in f["cases"].as_array().unwrap() {
        let p = &c["params"];
        let mut params = UmapParams::default();
        if let Some(k) = p.get("n_neighbors") {
            params.n_neighbors = k.as_u64().unwrap() as usize;
        }
        if let Some(l) = p.get("local_connectivity") {
            params.local_connectivity = l.as_f64().unwrap();
        }
        if let Some(m) = p.get("set_op_mix_ratio") {
            params.set_op_mix_ratio = m.as_f64().unwrap();
        }
        let g = params.fuzzy_graph(x.view()).unwrap();
        let floats = |k: &str| c[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>();
        for (name, ours, theirs) in [("sigma", &g.sigmas, floats("sigmas")), ("rho", &g.rhos, floats("rhos"))] {
            for (i, (&o, &t)) in ours.iter().zip(&theirs).enumerate() {
                assert!((f64::from(o) - t).abs() <= 1e-5 * t.abs().max(1e-3), "{p}: {name} of row {i}: {o} vs {t}");
            }
        }
        let mut want: Vec<(usize, usize, f64)> = c["rows"]
            .as_array()
            .unwrap()
            .iter()
            .zip(c["cols"].as_array().unwrap())
            .zip(floats("values"))
            .map(|((r, c), v)| (r.as_u64().unwrap() as usize, c.as_u64().unwrap() as usize, v))
            .collect();
        want.sort_by_key(|e| (e.0, e.1));
        assert_eq!(g.edges.len(), want.len(), "{p}: edge count");
        for (&(r, c, v), &(wr, wc, wv)) in g.edges.iter().zip(&want) {
            assert_eq!((r, c), (wr, wc), "{p}: edge order");
            assert!((f64::from(v) - wv).abs() < 1e-5, "{p}: edge ({r}, {c}): {v} vs {wv}");
        }
    }
}

#[test]
fn umap_maps_are_as_trustworthy_as_umap_learn() {
    // The bound: within 0.02 of umap-learn (defaults) on the same data, here against the mean of
    // its seeds 0-2 and for ours each of seeds 0-2; the same for `transform` of held-out rows.
    let shapes = load("tsne_runs.json");
    let runs = load("umap_runs.json");
    for shape in shapes["runs"].as_array().unwrap() {
        let name = shape["name"].as_str().unwrap();
        let x = matrix(&shape["x"]);
        let theirs: Vec<&Value> = runs["runs"].as_array().unwrap().iter().filter(|r| r["name"] == name).collect();
        let mean = |k: &str| theirs.iter().map(|r| r[k].as_f64().unwrap()).sum::<f64>() / theirs.len() as f64;
        let cut = x.nrows() * 4 / 5;
        for seed in 0..3 {
            let params = UmapParams { seed, ..Default::default() };
            let u = params.fit(x.view()).unwrap();
            for k in [5, 10] {
                let ours = trustworthiness(x.view(), u.embedding.view(), k).unwrap();
                let want = mean(&format!("trustworthiness_{k}"));
                println!("{name} seed {seed} k {k}: {ours:.4} (umap-learn mean {want:.4})");
                assert!(ours >= want - 0.02, "{name} seed {seed} k {k}: {ours} vs umap-learn {want}");
            }
            let fitted = params.fit(x.slice(ndarray::s![..cut, ..])).unwrap();
            let rest = x.slice(ndarray::s![cut.., ..]);
            let held = fitted.transform(rest).unwrap();
            let ours = trustworthiness(rest, held.view(), 5).unwrap();
            let want = mean("transform_trustworthiness_5");
            println!("{name} seed {seed} transform: {ours:.4} (umap-learn mean {want:.4})");
            assert!(ours >= want - 0.02, "{name} seed {seed} transform: {ours} vs umap-learn {want}");
        }
    }
}
