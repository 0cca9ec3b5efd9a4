//! Per-feature scalers with scikit-learn's definitions: [`RobustScalerParams`] (median / IQR, the default:
//! flow features are heavy-tailed), [`StandardScalerParams`] and [`MinMaxScalerParams`].

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::stats::{median_and_quantiles, pairwise_sum};
use outflow_core::{Fit, Transform, check_matrix, check_width};

use crate::error::{PrepError, Result};

/// Scales below this count as zero and become 1 (scikit-learn's `_handle_zeros_in_scale`).
const ZERO_SCALE: f64 = 10.0 * f64::EPSILON;

/// Centre on the median, divide by the inter-quantile range (`sklearn.preprocessing.RobustScalerParams`).
/// A zero range gives scale 1. Quantiles are numpy's linear ones, at `quantile_range / 100`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustScalerParams {
    /// Lower and upper percentile, `0 <= lo <= hi <= 100` (default 25, 75).
    pub quantile_range: [f64; 2],
    /// Subtract the median.
    pub with_centering: bool,
    /// Divide by the range.
    pub with_scaling: bool,
}

impl Default for RobustScalerParams {
    fn default() -> Self {
        RobustScalerParams { quantile_range: [25.0, 75.0], with_centering: true, with_scaling: true }
    }
}

/// Centre on the mean, divide by the population standard deviation (`StandardScalerParams`, ddof 0);
/// a constant feature gets scale 1. Sums run over the sorted values (pairwise), so the fit does not
/// depend on the row order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StandardScalerParams {
    /// Subtract the mean.
    pub with_mean: bool,
    /// Divide by the standard deviation.
    pub with_std: bool,
}

impl Default for StandardScalerParams {
    fn default() -> Self {
        StandardScalerParams { with_mean: true, with_std: true }
    }
}

/// Map `[min, max]` of each feature onto `feature_range` (`MinMaxScalerParams`); a constant feature is only
/// shifted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinMaxScalerParams {
    /// Target range, `lo < hi` (default 0, 1).
    pub feature_range: [f64; 2],
    /// Clip transformed values of new data to the range.
    pub clip: bool,
}

impl Default for MinMaxScalerParams {
    fn default() -> Self {
        MinMaxScalerParams { feature_range: [0.0, 1.0], clip: false }
    }
}

/// Which scaler a pipeline uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScalerParams {
    /// [`RobustScalerParams`] (default).
    Robust(RobustScalerParams),
    /// [`StandardScalerParams`].
    Standard(StandardScalerParams),
    /// [`MinMaxScalerParams`].
    MinMax(MinMaxScalerParams),
    /// No scaling.
    None,
}

impl Default for ScalerParams {
    fn default() -> Self {
        ScalerParams::Robust(RobustScalerParams::default())
    }
}

/// A fitted scaler: `x' = (x - offset) * multiplier` per feature, stored the way scikit-learn applies it
/// so that results agree to the last bit where possible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scaler {
    /// `(x - center) / scale`.
    Robust {
        /// Medians (0 without centring).
        center: Vec<f64>,
        /// Inter-quantile ranges, zeros replaced by 1 (1 without scaling).
        scale: Vec<f64>,
    },
    /// `(x - mean) / scale`.
    Standard {
        /// Means (0 without centring).
        mean: Vec<f64>,
        /// Population standard deviations, zeros replaced by 1 (1 without scaling).
        scale: Vec<f64>,
    },
    /// `x * scale + min`, then clipped to `clip` if set.
    MinMax {
        /// `(hi - lo) / (data_max - data_min)`.
        scale: Vec<f64>,
        /// `lo - data_min * scale`.
        min: Vec<f64>,
        /// Clip range.
        clip: Option<[f64; 2]>,
    },
    /// The identity on `n_features` features.
    Identity {
        /// Number of features.
        n_features: usize,
    },
}

