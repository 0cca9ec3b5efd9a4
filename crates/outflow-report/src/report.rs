//! From a run directory to the numbers behind every figure, the figures, and the files.

use std::path::{Path, PathBuf};

use crate::data::ReportData;
use crate::error::{ReportError, Result};
use crate::figures::{FigureId, Kind, Rendered};
use crate::html;
use outflow::run::RunDir;

/// Settings of [`write_report`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Seed of every random choice (point sampling, k-means, the surrogate forest).
    pub seed: u64,
    /// Replace an existing `report.html`.
    pub overwrite: bool,
    /// Points drawn in each scatter plot at most (a seeded sample of `sample.csv`).
    pub max_scatter_points: usize,
    /// Flows explained by TreeSHAP for the beeswarm at most.
    pub shap_rows: usize,
    /// Largest k of the elbow / silhouette / gap curves (0: skip them).
    pub k_max: usize,
    /// Compress the features with `asinh` before the 2-D PCA and t-SNE (flow features are heavy-tailed).
    pub compress: bool,
    /// Flows in the t-SNE maps at most (a seeded sample of the scatter plots' points; 0: no t-SNE maps).
    pub tsne_points: usize,
    /// Flows in the UMAP maps at most (the same seeded choice as t-SNE's; 0: no UMAP maps).
    pub umap_points: usize,
    /// Write a PNG copy of every figure into `DIR/figures/`.
    pub write_png: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            seed: 42,
            overwrite: false,
            max_scatter_points: 3000,
            shap_rows: 800,
            k_max: 10,
            compress: true,
            tsne_points: 2000,
            umap_points: 2000,
            write_png: true,
        }
    }
}

impl ReportOptions {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if self.max_scatter_points == 0 {
            return Err(ReportError::Option("max_scatter_points must be at least 1".into()));
        }
        if self.shap_rows == 0 {
            return Err(ReportError::Option("shap_rows must be at least 1".into()));
        }
        Ok(())
    }
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    /// The report.
    pub html: PathBuf,
    /// Its size in bytes.
    pub html_bytes: usize,
    /// Every figure, in page order.
    pub figures: Vec<FigureInfo>,
    /// Figures not drawn, with the reason (also said on the page).
    pub skipped: Vec<(FigureId, String)>,
    /// Points drawn in each scatter plot.
    pub scatter_points: usize,
    /// Flows in `sample.csv`.
    pub sample_rows: usize,
}

/// One figure of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureInfo {
    /// Which figure (`fig-<id>` on the page, the PNG file stem).
    pub id: FigureId,
    /// The PNG copy, when written.
    pub png: Option<PathBuf>,
}

/// A percentile for a label: `95`, `99.5`.
pub(crate) fn fmt_pct(p: f64) -> String {
    if p.fract() == 0.0 { format!("{p:.0}") } else { format!("{p}") }
}

/// The report of a run directory in memory: the page and the PNG copies (`(file name, bytes)`).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedReport {
    /// `report.html`.
    pub html: String,
    /// `figures/<id>.png` files.
    pub pngs: Vec<(String, Vec<u8>)>,
    /// Figures in page order.
    pub figures: Vec<FigureId>,
    /// Skipped figures, with the reason.
    pub skipped: Vec<(FigureId, String)>,
    /// Points drawn per scatter plot.
    pub scatter_points: usize,
}

/// Computes and draws the report of a run directory without writing anything.
pub fn render_report(run: &RunDir, opts: &ReportOptions) -> Result<RenderedReport> {
    let data = ReportData::compute(run, opts)?;
    let specs = data.figures(run);
    let mut drawn = Vec::new();
    let mut pngs = Vec::new();
    let mut skipped = Vec::new();
    for spec in &specs {
        let r = spec.render(opts.write_png)?;
        if let Kind::Skipped(why) = &spec.kind {
            skipped.push((spec.id, why.clone()));
        }
        if let Some(Rendered { png: Some(bytes), .. }) = &r {
            pngs.push((format!("{}.png", spec.id), bytes.clone()));
        }
        drawn.push((spec, r.map(|r| r.svg)));
    }
    let html = html::page(run, opts, &data, &drawn);
    Ok(RenderedReport {
        html,
        pngs,
        figures: specs.iter().map(|s| s.id).collect(),
        skipped,
        scatter_points: data.shown.len(),
    })
}

/// Reads the run directory `run_dir`, writes `run_dir/report.html` (self-contained: inline SVG, the
/// font embedded, no scripts, no network) and a PNG copy of every figure into `run_dir/figures/`.
///
/// An existing `report.html` is an error unless [`ReportOptions::overwrite`]. The same run directory
/// and options give a byte-identical page.
pub fn write_report(run_dir: impl AsRef<Path>, opts: &ReportOptions) -> Result<ReportSummary> {
    let dir = run_dir.as_ref();
    opts.validate()?;
    let html_path = dir.join("report.html");
    if dir.is_dir() && html_path.exists() && !opts.overwrite {
        return Err(ReportError::Exists(html_path));
    }
    let run = RunDir::read(dir)?;
    let r = render_report(&run, opts)?;
    let mut figures = Vec::new();
    let fig_dir = dir.join("figures");
    if !r.pngs.is_empty() {
        std::fs::create_dir_all(&fig_dir).map_err(|source| ReportError::File { path: fig_dir.clone(), source })?;
    }
    for (name, bytes) in &r.pngs {
        outflow::write_atomic(&fig_dir.join(name), bytes, true)?;
    }
    for &id in &r.figures {
        let png = fig_dir.join(format!("{id}.png"));
        let written = r.pngs.iter().any(|(n, _)| *n == format!("{id}.png"));
        figures.push(FigureInfo { id, png: written.then_some(png) });
    }
    outflow::write_atomic(&html_path, r.html.as_bytes(), opts.overwrite)?;
    Ok(ReportSummary {
        html: html_path,
        html_bytes: r.html.len(),
        figures,
        skipped: r.skipped,
        scatter_points: r.scatter_points,
        sample_rows: run.sample.len(),
    })
}
