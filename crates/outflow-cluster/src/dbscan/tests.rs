//! Tests of DBSCAN.

use outflow_core::InputError;

use super::*;
use crate::metric::{Euclidean, Kernel};
use crate::traits::{ClusterModel, Predict};
use ndarray::array;
use rand::{RngExt, SeedableRng};

/// Textbook DBSCAN with scikit-learn's traversal (neighbourhoods materialised, DFS from cores in
/// index order), as the oracle.
fn naive(x: ArrayView2<'_, f64>, metric: Metric, eps: f64, m: usize) -> (Vec<i64>, Vec<bool>) {
    let n = x.nrows();
    let row = |i: usize| x.row(i).to_vec();
    let nb: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| match metric {
                    Metric::Euclidean => Euclidean::rdist(&row(i), &row(j)) <= eps * eps,
                    _ => metric.distance(&row(i), &row(j)) <= eps,
                })
                .collect()
        })
        .collect();
    let core: Vec<bool> = nb.iter().map(|v| v.len() >= m).collect();
    let mut labels = vec![-1i64; n];
    let mut label = 0;
    for i in 0..n {
        if labels[i] != -1 || !core[i] {
            continue;
        }
        let mut stack = vec![i];
        while let Some(v) = stack.pop() {
            if labels[v] == -1 {
                labels[v] = label;
                if core[v] {
                    stack.extend(nb[v].iter().copied().filter(|&j| labels[j] == -1));
                }
            }
        }
        label += 1;
    }
    (labels, core)
}

fn grid(n: usize, d: usize, seed: u64, step: f64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| rng.random_range(0..12) as f64 * step)
}

#[test]
fn matches_naive_with_ties_and_duplicates() {
    for (d, seed) in [(2, 1), (3, 2), (5, 3)] {
        let x = grid(300, d, seed, 0.5);
        for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev, Metric::Cosine] {
            for (eps, m) in [(0.5, 2), (1.0, 4), (1.5, 8), (0.7, 1)] {
                let model = DbscanParams::new(eps, m).metric(metric).fit(x.view()).unwrap();
                let (labels, core) = naive(x.view(), metric, eps, m);
                assert_eq!(model.labels(), &labels[..], "d={d} {metric} eps={eps} m={m}");
                assert_eq!(model.is_core(), &core[..]);
            }
        }
    }
}

#[test]
fn border_point_takes_first_cluster() {
    // Row 4 is a border point of both clusters and nearer to the second one's core (row 5); the
    // first cluster grown (from row 0) reaches it first, so it is labelled 0, as in scikit-learn.
    let a = [[-0.95, 0.0], [-1.05, 0.1], [-1.05, -0.1], [-1.15, 0.0]];
    let c = [[0.95, 0.0], [1.05, 0.1], [1.05, -0.1], [1.15, 0.0]];
    let b = [0.05, 0.0];
    let rows: Vec<[f64; 2]> = a.iter().copied().chain([b]).chain(c.iter().copied()).collect();
    let x = Array2::from_shape_fn((9, 2), |(i, j)| rows[i][j]);
    let model = DbscanParams::new(1.0, 4).fit(x.view()).unwrap();
    assert_eq!(model.labels(), &[0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert!(!model.is_core()[4]);
    assert_eq!(model.labels(), &naive(x.view(), Metric::Euclidean, 1.0, 4).0[..]);
    // Cluster order follows the smallest row index.
    let rows: Vec<[f64; 2]> = c.iter().copied().chain([b]).chain(a.iter().copied()).collect();
    let x2 = Array2::from_shape_fn((9, 2), |(i, j)| rows[i][j]);
    let model = DbscanParams::new(1.0, 4).fit(x2.view()).unwrap();
    assert_eq!(model.labels(), &[0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(model.predict(array![[0.0, 0.0], [9.0, 9.0]].view()).unwrap(), vec![0, -1]);
}

#[test]
fn auto_eps_and_filter() {
    let x = grid(200, 2, 7, 1.0);
    let model = DbscanParams::auto(4).fit(x.view()).unwrap();
    let d = model.knn_distances().unwrap();
    // brute-force 4th neighbour, self included
    for (i, &di) in d.iter().enumerate() {
        let mut all: Vec<f64> =
            (0..x.nrows()).map(|j| Metric::Euclidean.distance(&x.row(i).to_vec(), &x.row(j).to_vec())).collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(di, all[3]);
    }
    assert_eq!(model.eps(), KnnEps::default().eps_from(d));
    let filtered = DbscanParams::new(model.eps(), 4).centroid_filter(90.0).fit(x.view()).unwrap();
    assert_eq!(filtered.labels(), model.labels());
    for i in 0..x.nrows() {
        assert!(!filtered.anomalies()[i] || filtered.labels()[i] < 0);
    }
}

#[test]
fn numpy_quantiles_of_the_eps_rule() {
    let s = [1.0, 2.0, 4.0, 8.0];
    assert_eq!(quantile_sorted(&s, 0.5), 3.0);
    assert_eq!(quantile_sorted(&s, 0.0), 1.0);
    assert_eq!(quantile_sorted(&s, 1.0), 8.0);
    assert!((quantile_sorted(&s, 0.9) - 6.8).abs() < 1e-12);
}

#[test]
fn bad_input() {
    let x = array![[0.0, 1.0], [f64::NAN, 0.0]];
    assert!(matches!(
        DbscanParams::new(1.0, 2).fit(x.view()),
        Err(ClusterError::Input(InputError::NonFinite { row: 1, col: 0, .. }))
    ));
    let x = array![[0.0, 1.0], [1.0, 0.0]];
    assert!(DbscanParams::new(0.0, 2).fit(x.view()).is_err());
    assert!(DbscanParams::new(-1.0, 2).fit(x.view()).is_err());
    assert!(DbscanParams::new(1.0, 0).fit(x.view()).is_err());
    assert!(DbscanParams::auto(2).fit(x.view()).is_err()); // k = 4 > 2 rows
    let same = Array2::from_elem((10, 2), 1.0);
    assert!(DbscanParams::auto(2).fit(same.view()).is_err()); // eps would be 0
    assert!("auto".parse::<Eps>().is_ok() && "x".parse::<Eps>().is_err());
}
