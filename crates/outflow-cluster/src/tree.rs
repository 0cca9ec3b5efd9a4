//! Single-linkage tree, condensed tree, stability, cluster selection (excess of mass, leaf, epsilon),
//! labels, membership probabilities and GLOSH outlier scores — following the `hdbscan` package
//! (McInnes, Healy & Astels) step by step, including its traversal orders, so that results agree.

use serde::{Deserialize, Serialize};

/// One merge of the single-linkage dendrogram (scipy's linkage format: a row `[left, right, distance,
/// size]`; nodes `0..n` are points, node `n + i` is the cluster made by merge `i`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    /// First merged node.
    pub left: usize,
    /// Second merged node.
    pub right: usize,
    /// Mutual-reachability distance of the merge.
    pub distance: f64,
    /// Points under the new node.
    pub size: usize,
}

/// The single-linkage tree of the mutual-reachability MST.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SingleLinkageTree {
    /// Number of points (leaves).
    pub n_points: usize,
    /// `n_points − 1` merges in increasing distance.
    pub merges: Vec<Merge>,
}

/// The condensed tree (hdbscan's `condensed_tree_`), as parallel columns: row `i` says that `child`
/// (a point `< n_points` or a cluster `≥ n_points`; the root is `n_points`) leaves `parent` at density
/// `lambda_val[i]` = 1 / distance, carrying `child_size[i]` points.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CondensedTree {
    /// Number of data points.
    pub n_points: usize,
    /// Parent cluster of each row.
    pub parent: Vec<usize>,
    /// Child (point or cluster) of each row.
    pub child: Vec<usize>,
    /// λ = 1/distance at which the child leaves the parent.
    pub lambda_val: Vec<f64>,
    /// Points carried by the child.
    pub child_size: Vec<usize>,
}

impl CondensedTree {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when the tree has no rows (fewer than two points).
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The root cluster id.
    pub fn root(&self) -> usize {
        self.n_points
    }

    /// One past the largest cluster id.
    pub fn n_nodes(&self) -> usize {
        self.parent.iter().chain(self.child.iter()).copied().max().map_or(self.n_points + 1, |m| m + 1)
    }

    /// Row indices of cluster children (child_size > 1 rows), in order.
    pub(crate) fn cluster_rows(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&i| self.child[i] >= self.n_points)
    }

    /// Per cluster id: its parent and birth λ (root: none).
    pub(crate) fn cluster_parent(&self) -> Vec<Option<(usize, f64)>> {
        let mut p = vec![None; self.n_nodes()];
        for i in self.cluster_rows() {
            p[self.child[i]] = Some((self.parent[i], self.lambda_val[i]));
        }
        p
    }

    /// Per cluster id: its child clusters in row order.
    pub(crate) fn children(&self) -> Vec<Vec<usize>> {
        let mut ch = vec![Vec::new(); self.n_nodes()];
        for i in self.cluster_rows() {
            ch[self.parent[i]].push(self.child[i]);
        }
        ch
    }

    /// Per node: the largest λ among the rows whose parent it is (hdbscan's `max_lambdas`).
    pub(crate) fn max_lambdas(&self) -> Vec<f64> {
        let mut d = vec![0.0f64; self.n_nodes()];
        for i in 0..self.len() {
            let p = self.parent[i];
            d[p] = d[p].max(self.lambda_val[i]);
        }
        d
    }

    /// [`Self::max_lambdas`] propagated upwards: each cluster gets the largest λ in its subtree.
    pub(crate) fn subtree_max_lambdas(&self) -> Vec<f64> {
        let mut d = self.max_lambdas();
        for i in (0..self.len()).rev() {
            let (c, p) = (self.child[i], self.parent[i]);
            if d[c] > d[p] {
                d[p] = d[c];
            }
        }
        d
    }

    /// Row index of each point's row.
    pub(crate) fn point_rows(&self) -> Vec<usize> {
        let mut r = vec![usize::MAX; self.n_points];
        for i in 0..self.len() {
            if self.child[i] < self.n_points {
                r[self.child[i]] = i;
            }
        }
        r
    }
}

