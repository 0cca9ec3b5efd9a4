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
    /// A failed first contact counts in `new_failed_dsts` when the source's failed connections to the
    /// destination in the window are at most this many per destination port: a scan probes a port once
    /// or twice, a monitor polls the same ones every few minutes. `None` counts every failed first
    /// contact, as models saved before this parameter did (the facade reads their files so). Left out
    /// of saved settings at its default.
    #[serde(default = "probe_default", skip_serializing_if = "is_probe_default")]
    pub max_probe_attempts: Option<u32>,
    /// Label columns joined per host and pair besides the log families' (`label`, `Label`,
    /// `attack_cat`, …): each row gets its flows' distinct values, joined with `;`. Names match trimmed,
    /// in any case.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

fn probe_default() -> Option<u32> {
    Some(MAX_PROBE_ATTEMPTS)
}

fn is_probe_default(v: &Option<u32>) -> bool {
    *v == probe_default()
}

/// The default of [`AggregateParams::max_probe_attempts`].
pub const MAX_PROBE_ATTEMPTS: u32 = 2;

impl Default for AggregateParams {
    fn default() -> Self {
        AggregateParams {
            window: Window::default(),
            internal: None,
            max_beacon_points: 10_000,
            max_probe_attempts: Some(MAX_PROBE_ATTEMPTS),
            labels: Vec::new(),
        }
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
        if self.max_probe_attempts == Some(0) {
            return Err(InputError::param("max_probe_attempts", "must be at least 1, got 0".to_owned()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_without_the_probe_limit_take_the_default() {
        let given: AggregateParams = serde_json::from_str(r#"{"window": "all", "max_beacon_points": 64}"#).unwrap();
        assert_eq!(given.max_probe_attempts, Some(MAX_PROBE_ATTEMPTS));
        for p in [AggregateParams::default(), AggregateParams { max_probe_attempts: None, ..Default::default() }] {
            let text = serde_json::to_string(&p).unwrap();
            assert_eq!(text.contains("max_probe_attempts"), p.max_probe_attempts.is_none());
            assert_eq!(serde_json::from_str::<AggregateParams>(&text).unwrap(), p);
        }
    }
}
