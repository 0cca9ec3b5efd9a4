//! Detection quality on labeled logs: the detector's default score against every single detector of
//! `outflow benchmark` on the same prepared features, per preparation variant, every seed reported.
//!
//! ```text
//! cargo run --release -p outflow-benches --bin detection_quality -- \
//!     [--data ../shared/data] [--odds DIR] [--sets FILTER,...] [--seeds 1-3] \
//!     [--preps detection,notebook,onehot+log1p,...] [--fusions iforest+pca,max:lof+iforest,...] \
//!     [--singles all|iforest,lof,...] [--out results.csv] [--dump DIR] [--dump-prepared DIR] [--scores DIR] \
//!     [--max-fit-rows N]
//! ```
//!
//! - **Sets**: every labeled log of the shared data, plus the KDD Cup 99-derived ODDS sets `http` and
//!   `smtp` when `--odds DIR` holds `http.csv` / `smtp.csv` (`benches/scripts/odds_csv.py` writes them).
//! - **Subsampling**: positives subsampled to 3 % per seed (all kept where there are fewer); labels are
//!   never used for fitting (the leakage check is off).
//! - **Preparations** (`--preps`): `detection` is what `outflow detect` uses (the default), `notebook` the
//!   EDA preset; options joined with `+` modify the first (the notebook preset when it is not named):
//!   `onehot` (categoricals one-hot, top 10), `rarity` (categoricals as the surprisal of their level),
//!   `onehotrarity` (both), `log1p` (every feature compressed), `noprune` /
//!   `prune95` (correlation pruning off / at |r| ≥ 0.95), `novar` (low-variance filter off),
//!   `standard` (standard scaler).
//! - **Scores**: each single detector's training scores (`--singles`), the fusions given (mean rank of
//!   the members; `max:` for their maximum rank) computed from those scores, and `default`: the
//!   detector itself (`DetectorParams::default()` with the preparation variant), so the row is what a
//!   user gets.
//! - **Output**: one line per set, preparation and score with the mean over seeds; `--out` writes every
//!   seed's value (and a single detector's fit time) as CSV; `--dump` writes each seed's evaluated rows
//!   (numeric input columns and the label) for the Python baseline (`benches/scripts/iforest_baseline.py`);
//!   `--dump-prepared` the prepared matrix the single detectors fit, for PyOD on the same features
//!   (`benches/scripts/autoencoder_vs_pyod.py`); `--scores` writes each
//!   seed's single-detector scores and labels, for searching fusions offline.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use outflow::outlier::benchmark::{LabelRule, prepare_labeled};
use outflow::outlier::metrics::{average_precision, roc_auc};
use outflow::outlier::{Algorithm, FusionMethod, OutlierModel, ScoreFusion};
use outflow::prep::ScalerParams;
use outflow::prep::{Encoding, PrepParams};
use outflow::{DetectorParams, Fit, ReadOptions, Table, read_table};

struct Args {
    data: PathBuf,
    odds: Option<PathBuf>,
    sets: Vec<String>,
    seeds: Vec<u64>,
    preps: Vec<String>,
    fusions: Vec<String>,
    singles: Vec<String>,
    out: Option<PathBuf>,
    dump: Option<PathBuf>,
    dump_prepared: Option<PathBuf>,
    scores: Option<PathBuf>,
    max_fit_rows: Option<usize>,
}

fn parse_args() -> Args {
    let mut a = Args {
        data: "../shared/data".into(),
        odds: None,
        sets: Vec::new(),
        seeds: vec![1, 2, 3],
        preps: vec!["detection".into()],
        fusions: Vec::new(),
        singles: singles(),
        out: None,
        dump: None,
        dump_prepared: None,
        scores: None,
        max_fit_rows: None,
    };
    let mut it = std::env::args().skip(1);
    let list = |s: String| s.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect::<Vec<_>>();
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => a.data = v.into(),
            "--odds" => a.odds = Some(v.into()),
            "--sets" => a.sets = list(v),
            "--seeds" => a.seeds = seeds(&v),
            "--preps" => a.preps = list(v),
            "--fusions" => a.fusions = list(v),
            "--singles" if v == "all" => {}
            "--singles" => a.singles = list(v),
            "--out" => a.out = Some(v.into()),
            "--dump" => a.dump = Some(v.into()),
            "--dump-prepared" => a.dump_prepared = Some(v.into()),
            "--scores" => a.scores = Some(v.into()),
            "--max-fit-rows" => a.max_fit_rows = Some(v.parse().expect("--max-fit-rows")),
            _ => panic!("unknown flag {flag}"),
        }
    }
    a
}

fn seeds(s: &str) -> Vec<u64> {
    match s.split_once('-') {
        Some((a, b)) => (a.parse().expect("seed")..=b.parse().expect("seed")).collect(),
        None => s.split(',').map(|x| x.parse().expect("seed")).collect(),
    }
}

