//! Exact duplicate rows collapsed into weighted unique points.
//!
//! Flow tables are full of identical rows (scans, retries, KDD's smurf/neptune records). A kd-tree
//! cannot split identical points, so a naive search scans such a group once per member — quadratic.
//! Working on unique rows with multiplicities is exact: a copy's core distance is the distance at
//! which the cumulative multiplicity of the nearest unique rows reaches `min_samples`, and the
//! mutual-reachability MST of all rows is the MST of the unique rows plus, inside each group, edges of
//! weight equal to the group's core distance (every edge leaving a group is at least that heavy).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Unique rows of a matrix and how the original rows map onto them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dedup {
    /// Unique rows, in order of first occurrence.
    pub points: Array2<f64>,
    /// Multiplicity of each unique row.
    pub weight: Vec<u32>,
    /// First original row of each unique row.
    pub first: Vec<usize>,
    /// Unique row of each original row.
    pub of_row: Vec<u32>,
}

fn row_hash(r: &[f64]) -> u64 {
    // FxHash-style mix of the bit patterns; -0.0 is hashed as 0.0 (they compare equal).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &v in r {
        let b = if v == 0.0 { 0u64 } else { v.to_bits() };
        h = (h.rotate_left(5) ^ b).wrapping_mul(0x5170_97e3_7ab4_28f5);
    }
    h
}

/// Collapses equal rows (by `==` on every value). Returns `None` when all rows are distinct.
pub(crate) fn dedup(x: ArrayView2<'_, f64>) -> Option<Dedup> {
    let n = x.nrows();
    let x = x.as_standard_layout();
    let flat = x.as_slice().expect("standard layout");
    let d = x.ncols();
    let row = |i: usize| &flat[i * d..(i + 1) * d];
    let hashes: Vec<u64> = (0..n).into_par_iter().with_min_len(4096).map(|i| row_hash(row(i))).collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.par_sort_unstable_by_key(|&i| (hashes[i as usize], i));
    // Within a run of equal hashes, group equal rows; the group's id is its first (smallest) row.
    let mut leader = vec![u32::MAX; n];
    let mut any_dup = false;
    let mut start = 0;
    while start < n {
        let h = hashes[order[start] as usize];
        let mut end = start + 1;
        while end < n && hashes[order[end] as usize] == h {
            end += 1;
        }
        for a in start..end {
            let i = order[a] as usize;
            if leader[i] != u32::MAX {
                continue;
            }
            leader[i] = i as u32;
            for &j in &order[a + 1..end] {
                let j = j as usize;
                if leader[j] == u32::MAX && row(i) == row(j) {
                    leader[j] = i as u32;
                    any_dup = true;
                }
            }
        }
        start = end;
    }
    if !any_dup {
        return None;
    }
    let mut id_of_leader = vec![u32::MAX; n];
    let mut first = Vec::new();
    let mut weight = Vec::new();
    let mut of_row = vec![0u32; n];
    for i in 0..n {
        let l = leader[i] as usize;
        if id_of_leader[l] == u32::MAX {
            id_of_leader[l] = first.len() as u32;
            first.push(i);
            weight.push(0);
        }
        let u = id_of_leader[l];
        of_row[i] = u;
        weight[u as usize] += 1;
    }
    let mut points = Array2::zeros((first.len(), d));
    for (u, &i) in first.iter().enumerate() {
        points.row_mut(u).assign(&x.row(i));
    }
    Some(Dedup { points, weight, first, of_row })
}

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
    use ndarray::array;

    #[test]
    fn groups_equal_rows_in_first_occurrence_order() {
        let x = array![[1.0, 2.0], [0.0, 0.0], [1.0, 2.0], [-0.0, 0.0], [3.0, 1.0], [1.0, 2.0]];
        let d = dedup(x.view()).unwrap();
        assert_eq!(d.first, vec![0, 1, 4]);
        assert_eq!(d.weight, vec![3, 2, 1]);
        assert_eq!(d.of_row, vec![0, 1, 0, 1, 2, 0]);
        assert_eq!(d.points.row(2).to_vec(), vec![3.0, 1.0]);
        assert!(dedup(array![[1.0], [2.0]].view()).is_none());
    }

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
