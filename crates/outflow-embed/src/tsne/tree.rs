//! The space-partitioning tree of Barnes–Hut t-SNE (a quadtree in 2-D, an octree in 3-D), built and
//! read as scikit-learn's `_QuadTree`: points within 1e-6 of a leaf's point share it, a cell far
//! enough from the query (`width² / distance² < θ²`) or a leaf stands for its points at their centre of
//! mass, and a leaf holding the query point itself is skipped.

/// Coordinates closer than this are one point.
const EPSILON: f32 = 1e-6;
/// Depth past which points still apart share a leaf: single-precision halving can no longer separate
/// them (scikit-learn's tree has no such guard and would not end).
const MAX_DEPTH: usize = 48;
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Cell {
    min: [f32; 3],
    max: [f32; 3],
    center: [f32; 3],
    barycenter: [f32; 3],
    squared_max_width: f32,
    size: usize,
    is_leaf: bool,
    children: [u32; 8],
}

impl Cell {
    fn new(min: [f32; 3], max: [f32; 3], dim: usize) -> Cell {
        let mut center = [0.0; 3];
        let mut w2 = 0.0f32;
        for a in 0..dim {
            center[a] = (min[a] + max[a]) / 2.0;
            let w = max[a] - min[a];
            w2 = w2.max(w * w);
        }
        Cell {
            min,
            max,
            center,
            barycenter: [0.0; 3],
            squared_max_width: w2,
            size: 0,
            is_leaf: true,
            children: [NONE; 8],
        }
    }
}

/// A tree over the rows of a flat `n × dim` array of positions. Built as cells, then read from a flat
/// depth-first copy ([`Node`]) whose traversal needs no stack and touches memory in order.
pub(crate) struct SpaceTree {
    dim: usize,
    nodes: Vec<Node>,
}

/// The tree while points are inserted.
struct Cells {
    dim: usize,
    cells: Vec<Cell>,
}

/// A cell as the traversal reads it, in depth-first order with children in slot order: a node's first
/// child follows it, and `skip` is the index just past its subtree.
#[derive(Debug, Clone, Copy)]
struct Node {
    barycenter: [f32; 3],
    squared_max_width: f32,
    size: f32,
    is_leaf: bool,
    skip: u32,
}

impl SpaceTree {
    pub(crate) fn build(y: &[f32], dim: usize) -> SpaceTree {
        let n = y.len() / dim;
        let mut min = [0.0f32; 3];
        let mut max = [0.0f32; 3];
        for a in 0..dim {
            let (lo, hi) = (0..n)
                .map(|i| y[i * dim + a])
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
            min[a] = lo;
            // scikit-learn widens the upper bound so the largest point falls inside.
            max[a] = (hi * (1.0 + 1e-3 * sign(hi))).max(hi + 1e-3);
        }
        let mut t = Cells { dim, cells: vec![Cell::new(min, max, dim)] };
        let mut p = [0.0f32; 3];
        for i in 0..n {
            p[..dim].copy_from_slice(&y[i * dim..(i + 1) * dim]);
            t.insert(p);
        }
        let mut nodes = Vec::with_capacity(t.cells.len());
        t.flatten(0, &mut nodes);
        SpaceTree { dim, nodes }
    }
}

impl Cells {
    fn flatten(&self, id: usize, out: &mut Vec<Node>) {
        let c = &self.cells[id];
        let at = out.len();
        out.push(Node {
            barycenter: c.barycenter,
            squared_max_width: c.squared_max_width,
            size: c.size as f32,
            is_leaf: c.is_leaf,
            skip: 0,
        });
        if !c.is_leaf {
            for &child in c.children.iter().filter(|&&k| k != NONE) {
                self.flatten(child as usize, out);
            }
        }
        out[at].skip = out.len() as u32;
    }

    fn child_slot(&self, p: &[f32; 3], cell: &Cell) -> usize {
        (0..self.dim).fold(0, |s, a| s * 2 + usize::from(p[a] >= cell.center[a]))
    }

    fn duplicate(&self, a: &[f32; 3], b: &[f32; 3]) -> bool {
        (0..self.dim).all(|k| (a[k] - b[k]).abs() <= EPSILON)
    }

    /// A new child of `parent` holding `size` points at `p`.
    fn new_child(&mut self, parent: usize, p: [f32; 3], size: usize) {
        let slot = self.child_slot(&p, &self.cells[parent]);
        let c = &self.cells[parent];
        let (mut min, mut max) = (c.min, c.max);
        for a in 0..self.dim {
            if p[a] >= c.center[a] {
                min[a] = c.center[a];
            } else {
                max[a] = c.center[a];
            }
        }
        let mut child = Cell::new(min, max, self.dim);
        child.barycenter = p;
        child.size = size;
        let id = self.cells.len() as u32;
        self.cells.push(child);
        let c = &mut self.cells[parent];
        c.is_leaf = false;
        c.children[slot] = id;
    }

