//! `outflow cluster`: cluster a numeric CSV as is (no preprocessing) and write one line per row, with
//! HDBSCAN (default), DBSCAN, k-means or Ward.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::cluster::{Fit, Model};

use crate::algorithm::AlgorithmArgs;
use crate::input::{numeric_csv, set_threads};

/// Arguments of `outflow cluster`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature.
    pub input: PathBuf,
    #[command(flatten)]
    pub clustering: AlgorithmArgs,
    /// k-means: seed of the initialisation; Ward: seed of the --sample-size sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Ward: also write the merge tree as JSON (SciPy linkage rows `[a, b, distance, size]`).
    #[arg(long)]
    pub tree: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output CSV, one row per input row, in input order; label −1 is noise. Columns: hdbscan
    /// `label,probability,outlier_score`; dbscan `label,core,anomaly` (1/0: core point; reported anomaly =
    /// noise not rescued by --centroid-filter); kmeans `label,distance` and ward `label,distance`
    /// (Euclidean distance to the row's cluster centre / centroid). Membership probabilities and GLOSH
    /// scores have no counterpart in DBSCAN, k-means or Ward, so those columns are left out.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Overwrite OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    crate::input::check_output(&a.output, a.force)?;
    let algorithm = a.clustering.build(None)?.with_seed(a.seed);
    if a.tree.is_some() && algorithm.name() != "ward" {
        bail!("--tree writes Ward's merge tree: it needs --algorithm ward");
    }
    let t0 = Instant::now();
    let (_, x) = numeric_csv(&a.input)?;
    let read_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let model = algorithm.fit(x.view())?;
    let fit_s = t.elapsed().as_secs_f64();
    let columns = model.row_columns(x.view())?;
    let mut out = String::with_capacity(x.nrows() * 24);
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for i in 0..x.nrows() {
        let cells: Vec<String> = columns.iter().map(|(_, v)| v[i].to_string()).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    if let (Some(path), Model::Ward(w)) = (&a.tree, &model) {
        let tree = serde_json::json!({
            "n_leaves": w.linkage().len() + 1,
            "sample_rows": w.sample_rows(),
            "linkage": w.linkage().iter().map(|s| (s.a, s.b, s.distance, s.size)).collect::<Vec<_>>(),
        });
        crate::input::write_output(path, serde_json::to_string(&tree)?.as_bytes(), true)
            .with_context(|| format!("cannot write {}", crate::input::shown(path)))?;
    }
    crate::input::write_output(&a.output, out.as_bytes(), a.force)
        .with_context(|| format!("cannot write {}", crate::input::shown(&a.output)))?;
    eprintln!("{} rows × {} features: {} (read {read_s:.3}s, fit {fit_s:.3}s)", x.nrows(), x.ncols(), model.describe());
    Ok(())
}
