//! Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018) over a [`TreeEnsemble`], and the ensemble's
//! exchange format with the Python `shap` package.
//!
//! A [`TreeEnsemble`] holds trees whose node values are *additive*: the model output is the sum over
//! trees of the leaf values a row reaches (a [`RandomForest`] converts with every class-probability vector
//! divided by the number of trees). SHAP values explain every output (class) at once.
//!
//! # Algorithm
//!
//! For a leaf whose root path tests the distinct features `f_1..f_d`, let `z_j` be the product of the
//! weight fractions `w_child / w_parent` along the path's splits on `f_j` and `o_j ∈ {0, 1}` whether the
//! row satisfies all of them. The leaf's contribution to `φ_{f_j}` is `v · (o_j − z_j) · W_j`, with
//! `W_j = Σ_{S ⊆ P∖{j}} |S|!(d−1−|S|)!/d! · Π_{k∈S} o_k · Π_{k∉S, k≠j} z_k` — exactly what Algorithm 2
//! of the paper accumulates with its EXTEND/UNWIND recursion. Because the `o_k` are 0 or 1,
//! `W_j = H(A∖{j}) / z_j` with `A = {k : o_k = 1}` and
//! `H(B) = Σ_{S⊆B} |S|!(d−1−|S|)!/d! · Π_{k∉S} z_k`, a table of `2^d` numbers per leaf that does not depend
//! on the row (the idea of Fast TreeSHAP v2, Yang 2021). Per row, one branch-free top-down pass over the
//! nodes gives every leaf its `A` as a bit mask, and each leaf costs `O(d)` table look-ups instead of the
//! recursion's `O(d²)`. Leaves whose table would be too large (paths with more than 12 distinct features,
//! fewer rows than it takes to amortise it, or a 64 MiB budget per ensemble exhausted) use the same
//! formula with `W_j` computed directly from the polynomial `Π_k (z_k + o_k t)` in `O(d²)`. Both are exact;
//! they agree with the textbook recursion ([`TreeEnsemble::shap_values_recursive`]) and with shap to
//! rounding (≈ 1e-16; which of the two a leaf uses depends on the number of rows explained at once).
//!
//! [`RandomForest`]: crate::RandomForest

mod fast;
mod recursive;

use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::check_matrix;

use crate::data::check_features;
use crate::error::{ExplainError, Result};
use crate::forest::RandomForest;
use crate::tree::{TREE_LEAF, TREE_UNDEFINED};

/// One tree with additive node values, in the vocabulary of shap's custom-tree dictionaries.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapTree {
    /// Left child per node, `-1` for leaves.
    pub children_left: Vec<i32>,
    /// Right child per node, `-1` for leaves.
    pub children_right: Vec<i32>,
    /// Split feature per node (ignored for leaves, `-2` by convention).
    pub features: Vec<i32>,
    /// Split threshold per node: a row goes left when `x[feature] <= threshold`.
    pub thresholds: Vec<f64>,
    /// Node values, `n_nodes × n_outputs` row-major; for leaves the tree's output.
    pub values: Vec<f64>,
    /// Training weight reaching each node (> 0).
    pub node_sample_weight: Vec<f64>,
}

