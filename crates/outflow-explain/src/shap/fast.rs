//! The production TreeSHAP: per-leaf subset tables (see the module documentation of `shap`).

use ndarray::{Array3, ArrayView2};
use rayon::prelude::*;

use super::{ShapTree, TreeEnsemble};

/// Rows per parallel work item; every item walks all trees over its rows, tree by tree, so that a tree's
/// tables stay in cache while they are reused.
const CHUNK_ROWS: usize = 32;
/// Largest path length (distinct features) that gets a `2^d` table.
const MAX_TABLE_DEPTH: usize = 12;
/// Table entries allowed over the whole ensemble (64 MiB of `f64`), spread evenly over the trees.
const TABLE_BUDGET: usize = 1 << 23;
const DIRECT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Leaf {
    /// Slot of the leaf in the per-row mask array.
    slot: u32,
    elem_start: u32,
    d: u32,
    /// Offset of the `2^d` table, or [`DIRECT`].
    table: u32,
    value_start: u32,
}

/// An internal node; `slot`, `left` and `right` index the per-row mask array, and a node always comes
/// after its parent in [`Prepared::internal`].
#[derive(Debug, Clone, Copy)]
struct Internal {
    threshold: f64,
    /// Clears the bit of this node's feature on the leaf paths below it (applied on the cold side).
    clear: u64,
    feature: u32,
    slot: u32,
    left: u32,
    right: u32,
}

/// One distinct feature on a leaf's root path.
#[derive(Debug, Clone, Copy)]
struct Elem {
    feature: u32,
    /// Product of the weight fractions of the path's splits on this feature.
    z: f64,
    /// `(o − z) / z` for `o = 0` and `o = 1`: the factor of `H(A∖{j})` in the contribution.
    coef: [f64; 2],
    /// The row satisfies all those splits iff `lo < x <= hi`.
    lo: f64,
    hi: f64,
}

/// A tree rearranged for explaining many rows: internal nodes parents-first, and per leaf its path
/// elements, value and table.
struct Prepared {
    internal: Vec<Internal>,
    n_slots: usize,
    leaves: Vec<Leaf>,
    elems: Vec<Elem>,
    tables: Vec<f64>,
    values: Vec<f64>,
    max_d: usize,
}

/// `c_d(s) = s!(d−1−s)!/d!` for `s < d`, and 0 for `s = d`.
fn shapley_weights(d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d + 1];
    if d == 0 {
        return c;
    }
    c[0] = 1.0 / d as f64;
    for s in 0..d - 1 {
        c[s + 1] = c[s] * (s + 1) as f64 / (d - 1 - s) as f64;
    }
    c
}

/// `H(B) = Σ_{S⊆B} c_d(|S|) Π_{k∉S} z_k` for every subset `B` of the path's elements.
fn build_table(z: &[f64], out: &mut Vec<f64>) {
    let d = z.len();
    let size = 1usize << d;
    let full = size - 1;
    let c = shapley_weights(d);
    let mut prod = vec![1.0; size];
    for t in 1..size {
        prod[t] = prod[t & (t - 1)] * z[t.trailing_zeros() as usize];
    }
    let start = out.len();
    out.extend((0..size).map(|s| c[s.count_ones() as usize] * prod[full ^ s]));
    let h = &mut out[start..];
    for i in 0..d {
        let bit = 1usize << i;
        for s in 0..size {
            if s & bit != 0 {
                h[s] += h[s ^ bit];
            }
        }
    }
}

