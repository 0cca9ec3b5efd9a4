//! The figures of the report: their ids ([`FigureId`], in page order), what each draws ([`Kind`]) and
//! how [`ReportData`] turns into them, section by section.

use std::fmt;

use crate::analysis::{Projection, TreeLayout};
use crate::data::ReportData;
use crate::error::{ReportError, Result};
use crate::plots::{
    self, BeeswarmPlot, BubbleMap, ClusterScatter, ColorScale, CondensedTreePlot, Heatmap, HistogramPlot,
    ImportanceBars, LinePlot, MODERATE, SEVERE, Series, SeriesPlot, SilhouettePlot, SizeBars, VLine, ValueMap,
};
use crate::report::fmt_pct;
use outflow::cluster::Algorithm;
use outflow::run::RunDir;

/// Every figure of the report, in page order. The id names the element (`fig-<id>`) and the PNG copy
/// (`figures/<id>.png`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FigureId {
    /// 2-D PCA scatter by cluster, anomalies marked.
    PcaClusters,
    /// Outlier score in the PCA plane.
    ScoreMap,
    /// Membership strength in the PCA plane.
    ProbabilityMap,
    /// t-SNE map by cluster, anomalies marked.
    TsneClusters,
    /// Outlier score in the t-SNE map.
    TsneScores,
    /// UMAP map by cluster, anomalies marked.
    UmapClusters,
    /// Outlier score in the UMAP map.
    UmapScores,
    /// Histogram of the outlier scores with the thresholds.
    ScoreHistogram,
    /// Flows per cluster.
    ClusterSizes,
    /// HDBSCAN's condensed tree.
    CondensedTree,
    /// Per-flow silhouette by cluster.
    Silhouette,
    /// Cluster centres in the PCA plane.
    ClusterDistances,
    /// k-means inertia per k.
    Elbow,
    /// Mean silhouette per k.
    SilhouetteK,
    /// Gap statistic per k.
    Gap,
    /// Pearson correlation heatmap.
    Correlation,
    /// Importances of the surrogate forest.
    Importance,
    /// TreeSHAP beeswarm.
    Shap,
    /// Bytes out per window of the top hosts (or pairs).
    EntityBytes,
    /// Intervals between the connections of the top beacon pair.
    BeaconIntervals,
}

impl FigureId {
    /// Every figure, in page order.
    pub const ALL: [FigureId; 20] = [
        FigureId::PcaClusters,
        FigureId::ScoreMap,
        FigureId::ProbabilityMap,
        FigureId::TsneClusters,
        FigureId::TsneScores,
        FigureId::UmapClusters,
        FigureId::UmapScores,
        FigureId::ScoreHistogram,
        FigureId::ClusterSizes,
        FigureId::CondensedTree,
        FigureId::Silhouette,
        FigureId::ClusterDistances,
        FigureId::Elbow,
        FigureId::SilhouetteK,
        FigureId::Gap,
        FigureId::Correlation,
        FigureId::Importance,
        FigureId::Shap,
        FigureId::EntityBytes,
        FigureId::BeaconIntervals,
    ];

