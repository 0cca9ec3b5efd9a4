//! The fuzzy simplicial set of UMAP: every row's neighbourhood turned into memberships by a smooth
//! distance normalisation, then the per-row sets joined by a fuzzy union (umap-learn's
//! `smooth_knn_dist`, `compute_membership_strengths` and `fuzzy_simplicial_set`).

use rayon::prelude::*;

/// Tolerance of the bandwidth search and floor of a bandwidth relative to the mean distance
/// (umap-learn's `SMOOTH_K_TOLERANCE`, `MIN_K_DIST_SCALE`).
const TOLERANCE: f64 = 1e-5;
const MIN_SCALE: f64 = 1e-3;
const SEARCH_STEPS: usize = 64;

/// A sparse square matrix in compressed rows, columns ascending within a row.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Csr {
    pub n: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.values[r])
    }

    /// Keeps the entries for which `keep(value)` holds.
    pub fn retain(&mut self, keep: impl Fn(f32) -> bool) {
        let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
        for i in 0..self.n {
            let (c, v) = self.row(i);
            for (&c, &v) in c.iter().zip(v) {
                if keep(v) {
                    indices.push(c);
                    values.push(v);
                }
            }
            indptr.push(values.len());
        }
        (self.indptr, self.indices, self.values) = (indptr, indices, values);
    }
}

/// How small a bandwidth may get where the search ends below 1e-3 of a mean distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Floor {
    /// umap-learn's rule: the row's mean distance when `rho > 0`, else the mean over all rows.
    Fit,
    /// The row's own mean distance always, so a new row's bandwidth never depends on its batch.
    PerRow,
}

/// Per row, the distance to its first `local_connectivity` nearest non-zero neighbours (`rho`) and the
/// bandwidth `sigma` with `Σ_j exp(−max(d_j − rho, 0) / sigma) = log2(k)` over the neighbours after the
/// first column. `dists` is `n × k`, each row ascending.
pub(crate) fn smooth_knn_dist(dists: &[f32], k: usize, local_connectivity: f64, floor: Floor) -> (Vec<f32>, Vec<f32>) {
    let n = dists.len() / k;
    let target = (k as f64).log2();
    let mean_all = dists.iter().map(|&d| f64::from(d)).sum::<f64>() / dists.len().max(1) as f64;
    let (sigma, rho): (Vec<f32>, Vec<f32>) = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|i| {
            let row = &dists[i * k..(i + 1) * k];
            let non_zero: Vec<f64> = row.iter().filter(|&&d| d > 0.0).map(|&d| f64::from(d)).collect();
            let mut rho = 0.0f64;
            if non_zero.len() as f64 >= local_connectivity {
                let index = local_connectivity.floor() as usize;
                let frac = local_connectivity - index as f64;
                if index > 0 {
                    rho = non_zero[index - 1];
                    if frac > TOLERANCE {
                        rho += frac * (non_zero[index] - non_zero[index - 1]);
                    }
                } else if let Some(&first) = non_zero.first() {
                    rho = frac * first;
                }
            } else if let Some(&m) = non_zero.last() {
                rho = m;
            }
            let rho = f64::from(rho as f32);
            let (mut lo, mut hi, mut mid) = (0.0f64, f64::from(f32::MAX), 1.0f64);
            for _ in 0..SEARCH_STEPS {
                let psum: f64 = row[1..]
                    .iter()
                    .map(|&d| {
                        let d = f64::from(d) - rho;
                        if d > 0.0 { (-(d / mid)).exp() } else { 1.0 }
                    })
                    .sum();
                if (psum - target).abs() < TOLERANCE {
                    break;
                }
                if psum > target {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    if hi >= f64::from(f32::MAX) {
                        mid *= 2.0;
                    } else {
                        mid = (lo + hi) / 2.0;
                    }
                }
            }
            let floor = if rho > 0.0 || floor == Floor::PerRow {
                MIN_SCALE * row.iter().map(|&d| f64::from(d)).sum::<f64>() / k as f64
            } else {
                MIN_SCALE * mean_all
            };
            ((mid.max(floor)) as f32, rho as f32)
        })
        .unzip();
    (sigma, rho)
}

/// The membership of each neighbour: 1 up to `rho`, then `exp(−(d − rho) / sigma)`; a row's own index
/// gets 0 unless `bipartite` (new rows against the training rows).
pub(crate) fn membership(d: f32, rho: f32, sigma: f32) -> f32 {
    if d - rho <= 0.0 || sigma == 0.0 { 1.0 } else { (-((d - rho) / sigma)).exp() }
}

