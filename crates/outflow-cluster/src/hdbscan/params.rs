//! HDBSCAN parameters.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::{InputError, check_len, check_matrix};

use super::tree::ClusterSelection;
use crate::error::{ClusterError, Result};
use crate::metric::Metric;

/// How the minimum spanning tree of the mutual-reachability graph is computed. Both are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MstAlgorithm {
    /// Chosen by measurement: Borůvka over the kd-tree up to [`BORUVKA_MAX_DIM`] dimensions, Prim's
    /// O(n²) algorithm above that and for the metrics without a kd-tree ([`Metric::has_tree`]).
    #[default]
    Auto,
    /// Borůvka over the kd-tree (Euclidean, Manhattan and Chebyshev only).
    Boruvka,
    /// Prim's algorithm with on-the-fly distances: O(n²) time, O(n) memory.
    Prim,
}

/// Above this many dimensions [`MstAlgorithm::Auto`] uses Prim's algorithm (see `benches/`).
pub const BORUVKA_MAX_DIM: usize = 64;

/// How core distances and the MST find each point's neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Neighbors {
    /// Exact searches (the default): the kd-tree, or Prim's scan.
    #[default]
    Exact,
    /// An approximate k-nearest-neighbour graph (NN-descent, seeded by [`HdbscanParams::seed`]): core
    /// distances from it, the MST of its mutual-reachability edges, components it leaves apart joined
    /// by their closest pair found by alternating scans. Its recall is measured on a sample
    /// ([`crate::Hdbscan::neighbor_recall`]). For many dimensions, where exact searches prune little.
    Approximate,
    /// Approximate from [`APPROXIMATE_MIN_DIM`] dimensions and [`APPROXIMATE_MIN_ROWS`] rows, else exact.
    Auto,
}

impl Neighbors {
    pub(crate) fn is_exact(&self) -> bool {
        *self == Neighbors::Exact
    }

    /// Whether a fit of `n` points in `dim` dimensions under `metric` searches the approximate graph.
    pub(crate) fn approximate_for(self, metric: Metric, n: usize, dim: usize) -> bool {
        match self {
            Neighbors::Exact => false,
            Neighbors::Approximate => true,
            Neighbors::Auto => metric != Metric::Precomputed && dim >= APPROXIMATE_MIN_DIM && n >= APPROXIMATE_MIN_ROWS,
        }
    }

    /// Refuses values the approximate graph's single-precision search cannot take (its squared
    /// distances overflow beyond about ±1e18; an exact fit takes such values).
    pub(crate) fn check_single_precision(x: ArrayView2<'_, f64>) -> Result<()> {
        if x.iter().any(|v| v.abs() > APPROXIMATE_MAX_ABS) {
            return Err(ClusterError::param(
                "neighbors",
                format!(
                    "approximate neighbours search in single precision: values beyond ±{APPROXIMATE_MAX_ABS:e} \
                     overflow it (scale the data, or use exact neighbours)"
                ),
            ));
        }
        Ok(())
    }
}

/// Neighbours per point of an approximate graph: `graph_neighbors`, or when 0 `max(min_samples + 5,
/// 15)` (see [`HdbscanParams::graph_neighbors`]); at least `at_least`, at most `n − 1`.
pub(crate) fn graph_k(graph_neighbors: usize, min_samples: usize, at_least: usize, n: usize) -> usize {
    let k = if graph_neighbors == 0 { (min_samples + 5).max(15) } else { graph_neighbors };
    k.max(at_least).min(n.saturating_sub(1)).max(1)
}

impl std::str::FromStr for Neighbors {
    type Err = ClusterError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "exact" => Ok(Neighbors::Exact),
            "approximate" => Ok(Neighbors::Approximate),
            "auto" => Ok(Neighbors::Auto),
            _ => Err(ClusterError::param("neighbors", format!("'{s}': expected exact, approximate or auto"))),
        }
    }
}

