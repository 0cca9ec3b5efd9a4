//! Scoring throughput of a fitted detector, in process: reading the log, preparing it, and scoring the
//! prepared rows (the in-memory part), each timed on its own, best of `--repeat` runs. Fits the default
//! detector on the log first (the fit is not timed) unless `--model` gives a saved one.
//!
//! `cargo run --release -p outflow-benches --bin score_throughput -- LOG [--model M] [--repeat 3]
//! [--score-only]` (`--score-only`: reading and preparing once, then only the in-memory scoring, to
//! profile it)

use std::time::Instant;

use outflow::{Detector, DetectorParams, ReadOptions, read_table};

fn best<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let mut best = f64::INFINITY;
    for _ in 0..repeat {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let log = args.first().ok_or("usage: score_throughput LOG [--model M] [--repeat N]")?;
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let repeat: usize = opt("--repeat").map_or(Ok(3), |s| s.parse())?;
    let only = args.iter().any(|a| a == "--score-only");
    let (read_s, table) = best(if only { 1 } else { repeat }, || read_table(log, &ReadOptions::default()));
    let table = table?;
    let detector = match opt("--model") {
        Some(m) => Detector::load(m)?,
        None => DetectorParams::default().fit(&table)?.detector,
    };
    let (prep_s, prepared) = best(if only { 1 } else { repeat }, || detector.prep().transform(&table));
    let prepared = prepared?;
    let (score_s, scores) = best(repeat, || detector.score_prepared_rows(&prepared));
    let n = scores?.len() as f64;
    if args.iter().any(|a| a == "--score-only") {
        println!("rows {n}: score prepared {score_s:.3}s ({:.0} rows/s)", n / score_s);
        return Ok(());
    }
    let (whole_s, whole) = best(repeat, || detector.score(&table));
    whole?;
    let (assign_s, assigned) = best(repeat, || detector.clustering().assign(prepared.model_input().view()));
    assigned?;
    let rate = |s: f64| n / s;
    println!("rows {n}, {} features", prepared.model_input().ncols());
    println!("read {read_s:.3}s ({:.0} rows/s)", rate(read_s));
    println!("prepare {prep_s:.3}s ({:.0} rows/s)", rate(prep_s));
    println!("score prepared {score_s:.3}s ({:.0} rows/s)", rate(score_s));
    println!("cluster membership of every row, no row scored once for its copies {assign_s:.3}s");
    println!("prepare + score {whole_s:.3}s ({:.0} rows/s)", rate(whole_s));
    Ok(())
}
