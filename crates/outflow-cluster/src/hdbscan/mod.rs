//! HDBSCAN: parameters, fitting (core distances → exact MST → trees → selection), the fitted model and
//! prediction for new points.

mod approximate;
mod boruvka;
mod branches;
mod fit;
mod model;
mod params;
mod predict;
mod prim;
mod soft;
mod sparse;
pub(crate) mod tree;

pub use self::branches::{BranchGraph, BranchParams, Branches, ClusterBranches};
pub use self::fit::{MutualReachability, auto_leaf_size, stages};
pub(crate) use self::fit::{Points, tree_for};
pub use self::model::{Hdbscan, MstEdge, Prediction};
use self::params::check_min_samples;
pub use self::params::{
    APPROXIMATE_MIN_DIM, APPROXIMATE_MIN_ROWS, BORUVKA_MAX_DIM, HdbscanParams, MinSamplesConvention, MstAlgorithm,
    Neighbors, SemiSupervised,
};
pub(crate) use self::params::{graph_k, is_zero, is_zero_u64};
use self::predict::Derived;
pub use self::sparse::SparseDistances;
