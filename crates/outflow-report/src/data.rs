//! [`ReportData`]: the numbers behind every figure, computed from a run directory.

use std::collections::{BTreeMap, BTreeSet};

use ndarray::{Array2, Axis};
use outflow::validate::KTable;

use crate::analysis::{
    self, BeaconIntervals, Beeswarm, Centroid, EntitySeries, Histogram, Projection, SilhouetteData, SizeBar, TreeLayout,
};
use crate::error::Result;
use crate::maps;
use crate::report::ReportOptions;
use outflow::run::{RunDir, Sample};

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

/// The numbers behind every figure of a report. A figure that cannot be computed holds the reason.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// Indices into the sample of the points drawn in scatter plots (ascending).
    pub shown: Vec<usize>,
    /// 2-D PCA of every sampled flow (index like the sample).
    pub projection: Projection,
    /// 2-D t-SNE map of a seeded sample of the shown flows.
    pub tsne: std::result::Result<maps::FlowMap, String>,
    /// 2-D UMAP map of the same kind of sample.
    pub umap: std::result::Result<maps::FlowMap, String>,
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
    /// The level (`host` or `pair`) and bytes per window of its top entities, when the run has one.
    pub entities: std::result::Result<(String, Vec<EntitySeries>), String>,
    /// The top beacon pair's intervals, when the run has the pair level.
    pub beacon: std::result::Result<BeaconIntervals, String>,
}

impl ReportData {
    /// Computes everything from a run directory.
    pub fn compute(run: &RunDir, opts: &ReportOptions) -> Result<ReportData> {
        opts.validate()?;
        let s = &run.sample;
        let x = s.x.view();
        let projection = analysis::pca_2d(x, opts.compress)?;
        let th = run.summary.thresholds;
        let sc = &run.model.params().scoring;
        let sizes_in: Vec<(i64, usize)> = run.clusters.iter().map(|c| (c.cluster, c.size)).collect();
        let size_of: BTreeMap<i64, usize> = sizes_in.iter().copied().collect();
        let centroids = analysis::centroids(&projection.points, &s.cluster, &size_of);
        let (importances, beeswarm) = surrogate_figures(s, opts);
        let (entities, beacon) = behaviour(run);
        let shown = analysis::subsample(s.len(), opts.max_scatter_points, opts.seed);
        let tsne = maps::tsne_map(x, &shown, opts.tsne_points, opts.seed, opts.compress);
        let umap = maps::umap_map(x, &shown, opts.umap_points, opts.seed, opts.compress);
        Ok(ReportData {
            tsne,
            umap,
            entities,
            beacon,
            shown,
            histogram: analysis::histogram(&run.scores.scores, 50),
            thresholds: (th.moderate, th.severe),
            percentiles: (sc.moderate_percentile, sc.severe_percentile),
            sizes: analysis::cluster_sizes(&sizes_in),
            tree: condensed_tree(run),
            silhouette: silhouettes(s),
            centroids,
            k_table: k_curves(s, opts),
            correlations: analysis::correlations(x)?,
            importances,
            beeswarm,
            projection,
        })
    }
}

/// Entities shown in the bytes-per-window figure.
const TOP_ENTITIES: usize = 6;

/// The behaviour figures' data from `hosts.csv` / `pairs.csv` (and `scores.csv` for the intervals).
fn behaviour(run: &RunDir) -> (Fallible<(String, Vec<EntitySeries>)>, Fallible<BeaconIntervals>) {
    use outflow::Level;
    let table = |level: Level| -> Fallible<outflow::Table> {
        let summary =
            run.summary.levels.iter().find(|l| l.level == level).ok_or_else(|| {
                format!("the run has no {level} level (outflow detect --level {level} or --level all)")
            })?;
        let path = run.dir.join(&summary.table_file);
        outflow::read_table(&path, &Default::default()).map_err(|e| format!("{}: {e}", path.display()))
    };
    let hosts = table(Level::Host);
    let pairs = table(Level::Pair);
    let entities = match (&hosts, &pairs) {
        (Ok(h), _) => analysis::entity_series(h, TOP_ENTITIES).map(|s| ("host".to_owned(), s)),
        (Err(_), Ok(p)) => analysis::entity_series(p, TOP_ENTITIES).map(|s| ("pair".to_owned(), s)),
        (Err(e), Err(_)) => Err(e.clone()),
    };
    let beacon = pairs.and_then(|p| {
        let path = run.dir.join(run.summary.table_format.file_name(outflow::run::SCORES));
        let flows = outflow::read_table(&path, &Default::default()).map_err(|e| format!("{}: {e}", path.display()))?;
        analysis::beacon_intervals(&p, &flows)
    });
    (entities, beacon)
}

/// The condensed tree's layout, when the clusterer is HDBSCAN.
fn condensed_tree(run: &RunDir) -> std::result::Result<TreeLayout, String> {
    match run.model.clustering().as_hdbscan() {
        None => Err(format!("the clusterer is {}: a condensed tree is HDBSCAN's", run.summary.clustering.title())),
        Some(h) if h.condensed_tree().is_empty() => Err("the model's condensed tree is empty".to_owned()),
        Some(h) => Ok(analysis::tree_layout(h.condensed_tree(), h.selected_clusters(), 20, true)),
    }
}

fn silhouettes(s: &Sample) -> std::result::Result<SilhouetteData, String> {
    let clusters = s.cluster.iter().filter(|&&c| c >= 0).collect::<BTreeSet<_>>().len();
    if clusters < 2 {
        return Err(format!("needs at least 2 clusters among the sampled flows, found {clusters}"));
    }
    analysis::silhouette_data(s.x.view(), &s.cluster).map_err(|e| e.to_string())
}

fn k_curves(s: &Sample, opts: &ReportOptions) -> std::result::Result<KTable, String> {
    if opts.k_max < 2 {
        return Err("not computed (k_max < 2)".to_owned());
    }
    analysis::k_curves(s.x.view(), opts.k_max, opts.seed).map_err(|e| e.to_string())
}

type Fallible<T> = std::result::Result<T, String>;

/// The surrogate forest's importances and the SHAP beeswarm of one of its classes.
fn surrogate_figures(s: &Sample, opts: &ReportOptions) -> (Fallible<Importances>, Fallible<Beeswarm>) {
    let classes = s.cluster.iter().collect::<BTreeSet<_>>().len();
    if classes < 2 {
        let why = "needs at least 2 classes (clusters or noise) among the sampled flows".to_owned();
        return (Err(why.clone()), Err(why));
    }
    let sur = match analysis::surrogate(s.x.view(), &s.cluster, opts.seed) {
        Ok(sur) => sur,
        Err(e) => return (Err(e.to_string()), Err(e.to_string())),
    };
    let bee = match analysis::beeswarm_class(sur.forest.classes(), &s.cluster) {
        None => Err("the surrogate has no class".to_owned()),
        Some(class) => {
            let rows = analysis::subsample(s.len(), opts.shap_rows, opts.seed.wrapping_add(1));
            let xs = s.x.select(Axis(0), &rows);
            analysis::beeswarm(&sur.forest, xs.view(), &s.features, class).map_err(|e| e.to_string())
        }
    };
    let imp = Importances {
        trees: sur.forest.trees().len(),
        gini: sur.gini,
        permutation: sur.permutation,
        permutation_std: sur.permutation_std,
        accuracy: sur.accuracy,
    };
    (Ok(imp), bee)
}
