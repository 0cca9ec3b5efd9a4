//! The levels a log is analysed at.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::AggregateError;

/// What one row of the analysed table is.
///
/// ```
/// use outflow_aggregate::Level;
/// assert_eq!("pair".parse::<Level>().unwrap(), Level::Pair);
/// assert_eq!(Level::Host.table_name(), "hosts.csv");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One flow (connection) of the log.
    #[default]
    Flow,
    /// One host in one window: the connections it originated (`*_out`, `distinct_dsts`, ...) and those it
    /// received (`*_in`, `distinct_srcs`, ...).
    Host,
    /// One (source, destination) pair in one window, source being the originator.
    Pair,
}

impl Level {
    /// Every level, flows first.
    pub const ALL: [Level; 3] = [Level::Flow, Level::Host, Level::Pair];

    /// The level's name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Flow => "flow",
            Level::Host => "host",
            Level::Pair => "pair",
        }
    }

    /// The file a run writes the level's rows to.
    pub fn table_name(self) -> &'static str {
        match self {
            Level::Flow => "scores.csv",
            Level::Host => "hosts.csv",
            Level::Pair => "pairs.csv",
        }
    }

    /// True for host and pair.
    pub fn is_entity(self) -> bool {
        !matches!(self, Level::Flow)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = AggregateError;
    fn from_str(s: &str) -> Result<Self, AggregateError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "flow" | "flows" => Ok(Level::Flow),
            "host" | "hosts" => Ok(Level::Host),
            "pair" | "pairs" => Ok(Level::Pair),
            _ => Err(AggregateError::Level(s.to_owned())),
        }
    }
}