/// The symmetric fuzzy graph of `n` rows from their `k` nearest neighbours (row-major `n × k`, the row
/// itself first): memberships `A`, then `mix·(A + Aᵀ − A∘Aᵀ) + (1 − mix)·A∘Aᵀ`, zeros dropped.
pub(crate) fn fuzzy_simplicial_set(indices: &[u32], dists: &[f32], k: usize, local_connectivity: f64, mix: f64) -> Csr {
    let n = indices.len() / k;
    let (sigma, rho) = smooth_knn_dist(dists, k, local_connectivity, Floor::Fit);
    // A in rows (columns sorted), and Aᵀ.
    let rows: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|i| {
            let mut r: Vec<(u32, f32)> = (0..k)
                .filter_map(|j| {
                    let c = indices[i * k + j];
                    let v = if c as usize == i { 0.0 } else { membership(dists[i * k + j], rho[i], sigma[i]) };
                    (v != 0.0).then_some((c, v))
                })
                .collect();
            r.sort_unstable_by_key(|e| e.0);
            r
        })
        .collect();
    let mut counts = vec![0usize; n + 1];
    for r in &rows {
        for &(c, _) in r {
            counts[c as usize + 1] += 1;
        }
    }
    for i in 0..n {
        counts[i + 1] += counts[i];
    }
    let mut t_idx = vec![0u32; counts[n]];
    let mut t_val = vec![0f32; counts[n]];
    let mut fill = counts.clone();
    for (i, r) in rows.iter().enumerate() {
        for &(c, v) in r {
            let p = &mut fill[c as usize];
            t_idx[*p] = i as u32;
            t_val[*p] = v;
            *p += 1;
        }
    }
    let mix = mix as f32;
    let merged: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|i| {
            let a = &rows[i];
            let t = counts[i]..counts[i + 1];
            let (ti, tv) = (&t_idx[t.clone()], &t_val[t]);
            let mut out = Vec::with_capacity(a.len() + ti.len());
            let (mut p, mut q) = (0, 0);
            while p < a.len() || q < ti.len() {
                let ca = a.get(p).map_or(u32::MAX, |e| e.0);
                let ct = ti.get(q).copied().unwrap_or(u32::MAX);
                let (c, x, y) = if ca == ct {
                    p += 1;
                    q += 1;
                    (ca, a[p - 1].1, tv[q - 1])
                } else if ca < ct {
                    p += 1;
                    (ca, a[p - 1].1, 0.0)
                } else {
                    q += 1;
                    (ct, 0.0, tv[q - 1])
                };
                let prod = x * y;
                let v = mix * (x + y - prod) + (1.0 - mix) * prod;
                if v != 0.0 {
                    out.push((c, v));
                }
            }
            out
        })
        .collect();
    let mut g = Csr { n, indptr: Vec::with_capacity(n + 1), ..Default::default() };
    g.indptr.push(0);
    for r in merged {
        for (c, v) in r {
            g.indices.push(c);
            g.values.push(v);
        }
        g.indptr.push(g.values.len());
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_gives_log2_k_mass() {
        let d = [0.0f32, 1.0, 1.5, 2.0, 3.0];
        let (sigma, rho) = smooth_knn_dist(&d, 5, 1.0, Floor::Fit);
        assert_eq!(rho[0], 1.0);
        let mass: f64 = d[1..].iter().map(|&x| f64::from(membership(x, rho[0], sigma[0]))).sum();
        assert!((mass - 5f64.log2()).abs() < 1e-4, "{mass}");
    }

    #[test]
    fn union_is_symmetric() {
        // Three rows on a line; each lists itself then its two others.
        let idx = [0u32, 1, 2, 1, 0, 2, 2, 1, 0];
        let d = [0.0f32, 1.0, 3.0, 0.0, 1.0, 2.0, 0.0, 2.0, 3.0];
        let g = fuzzy_simplicial_set(&idx, &d, 3, 1.0, 1.0);
        for i in 0..3 {
            let (c, v) = g.row(i);
            for (&j, &x) in c.iter().zip(v) {
                let (cj, vj) = g.row(j as usize);
                let back = cj.iter().position(|&t| t as usize == i).map(|p| vj[p]);
                assert_eq!(back, Some(x));
            }
        }
    }
}
