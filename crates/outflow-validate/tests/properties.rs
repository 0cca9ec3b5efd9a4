//! Errors, determinism across thread counts, invariances, and the statistical behaviour of Hopkins and the
//! gap statistic (fixed seeds).

use ndarray::{Array2, ArrayView2};
use outflow_cluster::Metric;
use outflow_validate::*;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `k` Gaussian blobs of `per` points in `d` dimensions, centres `sep` apart on a diagonal grid.
fn blobs(k: usize, per: usize, d: usize, sep: f64, seed: u64) -> (Array2<f64>, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = move || {
        // Box–Muller
        let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    };
    let n = k * per;
    let mut x = Array2::zeros((n, d));
    let mut y = vec![0i64; n];
    for i in 0..n {
        let c = i % k;
        y[i] = c as i64;
        for j in 0..d {
            let centre = if j % 2 == 0 { c as f64 * sep } else { ((c * 7) % k) as f64 * sep };
            x[[i, j]] = centre + normal();
        }
    }
    (x, y)
}

fn uniform(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| rng.random::<f64>() * 10.0)
}

/// Direct O(n²) silhouette, scikit-learn's definition, noise removed.
fn naive_silhouette(x: ArrayView2<'_, f64>, y: &[i64], metric: Metric) -> Vec<f64> {
    let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] >= 0).collect();
    rows.iter()
        .map(|&i| {
            let mut sums = std::collections::BTreeMap::<i64, (f64, usize)>::new();
            for &j in &rows {
                let d = metric.distance(x.row(i).as_slice().unwrap(), x.row(j).as_slice().unwrap());
                let e = sums.entry(y[j]).or_insert((0.0, 0));
                e.0 += if i == j { 0.0 } else { d };
                e.1 += 1;
            }
            let (own, n_own) = sums[&y[i]];
            if n_own == 1 {
                return 0.0;
            }
            let a = own / (n_own - 1) as f64;
            let b =
                sums.iter().filter(|(l, _)| **l != y[i]).map(|(_, (s, n))| s / *n as f64).fold(f64::INFINITY, f64::min);
            if a.max(b) > 0.0 { (b - a) / a.max(b) } else { 0.0 }
        })
        .collect()
}

