//! Principal component analysis as scikit-learn's `PCA` (1.9) computes it, on faer's decompositions.
//!
//! - Tall data (`p <= 1000` and `n >= 10 p`, scikit-learn's `covariance_eigh` case): eigendecomposition of
//!   the sample covariance (centred cross-products from [`Moments`]); negative eigenvalues clipped to 0.
//! - Otherwise: thin SVD of the centred data (scikit-learn's `full` solver).
//!
//! Signs follow scikit-learn's `svd_flip(u, v, u_based_decision=False)`: in every component the entry of
//! largest absolute value (the first one on a tie) is positive. Decompositions run sequentially
//! (`Par::Seq`), so results do not depend on the thread count.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::matmul;
use faer::linalg::{evd, svd};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{Fit, InputError, Transform, check_finite, check_width};

use crate::corr::{BLOCK_ROWS, Moments};
use crate::error::{PrepError, Result};

/// How many components to keep.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcaComponents {
    /// All `min(n, p)`.
    #[default]
    All,
    /// A fixed number.
    Count(usize),
    /// The fewest whose cumulative explained variance ratio reaches the fraction (`>=`:
    /// `argmax(cumsum >= f) + 1`; scikit-learn's float `n_components` uses `>`).
    Variance(f64),
}

/// PCA parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PcaParams {
    /// Components to keep.
    pub n_components: PcaComponents,
}

/// A fitted PCA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Feature means of the training data.
    pub mean: Vec<f64>,
    /// `k × p` principal axes (rows), scikit-learn's `components_`.
    pub components: Array2<f64>,
    /// Variance along each kept axis (ddof 1).
    pub explained_variance: Vec<f64>,
    /// Fraction of the total variance along each kept axis.
    pub explained_variance_ratio: Vec<f64>,
    /// Singular values of the centred data for the kept axes.
    pub singular_values: Vec<f64>,
    /// Explained variance ratios of all `min(n, p)` axes, whatever was kept.
    pub all_variance_ratio: Vec<f64>,
    /// Training rows.
    pub n_samples: usize,
}

/// The explained-variance profile: per component and cumulative, and the components needed for 80, 90 and 95 %.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcaSummary {
    /// Ratio of each axis, descending.
    pub explained_variance_ratio: Vec<f64>,
    /// Cumulative ratios.
    pub cumulative: Vec<f64>,
    /// Components for 80 % of the variance.
    pub components_80: usize,
    /// Components for 90 %.
    pub components_90: usize,
    /// Components for 95 %.
    pub components_95: usize,
}

impl PcaParams {
    /// Checks the component count or fraction.
    pub fn validate(&self) -> Result<()> {
        match self.n_components {
            PcaComponents::Count(0) => Err(PrepError::param("n_components", "PCA needs at least one component")),
            PcaComponents::Variance(f) if !(f > 0.0 && f <= 1.0) => {
                Err(PrepError::param("n_components", format!("variance fraction {f} is not in (0, 1]")))
            }
            _ => Ok(()),
        }
    }
}

impl Fit for PcaParams {
    type Fitted = Pca;
    type Error = PrepError;

    /// Fits on the rows of `x` (finite values, at least 2 rows and 1 column).
    ///
    /// ```
    /// use ndarray::array;
    /// use outflow_prep::{Fit, PcaParams};
    /// let x = array![[1.0, 2.0], [2.0, 4.1], [3.0, 5.9], [4.0, 8.0]];
    /// let p = PcaParams::default().fit(x.view()).unwrap();
    /// assert!(p.explained_variance_ratio[0] > 0.99);
    /// assert!(p.components[[0, 1]] > 0.0); // largest loading positive
    /// assert_eq!(p.summary().components_95, 1);
    /// ```
    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Pca> {
        self.validate()?;
        let (n, p) = x.dim();
        if n < 2 {
            return Err(InputError::too_few_rows("PCA", 2, n).into());
        }
        if p == 0 {
            return Err(InputError::Empty { rows: n, cols: p }.into());
        }
        check_finite(x)?;
        let k_max = n.min(p);
        let (mean, vt, ev, sv) = if p <= 1000 && n >= 10 * p {
            let m = Moments::of(x)?;
            let (vt, ev) = covariance_eigh(&m)?;
            let sv = ev.iter().map(|e| (e * (n - 1) as f64).sqrt()).collect();
            (m.mean, vt, ev, sv)
        } else {
            full_svd(x)?
        };
        let total: f64 = ev.iter().sum();
        if total.is_nan() || total <= 0.0 {
            return Err(PrepError::NoFeatures("PCA: every feature is constant (no variance)".into()));
        }
        let ratio: Vec<f64> = ev.iter().map(|e| e / total).collect();
        let k = match self.n_components {
            PcaComponents::All => k_max,
            PcaComponents::Count(c) if c > k_max => {
                return Err(PrepError::param(
                    "n_components",
                    format!("{c} components asked, at most {k_max} possible"),
                ));
            }
            PcaComponents::Count(c) => c,
            PcaComponents::Variance(f) => components_for(&ratio, f),
        };
        Ok(Pca {
            mean,
            components: vt.slice(ndarray::s![..k, ..]).to_owned(),
            explained_variance: ev[..k].to_vec(),
            explained_variance_ratio: ratio[..k].to_vec(),
            singular_values: sv[..k].to_vec(),
            all_variance_ratio: ratio,
            n_samples: n,
        })
    }
}

