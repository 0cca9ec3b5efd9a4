//! Regularity of a pair's connections: the statistics beacon hunters compute over connection start
//! times and sizes.
//!
//! A beacon (malware calling home) connects at a fixed period with a little jitter and sends requests of
//! nearly one size. Over the sorted, de-duplicated start times of a pair in a window, and the bytes it
//! sent per connection:
//!
//! - the intervals' median and median absolute deviation (MAD), and Bowley's quartile skew
//!   `(q3 + q1 - 2 q2) / max(q3 - q1, median / 10)` (0 when both are 0): a regular series has a small
//!   MAD for its median and no skew;
//! - the same for the sizes;
//! - a score in [0, 1]: the mean of a timing score and a size score. The timing score is the regularity
//!   (the mean of `1 - |skew|` and `1 - MAD / median`, at least 0) times the mean of the evenness of the
//!   starts (the share of `n - 1` equal slices between the first and last start that hold one: bursts
//!   leave slices empty) and the share of the window the connections span (five connections in one
//!   minute are not a beacon). The size score is the mean of `1 - |skew|` and `1 - MAD / median` of the sizes (1 when every size is
//!   0). Fewer than [`MIN_CONNECTIONS`] connections score 0.
//! - the score is multiplied by its support `k / (k + 4)` for `k` intervals (3 intervals: 0.43; 12:
//!   0.75; 59: 0.94): a clock seen a few times is weak evidence. Four connections an hour to a time
//!   server, 48 bytes each, are as regular as a series can be, and every client keeps its clock that
//!   way; a beacon calling home every minute shows its clock sixty times.

use outflow_core::stats::{median_sorted, quantile_sorted};

/// Connections a pair needs in a window before its regularity means anything.
pub const MIN_CONNECTIONS: usize = 4;

/// Start times and sizes of one pair's connections in one window, bounded in memory: past `cap`
/// connections only the earliest `cap` are kept (by time, then size, so row order does not change the
/// choice), and the regularity is that of those consecutive connections.
#[derive(Debug, Clone, Default)]
pub(crate) struct Series {
    points: Vec<(f64, f64)>,
    first: Option<f64>,
    last: Option<f64>,
    cap: usize,
}

fn by_time(a: &(f64, f64), b: &(f64, f64)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
}

impl Series {
    pub(crate) fn push(&mut self, ts: f64, size: f64, cap: usize) {
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        self.cap = cap;
        self.points.push((ts, size));
        if self.points.len() >= 2 * cap {
            self.points.select_nth_unstable_by(cap, by_time);
            self.points.truncate(cap);
        }
    }

    /// Adds the points of another part of the same series.
    pub(crate) fn merge(&mut self, o: Series, cap: usize) {
        self.first = match (self.first, o.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, o.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.cap = cap;
        self.points.extend(o.points);
        if self.points.len() >= 2 * cap {
            self.points.select_nth_unstable_by(cap, by_time);
            self.points.truncate(cap);
        }
    }

    /// The statistics, over a window of `span` seconds.
    pub(crate) fn stats(&mut self, span: f64) -> BeaconStats {
        self.points.sort_by(by_time);
        if self.cap > 0 {
            self.points.truncate(self.cap);
        }
        self.points.dedup_by(|a, b| a.0 == b.0);
        let times: Vec<f64> = self.points.iter().map(|p| p.0).collect();
        let sizes: Vec<f64> = self.points.iter().map(|p| p.1).collect();
        let mut stats = BeaconStats::of(&times, &sizes, span);
        // Coverage is that of every connection, kept or not.
        if let (Some(first), Some(last), true) = (self.first, self.last, stats.score > 0.0 && span > 0.0) {
            let regular =
                ((1.0 - stats.interval_skew.abs()) + dispersion_score(stats.interval_median, stats.interval_mad)) / 2.0;
            let support = support(times.len() - 1);
            stats.score += support * regular * (((last - first) / span).min(1.0) - stats.covered) / 4.0;
            stats.covered = ((last - first) / span).min(1.0);
        }
        stats
    }
}

/// Regularity of one series; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BeaconStats {
    /// Median interval between connection starts, seconds.
    pub interval_median: f64,
    /// Median absolute deviation of the intervals, seconds.
    pub interval_mad: f64,
    /// Bowley skew of the intervals.
    pub interval_skew: f64,
    /// Median bytes sent per connection.
    pub size_median: f64,
    /// Median absolute deviation of the sizes.
    pub size_mad: f64,
    /// Bowley skew of the sizes.
    pub size_skew: f64,
    /// Beacon score in [0, 1].
    pub score: f64,
    /// Share of the window between the first and the last connection.
    pub covered: f64,
    /// Share of equal slices between the first and the last connection (as many as intervals) that hold
    /// a connection: near 1 for a periodic series, lower for bursts.
    pub evenness: f64,
}

