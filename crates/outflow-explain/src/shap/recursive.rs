//! Algorithm 2 of Lundberg et al. (2018) as written in the paper: the reference implementation.

use ndarray::{Array3, ArrayView2};
use rayon::prelude::*;

use super::{ShapTree, TreeEnsemble};

/// One element of the unique path: feature `d` (−1 for the root's dummy), zero fraction `z`, one fraction
/// `o`, permutation weight `w`.
#[derive(Debug, Clone, Copy)]
struct PathElem {
    d: i64,
    z: f64,
    o: f64,
    w: f64,
}

fn extend(m: &mut Vec<PathElem>, pz: f64, po: f64, pi: i64) {
    let l = m.len();
    m.push(PathElem { d: pi, z: pz, o: po, w: if l == 0 { 1.0 } else { 0.0 } });
    for i in (0..l).rev() {
        m[i + 1].w += po * m[i].w * (i + 1) as f64 / (l + 1) as f64;
        m[i].w = pz * m[i].w * (l - i) as f64 / (l + 1) as f64;
    }
}

fn unwind(m: &mut Vec<PathElem>, i: usize) {
    let len = m.len();
    let (o, z) = (m[i].o, m[i].z);
    let mut n = m[len - 1].w;
    for j in (0..len - 1).rev() {
        if o != 0.0 {
            let t = m[j].w;
            m[j].w = n * len as f64 / ((j + 1) as f64 * o);
            n = t - m[j].w * z * (len - 1 - j) as f64 / len as f64;
        } else {
            m[j].w = m[j].w * len as f64 / (z * (len - 1 - j) as f64);
        }
    }
    for j in i..len - 1 {
        m[j].d = m[j + 1].d;
        m[j].z = m[j + 1].z;
        m[j].o = m[j + 1].o;
    }
    m.pop();
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    t: &ShapTree,
    c: usize,
    x: &[f64],
    phi: &mut [f64],
    j: usize,
    parent: &[PathElem],
    pz: f64,
    po: f64,
    pi: i64,
) {
    let mut m = parent.to_vec();
    extend(&mut m, pz, po, pi);
    if t.is_leaf(j) {
        let v = &t.values[j * c..(j + 1) * c];
        for i in 1..m.len() {
            let mut u = m.clone();
            unwind(&mut u, i);
            let w: f64 = u.iter().map(|e| e.w).sum();
            let f = m[i].d as usize;
            for (p, v) in phi[f * c..(f + 1) * c].iter_mut().zip(v) {
                *p += w * (m[i].o - m[i].z) * v;
            }
        }
        return;
    }
    let f = t.features[j];
    let (l, r) = (t.children_left[j] as usize, t.children_right[j] as usize);
    let (h, cold) = if x[f as usize] <= t.thresholds[j] { (l, r) } else { (r, l) };
    let (mut iz, mut io) = (1.0, 1.0);
    if let Some(k) = m.iter().position(|e| e.d == f as i64) {
        iz = m[k].z;
        io = m[k].o;
        unwind(&mut m, k);
    }
    let rj = t.node_sample_weight[j];
    recurse(t, c, x, phi, h, &m, iz * t.node_sample_weight[h] / rj, io, f as i64);
    recurse(t, c, x, phi, cold, &m, iz * t.node_sample_weight[cold] / rj, 0.0, f as i64);
}

pub(super) fn shap_values(e: &TreeEnsemble, x: ArrayView2<'_, f64>) -> Array3<f64> {
    let (n, m) = x.dim();
    let c = e.n_outputs;
    let xs = x.as_slice().expect("standard layout");
    let mut out = Array3::zeros((n, m, c));
    out.as_slice_mut().expect("standard layout").par_chunks_mut(m * c).enumerate().for_each(|(i, phi)| {
        let row = &xs[i * m..(i + 1) * m];
        for t in &e.trees {
            recurse(t, c, row, phi, 0, &[], 1.0, 1.0, -1);
        }
    });
    out
}