impl ShapTree {
    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.children_left.len()
    }

    #[inline]
    fn is_leaf(&self, i: usize) -> bool {
        self.children_left[i] < 0
    }

    /// The leaf a row lands in.
    #[inline]
    pub fn apply_row(&self, row: &[f64]) -> usize {
        let mut i = 0usize;
        while !self.is_leaf(i) {
            i = if row[self.features[i] as usize] <= self.thresholds[i] {
                self.children_left[i] as usize
            } else {
                self.children_right[i] as usize
            };
        }
        i
    }

    fn validate(&self, t: usize, n_features: usize, n_outputs: usize) -> Result<()> {
        let n = self.n_nodes();
        let bad = |msg: String| Err(ExplainError::InvalidModel(format!("tree {t}: {msg}")));
        if n == 0 {
            return bad("no nodes".into());
        }
        if self.children_right.len() != n
            || self.features.len() != n
            || self.thresholds.len() != n
            || self.node_sample_weight.len() != n
            || self.values.len() != n * n_outputs
        {
            return bad("arrays of different lengths".into());
        }
        let mut parents = vec![0u8; n];
        for i in 0..n {
            let (l, r) = (self.children_left[i], self.children_right[i]);
            if (l < 0) != (r < 0) {
                return bad(format!("node {i} has one child"));
            }
            if !(self.node_sample_weight[i] > 0.0 && self.node_sample_weight[i].is_finite()) {
                return bad(format!("node {i} has weight {} (must be > 0)", self.node_sample_weight[i]));
            }
            if self.values[i * n_outputs..(i + 1) * n_outputs].iter().any(|v| !v.is_finite()) {
                return bad(format!("node {i} has a non-finite value"));
            }
            if l < 0 {
                continue;
            }
            for c in [l, r] {
                if c as usize >= n || c == 0 {
                    return bad(format!("node {i} has child {c} out of range"));
                }
                parents[c as usize] += 1;
            }
            if self.features[i] < 0 || self.features[i] as usize >= n_features {
                return bad(format!("node {i} splits on feature {} of {n_features}", self.features[i]));
            }
            if self.thresholds[i].is_nan() {
                return bad(format!("node {i} has a NaN threshold"));
            }
        }
        if parents.iter().skip(1).any(|&p| p != 1) {
            return bad("not a tree (a node has zero or several parents)".into());
        }
        // With one parent per non-root node, every node is reachable iff there is no cycle.
        let mut seen = 0usize;
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            seen += 1;
            if seen > n {
                break;
            }
            if !self.is_leaf(i) {
                stack.push(self.children_left[i] as usize);
                stack.push(self.children_right[i] as usize);
            }
        }
        if seen != n {
            return bad("not a tree (unreachable nodes or a cycle)".into());
        }
        Ok(())
    }
}

/// An additive ensemble of trees: the model output is the sum of the trees' leaf values.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeEnsemble {
    n_features: usize,
    n_outputs: usize,
    trees: Vec<ShapTree>,
    feature_names: Option<Vec<String>>,
    classes: Option<Vec<i64>>,
}

impl TreeEnsemble {
    /// Builds and validates an ensemble: every tree a proper binary tree, node weights > 0, features in
    /// range, `values` of length `n_nodes × n_outputs`.
    pub fn new(n_features: usize, n_outputs: usize, trees: Vec<ShapTree>) -> Result<Self> {
        if trees.is_empty() {
            return Err(ExplainError::InvalidModel("no trees".into()));
        }
        if n_outputs == 0 {
            return Err(ExplainError::InvalidModel("no outputs".into()));
        }
        for (t, tree) in trees.iter().enumerate() {
            tree.validate(t, n_features, n_outputs)?;
        }
        Ok(TreeEnsemble { n_features, n_outputs, trees, feature_names: None, classes: None })
    }

    /// A random forest with every node's class distribution divided by the number of trees.
    pub fn from_forest(forest: &RandomForest) -> Self {
        let scale = 1.0 / forest.trees().len() as f64;
        let trees = forest
            .trees()
            .iter()
            .map(|t| {
                let mut values = Vec::with_capacity(t.n_nodes() * forest.classes().len());
                for i in 0..t.n_nodes() {
                    let w = t.weighted_n_node_samples()[i];
                    values.extend(t.node_value(i).iter().map(|c| c / w * scale));
                }
                ShapTree {
                    children_left: t.children_left().to_vec(),
                    children_right: t.children_right().to_vec(),
                    features: t.feature().to_vec(),
                    thresholds: t.threshold().to_vec(),
                    values,
                    node_sample_weight: t.weighted_n_node_samples().to_vec(),
                }
            })
            .collect();
        TreeEnsemble {
            n_features: forest.n_features(),
            n_outputs: forest.classes().len(),
            trees,
            feature_names: None,
            classes: Some(forest.classes().to_vec()),
        }
    }

    /// Attaches feature names (exported as `feature_names`).
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self> {
        if names.len() != self.n_features {
            return Err(
                outflow_core::InputError::WidthMismatch { expected: self.n_features, found: names.len() }.into()
            );
        }
        self.feature_names = Some(names);
        Ok(self)
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Number of outputs (classes).
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// The trees.
    pub fn trees(&self) -> &[ShapTree] {
        &self.trees
    }

    /// Feature names, when known.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.feature_names.as_deref()
    }

    /// Class labels of the outputs, when known.
    pub fn classes(&self) -> Option<&[i64]> {
        self.classes.as_deref()
    }

    /// Sum over trees of the root values: the mean output over the training weights, shap's
    /// `expected_value` for the path-dependent method.
    pub fn expected_value(&self) -> Array1<f64> {
        let mut e = Array1::zeros(self.n_outputs);
        for t in &self.trees {
            for (e, v) in e.iter_mut().zip(&t.values[..self.n_outputs]) {
                *e += v;
            }
        }
        e
    }

