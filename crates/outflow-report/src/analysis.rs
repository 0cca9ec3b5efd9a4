//! The numbers behind each figure, computed from a run directory's files and model. Every function is
//! deterministic for the same input and seed.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayView2, Axis};
use outflow::cluster::CondensedTree;
use outflow::explain::{PermutationParams, RandomForest, RandomForestParams, permutation_importance};
use outflow::numeric::quantile_sorted;
use outflow::prep::{PcaComponents, PcaParams};
use outflow::validate::{KTable, SilhouetteParams, TendencyParams, k_table, silhouette};
use outflow::{Fit, FitSupervised, Transform, sample_indices};

use crate::error::{ReportError, Result};

/// A 2-D projection of feature rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// One point per input row.
    pub points: Vec<[f64; 2]>,
    /// Explained variance ratio of each axis (of the compressed features when `compressed`).
    pub explained: [f64; 2],
    /// Whether the features were compressed with `asinh` before the PCA.
    pub compressed: bool,
}

/// `asinh` of every value: the identity near 0, a logarithm of the magnitude far from it. Flow features
/// are heavy-tailed even after robust scaling; without it one PCA axis is a single flow.
pub fn compress(x: ArrayView2<'_, f64>) -> Array2<f64> {
    x.mapv(f64::asinh)
}

/// PCA of the rows of `x` onto two axes (scikit-learn's definition and sign convention, through
/// `outflow-prep`), after [`compress`] when `compressed`. One feature gives a zero second axis; constant
/// data give all points at the origin.
pub fn pca_2d(x: ArrayView2<'_, f64>, compressed: bool) -> Result<Projection> {
    let n = x.nrows();
    let xc = if compressed { compress(x) } else { x.to_owned() };
    let k = xc.ncols().min(2).min(n);
    if n < 2 || k == 0 {
        return Ok(Projection { points: vec![[0.0, 0.0]; n], explained: [0.0, 0.0], compressed });
    }
    let fitted = match (PcaParams { n_components: PcaComponents::Count(k) }).fit(xc.view()) {
        Ok(f) => f,
        Err(_) => return Ok(Projection { points: vec![[0.0, 0.0]; n], explained: [0.0, 0.0], compressed }),
    };
    let y = fitted.transform(xc.view()).map_err(|e| ReportError::plot("pca", e))?;
    let points = (0..n).map(|i| [y[[i, 0]], if k > 1 { y[[i, 1]] } else { 0.0 }]).collect();
    let r = &fitted.explained_variance_ratio;
    Ok(Projection { points, explained: [r[0], r.get(1).copied().unwrap_or(0.0)], compressed })
}

/// Indices of at most `max` of `n` rows: all of them, or a seeded sample (ascending).
pub fn subsample(n: usize, max: usize, seed: u64) -> Vec<usize> {
    sample_indices(n, max, seed)
}

/// Counts of values in equal-width bins.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// `bins + 1` ascending edges.
    pub edges: Vec<f64>,
    /// Values per bin; the last bin includes its right edge.
    pub counts: Vec<usize>,
}

impl Histogram {
    /// Values counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// Histogram of the finite `values` in `bins` equal bins over `[0, 1]` when every value lies there
/// (outlier scores do), else over their range.
pub fn histogram(values: &[f64], bins: usize) -> Histogram {
    let bins = bins.max(1);
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (mut lo, mut hi) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if finite.is_empty() || (lo >= 0.0 && hi <= 1.0) {
        (lo, hi) = (0.0, 1.0);
    } else if hi <= lo {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let w = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| if i == bins { hi } else { lo + w * i as f64 }).collect();
    let mut counts = vec![0usize; bins];
    for v in finite {
        let b = (((v - lo) / w).floor() as isize).clamp(0, bins as isize - 1) as usize;
        counts[b] += 1;
    }
    Histogram { edges, counts }
}

/// One bar of the cluster-size chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeBar {
    /// Cluster label (−1 noise).
    pub label: i64,
    /// Flows.
    pub size: usize,
    /// Share of all flows counted, in percent.
    pub percent: f64,
}

/// Sizes and percentages of `(label, size)` pairs, noise first then ascending label.
pub fn cluster_sizes(sizes: &[(i64, usize)]) -> Vec<SizeBar> {
    let mut v: Vec<(i64, usize)> = sizes.to_vec();
    v.sort_by_key(|&(l, _)| l);
    let total: usize = v.iter().map(|&(_, s)| s).sum();
    v.into_iter()
        .map(|(label, size)| SizeBar {
            label,
            size,
            percent: if total == 0 { 0.0 } else { 100.0 * size as f64 / total as f64 },
        })
        .collect()
}