/// Single linkage from MST edges sorted by weight (union-find with fresh labels, as scipy / hdbscan).
pub(crate) fn single_linkage(n: usize, sorted_edges: &[(usize, usize, f64)]) -> SingleLinkageTree {
    let mut parent: Vec<usize> = (0..2 * n).collect();
    let mut size: Vec<usize> = (0..2 * n).map(|i| usize::from(i < n)).collect();
    let mut next = n;
    let find = |parent: &mut Vec<usize>, mut x: usize| {
        let mut root = x;
        while parent[root] != root {
            root = parent[root];
        }
        while parent[x] != root {
            let nx = parent[x];
            parent[x] = root;
            x = nx;
        }
        root
    };
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    for &(a, b, d) in sorted_edges {
        let (aa, bb) = (find(&mut parent, a), find(&mut parent, b));
        merges.push(Merge { left: aa, right: bb, distance: d, size: size[aa] + size[bb] });
        parent[aa] = next;
        parent[bb] = next;
        size[next] = size[aa] + size[bb];
        next += 1;
    }
    SingleLinkageTree { n_points: n, merges }
}

/// Breadth-first nodes of the dendrogram below `root` (children left before right).
fn bfs_hierarchy(slt: &SingleLinkageTree, root: usize, out: &mut Vec<usize>) {
    out.clear();
    out.push(root);
    let n = slt.n_points;
    let mut head = 0;
    while head < out.len() {
        let x = out[head];
        head += 1;
        if x >= n {
            let m = slt.merges[x - n];
            out.push(m.left);
            out.push(m.right);
        }
    }
}

/// λ of a merge distance. Zero distances (exact duplicates with zero core distance) would give λ = ∞,
/// which makes hdbscan's stabilities infinite and its GLOSH scores NaN (hdbscan issue #94); Outflow
/// gives them the smallest positive distance of the tree instead (`floor`), so every λ is finite and
/// duplicates are exactly as dense as the densest distinct pair.
#[inline]
pub(crate) fn lambda_of(distance: f64, floor: f64) -> f64 {
    1.0 / if distance > 0.0 { distance } else { floor }
}

/// The smallest positive merge distance (1.0 when all are zero or there are none).
pub(crate) fn distance_floor(slt: &SingleLinkageTree) -> f64 {
    let m = slt.merges.iter().map(|m| m.distance).filter(|&d| d > 0.0).fold(f64::INFINITY, f64::min);
    if m.is_finite() { m } else { 1.0 }
}

/// Condenses the dendrogram with `min_cluster_size` (hdbscan's `condense_tree`).
pub(crate) fn condense(slt: &SingleLinkageTree, min_cluster_size: usize) -> CondensedTree {
    let n = slt.n_points;
    let mut ct = CondensedTree { n_points: n, ..Default::default() };
    if n < 2 {
        return ct;
    }
    let floor = distance_floor(slt);
    let root = 2 * n - 2;
    let mut node_list = Vec::new();
    bfs_hierarchy(slt, root, &mut node_list);
    let mut relabel = vec![0usize; root + 1];
    relabel[root] = n;
    let mut next_label = n + 1;
    let mut ignore = vec![false; root + 1];
    let size_of = |x: usize| if x >= n { slt.merges[x - n].size } else { 1 };
    let mut sub = Vec::new();
    let mut emit_points = |ct: &mut CondensedTree, ignore: &mut Vec<bool>, from: usize, parent: usize, lambda: f64| {
        bfs_hierarchy(slt, from, &mut sub);
        for &s in &sub {
            if s < n {
                ct.parent.push(parent);
                ct.child.push(s);
                ct.lambda_val.push(lambda);
                ct.child_size.push(1);
            }
            ignore[s] = true;
        }
    };
    for &node in &node_list {
        if ignore[node] || node < n {
            continue;
        }
        let m = slt.merges[node - n];
        let lambda = lambda_of(m.distance, floor);
        let (lc, rc) = (size_of(m.left), size_of(m.right));
        let me = relabel[node];
        if lc >= min_cluster_size && rc >= min_cluster_size {
            for (child, count) in [(m.left, lc), (m.right, rc)] {
                relabel[child] = next_label;
                next_label += 1;
                ct.parent.push(me);
                ct.child.push(relabel[child]);
                ct.lambda_val.push(lambda);
                ct.child_size.push(count);
            }
        } else if lc < min_cluster_size && rc < min_cluster_size {
            emit_points(&mut ct, &mut ignore, m.left, me, lambda);
            emit_points(&mut ct, &mut ignore, m.right, me, lambda);
        } else if lc < min_cluster_size {
            relabel[m.right] = me;
            emit_points(&mut ct, &mut ignore, m.left, me, lambda);
        } else {
            relabel[m.left] = me;
            emit_points(&mut ct, &mut ignore, m.right, me, lambda);
        }
    }
    ct
}

