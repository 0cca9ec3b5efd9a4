//! From a run directory to the numbers behind every figure, the figures, and the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis};
use outflow::validate::KTable;

use crate::analysis::{
    self, Beeswarm, Centroid, Histogram, Projection, SilhouetteData, SizeBar, TreeLayout, beeswarm, beeswarm_class,
};
use crate::error::{ReportError, Result};
use crate::html;
use crate::plots::{
    self, BeeswarmPlot, BubbleMap, ClusterScatter, ColorScale, CondensedTreePlot, Heatmap, HistogramPlot,
    ImportanceBars, LinePlot, MODERATE, SEVERE, SilhouettePlot, SizeBars, VLine, ValueMap,
};
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
    /// Compress the features with `asinh` before the 2-D PCA (flow features are heavy-tailed).
    pub compress: bool,
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
    pub skipped: Vec<(String, String)>,
    /// Points drawn in each scatter plot.
    pub scatter_points: usize,
    /// Flows in `sample.csv`.
    pub sample_rows: usize,
}

/// One figure of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureInfo {
    /// Element id on the page (`fig-…`) and PNG file stem.
    pub id: String,
    /// Title.
    pub title: String,
    /// The PNG copy, when written.
    pub png: Option<PathBuf>,
}

/// Feature importances of the surrogate forest.
#[derive(Debug, Clone, PartialEq)]
pub struct Importances {
    /// Gini importance per feature.
    pub gini: Vec<f64>,
    /// Permutation importance (accuracy drop) per feature.
    pub permutation: Vec<f64>,
    /// Its standard deviation.
    pub permutation_std: Vec<f64>,
    /// Accuracy of the surrogate on the sample (its fidelity).
    pub accuracy: f64,
    /// Trees.
    pub trees: usize,
}

/// The numbers behind every figure of a report.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// Indices into the sample of the points drawn in scatter plots (ascending).
    pub shown: Vec<usize>,
    /// 2-D PCA of every sampled flow (index like the sample).
    pub projection: Projection,
    /// Histogram of the outlier scores of every scored flow.
    pub histogram: Histogram,
    /// (moderate, severe) thresholds from `summary.json`.
    pub thresholds: (f64, f64),
    /// (moderate, severe) percentiles of the model's scoring configuration.
    pub percentiles: (f64, f64),
    /// Flows per cluster (from `clusters.json`).
    pub sizes: Vec<SizeBar>,
    /// The condensed tree.
    pub tree: std::result::Result<TreeLayout, String>,
    /// Silhouette of every non-noise sampled flow.
    pub silhouette: std::result::Result<SilhouetteData, String>,
    /// Cluster centres in the PCA plane.
    pub centroids: Vec<Centroid>,
    /// Elbow, silhouette and gap per k.
    pub k_table: std::result::Result<KTable, String>,
    /// Pearson correlations of the sampled features.
    pub correlations: Array2<f64>,
    /// Surrogate importances.
    pub importances: std::result::Result<Importances, String>,
    /// SHAP beeswarm of the noise class (or the smallest cluster).
    pub beeswarm: std::result::Result<Beeswarm, String>,
}

