//! The flow detector on Arrow record batches: fit, score, model files (signed or not).

use arrow_array::RecordBatch;
use arrow_pyarrow::PyArrowType;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use outflow::io::arrow::batch_to_table;
use outflow::{Detector, DetectorParams, ModelKey};

use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeDetector>()?;
    Ok(())
}

/// One batch of the batches given (a table's chunks), stacked; a table with no chunks arrives as one
/// empty batch from the Python side.
fn stack(batches: Vec<PyArrowType<RecordBatch>>) -> PyResult<RecordBatch> {
    let mut batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.0).collect();
    match batches.len() {
        0 => Err(errors::raise(errors::Kind::Input, "no record batch given")),
        1 => Ok(batches.pop().expect("one batch")),
        _ => arrow_select::concat::concat_batches(&batches[0].schema(), &batches)
            .map_err(|e| errors::raise(errors::Kind::Input, format!("the record batches do not stack: {e}"))),
    }
}

fn key(key: Option<Vec<u8>>) -> PyResult<Option<ModelKey>> {
    // A key too short to sign with is a bad argument, not a bad model.
    key.map(ModelKey::new).transpose().map_err(|e| errors::raise(errors::Kind::Input, e.to_string()))
}

/// A fitted flow detector (`outflow.Detector` wraps it).
#[pyclass(module = "outflow._outflow", frozen)]
pub struct NativeDetector {
    inner: Detector,
}

#[pymethods]
impl NativeDetector {
    /// Pickling: the class's `from_bytes` with the model's bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let bytes = slf.get().to_bytes(slf.py(), None)?;
        Ok((slf.get_type().getattr("from_bytes")?, (bytes,)))
    }

    /// Fits on record batches with the JSON of `DetectorParams`.
    #[staticmethod]
    fn fit(py: Python<'_>, batches: Vec<PyArrowType<RecordBatch>>, params: &str) -> PyResult<Self> {
        let params: DetectorParams =
            serde_json::from_str(params).map_err(|e| errors::params("detector parameters", e))?;
        let batch = stack(batches)?;
        let fitted = py.detach(|| {
            let table = batch_to_table("record batch", &batch)?;
            params.fit(&table)
        });
        Ok(NativeDetector { inner: fitted.map_err(errors::outflow)?.detector })
    }

    /// Scores record batches: the rows (flows, or the host / pair rows of a behaviour model) followed by
    /// the score columns, as one batch.
    fn score(&self, py: Python<'_>, batches: Vec<PyArrowType<RecordBatch>>) -> PyResult<PyArrowType<RecordBatch>> {
        let batch = stack(batches)?;
        let scored = py.detach(|| self.inner.score_batch(&batch)).map_err(errors::outflow)?;
        Ok(PyArrowType(scored))
    }

    /// Reads a model file, verifying its signature when `key` is given.
    #[staticmethod]
    #[pyo3(signature = (path, key = None))]
    fn load(py: Python<'_>, path: std::path::PathBuf, key: Option<Vec<u8>>) -> PyResult<Self> {
        let key = self::key(key)?;
        let inner = py.detach(|| Detector::load_verified(&path, key.as_ref())).map_err(errors::outflow)?;
        Ok(NativeDetector { inner })
    }

    /// Writes the model file atomically (signed when `key` is given); an existing file is replaced only
    /// with `overwrite`.
    #[pyo3(signature = (path, overwrite = false, key = None))]
    fn save(&self, py: Python<'_>, path: std::path::PathBuf, overwrite: bool, key: Option<Vec<u8>>) -> PyResult<()> {
        let key = self::key(key)?;
        py.detach(|| self.inner.save_signed(&path, overwrite, key.as_ref())).map_err(errors::outflow)
    }

    /// The model file's bytes.
    #[pyo3(signature = (key = None))]
    fn to_bytes<'py>(&self, py: Python<'py>, key: Option<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
        let key = self::key(key)?;
        Ok(PyBytes::new(py, &self.inner.to_bytes_signed(key.as_ref())))
    }

    /// A model from a model file's bytes, verifying its signature when `key` is given.
    #[staticmethod]
    #[pyo3(signature = (bytes, key = None))]
    fn from_bytes(bytes: &[u8], key: Option<Vec<u8>>) -> PyResult<Self> {
        let key = self::key(key)?;
        let inner = Detector::from_bytes_verified(bytes, key.as_ref()).map_err(errors::artifact)?;
        Ok(NativeDetector { inner })
    }

    /// `flow`, `host` or `pair`.
    #[getter]
    fn level(&self) -> String {
        self.inner.level().to_string()
    }

    /// Columns a log must have to be scored.
    #[getter]
    fn required_columns(&self) -> Vec<String> {
        self.inner.required_columns().into_iter().map(String::from).collect()
    }

    /// The fit's figures (clusters, noise, thresholds, ...), as JSON.
    #[getter]
    fn summary(&self) -> String {
        serde_json::to_string(self.inner.summary()).expect("the summary serialises")
    }

    /// The detector's parameters, as JSON.
    #[getter]
    fn params(&self) -> String {
        serde_json::to_string(self.inner.params()).expect("parameters serialise")
    }
}
