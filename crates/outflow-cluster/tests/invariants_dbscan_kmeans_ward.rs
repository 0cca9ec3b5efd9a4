//! Property tests of DBSCAN, k-means and Ward: invariance to row order and to the thread count, the
//! k-means objective, and Ward's tree shape.

use std::collections::HashMap;

use ndarray::Array2;
use outflow_cluster::{
    ClusterModel, DbscanParams, Fit, KMeansAlgorithm, KMeansInit, KMeansParams, Metric, Predict, WardParams,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data(n: usize, d: usize, seed: u64, grid: bool) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f64>> = (0..4).map(|_| (0..d).map(|_| rng.random_range(-6.0..6.0)).collect()).collect();
    Array2::from_shape_fn((n, d), |(i, j)| {
        let v = centres[i % 4][j] + rng.random_range(-1.5..1.5);
        if grid { (v * 2.0).round() / 2.0 } else { v }
    })
}

fn permute(x: &Array2<f64>, perm: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn(x.dim(), |(i, j)| x[[perm[i], j]])
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.random_range(0..=i));
    }
    p
}

/// Same partition of the rows where `keep` holds (a bijection between the labels).
fn same_partition(a: &[i64], b: &[i64], keep: impl Fn(usize) -> bool) -> bool {
    let (mut ab, mut ba) = (HashMap::new(), HashMap::new());
    (0..a.len())
        .filter(|&i| keep(i))
        .all(|i| *ab.entry(a[i]).or_insert(b[i]) == b[i] && *ba.entry(b[i]).or_insert(a[i]) == a[i])
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Row order changes neither the core points, nor the partition of the core points, nor the noise;
    /// only which of several touching clusters a border point joins may change.
    #[test]
    fn dbscan_permutation_invariance(
        n in 20usize..250, d in 1usize..5, seed in 0u64..1000, grid in any::<bool>(),
        eps in 0.3f64..2.0, m in 1usize..9, metric in 0usize..4,
    ) {
        let metric = [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev, Metric::Cosine][metric];
        let eps = if metric == Metric::Cosine { eps / 20.0 } else { eps };
        let x = data(n, d, seed, grid);
        let perm = shuffled(n, seed + 1);
        let y = permute(&x, &perm);
        let p = DbscanParams::new(eps, m).metric(metric);
        let a = p.fit(x.view()).unwrap();
        let b = p.fit(y.view()).unwrap();
        let la: Vec<i64> = perm.iter().map(|&i| a.labels()[i]).collect();
        let ca: Vec<bool> = perm.iter().map(|&i| a.is_core()[i]).collect();
        prop_assert_eq!(&ca[..], b.is_core());
        prop_assert!(same_partition(&la, b.labels(), |i| ca[i]));
        for (&l, &lb) in la.iter().zip(b.labels()) {
            prop_assert_eq!(l < 0, lb < 0);
        }
        // Cluster ids follow the smallest core row of each cluster.
        let mut firsts = vec![];
        for (i, &l) in b.labels().iter().enumerate() {
            if b.is_core()[i] && !firsts.contains(&l) {
                firsts.push(l);
            }
        }
        prop_assert_eq!(firsts, (0..b.n_clusters() as i64).collect::<Vec<_>>());
        // Prediction of the training rows: a core row gets its own label.
        let pred = b.predict(y.view()).unwrap();
        for (i, &p) in pred.iter().enumerate() {
            if b.is_core()[i] {
                prop_assert_eq!(p, b.labels()[i]);
            }
        }
    }

    /// Each iteration's inertia is ≤ the previous one; Lloyd and Hamerly give identical models.
    #[test]
    fn kmeans_objective_and_algorithms(
        n in 10usize..400, d in 1usize..12, k in 1usize..10, seed in 0u64..1000, random in any::<bool>(),
    ) {
        let k = k.min(n);
        let x = data(n, d, seed, false);
        let init = if random { KMeansInit::Random } else { KMeansInit::KMeansPlusPlus };
        let p = KMeansParams::new(k).init(init).seed(seed).n_init(2).track_inertia(true).tol(0.0);
        let a = p.clone().algorithm(KMeansAlgorithm::Lloyd).fit(x.view()).unwrap();
        let b = p.algorithm(KMeansAlgorithm::Hamerly).fit(x.view()).unwrap();
        prop_assert_eq!(a.labels(), b.labels());
        prop_assert_eq!(a.centres(), b.centres());
        prop_assert_eq!(a.inertia(), b.inertia());
        prop_assert_eq!(a.n_iter(), b.n_iter());
        let h = a.inertia_history();
        for w in h.windows(2) {
            prop_assert!(w[1] <= w[0] * (1.0 + 1e-12) + 1e-12, "{:?}", h);
        }
        // Predicting the training rows gives the labels (the run converged strictly or was re-assigned).
        prop_assert_eq!(a.predict(x.view()).unwrap(), a.labels().to_vec());
        let direct: f64 = (0..n)
            .map(|i| x.row(i).iter().zip(a.centres().row(a.labels()[i] as usize)).map(|(p, q)| (p - q) * (p - q)).sum::<f64>())
            .sum();
        prop_assert!((direct - a.inertia()).abs() <= 1e-9 * direct.max(1e-300));
    }

    /// Ward: k = n gives singletons, k = 1 one cluster; merge distances ascend; sizes add up; the labels
    /// of a cut nest in the labels of a coarser cut.
    #[test]
    fn ward_tree_shape(n in 1usize..120, d in 1usize..6, seed in 0u64..1000, k in 1usize..10) {
        let x = data(n, d, seed, false);
        let all = WardParams::new(n).fit(x.view()).unwrap();
        prop_assert_eq!(all.labels(), &(0..n as i64).collect::<Vec<_>>()[..]);
        let one = WardParams::new(1).fit(x.view()).unwrap();
        prop_assert!(one.labels().iter().all(|&l| l == 0));
        let l = all.linkage();
        prop_assert_eq!(l.len(), n - 1);
        let mut size = vec![1usize; n];
        for (i, s) in l.iter().enumerate() {
            prop_assert!(s.a < s.b && s.b < n + i);
            prop_assert_eq!(s.size, size[s.a] + size[s.b]);
            size.push(s.size);
            if i > 0 {
                prop_assert!(s.distance >= l[i - 1].distance);
            }
        }
        let k = k.min(n);
        let fine = WardParams::new(k).fit(x.view()).unwrap();
        let coarse = WardParams::new((k / 2).max(1)).fit(x.view()).unwrap();
        prop_assert_eq!(fine.n_clusters(), k);
        let mut up = HashMap::new();
        for i in 0..n {
            prop_assert_eq!(*up.entry(fine.labels()[i]).or_insert(coarse.labels()[i]), coarse.labels()[i]);
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let x = data(20_000, 6, 3, true);
    let db = |t| in_pool(t, || DbscanParams::auto(5).fit(x.view()).unwrap());
    let one = db(1);
    assert!(one.n_clusters() >= 2);
    assert_eq!(one, db(2));
    assert_eq!(one, db(3));
    let km = |t| in_pool(t, || KMeansParams::new(7).seed(5).n_init(3).fit(x.view()).unwrap());
    let one = km(1);
    assert_eq!(one, km(2));
    assert_eq!(one, km(3));
    // Large enough for Ward's parallel nearest-neighbour scans.
    let w = data(7_000, 3, 8, false);
    let ward = |t| in_pool(t, || WardParams::new(5).fit(w.view()).unwrap());
    let one = ward(1);
    assert_eq!(one, ward(2));
    assert_eq!(one, ward(3));
}
