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
    // Each hash beside its row: sorting row numbers by a looked-up hash missed the cache at every
    // comparison.
    let mut keyed: Vec<(u64, u32)> =
        (0..n).into_par_iter().with_min_len(4096).map(|i| (row_hash(row(i)), i as u32)).collect();
    keyed.par_sort_unstable();
    // Within each run of equal hashes (rows ascending), equal rows follow the first (smallest) of them,
    // their leader: the leader of each entry of `keyed`, runs in parallel.
    let leads: Vec<u32> = keyed
        .par_chunk_by(|a, b| a.0 == b.0)
        .flat_map_iter(|run| {
            if let [(_, i)] = run {
                return rayon::iter::Either::Left(std::iter::once(*i));
            }
            let mut lead = vec![u32::MAX; run.len()];
            for a in 0..run.len() {
                if lead[a] != u32::MAX {
                    continue;
                }
                let i = run[a].1;
                lead[a] = i;
                for b in a + 1..run.len() {
                    if lead[b] == u32::MAX && row(i as usize) == row(run[b].1 as usize) {
                        lead[b] = i;
                    }
                }
            }
            rayon::iter::Either::Right(lead.into_iter())
        })
        .collect();
    let mut leader = vec![0u32; n];
    for (&(_, i), &l) in keyed.iter().zip(&leads) {
        leader[i as usize] = l;
    }
    // Unique rows in order of first occurrence: the leaders, ascending.
    let first: Vec<usize> = (0..n).into_par_iter().filter(|&i| leader[i] as usize == i).collect();
    if first.len() == n {
        return None;
    }
    let mut id_of_leader = vec![0u32; n];
    for (u, &i) in first.iter().enumerate() {
        id_of_leader[i] = u as u32;
    }
    let of_row: Vec<u32> = leader.par_iter().with_min_len(4096).map(|&l| id_of_leader[l as usize]).collect();
    let mut weight = vec![0u32; first.len()];
    for &u in &of_row {
        weight[u as usize] += 1;
    }
    let mut points = vec![0.0; first.len() * d];
    if d > 0 {
        points.par_chunks_mut(d).zip(first.par_iter()).with_min_len(1024).for_each(|(p, &i)| p.copy_from_slice(row(i)));
    }
    let points = Array2::from_shape_vec((first.len(), d), points).expect("one row per unique row");
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