/// The fewest leading ratios whose running sum reaches `fraction` (all of them if it never does).
fn components_for(ratio: &[f64], fraction: f64) -> usize {
    let mut acc = 0.0;
    for (i, r) in ratio.iter().enumerate() {
        acc += r;
        if acc >= fraction {
            return i + 1;
        }
    }
    ratio.len()
}

impl Pca {
    /// Number of kept components.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Components needed to explain `fraction` of the variance (cumulative ratio `>=` the fraction, over all axes).
    pub fn components_for(&self, fraction: f64) -> usize {
        components_for(&self.all_variance_ratio, fraction)
    }

    /// Ratios, cumulative ratios and the 80 / 90 / 95 % component counts.
    pub fn summary(&self) -> PcaSummary {
        let mut acc = 0.0;
        let cumulative = self
            .all_variance_ratio
            .iter()
            .map(|r| {
                acc += r;
                acc
            })
            .collect();
        PcaSummary {
            explained_variance_ratio: self.all_variance_ratio.clone(),
            cumulative,
            components_80: self.components_for(0.80),
            components_90: self.components_for(0.90),
            components_95: self.components_for(0.95),
        }
    }
}

impl Transform for Pca {
    type Error = PrepError;

    /// Projects rows onto the kept axes: `(x - mean) · componentsᵀ`.
    fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let (n, p) = x.dim();
        check_width(p, self.mean.len())?;
        let k = self.n_components();
        // Fixed row blocks, each a sequential matmul: deterministic whatever the thread count.
        let comp: Vec<f64> = self.components.t().iter().copied().collect(); // p × k row-major = k × p col-major
        let comp = MatRef::from_column_major_slice(&comp, k, p);
        let blocks: Vec<Vec<f64>> = (0..n.div_ceil(BLOCK_ROWS))
            .into_par_iter()
            .map(|b| {
                let rows = b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n);
                let m = rows.len();
                let mut buf = vec![0.0; m * p];
                for (r, i) in rows.enumerate() {
                    for j in 0..p {
                        buf[j * m + r] = x[[i, j]] - self.mean[j];
                    }
                }
                let mut out = vec![0.0; m * k];
                let c = MatRef::from_column_major_slice(&buf, m, p);
                let dst = MatMut::from_column_major_slice_mut(&mut out, m, k);
                matmul(dst, Accum::Replace, c, comp.transpose(), 1.0, Par::Seq);
                out
            })
            .collect();
        let mut y = Array2::<f64>::zeros((n, k));
        for (b, out) in blocks.iter().enumerate() {
            let m = out.len() / k.max(1);
            for r in 0..m {
                for c in 0..k {
                    y[[b * BLOCK_ROWS + r, c]] = out[c * m + r];
                }
            }
        }
        Ok(y)
    }
}

/// Eigendecomposition of the sample covariance: (Vt, explained variance), both descending.
fn covariance_eigh(m: &Moments) -> Result<(Array2<f64>, Vec<f64>)> {
    let p = m.mean.len();
    let cov = m.covariance(1)?;
    let a = Mat::<f64>::from_fn(p, p, |i, j| cov[[i, j]]);
    let mut s = Diag::<f64>::zeros(p);
    let mut u = Mat::<f64>::zeros(p, p);
    let par = Par::Seq;
    let mut mem =
        MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(p, evd::ComputeEigenvectors::Yes, par, Default::default()));
    evd::self_adjoint_evd(a.as_ref(), s.as_mut(), Some(u.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|e| PrepError::Linalg(format!("eigendecomposition: {e:?}")))?;
    // Ascending from faer; reverse, clip rounding negatives as scikit-learn does.
    let ev: Vec<f64> = (0..p).rev().map(|i| s[i].max(0.0)).collect();
    let mut vt = Array2::<f64>::from_shape_fn((p, p), |(r, c)| u[(c, p - 1 - r)]);
    flip_signs(&mut vt);
    Ok((vt, ev))
}