    /// The id on the page and in file names (`pca-clusters`).
    pub fn as_str(self) -> &'static str {
        match self {
            FigureId::PcaClusters => "pca-clusters",
            FigureId::ScoreMap => "score-map",
            FigureId::ProbabilityMap => "probability-map",
            FigureId::TsneClusters => "tsne-clusters",
            FigureId::TsneScores => "tsne-scores",
            FigureId::UmapClusters => "umap-clusters",
            FigureId::UmapScores => "umap-scores",
            FigureId::ScoreHistogram => "score-histogram",
            FigureId::ClusterSizes => "cluster-sizes",
            FigureId::CondensedTree => "condensed-tree",
            FigureId::Silhouette => "silhouette",
            FigureId::ClusterDistances => "cluster-distances",
            FigureId::Elbow => "elbow",
            FigureId::SilhouetteK => "silhouette-k",
            FigureId::Gap => "gap",
            FigureId::Correlation => "correlation",
            FigureId::Importance => "importance",
            FigureId::Shap => "shap",
            FigureId::EntityBytes => "entity-bytes",
            FigureId::BeaconIntervals => "beacon-intervals",
        }
    }

    /// Short title.
    pub fn title(self) -> &'static str {
        match self {
            FigureId::PcaClusters => "PCA projection by cluster",
            FigureId::ScoreMap => "Outlier-score map",
            FigureId::ProbabilityMap => "Membership-probability map",
            FigureId::TsneClusters => "t-SNE map by cluster",
            FigureId::TsneScores => "t-SNE outlier-score map",
            FigureId::UmapClusters => "UMAP map by cluster",
            FigureId::UmapScores => "UMAP outlier-score map",
            FigureId::ScoreHistogram => "Score histogram",
            FigureId::ClusterSizes => "Cluster sizes",
            FigureId::CondensedTree => "Condensed tree",
            FigureId::Silhouette => "Silhouette plot",
            FigureId::ClusterDistances => "Inter-cluster distance map",
            FigureId::Elbow => "Elbow curve",
            FigureId::SilhouetteK => "Silhouette vs k",
            FigureId::Gap => "Gap statistic",
            FigureId::Correlation => "Correlation heatmap",
            FigureId::Importance => "Feature importance",
            FigureId::Shap => "SHAP beeswarm",
            FigureId::EntityBytes => "Bytes out per window",
            FigureId::BeaconIntervals => "Beacon intervals",
        }
    }
}

impl fmt::Display for FigureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// Lines per entity.
    Series(SeriesPlot),
    /// Not drawn, with the reason.
    Skipped(String),
}

/// One figure of the page: which one and what to draw.
#[derive(Debug, Clone)]
pub struct FigureSpec {
    /// Which figure.
    pub id: FigureId,
    /// What to draw.
    pub kind: Kind,
}

impl FigureSpec {
    fn skipped(id: FigureId, why: impl Into<String>) -> Self {
        FigureSpec { id, kind: Kind::Skipped(why.into()) }
    }

