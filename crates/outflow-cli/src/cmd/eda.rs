//! `outflow eda`: describe a flow log and show what the preparation would clean and prune.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use outflow::prep::{ColumnStats, EdaReport, PrepParams, eda};
use serde::Serialize;

use crate::input::{FormatArgs, read};

/// Arguments of `outflow eda`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The log (CSV, Zeek TSV or JSON lines, KDD; gzip allowed). Default: the built-in sample.
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArgs,
    /// Preparation preset: picked from the column names (auto), or named.
    #[arg(long, default_value = "auto", value_parser = crate::cmd::explain::family_or_auto())]
    pub preset: String,
    /// A preparation configuration (JSON, as `outflow_prep::PrepParams`); overrides --preset.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rows shown per ranking in the human-readable output.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also draw 2-D UMAP and t-SNE maps of the flows into this directory (`umap-clusters.svg`,
    /// `umap-scores.svg`, `tsne-clusters.svg`, `tsne-scores.svg`): the default detector's prepared features
    /// of a seeded sample of the flows, coloured by its clusters and by its outlier score.
    #[arg(long, value_name = "DIR")]
    pub maps: Option<PathBuf>,
    /// Flows in each map at most (a seeded sample; the figures state it).
    #[arg(long, default_value_t = 2000)]
    pub map_points: usize,
    /// Seed of the maps' sample, the detector and the embeddings.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Replace existing map files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    input: &'a str,
    format: &'a str,
    #[serde(flatten)]
    eda: &'a EdaReport,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(dir) = &args.maps {
        // The directory is created when the maps are drawn; the files in one that exists are checked now.
        if dir.exists() && !dir.is_dir() {
            bail!("--maps {}: not a directory", dir.display());
        }
        if dir.is_dir() {
            for name in MAP_FILES {
                crate::input::check_output(&dir.join(name), args.force)?;
            }
        }
        if args.map_points == 0 {
            bail!("--map-points must be at least 1");
        }
    }
    let (input, table, format) = read(args.input.as_ref(), &args.format)?;
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str::<PrepParams>(&text)
                .with_context(|| format!("invalid configuration {}", path.display()))?
        }
        None if args.preset == "auto" => PrepParams::auto(&table),
        None => PrepParams::preset(args.preset.parse::<outflow::io::Family>()?),
    };
    let report = eda(&table, &config)?;
    let maps = match &args.maps {
        Some(dir) => draw_maps(&table, dir, &args).with_context(|| format!("maps of {}", input.name()))?,
        None => Vec::new(),
    };
    if args.json {
        let r = Report { input: input.name(), format: format.name(), eda: &report };
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    print_human(input.name(), format.name(), &report, args.top);
    for line in maps {
        println!("{line}");
    }
    Ok(())
}

/// The files `--maps` writes.
const MAP_FILES: [&str; 4] = ["umap-clusters.svg", "umap-scores.svg", "tsne-clusters.svg", "tsne-scores.svg"];

/// Fits the default detector, maps a sample of its prepared flows with UMAP and t-SNE, and writes the four
/// figures; returns one line per file (or per map that could not be drawn).
fn draw_maps(table: &outflow::io::Table, dir: &std::path::Path, args: &Args) -> Result<Vec<String>> {
    use outflow::{DetectorParams, Severity};
    use outflow_report::maps::{MapColours, map_figures, tsne_map, umap_map};
    use outflow_report::{FigureId, FigureSpec};
    let fit = DetectorParams { seed: args.seed, ..DetectorParams::default() }.fit(table)?;
    let x = fit.prepared.model_input();
    let flows: Vec<&outflow::FlowScore> = fit.prepared.kept.iter().map(|&r| &fit.flows[r]).collect();
    let cluster: Vec<i64> = flows.iter().map(|f| f.cluster.unwrap_or(-1)).collect();
    let score: Vec<f64> = flows.iter().map(|f| f.outlier_score.unwrap_or(0.0)).collect();
    let severity: Vec<u8> = flows
        .iter()
        .map(|f| match f.severity {
            Severity::Severe => 2,
            Severity::Moderate => 1,
            _ => 0,
        })
        .collect();
    let sc = &fit.detector.params().scoring;
    let th = fit.summary.thresholds;
    let colours = MapColours {
        cluster: &cluster,
        score: &score,
        severity: &severity,
        thresholds: (th.moderate, th.severe),
        percentiles: (sc.moderate_percentile, sc.severe_percentile),
    };
    let all: Vec<usize> = (0..x.nrows()).collect();
    let umap = umap_map(x.view(), &all, args.map_points, args.seed, true);
    let tsne = tsne_map(x.view(), &all, args.map_points, args.seed, true);
    let (uc, us) = map_figures(&umap, x.nrows(), &colours);
    let (tc, ts) = map_figures(&tsne, x.nrows(), &colours);
    let figures = [
        (FigureId::UmapClusters, uc),
        (FigureId::UmapScores, us),
        (FigureId::TsneClusters, tc),
        (FigureId::TsneScores, ts),
    ];
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut lines = Vec::new();
    for ((id, kind), name) in figures.into_iter().zip(MAP_FILES) {
        let why = if let outflow_report::Kind::Skipped(why) = &kind { Some(why.clone()) } else { None };
        match (FigureSpec { id, kind }).render(false)? {
            Some(r) => {
                let path = dir.join(name);
                crate::input::write_output(&path, r.svg.as_bytes(), args.force)?;
                lines.push(format!("wrote {} ({})", path.display(), id.title()));
            }
            None => lines.push(format!("{}: not drawn: {}", id.title(), why.unwrap_or_default())),
        }
    }
    Ok(lines)
}

