//! # outflow-core
//!
//! The base of the Outflow crates, at the bottom of the dependency graph: what more than one crate
//! needs, written once.
//!
//! - **The input-error vocabulary** ([`InputError`]): empty input, a non-finite value with its row,
//!   column and value, a width or length mismatch, too few rows, an invalid parameter with its name and
//!   the reason. Every crate's error wraps it (an `Input` variant), so bad input reads the same
//!   everywhere and callers match on variants, never on messages.
//! - **The estimator contract** ([`Fit`], [`FitSupervised`], [`Predict`], [`Transform`],
//!   [`ScoreSamples`]): one meaning per method across the crates.
//! - **Checks** ([`check_matrix`], [`check_query`], ...): shape and finiteness of input matrices.
//! - **Statistics with numpy's definitions** ([`stats`]): pairwise sums, quantiles with numpy's linear
//!   rule, medians; the mid-rank empirical CDF ([`Ecdf`]).
//! - **One seeded row sampler** ([`sample_indices`]), squared distances ([`sq_euclidean`]), atomic file
//!   writes ([`write_atomic`]) and compact serde encodings of numeric arrays ([`codec`]).
//! - **Exact duplicate rows** ([`unique_rows`], parallel): the clusterers fit unique rows with
//!   multiplicities, and the detector scores each distinct row once.
//!
//! ```
//! use ndarray::array;
//! use outflow_core::{InputError, check_matrix, sample_indices, stats};
//!
//! let x = array![[1.0, 2.0], [f64::NAN, 0.0]];
//! match check_matrix(x.view()) {
//!     Err(InputError::NonFinite { row, col, .. }) => assert_eq!((row, col), (1, 0)),
//!     other => panic!("{other:?}"),
//! }
//! assert_eq!(stats::percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.5); // np.percentile
//! assert_eq!(sample_indices(1_000, 5, 7).len(), 5);
//! ```

#![warn(missing_docs)]

mod check;
pub mod codec;
mod distance;
mod ecdf;
mod error;
mod fs;
mod sample;
pub mod stats;
mod traits;
mod unique;

pub use crate::check::{
    MAX_MAGNITUDE, check_finite, check_len, check_matrix, check_query, check_values, check_width, is_usable,
};
pub use crate::distance::{sq_euclidean, sq_euclidean_unrolled};
pub use crate::ecdf::Ecdf;
pub use crate::error::{InputError, Result};
pub use crate::fs::{AtomicFile, WriteError, write_atomic};
pub use crate::sample::{sample_indices, standard_normal};
pub use crate::traits::{Fit, FitSupervised, Predict, ScoreSamples, Transform};
pub use crate::unique::{UniqueRows, unique_rows};
