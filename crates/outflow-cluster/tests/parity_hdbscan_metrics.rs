//! Parity of HDBSCAN's metrics (Minkowski p, haversine, precomputed distances) and `alpha` with the implementations that define
//! them, on the fixtures written by `tools/reference/hdbscan_metrics_reference.py` into
//! `tests/fixtures/hdbscan_metrics/`.
//!
//! - Core distances against scikit-learn's `NearestNeighbors` with the metric (relative 1e-12).
//! - The MST's weights against scipy's minimum spanning tree of the dense mutual-reachability matrix
//!   `max(core(a), core(b), d(a, b) / alpha)`: every MST of a graph has the same multiset of weights, so
//!   this checks the metric and alpha exactly, whatever the order of tied edges.
//! - Labels against scikit-learn's `HDBSCAN` (its tree algorithms, which apply alpha as hdbscan defines
//!   it) and hdbscan's `generic` algorithm: with `min_samples` 1 (no tied edges) the same partition;
//!   above, where the reference does not move with the row order (`reordered_ari` 1), ARI ≥ 0.97 with
//!   at most 2 % of the points' noise status differing (bridge points, see the test), hdbscan's
//!   probabilities within 1e-6 and GLOSH scores at Spearman ≥ 0.99 (the standard of `parity_hdbscan.rs`). Where it does, Outflow
//!   must agree with it at least as well as it agrees with itself (ARI ≥ its `reordered_ari` − 0.02).

mod common;

use common::{ari, matrix, same_partition, spearman};
use outflow_cluster::{ClusterModel, Fit, HdbscanParams, Metric, MstAlgorithm};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    name: String,
    metric: String,
    min_cluster_size: usize,
    min_samples: usize,
    alpha: f64,
    x: Vec<Vec<f64>>,
    core_distances: Vec<f64>,
    mst_weights: Vec<f64>,
    sklearn: Reference,
    hdbscan: Option<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    labels: Vec<i64>,
    probabilities: Option<Vec<f64>>,
    outlier_scores: Option<Vec<f64>>,
    reordered_ari: f64,
}

fn fixtures() -> Vec<Fixture> {
    common::fixtures("hdbscan_metrics", 11)
}

