//! Trains forests and computes TreeSHAP for the reference generator
//! (`tools/reference/explain_reference.py`) and the side-by-side script
//! (`benches/scripts/shap_vs_python.sh`).
//!
//! ```text
//! shap_tool train DATA.csv FOREST.json [--trees N] [--max-depth D|none] [--seed S] [--balanced]
//!                 [--no-bootstrap] [--max-features all|sqrt|N] [--min-samples-leaf N]
//! shap_tool shap FOREST.json DATA.csv [--out VALUES.f64] [--repeat N]
//! ```
//!
//! `DATA.csv` holds numeric feature columns and, for `train`, an integer `label` column (ignored by
//! `shap`). `shap` prints one JSON line with the best wall-clock time of the SHAP computation alone
//! (reading and preparing the inputs excluded) and writes the values as little-endian f64,
//! `rows × features × classes`. Threads: `RAYON_NUM_THREADS`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use outflow::explain::{
    ClassWeight, FitSupervised, MaxFeatures, RandomForestParams, TreeEnsemble, feature_matrix, labels_from_table,
};
use outflow::io::{CsvOptions, Input, read_csv};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn read(path: &str) -> Res<outflow::io::Table> {
    Ok(read_csv(&Input::path(path)?, &CsvOptions { delimiter: Some(b','), ..Default::default() })?)
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn train(args: &[String]) -> Res<()> {
    let [data, out, ..] = args else { return Err("train DATA.csv FOREST.json [options]".into()) };
    let table = read(data)?;
    let features = feature_matrix(&table, &["label"])?;
    let labels = labels_from_table(&table, "label")?;
    let mut p = RandomForestParams::default();
    if let Some(v) = flag(args, "--trees") {
        p.n_estimators = v.parse()?;
    }
    if let Some(v) = flag(args, "--max-depth") {
        p.max_depth = if v == "none" { None } else { Some(v.parse()?) };
    }
    if let Some(v) = flag(args, "--seed") {
        p.seed = v.parse()?;
    }
    if let Some(v) = flag(args, "--min-samples-leaf") {
        p.min_samples_leaf = v.parse()?;
    }
    if let Some(v) = flag(args, "--max-features") {
        p.max_features = match v {
            "all" => MaxFeatures::All,
            "sqrt" => MaxFeatures::Sqrt,
            n => MaxFeatures::Count(n.parse()?),
        };
    }
    if args.iter().any(|a| a == "--balanced") {
        p.class_weight = ClassWeight::Balanced;
    }
    if args.iter().any(|a| a == "--no-bootstrap") {
        p.bootstrap = false;
    }
    let t = Instant::now();
    let forest = p.fit(features.x.view(), &labels)?;
    let fit_seconds = t.elapsed().as_secs_f64();
    std::fs::write(out, forest.to_shap_json(Some(&features.names))?)?;
    let nodes: usize = forest.trees().iter().map(|t| t.n_nodes()).sum();
    println!(
        "{{\"fit_seconds\": {fit_seconds}, \"trees\": {}, \"nodes\": {nodes}, \"classes\": {:?}, \"accuracy\": {}}}",
        forest.trees().len(),
        forest.classes(),
        forest.accuracy(features.x.view(), &labels)?
    );
    Ok(())
}

fn shap(args: &[String]) -> Res<()> {
    let [model, data, ..] = args else { return Err("shap FOREST.json DATA.csv [--out FILE] [--repeat N]".into()) };
    let ensemble = TreeEnsemble::from_shap_json(&std::fs::read_to_string(model)?)?;
    let table = read(data)?;
    let exclude: Vec<&str> = if table.column("label").is_some() { vec!["label"] } else { vec![] };
    let features = feature_matrix(&table, &exclude)?;
    let repeat: usize = flag(args, "--repeat").map_or(Ok(1), str::parse)?;
    let mut best = f64::INFINITY;
    let mut values = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let v = ensemble.shap_values(features.x.view())?;
        best = best.min(t.elapsed().as_secs_f64());
        values = Some(v);
    }
    let values = values.expect("at least one run");
    if let Some(out) = flag(args, "--out") {
        let bytes: Vec<u8> = values.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(Path::new(out), bytes)?;
    }
    let (n, m, c) = values.values.dim();
    println!(
        "{{\"seconds\": {best}, \"rows\": {n}, \"features\": {m}, \"classes\": {c}, \"threads\": {}}}",
        rayon::current_num_threads()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("train") => train(&args[1..]),
        Some("shap") => shap(&args[1..]),
        _ => Err("usage: shap_tool train|shap ...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