/// Stability of every cluster id (index = node id; points hold 0), hdbscan's `compute_stability`.
pub(crate) fn stability(ct: &CondensedTree) -> Vec<f64> {
    let nn = ct.n_nodes();
    let mut births = vec![0.0f64; nn];
    for i in 0..ct.len() {
        births[ct.child[i]] = ct.lambda_val[i];
    }
    births[ct.root()] = 0.0;
    let mut s = vec![0.0f64; nn];
    for i in 0..ct.len() {
        let p = ct.parent[i];
        s[p] += (ct.lambda_val[i] - births[p]) * ct.child_size[i] as f64;
    }
    s
}

/// How flat clusters are chosen from the condensed tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterSelection {
    /// Excess of mass: the most stable non-overlapping clusters.
    #[default]
    Eom,
    /// The leaves of the cluster tree.
    Leaf,
}

fn bfs_clusters(children: &[Vec<usize>], root: usize) -> Vec<usize> {
    let mut out = vec![root];
    let mut head = 0;
    while head < out.len() {
        let x = out[head];
        head += 1;
        out.extend(children[x].iter().copied());
    }
    out
}

fn leaves(children: &[Vec<usize>], root: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(x) = stack.pop() {
        if children[x].is_empty() {
            out.push(x);
        } else {
            stack.extend(children[x].iter().copied());
        }
    }
    out
}

fn epsilon_search(
    candidates: &[usize],
    parents: &[Option<(usize, f64)>],
    children: &[Vec<usize>],
    epsilon: f64,
    allow_single_cluster: bool,
    root: usize,
) -> Vec<usize> {
    let mut selected = Vec::new();
    let mut processed = vec![false; parents.len()];
    for &leaf in candidates {
        let (_, birth) = parents[leaf].expect("candidates are non-root clusters");
        if 1.0 / birth < epsilon {
            if !processed[leaf] {
                let chosen = traverse_upwards(parents, epsilon, leaf, allow_single_cluster, root);
                selected.push(chosen);
                for s in bfs_clusters(children, chosen) {
                    if s != chosen {
                        processed[s] = true;
                    }
                }
            }
        } else {
            selected.push(leaf);
        }
    }
    selected.sort_unstable();
    selected.dedup();
    selected
}

fn traverse_upwards(
    parents: &[Option<(usize, f64)>],
    epsilon: f64,
    leaf: usize,
    allow_single_cluster: bool,
    root: usize,
) -> usize {
    let mut leaf = leaf;
    loop {
        let (parent, _) = parents[leaf].expect("non-root");
        if parent == root {
            return if allow_single_cluster { parent } else { leaf };
        }
        let (_, parent_birth) = parents[parent].expect("non-root");
        if 1.0 / parent_birth > epsilon {
            return parent;
        }
        leaf = parent;
    }
}

/// The flat clustering extracted from a condensed tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selection {
    /// Selected cluster ids, ascending; label `k` is `clusters[k]`.
    pub clusters: Vec<usize>,
    pub labels: Vec<i64>,
    pub probabilities: Vec<f64>,
    /// hdbscan's `cluster_persistence_`.
    pub persistence: Vec<f64>,
}

