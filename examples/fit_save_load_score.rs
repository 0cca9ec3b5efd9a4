//! Fit a detector on a Zeek conn log, save it, load it back and score flows with it.
//!
//! `cargo run --release -p outflow-examples --example fit_save_load_score [LOG]`

use outflow::{Detector, DetectorParams, ReadOptions, Severity, read_table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| outflow_examples::SAMPLE.to_owned());
    let flows = read_table(&path, &ReadOptions::default())?;

    // Fit: preparation (preset from the columns), HDBSCAN, anomaly score, severity thresholds.
    let fit = DetectorParams::default().fit(&flows)?;
    let s = &fit.summary;
    println!(
        "{} flows, {} features, {} clusters, {:.1}% noise, thresholds {:.3} / {:.3}",
        s.rows_read,
        s.features.len(),
        s.clusters.len(),
        100.0 * s.noise_fraction,
        s.thresholds.moderate,
        s.thresholds.severe
    );

    // Save (atomically; refuses to overwrite unless asked) and load back.
    let dir = std::env::temp_dir().join(format!("outflow-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let model = dir.join(outflow::default_model_name());
    fit.detector.save(&model, false)?;
    let detector = Detector::load(&model)?;

    // Score "tomorrow's" flows: here, the first 1,000 rows again.
    let rows: Vec<usize> = (0..flows.n_rows().min(1000)).collect();
    let scores = detector.score(&flows.take_rows(&rows))?;
    let severe: Vec<_> = scores.iter().filter(|f| f.severity == Severity::Severe).collect();
    println!("{} of {} flows are severe", severe.len(), scores.len());
    for f in severe.iter().take(5) {
        println!(
            "  row {:>5}: cluster {:>3}, score {:.3}",
            f.row,
            f.cluster.unwrap_or(-1),
            f.outlier_score.unwrap_or(0.0)
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
