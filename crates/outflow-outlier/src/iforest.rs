//! Isolation Forest (Liu, Ting & Zhou 2008), as scikit-learn's `IsolationForest` grows it.
//!
//! Each tree isolates a random subsample of `max_samples` rows (default `min(256, n)`, drawn without
//! replacement) on a random subset of `max_features` features. A node picks a feature uniformly among
//! those not constant on its rows (scikit-learn's random splitter skips constant features) and a
//! threshold uniformly in `[min, max)` of that feature (rows `<= threshold` go left); it becomes a leaf
//! when it holds one row, when every feature is constant, or at depth `ceil(log2 max_samples)`. A row's
//! path length in a tree is the depth of its leaf plus `c(size of the leaf)`, with
//! `c(n) = 2 (ln(n − 1) + γ) − 2 (n − 1)/n`, `c(2) = 1`, `c(1) = 0`; its score is
//! `2^(−mean path length / c(max_samples))` in (0, 1] — higher = more anomalous (scikit-learn's
//! `-score_samples`).
//!
//! Tree `t` is grown from the `t`-th draw of a ChaCha8 stream seeded with `seed`; trees grow in parallel
//! and every row sums its trees in tree order, so results do not depend on the number of threads.

use ndarray::ArrayView2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, ScoreSamples, check_matrix, check_query};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Average path length of an unsuccessful search in a binary search tree of `n` points, `c(n)`.
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// Subsample size of each tree.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxSamples {
    /// `min(256, n)` (the paper's ψ = 256).
    #[default]
    Auto,
    /// A row count (capped at `n`).
    Count(usize),
    /// A fraction of the rows in (0, 1].
    Fraction(f64),
}

/// Isolation Forest parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IForestParams {
    /// Number of trees (100).
    pub n_estimators: usize,
    /// Rows per tree.
    pub max_samples: MaxSamples,
    /// Fraction of the features each tree may split on, in (0, 1] (1.0: all).
    pub max_features: f64,
    /// Master seed.
    pub seed: u64,
}

impl Default for IForestParams {
    fn default() -> Self {
        IForestParams { n_estimators: 100, max_samples: MaxSamples::Auto, max_features: 1.0, seed: 0 }
    }
}

impl IForestParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n_estimators == 0 {
            return Err(OutlierError::param("n_estimators", "must be at least 1"));
        }
        if !(self.max_features > 0.0 && self.max_features <= 1.0) {
            return Err(OutlierError::param("max_features", format!("{} is not in (0, 1]", self.max_features)));
        }
        match self.max_samples {
            MaxSamples::Count(0) => Err(OutlierError::param("max_samples", "must be at least 1")),
            MaxSamples::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                Err(OutlierError::param("max_samples", format!("fraction {f} is not in (0, 1]")))
            }
            _ => Ok(()),
        }
    }

    fn subsample_size(&self, n: usize) -> usize {
        match self.max_samples {
            MaxSamples::Auto => n.min(256),
            MaxSamples::Count(c) => c.min(n),
            MaxSamples::Fraction(f) => ((f * n as f64) as usize).clamp(1, n),
        }
    }
}

/// A node of a fitted tree. A split sends rows with `x[feature] <= threshold` to `left` and the others to
/// `left + 1`; a leaf points to itself (`left` = its own index, `threshold = f64::MAX`, so every finite
/// row stays) and holds in `value` the path length of rows ending there (depth + `c(size)`). The
/// self-loops let a block of rows walk a tree in lockstep for a fixed number of levels, without
/// branches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Split feature (0 for a leaf).
    pub feature: u32,
    /// Index of the left child; the node's own index for a leaf.
    pub left: u32,
    /// Split threshold (`f64::MAX` for a leaf).
    pub threshold: f64,
    /// Path length of a leaf (0 for a split).
    pub value: f64,
}

/// One isolation tree, nodes in a flat array (root at 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationTree {
    /// The nodes.
    pub nodes: Vec<Node>,
    /// Depth of the deepest leaf.
    pub depth: usize,
}

