//! `outflow`: the command-line face of the Outflow libraries.

mod cmd;
mod input;
mod output;

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
    /// Print rows, columns, types, nulls, numeric ranges and top categorical values of a flow log.
    Inspect(cmd::inspect::Args),
    /// Cluster a numeric CSV (used as is) and write a label, probability and outlier score per row.
    Cluster(cmd::cluster::Args),
    /// Explain labels (e.g. clusters) with a surrogate forest: fidelity, importances, SHAP, profiles.
    Explain(cmd::explain::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Cluster(a) => cmd::cluster::run(a),
        Command::Explain(a) => cmd::explain::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