impl ReportData {
    /// Computes everything from a run directory.
    pub fn compute(run: &RunDir, opts: &ReportOptions) -> Result<ReportData> {
        opts.validate()?;
        let s = &run.sample;
        let x = s.x.view();
        let shown = analysis::subsample(s.len(), opts.max_scatter_points, opts.seed);
        let projection = analysis::pca_2d(x, opts.compress)?;
        let histogram = analysis::histogram(&run.scores.scores, 50);
        let th = run.summary.thresholds;
        let sc = &run.model.params().scoring;
        let sizes_in: Vec<(i64, usize)> = run.clusters.iter().map(|c| (c.cluster, c.size)).collect();
        let sizes = analysis::cluster_sizes(&sizes_in);
        let tree = match run.model.clustering().as_hdbscan() {
            None => Err(format!("the clusterer is {}: a condensed tree is HDBSCAN's", run.summary.clustering.title())),
            Some(h) if h.condensed_tree().is_empty() => Err("the model's condensed tree is empty".to_owned()),
            Some(h) => Ok(analysis::tree_layout(h.condensed_tree(), h.selected_clusters(), 20, true)),
        };
        let n_clusters_sample = s.cluster.iter().filter(|&&c| c >= 0).collect::<std::collections::BTreeSet<_>>().len();
        let silhouette = if n_clusters_sample < 2 {
            Err(format!("needs at least 2 clusters among the sampled flows, found {n_clusters_sample}"))
        } else {
            analysis::silhouette_data(x, &s.cluster).map_err(|e| e.to_string())
        };
        let size_of: BTreeMap<i64, usize> = sizes_in.iter().copied().collect();
        let centroids = analysis::centroids(&projection.points, &s.cluster, &size_of);
        let k_table = if opts.k_max < 2 {
            Err("not computed (k_max < 2)".to_owned())
        } else {
            analysis::k_curves(x, opts.k_max, opts.seed).map_err(|e| e.to_string())
        };
        let correlations = analysis::correlations(x)?;
        let classes = s.cluster.iter().collect::<std::collections::BTreeSet<_>>().len();
        let (importances, beeswarm) = if classes < 2 {
            let why = "needs at least 2 classes (clusters or noise) among the sampled flows".to_owned();
            (Err(why.clone()), Err(why))
        } else {
            match analysis::surrogate(x, &s.cluster, opts.seed) {
                Err(e) => (Err(e.to_string()), Err(e.to_string())),
                Ok(sur) => {
                    let imp = Importances {
                        gini: sur.gini.clone(),
                        permutation: sur.permutation.clone(),
                        permutation_std: sur.permutation_std.clone(),
                        accuracy: sur.accuracy,
                        trees: sur.forest.trees().len(),
                    };
                    let bee = match beeswarm_class(sur.forest.classes(), &s.cluster) {
                        None => Err("the surrogate has no class".to_owned()),
                        Some(class) => {
                            let rows = analysis::subsample(s.len(), opts.shap_rows, opts.seed.wrapping_add(1));
                            let xs = s.x.select(Axis(0), &rows);
                            beeswarm(&sur.forest, xs.view(), &s.features, class).map_err(|e| e.to_string())
                        }
                    };
                    (Ok(imp), bee)
                }
            }
        };
        Ok(ReportData {
            shown,
            projection,
            histogram,
            thresholds: (th.moderate, th.severe),
            percentiles: (sc.moderate_percentile, sc.severe_percentile),
            sizes,
            tree,
            silhouette,
            centroids,
            k_table,
            correlations,
            importances,
            beeswarm,
        })
    }

