//! CART classification trees grown on Gini impurity, the way scikit-learn grows them.
//!
//! Splits are searched over the node's rows sorted by one feature; a candidate threshold is the midpoint
//! between two consecutive *distinct* values (`a / 2 + b / 2`, falling back to `a` when rounding lands on
//! `b`), and a row goes left when `x[feature] <= threshold`. The best split maximises the weighted Gini
//! decrease; the first of equally good candidates wins, features being visited in a seeded random order.
//! Every node keeps its weighted class counts, its weight (`node_sample_weight` in shap's vocabulary) and
//! the number of distinct training rows it holds, which is what TreeSHAP and the importances need.

use ndarray::{Array2, ArrayView1, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use outflow_core::{FitSupervised, Predict, check_len as check_rows, check_matrix};

use crate::data::{Columns, check_features, encode_labels};
use crate::error::{ExplainError, Result};

/// Child index of a leaf (scikit-learn's `TREE_LEAF`).
pub const TREE_LEAF: i32 = -1;
/// Feature index of a leaf (scikit-learn's `TREE_UNDEFINED`); leaf thresholds are `-2.0` too.
pub const TREE_UNDEFINED: i32 = -2;

/// How many features a split may look at (scikit-learn's `max_features`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeatures {
    /// Every feature.
    #[default]
    All,
    /// `max(1, floor(sqrt(n_features)))`.
    Sqrt,
    /// `max(1, floor(log2(n_features)))`.
    Log2,
    /// A fixed number, `1..=n_features`.
    Count(usize),
    /// `max(1, floor(fraction * n_features))`, fraction in `(0, 1]`.
    Fraction(f64),
}

impl MaxFeatures {
    /// The number of features to draw per split for `n_features` features.
    pub fn resolve(self, n_features: usize) -> Result<usize> {
        let n = match self {
            MaxFeatures::All => n_features,
            MaxFeatures::Sqrt => (n_features as f64).sqrt() as usize,
            MaxFeatures::Log2 => (n_features as f64).log2() as usize,
            MaxFeatures::Count(c) => {
                if c == 0 || c > n_features {
                    return Err(ExplainError::param("max_features", format!("{c} not in 1..={n_features}")));
                }
                c
            }
            MaxFeatures::Fraction(f) => {
                if !(f > 0.0 && f <= 1.0) {
                    return Err(ExplainError::param("max_features", format!("fraction {f} not in (0, 1]")));
                }
                (f * n_features as f64) as usize
            }
        };
        Ok(n.clamp(1, n_features.max(1)))
    }
}

/// Per-class sample weights (scikit-learn's `class_weight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row weighs 1.
    #[default]
    Uniform,
    /// `n_rows / (n_classes * rows_of_class)`, computed on the full training labels (also under bootstrap,
    /// as scikit-learn's `"balanced"`).
    Balanced,
}

impl ClassWeight {
    pub(crate) fn weights(self, y: &[u32], n_classes: usize) -> Vec<f64> {
        match self {
            ClassWeight::Uniform => vec![1.0; n_classes],
            ClassWeight::Balanced => {
                let mut counts = vec![0usize; n_classes];
                for &c in y {
                    counts[c as usize] += 1;
                }
                let n = y.len() as f64;
                counts.iter().map(|&c| if c == 0 { 0.0 } else { n / (n_classes as f64 * c as f64) }).collect()
            }
        }
    }
}

/// Hyper-parameters of a single CART classifier. `Default` mirrors scikit-learn's `DecisionTreeClassifier`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionTreeParams {
    /// Maximum depth (root = depth 0); `None` grows until leaves are pure or too small.
    pub max_depth: Option<usize>,
    /// A node with fewer distinct rows is not split (≥ 2).
    pub min_samples_split: usize,
    /// Each child must keep at least this many distinct rows (≥ 1).
    pub min_samples_leaf: usize,
    /// Features examined per split.
    pub max_features: MaxFeatures,
    /// Class weighting.
    pub class_weight: ClassWeight,
    /// Seed of the feature order (and of the feature subset when `max_features` is not `All`).
    pub seed: u64,
}

impl Default for DecisionTreeParams {
    fn default() -> Self {
        DecisionTreeParams {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::All,
            class_weight: ClassWeight::Uniform,
            seed: 0,
        }
    }
}