#[test]
fn errors_not_panics() {
    let x = Array2::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64);
    let y = [0, 0, 0, 1, 1, 1];
    assert!(matches!(
        silhouette_score(x.view(), &y[..5]),
        Err(ValidateError::Input(InputError::LengthMismatch { expected: 6, found: 5, .. }))
    ));
    assert!(matches!(davies_bouldin(x.view(), &[0, 0, 0, 0, 0, -1]), Err(ValidateError::TooFewClusters { found: 1 })));
    assert!(matches!(calinski_harabasz(x.view(), &[-1; 6]), Err(ValidateError::TooFewClusters { found: 0 })));
    assert!(matches!(silhouette_score(x.view(), &[0, 1, 2, 3, 4, 5]), Err(ValidateError::TooManyClusters { .. })));
    let mut bad = x.clone();
    bad[[4, 1]] = f64::NAN;
    assert!(matches!(
        silhouette_score(bad.view(), &y),
        Err(ValidateError::Input(InputError::NonFinite { row: 4, col: 1, .. }))
    ));
    assert!(matches!(dbcv(bad.view(), &y, Metric::Euclidean), Err(ValidateError::Input(InputError::NonFinite { .. }))));
    assert!(matches!(
        dbcv(x.view(), &[0, 0, 0, 1, 1, 2], Metric::Euclidean),
        Err(ValidateError::SingletonCluster { label: 2 })
    ));
    assert!(matches!(
        dbcv(x.view(), &[0, 0, 0, 0, 0, -1], Metric::Euclidean),
        Err(ValidateError::TooFewClusters { found: 1 })
    ));
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(matches!(silhouette_score(empty.view(), &[]), Err(ValidateError::Input(InputError::Empty { .. }))));
    let p = TendencyParams { k_min: 2, k_max: 7, ..Default::default() };
    assert!(matches!(k_table(x.view(), &p), Err(ValidateError::Input(_))));
    let p = TendencyParams { k_min: 3, k_max: 2, ..Default::default() };
    assert!(matches!(tendency(x.view(), &p), Err(ValidateError::Input(_))));
    assert!(hopkins(x.view(), &HopkinsParams { sample_size: Some(0), seed: 0 }).is_err());
    assert!(hopkins(x.view(), &HopkinsParams { sample_size: Some(7), seed: 0 }).is_err());
    assert!(hopkins(x.slice(ndarray::s![..1, ..]), &HopkinsParams::default()).is_err());
    let same = Array2::from_elem((10, 2), 3.0);
    assert!(matches!(hopkins(same.view(), &HopkinsParams::default()), Err(ValidateError::Degenerate(_))));
    // k ≥ distinct rows: zero inertia
    let few = Array2::from_shape_fn((10, 1), |(i, _)| (i % 2) as f64);
    let p = TendencyParams { k_min: 1, k_max: 3, n_refs: 2, ..Default::default() };
    assert!(matches!(k_table(few.view(), &p), Err(ValidateError::Degenerate(_))));
    let edges = [outflow_cluster::MstEdge { a: 0, b: 9, distance: 1.0 }];
    assert!(relative_validity_from_mst(&edges, &[0, 0]).is_err());
    assert!(distance_summary(x.view(), 1, 0).is_err());
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (x, mut y) = blobs(5, 300, 12, 4.0, 7);
    for i in (0..y.len()).step_by(17) {
        y[i] = -1;
    }
    let run = || {
        let s = silhouette(x.view(), &y, &SilhouetteParams::default()).unwrap();
        let s2 = silhouette(x.view(), &y, &SilhouetteParams::new().sample(500, 3)).unwrap();
        let m = silhouette(x.view(), &y, &SilhouetteParams::new().metric(Metric::Manhattan)).unwrap();
        let db = davies_bouldin(x.view(), &y).unwrap().value;
        let ch = calinski_harabasz(x.view(), &y).unwrap().value;
        let v = dbcv(x.view(), &y, Metric::Euclidean).unwrap().value;
        let t = tendency(
            x.view(),
            &TendencyParams { k_min: 2, k_max: 6, n_refs: 2, silhouette_sample: Some(400), ..Default::default() },
        )
        .unwrap();
        (s.values, s.score, s2.score, m.score, db, ch, v, t)
    };
    let results: Vec<_> = [1, 2, 3]
        .iter()
        .map(|&t| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap().install(run))
        .collect();
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn sampled_silhouette_is_the_exact_silhouette_of_the_sample() {
    let (x, mut y) = blobs(4, 200, 6, 3.0, 11);
    y[5] = -1;
    y[100] = -1;
    let s = silhouette(x.view(), &y, &SilhouetteParams::new().sample(150, 9)).unwrap();
    assert_eq!(s.rows.len(), 150);
    assert!(s.rows.iter().all(|&r| y[r] >= 0));
    let sub = Array2::from_shape_fn((150, 6), |(i, j)| x[[s.rows[i], j]]);
    let suby: Vec<i64> = s.rows.iter().map(|&r| y[r]).collect();
    let exact = silhouette(sub.view(), &suby, &SilhouetteParams::default()).unwrap();
    assert_eq!(exact.values, s.values);
    assert_eq!(s.labels, suby);
    // the same seed gives the same sample; another seed another one
    let again = silhouette(x.view(), &y, &SilhouetteParams::new().sample(150, 9)).unwrap();
    assert_eq!(again.rows, s.rows);
    let other = silhouette(x.view(), &y, &SilhouetteParams::new().sample(150, 10)).unwrap();
    assert_ne!(other.rows, s.rows);
    // a sample at least as large as the non-noise rows is the exact silhouette
    let all = silhouette(x.view(), &y, &SilhouetteParams::new().sample(10_000, 9)).unwrap();
    assert_eq!(all.score, silhouette_score(x.view(), &y).unwrap());
    let per_row = all.per_row(y.len());
    assert!(per_row[5].is_none() && per_row[6].is_some());
}

#[test]
fn per_cluster_silhouette_and_coverage() {
    let (x, mut y) = blobs(3, 50, 2, 8.0, 2);
    y[0] = -1;
    let s = silhouette(x.view(), &y, &SilhouetteParams::default()).unwrap();
    assert_eq!(s.clusters.iter().map(|c| c.size).sum::<usize>(), 149);
    let mean: f64 = s.clusters.iter().map(|c| c.mean * c.size as f64).sum::<f64>() / 149.0;
    assert!((mean - s.score).abs() < 1e-12);
    assert!((s.coverage - 149.0 / 150.0).abs() < 1e-15);
    assert!(s.score > 0.8);
}

