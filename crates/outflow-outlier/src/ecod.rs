//! ECOD (Li et al. 2022) and COPOD (Li et al. 2020), PyOD's formulas to the letter.
//!
//! Per feature `j` of the data `X`: left and right empirical CDFs `F_l(v) = #{x ≤ v}/n` and
//! `F_r(v) = #{x ≥ v}/n` (PyOD's `column_ecdf` of `X` and `−X`), tail probabilities
//! `U_l = −ln F_l`, `U_r = −ln F_r`, and the skewness correction `U_skew = U_l` for a negatively skewed
//! feature, `U_r` for a positively skewed one and `U_l + U_r` when the skewness is 0 or undefined
//! (scipy's biased `skew`, NaN → 0: PyOD computes `−U_l·sign(s − 1) + U_r·sign(s + 1)` with
//! `s = sign(skew)`). Per row and feature ECOD takes `max(U_skew, U_l, U_r)` and COPOD
//! `max(U_skew, (U_l + U_r)/2)`; the score is the sum over features.
//!
//! As in PyOD, the fitted model keeps the training rows, and scoring new rows recomputes the ECDFs and
//! skewness on the training rows *and the new batch together* (`np.concatenate((X_train, X))`), so a
//! new row's score depends on the rest of its batch. Features run in parallel; every row sums its
//! features in order (numpy's pairwise summation), so results do not depend on the number of threads.

use ndarray::{Array2, ArrayView2, Axis, concatenate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, ScoreSamples, check_matrix, check_query};

use crate::detector::OutlierModel;
use crate::error::{OutlierError, Result};

/// Which of the two empirical-CDF detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EcdfKind {
    /// ECOD: `max(U_skew, U_l, U_r)`.
    Ecod,
    /// COPOD: `max(U_skew, (U_l + U_r) / 2)`.
    Copod,
}

/// ECOD parameters (none: the method is parameter-free).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcodParams {}

impl EcodParams {
    /// Always valid.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// COPOD parameters (none: the method is parameter-free).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopodParams {}

impl CopodParams {
    /// Always valid.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// What a fitted ECOD or COPOD keeps: the training rows (new rows are scored together with them) and
/// the training scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ecdfs {
    /// ECOD or COPOD. Saved as `method`: `kind` is the tag of [`Model`](crate::Model).
    #[serde(rename = "method")]
    pub kind: EcdfKind,
    train: Array2<f64>,
    training_scores: Vec<f64>,
}

/// A fitted ECOD model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ecod(pub Ecdfs);

/// A fitted COPOD model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Copod(pub Ecdfs);

/// The per-cell outlier contributions `O` (n × d, row-major) of a matrix.
fn contributions(x: ArrayView2<'_, f64>, kind: EcdfKind) -> Vec<Vec<f64>> {
    let n = x.nrows();
    (0..x.ncols())
        .into_par_iter()
        .map(|j| {
            let col: Vec<f64> = x.column(j).to_vec();
            let order = outflow_core::stats::argsort_floats(&col);
            // #{x <= v} and #{x >= v} per row, via runs of equal values.
            let (mut left, mut right) = (vec![0usize; n], vec![0usize; n]);
            let mut s = 0;
            while s < n {
                let mut e = s + 1;
                while e < n && col[order[e]] == col[order[s]] {
                    e += 1;
                }
                for &r in &order[s..e] {
                    left[r] = e;
                    right[r] = n - s;
                }
                s = e;
            }
            let sign = skew_sign(&col);
            let nf = n as f64;
            (0..n)
                .map(|r| {
                    let ul = -(left[r] as f64 / nf).ln();
                    let ur = -(right[r] as f64 / nf).ln();
                    let uskew = if sign < 0 {
                        ul
                    } else if sign > 0 {
                        ur
                    } else {
                        ul + ur
                    };
                    match kind {
                        EcdfKind::Ecod => uskew.max(ul.max(ur)),
                        EcdfKind::Copod => uskew.max((ul + ur) / 2.0),
                    }
                })
                .collect()
        })
        .collect()
}

/// Sign of scipy's biased skewness (`m3 / m2^1.5`), 0 when scipy returns NaN (`m2 <= (eps·mean)²`).
fn skew_sign(col: &[f64]) -> i32 {
    use outflow_core::stats::pairwise_sum;
    let n = col.len() as f64;
    let mean = pairwise_sum(col) / n;
    let dev: Vec<f64> = col.iter().map(|v| v - mean).collect();
    let m2 = pairwise_sum(&dev.iter().map(|d| d * d).collect::<Vec<_>>()) / n;
    let m3 = pairwise_sum(&dev.iter().map(|d| d * d * d).collect::<Vec<_>>()) / n;
    if m2 <= (f64::EPSILON * mean).powi(2) || !m2.is_finite() {
        return 0;
    }
    let s = m3 / m2.powf(1.5);
    if s > 0.0 {
        1
    } else if s < 0.0 {
        -1
    } else {
        0
    }
}

/// Row sums of the contributions of rows `from..` (numpy's pairwise summation per row).
fn row_sums(o: &[Vec<f64>], n: usize, from: usize) -> Vec<f64> {
    (from..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(|r| {
            let row: Vec<f64> = o.iter().map(|c| c[r]).collect();
            outflow_core::stats::pairwise_sum(&row)
        })
        .collect()
}

fn fit_kind(x: ArrayView2<'_, f64>, kind: EcdfKind) -> Result<Ecdfs> {
    check_matrix(x)?;
    let o = contributions(x, kind);
    let training_scores = row_sums(&o, x.nrows(), 0);
    Ok(Ecdfs { kind, train: x.to_owned(), training_scores })
}

impl EcodParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        "ecod".into()
    }
}