impl DecisionTreeParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        validate_growth(self.max_depth, self.min_samples_split, self.min_samples_leaf)?;
        if let MaxFeatures::Count(0) = self.max_features {
            return Err(ExplainError::param("max_features", "0"));
        }
        if let MaxFeatures::Fraction(f) = self.max_features {
            MaxFeatures::Fraction(f).resolve(1)?;
        }
        Ok(())
    }
}

impl FitSupervised for DecisionTreeParams {
    type Fitted = DecisionTree;
    type Error = ExplainError;

    /// Fits a tree on `x` (rows × features, finite) and integer class labels `y`.
    fn fit(&self, x: ArrayView2<'_, f64>, y: &[i64]) -> Result<DecisionTree> {
        self.validate()?;
        check_matrix(x)?;
        check_rows("labels", x.nrows(), y.len())?;
        let enc = encode_labels(y)?;
        let cols = Columns::new(x);
        let cw = self.class_weight.weights(&enc.y, enc.classes.len());
        let w: Vec<f64> = enc.y.iter().map(|&c| cw[c as usize]).collect();
        let grow = GrowParams::new(self.max_depth, self.min_samples_split, self.min_samples_leaf, {
            self.max_features.resolve(x.ncols())?
        });
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        Ok(grow_tree(&cols, &enc.y, &enc.classes, &w, &grow, &mut rng))
    }
}

pub(crate) fn validate_growth(max_depth: Option<usize>, min_split: usize, min_leaf: usize) -> Result<()> {
    if max_depth == Some(0) {
        return Err(ExplainError::param("max_depth", "must be at least 1 (or None)"));
    }
    if min_split < 2 {
        return Err(ExplainError::param("min_samples_split", format!("{min_split} < 2")));
    }
    if min_leaf < 1 {
        return Err(ExplainError::param("min_samples_leaf", "must be at least 1"));
    }
    Ok(())
}

/// A fitted CART classifier; nodes are numbered in depth-first pre-order (root 0, then the left subtree),
/// as in scikit-learn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    n_features: usize,
    classes: Vec<i64>,
    children_left: Vec<i32>,
    children_right: Vec<i32>,
    feature: Vec<i32>,
    threshold: Vec<f64>,
    n_node_samples: Vec<usize>,
    weighted_n_node_samples: Vec<f64>,
    /// Weighted class counts, `n_nodes × n_classes` row-major.
    value: Vec<f64>,
    impurity: Vec<f64>,
}