/// Median, MAD and Bowley skew of values (sorted here).
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    let median = median_sorted(values);
    let (q1, q3) = (quantile_sorted(values, 0.25), quantile_sorted(values, 0.75));
    // Quartiles closer than a tenth of the median count as a tenth apart: near-constant integer values
    // (sizes of 118 to 122 bytes) would otherwise read as strongly skewed.
    let denominator = (q3 - q1).max(0.1 * median.abs());
    let skew = if denominator > 0.0 { ((q3 + q1 - 2.0 * median) / denominator).clamp(-1.0, 1.0) } else { 0.0 };
    let mut dev: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (median, median_sorted(&dev), skew)
}

/// Share of `n - 1` equal slices of `[first, last]` holding a connection start (sorted times).
fn evenness(times: &[f64]) -> f64 {
    let slices = times.len() - 1;
    let (first, last) = (times[0], times[slices]);
    if slices == 0 || last <= first {
        return 0.0;
    }
    let width = (last - first) / slices as f64;
    let mut hit = vec![false; slices];
    for &t in times {
        hit[(((t - first) / width) as usize).min(slices - 1)] = true;
    }
    hit.iter().filter(|&&h| h).count() as f64 / slices as f64
}

/// How much `intervals` observed intervals support a regularity score (see the module documentation).
fn support(intervals: usize) -> f64 {
    intervals as f64 / (intervals as f64 + 4.0)
}

fn dispersion_score(median: f64, mad: f64) -> f64 {
    if median > 0.0 {
        (1.0 - mad / median).max(0.0)
    } else if mad == 0.0 {
        1.0
    } else {
        0.0
    }
}