/// One rectangle of the condensed-tree icicle plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IcicleBar {
    /// Cluster id in the condensed tree.
    pub cluster: usize,
    /// Centre on the x axis.
    pub x: f64,
    /// Width: points still in the cluster over the bar's λ range (their logarithm with `log_size`).
    pub width: f64,
    /// Points still in the cluster over the bar's λ range.
    pub points: f64,
    /// λ where the bar starts (top of the plot is λ = 0).
    pub lambda_start: f64,
    /// λ where it ends.
    pub lambda_end: f64,
}

/// A horizontal line joining a parent to a child cluster at the child's birth λ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeLine {
    /// Parent x.
    pub x0: f64,
    /// Child's outer edge x.
    pub x1: f64,
    /// Birth λ of the child.
    pub lambda: f64,
}

/// A selected cluster: its label and bounding box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SelectedBox {
    /// Flat cluster label (`k` for `selected_clusters()[k]`).
    pub label: i64,
    /// Condensed-tree id.
    pub cluster: usize,
    /// Left x.
    pub left: f64,
    /// Right x.
    pub right: f64,
    /// Birth λ.
    pub lambda_birth: f64,
    /// Largest λ at which points leave it.
    pub lambda_death: f64,
}

/// The drawing of a condensed tree, as hdbscan's `CondensedTree.get_plot_data` computes it (leaves
/// spaced evenly in depth-first order, a parent centred over its children, bar widths = points).
#[derive(Debug, Clone, PartialEq)]
pub struct TreeLayout {
    /// Icicle rectangles.
    pub bars: Vec<IcicleBar>,
    /// Split lines.
    pub lines: Vec<TreeLine>,
    /// Selected clusters.
    pub selected: Vec<SelectedBox>,
    /// Points of the root.
    pub n_points: usize,
    /// Number of cluster nodes (root included).
    pub n_clusters: usize,
    /// Smallest and largest x of any bar.
    pub x_range: (f64, f64),
    /// Largest λ of any bar.
    pub lambda_max: f64,
}