impl DecisionTree {
    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.children_left.len()
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.children_left.iter().filter(|&&c| c == TREE_LEAF).count()
    }

    /// Depth of the deepest leaf (a single leaf has depth 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.n_nodes()];
        let mut max = 0;
        for i in 0..self.n_nodes() {
            if !self.is_leaf(i) {
                for c in [self.children_left[i], self.children_right[i]] {
                    depth[c as usize] = depth[i] + 1;
                    max = max.max(depth[i] + 1);
                }
            }
        }
        max
    }

    /// Number of features seen in fit.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Sorted class labels; column `k` of [`DecisionTree::predict_proba`] is `classes()[k]`.
    pub fn classes(&self) -> &[i64] {
        &self.classes
    }

    /// Whether node `i` is a leaf.
    #[inline]
    pub fn is_leaf(&self, i: usize) -> bool {
        self.children_left[i] == TREE_LEAF
    }

    /// Left child per node, [`TREE_LEAF`] for leaves.
    pub fn children_left(&self) -> &[i32] {
        &self.children_left
    }

    /// Right child per node, [`TREE_LEAF`] for leaves.
    pub fn children_right(&self) -> &[i32] {
        &self.children_right
    }

    /// Split feature per node, [`TREE_UNDEFINED`] for leaves.
    pub fn feature(&self) -> &[i32] {
        &self.feature
    }

    /// Split threshold per node (left when `x <= threshold`), `-2.0` for leaves.
    pub fn threshold(&self) -> &[f64] {
        &self.threshold
    }

    /// Distinct training rows per node.
    pub fn n_node_samples(&self) -> &[usize] {
        &self.n_node_samples
    }

    /// Total sample weight per node (bootstrap multiplicity × class weight).
    pub fn weighted_n_node_samples(&self) -> &[f64] {
        &self.weighted_n_node_samples
    }

    /// Gini impurity per node.
    pub fn impurity(&self) -> &[f64] {
        &self.impurity
    }

    /// Weighted class counts of node `i` (one per class).
    pub fn node_value(&self, i: usize) -> &[f64] {
        let k = self.classes.len();
        &self.value[i * k..(i + 1) * k]
    }

    /// Class distribution of node `i` (weighted counts over the node weight).
    pub fn node_proba(&self, i: usize) -> Vec<f64> {
        let w = self.weighted_n_node_samples[i];
        self.node_value(i).iter().map(|c| c / w).collect()
    }

    /// The leaf a row lands in.
    #[inline]
    pub fn apply_row(&self, row: &[f64]) -> usize {
        let mut i = 0usize;
        while self.children_left[i] != TREE_LEAF {
            i = if row[self.feature[i] as usize] <= self.threshold[i] {
                self.children_left[i] as usize
            } else {
                self.children_right[i] as usize
            };
        }
        i
    }

    pub(crate) fn apply_view(&self, row: ArrayView1<'_, f64>) -> usize {
        let mut i = 0usize;
        while self.children_left[i] != TREE_LEAF {
            i = if row[self.feature[i] as usize] <= self.threshold[i] {
                self.children_left[i] as usize
            } else {
                self.children_right[i] as usize
            };
        }
        i
    }

    /// Class probabilities, `rows × classes`.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(self.n_features, x)?;
        let k = self.classes.len();
        let mut out = Array2::zeros((x.nrows(), k));
        for (row, mut o) in x.outer_iter().zip(out.outer_iter_mut()) {
            let leaf = self.apply_view(row);
            let w = self.weighted_n_node_samples[leaf];
            for (o, c) in o.iter_mut().zip(self.node_value(leaf)) {
                *o = c / w;
            }
        }
        Ok(out)
    }

    /// Mean decrease in impurity per feature, normalised to sum to 1 (all zeros for a single leaf):
    /// `Σ_splits (w_t·imp_t − w_L·imp_L − w_R·imp_R) / w_root`, as scikit-learn's `feature_importances_`.
    pub fn feature_importances(&self) -> Vec<f64> {
        let mut imp = self.raw_importances();
        let s: f64 = imp.iter().sum();
        if s > 0.0 {
            imp.iter_mut().for_each(|v| *v /= s);
        }
        imp
    }

    fn raw_importances(&self) -> Vec<f64> {
        let mut imp = vec![0.0; self.n_features];
        let w = &self.weighted_n_node_samples;
        for i in 0..self.n_nodes() {
            if self.is_leaf(i) {
                continue;
            }
            let (l, r) = (self.children_left[i] as usize, self.children_right[i] as usize);
            imp[self.feature[i] as usize] +=
                w[i] * self.impurity[i] - w[l] * self.impurity[l] - w[r] * self.impurity[r];
        }
        let root = w[0];
        imp.iter_mut().for_each(|v| *v /= root);
        imp
    }
}

impl Predict for DecisionTree {
    type Error = ExplainError;

    /// Predicted class labels (the most probable class; ties go to the smaller label).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        let p = self.predict_proba(x)?;
        Ok(p.outer_iter().map(|r| self.classes[argmax(r.as_slice().expect("standard layout"))]).collect())
    }
}

/// Index of the largest value; the first one on ties (NumPy's `argmax`).
pub(crate) fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Gini impurity of weighted class counts.
fn gini(counts: &[f64], w: f64) -> f64 {
    if w <= 0.0 {
        return 0.0;
    }
    1.0 - counts.iter().map(|c| (c / w) * (c / w)).sum::<f64>()
}

/// Growth limits resolved for one fit.
#[derive(Debug, Clone)]
pub(crate) struct GrowParams {
    max_depth: usize,
    min_samples_split: usize,
    min_samples_leaf: usize,
    max_features: usize,
}

impl GrowParams {
    pub(crate) fn new(max_depth: Option<usize>, min_split: usize, min_leaf: usize, max_features: usize) -> Self {
        GrowParams {
            max_depth: max_depth.unwrap_or(usize::MAX),
            min_samples_split: min_split.max(2 * min_leaf),
            min_samples_leaf: min_leaf,
            max_features,
        }
    }
}

/// A pending node of the depth-first builder.
struct Pending {
    start: usize,
    end: usize,
    depth: usize,
    parent: Option<(usize, bool)>,
}