impl Prepared {
    fn new(t: &ShapTree, n_outputs: usize, n_rows: usize, budget: usize) -> Self {
        #[derive(Clone)]
        struct PathElem {
            feature: u32,
            z: f64,
            lo: f64,
            hi: f64,
        }
        let mut p = Prepared {
            internal: Vec::new(),
            n_slots: 1,
            leaves: Vec::new(),
            elems: Vec::new(),
            tables: Vec::new(),
            values: Vec::new(),
            max_d: 0,
        };
        // Depth-first from the root; a node's slot is assigned when its parent is expanded.
        let mut stack: Vec<(usize, u32, Vec<PathElem>)> = vec![(0, 0, Vec::new())];
        while let Some((i, slot, path)) = stack.pop() {
            if t.is_leaf(i) {
                let d = path.len();
                let elem_start = p.elems.len() as u32;
                p.elems.extend(path.iter().map(|e| Elem {
                    feature: e.feature,
                    z: e.z,
                    coef: [-1.0, (1.0 - e.z) / e.z],
                    lo: e.lo,
                    hi: e.hi,
                }));
                let use_table = d > 0
                    && d <= MAX_TABLE_DEPTH
                    && (1usize << d) <= n_rows.saturating_mul(d)
                    && p.tables.len() + (1usize << d) <= budget;
                let table = if use_table {
                    let off = p.tables.len() as u32;
                    let z: Vec<f64> = path.iter().map(|e| e.z).collect();
                    build_table(&z, &mut p.tables);
                    off
                } else {
                    DIRECT
                };
                let value_start = p.values.len() as u32;
                p.values.extend_from_slice(&t.values[i * n_outputs..(i + 1) * n_outputs]);
                p.leaves.push(Leaf { slot, elem_start, d: d as u32, table, value_start });
                p.max_d = p.max_d.max(d);
                continue;
            }
            let f = t.features[i] as u32;
            let thr = t.thresholds[i];
            let pos = path.iter().position(|e| e.feature == f).unwrap_or(path.len());
            let (l, r) = (t.children_left[i] as usize, t.children_right[i] as usize);
            let (ls, rs) = (p.n_slots as u32, p.n_slots as u32 + 1);
            p.n_slots += 2;
            // Table leaves have d ≤ MAX_TABLE_DEPTH < 64: deeper positions never matter to a mask.
            let clear = if pos < 64 { !(1u64 << pos) } else { !0 };
            p.internal.push(Internal { threshold: thr, clear, feature: f, slot, left: ls, right: rs });
            let w = t.node_sample_weight[i];
            for (child, cslot, right) in [(r, rs, true), (l, ls, false)] {
                let mut cp = path.clone();
                if pos == cp.len() {
                    cp.push(PathElem { feature: f, z: 1.0, lo: f64::NEG_INFINITY, hi: f64::INFINITY });
                }
                let e = &mut cp[pos];
                e.z *= t.node_sample_weight[child] / w;
                if right {
                    e.lo = e.lo.max(thr);
                } else {
                    e.hi = e.hi.min(thr);
                }
                stack.push((child, cslot, cp));
            }
        }
        p
    }

    /// Adds this tree's SHAP values for one row to `phi` (`features × outputs`); `C` is the number of
    /// outputs when known at compile time, else 0 and `c` is used.
    #[inline]
    fn accumulate<const C: usize>(&self, x: &[f64], phi: &mut [f64], c: usize, s: &mut Scratch) {
        let c = if C > 0 { C } else { c };
        // Top-down, branch-free: every node's mask has the bits of the path elements the row still
        // satisfies (a cold branch clears its feature's bit).
        s.masks.resize(self.n_slots, 0);
        s.masks[0] = !0;
        for nd in &self.internal {
            let m = s.masks[nd.slot as usize];
            let go_left = u64::from(x[nd.feature as usize] <= nd.threshold);
            s.masks[nd.left as usize] = m & (nd.clear | go_left.wrapping_neg());
            s.masks[nd.right as usize] = m & (nd.clear | (go_left ^ 1).wrapping_neg());
        }
        for leaf in &self.leaves {
            let d = leaf.d as usize;
            if d == 0 {
                continue;
            }
            let elems = &self.elems[leaf.elem_start as usize..leaf.elem_start as usize + d];
            let v = &self.values[leaf.value_start as usize..leaf.value_start as usize + c];
            if leaf.table == DIRECT {
                direct(elems, v, x, phi, c, s);
                continue;
            }
            // A: the path elements whose splits the row all satisfies.
            let a = (s.masks[leaf.slot as usize] as usize) & ((1usize << d) - 1);
            let table = &self.tables[leaf.table as usize..leaf.table as usize + (1 << d)];
            for (j, e) in elems.iter().enumerate() {
                let scale = e.coef[(a >> j) & 1] * table[a & !(1usize << j)];
                let f = e.feature as usize * c;
                add_scaled(&mut phi[f..f + c], scale, v);
            }
        }
    }
}

