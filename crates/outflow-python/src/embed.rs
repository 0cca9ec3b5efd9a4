//! UMAP, t-SNE and the trustworthiness of an embedding on numpy arrays.

use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use outflow::embed::{Fit, Transform, TsneParams, Umap, UmapParams};

use crate::cluster::{model_bytes, model_from_bytes};
use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<UmapModel>()?;
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

/// A fitted UMAP: its embedding and the `transform` of new rows.
#[pyclass(module = "outflow._outflow", frozen)]
pub struct UmapModel {
    inner: Umap,
}

#[pymethods]
impl UmapModel {
    /// Pickling: the class's `from_bytes` with the model's bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let bytes = model_bytes(slf.py(), &slf.get().inner);
        Ok((slf.get_type().getattr("from_bytes")?, (bytes,)))
    }

    /// Fits `x` (float64, 2-D) with the JSON of `UmapParams`.
    #[staticmethod]
    fn fit(py: Python<'_>, x: PyReadonlyArray2<'_, f64>, params: &str) -> PyResult<Self> {
        let params: UmapParams = serde_json::from_str(params).map_err(|e| errors::params("UMAP parameters", e))?;
        let x = x.as_array();
        let inner = py.detach(|| params.fit(x)).map_err(errors::embed)?;
        Ok(UmapModel { inner })
    }

    /// The embedding of the training rows.
    #[getter]
    fn embedding<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.embedding.to_pyarray(py)
    }

    /// The curve `1 / (1 + a·d^(2b))`: `(a, b)`.
    #[getter]
    fn curve(&self) -> (f64, f64) {
        self.inner.curve()
    }

    /// The positions of new rows in the map.
    fn transform<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'_, f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = x.as_array();
        let out = py.detach(|| self.inner.transform(x)).map_err(errors::embed)?;
        Ok(out.into_pyarray(py))
    }

    /// The model as bytes (JSON).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        model_bytes(py, &self.inner)
    }

    /// A model from [`UmapModel::to_bytes`], checked (parameters, shapes, finite rows) while read.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        Ok(UmapModel { inner: model_from_bytes("UMAP", bytes, |_: &Umap| Ok(()))? })
    }
}
