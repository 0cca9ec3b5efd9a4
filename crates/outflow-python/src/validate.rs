//! Validation indices on numpy arrays: DBCV, silhouette, Davies–Bouldin, Calinski–Harabasz, Hopkins.
//! Noise rows (negative labels) are left out of every labelled index, as in the Rust crate.

use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use outflow_cluster::Metric;
use outflow_validate::{HopkinsParams, SilhouetteParams};

use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(dbcv, m)?)?;
    m.add_function(wrap_pyfunction!(silhouette_score, m)?)?;
    m.add_function(wrap_pyfunction!(davies_bouldin_score, m)?)?;
    m.add_function(wrap_pyfunction!(calinski_harabasz_score, m)?)?;
    m.add_function(wrap_pyfunction!(hopkins, m)?)?;
    Ok(())
}

fn metric(name: &str) -> PyResult<Metric> {
    name.parse().map_err(errors::cluster)
}

fn labels_of<'a>(labels: &'a PyReadonlyArray1<'_, i64>) -> PyResult<std::borrow::Cow<'a, [i64]>> {
    Ok(match labels.as_slice() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(labels.as_array().to_vec()),
    })
}

/// Density-based clustering validation (Moulavi et al.): the index in `[−1, 1]`, noise counted in `N`.
#[pyfunction]
#[pyo3(signature = (x, labels, metric = "euclidean"))]
fn dbcv(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
    metric: &str,
) -> PyResult<f64> {
    let (metric, x, labels) = (self::metric(metric)?, x.as_array(), labels_of(&labels)?);
    let found = py.detach(|| outflow_validate::dbcv(x, &labels, metric)).map_err(errors::validate)?;
    Ok(found.value)
}

/// Mean silhouette of the non-noise rows, exact; `sample_size` scores a seeded sample of them.
#[pyfunction]
#[pyo3(signature = (x, labels, metric = "euclidean", sample_size = None, seed = 0))]
fn silhouette_score(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
    metric: &str,
    sample_size: Option<usize>,
    seed: u64,
) -> PyResult<f64> {
    let params = SilhouetteParams { metric: self::metric(metric)?, sample_size, seed };
    let (x, labels) = (x.as_array(), labels_of(&labels)?);
    let found = py.detach(|| outflow_validate::silhouette(x, &labels, &params)).map_err(errors::validate)?;
    Ok(found.score)
}

/// Davies–Bouldin index of the non-noise rows (lower is better).
#[pyfunction]
fn davies_bouldin_score(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let (x, labels) = (x.as_array(), labels_of(&labels)?);
    let found = py.detach(|| outflow_validate::davies_bouldin(x, &labels)).map_err(errors::validate)?;
    Ok(found.value)
}

/// Calinski–Harabasz index of the non-noise rows (higher is better).
#[pyfunction]
fn calinski_harabasz_score(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    labels: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let (x, labels) = (x.as_array(), labels_of(&labels)?);
    let found = py.detach(|| outflow_validate::calinski_harabasz(x, &labels)).map_err(errors::validate)?;
    Ok(found.value)
}

/// Hopkins statistic (≈ 0.5 uniform, → 1 clustered) with exponent `d` and with exponent 1.
#[pyfunction]
#[pyo3(signature = (x, sample_size = None, seed = 0))]
fn hopkins(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    sample_size: Option<usize>,
    seed: u64,
) -> PyResult<(f64, f64)> {
    let params = HopkinsParams { sample_size, seed };
    let x = x.as_array();
    let found = py.detach(|| outflow_validate::hopkins(x, &params)).map_err(errors::validate)?;
    Ok((found.statistic, found.statistic_linear))
}