    /// Short title.
    pub fn title(&self) -> &'static str {
        self.id.title()
    }

    /// SVG text and PNG bytes (`None` when skipped).
    pub fn render(&self, png: bool) -> Result<Option<Rendered>> {
        let id = self.id.as_str();
        macro_rules! both {
            ($f:expr) => {
                Rendered {
                    svg: plots::to_svg($f).map_err(|e| ReportError::plot(id, e))?,
                    png: if png { Some(plots::to_png($f).map_err(|e| ReportError::plot(id, e))?) } else { None },
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
            Kind::Series(f) => both!(f),
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

/// The PCA plane the scatter plots and the distance map share: axis names and the drawn points.
struct Plane {
    x_label: String,
    y_label: String,
    points: Vec<[f64; 2]>,
    note: String,
}

impl Plane {
    fn new(data: &ReportData, run: &RunDir) -> Plane {
        let (x_label, y_label) = axis_names(&data.projection);
        let note = format!(
            "{} of {} sampled flows shown ({} scored)",
            plots::fmt_int(data.shown.len() as u64),
            plots::fmt_int(run.sample.len() as u64),
            plots::fmt_int(run.scores.scores.len() as u64)
        );
        Plane { x_label, y_label, points: data.shown.iter().map(|&i| data.projection.points[i]).collect(), note }
    }

    fn value_map(&self, title: String, values: Vec<f64>, value_label: &str, scale: ColorScale) -> ValueMap {
        ValueMap {
            title,
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            points: self.points.clone(),
            values,
            value_label: value_label.into(),
            range: (0.0, 1.0),
            scale,
            marks: Vec::new(),
            note: self.note.clone(),
        }
    }
}

impl ReportData {
    /// Builds every figure (the data types of [`plots`]) in [`FigureId::ALL`] order; skipped ones carry
    /// the reason.
    pub fn figures(&self, run: &RunDir) -> Vec<FigureSpec> {
        let plane = Plane::new(self, run);
        let mut out = self.map_figures(run, &plane);
        out.push(self.histogram_figure());
        out.extend(self.structure_figures(plane));
        out.extend(self.k_figures());
        out.extend(self.feature_figures(run));
        out.extend(self.behaviour_figures());
        debug_assert!(out.iter().map(|f| f.id).eq(FigureId::ALL));
        out
    }

    /// The flows in the PCA plane: by cluster, by score, by membership strength.
    fn map_figures(&self, run: &RunDir, plane: &Plane) -> Vec<FigureSpec> {
        let s = &run.sample;
        let severity = |i: usize| match s.severity[i].as_str() {
            "severe" => 2u8,
            "moderate" => 1,
            _ => 0,
        };
        let (pm, ps) = self.percentiles;
        let (tm, ts) = self.thresholds;
        let clusters = ClusterScatter {
            title: "Flows in the first two principal components, by cluster".into(),
            x_label: plane.x_label.clone(),
            y_label: plane.y_label.clone(),
            points: plane.points.clone(),
            labels: self.shown.iter().map(|&i| s.cluster[i]).collect(),
            severity: self.shown.iter().map(|&i| severity(i)).collect(),
            note: plane.note.clone(),
        };
        let mut scores = plane.value_map(
            "Outlier score of each flow".into(),
            self.shown.iter().map(|&i| s.outlier_score[i]).collect(),
            "outlier score",
            ColorScale::Inferno,
        );
        scores.marks = vec![(tm, format!("p{}", fmt_pct(pm))), (ts, format!("p{}", fmt_pct(ps)))];
        let clustering = &run.summary.clustering;
        let probability = if has_membership_strength(clustering) {
            Kind::ValueMap(plane.value_map(
                format!("{} membership probability (0 = noise)", clustering.title()),
                self.shown.iter().map(|&i| s.probability[i]).collect(),
                "probability",
                ColorScale::Viridis,
            ))
        } else {
            Kind::Skipped(format!(
                "the clusterer is {}: every flow in a cluster has membership 1 (graded membership is HDBSCAN's)",
                clustering.title()
            ))
        };
        let colours = crate::maps::MapColours {
            cluster: &s.cluster,
            score: &s.outlier_score,
            severity: &(0..s.len()).map(severity).collect::<Vec<_>>(),
            thresholds: (tm, ts),
            percentiles: (pm, ps),
        };
        let map_figures = |map| crate::maps::map_figures(map, s.len(), &colours);
        let (tsne_clusters, tsne_scores) = map_figures(&self.tsne);
        let (umap_clusters, umap_scores) = map_figures(&self.umap);
        vec![
            FigureSpec { id: FigureId::PcaClusters, kind: Kind::ClusterScatter(clusters) },
            FigureSpec { id: FigureId::ScoreMap, kind: Kind::ValueMap(scores) },
            FigureSpec { id: FigureId::ProbabilityMap, kind: probability },
            FigureSpec { id: FigureId::TsneClusters, kind: tsne_clusters },
            FigureSpec { id: FigureId::TsneScores, kind: tsne_scores },
            FigureSpec { id: FigureId::UmapClusters, kind: umap_clusters },
            FigureSpec { id: FigureId::UmapScores, kind: umap_scores },
        ]
    }

    /// The top entities' bytes per window and the top beacon pair's intervals.
    fn behaviour_figures(&self) -> Vec<FigureSpec> {
        let bytes = match &self.entities {
            Ok((level, series)) => {
                let t0 = series.iter().flat_map(|s| s.starts.first()).copied().fold(f64::INFINITY, f64::min);
                Kind::Series(SeriesPlot {
                    title: format!("Bytes sent per window by the {} highest-scored {level}s", series.len()),
                    x_label: "hours since the first window".into(),
                    y_label: "bytes out (log scale; 0 at the bottom)".into(),
                    series: series
                        .iter()
                        .map(|s| Series {
                            label: format!("{} ({})", s.name, plots::fmt_num(s.peak_score)),
                            xs: s.starts.iter().map(|t| (t - t0) / 3600.0).collect(),
                            ys: s.bytes_out.clone(),
                        })
                        .collect(),
                    log_y: true,
                })
            }
            Err(e) => Kind::Skipped(e.clone()),
        };
        let intervals = match &self.beacon {
            Ok(b) => Kind::Histogram(HistogramPlot {
                title: format!(
                    "Seconds between the connections of {} (beacon score {})",
                    b.pair,
                    plots::fmt_num(b.beacon_score)
                ),
                x_label: "seconds between consecutive connection starts".into(),
                counted: "intervals".into(),
                hist: crate::analysis::histogram(&b.intervals, 40),
                lines: Vec::new(),
            }),
            Err(e) => Kind::Skipped(e.clone()),
        };
        vec![
            FigureSpec { id: FigureId::EntityBytes, kind: bytes },
            FigureSpec { id: FigureId::BeaconIntervals, kind: intervals },
        ]
    }

    /// Every scored flow's score against the two thresholds.
    fn histogram_figure(&self) -> FigureSpec {
        let (pm, ps) = self.percentiles;
        let (tm, ts) = self.thresholds;
        let line = |value: f64, p: f64, what: &str, color| VLine {
            value,
            tag: format!("p{}", fmt_pct(p)),
            label: format!("{what} ≥ p{} = {}", fmt_pct(p), plots::fmt_num(value)),
            color,
        };
        let hist = HistogramPlot {
            title: format!("Outlier scores of the {} scored flows", plots::fmt_int(self.histogram.total() as u64)),
            x_label: "outlier score (fused rank of the signals)".into(),
            counted: "flows".into(),
            hist: self.histogram.clone(),
            lines: vec![line(tm, pm, "moderate", MODERATE), line(ts, ps, "severe", SEVERE)],
        };
        FigureSpec { id: FigureId::ScoreHistogram, kind: Kind::Histogram(hist) }
    }

    /// Sizes, the condensed tree, silhouettes and the distance map.
    fn structure_figures(&self, plane: Plane) -> Vec<FigureSpec> {
        let sizes =
            SizeBars { title: "Flows per cluster".into(), x_label: "scored flows".into(), bars: self.sizes.clone() };
        let tree = match &self.tree {
            Ok(layout) => Kind::Tree(CondensedTreePlot {
                title: "HDBSCAN condensed tree with the selected clusters".into(),
                layout: layout.clone(),
                log_lambda: needs_log(layout),
            }),
            Err(e) => Kind::Skipped(e.clone()),
        };
        let silhouette = match &self.silhouette {
            Ok(d) => Kind::Silhouette(SilhouettePlot {
                title: format!(
                    "Silhouette of the {} sampled non-noise flows ({} noise left out)",
                    plots::fmt_int(d.clusters.iter().map(|c| c.1.len()).sum::<usize>() as u64),
                    plots::fmt_int(d.n_noise as u64)
                ),
                data: d.clone(),
            }),
            Err(e) => Kind::Skipped(e.clone()),
        };
        let distances = if self.centroids.is_empty() {
            Kind::Skipped("no cluster among the sampled flows".into())
        } else {
            Kind::Bubbles(BubbleMap {
                title: "Cluster centres in the PCA plane (area ∝ flows)".into(),
                x_label: plane.x_label,
                y_label: plane.y_label,
                background: plane.points,
                bubbles: self.centroids.iter().map(|c| (c.label, c.center, c.size)).collect(),
                note: "grey: sampled flows".into(),
            })
        };
        vec![
            FigureSpec { id: FigureId::ClusterSizes, kind: Kind::SizeBars(sizes) },
            FigureSpec { id: FigureId::CondensedTree, kind: tree },
            FigureSpec { id: FigureId::Silhouette, kind: silhouette },
            FigureSpec { id: FigureId::ClusterDistances, kind: distances },
        ]
    }

    /// Elbow, silhouette and gap curves of k-means over k.
    fn k_figures(&self) -> Vec<FigureSpec> {
        let ids = [FigureId::Elbow, FigureId::SilhouetteK, FigureId::Gap];
        let t = match &self.k_table {
            Ok(t) => t,
            Err(e) => return ids.iter().map(|&id| FigureSpec::skipped(id, e.clone())).collect(),
        };
        let ks: Vec<f64> = t.rows.iter().map(|r| r.k as f64).collect();
        let mark = |k: Option<usize>, what: &str| k.map(|k| (k as f64, format!("{what} k = {k}")));
        let curve = |title: String, y_label: &str, ys: Vec<f64>, log_y: bool, mark, rgb: (u8, u8, u8)| LinePlot {
            title,
            x_label: "k (clusters)".into(),
            y_label: y_label.into(),
            xs: ks.clone(),
            ys,
            errors: None,
            log_y,
            mark,
            color: plotters::style::RGBColor(rgb.0, rgb.1, rgb.2),
        };
        let elbow = curve(
            "Elbow: k-means inertia".into(),
            "inertia (log scale)",
            t.rows.iter().map(|r| r.inertia).collect(),
            true,
            mark(t.k_elbow, "elbow"),
            (52, 101, 164),
        );
        let silhouette = curve(
            "Mean silhouette of k-means".into(),
            "mean silhouette",
            t.rows.iter().map(|r| r.silhouette.unwrap_or(f64::NAN)).collect(),
            false,
            mark(t.k_silhouette, "best"),
            (44, 140, 44),
        );
        let mut gap = curve(
            format!("Gap statistic ({} references)", t.n_refs),
            "Gap(k) ± s_k",
            t.rows.iter().map(|r| r.gap).collect(),
            false,
            mark(t.k_gap, "gap"),
            (148, 83, 189),
        );
        gap.errors = Some(t.rows.iter().map(|r| r.s_k).collect());
        ids.into_iter().zip([elbow, silhouette, gap]).map(|(id, c)| FigureSpec { id, kind: Kind::Line(c) }).collect()
    }

    /// Correlations, surrogate importances and the SHAP beeswarm.
    fn feature_figures(&self, run: &RunDir) -> Vec<FigureSpec> {
        let features = &run.sample.features;
        let correlation = if features.len() < 2 {
            Kind::Skipped("only one feature".into())
        } else {
            Kind::Heatmap(Heatmap {
                title: "Pearson correlation of the model's features (sampled flows)".into(),
                names: features.clone(),
                matrix: self.correlations.clone(),
                value_label: "r".into(),
            })
        };
        let importance = match &self.importances {
            Ok(imp) => Kind::Importance(ImportanceBars {
                title: format!(
                    "What separates the clusters: surrogate forest ({} trees, accuracy {:.1}%)",
                    imp.trees,
                    100.0 * imp.accuracy
                ),
                x_label: "importance".into(),
                features: features.clone(),
                series: vec![
                    ("Gini".into(), imp.gini.clone(), None),
                    ("permutation".into(), imp.permutation.clone(), Some(imp.permutation_std.clone())),
                ],
                max_features: 20,
            }),
            Err(e) => Kind::Skipped(e.clone()),
        };
        let shap = match &self.beeswarm {
            Ok(b) => {
                let class = if b.class < 0 {
                    "the noise class".to_owned()
                } else {
                    format!("cluster C{} (the smallest)", b.class)
                };
                Kind::Beeswarm(BeeswarmPlot {
                    title: format!("SHAP values for {class} ({} flows explained)", plots::fmt_int(b.n_rows as u64)),
                    x_label: format!("SHAP value (impact on P({}))", plots::cluster_name(b.class)),
                    data: b.clone(),
                    max_features: 15,
                })
            }
            Err(e) => Kind::Skipped(e.clone()),
        };
        vec![
            FigureSpec { id: FigureId::Correlation, kind: correlation },
            FigureSpec { id: FigureId::Importance, kind: importance },
            FigureSpec { id: FigureId::Shap, kind: shap },
        ]
    }
}

/// Whether the clusterer grades membership (HDBSCAN's probabilities); the others give 1 in a cluster.
pub(crate) fn has_membership_strength(a: &Algorithm) -> bool {
    matches!(a, Algorithm::Hdbscan(_))
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
