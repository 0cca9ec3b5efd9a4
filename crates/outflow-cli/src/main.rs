//! `outflow`: the command-line face of the Outflow libraries.

mod algorithm;
mod cmd;
mod input;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Find exfiltration and other anomalous flows in network logs.
#[derive(Parser)]
#[command(name = "outflow", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: fit a detector on a log (default: the built-in sample), score every flow (and, with
    /// --level, every host or pair per time window), and write scores, anomalies, cluster statistics,
    /// alerts, a summary and the models into a run directory.
    Detect(Box<cmd::detect::Args>),
    /// Score new flows with a saved model.
    Score(cmd::score::Args),
    /// Serve a saved model over HTTP (POST /v1/score; reload on SIGHUP or POST /v1/model/reload).
    Serve(cmd::serve::Args),
    /// Follow a live Zeek log (a file, a log directory or standard input), score flows or host / pair
    /// windows as they arrive, and send alerts in the Elastic Common Schema (stdout, a file, a webhook).
    Watch(Box<cmd::watch::Args>),
    /// Plots and a self-contained HTML report (report.html, figures/*.png) of a run directory.
    Report(cmd::report::Args),
    /// Print rows, columns, types, nulls, numeric ranges and top categorical values of a flow log.
    Inspect(cmd::inspect::Args),
    /// Describe a flow log (EDA) and show what preparation would clean, correlate and prune.
    Eda(cmd::eda::Args),
    /// Cluster a numeric CSV (used as is) and write a label, probability and outlier score per row.
    Cluster(Box<cmd::cluster::Args>),
    /// Map a numeric CSV (used as is) to 1–3 dimensions with t-SNE and write the coordinates per row.
    Embed(cmd::embed::Args),
    /// Explain labels (e.g. clusters) with a surrogate forest: fidelity, importances, SHAP, profiles.
    Explain(cmd::explain::Args),
    /// Validate a labelling: silhouette, Davies–Bouldin, Calinski–Harabasz, DBCV (noise excluded), as JSON.
    Validate(cmd::validate::Args),
    /// Clustering tendency and the number of clusters: Hopkins, distances, inertia / silhouette / gap per k.
    Tendency(cmd::tendency::Args),
    /// Run several clustering algorithms on the same data and compare their validation indices.
    Compare(cmd::compare::Args),
    /// Benchmark every outlier detector (and HDBSCAN's GLOSH) against the labels of a labeled log.
    Benchmark(cmd::benchmark::Args),
    /// Write a simulated, labeled Zeek conn log: an office network's day with planted exfiltration,
    /// beaconing, scans and DNS tunnelling (the built-in sample is seed 1).
    Simulate(cmd::simulate::Args),
}

/// Restores the default action of SIGPIPE: Rust ignores it, so writing to a closed pipe (`outflow
/// inspect LOG | head`) fails with an error that `println!` turns into a panic. A Unix tool whose reader
/// has gone should simply end.
fn die_quietly_on_closed_pipes() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any thread exists; SIG_DFL is a valid action for SIGPIPE.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    die_quietly_on_closed_pipes();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Detect(a) => cmd::detect::run(*a),
        Command::Score(a) => cmd::score::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Watch(a) => cmd::watch::run(*a),
        Command::Report(a) => cmd::report::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Eda(a) => cmd::eda::run(a),
        Command::Cluster(a) => cmd::cluster::run(*a),
        Command::Embed(a) => cmd::embed::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Tendency(a) => cmd::tendency::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Benchmark(a) => cmd::benchmark::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes joined by `: `, leaving out a cause its message already quotes (library
/// errors show their OS error's text, which is also their source).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
