//! outflow-validate: the exact silhouette (all pairs) at the size of the side-by-side script
//! (`benches/scripts/validate_vs_sklearn.sh`: 50,000 × 32, 8 clusters — there against scikit-learn) and a
//! smaller one, Davies–Bouldin + Calinski–Harabasz, DBCV, and the Hopkins statistic.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use outflow_cluster::Metric;
use outflow_validate::{HopkinsParams, calinski_harabasz, davies_bouldin, dbcv, hopkins, silhouette_score};

/// `n` points in `k` overlapping Gaussian-like blobs (sum of uniforms), deterministic.
fn blobs(n: usize, d: usize, k: usize, seed: u64) -> (Array2<f64>, Vec<i64>) {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let centres: Vec<f64> = (0..k * d).map(|_| next() * 16.0 - 8.0).collect();
    let labels: Vec<i64> = (0..n).map(|_| (next() * k as f64) as i64).collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        centres[labels[i] as usize * d + j] + (next() + next() + next() - 1.5) * 2.0
    });
    (x, labels)
}

fn validate(c: &mut Criterion) {
    let mut g = c.benchmark_group("validate");
    g.sample_size(10);
    let (x, y) = blobs(50_000, 32, 8, 1);
    g.bench_function("silhouette_50000_x_32", |b| b.iter(|| silhouette_score(black_box(x.view()), &y).unwrap()));
    let (xs, ys) = blobs(10_000, 32, 8, 2);
    g.bench_function("silhouette_10000_x_32", |b| b.iter(|| silhouette_score(black_box(xs.view()), &ys).unwrap()));
    g.bench_function("davies_bouldin_calinski_harabasz_50000_x_32", |b| {
        b.iter(|| {
            (davies_bouldin(black_box(x.view()), &y).unwrap(), calinski_harabasz(black_box(x.view()), &y).unwrap())
        })
    });
    let (xd, yd) = blobs(3_000, 10, 4, 3);
    g.bench_function("dbcv_3000_x_10", |b| b.iter(|| dbcv(black_box(xd.view()), &yd, Metric::Euclidean).unwrap()));
    g.bench_function("hopkins_50000_x_32", |b| {
        b.iter(|| hopkins(black_box(x.view()), &HopkinsParams { sample_size: None, seed: 1 }).unwrap())
    });
    g.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
