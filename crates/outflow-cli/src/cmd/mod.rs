//! One module per subcommand.

pub mod benchmark;
pub mod cluster;
pub mod compare;
pub mod detect;
pub mod eda;
pub mod embed;
pub mod explain;
pub mod inspect;
pub mod report;
pub mod score;
pub mod serve;
pub mod simulate;
pub mod tendency;
pub mod validate;
pub mod watch;
