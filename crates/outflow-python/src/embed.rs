//! t-SNE and the trustworthiness of an embedding on numpy arrays.

use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;

use outflow::embed::{Fit, TsneParams};

use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tsne_fit, m)?)?;
    m.add_function(wrap_pyfunction!(trustworthiness, m)?)?;
    Ok(())
}

/// Fits t-SNE to `x` with the JSON of `TsneParams`: the embedding, the final KL divergence, the last
/// iteration's index and the learning rate used.
#[pyfunction]
fn tsne_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'_, f64>,
    params: &str,
) -> PyResult<(Bound<'py, PyArray2<f64>>, f64, usize, f64)> {
    let params: TsneParams = serde_json::from_str(params).map_err(|e| errors::params("t-SNE parameters", e))?;
    let x = x.as_array();
    let fit = py.detach(|| params.fit(x)).map_err(errors::embed)?;
    Ok((fit.embedding.into_pyarray(py), fit.kl_divergence, fit.n_iter, fit.learning_rate))
}

/// scikit-learn's `trustworthiness` (Euclidean), exact.
#[pyfunction]
fn trustworthiness(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    embedding: PyReadonlyArray2<'_, f64>,
    n_neighbors: usize,
) -> PyResult<f64> {
    let (x, e) = (x.as_array(), embedding.as_array());
    py.detach(|| outflow::embed::trustworthiness(x, e, n_neighbors)).map_err(errors::embed)
}
