//! Clusterers on numpy arrays: HDBSCAN (fit, tree-based prediction for new points, persistence),
//! DBSCAN, k-means and Ward.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use outflow_cluster::{
    BranchParams, ClusterModel, Dbscan, DbscanParams, Fit, Hdbscan, HdbscanParams, KMeans, KMeansParams, Predict,
    SparseDistances, WardParams,
};

use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<HdbscanModel>()?;
    m.add_class::<KMeansModel>()?;
    m.add_function(wrap_pyfunction!(dbscan_fit, m)?)?;
    m.add_function(wrap_pyfunction!(ward_fit, m)?)?;
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| errors::params(what, e))
}

fn ints<'py>(py: Python<'py>, v: &[i64]) -> Bound<'py, PyArray1<i64>> {
    v.to_pyarray(py)
}

fn floats<'py>(py: Python<'py>, v: &[f64]) -> Bound<'py, PyArray1<f64>> {
    v.to_pyarray(py)
}

/// A fitted model as bytes (JSON), for pickling.
pub(crate) fn model_bytes<'py>(py: Python<'py>, model: &impl serde::Serialize) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &serde_json::to_vec(model).expect("a fitted model serialises"))
}

/// A fitted model from [`model_bytes`], checked (`check`) before use: pickles are data from outside.
pub(crate) fn model_from_bytes<T: serde::de::DeserializeOwned>(
    what: &str,
    bytes: &[u8],
    check: impl Fn(&T) -> Result<(), String>,
) -> PyResult<T> {
    let bad = |why: String| errors::raise(errors::Kind::ModelFile, format!("{what} model: {why}"));
    let model: T = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    check(&model).map_err(bad)?;
    Ok(model)
}

/// A fitted HDBSCAN model.
#[pyclass(module = "outflow._outflow", frozen)]
pub struct HdbscanModel {
    inner: Hdbscan,
}