/// Lays out a condensed tree; `selected[k]` is the tree id of flat cluster `k`. `max_rectangles` per
/// icicle (hdbscan: 20) bounds the number of steps drawn per cluster; `log_size` makes widths the
/// logarithm of the points (hdbscan's `log_size=True`), which keeps small clusters visible.
pub fn tree_layout(tree: &CondensedTree, selected: &[usize], max_rectangles: usize, log_size: bool) -> TreeLayout {
    let f = |s: f64| if log_size { if s > 1.0 { s.ln() } else { 0.0 } } else { s };
    let root = tree.root();
    let n_nodes = tree.n_nodes();
    let n_clusters = n_nodes.saturating_sub(root);
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); n_clusters];
    let mut birth = vec![0.0f64; n_clusters];
    let mut cluster_children: Vec<Vec<usize>> = vec![Vec::new(); n_clusters];
    for i in 0..tree.len() {
        let p = tree.parent[i] - root;
        rows_of[p].push(i);
        if tree.child[i] >= root {
            cluster_children[p].push(tree.child[i]);
            birth[tree.child[i] - root] = tree.lambda_val[i];
        }
    }
    for c in &mut cluster_children {
        c.sort_unstable();
    }
    // Leaves in depth-first order (children by ascending id), spaced by the root size.
    let scaling: f64 = rows_of.first().map_or(0, |r| r.iter().map(|&i| tree.child_size[i]).sum::<usize>()) as f64;
    let scaling = f(scaling).max(1.0);
    let mut x = vec![0.0f64; n_clusters];
    let mut leaf = 0usize;
    let mut stack: Vec<(usize, bool)> = vec![(root, false)];
    while let Some((c, expanded)) = stack.pop() {
        let ci = c - root;
        if cluster_children[ci].is_empty() {
            leaf += 1;
            x[ci] = leaf as f64 * scaling;
        } else if expanded {
            let kids = &cluster_children[ci];
            x[ci] = kids.iter().map(|&k| x[k - root]).sum::<f64>() / kids.len() as f64;
        } else {
            stack.push((c, true));
            for &k in cluster_children[ci].iter().rev() {
                stack.push((k, false));
            }
        }
    }
    let max_rect = max_rectangles.max(1) as f64;
    let mut bars = Vec::new();
    let mut bounds = vec![(0.0f64, 0.0f64, 0.0f64, 0.0f64); n_clusters];
    for ci in 0..n_clusters {
        let rows = &rows_of[ci];
        if rows.is_empty() {
            continue;
        }
        let mut order = rows.clone();
        order.sort_by(|&a, &b| tree.lambda_val[a].total_cmp(&tree.lambda_val[b]).then(a.cmp(&b)));
        let mut current_size: f64 = rows.iter().map(|&i| tree.child_size[i] as f64).sum();
        let mut current_lambda = birth[ci];
        let max_size = current_size;
        let max_lambda = rows.iter().map(|&i| tree.lambda_val[i]).fold(f64::NEG_INFINITY, f64::max);
        let min_size: f64 =
            rows.iter().filter(|&&i| tree.lambda_val[i] == max_lambda).map(|&i| tree.child_size[i] as f64).sum();
        let step = (f(max_size) - f(min_size)) / max_rect;
        bounds[ci] = (x[ci] - f(max_size) / 2.0, x[ci] + f(max_size) / 2.0, birth[ci], max_lambda);
        let mut last_size = current_size;
        let mut last_lambda = current_lambda;
        for &i in &order {
            let l = tree.lambda_val[i];
            if l != current_lambda && (f(last_size) - f(current_size) > step || l == max_lambda) {
                bars.push(IcicleBar {
                    cluster: ci + root,
                    x: x[ci],
                    width: f(last_size),
                    points: last_size,
                    lambda_start: last_lambda,
                    lambda_end: l,
                });
                last_size = current_size;
                last_lambda = current_lambda;
            }
            current_size -= tree.child_size[i] as f64;
            current_lambda = l;
        }
    }
    let mut lines = Vec::new();
    for i in 0..tree.len() {
        let (p, c) = (tree.parent[i], tree.child[i]);
        if c < root {
            continue;
        }
        let (xp, xc) = (x[p - root], x[c - root]);
        let sign = (xc - xp).signum();
        lines.push(TreeLine { x0: xp, x1: xc + sign * f(tree.child_size[i] as f64) / 2.0, lambda: birth[c - root] });
    }
    let selected = selected
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c >= root && c < n_nodes)
        .map(|(k, &c)| {
            let (left, right, b, d) = bounds[c - root];
            SelectedBox { label: k as i64, cluster: c, left, right, lambda_birth: b, lambda_death: d }
        })
        .collect();
    let x_range = bars
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| (a.min(r.x - r.width / 2.0), b.max(r.x + r.width / 2.0)));
    let lambda_max = bars.iter().map(|b| b.lambda_end).fold(0.0, f64::max);
    TreeLayout { bars, lines, selected, n_points: tree.n_points, n_clusters, x_range, lambda_max }
}

/// Silhouette values per cluster, for the silhouette plot.
#[derive(Debug, Clone, PartialEq)]
pub struct SilhouetteData {
    /// Per cluster (ascending label): its values, descending.
    pub clusters: Vec<(i64, Vec<f64>)>,
    /// Mean over every scored point.
    pub mean: f64,
    /// Noise points left out.
    pub n_noise: usize,
}

/// Exact silhouette of every non-noise row (Euclidean, `outflow-validate`'s kernel).
pub fn silhouette_data(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<SilhouetteData> {
    let s = silhouette(x, labels, &SilhouetteParams::default()).map_err(|e| ReportError::plot("silhouette", e))?;
    let mut by: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (&l, &v) in s.labels.iter().zip(&s.values) {
        by.entry(l).or_default().push(v);
    }
    let clusters = by
        .into_iter()
        .map(|(l, mut v)| {
            v.sort_by(|a, b| b.total_cmp(a));
            (l, v)
        })
        .collect();
    Ok(SilhouetteData { clusters, mean: s.score, n_noise: s.n_noise })
}

/// A cluster centre in the 2-D projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Centroid {
    /// Label.
    pub label: i64,
    /// Mean of the cluster's projected points.
    pub center: [f64; 2],
    /// Flows of the cluster (all scored flows, for the bubble size).
    pub size: usize,
}

/// Centres of the non-noise clusters among `points` (`labels` parallel), with their sizes from `sizes`
/// (falls back to the count of points).
pub fn centroids(points: &[[f64; 2]], labels: &[i64], sizes: &BTreeMap<i64, usize>) -> Vec<Centroid> {
    let mut acc: BTreeMap<i64, (f64, f64, usize)> = BTreeMap::new();
    for (p, &l) in points.iter().zip(labels) {
        if l < 0 {
            continue;
        }
        let e = acc.entry(l).or_insert((0.0, 0.0, 0));
        e.0 += p[0];
        e.1 += p[1];
        e.2 += 1;
    }
    acc.into_iter()
        .map(|(label, (sx, sy, n))| Centroid {
            label,
            center: [sx / n as f64, sy / n as f64],
            size: sizes.get(&label).copied().unwrap_or(n),
        })
        .collect()
}

