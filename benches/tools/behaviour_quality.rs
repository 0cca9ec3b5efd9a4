//! Detection quality of the host and pair levels on simulated behaviours, against the baselines an
//! analyst would otherwise use.
//!
//! `cargo run --release -p outflow-benches --bin behaviour_quality -- [DATA_DIR] [OUT_DIR] [SEEDS]` (default
//! `../shared/data`, no output directory, seeds `1-3`). Background: the benign flows of the Stratosphere captures 001, 008 and 010 and zat's
//! conn.log; behaviours planted by [`outflow_benches::simulate`]; seeds 1–3, averaged. With `OUT_DIR` the
//! simulated logs are written there (`sim-<seed>.conn.log`).
//!
//! Per behaviour and level, a row (host or pair in a window) is positive when it holds the behaviour's
//! flows as their originator (host level) or carries them (pair level), negative when it holds no
//! malicious flow at all; hosts that only received malicious flows are left out. Scores compared:
//! Outflow's `outlier_score` at that level; (a) the flow-level score, max over the row's flows; (b) an
//! Isolation Forest (200 trees) on the same aggregates, `log1p`-compressed; (c) the beacon score alone
//! (pairs: the row's; hosts: the max over the host's pairs in the window).

use std::collections::HashMap;
use std::path::Path;

use outflow::aggregate::{AggregateParams, Entities, Level, aggregate};
use outflow::io::{Input, ReadOptions, Table, read_input};
use outflow::outlier::metrics::{average_precision, roc_auc};
use outflow::outlier::{IForestParams, ScoreSamples};
use outflow::{DetectorFit, DetectorParams, Fit, read_table};
use outflow_benches::simulate::{Behaviour, bench_params, simulate};

const METHODS: [&str; 4] = ["outflow", "flow max", "iforest", "beacon"];

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../shared/data".into());
    let out = std::env::args().nth(2).filter(|o| !o.is_empty());
    let files = [
        "stratosphere/001-labeled-conn.log",
        "stratosphere/008-mixed-conn.log.labeled",
        "stratosphere/010-mixed-conn.log.labeled",
        "zeek-zat/conn.log",
    ];
    let captures: Vec<Table> = files
        .iter()
        .map(|f| read_table(Path::new(&dir).join(f), &ReadOptions::default()).expect("background capture"))
        .collect();
    // (level, behaviour, method) → [roc, pr, p@10] summed over seeds.
    let mut sums: HashMap<(Level, &str, &str), [f64; 3]> = HashMap::new();
    let seeds = match std::env::args().nth(3) {
        Some(s) => {
            let (a, b) = s.split_once('-').unwrap_or((&s, &s));
            a.parse::<u64>().expect("first seed")..=b.parse::<u64>().expect("last seed")
        }
        None => 1..=3,
    };
    let seed_names = format!("{}–{}", seeds.start(), seeds.end());
    for seed in seeds.clone() {
        let sim = simulate(&captures, &bench_params(seed));
        let log = sim.to_zeek();
        if let Some(o) = &out {
            std::fs::create_dir_all(o).expect("out dir");
            std::fs::write(Path::new(o).join(format!("sim-{seed}.conn.log")), &log).expect("write log");
        }
        let (flows, _) = read_input(&Input::bytes("sim.conn.log", log), &ReadOptions::default()).expect("read back");
        eprintln!("seed {seed}: {} flows", flows.n_rows());
        let flow_fit = DetectorParams { seed, ..DetectorParams::default() }.fit(&flows).expect("flow fit");
        let pairs_for_beacon = aggregate(&flows, &AggregateParams::default(), Level::Pair).expect("pairs");
        for level in [Level::Host, Level::Pair] {
            let fit = DetectorParams { level, seed, ..DetectorParams::default() }.fit(&flows).expect("fit");
            let e = fit.entities.as_ref().expect("entities");
            let truth = Truth::of(e, &flows);
            let scores = [
                fit.flows.iter().map(|f| f.outlier_score.unwrap_or(0.0)).collect::<Vec<_>>(),
                flow_max(e, &flows, &flow_fit),
                iforest(e, seed),
                beacon(e, &pairs_for_beacon),
            ];
            if let Some(o) = &out {
                dump(Path::new(o).join(format!("sim-{seed}-{level}.csv")), e, &scores, &truth);
            }
            for b in Behaviour::ALL {
                let (rows, y) = truth.task(b.name());
                if !y.iter().any(|&p| p) {
                    continue;
                }
                for (m, s) in METHODS.iter().zip(&scores) {
                    let s: Vec<f64> = rows.iter().map(|&r| s[r]).collect();
                    let v = [roc_auc(&y, &s).unwrap(), average_precision(&y, &s).unwrap(), precision_at(&y, &s, 10)];
                    let acc = sums.entry((level, b.name(), m)).or_insert([0.0; 3]);
                    acc.iter_mut().zip(v).for_each(|(a, x)| *a += x);
                }
            }
        }
    }
    let n = seeds.count() as f64;
    for level in [Level::Host, Level::Pair] {
        println!("\n{level} level: ROC-AUC / PR-AUC / precision at 10 (seeds {seed_names})\n");
        println!("| behaviour | {} |", METHODS.join(" | "));
        println!("|---|{}", "---|".repeat(METHODS.len()));
        for b in Behaviour::ALL {
            let cells: Vec<String> = METHODS
                .iter()
                .map(|m| {
                    sums.get(&(level, b.name(), m))
                        .map_or("–".into(), |v| format!("{:.3} / {:.3} / {:.2}", v[0] / n, v[1] / n, v[2] / n))
                })
                .collect();
            println!("| {} | {} |", b.name(), cells.join(" | "));
        }
    }
}