#[pymethods]
impl HdbscanModel {
    /// Pickling: the class's `from_bytes` with the model's bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let bytes = slf.get().to_bytes(slf.py());
        Ok((slf.get_type().getattr("from_bytes")?, (bytes,)))
    }

    /// Fits `x` (float64, 2-D) with the JSON of `HdbscanParams`, optional sample weights (float64) and
    /// partial labels (int64, −1 unlabelled; semi-supervised selection).
    #[staticmethod]
    #[pyo3(signature = (x, params, sample_weight=None, partial_labels=None))]
    fn fit(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f64>,
        params: &str,
        sample_weight: Option<PyReadonlyArray1<'_, f64>>,
        partial_labels: Option<PyReadonlyArray1<'_, i64>>,
    ) -> PyResult<Self> {
        let params: HdbscanParams = parse("HDBSCAN parameters", params)?;
        let x = x.as_array();
        let w = sample_weight.as_ref().map(|w| w.as_array().to_vec());
        let y = partial_labels.as_ref().map(|y| y.as_array().to_vec());
        let inner = py.detach(|| params.fit_with(x, w.as_deref(), y.as_deref())).map_err(errors::cluster)?;
        Ok(HdbscanModel { inner })
    }

    /// Fits a sparse matrix of distances given as compressed sparse rows (scipy's `indptr`, `indices`,
    /// `data`) with the JSON of `HdbscanParams` (metric precomputed).
    #[staticmethod]
    fn fit_sparse(
        py: Python<'_>,
        n: usize,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        data: PyReadonlyArray1<'_, f64>,
        params: &str,
    ) -> PyResult<Self> {
        let params: HdbscanParams = parse("HDBSCAN parameters", params)?;
        let to_usize = |v: &[i64]| -> PyResult<Vec<usize>> {
            v.iter()
                .map(|&x| {
                    usize::try_from(x).map_err(|_| errors::input(format!("sparse distances: negative index {x}")))
                })
                .collect()
        };
        let indptr = to_usize(indptr.as_slice()?)?;
        let indices = to_usize(indices.as_slice()?)?;
        let data = data.as_slice()?.to_vec();
        let inner = py
            .detach(|| SparseDistances::from_csr(n, indptr, indices, data).and_then(|d| params.fit_sparse(&d)))
            .map_err(errors::cluster)?;
        Ok(HdbscanModel { inner })
    }

    /// Cluster label per training row (−1 noise).
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        ints(py, self.inner.labels())
    }

    /// Membership strength per training row.
    #[getter]
    fn probabilities<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        floats(py, self.inner.probabilities())
    }

    /// GLOSH outlier score per training row.
    #[getter]
    fn outlier_scores<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        floats(py, self.inner.outlier_scores())
    }

    /// Persistence (stability) of each selected cluster, by label.
    #[getter]
    fn cluster_persistence<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        floats(py, self.inner.persistence())
    }

    /// Core distance per training row.
    #[getter]
    fn core_distances<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        floats(py, self.inner.core_distances())
    }

    /// The recall of the approximate neighbour graph, measured on a sample; None for an exact fit.
    #[getter]
    fn neighbor_recall(&self) -> Option<f64> {
        self.inner.neighbor_recall()
    }

    /// Columns of the training data.
    #[getter]
    fn n_features(&self) -> usize {
        self.inner.n_features()
    }

    /// The parameters, as JSON.
    #[getter]
    fn params(&self) -> String {
        serde_json::to_string(self.inner.params()).expect("parameters serialise")
    }

    /// The minimum spanning tree of the mutual-reachability graph as an `(n − 1) × 3` array of
    /// `(a, b, distance)`, sorted by distance.
    #[getter]
    fn minimum_spanning_tree<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        let mst = self.inner.mst();
        let mut out = ndarray::Array2::<f64>::zeros((mst.len(), 3));
        for (row, e) in out.rows_mut().into_iter().zip(mst) {
            let mut row = row;
            row[0] = e.a as f64;
            row[1] = e.b as f64;
            row[2] = e.distance;
        }
        out.into_pyarray(py)
    }

    /// hdbscan's `dbscan_clustering(cut_distance, min_cluster_size)`: the DBSCAN* labels at a cut of the
    /// single-linkage tree.
    fn dbscan_clustering<'py>(
        &self,
        py: Python<'py>,
        cut_distance: f64,
        min_cluster_size: usize,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let labels = self.inner.dbscan_clustering(cut_distance, min_cluster_size).map_err(errors::cluster)?;
        Ok(labels.into_pyarray(py))
    }

    /// FLASC branches within the clusters of the training rows `x`, with the JSON of `BranchParams`:
    /// (labels, probabilities, cluster labels, cluster probabilities, branch labels, branch
    /// probabilities, centralities).
    #[allow(clippy::type_complexity)]
    fn branches<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f64>,
        params: &str,
    ) -> PyResult<(
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let params: BranchParams = parse("branch parameters", params)?;
        let x = x.as_array();
        let b = py.detach(|| self.inner.branches(x, &params)).map_err(errors::cluster)?;
        Ok((
            b.labels.into_pyarray(py),
            b.probabilities.into_pyarray(py),
            b.cluster_labels.into_pyarray(py),
            b.cluster_probabilities.into_pyarray(py),
            b.branch_labels.into_pyarray(py),
            b.branch_probabilities.into_pyarray(py),
            b.centralities.into_pyarray(py),
        ))
    }

    /// The row indices of each cluster's exemplars, by label (hdbscan's `exemplars_` holds the rows).
    #[getter]
    fn exemplar_indices<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray1<u64>>> {
        self.inner
            .exemplars()
            .into_iter()
            .map(|e| e.into_iter().map(|i| i as u64).collect::<Vec<_>>().into_pyarray(py))
            .collect()
    }

    /// hdbscan's `relative_validity_`: the DBCV approximation over the minimum spanning tree.
    fn relative_validity(&self) -> PyResult<f64> {
        outflow_validate::relative_validity(&self.inner).map_err(errors::validate)
    }

    /// Labels, membership strengths and outlier scores of new rows (hdbscan's `approximate_predict`
    /// and `approximate_predict_scores`).
    #[allow(clippy::type_complexity)]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f64>,
    ) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)> {
        let x = x.as_array();
        let found = py.detach(|| self.inner.predict_batch(x)).map_err(errors::cluster)?;
        let labels: Vec<i64> = found.iter().map(|p| p.label).collect();
        let strengths: Vec<f64> = found.iter().map(|p| p.probability).collect();
        let scores: Vec<f64> = found.iter().map(|p| p.outlier_score).collect();
        Ok((labels.into_pyarray(py), strengths.into_pyarray(py), scores.into_pyarray(py)))
    }

    /// hdbscan's `all_points_membership_vectors`: rows × selected clusters.
    fn all_points_membership_vectors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        py.detach(|| self.inner.all_points_membership_vectors()).into_pyarray(py)
    }

    /// hdbscan's `membership_vector` for new rows: rows × selected clusters.
    fn membership_vectors<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = x.as_array();
        Ok(py.detach(|| self.inner.membership_vectors(x)).map_err(errors::cluster)?.into_pyarray(py))
    }

    /// The model as bytes (JSON), for pickling.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        model_bytes(py, &self.inner)
    }

    /// A model from [`HdbscanModel::to_bytes`], checked before use.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        Ok(HdbscanModel { inner: model_from_bytes("HDBSCAN", bytes, Hdbscan::check)? })
    }
}