impl BeaconStats {
    /// The statistics of sorted, distinct start times and the sizes sent at them, in a window of `span`
    /// seconds.
    ///
    /// ```
    /// use outflow_aggregate::BeaconStats;
    /// let times: Vec<f64> = (0..60).map(|i| i as f64 * 60.0).collect(); // every minute for an hour
    /// let s = BeaconStats::of(&times, &vec![120.0; 60], 3600.0);
    /// assert_eq!((s.interval_median, s.interval_mad, s.size_mad), (60.0, 0.0, 0.0));
    /// assert!(s.score > 0.93); // 59 intervals: a support of 59 / 63
    /// // Four perfectly regular connections (a time server's client) support far less.
    /// let ntp = BeaconStats::of(&[0.0, 1024.0, 2048.0, 3072.0], &[48.0; 4], 3600.0);
    /// assert!(ntp.score < 0.5);
    /// ```
    pub fn of(times: &[f64], sizes: &[f64], span: f64) -> BeaconStats {
        if times.len() < 2 {
            return BeaconStats::default();
        }
        let mut intervals: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let (interval_median, interval_mad, interval_skew) = spread(&mut intervals);
        let mut sizes = sizes.to_vec();
        let (size_median, size_mad, size_skew) = spread(&mut sizes);
        let (first, last) = (times[0], times[times.len() - 1]);
        let covered = if span > 0.0 { ((last - first) / span).min(1.0) } else { 0.0 };
        let evenness = evenness(times);
        let score = if times.len() < MIN_CONNECTIONS {
            0.0
        } else {
            let regular = ((1.0 - interval_skew.abs()) + dispersion_score(interval_median, interval_mad)) / 2.0;
            let timing = regular * (evenness + covered) / 2.0;
            let size = ((1.0 - size_skew.abs()) + dispersion_score(size_median, size_mad)) / 2.0;
            support(times.len() - 1) * (timing + size) / 2.0
        };
        BeaconStats {
            interval_median,
            interval_mad,
            interval_skew,
            size_median,
            size_mad,
            size_skew,
            score,
            covered,
            evenness,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for the tests' jitter.
    fn noise(i: u64) -> f64 {
        (splitmix(i) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn splitmix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn beacons_score_above_random_and_bursty_series() {
        // Every 60 s ± 10 %, about 120 bytes.
        let mut t = 0.0;
        let (mut beacon, mut sizes) = (Vec::new(), Vec::new());
        for i in 0..60 {
            beacon.push(t);
            sizes.push(118.0 + (noise(i) * 4.0).round());
            t += 60.0 * (0.9 + 0.2 * noise(1000 + i));
        }
        let b = BeaconStats::of(&beacon, &sizes, 3600.0);
        // Poisson arrivals (exponential intervals, mean 60 s), sizes all over the place.
        let mut t = 0.0;
        let mut random = Vec::new();
        for i in 0..60 {
            random.push(t);
            t += -60.0 * (1.0 - noise(2000 + i)).ln();
        }
        let random_sizes: Vec<f64> = (0..60).map(|i| (noise(3000 + i) * 5000.0).round()).collect();
        let r = BeaconStats::of(&random, &random_sizes, 3600.0);
        // Twenty connections in twenty seconds, then three late ones.
        let mut bursty: Vec<f64> = (0..20).map(|i| i as f64).collect();
        bursty.extend([1800.0, 3000.0, 3500.0]);
        let u = BeaconStats::of(&bursty, &[120.0; 23], 3600.0);
        assert!(b.score > 0.85, "{b:?}");
        assert!(r.score < b.score - 0.25, "{r:?}");
        assert!(u.evenness < 0.3 && u.score < b.score - 0.1, "{u:?}");
        assert_eq!(BeaconStats::of(&[1.0, 2.0, 3.0], &[1.0; 3], 10.0).score, 0.0);
    }

    #[test]
    fn bowley_skew_by_hand() {
        // Quartiles of 1, 2, 3, 10 (numpy linear): q1 1.75, q2 2.5, q3 4.75 → (4.75 + 1.75 - 5) / 3 = 0.5.
        let (median, mad, skew) = spread(&mut [10.0, 1.0, 3.0, 2.0]);
        assert_eq!(median, 2.5);
        assert_eq!(mad, 1.0); // deviations 1.5, 0.5, 0.5, 7.5 → median 1.0
        assert!((skew - 0.5).abs() < 1e-12);
    }

    #[test]
    fn capped_series_are_bounded_and_order_free() {
        let times: Vec<f64> = (0..5000).map(|i| i as f64 * 10.0 + 0.25).collect();
        let mut a = Series::default();
        let mut b = Series::default();
        for &t in &times {
            a.push(t, 100.0, 256);
        }
        for &t in times.iter().rev() {
            b.push(t, 100.0, 256);
        }
        assert!(a.points.len() < 512 && b.points.len() < 512);
        let (sa, sb) = (a.stats(50_000.0), b.stats(50_000.0));
        assert_eq!(sa, sb);
        assert_eq!((sa.interval_median, sa.interval_mad), (10.0, 0.0));
        assert_eq!(sa.covered, 49_990.0 / 50_000.0);
        assert!(sa.score > 0.95, "{sa:?}");
    }
}