/// [`Neighbors::Auto`] searches approximately from this many dimensions (fast_hdbscan's switch is above
/// 30 as well)...
pub const APPROXIMATE_MIN_DIM: usize = 31;
/// ... and this many rows (below, an exact search is fast anyway).
pub const APPROXIMATE_MIN_ROWS: usize = 20_000;
/// Largest magnitude the approximate search takes (its single-precision squared distances stay finite).
const APPROXIMATE_MAX_ABS: f64 = 1e18;

/// How `min_samples` counts a point's neighbourhood. The two Python implementations differ, a frequent
/// source of wrong comparisons: scikit-learn's `HDBSCAN` (and `DBSCAN`) count the point itself, the
/// `hdbscan` package does not, so its `min_samples = m` is scikit-learn's `m + 1`, and its default
/// (`min_samples` unset: `min_cluster_size`) is scikit-learn's `min_cluster_size + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinSamplesConvention {
    /// The point itself counts (scikit-learn; Outflow's default).
    #[default]
    Sklearn,
    /// The point itself does not count (the `hdbscan` package).
    Hdbscan,
}

/// How semi-supervised selection ([`HdbscanParams::fit_semi_supervised`]) counts a labelled row that
/// leaves a cluster before the cluster splits (fast_hdbscan's `ss_algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SemiSupervised {
    /// `"bc"`: such a row also counts below the split, as a cluster of its own ("virtual node"), so
    /// splitting is not penalised for the labelled rows the children lose.
    #[default]
    Bc,
    /// `"bc_simple"`: such a row counts for the cluster only, which favours keeping it whole.
    BcSimple,
}

impl SemiSupervised {
    /// Whether this is the default (`bc`); the field is then left out of model files, which older
    /// builds read.
    fn is_default(&self) -> bool {
        *self == SemiSupervised::Bc
    }
}

/// HDBSCAN parameters. `min_samples` counts the point itself, as scikit-learn's `HDBSCAN` and
/// `DBSCAN` do, unless `min_samples_convention` says [`MinSamplesConvention::Hdbscan`] (see there).
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, Fit, HdbscanParams};
/// let x = array![[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1],
///                [5.0, 5.0], [5.1, 5.0], [5.0, 5.1], [5.1, 5.1], [20.0, 20.0]];
/// let model = HdbscanParams::new(3).min_samples(2).fit(x.view()).unwrap();
/// assert_eq!(model.n_clusters(), 2);
/// assert_eq!(model.labels()[8], -1);
/// assert!(model.outlier_scores()[8] > model.outlier_scores()[0]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HdbscanParams {
    /// Smallest group of points that counts as a cluster (≥ 2).
    pub min_cluster_size: usize,
    /// Neighbourhood size for core distances, the point itself included unless `min_samples_convention`
    /// is `hdbscan`; `None` = `min_cluster_size` (in that convention).
    pub min_samples: Option<usize>,
    /// Whether `min_samples` counts the point itself ([`MinSamplesConvention`]).
    pub min_samples_convention: MinSamplesConvention,
    /// Clusters closer than this distance are not split (0 = off).
    pub cluster_selection_epsilon: f64,
    /// hdbscan's `cluster_selection_epsilon_max`: the excess-of-mass selection never returns a cluster
    /// born above this distance (1 / its λ; the root's, the tree's largest distance), its selected
    /// descendants instead (`None` = no limit, hdbscan's `inf`).
    pub cluster_selection_epsilon_max: Option<f64>,
    /// Excess of mass or leaf.
    pub cluster_selection: ClusterSelection,
    /// Largest cluster the excess-of-mass selection returns, as scikit-learn's and hdbscan's
    /// `max_cluster_size`: a bigger cluster is never selected, its selected descendants are (0 = no limit,
    /// scikit-learn's `None`; no effect on leaf selection).
    pub max_cluster_size: usize,
    /// fast_hdbscan's `cluster_selection_persistence`: before any selection, splits where a child cluster
    /// persists less than this (in λ = 1 / distance: the largest λ in the child's subtree minus the λ of
    /// the split) are removed from the condensed tree (0 = off).
    pub cluster_selection_persistence: f64,
    /// Whether the root may be selected as the single cluster.
    pub allow_single_cluster: bool,
    /// Distance metric.
    pub metric: Metric,
    /// hdbscan's and scikit-learn's `alpha`: the MST joins points at `max(core(a), core(b), d(a, b) / alpha)`
    /// (core distances unscaled), so alpha > 1 lowers the reach of sparse links and keeps more points as
    /// noise, alpha < 1 does the opposite. 1 (the default) is plain mutual reachability.
    pub alpha: f64,
    /// How partial labels are counted when fitting with them ([`SemiSupervised`]; no effect otherwise).
    #[serde(skip_serializing_if = "SemiSupervised::is_default")]
    pub ss_algorithm: SemiSupervised,
    /// MST strategy.
    pub mst_algorithm: MstAlgorithm,
    /// Points per kd-tree leaf; 0 (the default) chooses by dimension (see [`auto_leaf_size`](crate::auto_leaf_size)).
    pub leaf_size: usize,
    /// Exact or approximate neighbours ([`Neighbors`]).
    #[serde(skip_serializing_if = "Neighbors::is_exact")]
    pub neighbors: Neighbors,
    /// Neighbours per point in the approximate graph; 0 (the default) = `max(min_samples + 5, 15)`: the
    /// `min_samples − 1` a core distance needs and a margin for the MST's edges among them (fast_hdbscan
    /// takes `max(3 · min_samples, 15)`, about twice the time for the same partition on 50,000 × 32
    /// noisy blobs). More neighbours, fewer components to join and a better recall, slower.
    #[serde(skip_serializing_if = "is_zero")]
    pub graph_neighbors: usize,
    /// Seed of the approximate graph (no effect on exact fits).
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub seed: u64,
}