    /// Builds every figure (the data types of [`plots`]); skipped ones carry the reason.
    pub fn figures(&self, run: &RunDir, opts: &ReportOptions) -> Vec<FigureSpec> {
        let s = &run.sample;
        let pr = &self.projection;
        let (ax, ay) = axis_names(pr);
        let pts: Vec<[f64; 2]> = self.shown.iter().map(|&i| pr.points[i]).collect();
        let shown_note = format!(
            "{} of {} sampled flows shown ({} scored)",
            plots::fmt_int(self.shown.len() as u64),
            plots::fmt_int(s.len() as u64),
            plots::fmt_int(run.scores.scores.len() as u64)
        );
        let sev = |i: usize| match s.severity[i].as_str() {
            "severe" => 2u8,
            "moderate" => 1,
            _ => 0,
        };
        let (pm, ps) = self.percentiles;
        let (tm, ts) = self.thresholds;
        let mut out = Vec::new();

        out.push(FigureSpec::new(
            "pca-clusters",
            "PCA projection by cluster",
            Kind::ClusterScatter(ClusterScatter {
                title: "Flows in the first two principal components, by cluster".into(),
                x_label: ax.clone(),
                y_label: ay.clone(),
                points: pts.clone(),
                labels: self.shown.iter().map(|&i| s.cluster[i]).collect(),
                severity: self.shown.iter().map(|&i| sev(i)).collect(),
                note: shown_note.clone(),
            }),
        ));
        out.push(FigureSpec::new(
            "score-map",
            "Outlier-score map",
            Kind::ValueMap(ValueMap {
                title: "Outlier score of each flow".into(),
                x_label: ax.clone(),
                y_label: ay.clone(),
                points: pts.clone(),
                values: self.shown.iter().map(|&i| s.outlier_score[i]).collect(),
                value_label: "outlier score".into(),
                range: (0.0, 1.0),
                scale: ColorScale::Inferno,
                marks: vec![(tm, format!("p{}", fmt_pct(pm))), (ts, format!("p{}", fmt_pct(ps)))],
                note: shown_note.clone(),
            }),
        ));
        out.push(FigureSpec::new(
            "probability-map",
            "Membership-probability map",
            Kind::ValueMap(ValueMap {
                title: "HDBSCAN membership probability (0 = noise)".into(),
                x_label: ax.clone(),
                y_label: ay.clone(),
                points: pts.clone(),
                values: self.shown.iter().map(|&i| s.probability[i]).collect(),
                value_label: "probability".into(),
                range: (0.0, 1.0),
                scale: ColorScale::Viridis,
                marks: Vec::new(),
                note: shown_note.clone(),
            }),
        ));
        out.push(FigureSpec::new(
            "score-histogram",
            "Score histogram",
            Kind::Histogram(HistogramPlot {
                title: format!("Outlier scores of the {} scored flows", plots::fmt_int(self.histogram.total() as u64)),
                x_label: "outlier score (fused rank of the signals)".into(),
                hist: self.histogram.clone(),
                lines: vec![
                    VLine {
                        value: tm,
                        tag: format!("p{}", fmt_pct(pm)),
                        label: format!("moderate ≥ p{} = {}", fmt_pct(pm), plots::fmt_num(tm)),
                        color: MODERATE,
                    },
                    VLine {
                        value: ts,
                        tag: format!("p{}", fmt_pct(ps)),
                        label: format!("severe ≥ p{} = {}", fmt_pct(ps), plots::fmt_num(ts)),
                        color: SEVERE,
                    },
                ],
            }),
        ));
        out.push(FigureSpec::new(
            "cluster-sizes",
            "Cluster sizes",
            Kind::SizeBars(SizeBars {
                title: "Flows per cluster".into(),
                x_label: "scored flows".into(),
                bars: self.sizes.clone(),
            }),
        ));
        out.push(match &self.tree {
            Ok(layout) => FigureSpec::new(
                "condensed-tree",
                "Condensed tree",
                Kind::Tree(CondensedTreePlot {
                    title: "HDBSCAN condensed tree with the selected clusters".into(),
                    layout: layout.clone(),
                    log_lambda: needs_log(layout),
                }),
            ),
            Err(e) => FigureSpec::skipped("condensed-tree", "Condensed tree", e),
        });
        out.push(match &self.silhouette {
            Ok(d) => FigureSpec::new(
                "silhouette",
                "Silhouette plot",
                Kind::Silhouette(SilhouettePlot {
                    title: format!(
                        "Silhouette of the {} sampled non-noise flows ({} noise left out)",
                        plots::fmt_int(d.clusters.iter().map(|c| c.1.len()).sum::<usize>() as u64),
                        plots::fmt_int(d.n_noise as u64)
                    ),
                    data: d.clone(),
                }),
            ),
            Err(e) => FigureSpec::skipped("silhouette", "Silhouette plot", e),
        });
        out.push(if self.centroids.is_empty() {
            FigureSpec::skipped("cluster-distances", "Inter-cluster distance map", "no cluster among the sampled flows")
        } else {
            FigureSpec::new(
                "cluster-distances",
                "Inter-cluster distance map",
                Kind::Bubbles(BubbleMap {
                    title: "Cluster centres in the PCA plane (area ∝ flows)".into(),
                    x_label: ax.clone(),
                    y_label: ay.clone(),
                    background: pts.clone(),
                    bubbles: self.centroids.iter().map(|c| (c.label, c.center, c.size)).collect(),
                    note: "grey: sampled flows".into(),
                }),
            )
        });
        match &self.k_table {
            Ok(t) => {
                let ks: Vec<f64> = t.rows.iter().map(|r| r.k as f64).collect();
                let mark = |k: Option<usize>, what: &str| k.map(|k| (k as f64, format!("{what} k = {k}")));
                out.push(FigureSpec::new(
                    "elbow",
                    "Elbow curve",
                    Kind::Line(LinePlot {
                        title: "Elbow: k-means inertia".into(),
                        x_label: "k (clusters)".into(),
                        y_label: "inertia (log scale)".into(),
                        xs: ks.clone(),
                        ys: t.rows.iter().map(|r| r.inertia).collect(),
                        errors: None,
                        log_y: true,
                        mark: mark(t.k_elbow, "elbow"),
                        color: plotters::style::RGBColor(52, 101, 164),
                    }),
                ));
                out.push(FigureSpec::new(
                    "silhouette-k",
                    "Silhouette vs k",
                    Kind::Line(LinePlot {
                        title: "Mean silhouette of k-means".into(),
                        x_label: "k (clusters)".into(),
                        y_label: "mean silhouette".into(),
                        xs: ks.clone(),
                        ys: t.rows.iter().map(|r| r.silhouette.unwrap_or(f64::NAN)).collect(),
                        errors: None,
                        log_y: false,
                        mark: mark(t.k_silhouette, "best"),
                        color: plotters::style::RGBColor(44, 140, 44),
                    }),
                ));
                out.push(FigureSpec::new(
                    "gap",
                    "Gap statistic",
                    Kind::Line(LinePlot {
                        title: format!("Gap statistic ({} references)", t.n_refs),
                        x_label: "k (clusters)".into(),
                        y_label: "Gap(k) ± s_k".into(),
                        xs: ks,
                        ys: t.rows.iter().map(|r| r.gap).collect(),
                        errors: Some(t.rows.iter().map(|r| r.s_k).collect()),
                        log_y: false,
                        mark: mark(t.k_gap, "gap"),
                        color: plotters::style::RGBColor(148, 83, 189),
                    }),
                ));
            }
            Err(e) => {
                out.push(FigureSpec::skipped("elbow", "Elbow curve", e));
                out.push(FigureSpec::skipped("silhouette-k", "Silhouette vs k", e));
                out.push(FigureSpec::skipped("gap", "Gap statistic", e));
            }
        }
        out.push(if s.features.len() < 2 {
            FigureSpec::skipped("correlation", "Correlation heatmap", "only one feature")
        } else {
            FigureSpec::new(
                "correlation",
                "Correlation heatmap",
                Kind::Heatmap(Heatmap {
                    title: "Pearson correlation of the model's features (sampled flows)".into(),
                    names: s.features.clone(),
                    matrix: self.correlations.clone(),
                    value_label: "r".into(),
                }),
            )
        });
        out.push(match &self.importances {
            Ok(imp) => FigureSpec::new(
                "importance",
                "Feature importance",
                Kind::Importance(ImportanceBars {
                    title: format!(
                        "What separates the clusters: surrogate forest ({} trees, accuracy {:.1}%)",
                        imp.trees,
                        100.0 * imp.accuracy
                    ),
                    x_label: "importance".into(),
                    features: s.features.clone(),
                    series: vec![
                        ("Gini".into(), imp.gini.clone(), None),
                        ("permutation".into(), imp.permutation.clone(), Some(imp.permutation_std.clone())),
                    ],
                    max_features: 20,
                }),
            ),
            Err(e) => FigureSpec::skipped("importance", "Feature importance", e),
        });
        out.push(match &self.beeswarm {
            Ok(b) => FigureSpec::new(
                "shap",
                "SHAP beeswarm",
                Kind::Beeswarm(BeeswarmPlot {
                    title: format!(
                        "SHAP values for {} ({} flows explained)",
                        if b.class < 0 {
                            "the noise class".to_owned()
                        } else {
                            format!("cluster C{} (the smallest)", b.class)
                        },
                        plots::fmt_int(b.n_rows as u64)
                    ),
                    x_label: format!("SHAP value (impact on P({}))", plots::cluster_name(b.class)),
                    data: b.clone(),
                    max_features: 15,
                }),
            ),
            Err(e) => FigureSpec::skipped("shap", "SHAP beeswarm", e),
        });
        let _ = opts;
        out
    }
}

