//! HDBSCAN and DBSCAN on an approximate neighbour graph (`Neighbors::Approximate`): the partition of the
//! exact fit, deterministic for a seed whatever the thread count, its recall reported, components the
//! graph leaves apart joined, bad settings refused.

use ndarray::Array2;
use outflow_cluster::{ClusterModel, DbscanParams, Eps, Fit, HdbscanParams, Metric, Neighbors};

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Blobs of mixed widths in `d` dimensions with 1 % uniform background noise in [−30, 30] (seeded).
fn noisy_blobs(n: usize, d: usize, centres: usize, seed: u64) -> Array2<f64> {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let centre: Vec<Vec<f64>> = (0..centres).map(|_| (0..d).map(|_| r.gauss() * 10.0).collect()).collect();
    let width: Vec<f64> = (0..centres).map(|c| 0.5 + 1.5 * (c as f64 / centres as f64)).collect();
    let noise = n / 100;
    Array2::from_shape_fn((n, d), |(i, j)| {
        if i < noise { r.unit() * 60.0 - 30.0 } else { centre[i % centres][j] + r.gauss() * width[i % centres] }
    })
}

/// Fits on the default pool, then on one and three threads: the same model file each time.
fn same_on_any_thread_count<M: serde::Serialize + Send>(fit: impl Fn() -> M + Send + Sync) -> M {
    let on = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(&fit);
    let two = fit();
    let json = |m: &M| serde_json::to_string(m).unwrap();
    assert_eq!(json(&two), json(&on(1)));
    assert_eq!(json(&two), json(&on(3)));
    two
}

/// Adjusted Rand index of two labelings (noise, −1, a label like any other).
fn ari(a: &[i64], b: &[i64]) -> f64 {
    use std::collections::HashMap;
    let mut cells: HashMap<(i64, i64), f64> = HashMap::new();
    let (mut ra, mut rb): (HashMap<i64, f64>, HashMap<i64, f64>) = (HashMap::new(), HashMap::new());
    for (&x, &y) in a.iter().zip(b) {
        *cells.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    let pairs = |v: f64| v * (v - 1.0) / 2.0;
    let index: f64 = cells.values().map(|&v| pairs(v)).sum();
    let (sa, sb): (f64, f64) = (ra.values().map(|&v| pairs(v)).sum(), rb.values().map(|&v| pairs(v)).sum());
    let expected = sa * sb / pairs(a.len() as f64);
    let max = (sa + sb) / 2.0;
    if max == expected { 1.0 } else { (index - expected) / (max - expected) }
}

#[test]
fn approximate_fit_matches_the_exact_partition_and_reports_its_recall() {
    let x = noisy_blobs(4000, 40, 8, 3);
    let params = HdbscanParams::new(40).min_samples(10);
    let exact = params.fit(x.view()).unwrap();
    assert_eq!(exact.neighbor_recall(), None);
    let approx = params.clone().neighbors(Neighbors::Approximate).seed(7).fit(x.view()).unwrap();
    let recall = approx.neighbor_recall().expect("measured");
    assert!(recall > 0.9 && recall <= 1.0, "recall {recall}");
    let score = ari(exact.labels(), approx.labels());
    assert!(score >= 0.98, "ARI {score}");
    assert_eq!(approx.mst().len(), x.nrows() - 1);
    // Auto stays exact below 20,000 rows.
    let auto = params.clone().neighbors(Neighbors::Auto).fit(x.view()).unwrap();
    assert_eq!((auto.neighbor_recall(), auto.labels()), (None, exact.labels()));
}

#[test]
fn weighted_fits_take_the_approximate_graph_too() {
    let x = noisy_blobs(2500, 36, 5, 17);
    let w: Vec<f64> = (0..x.nrows()).map(|i| 1.0 + (i % 3) as f64).collect();
    let params = HdbscanParams::new(60).min_samples(12);
    let exact = params.fit_weighted(x.view(), &w).unwrap();
    let approx = params.clone().neighbors(Neighbors::Approximate).fit_weighted(x.view(), &w).unwrap();
    assert!(approx.neighbor_recall().is_some());
    let score = ari(exact.labels(), approx.labels());
    assert!(score >= 0.98, "ARI {score}");
}

#[test]
fn approximate_fits_are_deterministic_for_a_seed_and_any_thread_count() {
    let x = noisy_blobs(3000, 33, 6, 11);
    let params = HdbscanParams::new(30).min_samples(8).neighbors(Neighbors::Approximate).seed(3);
    let two = same_on_any_thread_count(|| params.fit(x.view()).unwrap());
    // The model file keeps the settings and the recall.
    let back: outflow_cluster::Hdbscan = serde_json::from_str(&serde_json::to_string(&two).unwrap()).unwrap();
    assert_eq!(back.neighbor_recall(), two.neighbor_recall());
    assert_eq!(back.labels(), two.labels());
}

#[test]
fn components_the_graph_leaves_apart_are_joined_as_the_exact_tree_joins_them() {
    // Twelve tight groups of 25 rows, far apart: a graph of 5 neighbours never crosses between them.
    let x = Array2::from_shape_fn((300, 3), |(i, j)| {
        let g = (i / 25) as f64;
        let jitter = ((i * 7 + j * 13) % 11) as f64 / 100.0;
        g * 50.0 * (j as f64 + 1.0) + jitter
    });
    let params = HdbscanParams::new(5).min_samples(3);
    let exact = params.fit(x.view()).unwrap();
    let approx = params.clone().neighbors(Neighbors::Approximate).fit(x.view()).unwrap();
    let mut graph = params.clone();
    graph.graph_neighbors = 5;
    let sparse = graph.neighbors(Neighbors::Approximate).fit(x.view()).unwrap();
    for m in [&approx, &sparse] {
        assert_eq!(m.mst().len(), 299);
        assert_eq!(m.labels(), exact.labels());
        // The joins are the exact tree's: the same largest edge weights.
        let top = |m: &outflow_cluster::Hdbscan| m.mst().iter().rev().take(11).map(|e| e.distance).collect::<Vec<_>>();
        let (a, b) = (top(m), top(&exact));
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-9 * y), "{a:?} against {b:?}");
    }
}

