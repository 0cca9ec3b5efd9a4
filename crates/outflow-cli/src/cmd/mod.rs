//! One module per subcommand.

pub mod cluster;
pub mod explain;
pub mod inspect;