impl RobustScalerParams {
    /// Checks `0 <= lo <= hi <= 100`.
    pub fn validate(&self) -> Result<()> {
        let [lo, hi] = self.quantile_range;
        if !(0.0 <= lo && lo <= hi && hi <= 100.0) {
            return Err(PrepError::param("quantile_range", format!("[{lo}, {hi}] is not 0 <= lo <= hi <= 100")));
        }
        Ok(())
    }
}

impl Fit for RobustScalerParams {
    type Fitted = Scaler;
    type Error = PrepError;

    /// Fits on the rows of `x` (all values finite, at least one row).
    ///
    /// ```
    /// use ndarray::array;
    /// use outflow_prep::{Fit, RobustScalerParams, Transform};
    /// let x = array![[1.0], [2.0], [3.0], [4.0], [100.0]];
    /// let s = RobustScalerParams::default().fit(x.view()).unwrap();
    /// assert_eq!(s.transform(x.view()).unwrap()[[4, 0]], 48.5); // (100 - 3) / (4 - 2)
    /// ```
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Scaler> {
        self.validate()?;
        check_input(x)?;
        let [lo, hi] = self.quantile_range;
        let cols: Vec<(f64, f64)> = (0..x.ncols())
            .into_par_iter()
            .map(|j| {
                let mut v = x.column(j).to_vec();
                // Linear-time selection of the needed order statistics, same values as sorting.
                let (median, q) = median_and_quantiles(&mut v, &[lo / 100.0, hi / 100.0]);
                let center = if self.with_centering { median } else { 0.0 };
                let scale = if self.with_scaling {
                    let s = q[1] - q[0];
                    if s < ZERO_SCALE { 1.0 } else { s }
                } else {
                    1.0
                };
                (center, scale)
            })
            .collect();
        let (center, scale) = cols.into_iter().unzip();
        Ok(Scaler::Robust { center, scale })
    }
}

impl StandardScalerParams {
    /// Nothing to check; kept for a uniform API.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl Fit for StandardScalerParams {
    type Fitted = Scaler;
    type Error = PrepError;

    /// Fits on the rows of `x` (all values finite, at least one row).
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Scaler> {
        check_input(x)?;
        let n = x.nrows() as f64;
        let cols: Vec<(f64, f64)> = (0..x.ncols())
            .into_par_iter()
            .map(|j| {
                // Summing the sorted values makes the fit independent of the row order, bit for bit.
                let mut v = x.column(j).to_vec();
                outflow_core::stats::sort_floats(&mut v);
                let mean = pairwise_sum(&v) / n;
                // Two-pass variance with the correction term, as scikit-learn's `_incremental_mean_and_var`.
                let d: Vec<f64> = v.iter().map(|x| x - mean).collect();
                let correction = pairwise_sum(&d);
                let sq: Vec<f64> = d.iter().map(|x| x * x).collect();
                let var = ((pairwise_sum(&sq) - correction * correction / n) / n).max(0.0);
                // scikit-learn's `_is_constant_feature`: below the error bound of the two-pass algorithm.
                let eps = f64::EPSILON;
                let constant = var <= n * eps * var + (n * mean * eps).powi(2);
                let scale = if !self.with_std || constant { 1.0 } else { var.sqrt() };
                (if self.with_mean { mean } else { 0.0 }, scale)
            })
            .collect();
        let (mean, scale) = cols.into_iter().unzip();
        Ok(Scaler::Standard { mean, scale })
    }
}

impl MinMaxScalerParams {
    /// Checks `lo < hi`, both finite.
    pub fn validate(&self) -> Result<()> {
        let [lo, hi] = self.feature_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(PrepError::param("feature_range", format!("[{lo}, {hi}] is not lo < hi")));
        }
        Ok(())
    }
}

impl Fit for MinMaxScalerParams {
    type Fitted = Scaler;
    type Error = PrepError;