/// Fits DBSCAN with the JSON of `DbscanParams`: labels, the radius used, the core rows and the
/// approximate neighbour graph's recall (None for an exact fit).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn dbscan_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'_, f64>,
    params: &str,
) -> PyResult<(Bound<'py, PyArray1<i64>>, f64, Bound<'py, PyArray1<i64>>, Option<f64>)> {
    let params: DbscanParams = parse("DBSCAN parameters", params)?;
    let x = x.as_array();
    let model: Dbscan = py.detach(|| params.fit(x)).map_err(errors::cluster)?;
    let core: Vec<i64> = model.core_sample_indices().into_iter().map(|i| i as i64).collect();
    Ok((ints(py, model.labels()), model.eps(), core.into_pyarray(py), model.neighbor_recall()))
}

/// Fits Ward's agglomerative clustering with the JSON of `WardParams`: the labels.
#[pyfunction]
fn ward_fit<'py>(py: Python<'py>, x: PyReadonlyArray2<'_, f64>, params: &str) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let params: WardParams = parse("Ward parameters", params)?;
    let x = x.as_array();
    let model = py.detach(|| params.fit(x)).map_err(errors::cluster)?;
    Ok(ints(py, model.labels()))
}

/// A fitted k-means model.
#[pyclass(module = "outflow._outflow", frozen)]
pub struct KMeansModel {
    inner: KMeans,
}

#[pymethods]
impl KMeansModel {
    /// Pickling: the class's `from_bytes` with the model's bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let bytes = slf.get().to_bytes(slf.py());
        Ok((slf.get_type().getattr("from_bytes")?, (bytes,)))
    }

    /// Fits `x` with the JSON of `KMeansParams`.
    #[staticmethod]
    fn fit(py: Python<'_>, x: PyReadonlyArray2<'_, f64>, params: &str) -> PyResult<Self> {
        let params: KMeansParams = parse("k-means parameters", params)?;
        let x = x.as_array();
        let inner = py.detach(|| params.fit(x)).map_err(errors::cluster)?;
        Ok(KMeansModel { inner })
    }

    /// Label per training row.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        ints(py, self.inner.labels())
    }

    /// Cluster centres, one row per label.
    #[getter]
    fn cluster_centers<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.inner.centres().to_pyarray(py)
    }

    /// Sum of squared distances to the nearest centre.
    #[getter]
    fn inertia(&self) -> f64 {
        self.inner.inertia()
    }

    /// Iterations of the best run.
    #[getter]
    fn n_iter(&self) -> usize {
        self.inner.n_iter()
    }

    /// The nearest centre of each new row.
    fn predict<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'_, f64>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let x = x.as_array();
        let labels = py.detach(|| self.inner.predict(x)).map_err(errors::cluster)?;
        Ok(labels.into_pyarray(py))
    }

    /// The model as bytes (JSON), for pickling.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        model_bytes(py, &self.inner)
    }

    /// A model from [`KMeansModel::to_bytes`], checked before use.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        Ok(KMeansModel { inner: model_from_bytes("k-means", bytes, KMeans::check)? })
    }
}
