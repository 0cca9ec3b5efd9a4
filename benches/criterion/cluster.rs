//! DBSCAN, k-means (Lloyd vs Hamerly) and Ward on blob data, all threads. The side-by-side timings
//! against scikit-learn are in `benches/scripts/cluster_vs_sklearn.sh`.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use outflow_benches::blobs_matrix;
use outflow_cluster::{DbscanParams, Fit, KMeansAlgorithm, KMeansParams, WardParams};

fn matrix(rows: usize, cols: usize, centres: usize, std: f64) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), blobs_matrix(rows, cols, centres, std, 1)).unwrap()
}

fn dbscan(c: &mut Criterion) {
    let x = matrix(50_000, 8, 10, 1.0);
    let eps = DbscanParams::auto(5).fit(x.view()).unwrap().eps();
    let mut g = c.benchmark_group("dbscan");
    g.sample_size(10);
    g.bench_function("50k_x_8_given_eps", |b| b.iter(|| DbscanParams::new(eps, 5).fit(x.view()).unwrap()));
    g.bench_function("50k_x_8_auto_eps", |b| b.iter(|| DbscanParams::auto(5).fit(x.view()).unwrap()));
    g.finish();
}

fn kmeans(c: &mut Criterion) {
    let x = matrix(100_000, 33, 12, 4.0);
    let mut g = c.benchmark_group("kmeans");
    g.sample_size(10);
    for (name, algo) in [("lloyd", KMeansAlgorithm::Lloyd), ("hamerly", KMeansAlgorithm::Hamerly)] {
        g.bench_function(format!("100k_x_33_k8_{name}"), |b| {
            b.iter(|| KMeansParams::new(8).seed(3).algorithm(algo).tol(1e-6).fit(x.view()).unwrap())
        });
    }
    g.finish();
}

fn ward(c: &mut Criterion) {
    let x = matrix(5_000, 8, 10, 1.0);
    let mut g = c.benchmark_group("ward");
    g.sample_size(10);
    g.bench_function("5k_x_8", |b| b.iter(|| WardParams::new(8).fit(x.view()).unwrap()));
    g.finish();
}

criterion_group!(benches, dbscan, kmeans, ward);
criterion_main!(benches);
