//! # Outflow
//!
//! One dependency for the whole Outflow workspace: flow-log readers ([`io`]), and — as they land —
//! preparation, clustering, validation, outlier detection and explanation.
//!
//! ```
//! use outflow::io::{Input, ReadOptions, read_input};
//! let (t, _) = read_input(&Input::bytes("f.csv", "bytes,proto\n10,tcp\n"), &ReadOptions::default()).unwrap();
//! assert_eq!(t.n_rows(), 1);
//! ```

#![warn(missing_docs)]

pub use outflow_cluster as cluster;
pub use outflow_explain as explain;
pub use outflow_io as io;
pub use outflow_io::{Format, ReadOptions, Table};
