//! Non-linear 2-D maps of flows (t-SNE and UMAP, `outflow-embed`) coloured by cluster and by outlier
//! score: the report's map figures, and `outflow eda --maps` outside a run directory.

use ndarray::ArrayView2;

use crate::analysis;
use crate::figures::Kind;
use crate::plots::{self, ClusterScatter, ColorScale, ValueMap};
use crate::report::fmt_pct;

/// A non-linear 2-D map (t-SNE or UMAP) of some sampled flows.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowMap {
    /// `t-SNE` or `UMAP`.
    pub method: &'static str,
    /// Indices of the mapped flows among the rows of the matrix (ascending).
    pub rows: Vec<usize>,
    /// Their positions.
    pub points: Vec<[f64; 2]>,
    /// The neighbourhood setting used: t-SNE's perplexity (30, or a third of the rows for small samples),
    /// UMAP's `n_neighbors` (15, or fewer for small samples).
    pub neighbourhood: f64,
    /// Whether the features were compressed with `asinh` first.
    pub compressed: bool,
}

/// Fewest flows a t-SNE or UMAP map is drawn for.
const MAP_MIN_ROWS: usize = 10;

/// A seeded sample of at most `points` of the rows `shown` (ascending; the same rows for every map of
/// the same size and seed) and their (compressed) features.
fn take(
    x: ArrayView2<'_, f64>,
    shown: &[usize],
    (points, seed): (usize, u64),
    compress: bool,
    (what, option): (&str, &str),
) -> Result<(Vec<usize>, ndarray::Array2<f64>), String> {
    if points == 0 {
        return Err(format!("{what} maps are off ({option} 0)"));
    }
    let rows: Vec<usize> =
        analysis::subsample(shown.len(), points, seed ^ 0x75e).into_iter().map(|k| shown[k]).collect();
    if rows.len() < MAP_MIN_ROWS {
        return Err(format!("needs at least {MAP_MIN_ROWS} sampled flows, there are {}", rows.len()));
    }
    let sub = x.select(ndarray::Axis(0), &rows);
    let sub = if compress { analysis::compress(sub.view()) } else { sub };
    Ok((rows, sub))
}

/// t-SNE (scikit-learn's defaults, PCA start) of a seeded sample of at most `points` of the rows `shown`
/// of `x`.
pub fn tsne_map(
    x: ArrayView2<'_, f64>,
    shown: &[usize],
    points: usize,
    seed: u64,
    compress: bool,
) -> Result<FlowMap, String> {
    use outflow::embed::{Fit, TsneParams};
    map_with(x, shown, (points, seed), compress, ("t-SNE", "tsne_points"), |sub, n| {
        let perplexity = 30.0f64.min((n - 1) as f64 / 3.0);
        let fit = TsneParams { perplexity, seed, ..Default::default() }.fit(sub).map_err(|e| e.to_string())?;
        Ok((fit.embedding, perplexity))
    })
}

/// UMAP (umap-learn's defaults, spectral start) of the same kind of sample (the same rows as
/// [`tsne_map`]'s for the same size and seed).
pub fn umap_map(
    x: ArrayView2<'_, f64>,
    shown: &[usize],
    points: usize,
    seed: u64,
    compress: bool,
) -> Result<FlowMap, String> {
    use outflow::embed::{Fit, UmapParams};
    map_with(x, shown, (points, seed), compress, ("UMAP", "umap_points"), |sub, n| {
        let n_neighbors = 15.min(n - 1);
        let fit = UmapParams { n_neighbors, seed, ..Default::default() }.fit(sub).map_err(|e| e.to_string())?;
        Ok((fit.embedding, n_neighbors as f64))
    })
}

/// A map of a sample drawn by [`take`]: `embed` gives the sample's positions and its neighbourhood
/// setting.
fn map_with(
    x: ArrayView2<'_, f64>,
    shown: &[usize],
    sample: (usize, u64),
    compress: bool,
    (method, option): (&'static str, &str),
    embed: impl FnOnce(ArrayView2<'_, f64>, usize) -> Result<(ndarray::Array2<f64>, f64), String>,
) -> Result<FlowMap, String> {
    let (rows, sub) = take(x, shown, sample, compress, (method, option))?;
    let (embedding, neighbourhood) = embed(sub.view(), rows.len()).map_err(|e| format!("{method}: {e}"))?;
    let points = embedding.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    Ok(FlowMap { method, rows, points, neighbourhood, compressed: compress })
}

/// What colours the flows of a map, indexed like the rows of the mapped matrix.
#[derive(Debug, Clone, Copy)]
pub struct MapColours<'a> {
    /// Cluster of each row (−1 noise).
    pub cluster: &'a [i64],
    /// Fused outlier score of each row.
    pub score: &'a [f64],
    /// 0 normal, 1 moderate, 2 severe.
    pub severity: &'a [u8],
    /// (moderate, severe) score thresholds, marked on the colour bar.
    pub thresholds: (f64, f64),
    /// (moderate, severe) percentiles the thresholds stand for.
    pub percentiles: (f64, f64),
}

/// The two figures of a map: flows by cluster (anomalies marked) and by outlier score; a map that could
/// not be computed gives two skipped figures with the reason. `of` is the number of rows it was drawn
/// from, stated on the figure.
pub fn map_figures(map: &Result<FlowMap, String>, of: usize, c: &MapColours<'_>) -> (Kind, Kind) {
    let t = match map {
        Ok(t) => t,
        Err(e) => return (Kind::Skipped(e.clone()), Kind::Skipped(e.clone())),
    };
    let setting = if t.method == "UMAP" { "neighbours" } else { "perplexity" };
    let note = format!(
        "{} of {} of {} sampled flows ({setting} {})",
        t.method,
        plots::fmt_int(t.rows.len() as u64),
        plots::fmt_int(of as u64),
        plots::fmt_num(t.neighbourhood)
    );
    let clusters = ClusterScatter {
        title: format!("Flows in a {} map, by cluster", t.method),
        x_label: format!("{} 1", t.method),
        y_label: format!("{} 2", t.method),
        points: t.points.clone(),
        labels: t.rows.iter().map(|&i| c.cluster[i]).collect(),
        severity: t.rows.iter().map(|&i| c.severity[i]).collect(),
        note: note.clone(),
    };
    let scores = ValueMap {
        title: format!("Outlier score of each flow in the {} map", t.method),
        x_label: format!("{} 1", t.method),
        y_label: format!("{} 2", t.method),
        points: t.points.clone(),
        values: t.rows.iter().map(|&i| c.score[i]).collect(),
        value_label: "outlier score".into(),
        range: (0.0, 1.0),
        scale: ColorScale::Inferno,
        marks: vec![
            (c.thresholds.0, format!("p{}", fmt_pct(c.percentiles.0))),
            (c.thresholds.1, format!("p{}", fmt_pct(c.percentiles.1))),
        ],
        note,
    };
    (Kind::ClusterScatter(clusters), Kind::ValueMap(scores))
}