#[test]
fn hopkins_is_one_half_on_uniform_data_and_near_one_on_blobs() {
    for (d, seed) in [(2, 1), (5, 2), (10, 3)] {
        let x = uniform(5000, d, seed);
        let h = hopkins(x.view(), &HopkinsParams { sample_size: None, seed }).unwrap();
        assert_eq!((h.sample_size, h.exponent), (500, d));
        assert!((h.statistic - 0.5).abs() < 0.05, "uniform {d}-D: H = {}", h.statistic);
        let (b, _) = blobs(4, 1000, d, 12.0, seed);
        let h = hopkins(b.view(), &HopkinsParams { sample_size: None, seed }).unwrap();
        assert!(h.statistic > 0.9, "blobs {d}-D: H = {}", h.statistic);
        assert!(h.statistic_linear > 0.5);
    }
    // 50 dimensions at extreme scales: no overflow, and exactly scale invariant (powers of two)
    let (b, _) = blobs(3, 300, 50, 10.0, 4);
    let p = HopkinsParams { sample_size: Some(100), seed: 5 };
    let h = hopkins(b.view(), &p).unwrap().statistic;
    for e in [-300, 300] {
        let scaled = b.mapv(|v| v * 2f64.powi(e));
        assert_eq!(hopkins(scaled.view(), &p).unwrap().statistic, h);
    }
    assert!(h > 0.9 && h.is_finite());
}

#[test]
fn gap_elbow_and_silhouette_pick_the_true_k_on_separated_blobs() {
    for (k, d, seed) in [(4, 2, 1), (3, 5, 2), (6, 3, 3)] {
        let (x, _) = blobs(k, 150, d, 15.0, seed);
        let p = TendencyParams { k_min: 1, k_max: 9, n_refs: 10, seed, n_init: 3, ..Default::default() };
        let t = k_table(x.view(), &p).unwrap();
        assert_eq!(
            t.k_gap,
            Some(k),
            "gap on {k} blobs: {:?}",
            t.rows.iter().map(|r| (r.k, r.gap, r.s_k)).collect::<Vec<_>>()
        );
        assert_eq!(t.k_silhouette, Some(k), "silhouette on {k} blobs");
        assert_eq!(
            t.k_elbow,
            Some(k),
            "elbow on {k} blobs: {:?}",
            t.rows.iter().map(|r| (r.k, r.inertia)).collect::<Vec<_>>()
        );
        assert!(t.rows[0].silhouette.is_none() && t.rows[1].silhouette.is_some());
        let s = 1.1f64.sqrt();
        assert!(
            t.rows.iter().all(|r| (r.s_k - r.sd * s).abs() < 1e-12 && (r.gap - (r.ref_log_w - r.log_w)).abs() < 1e-12)
        );
    }
    // uniform data: gap says 1
    let x = uniform(600, 2, 9);
    let t = k_table(x.view(), &TendencyParams { k_min: 1, k_max: 6, n_refs: 10, ..Default::default() }).unwrap();
    assert_eq!(t.k_gap, Some(1));
}

#[test]
fn tendency_report() {
    let (x, _) = blobs(3, 200, 4, 10.0, 5);
    let t = tendency(x.view(), &TendencyParams { k_min: 2, k_max: 6, n_refs: 4, ..Default::default() }).unwrap();
    assert_eq!((t.n_rows, t.n_features), (600, 4));
    assert_eq!(t.hopkins.sample_size, 60);
    assert_eq!(t.table.rows.len(), 5);
    assert_eq!(t.table.k_silhouette, Some(3));
    assert_eq!(t.distances.sample_size, 600);
    assert_eq!(t.distances.pairs, 600 * 599 / 2);
    let d = t.distances;
    assert!(d.min <= d.p01 && d.p01 <= d.p25 && d.p25 <= d.median && d.median <= d.p75 && d.p99 <= d.max);
}

