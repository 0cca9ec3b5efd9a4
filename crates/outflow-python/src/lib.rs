//! The native half of the `outflow` Python package (built into a wheel with maturin; see this crate's
//! `README.md`). The Python half (`python/outflow/`) holds the scikit-learn style classes; this module
//! holds what they call: the fits, predictions and indices of the Rust crates on numpy arrays, and the
//! flow [`Detector`](outflow::Detector) on Arrow record batches.
//!
//! Rules every function here follows:
//! - the GIL is released while Rust works (`Python::detach`), so Python threads and Spark's Python
//!   workers run beside a fit;
//! - a float64 numpy array is read in place whatever its strides; the Python side converts other dtypes
//!   (integers, booleans, float32) to float64 first and refuses the rest with a clear message;
//! - parameters arrive as the JSON of the Rust parameter type, so a misspelt or invalid one is refused
//!   by the same check and with the same message as in a saved model or the command;
//! - every Rust error becomes `outflow.InputError` (bad data or parameters; a `ValueError`),
//!   `outflow.ModelFileError` (a model file that cannot be read) or `outflow.OutflowError`, with the
//!   Rust message.
//!
//! Dependencies: `pyo3` (the bindings), `numpy` (arrays read in place through the buffer protocol's
//! strides), `arrow-pyarrow` (record batches cross over the Arrow C data interface without a copy); each
//! is the version the others and the workspace's `arrow` require.

mod cluster;
mod detector;
mod embed;
mod errors;
mod io;
mod validate;

use pyo3::prelude::*;

/// The extension module `outflow._outflow`.
#[pymodule]
fn _outflow(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    cluster::register(m)?;
    validate::register(m)?;
    detector::register(m)?;
    embed::register(m)?;
    io::register(m)?;
    Ok(())
}
