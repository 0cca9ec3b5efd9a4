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

/// `f` run on a pool of `threads` threads.
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
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
    let fit = |threads| on_threads(threads, || HdbscanParams::new(15).min_samples(5).fit(x.view()).unwrap());
    let (a, b) = (fit(1), fit(3));
    assert_eq!(a, b);
    assert!(a.n_clusters() >= 2);
}

/// Naive O(n²) reference on all rows (duplicates included): core distances and MST weight.
fn naive(x: &Array2<f64>, metric: Metric, m: usize) -> (Vec<f64>, f64) {
    let n = x.nrows();
    let d = |i: usize, j: usize| metric.distance(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap());
    let core: Vec<f64> = (0..n)
        .map(|i| {
            let mut v: Vec<f64> = (0..n).map(|j| if i == j { 0.0 } else { d(i, j) }).collect();
            v.sort_by(f64::total_cmp);
            v[m - 1]
        })
        .collect();
    let mut in_tree = vec![false; n];
    let mut best = vec![f64::INFINITY; n];
    let mut cur = 0;
    in_tree[0] = true;
    let mut total = 0.0;
    for _ in 1..n {
        for v in 0..n {
            if !in_tree[v] {
                best[v] = best[v].min(core[cur].max(core[v]).max(d(cur, v)));
            }
        }
        let next = (0..n).filter(|&v| !in_tree[v]).min_by(|&a, &b| best[a].total_cmp(&best[b])).unwrap();
        total += best[next];
        in_tree[next] = true;
        cur = next;
    }
    (core, total)
}

#[test]
fn heavy_duplicates_match_naive_reference() {
    let base = blobs(60, 3, 11, true);
    // Every row repeated 1..=7 times, interleaved.
    let mut rows = Vec::new();
    for r in 0..base.nrows() {
        for _ in 0..=(r % 7) {
            rows.extend(base.row(r).iter().copied());
        }
    }
    let n = rows.len() / 3;
    let mut x = Array2::from_shape_vec((n, 3), rows).unwrap();
    // shuffle rows deterministically
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        for c in 0..3 {
            x.swap([i, c], [j, c]);
        }
    }
    for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Cosine] {
        for m in [1, 3, 8] {
            let (core_ref, total_ref) = naive(&x, metric, m);
            for algo in [MstAlgorithm::Auto, MstAlgorithm::Prim] {
                let p = HdbscanParams::new(5).min_samples(m).metric(metric).mst_algorithm(algo);
                let (edges, core) = stages::mutual_reachability_mst(x.view(), &p).unwrap();
                assert_eq!(edges.len(), n - 1);
                for (a, b) in core.iter().zip(&core_ref) {
                    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{metric} m={m}: core {a} vs {b}");
                }
                let total: f64 = edges.iter().map(|e| e.distance).sum();
                assert!(
                    (total - total_ref).abs() <= 1e-9 * total_ref.max(1.0),
                    "{metric} m={m} {algo:?}: {total} vs {total_ref}"
                );
                let core2 = stages::core_distances(x.view(), metric, m).unwrap();
                assert_eq!(core2, core, "{metric} m={m}");
            }
        }
    }
}

/// `k` separated clusters (round, elongated and grid-snapped ones), so the last Borůvka rounds join a
/// few large components — the rounds that search only points whose projection bound can still win.
fn separated(k: usize, per: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f64>> = (0..k).map(|_| (0..d).map(|_| rng.random_range(-40.0..40.0)).collect()).collect();
    Array2::from_shape_fn((k * per, d), |(i, j)| {
        let c = i % k;
        let spread = if c % 3 == 1 && j == 0 { 8.0 } else { 1.0 };
        let v = centers[c][j] + rng.random_range(-1.0..1.0) * spread;
        if c % 3 == 2 { v.round() } else { v }
    })
}

#[test]
fn few_large_components_equal_prim() {
    for (d, seed) in [(2, 1), (8, 2), (20, 3)] {
        let x = separated(12, 120, d, seed);
        for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev] {
            for m in [1, 5] {
                let (a, ca) = total(&x, metric, m, MstAlgorithm::Boruvka);
                let (b, cb) = total(&x, metric, m, MstAlgorithm::Prim);
                assert_eq!(ca, cb, "core distances d={d} {metric} m={m}");
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "d={d} {metric} m={m}: {a} vs {b}");
            }
        }
    }
    // Ties between clusters on an integer grid: the same tree for any thread count.
    let x = separated(9, 200, 3, 4).mapv(f64::round);
    let fit = |threads| {
        on_threads(threads, || {
            stages::mutual_reachability_mst(x.view(), &HdbscanParams::new(10).min_samples(4)).unwrap()
        })
    };
    assert_eq!(fit(1), fit(2));
}

/// Gaussian-like clusters of mixed widths and 3 % uniform background noise: the noise joins the clusters
/// and the last rounds leave a few large, scattered components (the bounds that ignore points too far
/// by their core distance, and the final round searched from the smaller component only).
fn clusters_and_noise(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centers: Vec<Vec<f64>> = (0..6).map(|_| (0..d).map(|_| rng.random_range(-15.0..15.0)).collect()).collect();
    Array2::from_shape_fn((n, d), |(i, j)| {
        if i % 33 == 0 {
            rng.random_range(-30.0..30.0)
        } else {
            let c = i % 6;
            let sd = 0.5 + 0.3 * c as f64;
            centers[c][j] + (rng.random_range(-1.0..1.0) + rng.random_range(-1.0..1.0)) * sd
        }
    })
}

#[test]
fn clusters_with_background_noise_equal_prim() {
    for (d, seed) in [(2, 1), (8, 2), (20, 3)] {
        let x = clusters_and_noise(1500, d, seed);
        for metric in [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev] {
            for m in [1, 5, 10] {
                let (a, ca) = total(&x, metric, m, MstAlgorithm::Boruvka);
                let (b, cb) = total(&x, metric, m, MstAlgorithm::Prim);
                assert_eq!(ca, cb, "core distances d={d} {metric} m={m}");
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "d={d} {metric} m={m}: {a} vs {b}");
            }
        }
    }
    let x = clusters_and_noise(4000, 8, 4);
    let fit = |threads| {
        on_threads(threads, || {
            stages::mutual_reachability_mst(x.view(), &HdbscanParams::new(20).min_samples(10)).unwrap()
        })
    };
    assert_eq!(fit(1), fit(3));
}