/// The behaviours each row holds.
struct Truth {
    /// Behaviours a row originated (hosts) or carries (pairs).
    positive: Vec<Vec<String>>,
    /// Whether a row holds any malicious flow.
    tainted: Vec<bool>,
}

impl Truth {
    fn of(e: &Entities, flows: &Table) -> Truth {
        let links = e.link(flows).expect("links");
        let label = flows.column("detailed-label").expect("simulated labels");
        let mut positive = vec![Vec::new(); e.len()];
        let mut tainted = vec![false; e.len()];
        for (i, l) in links.iter().enumerate() {
            let b = label.value(i).to_string();
            if b == "-" || b.is_empty() {
                continue;
            }
            if let Some(r) = l[0] {
                if !positive[r].contains(&b) {
                    positive[r].push(b.clone());
                }
                tainted[r] = true;
            }
            if let Some(r) = l[1] {
                tainted[r] = true;
            }
        }
        Truth { positive, tainted }
    }

    /// Rows of the task "behaviour `b` against clean rows" and their classes.
    fn task(&self, b: &str) -> (Vec<usize>, Vec<bool>) {
        let rows: Vec<usize> =
            (0..self.positive.len()).filter(|&r| self.positive[r].iter().any(|x| x == b) || !self.tainted[r]).collect();
        let y = rows.iter().map(|&r| self.positive[r].iter().any(|x| x == b)).collect();
        (rows, y)
    }
}

/// Writes a level's rows: features, every method's score and the truth (`behaviour;…`, `tainted` or empty).
fn dump(path: std::path::PathBuf, e: &Entities, scores: &[Vec<f64>], truth: &Truth) {
    use std::fmt::Write;
    let names = e.feature_names();
    let t = e.table();
    let ids: Vec<&str> = ["src", "dst", "window_start"].into_iter().filter(|c| t.column(c).is_some()).collect();
    let mut s = format!("{},{},{},truth\n", ids.join(","), names.join(","), METHODS.join(","));
    for r in 0..e.len() {
        for c in &ids {
            write!(s, "{},", t.column(c).expect("id column").value(r)).unwrap();
        }
        for n in names {
            write!(s, "{},", e.value(n, r).unwrap_or(f64::NAN)).unwrap();
        }
        for m in scores {
            write!(s, "{},", m[r]).unwrap();
        }
        let t = if !truth.positive[r].is_empty() {
            truth.positive[r].join(";")
        } else if truth.tainted[r] {
            "tainted".into()
        } else {
            String::new()
        };
        writeln!(s, "{t}").unwrap();
    }
    std::fs::write(path, s).expect("write dump");
}

fn flow_max(e: &Entities, flows: &Table, flow_fit: &DetectorFit) -> Vec<f64> {
    let mut max = vec![0.0f64; e.len()];
    for (i, l) in e.link(flows).expect("links").iter().enumerate() {
        let s = flow_fit.flows[i].outlier_score.unwrap_or(0.0);
        for r in l.iter().flatten() {
            max[*r] = max[*r].max(s);
        }
    }
    max
}

fn iforest(e: &Entities, seed: u64) -> Vec<f64> {
    let t = e.table();
    let names: Vec<&str> = e.feature_names().iter().map(String::as_str).collect();
    let mut x = t.to_array(&names, Default::default()).expect("features");
    x.mapv_inplace(|v| v.signum() * v.abs().ln_1p());
    let model = IForestParams { n_estimators: 200, seed, ..IForestParams::default() }.fit(x.view()).expect("iforest");
    model.score_samples(x.view()).expect("scores").to_vec()
}

fn beacon(e: &Entities, pairs: &Entities) -> Vec<f64> {
    let t = e.table();
    let col = |t: &Table, c: &str, r: usize| t.column(c).map_or(String::new(), |c| c.value(r).to_string());
    let score = |t: &Table, r: usize| t.column("beacon_score").and_then(|c| c.f64_at(r)).unwrap_or(0.0);
    if e.level() == Level::Pair {
        return (0..e.len()).map(|r| score(t, r)).collect();
    }
    let p = pairs.table();
    let mut best: HashMap<(String, String), f64> = HashMap::new();
    for r in 0..pairs.len() {
        let k = (col(p, "src", r), col(p, "window_start", r));
        let v = best.entry(k).or_insert(0.0);
        *v = v.max(score(p, r));
    }
    (0..e.len()).map(|r| best.get(&(col(t, "src", r), col(t, "window_start", r))).copied().unwrap_or(0.0)).collect()
}

/// Share of positives among the `n` highest scores (ties broken by row order).
fn precision_at(y: &[bool], s: &[f64], n: usize) -> f64 {
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    let n = n.min(order.len());
    order.iter().take(n).filter(|&&i| y[i]).count() as f64 / n as f64
}