impl Fit for EcodParams {
    type Fitted = Ecod;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Ecod> {
        fit_kind(x, EcdfKind::Ecod).map(Ecod)
    }
}

impl CopodParams {
    /// The detector's short name (`outflow benchmark`, configuration files).
    pub fn name(&self) -> String {
        "copod".into()
    }
}

impl Fit for CopodParams {
    type Fitted = Copod;
    type Error = OutlierError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Copod> {
        fit_kind(x, EcdfKind::Copod).map(Copod)
    }
}

impl OutlierModel for Ecdfs {
    fn training_scores(&self) -> &[f64] {
        &self.training_scores
    }

    fn n_features(&self) -> usize {
        self.train.ncols()
    }
}

impl ScoreSamples for Ecdfs {
    type Error = OutlierError;

    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        check_query(x, self.n_features())?;
        if x.nrows() == 0 {
            return Ok(Vec::new());
        }
        let all = concatenate(Axis(0), &[self.train.view(), x]).expect("same column count");
        let o = contributions(all.view(), self.kind);
        Ok(row_sums(&o, all.nrows(), self.train.nrows()))
    }
}

macro_rules! delegate {
    ($t:ty) => {
        impl OutlierModel for $t {
            fn training_scores(&self) -> &[f64] {
                self.0.training_scores()
            }

            fn n_features(&self) -> usize {
                self.0.n_features()
            }
        }

        impl ScoreSamples for $t {
            type Error = OutlierError;

            fn score_samples(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
                self.0.score_samples(x)
            }
        }
    };
}

delegate!(Ecod);
delegate!(Copod);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn tail_rows_score_highest() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [2.0, 5.0], [3.0, 5.0], [50.0, 5.0]];
        for m in [EcodParams {}.fit(x.view()).unwrap().0, CopodParams {}.fit(x.view()).unwrap().0] {
            let s = m.training_scores();
            assert!(s[4] >= s[0] && s[4] > s[1], "{s:?}");
            assert!(s.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
        // Positive skew: U_skew = U_r; the constant column contributes -ln(1) = 0 everywhere.
        let m = EcodParams {}.fit(x.view()).unwrap();
        assert!((m.training_scores()[4] - (5.0f64).ln()).abs() < 1e-12);
    }
}