/// λ spanning more than two decades is drawn on a log scale.
fn needs_log(l: &TreeLayout) -> bool {
    let min =
        l.bars.iter().flat_map(|b| [b.lambda_start, b.lambda_end]).filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
    min.is_finite() && l.lambda_max / min > 100.0
}

fn axis_names(p: &Projection) -> (String, String) {
    let what = if p.compressed { "PC{} of asinh(features)" } else { "PC{}" };
    let name =
        |k: usize| format!("{} — {:.1}% of variance", what.replace("{}", &k.to_string()), 100.0 * p.explained[k - 1]);
    (name(1), name(2))
}

/// A percentile for a label: `95`, `99.5`.
pub(crate) fn fmt_pct(p: f64) -> String {
    if p.fract() == 0.0 { format!("{p:.0}") } else { format!("{p}") }
}

/// A figure to draw.
#[derive(Debug, Clone)]
pub enum Kind {
    /// PCA scatter by cluster.
    ClusterScatter(ClusterScatter),
    /// Value map.
    ValueMap(ValueMap),
    /// Histogram.
    Histogram(HistogramPlot),
    /// Cluster sizes.
    SizeBars(SizeBars),
    /// Condensed tree.
    Tree(CondensedTreePlot),
    /// Silhouette.
    Silhouette(SilhouettePlot),
    /// Inter-cluster distances.
    Bubbles(BubbleMap),
    /// A per-k curve.
    Line(LinePlot),
    /// Correlations.
    Heatmap(Heatmap),
    /// Importances.
    Importance(ImportanceBars),
    /// SHAP beeswarm.
    Beeswarm(BeeswarmPlot),
    /// Not drawn, with the reason.
    Skipped(String),
}