#[test]
fn other_metrics_duplicates_and_bad_settings() {
    let mut x = noisy_blobs(1500, 12, 4, 5);
    for i in 100..160 {
        let r = x.row(100).to_owned();
        x.row_mut(i).assign(&r);
    }
    for metric in [Metric::Manhattan, Metric::Cosine] {
        let p = HdbscanParams::new(20).min_samples(5).metric(metric);
        let exact = p.fit(x.view()).unwrap();
        let approx = p.clone().neighbors(Neighbors::Approximate).fit(x.view()).unwrap();
        let score = ari(exact.labels(), approx.labels());
        assert!(score >= 0.95, "{metric}: ARI {score}");
    }
    let refused = |p: HdbscanParams, x: &Array2<f64>, what: &str| {
        let e = p.fit(x.view()).unwrap_err().to_string();
        assert!(e.contains(what), "{e}");
    };
    let mut few = HdbscanParams::new(20).min_samples(10).neighbors(Neighbors::Approximate);
    few.graph_neighbors = 4;
    refused(few, &x, "graph_neighbors");
    let d = Array2::from_shape_fn((4, 4), |(i, j)| (i as f64 - j as f64).abs());
    refused(HdbscanParams::new(2).metric(Metric::Precomputed).neighbors(Neighbors::Approximate), &d, "neighbors");
    assert!("nearest".parse::<Neighbors>().is_err());
    assert_eq!("approximate".parse::<Neighbors>().unwrap(), Neighbors::Approximate);
}

