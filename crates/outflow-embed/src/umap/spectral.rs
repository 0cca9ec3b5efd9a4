//! UMAP's spectral start: the eigenvectors of the normalised Laplacian `I − D^(−1/2)·A·D^(−1/2)` of the
//! fuzzy graph with the smallest non-zero eigenvalues (umap-learn's `spectral_layout`). A graph of several
//! connected components lays out each one on its own and places them around a meta layout (umap-learn's
//! `multi_component_layout`).
//!
//! The eigenvectors come from a thick-restart Krylov method (Rayleigh–Ritz on an orthonormal basis
//! rebuilt around the best Ritz vectors) on `(I + D^(−1/2)·A·D^(−1/2)) / 2`, whose largest eigenvalues are
//! the Laplacian's smallest, with the known first eigenvector `√degree` deflated; components of up to
//! [`DENSE_MAX`] rows use a dense decomposition. Where umap-learn's ARPACK call fails it falls back to a
//! random start; this one keeps the best Ritz vectors found, a better start than noise.

use ndarray::ArrayView2;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use outflow_cluster::Metric;

use super::graph::Csr;

/// Components up to this many rows are decomposed densely.
const DENSE_MAX: usize = 400;
const RESIDUAL_TOL: f64 = 1e-4;
const MAX_RESTARTS: usize = 80;

/// The start of `dim` coordinates per vertex (flat `n × dim`) before umap-learn's rescaling.
pub(crate) fn spectral_layout(
    g: &Csr,
    dim: usize,
    x: ArrayView2<'_, f64>,
    metric: Metric,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let n = g.n;
    let (labels, n_comp) = components(g);
    if n_comp == 1 {
        return component_layout(g, dim);
    }
    let meta = meta_layout(&labels, n_comp, dim, x, metric);
    let mut out = vec![0.0; n * dim];
    let mut members = vec![Vec::new(); n_comp];
    for (i, &l) in labels.iter().enumerate() {
        members[l].push(i);
    }
    for (c, rows) in members.iter().enumerate() {
        let centre = &meta[c * dim..(c + 1) * dim];
        let range = (0..n_comp)
            .filter(|&o| o != c)
            .map(|o| euclid(centre, &meta[o * dim..(o + 1) * dim]))
            .filter(|&d| d > 0.0)
            .fold(f64::INFINITY, f64::min)
            / 2.0;
        let range = if range.is_finite() { range } else { 1.0 };
        if rows.len() < 2 * dim || rows.len() <= dim + 1 {
            for &r in rows {
                for d in 0..dim {
                    out[r * dim + d] = rng.random_range(-range..=range) + centre[d];
                }
            }
            continue;
        }
        let sub = subgraph(g, rows);
        let emb = component_layout(&sub, dim);
        let max = emb.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { range / max } else { 0.0 };
        for (k, &r) in rows.iter().enumerate() {
            for d in 0..dim {
                out[r * dim + d] = emb[k * dim + d] * scale + centre[d];
            }
        }
    }
    out
}

