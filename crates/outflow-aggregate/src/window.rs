//! Tumbling time windows: `15m`, `1h`, `1d`, ... or the whole log (`all`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AggregateError;

/// A tumbling window. Windows are aligned on the Unix epoch (a `1h` window starts on the hour, UTC), so a
/// flow's window depends on its timestamp alone, not on the rest of the log or its order.
///
/// ```
/// use outflow_aggregate::Window;
/// let w: Window = "15m".parse().unwrap();
/// assert_eq!(w, Window::Tumbling { seconds: 900 });
/// assert_eq!(w.start_of(1000.0), 900.0);
/// assert_eq!(w.to_string(), "15m");
/// assert_eq!("all".parse::<Window>().unwrap(), Window::All);
/// assert!("15".parse::<Window>().is_err()); // a unit is needed
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The whole log is one window.
    All,
    /// Consecutive windows of this many seconds.
    Tumbling {
        /// Length in seconds (at least 1).
        seconds: u64,
    },
}

impl Default for Window {
    /// One hour.
    fn default() -> Self {
        Window::Tumbling { seconds: 3600 }
    }
}

const UNITS: [(&str, u64); 5] = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];

impl Window {
    /// The window's length in seconds (`None` for [`Window::All`]).
    pub fn seconds(self) -> Option<u64> {
        match self {
            Window::All => None,
            Window::Tumbling { seconds } => Some(seconds),
        }
    }

    /// Index of the window holding time `ts` (0 for [`Window::All`]).
    pub fn index_of(self, ts: f64) -> i64 {
        match self {
            Window::All => 0,
            Window::Tumbling { seconds } => (ts / seconds as f64).floor() as i64,
        }
    }

    /// Start of the window holding `ts` (seconds since the epoch).
    pub fn start_of(self, ts: f64) -> f64 {
        match self {
            Window::All => ts,
            Window::Tumbling { seconds } => self.index_of(ts) as f64 * seconds as f64,
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Window::All => f.write_str("all"),
            Window::Tumbling { seconds } => {
                let (unit, size) = UNITS.iter().find(|(_, size)| seconds % size == 0).expect("seconds divide by 1");
                write!(f, "{}{unit}", seconds / size)
            }
        }
    }
}

impl FromStr for Window {
    type Err = AggregateError;

    /// `all`, or a positive number and a unit: `s`, `m` (`min`), `h`, `d`, `w` (`90s`, `15m`, `1.5h`).
    fn from_str(text: &str) -> Result<Self, AggregateError> {
        let err = |reason: &str| AggregateError::Window { text: text.to_owned(), reason: reason.to_owned() };
        let s = text.trim().to_ascii_lowercase();
        if s == "all" {
            return Ok(Window::All);
        }
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        if number.is_empty() {
            return Err(err("expected a number and a unit (s, m, h, d, w), e.g. 15m, or 'all'"));
        }
        let unit = match unit.trim() {
            "" => return Err(err("needs a unit (s, m, h, d, w), e.g. 15m")),
            "min" | "mins" => "m",
            u => u,
        };
        let Some(&(_, size)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(err("unknown unit; use s, m, h, d or w"));
        };
        let value: f64 = number.parse().map_err(|_| err("not a number"))?;
        let seconds = value * size as f64;
        if !(seconds >= 1.0 && seconds.is_finite() && seconds <= 1e12) {
            return Err(err("must be between 1 second and about 30,000 years"));
        }
        if seconds.fract() != 0.0 {
            return Err(err("must be a whole number of seconds"));
        }
        Ok(Window::Tumbling { seconds: seconds as u64 })
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, seconds, shown) in
            [("90s", 90, "90s"), ("15m", 900, "15m"), ("60m", 3600, "1h"), ("1.5h", 5400, "90m"), ("1d", 86_400, "1d")]
        {
            let w: Window = text.parse().unwrap();
            assert_eq!(w, Window::Tumbling { seconds }, "{text}");
            assert_eq!(w.to_string(), shown);
            assert_eq!(shown.parse::<Window>().unwrap(), w);
        }
        assert_eq!(" ALL ".parse::<Window>().unwrap(), Window::All);
        assert_eq!("10 min".parse::<Window>().unwrap(), Window::Tumbling { seconds: 600 });
    }

    #[test]
    fn rejects_what_is_not_a_window() {
        for bad in ["", "15", "h", "0m", "-5m", "5y", "0.5s", "1e3h", "abc", "1.2.3h", "1e300d"] {
            let e = bad.parse::<Window>().unwrap_err();
            assert!(matches!(e, AggregateError::Window { .. }), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn windows_align_on_the_epoch() {
        let w = Window::Tumbling { seconds: 3600 };
        assert_eq!(w.start_of(7199.9), 3600.0);
        assert_eq!(w.start_of(-0.5), -3600.0);
        assert_eq!(w.index_of(7200.0), 2);
        assert_eq!(Window::All.index_of(1e9), 0);
    }

    #[test]
    fn serde_as_text() {
        let w = Window::Tumbling { seconds: 900 };
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(json, "\"15m\"");
        assert_eq!(serde_json::from_str::<Window>(&json).unwrap(), w);
        assert!(serde_json::from_str::<Window>("\"15\"").is_err());
    }
}