/// Thin SVD of the centred data: (mean, Vt, explained variance, singular values).
#[allow(clippy::type_complexity)]
fn full_svd(x: ArrayView2<'_, f64>) -> Result<(Vec<f64>, Array2<f64>, Vec<f64>, Vec<f64>)> {
    let (n, p) = x.dim();
    let mean: Vec<f64> = (0..p).map(|j| outflow_core::stats::pairwise_sum(&x.column(j).to_vec()) / n as f64).collect();
    let a = Mat::<f64>::from_fn(n, p, |i, j| x[[i, j]] - mean[j]);
    let k = n.min(p);
    let mut s = Diag::<f64>::zeros(k);
    let mut v = Mat::<f64>::zeros(p, k);
    let par = Par::Seq;
    let mut mem = MemBuffer::new(svd::svd_scratch::<f64>(
        n,
        p,
        svd::ComputeSvdVectors::No,
        svd::ComputeSvdVectors::Thin,
        par,
        Default::default(),
    ));
    svd::svd(a.as_ref(), s.as_mut(), None, Some(v.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|e| PrepError::Linalg(format!("SVD: {e:?}")))?;
    // faer returns singular values in non-increasing order.
    let sv: Vec<f64> = (0..k).map(|i| s[i]).collect();
    let ev: Vec<f64> = sv.iter().map(|s| s * s / (n - 1) as f64).collect();
    let mut vt = Array2::<f64>::from_shape_fn((k, p), |(r, c)| v[(c, r)]);
    flip_signs(&mut vt);
    Ok((mean, vt, ev, sv))
}

/// scikit-learn's `svd_flip(..., u_based_decision=False)`: make each row's largest |entry| positive.
fn flip_signs(vt: &mut Array2<f64>) {
    for mut row in vt.rows_mut() {
        let mut best = 0;
        for (j, v) in row.iter().enumerate() {
            if v.abs() > row[best].abs() {
                best = j;
            }
        }
        if row[best] < 0.0 {
            row.mapv_inplace(|v| -v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn both_solvers_agree() {
        let x = Array2::from_shape_fn((40, 3), |(i, j)| {
            let t = i as f64;
            [t.sin() * 3.0, t.cos() + 0.1 * t, (t * 0.7).sin() * 0.5 + t * 0.01][j]
        });
        let tall = PcaParams::default().fit(x.view()).unwrap(); // 40 >= 30: covariance
        let wide = PcaParams::default().fit(x.slice(ndarray::s![..20, ..])).unwrap(); // SVD
        assert_eq!(tall.n_components(), 3);
        assert_eq!(wide.n_components(), 3);
        // Same data through the SVD path: compare by duplicating rows past the covariance threshold.
        let svd = full_svd(x.view()).unwrap();
        for (a, b) in svd.2.iter().zip(&tall.explained_variance) {
            assert!((a - b).abs() < 1e-10 * b.max(1.0));
        }
        for (a, b) in svd.1.iter().zip(tall.components.iter()) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        let y = tall.transform(x.view()).unwrap();
        assert_eq!(y.dim(), (40, 3));
    }

    #[test]
    fn counts_and_errors() {
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        assert!(PcaParams { n_components: PcaComponents::Count(3) }.fit(x.view()).is_err());
        assert!(PcaParams { n_components: PcaComponents::Variance(0.0) }.validate().is_err());
        assert!(PcaParams::default().fit(array![[1.0, 2.0]].view()).is_err());
        assert!(PcaParams::default().fit(array![[1.0, 2.0], [1.0, 2.0]].view()).is_err());
        assert_eq!(components_for(&[0.5, 0.3, 0.2], 0.8), 2);
        assert_eq!(components_for(&[0.5, 0.3, 0.2], 0.81), 3);
        let f = PcaParams { n_components: PcaComponents::Count(1) }.fit(x.view()).unwrap();
        assert!(matches!(f.transform(array![[1.0]].view()), Err(PrepError::Input(InputError::WidthMismatch { .. }))));
    }
}