/// `outflow benchmark`'s single detectors (its fusions left out).
fn singles() -> Vec<String> {
    Algorithm::NAMES.iter().filter(|n| !n.starts_with("fusion_")).map(|n| n.to_string()).collect()
}

/// The preparation a variant names, for a table.
fn prep_of(variant: &str, table: &Table) -> PrepParams {
    let mut p =
        if variant.starts_with("detection") { PrepParams::auto_detection(table) } else { PrepParams::auto(table) };
    for opt in variant.split('+') {
        match opt {
            "detection" | "notebook" | "base" => {}
            "onehot" => p.categorical.encoding = Encoding::OneHot,
            "rarity" => p.categorical.encoding = Encoding::Rarity,
            "onehotrarity" => p.categorical.encoding = Encoding::OneHotRarity,
            "log1p" => p.log1p = vec!["*".into()],
            "noprune" => p.selection.correlation = None,
            "prune95" => p.selection.correlation.as_mut().expect("pruning").threshold = 0.95,
            "novar" => p.selection.low_variance = None,
            "standard" => p.scaler = ScalerParams::Standard(Default::default()),
            other => panic!("unknown preparation option {other}"),
        }
    }
    p
}

fn main() {
    let a = parse_args();
    let mut sets: Vec<(&str, PathBuf, LabelRule)> = [
        ("strato-001", "stratosphere/001-labeled-conn.log", LabelRule::positive("label", "Malicious")),
        ("strato-008", "stratosphere/008-mixed-conn.log.labeled", LabelRule::positive("label", "Malicious")),
        ("strato-010", "stratosphere/010-mixed-conn.log.labeled", LabelRule::positive("label", "Malicious")),
        ("cic-ids2017", "cic/CICIDS2017_sample.csv", LabelRule::negative("Label", "BENIGN")),
        ("nslkdd-train20", "kdd/KDDTrain+_20Percent.txt", LabelRule::negative("label", "normal")),
        ("nslkdd-test21", "kdd/KDDTest-21.txt", LabelRule::negative("label", "normal")),
        ("kdd99-10pct", "kdd/kddcup.data_10_percent.gz", LabelRule::negative("label", "normal.")),
    ]
    .into_iter()
    .map(|(n, f, r)| (n, a.data.join(f), r))
    .collect();
    if let Some(odds) = &a.odds {
        for name in ["http", "smtp"] {
            let n = if name == "http" { "odds-http" } else { "odds-smtp" };
            sets.push((n, odds.join(format!("{name}.csv")), LabelRule::positive("label", "1")));
        }
    }
    let mut out = a.out.as_ref().map(|p| {
        let mut f = std::fs::File::create(p).unwrap_or_else(|e| panic!("--out {}: {e}", p.display()));
        writeln!(f, "set,prep,score,seed,roc_auc,pr_auc,positives,rows,seconds").unwrap();
        f
    });
    println!("{:28} {:24} {:30} {:>8} {:>8} {:>8} {:>8}", "set", "prep", "score", "ROC", "PR", "worstROC", "worstPR");
    for (name, path, rule) in &sets {
        let name = name.to_string();
        if !a.sets.is_empty() && !a.sets.iter().any(|s| name.contains(s.as_str())) {
            continue;
        }
        let Ok(table) = read_table(path, &ReadOptions::default()) else {
            eprintln!("skip {} (not readable)", path.display());
            continue;
        };
        for variant in &a.preps {
            // score name → (roc, pr) per seed
            let mut results: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            let mut record = |score: &str, seed: u64, y: &[bool], s: &[f64], secs: Option<f64>| {
                let (roc, pr) = (roc_auc(y, s).unwrap(), average_precision(y, s).unwrap());
                if let Some(f) = out.as_mut() {
                    let pos = y.iter().filter(|&&b| b).count();
                    let secs = secs.map(|t| format!("{t:.2}")).unwrap_or_default();
                    writeln!(f, "{name},{variant},{score},{seed},{roc:.6},{pr:.6},{pos},{},{secs}", y.len()).unwrap();
                }
                results.entry(score.to_owned()).or_default().push((roc, pr));
            };
            let prep = prep_of(variant, &table);
            for &seed in &a.seeds {
                let m = prepare_labeled(&table, rule, Some(0.03), seed, Some(&prep)).expect("prepare");
                if let Some(dir) = &a.dump
                    && variant == &a.preps[0]
                {
                    dump(dir, &name, seed, &table, &m.label_column, &m.rows, &m.y);
                }
                if let Some(dir) = &a.dump_prepared
                    && variant == &a.preps[0]
                {
                    dump_prepared(dir, &name, seed, &m.x, &m.y);
                }
                let mut scores: BTreeMap<String, Vec<f64>> = BTreeMap::new();
                for single in &a.singles {
                    let det = Algorithm::preset(single, seed).expect("detector");
                    let start = std::time::Instant::now();
                    match det.fit(m.x.view()) {
                        Ok(model) => {
                            let secs = start.elapsed().as_secs_f64();
                            let s = model.training_scores().to_vec();
                            record(single, seed, &m.y, &s, Some(secs));
                            scores.insert(single.clone(), s);
                        }
                        Err(e) => eprintln!("{name} {variant} {single} seed {seed}: {e}"),
                    }
                }
                if let Some(dir) = &a.scores {
                    write_scores(dir, &format!("{name}@{variant}-{seed}"), &scores, &m.y);
                }
                for spec in &a.fusions {
                    let (method, members) = match spec.strip_prefix("max:") {
                        Some(m) => (FusionMethod::MaxRank, m),
                        None => (FusionMethod::Rank, spec.as_str()),
                    };
                    let cols: Option<Vec<&[f64]>> =
                        members.split('+').map(|m| scores.get(m).map(Vec::as_slice)).collect();
                    let Some(cols) = cols else { continue };
                    let fused = ScoreFusion::fit(method, &cols, None).unwrap().combine(&cols);
                    record(spec, seed, &m.y, &fused, None);
                }
                // The product's own path on the same rows: the detector with this preparation.
                let t = table.take_rows(&m.rows);
                let mut p = prep.clone();
                p.labels.push(m.label_column.clone());
                p.selection.leakage = None;
                let mut params = DetectorParams { prep: Some(p), seed, ..Default::default() };
                if let Some(n) = a.max_fit_rows {
                    params.max_fit_rows = n;
                }
                match params.fit(&t) {
                    Ok(fit) => {
                        let s: Vec<f64> = fit.flows.iter().map(|f| f.outlier_score.unwrap_or(0.0)).collect();
                        record("default", seed, &m.y, &s, None);
                    }
                    Err(e) => eprintln!("{name} {variant} default seed {seed}: {e}"),
                }
            }
            for (score, v) in &results {
                let n = v.len() as f64;
                let roc = v.iter().map(|r| r.0).sum::<f64>() / n;
                let pr = v.iter().map(|r| r.1).sum::<f64>() / n;
                let wroc = v.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
                let wpr = v.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
                println!("{name:28} {variant:24} {score:30} {roc:8.3} {pr:8.3} {wroc:8.3} {wpr:8.3}");
            }
        }
    }
}

