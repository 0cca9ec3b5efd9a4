//! Times the Pearson correlation matrix of every numeric column of a CSV (the side-by-side script
//! `benches/scripts/prep_vs_numpy.sh` runs it next to numpy and pandas on the same file).
//!
//! ```text
//! cargo run --release -p outflow-benches --bin corr_tool -- FILE.csv [--repeat N] [--out corr.f64]
//! ```
//!
//! Prints one JSON line: rows, columns, threads, seconds to read, best and median seconds for the
//! correlation matrix. `--out` writes the matrix as little-endian f64, row-major.

use std::time::Instant;

use outflow::io::{CsvOptions, Input, NullPolicy, read_csv};
use outflow_prep::correlation_matrix;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: corr_tool FILE.csv [--repeat N] [--out FILE]")?;
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let repeat: usize = flag("--repeat").map_or(Ok(5), |s| s.parse())?;

    let t0 = Instant::now();
    let table = read_csv(&Input::path(path)?, &CsvOptions::default())?;
    let names = table.numeric_names();
    let x = table.to_array(&names, NullPolicy::Error)?;
    let read = t0.elapsed().as_secs_f64();

    let mut times = Vec::new();
    let mut r = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        r = Some(correlation_matrix(x.view())?);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    if let (Some(out), Some(r)) = (flag("--out"), &r) {
        let bytes: Vec<u8> = r.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(out, bytes)?;
    }
    println!(
        "{{\"rows\": {}, \"cols\": {}, \"threads\": {}, \"read_seconds\": {read:.3}, \"corr_seconds_best\": {:.4}, \"corr_seconds_median\": {:.4}}}",
        x.nrows(),
        x.ncols(),
        rayon::current_num_threads(),
        times[0],
        times[times.len() / 2]
    );
    Ok(())
}
