//! The estimator contract every Outflow algorithm follows (in the spirit of linfa's `Fit` / `Predict`
//! and scikit-learn's estimator methods): parameters are fitted into a model named after the algorithm;
//! a model predicts labels, transforms rows or scores them. Each method has one meaning in every crate:
//!
//! | trait | method | meaning |
//! |---|---|---|
//! | [`Fit`] | `fit(x)` | learn from the rows of `x` (unsupervised) |
//! | [`FitSupervised`] | `fit(x, y)` | learn from rows and one label per row |
//! | [`Predict`] | `predict(x)` | one label per row (a cluster, −1 for noise; a class) |
//! | [`Transform`] | `transform(x)` | new features per row (scaling, projection) |
//! | [`ScoreSamples`] | `score_samples(x)` | anomaly score per row, higher = more anomalous |
//!
//! "Score" always means an anomaly score; a goodness-of-fit measure is named for what it measures
//! (`accuracy`, `inertia`, `silhouette`).

use ndarray::{Array2, ArrayView2};

use crate::error::InputError;

/// Parameters that learn a model from the rows of a matrix.
///
/// ```
/// use ndarray::{ArrayView2, array};
/// use outflow_core::{Fit, InputError, Predict, check_matrix};
///
/// /// Rows above a threshold of column 0.
/// struct SplitParams { at: f64 }
/// struct Split { at: f64 }
///
/// impl Fit for SplitParams {
///     type Fitted = Split;
///     type Error = InputError;
///     fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Split, InputError> {
///         check_matrix(x)?;
///         Ok(Split { at: self.at })
///     }
/// }
/// impl Predict for Split {
///     type Error = InputError;
///     fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>, InputError> {
///         Ok(x.rows().into_iter().map(|r| i64::from(r[0] > self.at)).collect())
///     }
/// }
/// let m = SplitParams { at: 1.0 }.fit(array![[0.0], [2.0]].view()).unwrap();
/// assert_eq!(m.predict(array![[3.0], [0.5]].view()).unwrap(), vec![1, 0]);
/// ```
pub trait Fit {
    /// The fitted model, named after the algorithm (`HdbscanParams` → `Hdbscan`).
    type Fitted;
    /// The crate's error; bad input is its [`InputError`] variant.
    type Error: std::error::Error + From<InputError>;

    /// Validates the parameters against the data, then fits.
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Self::Fitted, Self::Error>;
}

/// Parameters that learn a model from rows and one integer label per row (the surrogate trees).
pub trait FitSupervised {
    /// The fitted model.
    type Fitted;
    /// The crate's error; bad input is its [`InputError`] variant.
    type Error: std::error::Error + From<InputError>;

    /// Validates the parameters against the data and labels, then fits.
    fn fit(&self, x: ArrayView2<'_, f64>, y: &[i64]) -> Result<Self::Fitted, Self::Error>;
}

/// A fitted model that gives each new row a label.
pub trait Predict {
    /// The crate's error.
    type Error: std::error::Error + From<InputError>;

    /// One label per row of `x` (a cluster with −1 for noise, or a class).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>, Self::Error>;
}

/// A fitted model that maps rows to new features.
pub trait Transform {
    /// The crate's error.
    type Error: std::error::Error + From<InputError>;

    /// The transformed rows, one output row per input row.
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, Self::Error>;
}

/// A fitted model that scores how anomalous rows are.
pub trait ScoreSamples {
    /// The crate's error.
    type Error: std::error::Error + From<InputError>;

    /// One score per row of `x`; higher = more anomalous.
    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, Self::Error>;
}
