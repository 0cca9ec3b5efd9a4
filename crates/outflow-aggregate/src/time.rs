//! Date-time text to seconds since the epoch (UTC).

use chrono::NaiveDateTime;
use outflow_io::Column;

/// Formats tried in order: ISO 8601 (`T` or a space, optional fraction), year-first with slashes as
/// Argus writes them (`2011/08/10 09:46:53.047277`), then day-first dates as CICFlowMeter writes them
/// (`03/07/2017 08:55:58`, `3/7/2017 8:55`, with or without AM/PM).
const FORMATS: [&str; 9] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S%.f",
    "%d/%m/%Y %H:%M:%S%.f",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
];

/// Seconds since the epoch of a timestamp text: a number (epoch seconds, or a finer unit as
/// [`epoch_seconds`] reads it) or a date-time in one of the formats above, read as UTC (a trailing `Z`
/// or `+00:00` is accepted, other offsets are applied).
///
/// ```
/// use outflow_aggregate::parse_timestamp;
/// assert_eq!(parse_timestamp("1499416490.5"), Some(1499416490.5));
/// assert_eq!(parse_timestamp("2017-07-07 08:34:50"), Some(1499416490.0));
/// assert_eq!(parse_timestamp("7/7/2017 8:34"), Some(1499416440.0));
/// assert_eq!(parse_timestamp("7/7/2017 8:34:50 PM"), Some(1499459690.0));
/// assert_eq!(parse_timestamp("2017/07/07 08:34:50.25"), Some(1499416490.25));
/// assert_eq!(parse_timestamp("1499416490500"), Some(1499416490.5));
/// assert_eq!(parse_timestamp("yesterday"), None);
/// ```
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let s = text.trim();
    if let Ok(x) = s.parse::<f64>() {
        return x.is_finite().then(|| epoch_seconds(x));
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

/// Seconds since the epoch of a number that counts them in seconds, milliseconds, microseconds or
/// nanoseconds (flow exporters write each: NetFlow's `FLOW_START_MILLISECONDS`, Joy's microsecond
/// `time_start`): no time in seconds reaches 10¹¹ (the year 5138), so a number from there on is read as
/// milliseconds, from 10¹⁴ as microseconds and from 10¹⁷ as nanoseconds.
///
/// ```
/// use outflow_aggregate::epoch_seconds;
/// assert_eq!(epoch_seconds(1594168228.5), 1594168228.5);
/// assert_eq!(epoch_seconds(1594168228500.0), 1594168228.5);
/// assert_eq!(epoch_seconds(1594168228500000.0), 1594168228.5);
/// assert_eq!(epoch_seconds(120.0), 120.0);
/// ```
pub fn epoch_seconds(x: f64) -> f64 {
    match x.abs() {
        a if a >= 1e17 => x * 1e-9,
        a if a >= 1e14 => x * 1e-6,
        a if a >= 1e11 => x * 1e-3,
        _ => x,
    }
}

/// Row `i` of a time column as seconds since the epoch, however the log writes it: a time or number
/// (through [`epoch_seconds`]) or date-time text (through [`parse_timestamp`]); `None` when null,
/// unreadable or not finite.
pub fn seconds_at(col: &Column, i: usize) -> Option<f64> {
    col.f64_at(i).map(epoch_seconds).or_else(|| col.str_at(i).and_then(parse_timestamp)).filter(|t| t.is_finite())
}
