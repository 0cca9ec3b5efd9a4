//! Examples of the Outflow libraries: `cargo run --release -p outflow-examples --example <name>`.
//!
//! - `fit_save_load_score` — fit a detector on the sample Zeek log, save the model, load it, score flows.
//! - `explain_clusters` — why flows are anomalous: cluster profiles and a surrogate forest with SHAP.

/// The sample log shipped with the repository.
pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/ctu-mixed-008.conn.log.labeled");
