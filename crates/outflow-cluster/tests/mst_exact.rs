//! The Borůvka MST equals Prim's on the same data (total weight; ties may pick different edges), for
//! every tree metric, with duplicates; results do not depend on the thread count.

use ndarray::Array2;
use outflow_cluster::{ClusterModel, Fit, HdbscanParams, Metric, MstAlgorithm, stages};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn blobs(n: usize, d: usize, seed: u64, grid: bool) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f64>> = (0..4).map(|_| (0..d).map(|_| rng.random_range(-10.0..10.0)).collect()).collect();
    Array2::from_shape_fn((n, d), |(i, j)| {
        let v = centers[i % 4][j] + rng.random_range(-1.0..1.0) * (1 + i % 3) as f64;
        if grid { (v * 2.0).round() / 2.0 } else { v }
    })
}

fn total(x: &Array2<f64>, metric: Metric, m: usize, algo: MstAlgorithm) -> (f64, Vec<f64>) {
    let p = HdbscanParams::new(5).min_samples(m).metric(metric).mst_algorithm(algo);
    let (edges, core) = stages::mutual_reachability_mst(x.view(), &p).unwrap();
    assert_eq!(edges.len(), x.nrows() - 1);
    let mut w: Vec<f64> = edges.iter().map(|e| e.distance).collect();
    w.sort_by(f64::total_cmp);
    (w.iter().sum(), core)
}

#[test]
fn boruvka_equals_prim() {
    for (d, grid) in [(2, false), (3, true), (8, false), (5, true)] {
        let x = blobs(400, d, d as u64, grid);
        for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev] {
            for m in [1, 2, 5, 12] {
                let (a, ca) = total(&x, metric, m, MstAlgorithm::Boruvka);
                let (b, cb) = total(&x, metric, m, MstAlgorithm::Prim);
                assert_eq!(ca, cb, "core distances d={d} {metric} m={m}");
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "d={d} {metric} m={m}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn duplicates_and_identical_points() {
    let mut x = blobs(200, 3, 9, true);
    for i in 0..60 {
        let r = x.row(0).to_owned();
        x.row_mut(100 + i).assign(&r);
    }
    let model = HdbscanParams::new(10).min_samples(5).fit(x.view()).unwrap();
    assert!(model.outlier_scores().iter().all(|s| s.is_finite() && (0.0..=1.0).contains(s)));
    assert!(model.probabilities().iter().all(|p| p.is_finite()));
    let same = Array2::from_elem((30, 4), 2.5);
    let model = HdbscanParams::new(5).fit(same.view()).unwrap();
    assert!(model.labels().iter().all(|&l| l == -1));
    let model = HdbscanParams::new(5).allow_single_cluster(true).fit(same.view()).unwrap();
    assert!(model.labels().iter().all(|&l| l == 0));
}

#[test]
fn independent_of_thread_count() {
    let x = blobs(3000, 4, 3, true);
    let fit = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| HdbscanParams::new(15).min_samples(5).fit(x.view()).unwrap())
    };
    let (a, b) = (fit(1), fit(3));
    assert_eq!(a, b);
    assert!(a.n_clusters() >= 2);
}
