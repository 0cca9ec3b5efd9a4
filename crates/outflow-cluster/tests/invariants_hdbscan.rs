//! HDBSCAN's invariants on random data: the result does not depend on row order or on the scale of the
//! data, and identical points share their fate. Continuous random coordinates make tied distances
//! improbable, so every output — labels, probabilities, GLOSH scores — must agree, not only the
//! partition.

use std::collections::HashMap;

use ndarray::{Array2, Axis, concatenate};
use outflow_cluster::{ClusterModel, Fit, HdbscanParams, Metric};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Gaussian-ish blobs of several widths plus uniform background.
fn data(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = 1 + (seed % 4) as usize;
    let centers: Vec<Vec<f64>> = (0..k).map(|_| (0..d).map(|_| rng.random_range(-20.0..20.0)).collect()).collect();
    Array2::from_shape_fn((n, d), |(i, j)| {
        if i % 10 == 9 {
            rng.random_range(-30.0..30.0)
        } else {
            let width = 0.5 + (i % k) as f64;
            centers[i % k][j] + width * (rng.random_range(-1.0..1.0) + rng.random_range(-1.0..1.0))
        }
    })
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xabcdef);
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.random_range(0..=i));
    }
    p
}

/// The same partition (a bijection between cluster labels), noise as noise.
fn same_partition(a: &[i64], b: &[i64]) -> bool {
    let (mut ab, mut ba) = (HashMap::new(), HashMap::new());
    a.len() == b.len()
        && (0..a.len()).all(|i| {
            (a[i] == -1) == (b[i] == -1)
                && *ab.entry(a[i]).or_insert(b[i]) == b[i]
                && *ba.entry(b[i]).or_insert(a[i]) == a[i]
        })
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Row order changes nothing: each row keeps its cluster (up to renaming), probability and score.
    #[test]
    fn permutation_invariance(
        n in 30usize..300, d in 1usize..6, seed in 0u64..10_000, mcs in 3usize..20, ms in 1usize..10,
        metric in 0usize..3, leaf in any::<bool>(),
    ) {
        let metric = [Metric::Euclidean, Metric::Manhattan, Metric::Chebyshev][metric];
        let x = data(n, d, seed);
        let mut p = HdbscanParams::new(mcs).min_samples(ms).metric(metric);
        if leaf {
            p = p.cluster_selection(outflow_cluster::ClusterSelection::Leaf);
        }
        let a = p.fit(x.view()).unwrap();
        let perm = shuffled(n, seed);
        let xp = Array2::from_shape_fn(x.dim(), |(i, j)| x[[perm[i], j]]);
        let b = p.fit(xp.view()).unwrap();
        let back = |v: &[i64]| -> Vec<i64> {
            let mut out = vec![0; n];
            for (i, &r) in perm.iter().enumerate() { out[r] = v[i]; }
            out
        };
        prop_assert!(same_partition(a.labels(), &back(b.labels())));
        for (i, &r) in perm.iter().enumerate() {
            prop_assert!(close(a.probabilities()[r], b.probabilities()[i]), "probability of row {r}");
            prop_assert!(close(a.outlier_scores()[r], b.outlier_scores()[i]), "GLOSH of row {r}");
        }
    }

    /// Multiplying every coordinate by a power of two (exact in floating point) or shifting the data
    /// changes neither labels nor probabilities nor scores: HDBSCAN sees only distance ratios.
    #[test]
    fn scale_and_shift_invariance(n in 30usize..250, d in 1usize..5, seed in 0u64..10_000, k in -6i32..7) {
        let x = data(n, d, seed);
        let p = HdbscanParams::new(8).min_samples(4);
        let a = p.fit(x.view()).unwrap();
        let scaled = x.mapv(|v| v * 2f64.powi(k));
        let b = p.fit(scaled.view()).unwrap();
        prop_assert_eq!(a.labels(), b.labels());
        for i in 0..n {
            prop_assert!(close(a.probabilities()[i], b.probabilities()[i]));
            prop_assert!(close(a.outlier_scores()[i], b.outlier_scores()[i]));
        }
        let shifted = x.mapv(|v| v + 1024.0);
        let c = p.fit(shifted.view()).unwrap();
        prop_assert!(same_partition(a.labels(), c.labels()));
    }

    /// Every point given twice: both copies get the same label and probability, and the copies of a
    /// clustered point stay clustered.
    #[test]
    fn duplicates_share_their_fate(n in 20usize..200, d in 1usize..5, seed in 0u64..10_000, ms in 1usize..8) {
        let x = data(n, d, seed);
        let twice = concatenate(Axis(0), &[x.view(), x.view()]).unwrap();
        let m = HdbscanParams::new(6).min_samples(ms).fit(twice.view()).unwrap();
        for i in 0..n {
            prop_assert_eq!(m.labels()[i], m.labels()[i + n], "row {}", i);
            prop_assert!(close(m.probabilities()[i], m.probabilities()[i + n]));
            prop_assert!(close(m.outlier_scores()[i], m.outlier_scores()[i + n]));
        }
    }

    /// Unit sample weights are no weights: the same labels, probabilities and scores.
    #[test]
    fn unit_weights_change_nothing(n in 30usize..250, d in 1usize..5, seed in 0u64..10_000, mcs in 3usize..15, ms in 1usize..8) {
        let x = data(n, d, seed);
        let p = HdbscanParams::new(mcs).min_samples(ms);
        let (a, b) = (p.fit(x.view()).unwrap(), p.fit_weighted(x.view(), &vec![1.0; n]).unwrap());
        prop_assert_eq!(a.labels(), b.labels());
        prop_assert_eq!(a.core_distances(), b.core_distances());
        for i in 0..n {
            prop_assert!(close(a.probabilities()[i], b.probabilities()[i]));
            prop_assert!(close(a.outlier_scores()[i], b.outlier_scores()[i]));
        }
    }

    /// A row of integer weight w has the core distance it has as w copies (its weight counts first, as
    /// the copies sit at distance 0), and weights ½ need twice as many neighbours (the kd-tree's and
    /// Prim's searches agree).
    #[test]
    fn integer_weights_are_copies_for_core_distances(n in 20usize..150, d in 1usize..4, seed in 0u64..10_000, ms in 2usize..9) {
        let x = data(n, d, seed);
        let w: Vec<f64> = (0..n).map(|i| (1 + (i * 7 + seed as usize) % 3) as f64).collect();
        let rows: Vec<usize> = (0..n).flat_map(|i| std::iter::repeat_n(i, w[i] as usize)).collect();
        let copies = x.select(Axis(0), &rows);
        let p = HdbscanParams::new(5).min_samples(ms);
        let weighted = p.fit_weighted(x.view(), &w).unwrap();
        let copied = p.fit(copies.view()).unwrap();
        let first: Vec<usize> = (0..n).map(|i| rows.iter().position(|&r| r == i).unwrap()).collect();
        for (i, &f) in first.iter().enumerate() {
            prop_assert!(close(weighted.core_distances()[i], copied.core_distances()[f]), "row {}", i);
        }
        let half = vec![0.5; n];
        let by_tree = p.fit_weighted(x.view(), &half).unwrap();
        let by_prim = p.clone().mst_algorithm(outflow_cluster::MstAlgorithm::Prim).fit_weighted(x.view(), &half).unwrap();
        let whole = HdbscanParams::new(5).min_samples(2 * ms).fit(x.view()).unwrap();
        prop_assert_eq!(by_tree.core_distances(), by_prim.core_distances());
        for i in 0..n {
            prop_assert!(close(by_tree.core_distances()[i], whole.core_distances()[i]), "row {}", i);
        }
    }
}
