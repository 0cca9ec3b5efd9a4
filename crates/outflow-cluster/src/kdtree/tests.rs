//! Tests of the kd-tree.

use super::build::build_node;
use super::*;
use crate::metric::{Chebyshev, Euclidean, Manhattan};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};

fn random(n: usize, d: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n, d), |_| (rng.random_range(0..20) as f64) * 0.5)
}

#[test]
fn parallel_build_is_the_serial_tree() {
    // Many ties (values on a 0.5 grid) and enough rows for several parallel levels.
    let x = random(90_000, 3, 11);
    let row = |i: u32| x.row(i as usize);
    let mut p1: Vec<u32> = (0..x.nrows() as u32).collect();
    let mut p2 = p1.clone();
    let (mut n1, mut b1) = (Vec::new(), Vec::new());
    build_node(&row, 3, &mut p1, 0, 16, &mut n1, &mut b1);
    let (n2, b2) = build_par(&row, 3, &mut p2, 0, 16, Vec::new(), Vec::new());
    assert_eq!(p1, p2);
    assert_eq!(b1, b2);
    let key = |n: &[Node]| n.iter().map(|d| (d.start, d.end, d.left, d.right)).collect::<Vec<_>>();
    assert_eq!(key(&n1), key(&n2));
}

fn check<K: Kernel>(x: &Array2<f64>, k: usize) {
    let t = KdTree::build(x.view(), 5);
    let (dist, _) = t.knn_all::<K>(k);
    for p in 0..t.n {
        let mut all: Vec<f64> = (0..t.n).map(|q| K::rdist(t.point(p), t.point(q))).collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(&dist[p * k..(p + 1) * k], &all[..k]);
    }
}

#[test]
fn knn_matches_brute_force_with_ties() {
    let x = random(300, 3, 1);
    check::<Euclidean>(&x, 7);
    check::<Manhattan>(&x, 4);
    check::<Chebyshev>(&x, 10);
    let dup = Array2::from_elem((50, 2), 1.0);
    check::<Euclidean>(&dup, 5);
}

#[test]
fn tree_covers_all_points() {
    let x = random(1000, 5, 2);
    let t = KdTree::build(x.view(), 16);
    let mut seen = t.index.clone();
    seen.sort();
    assert_eq!(seen, (0..1000).collect::<Vec<u32>>());
    for (i, nd) in t.nodes.iter().enumerate() {
        if !nd.is_leaf() {
            assert!(nd.left as usize > i && nd.right as usize > i);
        }
        for p in nd.start..nd.end {
            for (j, v) in t.point(p as usize).iter().enumerate() {
                assert!(t.lo(i)[j] <= *v && *v <= t.hi(i)[j]);
            }
        }
    }
}

/// The `f32` filter changes no result: the same tree with and without it gives the same neighbours,
/// bit for bit and tie for tie, on data `f32` cannot resolve (a large offset, duplicates, a grid).
#[test]
fn f32_filter_gives_the_f64_search() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let offset = Array2::from_shape_fn((3000, 8), |_| 1e6 + rng.random_range(0..1000) as f64 * 1e-4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let spread = Array2::from_shape_fn((4000, 8), |(i, _)| {
        if i % 5 == 0 { rng.random_range(-1e4..1e4) } else { rng.random_range(-1.0..1.0) * 1e-3 }
    });
    let tiny = Array2::from_shape_fn((500, 3), |(i, j)| (i % 7) as f64 * 1e-39 + j as f64 * 1e-300);
    for (x, k) in [(random(5000, 8, 3), 11), (random(2000, 4, 4), 3), (offset, 10), (spread, 6), (tiny, 5)] {
        let with = KdTree::build_rotated(x.view(), 64);
        assert!(with.filter.is_some());
        let mut without = with.clone();
        without.filter = None;
        assert_eq!(with.knn_all::<Euclidean>(k), without.knn_all::<Euclidean>(k));
        let q = x.row(x.nrows() / 2).mapv(|v| v * (1.0 + 1e-9) + 1e-7);
        let q = q.as_slice().expect("contiguous");
        let (mut d1, mut p1, mut d2, mut p2) = (vec![0.0; k], vec![0; k], vec![0.0; k], vec![0; k]);
        with.knn::<Euclidean>(q, &mut d1, &mut p1);
        without.knn::<Euclidean>(q, &mut d2, &mut p2);
        assert_eq!((d1, p1), (d2, p2));
    }
    // Centred coordinates beyond what `f32` holds: no filter, the `f64` search alone.
    let huge = Array2::from_shape_fn((100, 2), |(i, j)| (i * 2 + j) as f64 * 1e35);
    assert!(KdTree::build_rotated(huge.view(), 16).filter.is_none());
}