/// One figure of the page: its id, title and what to draw.
#[derive(Debug, Clone)]
pub struct FigureSpec {
    /// Id (`fig-<id>` on the page, `figures/<id>.png`).
    pub id: String,
    /// Short title.
    pub title: String,
    /// What to draw.
    pub kind: Kind,
}

impl FigureSpec {
    fn new(id: &str, title: &str, kind: Kind) -> Self {
        FigureSpec { id: id.to_owned(), title: title.to_owned(), kind }
    }

    fn skipped(id: &str, title: &str, why: &str) -> Self {
        FigureSpec { id: id.to_owned(), title: title.to_owned(), kind: Kind::Skipped(why.to_owned()) }
    }

    /// SVG text and PNG bytes (`None` when skipped).
    pub fn render(&self, png: bool) -> Result<Option<Rendered>> {
        macro_rules! both {
            ($f:expr) => {
                Rendered {
                    svg: plots::to_svg($f).map_err(|e| ReportError::plot(&self.id, e))?,
                    png: if png { Some(plots::to_png($f).map_err(|e| ReportError::plot(&self.id, e))?) } else { None },
                }
            };
        }
        Ok(Some(match &self.kind {
            Kind::ClusterScatter(f) => both!(f),
            Kind::ValueMap(f) => both!(f),
            Kind::Histogram(f) => both!(f),
            Kind::SizeBars(f) => both!(f),
            Kind::Tree(f) => both!(f),
            Kind::Silhouette(f) => both!(f),
            Kind::Bubbles(f) => both!(f),
            Kind::Line(f) => both!(f),
            Kind::Heatmap(f) => both!(f),
            Kind::Importance(f) => both!(f),
            Kind::Beeswarm(f) => both!(f),
            Kind::Skipped(_) => return Ok(None),
        }))
    }
}

/// A drawn figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// SVG document.
    pub svg: String,
    /// PNG bytes, when asked for.
    pub png: Option<Vec<u8>>,
}

/// The report of a run directory in memory: the page and the PNG copies (`(file name, bytes)`).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedReport {
    /// `report.html`.
    pub html: String,
    /// `figures/<id>.png` files.
    pub pngs: Vec<(String, Vec<u8>)>,
    /// Figures in page order.
    pub figures: Vec<(String, String)>,
    /// Skipped figures (id, reason).
    pub skipped: Vec<(String, String)>,
    /// Points drawn per scatter plot.
    pub scatter_points: usize,
}

/// Computes and draws the report of a run directory without writing anything.
pub fn render_report(run: &RunDir, opts: &ReportOptions) -> Result<RenderedReport> {
    let data = ReportData::compute(run, opts)?;
    let specs = data.figures(run, opts);
    let mut drawn = Vec::new();
    let mut pngs = Vec::new();
    let mut skipped = Vec::new();
    for spec in &specs {
        let r = spec.render(opts.write_png)?;
        if let Kind::Skipped(why) = &spec.kind {
            skipped.push((spec.id.clone(), why.clone()));
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
        figures: specs.iter().map(|s| (s.id.clone(), s.title.clone())).collect(),
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
    for (id, title) in &r.figures {
        let png = fig_dir.join(format!("{id}.png"));
        let written = r.pngs.iter().any(|(n, _)| *n == format!("{id}.png"));
        figures.push(FigureInfo { id: id.clone(), title: title.clone(), png: written.then_some(png) });
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
