//! outflow-outlier: fit (training scores included) of the main detectors on flow-like data with exact
//! duplicates, and scoring with a fitted Isolation Forest. The side-by-side comparison with PyOD is
//! `benches/scripts/outlier_vs_pyod.sh`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use outflow::outlier::{Algorithm, Fit, ScoreSamples};

/// Heavy-tailed, flow-like features; every 4th row repeats an earlier one (scans, retries).
fn data(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut unit = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Array2::from_shape_fn((rows, cols), |(_, j)| (3.0 * unit()).exp() * (j + 1) as f64);
    for i in (4..rows).step_by(4) {
        let src = (unit() * i as f64) as usize;
        let row = x.row(src).to_owned();
        x.row_mut(i).assign(&row);
    }
    x
}

fn bench_outlier(c: &mut Criterion) {
    let x = data(20_000, 12, 3);
    let mut g = c.benchmark_group("outlier");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.nrows() as u64));
    for name in ["iforest", "lof", "knn", "ecod", "copod", "pca", "gmm", "cblof"] {
        let d = Algorithm::preset(name, 1).unwrap();
        g.bench_function(format!("fit_{name}_20k_x_12"), |b| b.iter(|| d.fit(x.view()).unwrap()));
    }
    let forest = Algorithm::preset("iforest", 1).unwrap().fit(x.view()).unwrap();
    g.bench_function("score_iforest_20k_x_12", |b| b.iter(|| forest.score_samples(x.view()).unwrap()));
    g.finish();
}

criterion_group!(benches, bench_outlier);
criterion_main!(benches);