    /// The model output per row, `rows × outputs`: the sum of the reached leaves' values.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(self.n_features, x)?;
        let c = self.n_outputs;
        let mut out = Array2::zeros((x.nrows(), c));
        let x = x.as_standard_layout();
        let m = self.n_features;
        let xs = x.as_slice().expect("standard layout");
        out.as_slice_mut().expect("standard layout").par_chunks_mut(c).enumerate().for_each(|(i, o)| {
            let row = &xs[i * m..(i + 1) * m];
            for t in &self.trees {
                let leaf = t.apply_row(row);
                for (o, v) in o.iter_mut().zip(&t.values[leaf * c..(leaf + 1) * c]) {
                    *o += v;
                }
            }
        });
        Ok(out)
    }

    /// Exact path-dependent TreeSHAP values, parallel over rows on the rayon pool.
    ///
    /// `values[[i, j, c]]` is feature `j`'s contribution to output `c` for row `i`; for every row and
    /// output, `expected_value[c] + Σ_j values[[i, j, c]]` equals [`TreeEnsemble::predict`] (to rounding).
    /// Same layout as shap ≥ 0.45's `TreeExplainer.shap_values` for multi-output models.
    pub fn shap_values(&self, x: ArrayView2<'_, f64>) -> Result<ShapValues> {
        check_matrix(x)?;
        check_features(self.n_features, x)?;
        let x = x.as_standard_layout();
        let values = fast::shap_values(self, x.view());
        Ok(self.wrap(values))
    }

    /// The same values computed by the paper's recursive Algorithm 2 (EXTEND / UNWIND on the unique
    /// path): slower, kept as an independent cross-check.
    pub fn shap_values_recursive(&self, x: ArrayView2<'_, f64>) -> Result<ShapValues> {
        check_matrix(x)?;
        check_features(self.n_features, x)?;
        let x = x.as_standard_layout();
        let values = recursive::shap_values(self, x.view());
        Ok(self.wrap(values))
    }

    fn wrap(&self, values: Array3<f64>) -> ShapValues {
        ShapValues {
            values,
            expected_value: self.expected_value(),
            classes: self.classes.clone(),
            feature_names: self.feature_names.clone(),
        }
    }

    /// The ensemble as shap's custom-tree model dictionary, serialised as JSON:
    /// `{"trees": [{children_left, children_right, children_default, features, thresholds, values,
    /// node_sample_weight}, ...], "n_features": .., "classes": [..], "feature_names": [..]}`.
    ///
    /// Leaves have children `-1`, feature `-2` and threshold `-2.0`; `children_default` is the left child
    /// (there are no missing values); `values` is one vector per node. Load it in Python with
    /// `shap.TreeExplainer({"trees": [{k: numpy.asarray(v) for k, v in t.items()} for t in j["trees"]]})`:
    /// shap then uses float64 inputs, `model_output="raw"` and the `tree_path_dependent` perturbation,
    /// and its values equal [`TreeEnsemble::shap_values`]. The extra top-level keys are ignored by shap.
    pub fn to_shap_json(&self) -> Result<String> {
        let c = self.n_outputs;
        let trees = self
            .trees
            .iter()
            .map(|t| {
                let leaf = |i: usize| t.children_left[i] < 0;
                let n = t.n_nodes();
                ShapTreeJson {
                    children_left: (0..n).map(|i| if leaf(i) { TREE_LEAF } else { t.children_left[i] }).collect(),
                    children_right: (0..n).map(|i| if leaf(i) { TREE_LEAF } else { t.children_right[i] }).collect(),
                    children_default: (0..n).map(|i| if leaf(i) { TREE_LEAF } else { t.children_left[i] }).collect(),
                    features: (0..n).map(|i| if leaf(i) { TREE_UNDEFINED } else { t.features[i] }).collect(),
                    thresholds: (0..n).map(|i| if leaf(i) { TREE_UNDEFINED as f64 } else { t.thresholds[i] }).collect(),
                    values: t.values.chunks(c).map(<[f64]>::to_vec).collect(),
                    node_sample_weight: t.node_sample_weight.clone(),
                }
            })
            .collect();
        let model = ShapModelJson {
            trees,
            n_features: Some(self.n_features),
            classes: self.classes.clone(),
            feature_names: self.feature_names.clone(),
        };
        Ok(serde_json::to_string(&model)?)
    }

    /// Reads the form written by [`TreeEnsemble::to_shap_json`] (also a plain shap dictionary with only
    /// `trees`; the feature count is then the largest split feature + 1). `children_default` is ignored.
    pub fn from_shap_json(json: &str) -> Result<Self> {
        let m: ShapModelJson = serde_json::from_str(json)?;
        let n_outputs = m.trees.first().and_then(|t| t.values.first()).map_or(0, Vec::len);
        let max_feature = m.trees.iter().flat_map(|t| t.features.iter().copied()).max().unwrap_or(-1);
        let n_features =
            m.n_features.or(m.feature_names.as_ref().map(Vec::len)).unwrap_or((max_feature + 1).max(0) as usize);
        let mut trees = Vec::with_capacity(m.trees.len());
        for (t, tj) in m.trees.into_iter().enumerate() {
            if tj.values.iter().any(|v| v.len() != n_outputs) {
                return Err(ExplainError::InvalidModel(format!("tree {t}: values of different lengths")));
            }
            trees.push(ShapTree {
                children_left: tj.children_left,
                children_right: tj.children_right,
                features: tj.features,
                thresholds: tj.thresholds,
                values: tj.values.into_iter().flatten().collect(),
                node_sample_weight: tj.node_sample_weight,
            });
        }
        let mut e = TreeEnsemble::new(n_features, n_outputs, trees)?;
        if let Some(c) = m.classes {
            if c.len() != n_outputs {
                return Err(ExplainError::InvalidModel(format!("{} classes for {n_outputs} outputs", c.len())));
            }
            e.classes = Some(c);
        }
        if let Some(names) = m.feature_names {
            e = e.with_feature_names(names)?;
        }
        Ok(e)
    }
}

