//! [`AggregateParams`]: how flows become host and pair rows.

use outflow_core::InputError;
use serde::{Deserialize, Serialize};

use crate::network::Networks;
use crate::window::Window;

/// How flows are aggregated.
///
/// ```
/// use outflow_aggregate::{AggregateParams, Window};
/// let p = AggregateParams { window: "15m".parse().unwrap(), ..Default::default() };
/// assert!(p.validate().is_ok());
/// assert_eq!(AggregateParams::default().window, Window::Tumbling { seconds: 3600 });
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AggregateParams {
    /// The time window (default one hour).
    pub window: Window,
    /// The inside of the monitored network. `None`: Zeek's `local_orig` / `local_resp` when the log sets
    /// any of them, else the private address ranges ([`Networks::private`]).
    pub internal: Option<Networks>,
    /// Connection start times kept per pair and window for the beacon statistics; past this many, a
    /// hash-chosen share is kept (memory stays bounded by the number of pairs and windows).
    pub max_beacon_points: usize,
}

impl Default for AggregateParams {
    fn default() -> Self {
        AggregateParams { window: Window::default(), internal: None, max_beacon_points: 10_000 }
    }
}

impl AggregateParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.max_beacon_points < crate::beacon::MIN_CONNECTIONS {
            return Err(InputError::param(
                "max_beacon_points",
                format!("must be at least {}, got {}", crate::beacon::MIN_CONNECTIONS, self.max_beacon_points),
            ));
        }
        Ok(())
    }
}

/// Where the inside of the network came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Locality {
    /// The networks given ([`AggregateParams::internal`]).
    Given,
    /// Zeek's `local_orig` / `local_resp` fields.
    ZeekFields,
    /// The private address ranges.
    PrivateRanges,
}
