//! The mid-rank empirical CDF: how a raw score compares with the training scores.

use serde::{Deserialize, Serialize};

/// The empirical CDF of training values with mid-ranks for ties: `rank(s) = (#{t < s} + #{t ≤ s}) / 2n`,
/// in `[0, 1]`. It turns scores of different scales into comparable ranks (rank fusion) and maps a new
/// value exactly as a training value of the same size.
///
/// With [`Ecdf::with_max_size`] at most that many evenly spaced order statistics are kept, which bounds a
/// serialised model's size; ranks then have that resolution. Every value kept must be finite.
///
/// ```
/// use outflow_core::Ecdf;
/// let e = Ecdf::new(&[1.0, 2.0, 2.0, 3.0]);
/// assert_eq!(e.rank(2.0), 0.5);
/// assert_eq!(e.rank(1.0), 0.125); // half of the one equal value
/// assert_eq!(e.rank(5.0), 1.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ecdf {
    #[serde(with = "crate::codec::f64s")]
    sorted: Vec<f64>,
}

impl Ecdf {
    /// From training values, all kept.
    pub fn new(values: &[f64]) -> Ecdf {
        let mut sorted = values.to_vec();
        crate::stats::sort_floats(&mut sorted);
        Ecdf { sorted }
    }

    /// From training values, keeping at most `max_size` (≥ 2) evenly spaced order statistics: rank `i` of
    /// the kept values is the training value of rank `i·(n−1)/(max_size−1)`.
    pub fn with_max_size(values: &[f64], max_size: usize) -> Ecdf {
        let mut e = Ecdf::new(values);
        let n = e.sorted.len();
        if n > max_size && max_size >= 2 {
            e.sorted = (0..max_size).map(|i| e.sorted[i * (n - 1) / (max_size - 1)]).collect();
        }
        e
    }

    /// Fraction of training values below `x`, counting equal values half; 0.5 when there are none.
    pub fn rank(&self, x: f64) -> f64 {
        let n = self.sorted.len();
        if n == 0 {
            return 0.5;
        }
        let lo = self.sorted.partition_point(|&v| v < x);
        let hi = self.sorted.partition_point(|&v| v <= x);
        (lo + hi) as f64 / (2 * n) as f64
    }

    /// The values kept, ascending.
    pub fn values(&self) -> &[f64] {
        &self.sorted
    }

    /// Number of values kept.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// True when no value is kept.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_ranks_and_compression() {
        let e = Ecdf::new(&[3.0, 1.0, 2.0, 2.0]);
        assert_eq!((e.rank(0.0), e.rank(2.0), e.rank(5.0), e.rank(1.0)), (0.0, 0.5, 1.0, 0.125));
        assert_eq!(Ecdf::new(&[]).rank(1.0), 0.5);
        let v: Vec<f64> = (0..101).map(f64::from).collect();
        let c = Ecdf::with_max_size(&v, 11);
        assert_eq!(c.values(), &[0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]);
        assert_eq!(Ecdf::with_max_size(&v, 1000).len(), 101);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Ecdf>(&json).unwrap(), c);
    }
}