#[test]
fn dbcv_invariances() {
    let (x, mut y) = blobs(3, 60, 20, 6.0, 8);
    for i in (0..y.len()).step_by(11) {
        y[i] = -1;
    }
    let v = dbcv(x.view(), &y, Metric::Euclidean).unwrap();
    // scale invariant even where (1/d)^20 leaves the float range (upwards: hdbscan's isclose has an
    // absolute tolerance of 1e-8, which matters once distances are that small)
    for e in [60, 300] {
        let s = x.mapv(|v| v * 2f64.powi(e));
        let w = dbcv(s.view(), &y, Metric::Euclidean).unwrap().value;
        assert!((w - v.value).abs() < 1e-12, "scale 2^{e}: {w} vs {}", v.value);
    }
    // beyond: squared distances would overflow — the input is refused, not turned into NaN
    let huge = x.mapv(|v| v * 2f64.powi(600));
    let too_large = |r| matches!(r, Err(ValidateError::Input(outflow_core::InputError::TooLarge { .. })));
    assert!(too_large(dbcv(huge.view(), &y, Metric::Euclidean).map(|_| ())));
    assert!(too_large(silhouette_score(huge.view(), &y).map(|_| ())));
    // relabelling does not matter
    let relabelled: Vec<i64> = y.iter().map(|&l| if l < 0 { -1 } else { 10 - l }).collect();
    assert!((dbcv(x.view(), &relabelled, Metric::Euclidean).unwrap().value - v.value).abs() < 1e-12);
    // noise counts in N
    let weighted: f64 = v.clusters.iter().map(|c| c.size as f64 * c.validity).sum::<f64>() / y.len() as f64;
    assert!((weighted - v.value).abs() < 1e-12);
    assert!(v.clusters.iter().all(|c| c.validity > 0.0 && c.internal_nodes > 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The kernels equal a direct O(n²) computation, for every metric, on random labellings with noise.
    #[test]
    fn silhouette_equals_direct_computation(
        n in 3usize..70, d in 1usize..6, k in 2usize..5, seed in 0u64..1000, metric in 0usize..4,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, d), |_| (rng.random::<f64>() * 8.0).round() / 4.0 - 1.0);
        let y: Vec<i64> = (0..n).map(|i| if i < k { i as i64 } else { rng.random_range(-1..k as i64) }).collect();
        let metric = [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev, Metric::Cosine][metric];
        let clusters = y.iter().filter(|&&l| l >= 0).collect::<std::collections::BTreeSet<_>>().len();
        let kept = y.iter().filter(|&&l| l >= 0).count();
        match silhouette(x.view(), &y, &SilhouetteParams::new().metric(metric)) {
            Ok(s) => {
                let want = naive_silhouette(x.view(), &y, metric);
                prop_assert_eq!(s.values.len(), want.len());
                for (a, b) in s.values.iter().zip(&want) {
                    prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b);
                    prop_assert!((-1.0..=1.0).contains(a));
                }
            }
            Err(ValidateError::TooManyClusters { .. }) => prop_assert!(clusters >= kept),
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    /// Shuffling the rows (with their labels) changes nothing but the order of the per-row values.
    #[test]
    fn row_order_invariance(seed in 0u64..1000) {
        let (x, y) = blobs(3, 30, 3, 2.0, seed);
        let n = y.len();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in (1..n).rev() {
            perm.swap(i, rng.random_range(0..=i));
        }
        let xp = Array2::from_shape_fn((n, 3), |(i, j)| x[[perm[i], j]]);
        let yp: Vec<i64> = perm.iter().map(|&p| y[p]).collect();
        let a = silhouette(x.view(), &y, &SilhouetteParams::default()).unwrap();
        let b = silhouette(xp.view(), &yp, &SilhouetteParams::default()).unwrap();
        prop_assert!((a.score - b.score).abs() < 1e-12);
        for (i, &p) in perm.iter().enumerate() {
            prop_assert!((b.values[i] - a.values[p]).abs() < 1e-12);
        }
        let (da, db) = (davies_bouldin(x.view(), &y).unwrap().value, davies_bouldin(xp.view(), &yp).unwrap().value);
        prop_assert!((da - db).abs() < 1e-12 * da.abs().max(1.0));
        // (DBCV is not row-order invariant: hdbscan's spanning trees break ties among equal
        // mutual-reachability distances by index; see `dbcv`.)
    }
}
