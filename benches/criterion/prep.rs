//! outflow-prep at the size of a typical preprocessed CICFlowMeter export (371,621 flows × 70 features): the Pearson correlation matrix
//! (the target: under 2 s on 2 cores), the RobustScalerParams fit, and a whole pipeline fit (cleaning,
//! correlation pruning, low-variance filter, RobustScalerParams, PCA summary). The side-by-side comparison with
//! numpy and pandas is `benches/scripts/prep_vs_numpy.sh`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::ArrayView2;
use outflow::io::{Column, Table};
use outflow_benches::flow_matrix;
use outflow_prep::{Fit, PrepParams, RobustScalerParams, correlation_matrix};

const ROWS: usize = 371_621;
const COLS: usize = 70;

fn prep(c: &mut Criterion) {
    let data = flow_matrix(ROWS, COLS, 11);
    let x = ArrayView2::from_shape((ROWS, COLS), &data).unwrap();
    let mut g = c.benchmark_group("prep");
    g.sample_size(10);
    g.bench_function("correlation_371621_x_70", |b| b.iter(|| correlation_matrix(black_box(x)).unwrap()));
    g.bench_function("robust_scaler_fit_371621_x_70", |b| {
        b.iter(|| RobustScalerParams::default().fit(black_box(x)).unwrap())
    });
    let table =
        Table::new((0..COLS).map(|j| Column::from_f64(format!("f{j}"), x.column(j).to_vec())).collect()).unwrap();
    let config = PrepParams::default();
    g.bench_function("pipeline_fit_371621_x_70", |b| b.iter(|| config.fit(black_box(&table)).unwrap()));
    g.finish();
}

criterion_group!(benches, prep);
criterion_main!(benches);