fn print_human(input: &str, format: &str, r: &EdaReport, top: usize) {
    println!(
        "{input}: {format}, {} rows, {} columns, preset {}; {} duplicate rows among the cleaned features",
        r.rows,
        r.columns.len(),
        r.preset.name(),
        r.duplicates
    );
    println!();
    let w = r.columns.iter().map(|c| c.name.chars().count()).max().unwrap_or(6).clamp(6, crate::input::MAX_CELL_WIDTH);
    println!(
        "{:<w$}  {:<11}  {:>8}  {:>7}  {:>11}  {:>11}  {:>11}  {:>11}  {:>11}  {:>8}  {:>8}",
        "column", "type", "count", "nulls", "mean", "std", "min", "median", "max", "skew", "outliers"
    );
    for c in &r.columns {
        print_column(c, w);
    }
    if !r.cleaning.is_empty() {
        println!("\ncleaning (what a fit with this configuration does):");
        for s in &r.cleaning {
            let mut parts = Vec::new();
            if s.rows_removed > 0 {
                let by: Vec<String> = s.rows_by_column.iter().map(|c| format!("'{}' {}", c.column, c.rows)).collect();
                parts.push(format!("{} rows removed ({})", s.rows_removed, by.join(", ")));
            }
            if !s.columns_removed.is_empty() {
                let cols: Vec<&str> = s.columns_removed.iter().map(|c| c.column.as_str()).collect();
                parts.push(format!("columns set aside: {}", cols.join(", ")));
            }
            if !s.imputed.is_empty() {
                let imp: Vec<String> =
                    s.imputed.iter().map(|i| format!("'{}' {} → {}", i.column, i.count, i.value)).collect();
                parts.push(format!("imputed: {}", imp.join(", ")));
            }
            if !s.columns_added.is_empty() {
                parts.push(format!("added: {}", s.columns_added.join(", ")));
            }
            if !s.converted.is_empty() {
                parts.push(format!("to 0/1: {}", s.converted.join(", ")));
            }
            println!("  {:<14} {}", s.step.name(), parts.join("; "));
        }
    }
    if let Some(c) = &r.correlation {
        println!(
            "\nstrongly correlated pairs ({} of them over {} features, {} rows):",
            r.correlated_pairs.len(),
            c.features.len(),
            c.rows
        );
    }
    for p in r.correlated_pairs.iter().take(top) {
        println!("  {:>8.4}  {}  ~  {}", p.r, p.a, p.b);
    }
    if !r.pruned.is_empty() {
        println!("\npruned ({}):", r.pruned.len());
        for p in &r.pruned {
            println!("  {:<w$}  {}", p.name, p.reason);
        }
    }
    if !r.leakage.is_empty() {
        println!("\npossible label leakage:");
        for l in &r.leakage {
            println!("  {:<w$}  r = {:.4} with '{}'", l.feature, l.r, l.label);
        }
    }
    println!("\nhighest variance:");
    for v in r.variance_ranking.iter().take(top) {
        println!("  {:<w$}  {}", v.name, num(v.value));
    }
    println!("\nwidest range:");
    for v in r.range_ranking.iter().take(top) {
        println!("  {:<w$}  {}", v.name, num(v.value));
    }
    for warning in &r.warnings {
        println!("\nnote: {warning}");
    }
}

fn print_column(c: &ColumnStats, w: usize) {
    let s = &c.stats;
    let o = |v: Option<f64>| v.map_or("-".to_owned(), num);
    let outliers = s.iqr_outliers.map_or("-".to_owned(), |v| v.to_string());
    println!(
        "{:<w$}  {:<11}  {:>8}  {:>7}  {:>11}  {:>11}  {:>11}  {:>11}  {:>11}  {:>8}  {:>8}",
        c.name,
        c.dtype.name(),
        s.count,
        c.nulls,
        o(s.mean),
        o(s.std),
        o(s.min),
        o(s.p50),
        o(s.max),
        s.skewness.map_or("-".to_owned(), |v| format!("{v:.2}")),
        outliers
    );
}

fn num(x: f64) -> String {
    if !x.is_finite() {
        format!("{x}")
    } else if x == 0.0 || (1e-3..1e7).contains(&x.abs()) {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{x:.3e}")
    }
}