/// hdbscan's `get_clusters`: selection, labelling, probabilities and persistence.
pub(crate) fn select(
    ct: &CondensedTree,
    method: ClusterSelection,
    allow_single_cluster: bool,
    epsilon: f64,
) -> Selection {
    let n = ct.n_points;
    if ct.is_empty() {
        return Selection {
            clusters: Vec::new(),
            labels: vec![-1; n],
            probabilities: vec![0.0; n],
            persistence: Vec::new(),
        };
    }
    let mut stab = stability(ct);
    let root = ct.root();
    let nn = ct.n_nodes();
    let parents = ct.cluster_parent();
    let children = ct.children();
    // Clusters in decreasing id: children are visited before their parents.
    let mut node_list: Vec<usize> = (n..nn).rev().collect();
    if !allow_single_cluster {
        node_list.pop();
    }
    let mut is_cluster = vec![false; nn];
    for &c in &node_list {
        is_cluster[c] = true;
    }
    let has_cluster_tree = ct.cluster_rows().next().is_some();
    match method {
        ClusterSelection::Eom => {
            for &node in &node_list {
                // hdbscan accumulates the children's stability in a C `float`; replicated so that
                // near-ties are decided the same way.
                let mut subtree: f32 = 0.0;
                for &ch in &children[node] {
                    subtree = (f64::from(subtree) + stab[ch]) as f32;
                }
                if f64::from(subtree) > stab[node] {
                    is_cluster[node] = false;
                    stab[node] = f64::from(subtree);
                } else {
                    for s in bfs_clusters(&children, node) {
                        if s != node {
                            is_cluster[s] = false;
                        }
                    }
                }
            }
            if epsilon != 0.0 && has_cluster_tree {
                let eom: Vec<usize> = node_list.iter().copied().filter(|&c| is_cluster[c]).collect();
                let selected = if eom.len() == 1 && eom[0] == root {
                    if allow_single_cluster { eom } else { Vec::new() }
                } else {
                    let mut cands = eom;
                    cands.sort_unstable();
                    epsilon_search(&cands, &parents, &children, epsilon, allow_single_cluster, root)
                };
                is_cluster.fill(false);
                for c in selected {
                    is_cluster[c] = true;
                }
            }
        }
        ClusterSelection::Leaf => {
            let mut lv = if has_cluster_tree { leaves(&children, root) } else { Vec::new() };
            lv.sort_unstable();
            let selected = if epsilon != 0.0 && !lv.is_empty() {
                epsilon_search(&lv, &parents, &children, epsilon, allow_single_cluster, root)
            } else {
                lv
            };
            is_cluster.fill(false);
            for c in selected {
                is_cluster[c] = true;
            }
        }
    }
    let clusters: Vec<usize> = (n..nn).filter(|&c| is_cluster[c]).collect();
    let labels = labelling(ct, &clusters, allow_single_cluster, epsilon);
    let probabilities = probabilities(ct, &clusters, &labels);
    let persistence = persistence(ct, &clusters, &labels, &stab);
    Selection { clusters, labels, probabilities, persistence }
}

/// hdbscan's `do_labelling`.
fn labelling(ct: &CondensedTree, clusters: &[usize], allow_single_cluster: bool, epsilon: f64) -> Vec<i64> {
    let n = ct.n_points;
    let root = ct.root();
    let nn = ct.n_nodes();
    let mut is_sel = vec![false; nn];
    for &c in clusters {
        is_sel[c] = true;
    }
    // Union-find over the tree, joining every child that is not a selected cluster to its parent.
    let mut up: Vec<usize> = (0..nn).collect();
    let mut child_lambda = vec![0.0; nn];
    let mut parent_max_lambda = vec![0.0f64; nn];
    for i in 0..ct.len() {
        let (c, p, l) = (ct.child[i], ct.parent[i], ct.lambda_val[i]);
        child_lambda[c] = l;
        parent_max_lambda[p] = parent_max_lambda[p].max(l);
        if !is_sel[c] {
            up[c] = p;
        }
    }
    let find = |mut x: usize| {
        while up[x] != x {
            x = up[x];
        }
        x
    };
    let label_of = |c: usize| clusters.binary_search(&c).map(|k| k as i64).unwrap_or(-1);
    (0..n)
        .map(|p| {
            let c = find(p);
            if c < root {
                -1
            } else if c == root {
                if clusters.len() == 1 && allow_single_cluster && is_sel[c] {
                    let threshold = if epsilon != 0.0 { 1.0 / epsilon } else { parent_max_lambda[c] };
                    if child_lambda[p] >= threshold { label_of(c) } else { -1 }
                } else {
                    -1
                }
            } else {
                label_of(c)
            }
        })
        .collect()
}

