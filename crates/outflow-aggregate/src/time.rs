//! Date-time text to seconds since the epoch (UTC).

use chrono::NaiveDateTime;

/// Formats tried in order: ISO 8601 (`T` or a space, optional fraction), then day-first dates as
/// CICFlowMeter writes them (`03/07/2017 08:55:58`, `3/7/2017 8:55`, with or without AM/PM).
const FORMATS: [&str; 8] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S%.f",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
];

/// Seconds since the epoch of a timestamp text: a number (epoch seconds) or a date-time in one of the
/// formats above, read as UTC (a trailing `Z` or `+00:00` is accepted, other offsets are applied).
///
/// ```
/// use outflow_aggregate::parse_timestamp;
/// assert_eq!(parse_timestamp("1499416490.5"), Some(1499416490.5));
/// assert_eq!(parse_timestamp("2017-07-07 08:34:50"), Some(1499416490.0));
/// assert_eq!(parse_timestamp("7/7/2017 8:34"), Some(1499416440.0));
/// assert_eq!(parse_timestamp("7/7/2017 8:34:50 PM"), Some(1499459690.0));
/// assert_eq!(parse_timestamp("yesterday"), None);
/// ```
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let s = text.trim();
    if let Ok(x) = s.parse::<f64>() {
        return x.is_finite().then_some(x);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp() as f64 + dt.timestamp_subsec_nanos() as f64 * 1e-9);
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok()).map(|dt| {
        let utc = dt.and_utc();
        utc.timestamp() as f64 + utc.timestamp_subsec_nanos() as f64 * 1e-9
    })
}
