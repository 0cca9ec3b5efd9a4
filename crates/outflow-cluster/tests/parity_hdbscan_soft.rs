//! Parity of soft clustering (`all_points_membership_vectors`, `membership_vectors`) with hdbscan 0.8.44,
//! which defines it, on the fixtures written by `tools/reference/hdbscan_soft_reference.py` into
//! `tests/fixtures/hdbscan_soft/`.
//!
//! Where hdbscan's labels and exemplars do not move with the row order, the labels must be the same
//! partition and the exemplars the same rows; where the condensed trees also have the same cluster rows
//! (λ and size), every membership probability — of the training rows and of new points (hdbscan given the
//! fit's core distances, as Outflow predicts) — must be equal within 1e-9, the columns matched through the
//! labels. Where tied edges file a bridge point differently (see `parity_hdbscan_metrics.rs`), the trees
//! differ by that point and the probabilities within 0.01. Everywhere: probabilities in [0, 1], each row
//! summing to at most 1.

mod common;

use common::{ari, matrix, same_partition};
use ndarray::Array2;
use outflow_cluster::{ClusterModel, Fit, HdbscanParams};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    name: String,
    min_cluster_size: usize,
    min_samples: usize,
    x: Vec<Vec<f64>>,
    labels: Vec<i64>,
    exemplars: Vec<Vec<usize>>,
    reordered_ari: f64,
    exemplars_stable: bool,
    /// (λ, size) of hdbscan's condensed-tree cluster rows, sorted.
    cluster_rows: Vec<(f64, usize)>,
    all_points: Vec<Vec<f64>>,
    points: Vec<Vec<f64>>,
    membership_vector: Vec<Vec<f64>>,
}

fn check_probabilities(name: &str, m: &Array2<f64>) {
    for (i, row) in m.rows().into_iter().enumerate() {
        assert!(row.iter().all(|&p| (0.0..=1.0 + 1e-12).contains(&p)), "{name}: row {i}: {row}");
        assert!(row.sum() <= 1.0 + 1e-12, "{name}: row {i} sums to {}", row.sum());
    }
}

/// Largest difference between ours and hdbscan's, our column `j` read from hdbscan's column `map[j]`.
fn max_diff(ours: &Array2<f64>, theirs: &[Vec<f64>], map: &[usize]) -> f64 {
    assert_eq!(ours.nrows(), theirs.len());
    let mut worst = 0.0f64;
    for (i, row) in theirs.iter().enumerate() {
        assert_eq!(row.len(), map.len());
        for (j, &t) in map.iter().enumerate() {
            worst = worst.max((ours[[i, j]] - row[t]).abs());
        }
    }
    worst
}

#[test]
fn membership_vectors_match_hdbscan() {
    let mut exact = 0;
    for f in common::fixtures::<Fixture>("hdbscan_soft", 3) {
        let x = matrix(&f.x);
        let model = HdbscanParams::new(f.min_cluster_size).min_samples(f.min_samples).fit(x.view()).unwrap();
        let all = model.all_points_membership_vectors();
        let new = model.membership_vectors(matrix(&f.points).view()).unwrap();
        assert_eq!(all.dim(), (x.nrows(), model.n_clusters()), "{}", f.name);
        assert_eq!(new.dim(), (f.points.len(), model.n_clusters()), "{}", f.name);
        check_probabilities(&f.name, &all);
        check_probabilities(&f.name, &new);
        if f.reordered_ari < 1.0 || !f.exemplars_stable {
            eprintln!(
                "{}: hdbscan moves with the row order (ARI {}); labels ARI {:.4}",
                f.name,
                f.reordered_ari,
                ari(model.labels(), &f.labels)
            );
            continue;
        }
        same_partition(model.labels(), &f.labels).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        // Our label k is hdbscan's map[k].
        let mut map = vec![usize::MAX; model.n_clusters()];
        for (&a, &b) in model.labels().iter().zip(&f.labels) {
            if a >= 0 {
                map[a as usize] = b as usize;
            }
        }
        let mut ours: Vec<Vec<usize>> = model
            .exemplars()
            .into_iter()
            .map(|mut e| {
                e.sort_unstable();
                e
            })
            .collect();
        let mut theirs: Vec<Vec<usize>> = map.iter().map(|&t| f.exemplars[t].clone()).collect();
        ours.iter_mut().chain(theirs.iter_mut()).for_each(|e| e.sort_unstable());
        assert_eq!(ours, theirs, "{}: exemplars", f.name);
        let d_all = max_diff(&all, &f.all_points, &map);
        let d_new = max_diff(&new, &f.membership_vector, &map);
        let same_tree = common::same_cluster_rows(model.condensed_tree(), &f.cluster_rows);
        eprintln!("{}: all points within {d_all:.1e}, new points within {d_new:.1e} (same tree: {same_tree})", f.name);
        let tolerance = if same_tree { 1e-9 } else { 0.01 };
        assert!(d_all < tolerance && d_new < tolerance, "{}: all points {d_all}, new points {d_new}", f.name);
        exact += usize::from(same_tree);
    }
    assert!(exact >= 2, "only {exact} fixtures compared exactly");
}

#[test]
fn no_cluster_gives_an_empty_second_axis() {
    let x = matrix(&(0..10).map(|i| vec![i as f64, (i * i) as f64]).collect::<Vec<_>>());
    let model = HdbscanParams::new(6).fit(x.view()).unwrap();
    if model.n_clusters() == 0 {
        assert_eq!(model.all_points_membership_vectors().dim(), (10, 0));
        assert_eq!(model.membership_vectors(x.view()).unwrap().dim(), (10, 0));
    }
    let err = model.membership_vectors(matrix(&[vec![1.0, 2.0, 3.0]]).view()).unwrap_err();
    assert!(err.to_string().contains("features"), "{err}");
}