fn params(f: &Fixture) -> HdbscanParams {
    HdbscanParams::new(f.min_cluster_size)
        .min_samples(f.min_samples)
        .metric(f.metric.parse::<Metric>().unwrap())
        .alpha(f.alpha)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn core_distances_and_mst_weights_match_scipy() {
    for f in fixtures() {
        let x = matrix(&f.x);
        // Both MST algorithms where the metric has a kd-tree.
        let algorithms: &[MstAlgorithm] = if params(&f).metric.has_tree() {
            &[MstAlgorithm::Boruvka, MstAlgorithm::Prim]
        } else {
            &[MstAlgorithm::Auto]
        };
        for &algorithm in algorithms {
            let model = params(&f).mst_algorithm(algorithm).fit(x.view()).unwrap();
            for (i, (&a, &b)) in model.core_distances().iter().zip(&f.core_distances).enumerate() {
                assert!(close(a, b, 1e-12), "{} {algorithm:?}: core distance of row {i}: {a} against {b}", f.name);
            }
            let mut w: Vec<f64> = model.mst().iter().map(|e| e.distance).collect();
            w.sort_by(f64::total_cmp);
            assert_eq!(w.len(), f.mst_weights.len(), "{}", f.name);
            for (i, (&a, &b)) in w.iter().zip(&f.mst_weights).enumerate() {
                assert!(close(a, b, 1e-12), "{} {algorithm:?}: MST weight {i}: {a} against {b}", f.name);
            }
        }
    }
}

#[test]
fn labels_match_sklearn_and_hdbscan() {
    let mut exact = 0;
    for f in fixtures() {
        let model = params(&f).fit(matrix(&f.x).view()).unwrap();
        let refs = [("scikit-learn", Some(&f.sklearn)), ("hdbscan", f.hdbscan.as_ref())];
        for (who, r) in refs.into_iter().filter_map(|(w, r)| r.map(|r| (w, r))) {
            let a = ari(model.labels(), &r.labels);
            if r.reordered_ari < 1.0 {
                eprintln!("{}: ARI {a:.4} against {who} (tie-dependent: {who} to itself {})", f.name, r.reordered_ari);
                assert!(a >= r.reordered_ari - 0.02, "{}: ARI {a} against {who}", f.name);
                continue;
            }
            if f.min_samples == 1 {
                // Plain distances on continuous data: no tied edges, one right answer.
                same_partition(model.labels(), &r.labels).unwrap_or_else(|e| panic!("{} vs {who}: {e}", f.name));
                exact += 1;
                continue;
            }
            // A point whose core distance is also the weight of the edge that splits a cluster (a bridge
            // between two sub-clusters) falls out of the parent at the split: Outflow calls it noise, as
            // the density levels define it; hdbscan's binary tree files it under one child first.
            let noise = model.labels().iter().zip(&r.labels).filter(|(a, b)| (**a < 0) != (**b < 0)).count();
            eprintln!("{}: ARI {a:.4}, {noise} noise points differ against {who}", f.name);
            assert!(a >= 0.97 && noise * 50 <= r.labels.len(), "{}: ARI {a}, {noise} noise points differ", f.name);
            if let (Some(p), Some(s)) = (&r.probabilities, &r.outlier_scores) {
                // Tied edges reshape hdbscan's binary tree below the same labels: the standard of
                // parity_hdbscan.rs (probabilities where both label the point a member).
                let dp = (0..p.len())
                    .filter(|&i| model.labels()[i] >= 0 && r.labels[i] >= 0)
                    .map(|i| (model.probabilities()[i] - p[i]).abs())
                    .fold(0.0, f64::max);
                let rho = spearman(model.outlier_scores(), s);
                eprintln!("{}: probabilities within {dp:.1e}, GLOSH Spearman {rho:.4} against {who}", f.name);
                assert!(dp < 1e-6, "{}: probabilities differ by {dp}", f.name);
                assert!(rho >= 0.99, "{}: GLOSH Spearman {rho}", f.name);
            }
        }
    }
    assert!(exact >= 3, "only {exact} exact comparisons");
}

#[test]
fn alpha_changes_the_tree_and_prediction_follows_it() {
    let f = fixtures().into_iter().find(|f| f.name == "alpha_half_2d").unwrap();
    let x = matrix(&f.x);
    let half = params(&f).fit(x.view()).unwrap();
    let one = params(&f).alpha(1.0).fit(x.view()).unwrap();
    assert!(same_partition(half.labels(), one.labels()).is_err(), "alpha 0.5 should change the selection");
    // A training row predicted with alpha applied to its distances lands in its own cluster.
    let predicted = outflow_cluster::Predict::predict(&half, x.view()).unwrap();
    let agree = predicted.iter().zip(half.labels()).filter(|(a, b)| a == b).count();
    assert!(agree as f64 >= 0.97 * x.nrows() as f64, "{agree} of {} rows predicted as fitted", x.nrows());
}

#[test]
fn precomputed_distances_predict_from_a_row_of_distances() {
    let f = fixtures().into_iter().find(|f| f.name == "precomputed_ms4").unwrap();
    let d = matrix(&f.x);
    let model = params(&f).fit(d.view()).unwrap();
    // A training row's distances to the training rows place it in its own cluster (or noise).
    let predicted = outflow_cluster::Predict::predict(&model, d.view()).unwrap();
    let agree = predicted.iter().zip(model.labels()).filter(|(a, b)| a == b).count();
    assert!(agree as f64 >= 0.95 * d.nrows() as f64, "{agree} of {} rows predicted as fitted", d.nrows());
    // The same distances fitted as vectors would be another problem: the metric is not a vector metric.
    let err = outflow_cluster::DbscanParams::new(0.5, 4).metric(Metric::Precomputed).fit(d.view()).unwrap_err();
    assert!(err.to_string().contains("HDBSCAN only"), "{err}");
    let mut neg = d.row(0).to_vec();
    neg[3] = -1.0;
    let err = model.predict_one(&neg).unwrap_err().to_string();
    assert!(err.contains("negative") && err.contains("row 3"), "{err}");
}

#[test]
fn bad_distance_matrices_are_refused() {
    let p = HdbscanParams::new(2).metric(Metric::Precomputed);
    let not_square = matrix(&[vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 1.0]]);
    let err = p.fit(not_square.view()).unwrap_err().to_string();
    assert!(err.contains("square") && err.contains("2 rows × 3 columns"), "{err}");
    let asymmetric = matrix(&[vec![0.0, 1.0, 2.0], vec![1.0, 0.0, 1.0], vec![2.5, 1.0, 0.0]]);
    let err = p.fit(asymmetric.view()).unwrap_err().to_string();
    assert!(err.contains("not symmetric") && err.contains("row 0, column 2"), "{err}");
    let negative = matrix(&[vec![0.0, -1.0, 2.0], vec![-1.0, 0.0, 1.0], vec![2.0, 1.0, 0.0]]);
    let err = p.fit(negative.view()).unwrap_err().to_string();
    assert!(err.contains("negative") && err.contains("row 0, column 1"), "{err}");
}

#[test]
fn bad_metric_options_are_refused() {
    let x = matrix(&[vec![0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]]);
    let err = HdbscanParams::new(2).metric(Metric::Haversine).fit(x.view()).unwrap_err().to_string();
    assert!(err.contains("haversine") && err.contains("got 3"), "{err}");
    let err = HdbscanParams::new(2).metric(Metric::Minkowski { p: 0.5 }).validate().unwrap_err().to_string();
    assert!(err.contains("p must be ≥ 1"), "{err}");
    for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = HdbscanParams::new(2).alpha(alpha).validate().unwrap_err().to_string();
        assert!(err.contains("alpha"), "{err}");
    }
    let err = HdbscanParams::new(2)
        .metric(Metric::Haversine)
        .mst_algorithm(MstAlgorithm::Boruvka)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.contains("prim"), "{err}");
}