/// Euclidean distances between the centroids (`k × k`).
pub fn centroid_distances(c: &[Centroid]) -> Array2<f64> {
    Array2::from_shape_fn((c.len(), c.len()), |(i, j)| {
        ((c[i].center[0] - c[j].center[0]).powi(2) + (c[i].center[1] - c[j].center[1]).powi(2)).sqrt()
    })
}

/// Inertia, silhouette and gap statistic of k-means for `k = 1..=k_max` on the rows of `x`.
pub fn k_curves(x: ArrayView2<'_, f64>, k_max: usize, seed: u64) -> Result<KTable> {
    let k_max = k_max.min(x.nrows().saturating_sub(1));
    if k_max < 2 {
        return Err(ReportError::plot("k curves", "fewer than 3 rows"));
    }
    let params = TendencyParams {
        k_min: 1,
        k_max,
        n_refs: 5,
        seed,
        n_init: 3,
        silhouette_sample: Some(2000),
        ..TendencyParams::default()
    };
    k_table(x, &params).map_err(|e| ReportError::plot("k curves", e))
}

/// Pearson correlations between the columns of `x` (NaN for a constant column).
pub fn correlations(x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let p = x.ncols();
    if x.nrows() < 2 {
        return Ok(Array2::from_elem((p, p), f64::NAN));
    }
    let cols: Vec<Vec<f64>> = x.axis_iter(Axis(1)).map(|c| c.to_vec()).collect();
    let mut r = Array2::from_elem((p, p), f64::NAN);
    for i in 0..p {
        for j in i..p {
            let v = if i == j && cols[i].iter().any(|&v| v != cols[i][0]) {
                1.0
            } else {
                outflow::prep::pearson(&cols[i], &cols[j])
            };
            r[[i, j]] = v;
            r[[j, i]] = v;
        }
    }
    Ok(r)
}

/// The surrogate forest and what it says.
#[derive(Debug, Clone)]
pub struct Surrogate {
    /// The forest (classes = cluster labels).
    pub forest: RandomForest,
    /// Gini importance per feature (sums to 1).
    pub gini: Vec<f64>,
    /// Permutation importance (mean accuracy drop) per feature.
    pub permutation: Vec<f64>,
    /// Its standard deviation over the repeats.
    pub permutation_std: Vec<f64>,
    /// Accuracy of the forest on the rows it was fitted on (its fidelity).
    pub accuracy: f64,
}

/// Fits the surrogate forest (100 trees of depth ≤ 7, balanced class weights) to the cluster
/// labels, with Gini and permutation (5 repeats) importances.
pub fn surrogate(x: ArrayView2<'_, f64>, labels: &[i64], seed: u64) -> Result<Surrogate> {
    let params = RandomForestParams { seed, ..RandomForestParams::surrogate() };
    let err = |e: outflow::explain::ExplainError| ReportError::plot("importance", e);
    let forest = params.fit(x, labels).map_err(err)?;
    let gini = forest.feature_importances();
    let perm = permutation_importance(&forest, x, labels, &PermutationParams { n_repeats: 5, seed }).map_err(err)?;
    Ok(Surrogate { gini, permutation: perm.mean, permutation_std: perm.std, accuracy: perm.baseline, forest })
}

/// One feature's row of the SHAP beeswarm.
#[derive(Debug, Clone, PartialEq)]
pub struct BeeRow {
    /// Feature.
    pub feature: String,
    /// Mean |SHAP| (the row order, descending).
    pub mean_abs: f64,
    /// SHAP value of each explained row.
    pub shap: Vec<f64>,
    /// Feature value of each row, scaled to `[0, 1]` between its 5th and 95th percentiles (clamped).
    pub color: Vec<f64>,
    /// Vertical offset of each dot within the row, in `[−0.45, 0.45]`.
    pub offset: Vec<f64>,
}

/// SHAP values of one class for the beeswarm.
#[derive(Debug, Clone, PartialEq)]
pub struct Beeswarm {
    /// The explained class (cluster label; −1 noise).
    pub class: i64,
    /// Rows explained.
    pub n_rows: usize,
    /// One row per feature, most important first.
    pub rows: Vec<BeeRow>,
}