#[derive(Serialize, Deserialize)]
struct ShapTreeJson {
    children_left: Vec<i32>,
    children_right: Vec<i32>,
    #[serde(default)]
    children_default: Vec<i32>,
    features: Vec<i32>,
    thresholds: Vec<f64>,
    values: Vec<Vec<f64>>,
    node_sample_weight: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct ShapModelJson {
    trees: Vec<ShapTreeJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n_features: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    feature_names: Option<Vec<String>>,
}

/// SHAP values of a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapValues {
    /// `rows × features × outputs`.
    pub values: Array3<f64>,
    /// Per output: the ensemble's expected value (φ₀).
    pub expected_value: Array1<f64>,
    /// Class label of each output, when known.
    pub classes: Option<Vec<i64>>,
    /// Feature names, when known.
    pub feature_names: Option<Vec<String>>,
}

impl ShapValues {
    /// Mean absolute SHAP value per feature and output, `features × outputs`.
    pub fn mean_abs(&self) -> Array2<f64> {
        let n = self.values.len_of(Axis(0)).max(1) as f64;
        self.values.mapv(f64::abs).sum_axis(Axis(0)) / n
    }

    /// Writes `row,class,expected_value,<feature names...>` and one line per row and output (class = the
    /// label value; output index and `f<j>` names when unknown). Numbers are written in shortest
    /// round-trip form.
    pub fn write_csv<W: std::io::Write>(&self, w: W) -> std::io::Result<()> {
        let rows: Vec<usize> = (0..self.values.dim().0).collect();
        self.write_csv_rows(w, &rows)
    }

    /// [`ShapValues::write_csv`] with `rows[i]` written as row `i`'s number: the rows' places in a
    /// table some of whose rows were not explained.
    pub fn write_csv_rows<W: std::io::Write>(&self, mut w: W, rows: &[usize]) -> std::io::Result<()> {
        let (n, m, c) = self.values.dim();
        if rows.len() != n {
            let why = format!("{} row numbers for {n} explained rows", rows.len());
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
        }
        let names: Vec<String> = match &self.feature_names {
            Some(names) => names.iter().map(|s| csv_field(s)).collect(),
            None => (0..m).map(|j| format!("f{j}")).collect(),
        };
        writeln!(w, "row,class,expected_value,{}", names.join(","))?;
        let mut line = String::new();
        for (i, row) in rows.iter().enumerate() {
            for k in 0..c {
                use std::fmt::Write as _;
                line.clear();
                let class = self.classes.as_ref().map_or(k as i64, |cl| cl[k]);
                let _ = write!(line, "{row},{class},{}", self.expected_value[k]);
                for j in 0..m {
                    let _ = write!(line, ",{}", self.values[[i, j, k]]);
                }
                line.push('\n');
                w.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}