impl IsolationTree {
    /// Checks what a fit guarantees and a model file could break: every split's children come after it
    /// and exist (so every walk ends), features exist, leaves point to themselves, and the recorded depth
    /// is reachable.
    pub fn check(&self, n_features: usize) -> std::result::Result<(), String> {
        let n = self.nodes.len();
        if n == 0 {
            return Err("a tree without nodes".into());
        }
        if self.depth >= n {
            return Err(format!("a tree of {n} nodes cannot be {} deep", self.depth));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let left = node.left as usize;
            if left == i {
                if !node.value.is_finite() {
                    return Err(format!("leaf {i} has a path length of {}", node.value));
                }
            } else if left <= i || left + 1 >= n {
                return Err(format!("node {i} points to children {left} and {} of {n} nodes", left + 1));
            } else if node.feature as usize >= n_features {
                return Err(format!("node {i} splits on feature {} of {n_features}", node.feature));
            }
        }
        Ok(())
    }

    /// Path length of a row.
    pub fn path_length(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            let n = &self.nodes[i];
            if n.left as usize == i {
                return n.value;
            }
            i = n.left as usize + usize::from(row[n.feature as usize] > n.threshold);
        }
    }

    /// Adds the path length of each row (rows of `d` values) to `acc`, walking the rows in lockstep.
    fn add_path_lengths(&self, rows: &[f64], d: usize, acc: &mut [f64], idx: &mut [u32]) {
        idx.iter_mut().for_each(|i| *i = 0);
        for _ in 0..self.depth {
            for (i, row) in idx.iter_mut().zip(rows.chunks_exact(d)) {
                let n = &self.nodes[*i as usize];
                *i = n.left + u32::from(row[n.feature as usize] > n.threshold);
            }
        }
        for (a, &i) in acc.iter_mut().zip(idx.iter()) {
            *a += self.nodes[i as usize].value;
        }
    }
}

/// A fitted Isolation Forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IForest {
    /// The parameters used.
    pub params: IForestParams,
    /// The trees.
    pub trees: Vec<IsolationTree>,
    /// Rows per tree (ψ).
    pub max_samples: usize,
    n_features: usize,
    training_scores: Vec<f64>,
}

impl IForest {
    /// Checks every tree against the forest's feature count (see [`IsolationTree::check`]).
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.trees.is_empty() {
            return Err("an Isolation Forest without trees".into());
        }
        for (t, tree) in self.trees.iter().enumerate() {
            tree.check(self.n_features).map_err(|e| format!("tree {t}: {e}"))?;
        }
        Ok(())
    }
}

impl IForestParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        "iforest".into()
    }
}

impl Fit for IForestParams {
    type Fitted = IForest;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<IForest> {
        self.validate()?;
        check_matrix(x)?;
        let (n, d) = x.dim();
        let psi = self.subsample_size(n);
        let n_feat = ((self.max_features * d as f64) as usize).clamp(1, d);
        let max_depth = (psi.max(2) as f64).log2().ceil() as usize;
        let mut master = ChaCha8Rng::seed_from_u64(self.seed);
        let seeds: Vec<u64> = (0..self.n_estimators).map(|_| master.random::<u64>()).collect();
        let xs = x.as_standard_layout();
        let data = xs.as_slice().expect("standard layout");
        let trees: Vec<IsolationTree> = seeds
            .par_iter()
            .map(|&s| {
                let mut rng = ChaCha8Rng::seed_from_u64(s);
                let rows = sample_without_replacement(&mut rng, n, psi);
                let features = if n_feat == d {
                    (0..d).collect()
                } else {
                    let mut f = sample_without_replacement(&mut rng, d, n_feat);
                    f.sort_unstable();
                    f
                };
                grow(data, d, rows, &features, max_depth, &mut rng)
            })
            .collect();
        let mut model =
            IForest { params: self.clone(), trees, max_samples: psi, n_features: d, training_scores: Vec::new() };
        model.training_scores = model.score_rows(data, d);
        Ok(model)
    }
}

/// `k` distinct indices of `0..n` (partial Fisher–Yates), in draw order.
pub(crate) fn sample_without_replacement(rng: &mut ChaCha8Rng, n: usize, k: usize) -> Vec<usize> {
    if k * 4 < n {
        // Sparse draw: Floyd-like rejection on a small set keeps memory O(k).
        let mut seen = std::collections::HashSet::with_capacity(k * 2);
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let r = rng.random_range(0..n);
            if seen.insert(r) {
                out.push(r);
            }
        }
        out
    } else {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = rng.random_range(i..n);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    }
}