/// The class the beeswarm explains: noise (−1) when the forest knows it, else the class with the fewest
/// training rows (the smaller label on ties).
pub fn beeswarm_class(classes: &[i64], labels: &[i64]) -> Option<i64> {
    if classes.contains(&-1) {
        return Some(-1);
    }
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for &l in labels {
        *counts.entry(l).or_insert(0) += 1;
    }
    classes.iter().copied().min_by_key(|c| (counts.get(c).copied().unwrap_or(0), *c))
}

/// Exact TreeSHAP of the surrogate for `class` on the rows of `x`, laid out as shap's beeswarm
/// (`summary_plot`): values quantised into 100 bins per feature, dots stacked alternately above and
/// below the row's centre line.
pub fn beeswarm(forest: &RandomForest, x: ArrayView2<'_, f64>, features: &[String], class: i64) -> Result<Beeswarm> {
    let c = forest
        .classes()
        .iter()
        .position(|&k| k == class)
        .ok_or_else(|| ReportError::plot("shap", format!("class {class} is not a class of the surrogate")))?;
    let shap = forest.shap_values(x).map_err(|e| ReportError::plot("shap", e))?;
    let n = x.nrows();
    let mut rows: Vec<BeeRow> = (0..x.ncols())
        .map(|j| {
            let phi: Vec<f64> = (0..n).map(|i| shap.values[[i, j, c]]).collect();
            let mean_abs = phi.iter().map(|v| v.abs()).sum::<f64>() / n.max(1) as f64;
            let col: Vec<f64> = x.column(j).to_vec();
            let mut sorted = col.clone();
            sorted.sort_by(f64::total_cmp);
            let (lo, hi) = (quantile_sorted(&sorted, 0.05), quantile_sorted(&sorted, 0.95));
            let (lo, hi) = if hi > lo { (lo, hi) } else { (sorted[0], sorted[n.max(1) - 1]) };
            let color =
                col.iter().map(|&v| if hi > lo { ((v - lo) / (hi - lo)).clamp(0.0, 1.0) } else { 0.5 }).collect();
            let offset = swarm_offsets(&phi, 100, 0.45);
            BeeRow {
                feature: features.get(j).cloned().unwrap_or_else(|| format!("x{j}")),
                mean_abs,
                shap: phi,
                color,
                offset,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.mean_abs.total_cmp(&a.mean_abs).then(a.feature.cmp(&b.feature)));
    Ok(Beeswarm { class, n_rows: n, rows })
}

/// shap's beeswarm stacking: bin values, then within each bin place dots at 0, +1, −1, +2, −2, … layers,
/// scaled so that the fullest bin spans `±half_height`.
pub fn swarm_offsets(values: &[f64], bins: usize, half_height: f64) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let q: Vec<i64> = values.iter().map(|&v| (bins as f64 * (v - lo) / (hi - lo + 1e-8)).round() as i64).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| q[a].cmp(&q[b]).then(values[a].total_cmp(&values[b])).then(a.cmp(&b)));
    let mut ys = vec![0.0f64; n];
    let (mut layer, mut last) = (0usize, i64::MIN);
    for &i in &order {
        if q[i] != last {
            layer = 0;
        }
        let sign = if layer % 2 == 1 { 1.0 } else { -1.0 };
        ys[i] = (layer as f64 / 2.0).ceil() * sign;
        layer += 1;
        last = q[i];
    }
    let m = ys.iter().map(|v| v.abs()).fold(0.0, f64::max);
    if m > 0.0 {
        for y in &mut ys {
            *y *= half_height / m;
        }
    }
    ys
}

/// Bytes sent per window by one host or pair, for the entity figure.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySeries {
    /// `src` (hosts) or `src → dst` (pairs).
    pub name: String,
    /// Window starts, seconds since the epoch, ascending.
    pub starts: Vec<f64>,
    /// `bytes_out` of each window.
    pub bytes_out: Vec<f64>,
    /// The entity's highest outlier score over its windows.
    pub peak_score: f64,
}

fn entity_name(t: &outflow::io::Table, row: usize) -> Option<String> {
    let src = t.column("src")?.value(row).to_string();
    Some(match t.column("dst") {
        Some(d) => format!("{src} → {}", d.value(row)),
        None => src,
    })
}