/// Writes every single detector's training scores and the label (1 = positive), one row per evaluated row.
fn write_scores(dir: &Path, stem: &str, scores: &BTreeMap<String, Vec<f64>>, y: &[bool]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{stem}.csv"))).unwrap());
    let names: Vec<&str> = scores.keys().map(String::as_str).collect();
    writeln!(f, "{},__label", names.join(",")).unwrap();
    for (i, &pos) in y.iter().enumerate() {
        for n in &names {
            write!(f, "{},", scores[*n][i]).unwrap();
        }
        writeln!(f, "{}", u8::from(pos)).unwrap();
    }
}

/// Writes the evaluated rows' numeric input columns (the label column left out) and the label (1 =
/// positive).
fn dump(dir: &Path, name: &str, seed: u64, table: &Table, label: &str, rows: &[usize], y: &[bool]) {
    std::fs::create_dir_all(dir).unwrap();
    let cols: Vec<_> = table.columns().iter().filter(|c| c.dtype().is_numeric() && c.name() != label).collect();
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{name}-{seed}.csv"))).unwrap());
    let header: Vec<String> = cols.iter().map(|c| c.name().replace(',', "_")).collect();
    writeln!(f, "{},__label", header.join(",")).unwrap();
    for (&r, &pos) in rows.iter().zip(y) {
        for c in &cols {
            match c.f64_at(r) {
                Some(v) => write!(f, "{v},").unwrap(),
                None => write!(f, ",").unwrap(),
            }
        }
        writeln!(f, "{}", u8::from(pos)).unwrap();
    }
}

/// Writes the prepared matrix the single detectors fit and the label (1 = positive).
fn dump_prepared(dir: &Path, name: &str, seed: u64, x: &ndarray::Array2<f64>, y: &[bool]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{name}-{seed}.csv"))).unwrap());
    let header: Vec<String> = (0..x.ncols()).map(|j| format!("f{j}")).collect();
    writeln!(f, "{},__label", header.join(",")).unwrap();
    for (row, &pos) in x.rows().into_iter().zip(y) {
        for v in row {
            write!(f, "{v},").unwrap();
        }
        writeln!(f, "{}", u8::from(pos)).unwrap();
    }
}
