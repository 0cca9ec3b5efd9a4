//! Helper for the side-by-side scripts in `benches/scripts/`:
//!
//! ```text
//! outlier_tool time DATA.csv DETECTOR [--repeat N] [--seed S] [--out SCORES.f64]
//! outlier_tool benchmark LOG LABEL_COLUMN (positive|negative) VALUE [CONTAMINATION|none] [SEED] [DETECTORS]
//! outlier_tool prepare LOG LABEL_COLUMN (positive|negative) VALUE CONTAMINATION SEED OUT.csv
//! ```
//!
//! `prepare` writes the benchmark's prepared feature matrix (features only, no label) as a numeric CSV.
//!
//! `time` reads a numeric CSV (header, every column a feature), fits DETECTOR (a preset name such as
//! `iforest` or `lof`) `--repeat` times and prints JSON with the best fit time (training scores
//! included) and the thread count; `--out` writes the training scores as little-endian f64.

use std::time::Instant;

use outflow::io::{CsvOptions, Format, Input, NullPolicy, ReadOptions, read_input};
use outflow::outlier::benchmark::{BenchmarkParams, LabelRule, benchmark, parse_detectors};
use outflow::outlier::{Algorithm, Fit, OutlierModel};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    match args.first().map(String::as_str) {
        Some("time") => {
            let (path, det) = (&args[1], &args[2]);
            let repeat: usize = flag("--repeat").map_or(Ok(1), |v| v.parse())?;
            let seed: u64 = flag("--seed").map_or(Ok(0), |v| v.parse())?;
            let opts = ReadOptions { format: Format::Csv, csv: CsvOptions::default(), columns: None };
            let (t, _) = read_input(&Input::path(path)?, &opts)?;
            let names: Vec<String> = t.names().iter().map(|s| s.to_string()).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let x = t.to_array(&refs, NullPolicy::Error)?;
            let d = Algorithm::preset(det, seed)?;
            let mut best = f64::INFINITY;
            let mut scores = Vec::new();
            for _ in 0..repeat.max(1) {
                let t0 = Instant::now();
                let m = d.fit(x.view())?;
                best = best.min(t0.elapsed().as_secs_f64());
                scores = m.training_scores().to_vec();
            }
            if let Some(out) = flag("--out") {
                let bytes: Vec<u8> = scores.iter().flat_map(|v| v.to_le_bytes()).collect();
                std::fs::write(out, bytes)?;
            }
            println!(
                "{{\"detector\":\"{}\",\"rows\":{},\"cols\":{},\"seconds\":{best},\"threads\":{}}}",
                d.name(),
                x.nrows(),
                x.ncols(),
                rayon::current_num_threads()
            );
        }
        Some("benchmark") => {
            let (log, col, kind, value) = (&args[1], &args[2], &args[3], &args[4]);
            let rule =
                if kind == "positive" { LabelRule::positive(col, value) } else { LabelRule::negative(col, value) };
            let seed: u64 = args.get(6).map_or(Ok(0), |v| v.parse())?;
            let mut config = BenchmarkParams::new(rule, seed);
            config.contamination = match args.get(5).map(String::as_str) {
                None => Some(0.03),
                Some("none") => None,
                Some(c) => Some(c.parse()?),
            };
            if let Some(list) = args.get(7) {
                config.detectors = parse_detectors(list, seed)?;
            }
            let (t, _) = read_input(&Input::path(log)?, &ReadOptions::default())?;
            let report = benchmark(&t, &config)?;
            print!("{report}");
        }
        Some("prepare") => {
            let (log, col, kind, value) = (&args[1], &args[2], &args[3], &args[4]);
            let rule =
                if kind == "positive" { LabelRule::positive(col, value) } else { LabelRule::negative(col, value) };
            let c = if args[5] == "none" { None } else { Some(args[5].parse()?) };
            let (t, _) = read_input(&Input::path(log)?, &ReadOptions::default())?;
            let m = outflow::outlier::prepare_labeled(&t, &rule, c, args[6].parse()?, None)?;
            let mut out =
                m.features.iter().map(|f| format!("\"{}\"", f.replace('"', "'"))).collect::<Vec<_>>().join(",");
            out.push('\n');
            for r in m.x.rows() {
                out.push_str(&r.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
            std::fs::write(&args[7], out)?;
            eprintln!("{} rows × {} features", m.x.nrows(), m.x.ncols());
        }
        _ => {
            return Err(
                "usage: outlier_tool time DATA.csv DETECTOR | benchmark LOG COLUMN positive|negative VALUE".into()
            );
        }
    }
    Ok(())
}