/// A leaf without a table: `W_j` from the polynomial `Π_k (z_k + o_k t)` with factor `j` divided out.
fn direct(elems: &[Elem], v: &[f64], x: &[f64], phi: &mut [f64], c: usize, s: &mut Scratch) {
    let d = elems.len();
    let q = &mut s.poly[..=d];
    q.iter_mut().for_each(|v| *v = 0.0);
    q[0] = 1.0;
    for (k, e) in elems.iter().enumerate() {
        let xv = x[e.feature as usize];
        let one = e.lo < xv && xv <= e.hi;
        for t in (1..=k + 1).rev() {
            q[t] = q[t] * e.z + if one { q[t - 1] } else { 0.0 };
        }
        q[0] *= e.z;
    }
    let w = &s.weights[d];
    for e in elems {
        let xv = x[e.feature as usize];
        let one = e.lo < xv && xv <= e.hi;
        let mut total = 0.0;
        let scale = if one {
            // Q(t) = (t + z) P(t): p_{d−1} = q_d, p_{t−1} = q_t − z p_t; W = Σ c_d(t) p_t.
            let mut p_t = q[d];
            for t in (0..d).rev() {
                total += w[t] * p_t;
                if t > 0 {
                    p_t = q[t] - e.z * p_t;
                }
            }
            total * (1.0 - e.z)
        } else {
            // Q(t) = z P(t), and the contribution W (0 − z) = −Σ c_d(t) q_t.
            for t in 0..d {
                total += w[t] * q[t];
            }
            -total
        };
        let f = e.feature as usize * c;
        add_scaled(&mut phi[f..f + c], scale, v);
    }
}

#[inline(always)]
fn add_scaled(out: &mut [f64], scale: f64, v: &[f64]) {
    for (o, v) in out.iter_mut().zip(v) {
        *o += scale * v;
    }
}

struct Scratch {
    masks: Vec<u64>,
    poly: Vec<f64>,
    weights: Vec<Vec<f64>>,
}

pub(super) fn shap_values(e: &TreeEnsemble, x: ArrayView2<'_, f64>) -> Array3<f64> {
    match e.n_outputs {
        1 => run::<1>(e, x),
        2 => run::<2>(e, x),
        3 => run::<3>(e, x),
        4 => run::<4>(e, x),
        _ => run::<0>(e, x),
    }
}

fn run<const C: usize>(e: &TreeEnsemble, x: ArrayView2<'_, f64>) -> Array3<f64> {
    let (n, m) = x.dim();
    let c = e.n_outputs;
    let budget = (TABLE_BUDGET / e.trees.len()).max(1 << 16);
    let prepared: Vec<Prepared> = e.trees.par_iter().map(|t| Prepared::new(t, c, n, budget)).collect();
    let max_d = prepared.iter().map(|p| p.max_d).max().unwrap_or(0);
    let weights: Vec<Vec<f64>> = (0..=max_d).map(shapley_weights).collect();
    let xs = x.as_slice().expect("standard layout");
    let row_len = m * c;
    let mut out = Array3::zeros((n, m, c));
    out.as_slice_mut().expect("standard layout").par_chunks_mut(CHUNK_ROWS * row_len).enumerate().for_each(
        |(ci, chunk)| {
            let mut s = Scratch { masks: Vec::new(), poly: vec![0.0; max_d + 1], weights: weights.clone() };
            let r0 = ci * CHUNK_ROWS;
            for p in &prepared {
                for (r, phi) in chunk.chunks_mut(row_len).enumerate() {
                    let row = &xs[(r0 + r) * m..(r0 + r + 1) * m];
                    p.accumulate::<C>(row, phi, c, &mut s);
                }
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_over_subset_sizes() {
        // Σ_s C(d−1, s) c_d(s) = 1.
        for d in 1..12usize {
            let c = shapley_weights(d);
            let mut binom = 1.0;
            let mut total = 0.0;
            for (s, &cs) in c.iter().enumerate().take(d) {
                total += binom * cs;
                binom = binom * (d - 1 - s) as f64 / (s + 1) as f64;
            }
            assert!((total - 1.0).abs() < 1e-12, "{d}: {total}");
        }
    }

    #[test]
    fn table_matches_definition() {
        let z = [0.3, 0.6, 0.9];
        let mut t = Vec::new();
        build_table(&z, &mut t);
        let c = shapley_weights(3);
        for (b, &got) in t.iter().enumerate() {
            let mut h = 0.0;
            for s in 0..8usize {
                if s & !b == 0 {
                    let comp: f64 = (0..3).filter(|k| s >> k & 1 == 0).map(|k| z[k]).product();
                    h += c[s.count_ones() as usize] * comp;
                }
            }
            assert!((got - h).abs() < 1e-15);
        }
    }
}
