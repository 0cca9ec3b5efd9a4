//! Random forests of CART classifiers: bootstrap rows, random feature subsets, averaged probabilities.

use ndarray::{Array2, ArrayView2};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{FitSupervised, Predict, check_len as check_rows, check_matrix};

use crate::data::{Columns, check_features, encode_labels};
use crate::error::{ExplainError, Result};
use crate::shap::{ShapValues, TreeEnsemble};
use crate::tree::{ClassWeight, DecisionTree, GrowParams, MaxFeatures, argmax, grow_tree, validate_growth};

/// Hyper-parameters of a random forest. `Default` mirrors scikit-learn's `RandomForestClassifier`
/// (100 trees, unlimited depth, `sqrt` features, bootstrap, no class weights);
/// [`RandomForestParams::surrogate`] is the surrogate the report and `outflow explain` fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomForestParams {
    /// Number of trees (≥ 1).
    pub n_estimators: usize,
    /// Maximum depth of each tree; `None` = unlimited.
    pub max_depth: Option<usize>,
    /// A node with fewer distinct rows is not split (≥ 2).
    pub min_samples_split: usize,
    /// Each child keeps at least this many distinct rows (≥ 1).
    pub min_samples_leaf: usize,
    /// Features examined per split.
    pub max_features: MaxFeatures,
    /// Draw `n` rows with replacement per tree (else every tree sees every row once).
    pub bootstrap: bool,
    /// Class weighting.
    pub class_weight: ClassWeight,
    /// Master seed: tree `t` gets the `t`-th draw of a ChaCha8 stream seeded with it, so results do not
    /// depend on the number of threads.
    pub seed: u64,
}

impl Default for RandomForestParams {
    fn default() -> Self {
        RandomForestParams {
            n_estimators: 100,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::Sqrt,
            bootstrap: true,
            class_weight: ClassWeight::Uniform,
            seed: 0,
        }
    }
}

impl RandomForestParams {
    /// The cluster surrogate: 100 trees of depth ≤ 7, balanced class weights.
    pub fn surrogate() -> Self {
        RandomForestParams { max_depth: Some(7), class_weight: ClassWeight::Balanced, ..Default::default() }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n_estimators == 0 {
            return Err(ExplainError::param("n_estimators", "must be at least 1"));
        }
        validate_growth(self.max_depth, self.min_samples_split, self.min_samples_leaf)?;
        if let MaxFeatures::Fraction(f) = self.max_features {
            MaxFeatures::Fraction(f).resolve(1)?;
        }
        if let MaxFeatures::Count(0) = self.max_features {
            return Err(ExplainError::param("max_features", "0"));
        }
        Ok(())
    }
}

impl FitSupervised for RandomForestParams {
    type Fitted = RandomForest;
    type Error = ExplainError;

    /// Fits a forest on `x` (rows × features, finite) and integer class labels `y`; trees are grown in
    /// parallel on the rayon pool.
    fn fit(&self, x: ArrayView2<'_, f64>, y: &[i64]) -> Result<RandomForest> {
        self.validate()?;
        check_matrix(x)?;
        check_rows("labels", x.nrows(), y.len())?;
        let enc = encode_labels(y)?;
        let k = enc.classes.len();
        let n = x.nrows();
        let cols = Columns::new(x);
        let grow = GrowParams::new(
            self.max_depth,
            self.min_samples_split,
            self.min_samples_leaf,
            self.max_features.resolve(x.ncols())?,
        );
        let cw = self.class_weight.weights(&enc.y, k);
        let mut master = ChaCha8Rng::seed_from_u64(self.seed);
        let seeds: Vec<u64> = (0..self.n_estimators).map(|_| master.next_u64()).collect();
        let trees = seeds
            .into_par_iter()
            .map(|s| {
                let mut rng = ChaCha8Rng::seed_from_u64(s);
                let mut w = vec![0.0; n];
                if self.bootstrap {
                    for _ in 0..n {
                        w[rng.random_range(0..n)] += 1.0;
                    }
                } else {
                    w.iter_mut().for_each(|v| *v = 1.0);
                }
                for (w, &c) in w.iter_mut().zip(&enc.y) {
                    *w *= cw[c as usize];
                }
                grow_tree(&cols, &enc.y, &enc.classes, &w, &grow, &mut rng)
            })
            .collect();
        Ok(RandomForest { params: self.clone(), n_features: x.ncols(), classes: enc.classes, trees })
    }
}

