//! Prints the time of each HDBSCAN stage on a numeric CSV (no header handling beyond skipping line 1).
//! `cargo run --release -p outflow-benches --bin stage_times -- data.csv 50 10`

use std::time::Instant;

use ndarray::Array2;
use outflow_cluster::{Fit, HdbscanParams, stages};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("read csv");
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for line in text.lines().skip(1) {
        rows.push(line.split(',').map(|v| v.parse().expect("number")).collect());
    }
    let (n, d) = (rows.len(), rows[0].len());
    let x = Array2::from_shape_vec((n, d), rows.concat()).expect("shape");
    let mcs: usize = args.get(2).map_or(50, |s| s.parse().unwrap());
    let ms: usize = args.get(3).map_or(10, |s| s.parse().unwrap());
    let p = HdbscanParams::new(mcs).min_samples(ms);
    let t = Instant::now();
    let core = stages::core_distances(x.view(), p.metric, ms).unwrap();
    println!("core distances: {:.3}s (sum {:.6})", t.elapsed().as_secs_f64(), core.iter().sum::<f64>());
    let t = Instant::now();
    let (mst, _) = stages::mutual_reachability_mst(x.view(), &p).unwrap();
    println!(
        "core + MST: {:.3}s (weight {:.6})",
        t.elapsed().as_secs_f64(),
        mst.iter().map(|e| e.distance).sum::<f64>()
    );
    let t = Instant::now();
    let _ = p.fit(x.view()).unwrap();
    println!("full fit: {:.3}s", t.elapsed().as_secs_f64());
}