fn euclid(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Connected components of the (symmetric) graph, numbered by first vertex.
fn components(g: &Csr) -> (Vec<usize>, usize) {
    let n = g.n;
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..n {
        for &j in g.row(i).0 {
            let (a, b) = (find(&mut parent, i), find(&mut parent, j as usize));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut label = vec![usize::MAX; n];
    let mut next = 0;
    let out = (0..n)
        .map(|i| {
            let r = find(&mut parent, i);
            if label[r] == usize::MAX {
                label[r] = next;
                next += 1;
            }
            label[r]
        })
        .collect();
    (out, next)
}

fn subgraph(g: &Csr, rows: &[usize]) -> Csr {
    let mut local = vec![u32::MAX; g.n];
    for (k, &r) in rows.iter().enumerate() {
        local[r] = k as u32;
    }
    let mut s = Csr { n: rows.len(), indptr: vec![0], ..Default::default() };
    for &r in rows {
        let (c, v) = g.row(r);
        for (&c, &v) in c.iter().zip(v) {
            if local[c as usize] != u32::MAX {
                s.indices.push(local[c as usize]);
                s.values.push(v);
            }
        }
        s.indptr.push(s.values.len());
    }
    s
}

/// Where the components sit: a spectral embedding of their centroids' affinities `exp(−d²)` when there are
/// more than `2·dim` of them, else the corners `±e_k` of the axes.
fn meta_layout(labels: &[usize], n_comp: usize, dim: usize, x: ArrayView2<'_, f64>, metric: Metric) -> Vec<f64> {
    if n_comp <= 2 * dim {
        let k = n_comp.div_ceil(2);
        let mut m = vec![0.0; n_comp * dim];
        for c in 0..n_comp {
            let axis = c % k;
            m[c * dim + axis] = if c < k { 1.0 } else { -1.0 };
        }
        return m;
    }
    let p = x.ncols();
    let mut centroids = vec![0.0; n_comp * p];
    let mut counts = vec![0usize; n_comp];
    for (r, &l) in labels.iter().enumerate() {
        counts[l] += 1;
        for (j, v) in x.row(r).iter().enumerate() {
            centroids[l * p + j] += v;
        }
    }
    for (c, &cnt) in counts.iter().enumerate() {
        centroids[c * p..(c + 1) * p].iter_mut().for_each(|v| *v /= cnt as f64);
    }
    let aff = faer::Mat::<f64>::from_fn(n_comp, n_comp, |i, j| {
        if i == j {
            0.0
        } else {
            let d = metric.distance(&centroids[i * p..(i + 1) * p], &centroids[j * p..(j + 1) * p]);
            (-(d * d)).exp()
        }
    });
    let emb = laplacian_eigenmap(&aff, dim);
    let max = emb.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max > 0.0 && max.is_finite() { emb.iter().map(|v| v / max).collect() } else { emb }
}

/// scikit-learn's `SpectralEmbedding(affinity="precomputed")` on a small dense affinity: the normalised
/// Laplacian's eigenvectors after the first, divided by `√degree`, signs fixed.
fn laplacian_eigenmap(aff: &faer::Mat<f64>, dim: usize) -> Vec<f64> {
    let n = aff.nrows();
    let deg: Vec<f64> = (0..n).map(|i| (0..n).map(|j| aff[(i, j)]).sum::<f64>().sqrt()).collect();
    let inv = |i: usize| if deg[i] > 0.0 { 1.0 / deg[i] } else { 0.0 };
    let l = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        let v = -aff[(i, j)] * inv(i) * inv(j);
        if i == j { 1.0 + v } else { v }
    });
    let vecs = smallest_dense(&l, dim + 1);
    let mut out = vec![0.0; n * dim];
    for d in 0..dim {
        let mut v: Vec<f64> = (0..n).map(|i| vecs[d + 1][i] * inv(i)).collect();
        fix_sign(&mut v);
        for i in 0..n {
            out[i * dim + d] = v[i];
        }
    }
    out
}

/// The `count` eigenvectors of a symmetric matrix with the smallest eigenvalues, ascending.
fn smallest_dense(m: &faer::Mat<f64>, count: usize) -> Vec<Vec<f64>> {
    let n = m.nrows();
    match m.self_adjoint_eigen(faer::Side::Lower) {
        Ok(eig) => {
            let u = eig.U();
            (0..count.min(n)).map(|k| (0..n).map(|i| u[(i, k)]).collect()).collect()
        }
        Err(_) => (0..count).map(|k| (0..n).map(|i| if i == k { 1.0 } else { 0.0 }).collect()).collect(),
    }
}

/// The sign that makes the entry of largest magnitude positive (scikit-learn's deterministic flip).
fn fix_sign(v: &mut [f64]) {
    let mut best = 0.0f64;
    for &x in v.iter() {
        if x.abs() > best.abs() {
            best = x;
        }
    }
    if best < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
}

/// The spectral layout of one connected graph: `dim` eigenvectors after the trivial one, flat `n × dim`.
fn component_layout(g: &Csr, dim: usize) -> Vec<f64> {
    let n = g.n;
    let deg: Vec<f64> = (0..n).map(|i| g.row(i).1.iter().map(|&v| f64::from(v)).sum::<f64>()).collect();
    let sqrt_deg: Vec<f64> = deg.iter().map(|d| d.sqrt()).collect();
    let inv: Vec<f64> = sqrt_deg.iter().map(|&s| if s > 0.0 { 1.0 / s } else { 0.0 }).collect();
    let vecs: Vec<Vec<f64>> = if n <= DENSE_MAX {
        let mut l = faer::Mat::<f64>::zeros(n, n);
        for i in 0..n {
            l[(i, i)] = 1.0;
            let (c, v) = g.row(i);
            for (&j, &w) in c.iter().zip(v) {
                l[(i, j as usize)] -= f64::from(w) * inv[i] * inv[j as usize];
            }
        }
        smallest_dense(&l, dim + 1).into_iter().skip(1).collect()
    } else {
        // Normalised edge weights of D^(−1/2)·A·D^(−1/2).
        let w: Vec<f64> = (0..n)
            .flat_map(|i| {
                let (c, v) = g.row(i);
                let inv = &inv;
                c.iter().zip(v).map(move |(&j, &x)| f64::from(x) * inv[i] * inv[j as usize])
            })
            .collect();
        let apply = |x: &[f64], y: &mut [f64]| {
            y.par_iter_mut().with_min_len(1024).enumerate().for_each(|(i, yi)| {
                let r = g.indptr[i]..g.indptr[i + 1];
                let s: f64 = g.indices[r.clone()].iter().zip(&w[r]).map(|(&j, &a)| a * x[j as usize]).sum();
                *yi = 0.5 * (x[i] + s);
            });
        };
        let norm = sqrt_deg.iter().map(|v| v * v).sum::<f64>().sqrt();
        let trivial: Vec<f64> = sqrt_deg.iter().map(|v| v / norm).collect();
        largest_deflated(n, &apply, &trivial, dim)
    };
    let mut out = vec![0.0; n * dim];
    for (d, mut v) in vecs.into_iter().enumerate() {
        fix_sign(&mut v);
        for i in 0..n {
            out[i * dim + d] = v[i];
        }
    }
    out
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.par_chunks(4096).zip(b.par_chunks(4096)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>()).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Removes from `w` its components along `basis` (orthonormal), twice for stability.
fn orthogonalise(w: &mut [f64], basis: &[&[f64]]) {
    for _ in 0..2 {
        let coef: Vec<f64> = basis.iter().map(|b| dot(b, w)).collect();
        w.par_chunks_mut(4096).enumerate().for_each(|(c, chunk)| {
            let off = c * 4096;
            for (b, &k) in basis.iter().zip(&coef) {
                for (i, x) in chunk.iter_mut().enumerate() {
                    *x -= k * b[off + i];
                }
            }
        });
    }
}

/// A fixed pseudo-random vector (column `c`), so the start does not depend on a generator's state.
fn fixed_vector(n: usize, c: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let mut z =
                (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (c as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
            z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

/// The `want` eigenvectors with the largest eigenvalues of the symmetric operator `apply`, orthogonal to
/// the unit vector `trivial` (itself an eigenvector). A block Krylov method: a single start vector cannot
/// find two eigenvectors of one (near-)repeated eigenvalue, which weakly joined groups of flows produce.
fn largest_deflated(
    n: usize,
    apply: &(dyn Fn(&[f64], &mut [f64]) + Sync),
    trivial: &[f64],
    want: usize,
) -> Vec<Vec<f64>> {
    let block = want + 1;
    // Basis size: umap-learn's max(2k + 1, √n), bounded so two n × m bases stay under ~1 GB.
    let budget = (1usize << 26) / n.max(1);
    let m = ((n as f64).sqrt() as usize).max(4 * block).min(40).min(budget.max(3 * block)).min(n - 1);
    let keep = (m / 2).max(want + 1);
    let mut v: Vec<Vec<f64>> = Vec::with_capacity(m + block);
    let mut av: Vec<Vec<f64>> = Vec::with_capacity(m + block);
    // Adds the part of each candidate outside the basis; returns how many were added.
    let add = |v: &mut Vec<Vec<f64>>, av: &mut Vec<Vec<f64>>, cands: Vec<Vec<f64>>| -> usize {
        let mut added = 0;
        for mut w in cands {
            let refs: Vec<&[f64]> = std::iter::once(trivial).chain(v.iter().map(|x| x.as_slice())).collect();
            let before = norm(&w);
            orthogonalise(&mut w, &refs);
            let s = norm(&w);
            if s <= 1e-10 * before.max(1e-300) || s == 0.0 {
                continue;
            }
            w.iter_mut().for_each(|x| *x /= s);
            let mut y = vec![0.0; n];
            apply(&w, &mut y);
            v.push(w);
            av.push(y);
            added += 1;
        }
        added
    };
    let mut fresh = 0;
    let mut last = add(&mut v, &mut av, (0..block).map(|c| fixed_vector(n, c)).collect());
    let mut best: Vec<Vec<f64>> = Vec::new();
    for _ in 0..MAX_RESTARTS {
        // Extend the block Krylov basis from the newest block.
        while v.len() < m && last > 0 {
            let cands: Vec<Vec<f64>> = av[v.len() - last..].to_vec();
            last = add(&mut v, &mut av, cands);
            if last == 0 {
                // An invariant subspace: continue from fixed vectors outside it.
                fresh += 1;
                last = add(&mut v, &mut av, (0..block).map(|c| fixed_vector(n, block * fresh + c)).collect());
            }
        }
        // Rayleigh–Ritz.
        let k = v.len();
        let pairs: Vec<(usize, usize)> = (0..k).flat_map(|i| (0..=i).map(move |j| (i, j))).collect();
        let t_vals: Vec<f64> =
            pairs.par_iter().map(|&(i, j)| v[i].iter().zip(&av[j]).map(|(a, b)| a * b).sum()).collect();
        let mut t = faer::Mat::<f64>::zeros(k, k);
        for (&(i, j), &x) in pairs.iter().zip(&t_vals) {
            t[(i, j)] = x;
            t[(j, i)] = x;
        }
        let Ok(eig) = t.self_adjoint_eigen(faer::Side::Lower) else { break };
        let (vals, y) = (eig.S(), eig.U());
        let combine = |basis: &[Vec<f64>], col: usize| -> Vec<f64> {
            let mut out = vec![0.0; n];
            out.par_chunks_mut(4096).enumerate().for_each(|(c, chunk)| {
                let off = c * 4096;
                for (b, vec) in basis.iter().enumerate() {
                    let coef = y[(b, col)];
                    for (i, o) in chunk.iter_mut().enumerate() {
                        *o += coef * vec[off + i];
                    }
                }
            });
            out
        };
        // Ritz values ascending: the largest are the last columns.
        let take = keep.min(k);
        let cols: Vec<usize> = (0..take).map(|r| k - 1 - r).collect();
        let ritz: Vec<Vec<f64>> = cols.iter().map(|&c| combine(&v, c)).collect();
        let aritz: Vec<Vec<f64>> = cols.iter().map(|&c| combine(&av, c)).collect();
        let wanted = want.min(take);
        let residuals: Vec<Vec<f64>> =
            (0..wanted).map(|r| aritz[r].iter().zip(&ritz[r]).map(|(a, u)| a - vals[cols[r]] * u).collect()).collect();
        let worst = residuals.iter().map(|r| norm(r)).fold(0.0, f64::max);
        best = ritz[..wanted].to_vec();
        if worst < RESIDUAL_TOL || k >= n - 1 {
            break;
        }
        // Restart from the kept Ritz vectors, continued by the wanted pairs' residuals.
        v = ritz;
        av = aritz;
        last = add(&mut v, &mut av, residuals);
        if last == 0 {
            break;
        }
    }
    while best.len() < want {
        best.push(vec![0.0; n]);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 26 × 26 grid with uneven edge weights: a connected graph with distinct small eigenvalues.
    fn grid() -> Csr {
        let side = 26;
        let n = side * side;
        let w = |a: usize, b: usize| 0.2 + ((a.min(b) * 7919 + a.max(b) * 104729) % 1000) as f32 / 1250.0;
        let mut g = Csr { n, indptr: vec![0], ..Default::default() };
        for i in 0..n {
            let (r, c) = (i / side, i % side);
            let mut nb = Vec::new();
            if r > 0 {
                nb.push(i - side);
            }
            if c > 0 {
                nb.push(i - 1);
            }
            if c + 1 < side {
                nb.push(i + 1);
            }
            if r + 1 < side {
                nb.push(i + side);
            }
            for j in nb {
                g.indices.push(j as u32);
                g.values.push(w(i, j));
            }
            g.indptr.push(g.values.len());
        }
        g
    }

    #[test]
    fn krylov_eigenvectors_equal_the_dense_ones() {
        let g = grid();
        assert!(g.n > DENSE_MAX);
        assert_eq!(components(&g).1, 1);
        let n = g.n;
        let krylov = component_layout(&g, 3);
        let dense = smallest_dense(&laplacian(&g), 4);
        for d in 0..3 {
            let v: Vec<f64> = (0..n).map(|i| krylov[i * 3 + d]).collect();
            let cos = v.iter().zip(&dense[d + 1]).map(|(a, b)| a * b).sum::<f64>() / norm(&v) / norm(&dense[d + 1]);
            assert!(cos.abs() > 0.9999, "eigenvector {d}: |cos| {}", cos.abs());
        }
    }

    fn laplacian(g: &Csr) -> faer::Mat<f64> {
        let n = g.n;
        let deg: Vec<f64> = (0..n).map(|i| g.row(i).1.iter().map(|&v| f64::from(v)).sum::<f64>()).collect();
        let mut l = faer::Mat::<f64>::zeros(n, n);
        for i in 0..n {
            l[(i, i)] = 1.0;
            let (c, v) = g.row(i);
            for (&j, &w) in c.iter().zip(v) {
                l[(i, j as usize)] -= f64::from(w) / (deg[i] * deg[j as usize]).sqrt();
            }
        }
        l
    }

    #[test]
    fn krylov_finds_repeated_eigenvalues() {
        // Two copies of the grid joined by one light edge: the small eigenvalues come in near pairs, which a
        // single start vector cannot both find.
        let one = grid();
        let n = one.n;
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); 2 * n];
        for copy in 0..2 {
            for i in 0..n {
                let (c, v) = one.row(i);
                rows[i + copy * n].extend(c.iter().zip(v).map(|(&j, &w)| (j + (copy * n) as u32, w)));
            }
        }
        rows[n - 1].push((n as u32, 1e-3));
        rows[n].insert(0, ((n - 1) as u32, 1e-3));
        let mut g = Csr { n: 2 * n, indptr: vec![0], ..Default::default() };
        for r in rows {
            for (j, w) in r {
                g.indices.push(j);
                g.values.push(w);
            }
            g.indptr.push(g.values.len());
        }
        let l = laplacian(&g);
        let eig = l.self_adjoint_eigen(faer::Side::Lower).unwrap();
        let krylov = component_layout(&g, 3);
        let mut rq: Vec<f64> = (0..3)
            .map(|d| {
                let v: Vec<f64> = (0..g.n).map(|i| krylov[i * 3 + d]).collect();
                let lv: Vec<f64> = (0..g.n).map(|i| (0..g.n).map(|j| l[(i, j)] * v[j]).sum()).collect();
                dot(&v, &lv) / dot(&v, &v)
            })
            .collect();
        rq.sort_by(f64::total_cmp);
        for (d, &q) in rq.iter().enumerate() {
            assert!((q - eig.S()[d + 1]).abs() < 1e-6, "eigenvalue {d}: {q} vs {}", eig.S()[d + 1]);
        }
    }

    #[test]
    fn meta_layout_separates_many_components() {
        let labels: Vec<usize> = (0..70).map(|i| i / 10).collect();
        let x =
            ndarray::Array2::from_shape_fn((70, 2), |(i, j)| (i / 10) as f64 * 5.0 + (i % 10) as f64 * 0.01 + j as f64);
        let m = meta_layout(&labels, 7, 2, x.view(), Metric::Euclidean);
        assert!(m.iter().all(|v| v.is_finite()));
        for a in 0..7 {
            for b in 0..a {
                assert!(euclid(&m[a * 2..a * 2 + 2], &m[b * 2..b * 2 + 2]) > 0.0);
            }
        }
    }
}
