//! Run directories written with the facade's writer (the one `outflow detect` uses), so that the report
//! is tested without the command.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use outflow::io::{Input, ReadOptions, Table, read_input};
use outflow::run::{RunDir, RunInput};
use outflow::{DetectorFit, DetectorParams, read_table};

pub fn sample_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled")
}

/// The built-in sample log (5,663 labeled Zeek flows).
pub fn sample_table() -> Table {
    read_table(sample_log(), &ReadOptions::default()).unwrap()
}

/// A small synthetic Zeek conn log: `blobs` groups of similar flows plus a few heavy uploads.
pub fn synthetic_table(per_blob: usize, blobs: usize) -> Table {
    let mut log = String::from(
        "#separator \\x09\n#fields\tts\tuid\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlabel\n\
         #types\ttime\tstring\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\n",
    );
    let mut i = 0;
    for b in 0..blobs {
        for j in 0..per_blob {
            let d = 0.1 * (b + 1) as f64 + (j % 7) as f64 * 0.001;
            let o = 300 * (b + 1) * (b + 1) + j % 11;
            let r = 1200 * (b + 1) + j % 13;
            let svc = ["http", "dns", "ssl", "ssh"][b % 4];
            log.push_str(&format!("{i}.0\tC{i}\ttcp\t{svc}\t{d}\t{o}\t{r}\tSF\tBenign\n"));
            i += 1;
        }
    }
    for k in 0..5 {
        log.push_str(&format!(
            "{i}.0\tC{i}\ttcp\t-\t{}\t{}\t12\tS0\tMalicious\n",
            3600.0 + k as f64,
            90_000_000 + k * 1000
        ));
        i += 1;
    }
    read_input(&Input::bytes("synthetic.conn.log", log), &ReadOptions::default()).unwrap().0
}

/// Fits a detector on `table` and writes `dir` as `outflow detect --out dir` does.
pub fn write_run_dir(dir: &Path, table: &Table, params: &DetectorParams) -> DetectorFit {
    write_run_dir_with(dir, table, params, &[])
}

/// [`write_run_dir`] with host and pair tables as well, as `outflow detect --level all` writes them.
pub fn write_run_dir_all_levels(dir: &Path, table: &Table, params: &DetectorParams) -> DetectorFit {
    let levels: Vec<DetectorFit> = [outflow::Level::Host, outflow::Level::Pair]
        .into_iter()
        .map(|level| DetectorParams { level, ..params.clone() }.fit(table).unwrap())
        .collect();
    write_run_dir_with(dir, table, params, &levels)
}

fn write_run_dir_with(dir: &Path, table: &Table, params: &DetectorParams, levels: &[DetectorFit]) -> DetectorFit {
    let fit = params.fit(table).unwrap();
    let run = RunInput {
        input: "test.conn.log",
        format: "zeek",
        table,
        rows_read: table.n_rows(),
        flows: &fit.flows,
        rows_selected: table.n_rows(),
        fit: &fit,
        fit_rows: None,
        levels,
        tuning: None,
        seed: params.seed,
        read_seconds: 0.0,
        tune_seconds: 0.0,
        model_key: None,
        table_format: Default::default(),
        started: std::time::Instant::now(),
    };
    RunDir::write(dir, &run).unwrap();
    fit
}