    /// Fits on the rows of `x` (all values finite, at least one row).
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Scaler> {
        self.validate()?;
        check_input(x)?;
        let [lo, hi] = self.feature_range;
        let (scale, min) = (0..x.ncols())
            .map(|j| {
                let c = x.column(j);
                let dmin = c.iter().copied().fold(f64::INFINITY, f64::min);
                let dmax = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let range = dmax - dmin;
                let scale = (hi - lo) / if range < ZERO_SCALE { 1.0 } else { range };
                (scale, lo - dmin * scale)
            })
            .unzip();
        Ok(Scaler::MinMax { scale, min, clip: self.clip.then_some(self.feature_range) })
    }
}

impl ScalerParams {
    /// Validates the chosen scaler's parameters.
    pub fn validate(&self) -> Result<()> {
        match self {
            ScalerParams::Robust(s) => s.validate(),
            ScalerParams::Standard(s) => s.validate(),
            ScalerParams::MinMax(s) => s.validate(),
            ScalerParams::None => Ok(()),
        }
    }

    /// The scaler's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            ScalerParams::Robust(_) => "robust",
            ScalerParams::Standard(_) => "standard",
            ScalerParams::MinMax(_) => "min_max",
            ScalerParams::None => "none",
        }
    }
}

impl Fit for ScalerParams {
    type Fitted = Scaler;
    type Error = PrepError;

    /// Fits the chosen scaler.
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Scaler> {
        match self {
            ScalerParams::Robust(s) => s.fit(x),
            ScalerParams::Standard(s) => s.fit(x),
            ScalerParams::MinMax(s) => s.fit(x),
            ScalerParams::None => {
                check_input(x)?;
                Ok(Scaler::Identity { n_features: x.ncols() })
            }
        }
    }
}

impl Scaler {
    /// Number of features it was fitted on.
    pub fn n_features(&self) -> usize {
        match self {
            Scaler::Robust { scale, .. } | Scaler::Standard { scale, .. } => scale.len(),
            Scaler::MinMax { scale, .. } => scale.len(),
            Scaler::Identity { n_features } => *n_features,
        }
    }

    /// Scales `x` in place.
    pub fn transform_inplace(&self, mut x: ArrayViewMut2<'_, f64>) -> Result<()> {
        check_width(x.ncols(), self.n_features())?;
        map_rows(x.view_mut(), |row| self.scale_row(row));
        Ok(())
    }

    /// Scales one row in place (the same arithmetic as [`Scaler::apply`], one dispatch per row).
    #[inline]
    fn scale_row(&self, row: &mut [f64]) {
        match self {
            Scaler::Robust { center, scale } | Scaler::Standard { mean: center, scale } => {
                for ((v, c), s) in row.iter_mut().zip(center).zip(scale) {
                    *v = (*v - c) / s;
                }
            }
            Scaler::MinMax { scale, min, clip } => {
                for ((v, s), m) in row.iter_mut().zip(scale).zip(min) {
                    let y = *v * s + m;
                    *v = match clip {
                        Some([lo, hi]) => y.clamp(*lo, *hi),
                        None => y,
                    };
                }
            }
            Scaler::Identity { .. } => {}
        }
    }

    /// Scales one value of feature `j`.
    #[inline]
    pub fn apply(&self, j: usize, v: f64) -> f64 {
        match self {
            Scaler::Robust { center, scale } => (v - center[j]) / scale[j],
            Scaler::Standard { mean, scale } => (v - mean[j]) / scale[j],
            Scaler::MinMax { scale, min, clip } => {
                let y = v * scale[j] + min[j];
                match clip {
                    Some([lo, hi]) => y.clamp(*lo, *hi),
                    None => y,
                }
            }
            Scaler::Identity { .. } => v,
        }
    }