/// Grows one tree on the rows with positive `weight` (bootstrap multiplicity × class weight).
pub(crate) fn grow_tree(
    cols: &Columns,
    y: &[u32],
    classes: &[i64],
    weight: &[f64],
    p: &GrowParams,
    rng: &mut ChaCha8Rng,
) -> DecisionTree {
    let k = classes.len();
    let mut samples: Vec<u32> = (0..cols.n_rows as u32).filter(|&i| weight[i as usize] > 0.0).collect();
    let mut t = DecisionTree {
        n_features: cols.n_features,
        classes: classes.to_vec(),
        children_left: Vec::new(),
        children_right: Vec::new(),
        feature: Vec::new(),
        threshold: Vec::new(),
        n_node_samples: Vec::new(),
        weighted_n_node_samples: Vec::new(),
        value: Vec::new(),
        impurity: Vec::new(),
    };
    let mut search = SplitSearch {
        features: (0..cols.n_features).collect(),
        vals: Vec::with_capacity(samples.len()),
        left: vec![0.0; k],
    };
    let mut counts = vec![0.0; k];
    let mut stack = vec![Pending { start: 0, end: samples.len(), depth: 0, parent: None }];
    while let Some(node) = stack.pop() {
        let id = t.children_left.len();
        if let Some((parent, is_left)) = node.parent {
            if is_left {
                t.children_left[parent] = id as i32;
            } else {
                t.children_right[parent] = id as i32;
            }
        }
        let rows = &mut samples[node.start..node.end];
        counts.iter_mut().for_each(|c| *c = 0.0);
        for &s in rows.iter() {
            counts[y[s as usize] as usize] += weight[s as usize];
        }
        let w: f64 = counts.iter().sum();
        let n = rows.len();
        let impurity = gini(&counts, w);
        t.children_left.push(TREE_LEAF);
        t.children_right.push(TREE_LEAF);
        t.feature.push(TREE_UNDEFINED);
        t.threshold.push(TREE_UNDEFINED as f64);
        t.n_node_samples.push(n);
        t.weighted_n_node_samples.push(w);
        t.value.extend_from_slice(&counts);
        t.impurity.push(impurity);

        let is_leaf = node.depth >= p.max_depth || n < p.min_samples_split || impurity <= f64::EPSILON;
        if is_leaf {
            continue;
        }
        let Some((f, thr)) = search.best(cols, y, weight, rows, &counts, w, p, rng) else { continue };
        let col = cols.col(f);
        let mid = partition(rows, |s| col[s as usize] <= thr);
        t.feature[id] = f as i32;
        t.threshold[id] = thr;
        // Right is pushed first so that the left subtree is numbered first (pre-order).
        let (start, end, depth) = (node.start, node.end, node.depth + 1);
        stack.push(Pending { start: start + mid, end, depth, parent: Some((id, false)) });
        stack.push(Pending { start, end: start + mid, depth, parent: Some((id, true)) });
    }
    t.make_consistent();
    t
}

impl DecisionTree {
    /// Recomputes internal-node counts and weights as the sums of their children's, so that a node's class
    /// distribution is exactly the weighted mix of its leaves' (TreeSHAP's expected value relies on it).
    fn make_consistent(&mut self) {
        let k = self.classes.len();
        for i in (0..self.n_nodes()).rev() {
            if self.is_leaf(i) {
                self.weighted_n_node_samples[i] = self.node_value(i).iter().sum();
            } else {
                let (l, r) = (self.children_left[i] as usize, self.children_right[i] as usize);
                for c in 0..k {
                    self.value[i * k + c] = self.value[l * k + c] + self.value[r * k + c];
                }
                self.weighted_n_node_samples[i] = self.weighted_n_node_samples[l] + self.weighted_n_node_samples[r];
            }
            self.impurity[i] = gini(self.node_value(i), self.weighted_n_node_samples[i]);
        }
    }
}

/// Moves the rows satisfying `pred` to the front; returns how many there are.
fn partition(rows: &mut [u32], pred: impl Fn(u32) -> bool) -> usize {
    let mut mid = 0;
    for i in 0..rows.len() {
        if pred(rows[i]) {
            rows.swap(i, mid);
            mid += 1;
        }
    }
    mid
}

/// Scratch space of the split search.
struct SplitSearch {
    features: Vec<usize>,
    vals: Vec<(f64, u32)>,
    left: Vec<f64>,
}