/// Bytes out per window of the `top` entities with the highest outlier score in a host or pair table
/// (as `hosts.csv` / `pairs.csv` hold it), highest first. Errors name what the table lacks.
pub fn entity_series(t: &outflow::io::Table, top: usize) -> std::result::Result<Vec<EntitySeries>, String> {
    let need = |c: &str| t.column(c).ok_or_else(|| format!("the table has no {c} column"));
    let (score, start, bytes) = (need("outlier_score")?, need("window_start")?, need("bytes_out")?);
    need("src")?;
    let mut by_entity: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for r in 0..t.n_rows() {
        let (Some(name), Some(s), Some(w)) = (entity_name(t, r), score.f64_at(r), start.f64_at(r)) else { continue };
        by_entity.entry(name).or_default().push((w, bytes.f64_at(r).unwrap_or(0.0), s));
    }
    let mut series: Vec<EntitySeries> = by_entity
        .into_iter()
        .map(|(name, mut rows)| {
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
            EntitySeries {
                name,
                starts: rows.iter().map(|r| r.0).collect(),
                bytes_out: rows.iter().map(|r| r.1).collect(),
                peak_score: rows.iter().map(|r| r.2).fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect();
    if series.is_empty() {
        return Err("the table has no scored rows with a window".into());
    }
    series.sort_by(|a, b| b.peak_score.total_cmp(&a.peak_score).then_with(|| a.name.cmp(&b.name)));
    series.truncate(top.max(1));
    Ok(series)
}

/// The intervals between the connection starts of one pair in one window.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconIntervals {
    /// `src → dst`.
    pub pair: String,
    /// Start of the window, seconds since the epoch.
    pub window_start: f64,
    /// The row's beacon score.
    pub beacon_score: f64,
    /// Seconds between consecutive distinct connection starts.
    pub intervals: Vec<f64>,
}

/// The pair row with the highest beacon score (ties: the higher outlier score, then the name) and the
/// intervals between its connections, found among `flows` (a table with the flows' source, destination
/// and timestamp columns, e.g. `scores.csv`).
pub fn beacon_intervals(
    pairs: &outflow::io::Table,
    flows: &outflow::io::Table,
) -> std::result::Result<BeaconIntervals, String> {
    let need = |c: &str| pairs.column(c).ok_or_else(|| format!("pairs.csv has no {c} column"));
    let (beacon, start, end) = (need("beacon_score")?, need("window_start")?, need("window_end")?);
    let (src_col, dst_col, score) = (need("src")?, need("dst")?, need("outlier_score")?);
    let key = |r: usize| (beacon.f64_at(r).unwrap_or(0.0), score.f64_at(r).unwrap_or(0.0));
    let best = (0..pairs.n_rows())
        .filter(|&r| key(r).0 > 0.0)
        .max_by(|&a, &b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then_with(|| entity_name(pairs, b).cmp(&entity_name(pairs, a)))
        })
        .ok_or("no pair has a beacon score above 0 (4 or more connections spread over its window)")?;
    let (src, dst) = (src_col.value(best).to_string(), dst_col.value(best).to_string());
    let (lo, hi) = (start.f64_at(best).unwrap_or(f64::NEG_INFINITY), end.f64_at(best).unwrap_or(f64::INFINITY));
    let family = outflow::io::Family::detect(flows);
    let role = |r: fn(&outflow::io::FlowRoles) -> &'static [&'static str]| family.role_column(flows, r);
    let cols = (role(|r| r.source), role(|r| r.destination), role(|r| r.timestamp));
    let (Some(fs), Some(fd), Some(ft)) = cols else {
        return Err("the flows have no source, destination or timestamp column".into());
    };
    // Addresses are text in every log family: compared in place, without a copy per flow.
    let is = |c: &outflow::io::Column, i: usize, v: &str| c.str_at(i).is_some_and(|s| s == v);
    let mut starts: Vec<f64> = (0..flows.n_rows())
        .filter(|&i| is(fs, i, &src) && is(fd, i, &dst))
        .filter_map(|i| outflow::aggregate::seconds_at(ft, i))
        .filter(|&t| t >= lo && t < hi)
        .collect();
    starts.sort_by(f64::total_cmp);
    starts.dedup();
    let intervals: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    if intervals.is_empty() {
        return Err(format!("the flows of {src} → {dst} in its window were not found"));
    }
    Ok(BeaconIntervals { pair: format!("{src} → {dst}"), window_start: lo, beacon_score: key(best).0, intervals })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity_table() -> outflow::io::Table {
        use outflow::io::Column;
        outflow::io::Table::new(vec![
            Column::from_str_opt("src", ["a", "b", "a", "c"].map(Some)),
            Column::from_str_opt("dst", ["x", "x", "x", "y"].map(Some)),
            Column::from_f64("window_start", vec![7200.0, 0.0, 0.0, 3600.0]),
            Column::from_f64("window_end", vec![10800.0, 3600.0, 3600.0, 7200.0]),
            Column::from_f64("outlier_score", vec![0.9, 0.5, 0.2, 0.95]),
            Column::from_f64("bytes_out", vec![500.0, 10.0, 20.0, 0.0]),
            Column::from_f64("beacon_score", vec![0.0, 0.3, 0.8, 0.8]),
        ])
        .unwrap()
    }

    #[test]
    fn entity_series_by_peak_score() {
        let s = entity_series(&entity_table(), 2).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name.as_str(), s[0].peak_score), ("c → y", 0.95));
        // a → x: its windows in time order, its peak over them.
        assert_eq!(s[1].name, "a → x");
        assert_eq!(
            (s[1].starts.clone(), s[1].bytes_out.clone(), s[1].peak_score),
            (vec![0.0, 7200.0], vec![20.0, 500.0], 0.9)
        );
        assert!(entity_series(&outflow::io::Table::new(vec![]).unwrap(), 3).is_err());
    }

    #[test]
    fn beacon_intervals_of_the_top_pair() {
        use outflow::io::Column;
        // a → x and c → y tie on the beacon score; c → y has the higher outlier score.
        let flows = outflow::io::Table::new(vec![
            Column::from_f64("ts", vec![3600.0, 3660.0, 3720.0, 3720.0, 3900.0, 100.0, 7300.0]),
            Column::from_str_opt("id.orig_h", ["c", "c", "c", "c", "c", "c", "c"].map(Some)),
            Column::from_str_opt("id.resp_h", ["y", "y", "y", "y", "y", "y", "y"].map(Some)),
        ])
        .unwrap();
        let b = beacon_intervals(&entity_table(), &flows).unwrap();
        assert_eq!(b.pair, "c → y");
        // Distinct starts inside [3600, 7200): 3600, 3660, 3720, 3900.
        assert_eq!(b.intervals, vec![60.0, 60.0, 180.0]);
        assert_eq!((b.window_start, b.beacon_score), (3600.0, 0.8));
    }

    use ndarray::Array2;
    use outflow::cluster::{ClusterModel, Fit, HdbscanParams};

    #[test]
    fn histogram_counts_every_value_once() {
        let v: Vec<f64> = (0..1000).map(|i| i as f64 / 999.0).collect();
        let h = histogram(&v, 50);
        assert_eq!(h.edges.len(), 51);
        assert_eq!((h.edges[0], h.edges[50]), (0.0, 1.0));
        assert_eq!(h.total(), 1000);
        assert_eq!(h.counts[49], 20); // 1.0 falls in the last bin
        let odd = histogram(&[-3.0, 5.0, 5.0, f64::NAN], 4);
        assert_eq!((odd.edges[0], odd.edges[4]), (-3.0, 5.0));
        assert_eq!(odd.total(), 3);
        assert_eq!(histogram(&[2.0, 2.0], 3).total(), 2);
    }

    #[test]
    fn size_percentages_sum_to_100() {
        let bars = cluster_sizes(&[(2, 7), (-1, 3), (0, 11), (1, 9)]);
        assert_eq!(bars.iter().map(|b| b.label).collect::<Vec<_>>(), vec![-1, 0, 1, 2]);
        assert!((bars.iter().map(|b| b.percent).sum::<f64>() - 100.0).abs() < 1e-9);
        assert_eq!(bars[0].percent, 10.0);
    }

    #[test]
    fn pca_projects_every_row_and_handles_one_feature() {
        let x = Array2::from_shape_fn((100, 3), |(i, j)| ((i * (j + 3)) % 17) as f64 * (j + 1) as f64);
        let p = pca_2d(x.view(), true).unwrap();
        assert_eq!(p.points.len(), 100);
        assert!(p.explained[0] >= p.explained[1] && p.explained[0] <= 1.0);
        let one = Array2::from_shape_fn((10, 1), |(i, _)| i as f64);
        let p = pca_2d(one.view(), false).unwrap();
        assert!(p.points.iter().all(|q| q[1] == 0.0));
        assert!((p.explained[0] - 1.0).abs() < 1e-12);
        let flat = Array2::<f64>::zeros((10, 2));
        assert!(pca_2d(flat.view(), true).unwrap().points.iter().all(|q| *q == [0.0, 0.0]));
    }

    #[test]
    fn subsample_is_seeded_and_bounded() {
        let a = subsample(10_000, 3000, 42);
        assert_eq!(a.len(), 3000);
        assert_eq!(a, subsample(10_000, 3000, 42));
        assert_ne!(a, subsample(10_000, 3000, 43));
        assert_eq!(subsample(10, 3000, 1), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn swarm_offsets_stay_in_the_row() {
        let v: Vec<f64> = (0..500).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
        let o = swarm_offsets(&v, 100, 0.45);
        assert_eq!(o.len(), 500);
        assert!(o.iter().all(|y| y.abs() <= 0.45 + 1e-12));
        assert!(o.iter().any(|y| *y > 0.0) && o.iter().any(|y| *y < 0.0));
        assert_eq!(swarm_offsets(&[1.0], 100, 0.45), vec![0.0]);
    }

    #[test]
    fn beeswarm_explains_noise_else_the_smallest_cluster() {
        assert_eq!(beeswarm_class(&[-1, 0, 1], &[0, 0, 1, -1]), Some(-1));
        assert_eq!(beeswarm_class(&[0, 1, 2], &[0, 0, 0, 1, 2, 2]), Some(1));
        assert_eq!(beeswarm_class(&[], &[]), None);
    }

    #[test]
    fn tree_layout_boxes_every_selected_cluster() {
        // three blobs and a far point
        let mut x = Array2::<f64>::zeros((91, 2));
        for i in 0..90 {
            let b = (i / 30) as f64;
            x[[i, 0]] = b * 10.0 + (i % 6) as f64 * 0.1;
            x[[i, 1]] = b * b + (i % 5) as f64 * 0.1;
        }
        x[[90, 0]] = 100.0;
        let m = HdbscanParams::new(5).min_samples(3).fit(x.view()).unwrap();
        let t = tree_layout(m.condensed_tree(), m.selected_clusters(), 20, false);
        assert_eq!(t.selected.len(), m.n_clusters());
        assert!(!t.bars.is_empty());
        assert!(t.bars.iter().all(|b| b.width > 0.0 && b.lambda_end >= b.lambda_start));
        // The root bar is as wide as the data; children never wider than their parent's start.
        let root = t.bars.iter().find(|b| b.cluster == m.condensed_tree().root()).unwrap();
        assert_eq!(root.width, 91.0);
        for s in &t.selected {
            assert!(s.right > s.left && s.lambda_death >= s.lambda_birth);
        }
        let log = tree_layout(m.condensed_tree(), m.selected_clusters(), 20, true);
        assert!(log.bars.iter().all(|b| (b.width - b.points.ln()).abs() < 1e-9));
    }

    #[test]
    fn centroids_skip_noise_and_take_sizes() {
        let pts = [[0.0, 0.0], [2.0, 0.0], [10.0, 10.0], [5.0, 5.0]];
        let labels = [0, 0, 1, -1];
        let sizes = BTreeMap::from([(0, 200), (-1, 3)]);
        let c = centroids(&pts, &labels, &sizes);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].center, c[0].size), ([1.0, 0.0], 200));
        assert_eq!((c[1].center, c[1].size), ([10.0, 10.0], 1));
        let d = centroid_distances(&c);
        assert!((d[[0, 1]] - (81.0f64 + 100.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn correlations_are_a_correlation_matrix() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| match j {
            0 => i as f64,
            1 => -2.0 * i as f64,
            _ => 1.0,
        });
        let r = correlations(x.view()).unwrap();
        assert!((r[[0, 0]] - 1.0).abs() < 1e-12 && (r[[0, 1]] + 1.0).abs() < 1e-12);
        assert!(r[[2, 2]].is_nan() && r[[0, 2]].is_nan());
    }

    #[test]
    fn silhouette_groups_by_cluster_descending() {
        let x = Array2::from_shape_fn((40, 2), |(i, j)| {
            if i < 20 { (i % 5 + j) as f64 * 0.1 } else { 10.0 + (i % 4 + j) as f64 * 0.1 }
        });
        let mut labels: Vec<i64> = (0..40).map(|i| (i >= 20) as i64).collect();
        labels[0] = -1;
        let s = silhouette_data(x.view(), &labels).unwrap();
        assert_eq!(s.n_noise, 1);
        assert_eq!(s.clusters.iter().map(|c| c.1.len()).sum::<usize>(), 39);
        for (_, v) in &s.clusters {
            assert!(v.windows(2).all(|w| w[0] >= w[1]));
        }
        let mean = s.clusters.iter().flat_map(|c| c.1.iter()).sum::<f64>() / 39.0;
        assert!((mean - s.mean).abs() < 1e-12);
    }
}
