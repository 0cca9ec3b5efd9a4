//! outflow-explain: surrogate forest training, exact TreeSHAP (table and textbook algorithms) and
//! permutation importance on flow-like data. The side-by-side comparison with Python's shap is
//! `benches/scripts/shap_vs_python.sh`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use outflow_explain::{FitSupervised, PermutationParams, RandomForest, RandomForestParams, permutation_importance};

/// Heavy-tailed, flow-like features and 3 "clusters" plus noise from a rule with an interaction.
fn data(rows: usize, cols: usize, seed: u64) -> (Array2<f64>, Vec<i64>) {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut unit = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = Array2::from_shape_fn((rows, cols), |(_, j)| (4.0 * unit()).exp() * (j + 1) as f64);
    let y = (0..rows)
        .map(|i| {
            let v = x[[i, 0]].ln() - x[[i, 1]].ln() + if x[[i, 3]] > 10.0 { 0.5 * x[[i, 2]].ln() } else { 0.0 };
            if unit() < 0.03 { -1 } else { i64::from(v > 0.5) + i64::from(v > 2.0) }
        })
        .collect();
    (x, y)
}

fn forest(x: &Array2<f64>, y: &[i64], trees: usize) -> RandomForest {
    RandomForestParams { n_estimators: trees, seed: 1, ..RandomForestParams::surrogate() }.fit(x.view(), y).unwrap()
}

fn bench_explain(c: &mut Criterion) {
    let (x, y) = data(5_000, 30, 7);
    let mut g = c.benchmark_group("explain");
    g.sample_size(10);

    g.throughput(Throughput::Elements(x.nrows() as u64));
    g.bench_function("forest_fit_5k_x_30_100_trees_depth7", |b| b.iter(|| forest(&x, &y, 100)));

    let f = forest(&x, &y, 100);
    let ensemble = f.tree_ensemble();
    let rows = x.slice(ndarray::s![..1_000, ..]);
    g.throughput(Throughput::Elements(rows.nrows() as u64));
    g.bench_function("treeshap_1k_rows_100_trees_depth7", |b| b.iter(|| ensemble.shap_values(rows).unwrap()));
    let few = x.slice(ndarray::s![..100, ..]);
    g.throughput(Throughput::Elements(few.nrows() as u64));
    g.bench_function("treeshap_recursive_100_rows_100_trees_depth7", |b| {
        b.iter(|| ensemble.shap_values_recursive(few).unwrap())
    });
    g.bench_function("treeshap_100_rows_100_trees_depth7", |b| b.iter(|| ensemble.shap_values(few).unwrap()));

    let small = forest(&x, &y, 20);
    g.throughput(Throughput::Elements(x.nrows() as u64));
    g.bench_function("permutation_5k_x_30_20_trees_1_repeat", |b| {
        b.iter(|| permutation_importance(&small, x.view(), &y, &PermutationParams { n_repeats: 1, seed: 0 }).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_explain);
criterion_main!(benches);
