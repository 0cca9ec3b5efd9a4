//! Prints the time of each HDBSCAN stage on a numeric CSV (no header handling beyond skipping line 1).
//! `cargo run --release -p outflow-benches --bin stage_times -- data.csv 50 10 [core,mst,fit]`
//!
//! The optional fourth argument picks the stages (`core,mst,fit` by default; `approx` is the fit with
//! approximate neighbours); each runs from the matrix alone, so `mst` includes the core distances it
//! needs and `fit` everything. The rows are read into
//! one flat matrix, so the peak memory of a run is the matrix plus the stages'.

use std::io::BufRead;
use std::time::Instant;

use ndarray::Array2;
use outflow_cluster::{ClusterModel, Fit, HdbscanParams, Neighbors, stages};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = std::io::BufReader::new(std::fs::File::open(&args[1]).expect("open csv"));
    let (mut values, mut n, mut d) = (Vec::new(), 0usize, 0usize);
    for line in file.lines().skip(1) {
        let line = line.expect("read csv");
        let before = values.len();
        values.extend(line.split(',').map(|v| v.parse::<f64>().expect("number")));
        d = values.len() - before;
        n += 1;
    }
    let x = Array2::from_shape_vec((n, d), values).expect("shape");
    let mcs: usize = args.get(2).map_or(50, |s| s.parse().unwrap());
    let ms: usize = args.get(3).map_or(10, |s| s.parse().unwrap());
    let wanted = args.get(4).map_or("core,mst,fit", String::as_str);
    let p = HdbscanParams::new(mcs).min_samples(ms);
    for stage in wanted.split(',') {
        let t = Instant::now();
        match stage {
            "core" => {
                let core = stages::core_distances(x.view(), p.metric, ms).unwrap();
                println!("core distances: {:.3}s (sum {:.6})", t.elapsed().as_secs_f64(), core.iter().sum::<f64>());
            }
            "mst" => {
                let (mst, _) = stages::mutual_reachability_mst(x.view(), &p).unwrap();
                println!(
                    "core + MST: {:.3}s (weight {:.6})",
                    t.elapsed().as_secs_f64(),
                    mst.iter().map(|e| e.distance).sum::<f64>()
                );
            }
            "fit" => {
                let _ = p.fit(x.view()).unwrap();
                println!("full fit: {:.3}s", t.elapsed().as_secs_f64());
            }
            "approx" => {
                let m = p.clone().neighbors(Neighbors::Approximate).fit(x.view()).unwrap();
                let labels: u64 = m.labels().iter().enumerate().map(|(i, &l)| (i as u64 + 1) * (l + 1) as u64).sum();
                println!(
                    "approximate fit: {:.3}s ({} clusters, neighbour recall {:.4}, label checksum {labels})",
                    t.elapsed().as_secs_f64(),
                    m.n_clusters(),
                    m.neighbor_recall().unwrap_or(f64::NAN)
                );
            }
            other => panic!("unknown stage {other:?} (core, mst, fit, approx)"),
        }
    }
}