/// Serde's test for a count left at its default (left out of model files, so older builds read them).
pub(crate) fn is_zero(v: &usize) -> bool {
    *v == 0
}

/// [`is_zero`] for a seed.
pub(crate) fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

impl Default for HdbscanParams {
    fn default() -> Self {
        HdbscanParams {
            min_cluster_size: 5,
            min_samples: None,
            min_samples_convention: MinSamplesConvention::Sklearn,
            cluster_selection_epsilon: 0.0,
            cluster_selection_epsilon_max: None,
            cluster_selection: ClusterSelection::Eom,
            max_cluster_size: 0,
            cluster_selection_persistence: 0.0,
            allow_single_cluster: false,
            metric: Metric::Euclidean,
            alpha: 1.0,
            ss_algorithm: SemiSupervised::Bc,
            mst_algorithm: MstAlgorithm::Auto,
            leaf_size: 0,
            neighbors: Neighbors::Exact,
            graph_neighbors: 0,
            seed: 0,
        }
    }
}

impl HdbscanParams {
    /// The fields a model file leaves out at their default (so that older builds read it).
    pub const FIELDS_SKIPPED_AT_DEFAULT: &'static [&'static str] =
        &["ss_algorithm", "neighbors", "graph_neighbors", "seed"];

    /// Defaults with the given minimum cluster size.
    pub fn new(min_cluster_size: usize) -> Self {
        HdbscanParams { min_cluster_size, ..Default::default() }
    }

    /// Sets `min_samples` (the point itself included).
    pub fn min_samples(mut self, m: usize) -> Self {
        self.min_samples = Some(m);
        self
    }

    /// Sets how `min_samples` counts ([`MinSamplesConvention`]).
    pub fn min_samples_convention(mut self, c: MinSamplesConvention) -> Self {
        self.min_samples_convention = c;
        self
    }

    /// Sets `max_cluster_size` (0 = no limit).
    pub fn max_cluster_size(mut self, n: usize) -> Self {
        self.max_cluster_size = n;
        self
    }

    /// Sets `cluster_selection_persistence` (0 = off).
    pub fn cluster_selection_persistence(mut self, p: f64) -> Self {
        self.cluster_selection_persistence = p;
        self
    }

    /// Sets `cluster_selection_epsilon`.
    pub fn cluster_selection_epsilon(mut self, eps: f64) -> Self {
        self.cluster_selection_epsilon = eps;
        self
    }

    /// Sets `cluster_selection_epsilon_max`.
    pub fn cluster_selection_epsilon_max(mut self, eps: f64) -> Self {
        self.cluster_selection_epsilon_max = Some(eps);
        self
    }

    /// Sets `cluster_selection` (excess of mass or leaf).
    pub fn cluster_selection(mut self, s: ClusterSelection) -> Self {
        self.cluster_selection = s;
        self
    }

    /// Sets how neighbours are found ([`Neighbors`]).
    pub fn neighbors(mut self, n: Neighbors) -> Self {
        self.neighbors = n;
        self
    }

    /// Sets the seed of the approximate neighbour graph.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets `leaf_size` (0 chooses by dimension).
    pub fn leaf_size(mut self, n: usize) -> Self {
        self.leaf_size = n;
        self
    }

    /// Sets the metric.
    pub fn metric(mut self, m: Metric) -> Self {
        self.metric = m;
        self
    }

    /// Sets `alpha` (distance scaling of the mutual reachability).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets how partial labels are counted ([`SemiSupervised`]).
    pub fn ss_algorithm(mut self, a: SemiSupervised) -> Self {
        self.ss_algorithm = a;
        self
    }

    /// Allows a single cluster.
    pub fn allow_single_cluster(mut self, yes: bool) -> Self {
        self.allow_single_cluster = yes;
        self
    }

    /// Sets the MST strategy.
    pub fn mst_algorithm(mut self, a: MstAlgorithm) -> Self {
        self.mst_algorithm = a;
        self
    }

    /// The effective `min_samples`, the point itself counted (scikit-learn's convention, whatever
    /// `min_samples_convention` says).
    pub fn effective_min_samples(&self) -> usize {
        let m = self.min_samples.unwrap_or(self.min_cluster_size);
        match self.min_samples_convention {
            MinSamplesConvention::Sklearn => m,
            MinSamplesConvention::Hdbscan => m + 1,
        }
    }

    /// The same parameters with `min_samples` set and counted the scikit-learn way (the form a fitted
    /// model keeps).
    pub fn in_sklearn_convention(&self) -> HdbscanParams {
        HdbscanParams {
            min_samples: Some(self.effective_min_samples()),
            min_samples_convention: MinSamplesConvention::Sklearn,
            ..self.clone()
        }
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, m: String| Err(ClusterError::param(name, m));
        if self.min_cluster_size < 2 {
            return bad("min_cluster_size", format!("must be at least 2, got {}", self.min_cluster_size));
        }
        if self.min_samples == Some(0) {
            let why = match self.min_samples_convention {
                MinSamplesConvention::Sklearn => "must be at least 1 (the point itself counts)",
                MinSamplesConvention::Hdbscan => {
                    "must be at least 1 (hdbscan's convention: the point itself not counted)"
                }
            };
            return bad("min_samples", why.into());
        }
        if self.max_cluster_size != 0 && self.max_cluster_size < self.min_cluster_size {
            return bad(
                "max_cluster_size",
                format!(
                    "{} is below min_cluster_size {}: no cluster could be selected (0 = no limit)",
                    self.max_cluster_size, self.min_cluster_size
                ),
            );
        }
        if !(self.cluster_selection_epsilon >= 0.0 && self.cluster_selection_epsilon.is_finite()) {
            return bad(
                "cluster_selection_epsilon",
                format!("must be finite and ≥ 0, got {}", self.cluster_selection_epsilon),
            );
        }
        if let Some(max) = self.cluster_selection_epsilon_max
            && !(max >= self.cluster_selection_epsilon && max > 0.0)
        {
            return bad(
                "cluster_selection_epsilon_max",
                format!("must be > 0 and ≥ cluster_selection_epsilon {}, got {max}", self.cluster_selection_epsilon),
            );
        }
        if !(self.cluster_selection_persistence >= 0.0 && self.cluster_selection_persistence.is_finite()) {
            return bad(
                "cluster_selection_persistence",
                format!("must be finite and ≥ 0, got {}", self.cluster_selection_persistence),
            );
        }
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return bad("alpha", format!("must be finite and > 0, got {}", self.alpha));
        }
        if let Metric::Minkowski { p } = self.metric {
            Metric::minkowski(p)?;
        }
        if !self.metric.has_tree() && self.mst_algorithm == MstAlgorithm::Boruvka {
            return bad(
                "mst_algorithm",
                format!(
                    "the kd-tree Borůvka MST takes euclidean, manhattan or chebyshev; use prim (or auto) for {}",
                    self.metric
                ),
            );
        }
        if self.neighbors == Neighbors::Approximate && self.metric == Metric::Precomputed {
            return bad(
                "neighbors",
                "approximate neighbours search points; a precomputed distance matrix is searched exactly".into(),
            );
        }
        if self.graph_neighbors != 0 && self.graph_neighbors < self.effective_min_samples().saturating_sub(1) {
            return bad(
                "graph_neighbors",
                format!(
                    "{} neighbours per point cannot give the core distance of min_samples {} (at least {})",
                    self.graph_neighbors,
                    self.effective_min_samples(),
                    self.effective_min_samples() - 1
                ),
            );
        }
        Ok(())
    }

    pub(super) fn validate_for(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        self.metric_fits(x)?;
        self.single_precision_fits(x)?;
        let n = x.nrows();
        if n < self.min_cluster_size {
            let what = format!("HDBSCAN with min_cluster_size = {}", self.min_cluster_size);
            return Err(InputError::too_few_rows(what, self.min_cluster_size, n).into());
        }
        check_min_samples(self.effective_min_samples(), n)
    }

    /// [`Self::validate_for`] with sample weights: one finite (as `f32`), non-negative weight per row,
    /// summing to at least `min_samples`; `min_samples` and `min_cluster_size` may then exceed the rows.
    pub(super) fn validate_weighted(&self, x: ArrayView2<'_, f64>, w: &[f64]) -> Result<()> {
        self.validate()?;
        check_matrix(x)?;
        self.metric_fits(x)?;
        self.single_precision_fits(x)?;
        let n = x.nrows();
        if n < 2 {
            return Err(InputError::too_few_rows("HDBSCAN", 2, n).into());
        }
        check_len("sample weights", n, w.len())?;
        if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(ClusterError::param(
                "sample_weight",
                format!("weights must be finite (as f32: at most 3.4e38) and ≥ 0, got {} for row {i} (0-based)", w[i]),
            ));
        }
        let total: f64 = w.iter().sum();
        let m = self.effective_min_samples();
        if total < m as f64 {
            return Err(ClusterError::param(
                "sample_weight",
                format!("the weights sum to {total}, below min_samples = {m}: no row could reach its core distance"),
            ));
        }
        Ok(())
    }

    /// Partial labels: one per row, each a class ≥ 0 or −1 (unlabelled), at least one labelled, and a
    /// selection they can act on (excess of mass without `max_cluster_size` or
    /// `cluster_selection_epsilon_max`, which fast_hdbscan silently ignores with labels).
    pub(super) fn check_partial_labels(&self, y: &[i64], n: usize) -> Result<()> {
        let bad = |m: String| Err(ClusterError::param("partial_labels", m));
        check_len("partial labels", n, y.len())?;
        if let Some(i) = y.iter().position(|&c| c < -1) {
            return bad(format!(
                "a label is a class ≥ 0 or −1 for an unlabelled row, got {} for row {i} (0-based)",
                y[i]
            ));
        }
        if y.iter().all(|&c| c == -1) {
            return bad("every row is −1 (unlabelled): label at least one row, or fit without labels".into());
        }
        if self.cluster_selection != ClusterSelection::Eom {
            return bad("partial labels guide the excess-of-mass selection; leaf selection would ignore them".into());
        }
        if self.max_cluster_size != 0 || self.cluster_selection_epsilon_max.is_some() {
            return bad("partial labels choose clusters by their BCubed score: max_cluster_size and \
                 cluster_selection_epsilon_max do not apply with them"
                .into());
        }
        Ok(())
    }

    /// Values the approximate graph can search, when it is used.
    fn single_precision_fits(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        if self.use_approximate(x.nrows(), x.ncols()) {
            Neighbors::check_single_precision(x)?;
        }
        Ok(())
    }

    pub(super) fn metric_fits(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        match self.metric {
            Metric::Precomputed => check_distance_matrix(x),
            m => m.validate(x.ncols()),
        }
    }

    pub(super) fn selection_rule(&self) -> super::tree::SelectionRule {
        super::tree::SelectionRule {
            method: self.cluster_selection,
            allow_single_cluster: self.allow_single_cluster,
            epsilon: self.cluster_selection_epsilon,
            max_cluster_size: self.max_cluster_size,
            epsilon_max: self.cluster_selection_epsilon_max.unwrap_or(f64::INFINITY),
        }
    }

    /// Whether a fit of `n` points in `dim` dimensions uses the approximate neighbour graph.
    pub(super) fn use_approximate(&self, n: usize, dim: usize) -> bool {
        self.neighbors.approximate_for(self.metric, n, dim)
    }

    /// Neighbours per point in the approximate graph of `n` points.
    pub(super) fn graph_k(&self, n: usize) -> usize {
        graph_k(self.graph_neighbors, self.effective_min_samples(), 1, n)
    }

    pub(super) fn use_prim(&self, dim: usize) -> bool {
        match self.mst_algorithm {
            MstAlgorithm::Prim => true,
            MstAlgorithm::Boruvka => false,
            MstAlgorithm::Auto => !self.metric.has_tree() || dim > BORUVKA_MAX_DIM,
        }
    }
}

