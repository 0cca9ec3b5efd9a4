//! Squared Euclidean distance, in the two summation orders the crates need.

/// Squared Euclidean distance summed in index order, like scikit-learn's `DistanceMetric`, so that
/// distances (and everything compared against them) agree with the references to the last bit.
#[inline(always)]
pub fn sq_euclidean(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let d = x - y;
        s += d * d;
    }
    s
}

/// Squared Euclidean distance with eight independent accumulators: it vectorises, so inner loops that
/// compute millions of distances (k-means) run several times faster. The rounding differs from
/// [`sq_euclidean`] from eight dimensions up (below eight it is the same sum); use it where only
/// comparisons with a rounding margin, or results at tolerance, depend on it.
#[inline(always)]
pub fn sq_euclidean_unrolled(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let n = a.len().min(b.len());
    let chunks = n / 8;
    for c in 0..chunks {
        let (a8, b8) = (&a[c * 8..c * 8 + 8], &b[c * 8..c * 8 + 8]);
        for l in 0..8 {
            let t = a8[l] - b8[l];
            acc[l] += t * t;
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for j in chunks * 8..n {
        let t = a[j] - b[j];
        s += t * t;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_orders_agree_to_rounding() {
        let a: Vec<f64> = (0..19).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..19).map(|i| (i as f64 * 0.11).cos()).collect();
        let (s, u) = (sq_euclidean(&a, &b), sq_euclidean_unrolled(&a, &b));
        assert!((s - u).abs() <= 1e-14 * s);
        assert_eq!(sq_euclidean(&a[..7], &b[..7]), sq_euclidean_unrolled(&a[..7], &b[..7]));
        assert_eq!(sq_euclidean(&[0.0, 3.0], &[4.0, 0.0]), 25.0);
    }
}
