//! Exact duplicate rows collapsed into weighted unique points ([`outflow_core::unique_rows`]), and the
//! k-th distance over weighted points.
//!
//! Flow tables are full of identical rows (scans, retries, KDD's smurf/neptune records). A kd-tree
//! cannot split identical points, so a naive search scans such a group once per member — quadratic.
//! Working on unique rows with multiplicities is exact: a copy's core distance is the distance at
//! which the cumulative multiplicity of the nearest unique rows reaches `min_samples`, and the
//! mutual-reachability MST of all rows is the MST of the unique rows plus, inside each group, edges of
//! weight equal to the group's core distance (every edge leaving a group is at least that heavy).

/// The distance at which the cumulative weight of `(distance, weight)` pairs sorted by distance reaches
/// `m`, or the last distance when the pairs hold less (callers list enough weight; see [`kth_of_mass`]).
pub(crate) fn weighted_kth<W: Copy + Into<f64>>(sorted: impl Iterator<Item = (f64, W)>, m: usize) -> f64 {
    let mut last = 0.0;
    kth_of_mass(sorted.inspect(|&(d, _)| last = d), m).unwrap_or(last)
}

/// The distance at which the cumulative weight of `(distance, weight)` pairs sorted by distance reaches
/// `m`; `None` when the pairs hold less. Weights are multiplicities or sample weights (any non-negative
/// value: a zero weight adds nothing).
pub(crate) fn kth_of_mass<W: Copy + Into<f64>>(sorted: impl Iterator<Item = (f64, W)>, m: usize) -> Option<f64> {
    let target = m as f64;
    let mut acc = 0.0f64;
    for (d, w) in sorted {
        acc += w.into();
        if acc >= target {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_kth_walks_weights() {
        let v = [(0.0, 2u32), (1.0, 1), (2.0, 5)];
        assert_eq!(weighted_kth(v.iter().copied(), 1), 0.0);
        assert_eq!(weighted_kth(v.iter().copied(), 2), 0.0);
        assert_eq!(weighted_kth(v.iter().copied(), 3), 1.0);
        assert_eq!(weighted_kth(v.iter().copied(), 8), 2.0);
        // Fractional and zero sample weights: the point itself (first) may weigh nothing.
        let f = [(0.0, 0.0f64), (1.0, 0.5), (2.0, 0.25), (3.0, 2.0)];
        assert_eq!(kth_of_mass(f.iter().copied(), 1), Some(3.0));
        assert_eq!(kth_of_mass(f[..3].iter().copied(), 1), None);
        assert_eq!(weighted_kth(f[..3].iter().copied(), 1), 2.0);
    }
}