/// A matrix of distances between its rows: square, non-negative and symmetric (within numpy's `allclose`
/// tolerances, as scikit-learn checks it). Finite values are checked before.
pub(super) fn check_distance_matrix(x: ArrayView2<'_, f64>) -> Result<()> {
    let n = x.nrows();
    let bad = |m: String| Err(ClusterError::param("metric", m));
    if x.ncols() != n {
        return bad(format!("precomputed distances need a square matrix, got {n} rows × {} columns", x.ncols()));
    }
    for i in 0..n {
        for j in 0..n {
            let (a, b) = (x[[i, j]], x[[j, i]]);
            if a < 0.0 {
                return bad(format!("precomputed distance {a} at row {i}, column {j} (0-based) is negative"));
            }
            if j > i && (a - b).abs() > 1e-8 + 1e-5 * b.abs() {
                return bad(format!(
                    "precomputed distances are not symmetric: {a} at row {i}, column {j} but {b} at row {j}, \
                     column {i} (0-based)"
                ));
            }
        }
    }
    Ok(())
}

/// Fails when `min_samples` (the point itself counted) exceeds the rows.
pub(super) fn check_min_samples(min_samples: usize, n: usize) -> Result<()> {
    if min_samples > n {
        return Err(InputError::too_few_rows(format!("min_samples = {min_samples}"), min_samples, n).into());
    }
    Ok(())
}
