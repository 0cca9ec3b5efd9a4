//! Building the tree: nodes in pre-order, the two halves of large nodes built in parallel, and the
//! dimension-major leaf chunks the vectorised scans read.

use rayon::prelude::*;

use super::*;

/// Leaves in `lanes`-point chunks, dimension-major within a chunk (`T::default()` padding), and each
/// leaf's offset; `value(j, v)` stores coordinate `j` of a point whose value is `v`.
pub(super) fn chunked<T: Copy + Default + Send>(
    nodes: &[Node],
    data: &[f64],
    dim: usize,
    lanes: usize,
    value: impl Fn(usize, f64) -> T + Sync,
) -> (Vec<T>, Vec<usize>) {
    let mut soa_off = vec![0usize; nodes.len()];
    let mut total = 0;
    for (id, nd) in nodes.iter().enumerate().filter(|(_, nd)| nd.is_leaf()) {
        soa_off[id] = total;
        total += ((nd.end - nd.start) as usize).div_ceil(lanes) * lanes * dim;
    }
    let mut soa = vec![T::default(); total];
    let mut work = Vec::new();
    let mut rest = &mut soa[..];
    for nd in nodes.iter().filter(|nd| nd.is_leaf()) {
        let (mine, tail) = rest.split_at_mut(((nd.end - nd.start) as usize).div_ceil(lanes) * lanes * dim);
        rest = tail;
        work.push((*nd, mine));
    }
    work.into_par_iter().with_min_len(64).for_each(|(nd, out)| {
        let (s, e) = (nd.start as usize, nd.end as usize);
        for (ci, c0) in (s..e).step_by(lanes).enumerate() {
            let base = ci * dim * lanes;
            for p in c0..(c0 + lanes).min(e) {
                for j in 0..dim {
                    out[base + j * lanes + (p - c0)] = value(j, data[p * dim + j]);
                }
            }
        }
    });
    (soa, soa_off)
}

/// [`build_node`] with the two halves of large nodes built in parallel; node ids stay in pre-order
/// (the right subtree's ids are shifted past the left one's), so the tree is the serial one exactly.
pub(super) fn build_par<'a, F>(
    row: &F,
    dim: usize,
    perm: &mut [u32],
    offset: usize,
    leaf_size: usize,
    mut nodes: Vec<Node>,
    mut bounds: Vec<f64>,
) -> (Vec<Node>, Vec<f64>)
where
    F: Fn(u32) -> ndarray::ArrayView1<'a, f64> + Sync,
{
    const PAR_MIN: usize = 20_000;
    if perm.len() < PAR_MIN {
        build_node(row, dim, perm, offset, leaf_size, &mut nodes, &mut bounds);
        return (nodes, bounds);
    }
    let Some(mid) = split_node(row, dim, perm, offset, leaf_size, &mut nodes, &mut bounds) else {
        return (nodes, bounds);
    };
    let id = nodes.len() - 1;
    let (left, right) = perm.split_at_mut(mid);
    let ((ln, lb), (rn, rb)) = rayon::join(
        || build_par(row, dim, left, offset, leaf_size, Vec::new(), Vec::new()),
        || build_par(row, dim, right, offset + mid, leaf_size, Vec::new(), Vec::new()),
    );
    let shift = |nd: Node, by: u32| Node {
        left: if nd.left == NONE { NONE } else { nd.left + by },
        right: if nd.right == NONE { NONE } else { nd.right + by },
        ..nd
    };
    let l_at = nodes.len() as u32;
    let r_at = l_at + ln.len() as u32;
    nodes[id].left = l_at;
    nodes[id].right = r_at;
    nodes.extend(ln.into_iter().map(|nd| shift(nd, l_at)));
    nodes.extend(rn.into_iter().map(|nd| shift(nd, r_at)));
    bounds.extend(lb);
    bounds.extend(rb);
    (nodes, bounds)
}

/// Pushes the node of `perm` (its box) and, unless it stays a leaf, orders `perm` around the median of
/// the widest dimension and returns the split position.
pub(super) fn split_node<'a, F>(
    row: &F,
    dim: usize,
    perm: &mut [u32],
    offset: usize,
    leaf_size: usize,
    nodes: &mut Vec<Node>,
    bounds: &mut Vec<f64>,
) -> Option<usize>
where
    F: Fn(u32) -> ndarray::ArrayView1<'a, f64>,
{
    nodes.push(Node { start: offset as u32, end: (offset + perm.len()) as u32, left: NONE, right: NONE });
    let b = bounds.len();
    bounds.resize(b + 2 * dim, 0.0);
    {
        let (lo, hi) = bounds[b..].split_at_mut(dim);
        lo.fill(f64::INFINITY);
        hi.fill(f64::NEG_INFINITY);
        for &i in perm.iter() {
            for (j, &v) in row(i).iter().enumerate() {
                lo[j] = lo[j].min(v);
                hi[j] = hi[j].max(v);
            }
        }
    }
    if perm.len() <= leaf_size {
        return None;
    }
    let (split_dim, spread) = (0..dim)
        .map(|j| (j, bounds[b + dim + j] - bounds[b + j]))
        .fold((0, f64::NEG_INFINITY), |acc, (j, s)| if s > acc.1 { (j, s) } else { acc });
    if spread <= 0.0 {
        // All points identical: splitting cannot separate them.
        return None;
    }
    let mid = perm.len() / 2;
    perm.select_nth_unstable_by(mid, |&a, &c| row(a)[split_dim].total_cmp(&row(c)[split_dim]).then(a.cmp(&c)));
    Some(mid)
}

pub(super) fn build_node<'a, F>(
    row: &F,
    dim: usize,
    perm: &mut [u32],
    offset: usize,
    leaf_size: usize,
    nodes: &mut Vec<Node>,
    bounds: &mut Vec<f64>,
) -> u32
where
    F: Fn(u32) -> ndarray::ArrayView1<'a, f64>,
{
    let id = nodes.len();
    let Some(mid) = split_node(row, dim, perm, offset, leaf_size, nodes, bounds) else {
        return id as u32;
    };
    let (left, right) = perm.split_at_mut(mid);
    let l = build_node(row, dim, left, offset, leaf_size, nodes, bounds);
    let r = build_node(row, dim, right, offset + mid, leaf_size, nodes, bounds);
    nodes[id].left = l;
    nodes[id].right = r;
    id as u32
}
