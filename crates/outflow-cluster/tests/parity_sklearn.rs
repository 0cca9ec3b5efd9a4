//! Parity with scikit-learn / SciPy on the fixtures written by
//! `tools/reference/cluster_sklearn_reference.py` (see its docstring for what each file holds):
//! - DBSCAN: labels and core points identical (given eps, and eps from the kNN heuristic);
//! - k-means from the same initial centres (scikit-learn's Lloyd): labels identical, inertia within 1e-6
//!   relative, iteration counts equal, for both of Outflow's algorithms;
//! - Ward: the full linkage matrix equal to SciPy's (ids and sizes exactly, distances within 1e-9
//!   relative), scikit-learn's `distances_` likewise, and the cut labels equal up to a permutation.

use std::collections::HashMap;
use std::path::PathBuf;

use ndarray::Array2;
use outflow_cluster::{
    ClusterModel, DbscanParams, Eps, Fit, KMeansAlgorithm, KMeansParams, KnnEps, Metric, WardParams,
};
use serde_json::Value;

fn fixtures(prefix: &str) -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sklearn");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no {prefix} fixtures in {}", dir.display());
    files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows = v.as_array().unwrap();
    let d = rows[0].as_array().unwrap().len();
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j].as_f64().unwrap())
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

#[test]
fn dbscan_labels_identical() {
    let mut runs = 0;
    let mut shared = 0;
    for case in fixtures("dbscan_") {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["data"]);
        for run in case["runs"].as_array().unwrap() {
            let eps = run["eps"].as_f64().unwrap();
            let m = run["min_samples"].as_u64().unwrap() as usize;
            let metric: Metric = run["metric"].as_str().unwrap().parse().unwrap();
            let labels = ints(&run["labels"]);
            let core: Vec<usize> = ints(&run["core_sample_indices"]).into_iter().map(|v| v as usize).collect();
            let what = format!("{name} eps={eps} min_samples={m} {metric}");
            let model = DbscanParams::new(eps, m).metric(metric).fit(x.view()).unwrap();
            assert_eq!(model.labels(), &labels[..], "{what}");
            assert_eq!(model.core_sample_indices(), core, "{what}");
            if run["auto"].as_bool().unwrap() {
                let auto = DbscanParams::new(1.0, m).eps(Eps::Auto(KnnEps::default())).fit(x.view()).unwrap();
                assert!(close(auto.eps(), eps, 1e-12), "{what}: auto eps {} vs {eps}", auto.eps());
                assert_eq!(auto.labels(), &labels[..], "{what} (auto eps)");
            }
            shared += run["shared_border"].as_u64().unwrap();
            runs += 1;
        }
    }
    assert!(runs >= 30 && shared >= 20, "{runs} runs, {shared} shared border points");
}

#[test]
fn kmeans_from_the_same_centres() {
    for case in fixtures("kmeans_") {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["data"]);
        for (r, run) in case["runs"].as_array().unwrap().iter().enumerate() {
            let init = matrix(&run["init"]);
            let labels = ints(&run["labels"]);
            let inertia = run["inertia"].as_f64().unwrap();
            let centres = matrix(&run["centres"]);
            for algo in [KMeansAlgorithm::Lloyd, KMeansAlgorithm::Hamerly] {
                let what = format!("{name} run {r} {algo:?}");
                let model = KMeansParams::new(init.nrows())
                    .init_centres(init.clone())
                    .max_iter(run["max_iter"].as_u64().unwrap() as usize)
                    .tol(run["tol"].as_f64().unwrap())
                    .algorithm(algo)
                    .fit(x.view())
                    .unwrap();
                assert_eq!(model.labels(), &labels[..], "{what}");
                assert!(close(model.inertia(), inertia, 1e-6), "{what}: inertia {} vs {inertia}", model.inertia());
                assert_eq!(model.n_iter() as u64, run["n_iter"].as_u64().unwrap(), "{what}");
                for (a, b) in model.centres().iter().zip(centres.iter()) {
                    assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{what}: centre {a} vs {b}");
                }
            }
        }
    }
}

/// Whether two labelings are the same partition (adjusted Rand index 1).
fn same_partition(a: &[i64], b: &[i64]) -> bool {
    let (mut ab, mut ba) = (HashMap::new(), HashMap::new());
    a.iter().zip(b).all(|(x, y)| *ab.entry(*x).or_insert(*y) == *y && *ba.entry(*y).or_insert(*x) == *x)
}

#[test]
fn ward_linkage_and_labels() {
    for case in fixtures("ward_") {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["data"]);
        let z = matrix(&case["linkage"]);
        let model = WardParams::new(1).fit(x.view()).unwrap();
        let ours = model.linkage_matrix();
        assert_eq!(ours.dim(), z.dim(), "{name}");
        for i in 0..z.nrows() {
            assert_eq!(ours[[i, 0]], z[[i, 0]], "{name} merge {i}");
            assert_eq!(ours[[i, 1]], z[[i, 1]], "{name} merge {i}");
            assert_eq!(ours[[i, 3]], z[[i, 3]], "{name} merge {i}");
            assert!(close(ours[[i, 2]], z[[i, 2]], 1e-9), "{name} merge {i}: {} vs {}", ours[[i, 2]], z[[i, 2]]);
        }
        for run in case["runs"].as_array().unwrap() {
            let k = run["k"].as_u64().unwrap() as usize;
            let labels = ints(&run["labels"]);
            let model = WardParams::new(k).fit(x.view()).unwrap();
            assert_eq!(model.n_clusters(), k, "{name} k={k}");
            assert!(same_partition(model.labels(), &labels), "{name} k={k}");
            let dist: Vec<f64> = run["distances"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            for (s, d) in model.linkage().iter().zip(&dist) {
                assert!(close(s.distance, *d, 1e-9), "{name} k={k}: {} vs {d}", s.distance);
            }
        }
    }
}
