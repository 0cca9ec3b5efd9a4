//! Tests of k-means.

use ndarray::{Array2, array};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::traits::{ClusterModel, Predict};
use outflow_core::InputError;

fn blobs(n: usize, d: usize, k: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c: Vec<Vec<f64>> = (0..k).map(|_| (0..d).map(|_| rng.random_range(-5.0..5.0)).collect()).collect();
    Array2::from_shape_fn((n, d), |(i, j)| c[i % k][j] + rng.random_range(-2.0..2.0))
}

#[test]
fn lloyd_and_hamerly_agree() {
    for (d, k, seed) in [(2, 3, 1), (5, 8, 2), (33, 8, 3), (9, 20, 4)] {
        let x = blobs(3000, d, k, seed);
        let p = KMeansParams::new(k).seed(seed).n_init(2).tol(0.0);
        let a = p.clone().algorithm(KMeansAlgorithm::Lloyd).fit(x.view()).unwrap();
        let b = p.algorithm(KMeansAlgorithm::Hamerly).fit(x.view()).unwrap();
        assert_eq!(a, KMeans { params: a.params.clone(), ..b.clone() });
        assert!(a.n_iter() > 1);
    }
}

#[test]
fn seeded_bounds_survive_rounding() {
    // Duplicates, near-duplicates far from the mean and a huge spread stress the ‖x‖² + ‖c‖² − 2x·c
    // distances of k-means++ that seed Hamerly's bounds: a bound that were wrong would show as a
    // difference to Lloyd.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = Array2::from_shape_fn((5000, 6), |(i, j)| match i % 5 {
        0 => 1.0e4 + (j as f64),
        1 => 1.0e4 + (j as f64) + 1e-9 * (i % 7) as f64,
        2 => -3.0e3 + rng.random_range(0.0..1e-3),
        _ => rng.random_range(-50.0..50.0),
    });
    for k in [2, 5, 9] {
        let p = KMeansParams::new(k).seed(k as u64).n_init(3).tol(0.0);
        let a = p.clone().algorithm(KMeansAlgorithm::Lloyd).fit(x.view()).unwrap();
        let b = p.algorithm(KMeansAlgorithm::Hamerly).fit(x.view()).unwrap();
        assert_eq!(a.labels(), b.labels());
        assert_eq!(a.inertia(), b.inertia());
    }
}

#[test]
fn plusplus_spreads_and_converges() {
    let x = array![[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0], [0.0, 10.0], [0.1, 10.0]];
    for seed in 0..20 {
        let m = KMeansParams::new(3).seed(seed).fit(x.view()).unwrap();
        assert!((m.inertia() - 3.0 * 0.005).abs() < 1e-12, "seed {seed}: {}", m.inertia());
    }
}

#[test]
fn empty_cluster_is_relocated_to_the_farthest_point() {
    let x = array![[0.0], [1.0], [2.0], [10.0]];
    let c = array![[0.0], [100.0]];
    let m = KMeansParams::new(2).init_centres(c).fit(x.view()).unwrap();
    assert_eq!(m.labels(), &[0, 0, 0, 1]);
    assert_eq!(m.centres(), &array![[1.0], [10.0]]);
}

#[test]
fn history_is_non_increasing() {
    let x = blobs(2000, 4, 6, 9);
    let m = KMeansParams::new(6).init(KMeansInit::Random).seed(3).track_inertia(true).tol(0.0).fit(x.view()).unwrap();
    let h = m.inertia_history();
    assert_eq!(h.len(), m.n_iter());
    for w in h.windows(2) {
        assert!(w[1] <= w[0] * (1.0 + 1e-12), "{h:?}");
    }
    assert!((h.last().unwrap() - m.inertia()).abs() <= 1e-9 * m.inertia());
}

#[test]
fn bad_input() {
    let x = array![[0.0, 1.0], [1.0, 0.0]];
    assert!(KMeansParams::new(0).fit(x.view()).is_err());
    assert!(KMeansParams::new(3).fit(x.view()).is_err());
    assert!(KMeansParams::new(1).tol(f64::NAN).fit(x.view()).is_err());
    let nan = array![[0.0, 1.0], [f64::INFINITY, 0.0]];
    assert!(matches!(
        KMeansParams::new(1).fit(nan.view()),
        Err(ClusterError::Input(InputError::NonFinite { row: 1, col: 1 | 0, .. }))
    ));
    assert!(KMeansParams::new(2).init_centres(array![[0.0], [1.0]]).fit(x.view()).is_err());
    let m = KMeansParams::new(1).fit(x.view()).unwrap();
    assert!(m.predict(array![[0.0]].view()).is_err());
    assert!(m.predict(array![[f64::NAN, 0.0]].view()).is_err());
}