#[test]
fn approximate_dbscan_matches_the_exact_partition_and_reports_its_recall() {
    let x = noisy_blobs(4000, 40, 8, 3);
    for params in [DbscanParams::auto(10), DbscanParams::new(9.0, 10)] {
        let exact = params.fit(x.view()).unwrap();
        assert_eq!(exact.neighbor_recall(), None);
        let approx = params.clone().neighbors(Neighbors::Approximate).seed(7).fit(x.view()).unwrap();
        let recall = approx.neighbor_recall().expect("measured");
        assert!(recall > 0.9 && recall <= 1.0, "recall {recall}");
        if let Eps::Auto(_) = params.eps {
            // The radius from the graph's k-th distances, close to the exact one.
            assert!((approx.eps() - exact.eps()).abs() <= 0.02 * exact.eps(), "{} vs {}", approx.eps(), exact.eps());
        }
        assert!(exact.n_clusters() >= 2, "{} clusters", exact.n_clusters());
        let score = ari(exact.labels(), approx.labels());
        assert!(score >= 0.98, "{:?}: ARI {score}", params.eps);
        let cores = exact.is_core().iter().zip(approx.is_core()).filter(|(a, b)| a == b).count();
        assert!(cores as f64 >= 0.98 * x.nrows() as f64, "{cores} core flags agree");
        // Prediction reads the core points, as after an exact fit.
        let labels = approx.predict_nearest_core_batch(x.view()).unwrap();
        let agree = labels.iter().zip(approx.labels()).filter(|(a, b)| a == b).count();
        assert!(agree as f64 >= 0.95 * x.nrows() as f64, "{agree} rows");
    }
    let auto = DbscanParams::auto(10).neighbors(Neighbors::Auto).fit(x.view()).unwrap();
    assert_eq!(auto.neighbor_recall(), None, "auto stays exact below 20,000 rows");
}

#[test]
fn approximate_dbscan_is_deterministic_for_a_seed_and_any_thread_count() {
    let mut x = noisy_blobs(3000, 33, 6, 11);
    for i in 200..260 {
        let r = x.row(200).to_owned();
        x.row_mut(i).assign(&r);
    }
    let params = DbscanParams::auto(8).neighbors(Neighbors::Approximate).seed(3);
    let two = same_on_any_thread_count(|| params.fit(x.view()).unwrap());
    let back: outflow_cluster::Dbscan = serde_json::from_str(&serde_json::to_string(&two).unwrap()).unwrap();
    assert_eq!(back, two);
    assert!(back.neighbor_recall().is_some());
    // Copies of one row share its label.
    assert!((200..260).all(|i| two.labels()[i] == two.labels()[200]));
}

#[test]
fn dbscan_joins_what_the_graph_leaves_apart_within_eps() {
    // Two tight groups 0.5 apart: every row's 15 nearest lie in its own group, yet ε = 0.6 joins them
    // (every row within ε of the other group), so the exact fit finds one cluster.
    let mut r = Rng(99);
    let x = Array2::from_shape_fn((400, 4), |(i, j)| r.gauss() * 0.01 + if i >= 200 && j == 0 { 0.5 } else { 0.0 });
    let params = DbscanParams::new(0.6, 5);
    let exact = params.fit(x.view()).unwrap();
    assert_eq!(exact.n_clusters(), 1);
    let approx = params.clone().neighbors(Neighbors::Approximate).fit(x.view()).unwrap();
    assert_eq!(approx.labels(), exact.labels());
    // Far apart: two clusters in both.
    let far = x.mapv(|v| v * 10.0);
    let (e, a) =
        (params.fit(far.view()).unwrap(), params.clone().neighbors(Neighbors::Approximate).fit(far.view()).unwrap());
    assert_eq!(e.n_clusters(), 2);
    assert_eq!(a.labels(), e.labels());
}

#[test]
fn approximate_dbscan_refuses_bad_settings() {
    let x = noisy_blobs(500, 12, 4, 5);
    let mut few = DbscanParams::new(5.0, 10).neighbors(Neighbors::Approximate);
    few.graph_neighbors = 4;
    let e = few.fit(x.view()).unwrap_err().to_string();
    assert!(e.contains("graph_neighbors"), "{e}");
    let mut huge = x.clone();
    huge[[3, 2]] = 1e30;
    let e = DbscanParams::new(5.0, 10).neighbors(Neighbors::Approximate).fit(huge.view()).unwrap_err().to_string();
    assert!(e.contains("single precision") && e.contains("neighbors"), "{e}");
    // Exact fits take such values.
    assert!(DbscanParams::new(5.0, 10).fit(huge.view()).is_ok());
}