    fn insert(&mut self, p: [f32; 3]) {
        let mut id = 0usize;
        let mut depth = 0;
        loop {
            let dim = self.dim;
            let cell = &mut self.cells[id];
            if cell.size == 0 {
                cell.size = 1;
                cell.barycenter = p;
                return;
            }
            if !cell.is_leaf {
                let n = cell.size as f32;
                for (b, v) in cell.barycenter.iter_mut().zip(&p).take(dim) {
                    *b = (n * *b + v) / (n + 1.0);
                }
                cell.size += 1;
                let slot = self.child_slot(&p, &self.cells[id]);
                match self.cells[id].children[slot] {
                    NONE => {
                        self.new_child(id, p, 1);
                        return;
                    }
                    child => id = child as usize,
                }
                depth += 1;
                continue;
            }
            if self.duplicate(&p, &self.cells[id].barycenter)
                || depth >= MAX_DEPTH
                || self.cells[id].squared_max_width == 0.0
            {
                self.cells[id].size += 1;
                return;
            }
            // A leaf with another point: its point moves down into a child, then `p` is inserted again.
            let (b, s) = (self.cells[id].barycenter, self.cells[id].size);
            self.new_child(id, b, s);
        }
    }
}

impl SpaceTree {
    /// The repulsive force on `point` and its share of the normalisation `Z = Σ q_ij` (unnormalised
    /// Student-t kernel with `dof` degrees of freedom), summing cells as scikit-learn's `summarize`.
    pub(crate) fn negative_force(&self, point: &[f32], squared_theta: f32, dof: f32, force: &mut [f32]) -> f64 {
        let exponent = f64::from((dof + 1.0) / 2.0);
        let dof64 = f64::from(dof);
        let mut sum_q = 0.0f64;
        let mut delta = [0.0f32; 3];
        let mut acc = [0.0f32; 3];
        let nodes = &self.nodes;
        let mut i = 0usize;
        // Children in slot order, depth first: the order of scikit-learn's recursion, so the sums match.
        while i < nodes.len() {
            let node = &nodes[i];
            let mut dist2 = 0.0f32;
            let mut duplicate = true;
            for a in 0..self.dim {
                delta[a] = point[a] - node.barycenter[a];
                dist2 += delta[a] * delta[a];
                duplicate &= delta[a].abs() <= EPSILON;
            }
            if node.is_leaf && duplicate {
                i = node.skip as usize;
                continue;
            }
            if node.is_leaf || node.squared_max_width / dist2 < squared_theta {
                let mut q = dof64 / f64::from(dof + dist2);
                if dof != 1.0 {
                    q = q.powf(exponent);
                }
                let size = f64::from(node.size);
                sum_q += size * q;
                let mult = (size * q * q) as f32;
                for a in 0..self.dim {
                    acc[a] += mult * delta[a];
                }
                i = node.skip as usize;
            } else {
                i += 1;
            }
        }
        force.copy_from_slice(&acc[..self.dim]);
        sum_q
    }

    #[cfg(test)]
    fn points(&self) -> usize {
        self.nodes[0].size as usize
    }
}

fn sign(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_is_in_the_tree_and_theta_zero_is_exact() {
        let n = 300;
        let y: Vec<f32> = (0..2 * n).map(|k| ((k * 7919) % 1000) as f32 / 37.0 - 13.0).collect();
        let t = SpaceTree::build(&y, 2);
        assert_eq!(t.points(), n);
        let mut f = [0.0f32; 2];
        for i in [0, 17, 299] {
            let z = t.negative_force(&y[2 * i..2 * i + 2], 0.0, 1.0, &mut f);
            // Direct sum over the other points (equal positions excluded, as the tree does).
            let (mut zs, mut fs) = (0.0f64, [0.0f64; 2]);
            for j in 0..n {
                let d = [y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]];
                if d[0].abs() <= EPSILON && d[1].abs() <= EPSILON {
                    continue;
                }
                let q = 1.0 / (1.0 + f64::from(d[0] * d[0] + d[1] * d[1]));
                zs += q;
                fs[0] += q * q * f64::from(d[0]);
                fs[1] += q * q * f64::from(d[1]);
            }
            assert!((z - zs).abs() < 1e-4 * zs, "{z} {zs}");
            for a in 0..2 {
                assert!((f64::from(f[a]) - fs[a]).abs() < 1e-4 * fs[a].abs().max(1e-3), "{:?} {fs:?}", f);
            }
            // An approximation with θ = 0.5 stays close.
            let za = t.negative_force(&y[2 * i..2 * i + 2], 0.25, 1.0, &mut f);
            assert!((za - zs).abs() < 0.02 * zs, "{za} {zs}");
        }
    }

    #[test]
    fn duplicates_share_a_leaf_in_three_dimensions() {
        let mut y = vec![0.0f32; 3 * 50];
        for i in 0..50 {
            let v = (i % 5) as f32;
            y[3 * i..3 * i + 3].copy_from_slice(&[v, -v, 2.0 * v]);
        }
        let t = SpaceTree::build(&y, 3);
        assert_eq!(t.points(), 50);
        assert!(t.nodes.len() < 50);
    }
}
