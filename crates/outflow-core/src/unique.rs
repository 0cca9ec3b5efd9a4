//! Exact duplicate rows of a matrix, found once: flow tables repeat rows (scans, retries, KDD's
//! smurf / neptune records), and work done per unique row is done once for all its copies.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Unique rows of a matrix and how the original rows map onto them.
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueRows {
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

/// Collapses equal rows (by `==` on every value; NaN never equals itself). Returns `None` when all rows
/// are distinct. Parallel; the result does not depend on the number of threads.
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0, 2.0], [0.0, 0.0], [1.0, 2.0]];
/// let u = outflow_core::unique_rows(x.view()).unwrap();
/// assert_eq!(u.points, array![[1.0, 2.0], [0.0, 0.0]]);
/// assert_eq!((u.weight, u.of_row), (vec![2, 1], vec![0, 1, 0]));
/// ```
pub fn unique_rows(x: ArrayView2<'_, f64>) -> Option<UniqueRows> {
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
    Some(UniqueRows { points, weight, first, of_row })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn groups_equal_rows_in_first_occurrence_order() {
        let x = array![[1.0, 2.0], [0.0, 0.0], [1.0, 2.0], [-0.0, 0.0], [3.0, 1.0], [1.0, 2.0]];
        let d = unique_rows(x.view()).unwrap();
        assert_eq!(d.first, vec![0, 1, 4]);
        assert_eq!(d.weight, vec![3, 2, 1]);
        assert_eq!(d.of_row, vec![0, 1, 0, 1, 2, 0]);
        assert_eq!(d.points.row(2).to_vec(), vec![3.0, 1.0]);
        assert!(unique_rows(array![[1.0], [2.0]].view()).is_none());
    }
}
