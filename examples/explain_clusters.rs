//! Why are flows anomalous? Cluster profiles in original units, and a surrogate forest with exact
//! TreeSHAP on the cluster labels.
//!
//! `cargo run --release -p outflow-examples --example explain_clusters [LOG]`

use outflow::explain::ExplainParams;
use outflow::{DetectorParams, ReadOptions, read_table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| outflow_examples::SAMPLE.to_owned());
    let flows = read_table(&path, &ReadOptions::default())?;
    let fit = DetectorParams::default().fit(&flows)?;
    let explanation = fit.explain(&ExplainParams::default())?;
    let summary = explanation.summary();
    println!("surrogate fidelity: {:.3} accuracy on {} flows", summary.fidelity.accuracy, summary.rows);
    println!("features by Gini importance:");
    for f in summary.features.iter().take(5) {
        println!("  {:<16} gini {:.3}  permutation {:.3}", f.feature, f.gini, f.permutation_mean);
    }
    println!("clusters:");
    for c in &summary.profiles.clusters {
        println!("  {:>3}: {:>5} flows ({:>5.1}%)  {}", c.label, c.count, 100.0 * c.fraction, c.interpretation);
    }
    Ok(())
}