/// hdbscan's `get_probabilities`.
fn probabilities(ct: &CondensedTree, clusters: &[usize], labels: &[i64]) -> Vec<f64> {
    let deaths = ct.max_lambdas();
    let mut out = vec![0.0; ct.n_points];
    for i in 0..ct.len() {
        let p = ct.child[i];
        if p >= ct.n_points || labels[p] < 0 {
            continue;
        }
        let max_lambda = deaths[clusters[labels[p] as usize]];
        let l = ct.lambda_val[i];
        out[p] = if max_lambda == 0.0 || !l.is_finite() { 1.0 } else { l.min(max_lambda) / max_lambda };
    }
    out
}

/// hdbscan's `get_stability_scores` (`cluster_persistence_`).
fn persistence(ct: &CondensedTree, clusters: &[usize], labels: &[i64], stab: &[f64]) -> Vec<f64> {
    let max_lambda = ct.lambda_val.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sizes = vec![0usize; clusters.len()];
    for &l in labels.iter().filter(|&&l| l >= 0) {
        sizes[l as usize] += 1;
    }
    clusters
        .iter()
        .zip(&sizes)
        .map(|(&c, &size)| {
            if max_lambda.is_infinite() || max_lambda == 0.0 || size == 0 {
                1.0
            } else {
                stab[c] / (size as f64 * max_lambda)
            }
        })
        .collect()
}

/// GLOSH outlier scores (Campello et al. 2015) as hdbscan's `outlier_scores_`: `(λ_max − λ_x) / λ_max`
/// with `λ_max` the largest λ in the subtree of the point's cluster.
pub(crate) fn glosh(ct: &CondensedTree) -> Vec<f64> {
    let deaths = ct.subtree_max_lambdas();
    let mut out = vec![0.0; ct.n_points];
    for i in 0..ct.len() {
        let p = ct.child[i];
        if p >= ct.n_points {
            continue;
        }
        let lmax = deaths[ct.parent[i]];
        let l = ct.lambda_val[i];
        out[p] = if lmax == 0.0 || !l.is_finite() { 0.0 } else { (lmax - l) / lmax };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tight groups of 3 points far apart, plus one outlier.
    fn toy() -> SingleLinkageTree {
        // points 0,1,2 (group A), 3,4,5 (group B), 6 (outlier)
        let edges = vec![(0, 1, 1.0), (1, 2, 1.0), (3, 4, 1.0), (4, 5, 2.0), (2, 3, 10.0), (5, 6, 20.0)];
        single_linkage(7, &edges)
    }

    #[test]
    fn linkage_rows() {
        let t = toy();
        assert_eq!(t.merges[0], Merge { left: 0, right: 1, distance: 1.0, size: 2 });
        assert_eq!(t.merges[1], Merge { left: 7, right: 2, distance: 1.0, size: 3 });
        assert_eq!(t.merges[5].size, 7);
    }

    #[test]
    fn condense_and_select() {
        let ct = condense(&toy(), 3);
        // Root 7 loses point 6 at λ = 1/20, then splits into two clusters at λ = 1/10.
        assert_eq!(ct.parent[0], 7);
        assert_eq!(ct.child[0], 6);
        assert_eq!(ct.lambda_val[0], 1.0 / 20.0);
        let s = select(&ct, ClusterSelection::Eom, false, 0.0);
        assert_eq!(s.clusters.len(), 2);
        assert_eq!(s.labels[6], -1);
        assert_eq!(s.labels[0], s.labels[2]);
        assert_ne!(s.labels[0], s.labels[3]);
        let g = glosh(&ct);
        assert!(g[6] > g[0]);
        assert!(g.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)));
        assert!(s.probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn all_zero_distances_are_finite() {
        let edges: Vec<_> = (0..9).map(|i| (i, i + 1, 0.0)).collect();
        let ct = condense(&single_linkage(10, &edges), 3);
        assert!(ct.lambda_val.iter().all(|l| l.is_finite()));
        let s = select(&ct, ClusterSelection::Eom, true, 0.0);
        assert!(s.labels.iter().all(|&l| l == 0));
        assert!(glosh(&ct).iter().all(|&x| x == 0.0));
    }
}