fn grow(
    data: &[f64],
    d: usize,
    mut rows: Vec<usize>,
    features: &[usize],
    max_depth: usize,
    rng: &mut ChaCha8Rng,
) -> IsolationTree {
    // Work list of (node index, start, end, depth) over `rows`, which is partitioned in place.
    let leaf = |id: usize, depth: usize, size: usize| Node {
        feature: 0,
        left: id as u32,
        threshold: f64::MAX,
        value: depth as f64 + average_path_length(size),
    };
    let mut nodes = vec![leaf(0, 0, 0)];
    let mut stack = vec![(0usize, 0usize, rows.len(), 0usize)];
    let mut candidates: Vec<usize> = Vec::with_capacity(features.len());
    let mut tree_depth = 0;
    while let Some((id, lo, hi, depth)) = stack.pop() {
        let size = hi - lo;
        tree_depth = tree_depth.max(depth);
        if size <= 1 || depth >= max_depth {
            nodes[id] = leaf(id, depth, size);
            continue;
        }
        // Draw features without replacement until one is not constant on the node's rows.
        candidates.clear();
        candidates.extend_from_slice(features);
        let mut split = None;
        while !candidates.is_empty() {
            let k = rng.random_range(0..candidates.len());
            let f = candidates.swap_remove(k);
            let (mut mn, mut mx) = (f64::INFINITY, f64::NEG_INFINITY);
            for &r in &rows[lo..hi] {
                let v = data[r * d + f];
                mn = mn.min(v);
                mx = mx.max(v);
            }
            if mx > mn {
                split = Some((f, mn, mx));
                break;
            }
        }
        let Some((f, mn, mx)) = split else {
            nodes[id] = leaf(id, depth, size);
            continue;
        };
        let mut t = mn + (mx - mn) * rng.random::<f64>();
        if t >= mx {
            t = mn;
        }
        // Partition rows[lo..hi]: <= t first.
        let mut i = lo;
        let mut j = hi;
        while i < j {
            if data[rows[i] * d + f] <= t {
                i += 1;
            } else {
                j -= 1;
                rows.swap(i, j);
            }
        }
        let left = nodes.len();
        nodes.push(leaf(left, 0, 0));
        nodes.push(leaf(left + 1, 0, 0));
        nodes[id] = Node { feature: f as u32, left: left as u32, threshold: t, value: 0.0 };
        stack.push((left + 1, i, hi, depth + 1));
        stack.push((left, lo, i, depth + 1));
    }
    IsolationTree { nodes, depth: tree_depth }
}

impl IForest {
    fn score_rows(&self, data: &[f64], d: usize) -> Vec<f64> {
        const BLOCK: usize = 128;
        let n = data.len().checked_div(d).unwrap_or(0);
        let norm = average_path_length(self.max_samples) * self.trees.len() as f64;
        let norm = if norm > 0.0 { norm } else { 1.0 };
        // Blocks of rows walk one tree at a time (the tree stays in cache); every row still adds its
        // trees in tree order, so the sums do not depend on the blocking or the thread count.
        let mut out = vec![0.0; n];
        out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, acc)| {
            let rows = &data[b * BLOCK * d..(b * BLOCK + acc.len()) * d];
            let mut idx = vec![0u32; acc.len()];
            for t in &self.trees {
                t.add_path_lengths(rows, d, acc, &mut idx);
            }
            for a in acc.iter_mut() {
                *a = (-*a / norm).exp2();
            }
        });
        out
    }
}

impl OutlierModel for IForest {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.n_features
    }
}

impl ScoreSamples for IForest {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features)?;
        let xs = x.as_standard_layout();
        Ok(self.score_rows(xs.as_slice().expect("standard layout"), self.n_features))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn isolated_point_scores_highest_and_seeded() {
        let mut x = Array2::zeros((201, 2));
        for i in 0..200 {
            x[[i, 0]] = (i % 20) as f64 * 0.1;
            x[[i, 1]] = (i / 20) as f64 * 0.1;
        }
        x[[200, 0]] = 30.0;
        let p = IForestParams { seed: 7, ..Default::default() };
        let m = p.fit(x.view()).unwrap();
        let s = m.training_scores();
        let top = (0..201).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
        assert_eq!(top, 200);
        assert!(s.iter().all(|v| *v > 0.0 && *v <= 1.0));
        assert_eq!(p.fit(x.view()).unwrap(), m);
        assert_eq!(m.score_samples(x.view()).unwrap(), s);
        assert!((average_path_length(256) - 10.244_770_920_116_851).abs() < 1e-9);
    }
}
