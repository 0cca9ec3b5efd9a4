//! Rust errors as the package's Python exceptions (defined in `outflow/_errors.py`, so that
//! `InputError` can be both an `OutflowError` and a `ValueError`).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Which Python exception an error becomes.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Bad data or parameters: `outflow.InputError` (a `ValueError`).
    Input,
    /// A model file or model bytes that cannot be read: `outflow.ModelFileError`.
    ModelFile,
    /// Anything else: `outflow.OutflowError`.
    Other,
}

impl Kind {
    fn class_name(self) -> &'static str {
        match self {
            Kind::Input => "InputError",
            Kind::ModelFile => "ModelFileError",
            Kind::Other => "OutflowError",
        }
    }
}

/// The exception of `kind` with `message`.
pub(crate) fn raise(kind: Kind, message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| {
        let class = py
            .import("outflow._errors")
            .and_then(|m| m.getattr(kind.class_name()))
            .and_then(|c| Ok(c.cast_into::<PyType>()?));
        match class {
            Ok(class) => PyErr::from_type(class, message),
            // Only when the native module is imported without its package.
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

pub(crate) fn cluster(e: outflow_cluster::ClusterError) -> PyErr {
    let kind = match e {
        outflow_cluster::ClusterError::Input(_) => Kind::Input,
        _ => Kind::Other,
    };
    raise(kind, e.to_string())
}

pub(crate) fn embed(e: outflow::embed::EmbedError) -> PyErr {
    use outflow::embed::EmbedError as E;
    let kind = match &e {
        E::Input(_) | E::Cluster(outflow_cluster::ClusterError::Input(_)) => Kind::Input,
        _ => Kind::Other,
    };
    raise(kind, e.to_string())
}

/// Every validation error is about the data or labels given.
pub(crate) fn validate(e: outflow_validate::ValidateError) -> PyErr {
    raise(Kind::Input, e.to_string())
}

pub(crate) fn outflow(e: outflow::OutflowError) -> PyErr {
    use outflow::OutflowError as E;
    let kind = match &e {
        E::Artifact { .. } => Kind::ModelFile,
        E::Input(_) | E::Io(_) | E::Aggregate(_) | E::Prep(_) => Kind::Input,
        E::Cluster(outflow_cluster::ClusterError::Input(_)) => Kind::Input,
        _ => Kind::Other,
    };
    raise(kind, e.to_string())
}

pub(crate) fn artifact(e: outflow::ArtifactError) -> PyErr {
    raise(Kind::ModelFile, e.to_string())
}

/// Input refused before it reaches the library.
pub(crate) fn input(message: String) -> PyErr {
    raise(Kind::Input, message)
}

/// Parameters that do not parse as the Rust parameter type.
pub(crate) fn params(what: &str, e: serde_json::Error) -> PyErr {
    raise(Kind::Input, format!("{what}: {e}"))
}