    /// The factor each feature is multiplied by (for covariances of scaled data).
    pub fn multipliers(&self) -> Vec<f64> {
        match self {
            Scaler::Robust { scale, .. } | Scaler::Standard { scale, .. } => scale.iter().map(|s| 1.0 / s).collect(),
            Scaler::MinMax { scale, .. } => scale.clone(),
            Scaler::Identity { n_features } => vec![1.0; *n_features],
        }
    }
}

impl Transform for Scaler {
    type Error = PrepError;

    /// Scales a copy of `x` (any values; non-finite ones stay non-finite).
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_width(x.ncols(), self.n_features())?;
        match x.as_slice() {
            // Row-major input: read once, write once into a fresh array (no copy-then-scale pass).
            Some(src) if x.ncols() > 0 => {
                let p = x.ncols();
                let mut out = Array2::<f64>::zeros(x.raw_dim());
                let dst = out.as_slice_mut().expect("a new array is contiguous");
                dst.par_chunks_mut(p * 1024).zip(src.par_chunks(p * 1024)).for_each(|(d, s)| {
                    d.copy_from_slice(s);
                    d.chunks_mut(p).for_each(|row| self.scale_row(row));
                });
                Ok(out)
            }
            _ => {
                let mut out = x.to_owned();
                self.transform_inplace(out.view_mut())?;
                Ok(out)
            }
        }
    }
}

/// Applies `f` to every row: in parallel over fixed chunks of a row-major array, else sequentially.
fn map_rows(mut x: ArrayViewMut2<'_, f64>, f: impl Fn(&mut [f64]) + Sync) {
    let p = x.ncols();
    if p == 0 {
        return;
    }
    if let Some(flat) = x.as_slice_mut() {
        flat.par_chunks_mut(p * 1024).for_each(|rows| rows.chunks_mut(p).for_each(&f));
    } else {
        let mut buf = vec![0.0; p];
        for mut row in x.axis_iter_mut(Axis(0)) {
            buf.iter_mut().zip(row.iter()).for_each(|(b, v)| *b = *v);
            f(&mut buf);
            row.iter_mut().zip(&buf).for_each(|(v, b)| *v = *b);
        }
    }
}

fn check_input(x: ArrayView2<'_, f64>) -> Result<()> {
    Ok(check_matrix(x)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use outflow_core::InputError;

    #[test]
    fn zero_spread_gives_scale_one() {
        let x = array![[5.0, 1.0], [5.0, 2.0], [5.0, 3.0]];
        let Scaler::Robust { center, scale } = RobustScalerParams::default().fit(x.view()).unwrap() else { panic!() };
        assert_eq!((center[0], scale[0]), (5.0, 1.0));
        let Scaler::Standard { scale, .. } = StandardScalerParams::default().fit(x.view()).unwrap() else { panic!() };
        assert_eq!(scale[0], 1.0);
        let m = MinMaxScalerParams::default().fit(x.view()).unwrap();
        assert_eq!(m.transform(x.view()).unwrap()[[1, 1]], 0.5);
        assert_eq!(m.transform(x.view()).unwrap()[[0, 0]], 0.0);
    }

    #[test]
    fn errors() {
        let x = array![[1.0, f64::INFINITY]];
        assert!(matches!(
            RobustScalerParams::default().fit(x.view()),
            Err(PrepError::Input(InputError::NonFinite { col: 1, .. }))
        ));
        let e = Array2::<f64>::zeros((0, 2));
        assert!(matches!(
            StandardScalerParams::default().fit(e.view()),
            Err(PrepError::Input(InputError::Empty { .. }))
        ));
        assert!(RobustScalerParams { quantile_range: [80.0, 20.0], ..Default::default() }.validate().is_err());
        assert!(MinMaxScalerParams { feature_range: [1.0, 1.0], clip: false }.validate().is_err());
        let s = StandardScalerParams::default().fit(array![[1.0], [2.0]].view()).unwrap();
        assert!(matches!(
            s.transform(array![[1.0, 2.0]].view()),
            Err(PrepError::Input(InputError::WidthMismatch { .. }))
        ));
    }
}