impl SplitSearch {
    /// The best split of a node as `(feature, threshold)`, `None` when no feature admits one.
    #[allow(clippy::too_many_arguments)]
    fn best(
        &mut self,
        cols: &Columns,
        y: &[u32],
        weight: &[f64],
        rows: &[u32],
        counts: &[f64],
        w_total: f64,
        p: &GrowParams,
        rng: &mut ChaCha8Rng,
    ) -> Option<(usize, f64)> {
        let n = rows.len();
        let m = self.features.len();
        let mut best: Option<(usize, f64)> = None;
        let mut best_proxy = f64::NEG_INFINITY;
        let mut visited = 0;
        for i in 0..m {
            if visited >= p.max_features {
                break;
            }
            // Fisher–Yates draw of the next feature to examine.
            let r = rng.random_range(i..m);
            self.features.swap(i, r);
            let f = self.features[i];
            let col = cols.col(f);
            self.vals.clear();
            self.vals.extend(rows.iter().map(|&s| (col[s as usize], s)));
            self.vals.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            if self.vals[0].0 >= self.vals[n - 1].0 {
                continue; // constant in this node: does not count towards max_features
            }
            visited += 1;
            self.left.iter_mut().for_each(|c| *c = 0.0);
            let mut w_left = 0.0;
            for pos in 1..n {
                let (v_prev, s) = self.vals[pos - 1];
                let ws = weight[s as usize];
                self.left[y[s as usize] as usize] += ws;
                w_left += ws;
                if pos < p.min_samples_leaf || n - pos < p.min_samples_leaf {
                    continue;
                }
                let v = self.vals[pos].0;
                if v <= v_prev {
                    continue;
                }
                let w_right = w_total - w_left;
                let (mut sl, mut sr) = (0.0, 0.0);
                for (l, c) in self.left.iter().zip(counts) {
                    sl += l * l;
                    let r = c - l;
                    sr += r * r;
                }
                // Maximising Σ L_k²/w_L + Σ R_k²/w_R is minimising w_L·gini_L + w_R·gini_R.
                let proxy = sl / w_left + sr / w_right;
                if proxy > best_proxy {
                    best_proxy = proxy;
                    let mut thr = v_prev / 2.0 + v / 2.0;
                    if thr == v || !thr.is_finite() {
                        thr = v_prev;
                    }
                    best = Some((f, thr));
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn splits_at_midpoints_and_predicts() {
        let x = array![[1.0, 0.0], [2.0, 0.0], [3.0, 1.0], [4.0, 1.0]];
        let y = [0, 0, 1, 1];
        let t = DecisionTreeParams::default().fit(x.view(), &y).unwrap();
        assert_eq!(t.n_nodes(), 3);
        assert_eq!(t.predict(x.view()).unwrap(), y);
        // Both features separate perfectly; whichever is chosen, the threshold is a midpoint.
        let thr = t.threshold()[0];
        assert!(thr == 2.5 || thr == 0.5, "{thr}");
        assert_eq!(t.n_node_samples(), &[4, 2, 2]);
        assert_eq!(t.feature_importances().iter().sum::<f64>(), 1.0);
    }

    #[test]
    fn respects_depth_and_leaf_size() {
        let x = Array2::from_shape_fn((40, 1), |(i, _)| i as f64);
        let y: Vec<i64> = (0..40).map(|i| (i % 2) as i64).collect();
        let t = DecisionTreeParams { max_depth: Some(3), ..Default::default() }.fit(x.view(), &y).unwrap();
        assert!(t.depth() <= 3);
        let t = DecisionTreeParams { min_samples_leaf: 7, ..Default::default() }.fit(x.view(), &y).unwrap();
        for i in 0..t.n_nodes() {
            assert!(t.n_node_samples()[i] >= 7);
        }
    }

    #[test]
    fn max_features_resolution() {
        assert_eq!(MaxFeatures::Sqrt.resolve(30).unwrap(), 5);
        assert_eq!(MaxFeatures::Sqrt.resolve(1).unwrap(), 1);
        assert_eq!(MaxFeatures::Log2.resolve(30).unwrap(), 4);
        assert_eq!(MaxFeatures::Fraction(0.5).resolve(7).unwrap(), 3);
        assert!(MaxFeatures::Count(9).resolve(8).is_err());
    }
}