/// A fitted random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    params: RandomForestParams,
    n_features: usize,
    classes: Vec<i64>,
    trees: Vec<DecisionTree>,
}

impl RandomForest {
    /// The parameters it was fitted with.
    pub fn params(&self) -> &RandomForestParams {
        &self.params
    }

    /// Number of features seen in fit.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Sorted class labels; column `k` of every probability or SHAP output is `classes()[k]`.
    pub fn classes(&self) -> &[i64] {
        &self.classes
    }

    /// The trees.
    pub fn trees(&self) -> &[DecisionTree] {
        &self.trees
    }

    /// Mean of the trees' class probabilities, `rows × classes` (parallel over rows).
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_features(self.n_features, x)?;
        let k = self.classes.len();
        let mut out = Array2::zeros((x.nrows(), k));
        let x = x.as_standard_layout();
        let m = self.n_features;
        let xs = x.as_slice().expect("standard layout");
        out.as_slice_mut().expect("standard layout").par_chunks_mut(k).enumerate().for_each(|(i, o)| {
            self.predict_proba_row(&xs[i * m..(i + 1) * m], o);
        });
        Ok(out)
    }

    /// Class probabilities of one row (`row.len() == n_features`, unchecked values).
    pub fn predict_proba_row(&self, row: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for t in &self.trees {
            let leaf = t.apply_row(row);
            let w = t.weighted_n_node_samples()[leaf];
            for (o, c) in out.iter_mut().zip(t.node_value(leaf)) {
                *o += c / w;
            }
        }
        let nt = self.trees.len() as f64;
        out.iter_mut().for_each(|v| *v /= nt);
    }

    /// Accuracy of [`Predict::predict`] against `y` (the fraction of rows labelled `y`).
    pub fn accuracy(&self, x: ArrayView2<'_, f64>, y: &[i64]) -> Result<f64> {
        check_rows("labels", x.nrows(), y.len())?;
        let pred = self.predict(x)?;
        Ok(pred.iter().zip(y).filter(|(a, b)| a == b).count() as f64 / y.len().max(1) as f64)
    }

    /// Gini importance (mean decrease in impurity) as scikit-learn's `feature_importances_`: each tree's
    /// importances normalised to 1, averaged over the trees that split at all, renormalised.
    pub fn feature_importances(&self) -> Vec<f64> {
        let mut acc = vec![0.0; self.n_features];
        let mut used = 0usize;
        for t in self.trees.iter().filter(|t| t.n_nodes() > 1) {
            for (a, v) in acc.iter_mut().zip(t.feature_importances()) {
                *a += v;
            }
            used += 1;
        }
        if used > 0 {
            acc.iter_mut().for_each(|a| *a /= used as f64);
        }
        let s: f64 = acc.iter().sum();
        if s > 0.0 {
            acc.iter_mut().for_each(|a| *a /= s);
        }
        acc
    }

    /// The forest as a [`TreeEnsemble`] whose node values are class probabilities divided by the number of
    /// trees, so that the sum over trees is [`RandomForest::predict_proba`].
    pub fn tree_ensemble(&self) -> TreeEnsemble {
        TreeEnsemble::from_forest(self)
    }

    /// Exact path-dependent TreeSHAP values for every row and class (see [`TreeEnsemble::shap_values`]).
    pub fn shap_values(&self, x: ArrayView2<'_, f64>) -> Result<ShapValues> {
        let mut v = self.tree_ensemble().shap_values(x)?;
        v.classes = Some(self.classes.clone());
        Ok(v)
    }

    /// The forest in shap's custom-tree JSON form, `{"trees": [...]}`; see [`TreeEnsemble::to_shap_json`].
    pub fn to_shap_json(&self, feature_names: Option<&[String]>) -> Result<String> {
        let mut e = self.tree_ensemble();
        if let Some(names) = feature_names {
            e = e.with_feature_names(names.to_vec())?;
        }
        e.to_shap_json()
    }
}

impl Predict for RandomForest {
    type Error = ExplainError;

    /// Predicted labels: the most probable class per row (ties go to the smaller label).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        let p = self.predict_proba(x)?;
        Ok(p.outer_iter().map(|r| self.classes[argmax(r.as_slice().expect("standard layout"))]).collect())
    }
}
