//! HDBSCAN stages separately: core distances (k-NN), the exact mutual-reachability MST (core distances
//! included), and the trees + selection + GLOSH from a precomputed MST; 2 threads as the target.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use outflow_benches::blobs_matrix;
use outflow_cluster::{HdbscanParams, Metric, MutualReachability, stages};

fn stages_bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    for (n, d) in [(100_000usize, 8usize), (50_000, 32)] {
        let x = Array2::from_shape_vec((n, d), blobs_matrix(n, d, 10, 1.0, 42)).unwrap();
        let params = HdbscanParams::new(50).min_samples(10);
        let mut g = c.benchmark_group(format!("hdbscan_{n}x{d}"));
        g.sample_size(10);
        g.bench_function("core_distances", |b| {
            b.iter(|| pool.install(|| stages::core_distances(x.view(), Metric::Euclidean, 10).unwrap()))
        });
        g.bench_function("mst", |b| b.iter(|| pool.install(|| MutualReachability::new(x.view(), &params).unwrap())));
        let mr = pool.install(|| MutualReachability::new(x.view(), &params).unwrap());
        g.bench_function("trees_selection_glosh", |b| {
            b.iter(|| pool.install(|| params.fit_from_mst(x.view(), &mr).unwrap()))
        });
        g.finish();
    }
}

criterion_group!(benches, stages_bench);
criterion_main!(benches);
