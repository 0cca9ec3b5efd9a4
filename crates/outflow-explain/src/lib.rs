//! # outflow-explain
//!
//! Explains *any* labelling of flows — typically cluster ids from density-based clustering, `-1` for
//! noise — with a surrogate model, exactly and fast:
//!
//! - **Trees** ([`DecisionTreeParams`], [`RandomForestParams`]): CART classifiers on Gini impurity and
//!   random forests (bootstrap, `max_features`, balanced class weights), seeded with ChaCha8, grown in
//!   parallel with identical results for any number of threads. Split thresholds, node numbering and
//!   probabilities follow scikit-learn; every node keeps its class distribution and sample weight.
//! - **Fidelity** ([`classification_report`]): accuracy and per-class precision / recall / F1 / support.
//! - **Importances**: Gini ([`RandomForest::feature_importances`]) and permutation
//!   ([`permutation_importance`]).
//! - **TreeSHAP** ([`TreeEnsemble::shap_values`]): exact path-dependent SHAP values for every row and
//!   class, parallel over rows; `expected_value + Σ φ = predict_proba` to rounding. Forests export to (and
//!   import from) the shap package's custom-tree JSON ([`TreeEnsemble::to_shap_json`]), and the values
//!   equal shap's `TreeExplainer` on that export.
//! - **Profiles** ([`profile_clusters`], [`compare_severity`]): per-cluster counts and medians of the
//!   original features, a configurable rule list for a first interpretation, and normal-vs-severe feature
//!   shifts by outlier score.
//! - [`explain`] runs all of it, as `outflow explain` does.
//!
//! ```
//! use ndarray::Array2;
//! use outflow_explain::{FitSupervised, Predict, RandomForestParams, classification_report};
//!
//! // label = x0 > 0.5; x1 is noise.
//! let x = Array2::from_shape_fn((200, 2), |(i, j)| if j == 0 { i as f64 / 200.0 } else { ((i * 37) % 11) as f64 });
//! let y: Vec<i64> = (0..200).map(|i| if i >= 101 { 1 } else { -1 }).collect();
//! let params = RandomForestParams { n_estimators: 20, max_depth: Some(4), seed: 7, ..Default::default() };
//! let forest = params.fit(x.view(), &y).unwrap();
//! assert!(forest.accuracy(x.view(), &y).unwrap() > 0.99);
//! let report = classification_report(&y, &forest.predict(x.view()).unwrap()).unwrap();
//! assert_eq!(report.classes.len(), 2);
//!
//! let shap = forest.shap_values(x.view()).unwrap();
//! let proba = forest.predict_proba(x.view()).unwrap();
//! for c in 0..2 {
//!     let total = shap.expected_value[c] + shap.values[[150, 0, c]] + shap.values[[150, 1, c]];
//!     assert!((total - proba[[150, c]]).abs() < 1e-9);
//! }
//! // The export loads in Python's shap: TreeExplainer({"trees": [...]}).
//! let json = forest.to_shap_json(None).unwrap();
//! assert!(json.starts_with("{\"trees\":[{\"children_left\":"));
//! ```

#![warn(missing_docs)]

mod data;
mod error;
mod forest;
mod importance;
mod input;
mod metrics;
mod profile;
mod report;
mod shap;
mod tree;

pub use crate::error::{ExplainError, Result};
pub use crate::forest::{RandomForest, RandomForestParams};
pub use crate::importance::{PermutationImportance, PermutationParams, permutation_importance};
pub use crate::input::{FeatureMatrix, feature_matrix, labels_from_table, scores_from_table};
pub use crate::metrics::{AverageMetrics, ClassMetrics, ClassificationReport, classification_report};
pub use crate::profile::{
    ClusterProfile, Condition, FeatureShift, Measure, ProfileColumns, ProfileParams, Profiles, Rule,
    SeverityComparison, SeverityParams, ShiftRanking, compare_severity, default_rules, profile_clusters,
};
pub use crate::report::{ExplainParams, Explanation, ExplanationSummary, FeatureSummary, explain};
pub use crate::shap::{ShapTree, ShapValues, TreeEnsemble};
pub use crate::tree::{ClassWeight, DecisionTree, DecisionTreeParams, MaxFeatures, TREE_LEAF, TREE_UNDEFINED};
pub use outflow_core::{FitSupervised, InputError, Predict};
