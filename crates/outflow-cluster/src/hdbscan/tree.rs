//! Single-linkage tree, condensed tree, stability, cluster selection (excess of mass, leaf, epsilon),
//! labels, membership probabilities and GLOSH outlier scores — following the `hdbscan` package
//! (McInnes, Healy & Astels) step by step, including its traversal orders, so that results agree.

use serde::{Deserialize, Serialize};

use super::params::SemiSupervised;

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
    #[serde(with = "outflow_core::codec::usizes")]
    pub parent: Vec<usize>,
    /// Child (point or cluster) of each row.
    #[serde(with = "outflow_core::codec::usizes")]
    pub child: Vec<usize>,
    /// λ = 1/distance at which the child leaves the parent.
    #[serde(with = "outflow_core::codec::f64s")]
    pub lambda_val: Vec<f64>,
    /// Points carried by the child.
    #[serde(with = "outflow_core::codec::usizes")]
    pub child_size: Vec<usize>,
    /// With sample weights, fast_hdbscan's `child_size`: the weight a cluster row carries (the sum of its
    /// rows' weights), 1 for a point row whatever its weight; empty without weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "outflow_core::codec::f64s")]
    pub child_weight: Vec<f64>,
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

    /// Whether the tree was built with sample weights.
    pub fn is_weighted(&self) -> bool {
        !self.child_weight.is_empty()
    }

    /// The size of row `i` as selection counts it: its weight with sample weights, else its points.
    pub fn size_of_row(&self, i: usize) -> f64 {
        if self.child_weight.is_empty() { self.child_size[i] as f64 } else { self.child_weight[i] }
    }

    /// The stability of every cluster, indexed by cluster id (points and ids without a cluster hold 0):
    /// hdbscan's excess of mass `Σ (λ_row − λ_birth)·child_size` over the cluster's rows; with sample
    /// weights fast_hdbscan's (see [`crate::HdbscanParams::fit_weighted`]).
    pub fn stabilities(&self) -> Vec<f64> {
        stability(self)
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
    let mut merges = Vec::with_capacity(n.saturating_sub(1));
    for (next, &(a, b, d)) in (n..).zip(sorted_edges) {
        let (aa, bb) = (find(&mut parent, a), find(&mut parent, b));
        merges.push(Merge { left: aa, right: bb, distance: d, size: size[aa] + size[bb] });
        parent[aa] = next;
        parent[bb] = next;
        size[next] = size[aa] + size[bb];
    }
    SingleLinkageTree { n_points: n, merges }
}

/// The hierarchy of connected components of the MST: one node per distinct merge, where every component
/// joined at exactly the same distance becomes one node with all of them as children. Unlike a binary
/// dendrogram this does not depend on which of several equal-weight MSTs was found, nor on the order of
/// equal-weight edges (the `hdbscan` package's result does), so ties — frequent in flow data — give the
/// same clustering for any row order. Without ties it equals the binary single-linkage tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LevelTree {
    pub n: usize,
    /// Internal node `i` (id `n + i`): children `children[start[i]..start[i + 1]]`.
    pub start: Vec<usize>,
    pub children: Vec<usize>,
    pub distance: Vec<f64>,
    pub size: Vec<usize>,
    /// With sample weights: each point's weight, and each internal node's total (else both empty).
    pub point_weight: Vec<f64>,
    pub weight: Vec<f64>,
}

impl LevelTree {
    fn kids(&self, node: usize) -> &[usize] {
        let i = node - self.n;
        &self.children[self.start[i]..self.start[i + 1]]
    }

    fn size_of(&self, node: usize) -> usize {
        if node < self.n { 1 } else { self.size[node - self.n] }
    }

    fn weight_of(&self, node: usize) -> f64 {
        if node < self.n { self.point_weight[node] } else { self.weight[node - self.n] }
    }

    /// The root (all points), when the MST spans every point.
    fn root(&self) -> usize {
        self.n + self.distance.len() - 1
    }
}

/// The root of `x` in the union-find forest `uf` (each entry its parent), compressing the path.
pub(crate) fn find(uf: &mut [usize], mut x: usize) -> usize {
    let mut r = x;
    while uf[r] != r {
        r = uf[r];
    }
    while uf[x] != r {
        let nx = uf[x];
        uf[x] = r;
        x = nx;
    }
    r
}

/// Kruskal's minimum spanning forest of `m` vertices: its edges, ascending weight (ties by vertex ids,
/// so the result does not depend on the input order); fewer than `m − 1` when the graph is not connected.
pub(crate) fn spanning_forest(m: usize, mut edges: Vec<(usize, usize, f64)>) -> Vec<(usize, usize, f64)> {
    use rayon::prelude::*;
    edges.par_sort_unstable_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut uf: Vec<usize> = (0..m).collect();
    let mut out = Vec::with_capacity(m.saturating_sub(1));
    for (a, b, w) in edges {
        let (ra, rb) = (find(&mut uf, a), find(&mut uf, b));
        if ra != rb {
            uf[rb] = ra;
            out.push((a, b, w));
            if out.len() + 1 == m {
                break;
            }
        }
    }
    out
}

/// Builds the [`LevelTree`] from MST edges sorted by weight, with the rows' sample weights if any.
pub(crate) fn level_tree(n: usize, sorted_edges: &[(usize, usize, f64)], row_weight: Option<&[f64]>) -> LevelTree {
    let mut uf: Vec<usize> = (0..n).collect();
    // Tree node currently representing each union-find root, and the smallest row under each node.
    let mut node_of: Vec<usize> = (0..n).collect();
    let mut min_row: Vec<usize> = (0..n).collect();
    let mut lt = LevelTree {
        n,
        start: vec![0],
        children: Vec::new(),
        distance: Vec::new(),
        size: Vec::new(),
        point_weight: row_weight.map_or_else(Vec::new, <[f64]>::to_vec),
        weight: Vec::new(),
    };
    let mut sizes: Vec<usize> = vec![1; n];
    let mut touched: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < sorted_edges.len() {
        let w = sorted_edges[i].2;
        let mut j = i;
        while j < sorted_edges.len() && sorted_edges[j].2 == w {
            j += 1;
        }
        // Components (root, node) touched by this level, before merging.
        touched.clear();
        for &(a, b, _) in &sorted_edges[i..j] {
            for x in [a, b] {
                let r = find(&mut uf, x);
                touched.push((r, node_of[r]));
            }
        }
        for &(a, b, _) in &sorted_edges[i..j] {
            let (ra, rb) = (find(&mut uf, a), find(&mut uf, b));
            if ra != rb {
                uf[rb] = ra;
            }
        }
        // Group the old nodes by their new root; each group of ≥ 2 becomes one new node.
        let mut groups: Vec<(usize, usize)> = touched.iter().map(|&(r, node)| (find(&mut uf, r), node)).collect();
        groups.sort_unstable();
        groups.dedup();
        let mut g = 0;
        while g < groups.len() {
            let root = groups[g].0;
            let mut h = g;
            while h < groups.len() && groups[h].0 == root {
                h += 1;
            }
            if h - g >= 2 {
                let mut kids: Vec<usize> = groups[g..h].iter().map(|&(_, node)| node).collect();
                kids.sort_by_key(|&k| (min_row_of(&min_row, n, k), k));
                let id = n + lt.distance.len();
                let size: usize = kids.iter().map(|&k| sizes[k]).sum();
                let mr = kids.iter().map(|&k| min_row_of(&min_row, n, k)).min().expect("≥ 2 children");
                lt.children.extend_from_slice(&kids);
                lt.start.push(lt.children.len());
                lt.distance.push(w);
                lt.size.push(size);
                if row_weight.is_some() {
                    let total: f64 = kids.iter().map(|&k| lt.weight_of(k)).sum();
                    lt.weight.push(total);
                }
                sizes.push(size);
                min_row.push(mr);
                node_of[root] = id;
            }
            g = h;
        }
        i = j;
    }
    lt
}

fn min_row_of(min_row: &[usize], n: usize, node: usize) -> usize {
    if node < n { node } else { min_row[node] }
}

/// Breadth-first points below `node`.
fn points_below(lt: &LevelTree, node: usize, out: &mut Vec<usize>) {
    let mut queue = vec![node];
    let mut head = 0;
    while head < queue.len() {
        let x = queue[head];
        head += 1;
        if x < lt.n {
            out.push(x);
        } else {
            queue.extend_from_slice(lt.kids(x));
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

/// Condenses the level tree with `min_cluster_size` (hdbscan's `condense_tree`, generalised to nodes
/// with more than two children: every child of at least `min_cluster_size` points becomes a cluster when
/// there are two or more such children; a single one continues its parent; smaller children fall out).
/// With sample weights a child's size is its weight (fast_hdbscan), and a single point always falls
/// out, however heavy (fast_hdbscan loses a point whose weight reaches `min_cluster_size`).
pub(crate) fn condense(lt: &LevelTree, min_cluster_size: usize) -> CondensedTree {
    let n = lt.n;
    let mut ct = CondensedTree { n_points: n, ..Default::default() };
    let weighted = !lt.point_weight.is_empty();
    let big = |k: usize| {
        if weighted { k >= n && lt.weight_of(k) >= min_cluster_size as f64 } else { lt.size_of(k) >= min_cluster_size }
    };
    if n < 2 || lt.distance.is_empty() {
        return ct;
    }
    let floor = {
        let m = lt.distance.iter().copied().filter(|&d| d > 0.0).fold(f64::INFINITY, f64::min);
        if m.is_finite() { m } else { 1.0 }
    };
    let root = lt.root();
    let mut label = vec![usize::MAX; lt.distance.len()];
    label[root - n] = n;
    let mut next_label = n + 1;
    let mut queue = vec![root];
    let mut head = 0;
    let mut pts = Vec::new();
    while head < queue.len() {
        let node = queue[head];
        head += 1;
        let lambda = lambda_of(lt.distance[node - n], floor);
        let me = label[node - n];
        let kids = lt.kids(node);
        let n_big = kids.iter().filter(|&&k| big(k)).count();
        for &k in kids {
            let size = lt.size_of(k);
            if big(k) && n_big >= 2 {
                label[k - n] = next_label;
                next_label += 1;
                ct.parent.push(me);
                ct.child.push(label[k - n]);
                ct.lambda_val.push(lambda);
                ct.child_size.push(size);
                if weighted {
                    ct.child_weight.push(lt.weight_of(k));
                }
                queue.push(k);
            } else if big(k) {
                label[k - n] = me;
                queue.push(k);
            } else {
                pts.clear();
                points_below(lt, k, &mut pts);
                for &p in &pts {
                    ct.parent.push(me);
                    ct.child.push(p);
                    ct.lambda_val.push(lambda);
                    ct.child_size.push(1);
                    if weighted {
                        ct.child_weight.push(1.0);
                    }
                }
            }
        }
    }
    ct
}

/// fast_hdbscan's `cluster_selection_persistence`: removes the splits of the condensed tree where a child
/// cluster does not persist, i.e. the largest λ in its subtree is less than `threshold` above the λ of
/// the split, before any selection. Bottom-up, as fast_hdbscan's `simplify_hierarchy`:
/// - two children (every split without tied edges): both fold into the parent; the parent becomes a
///   leaf when the more persistent child is one (all points keep their λ), else that child's clusters
///   become the parent's and the other child's rows leave the parent at the split's λ;
/// - more children (components joined at one distance): the children that do not persist leave the
///   parent at the split's λ; if fewer than two persist, the split is folded as above.
pub(crate) fn simplify(ct: &CondensedTree, threshold: f64) -> CondensedTree {
    let n = ct.n_points;
    if ct.is_empty() || threshold <= 0.0 {
        return ct.clone();
    }
    let nn = ct.n_nodes();
    let births = ct.subtree_max_lambdas();
    let children = ct.children();
    let death_of = {
        let mut d = vec![0.0f64; nn];
        for i in ct.cluster_rows() {
            d[ct.parent[i]] = ct.lambda_val[i];
        }
        d
    };
    let mut leaf: Vec<bool> = (0..nn).map(|c| children[c].is_empty()).collect();
    let mut parent_map: Vec<usize> = (0..nn).collect();
    let mut lambda_map: Vec<Option<f64>> = vec![None; nn];
    // Children have larger ids than their parents: descending ids visit every split bottom-up.
    for p in (n..nn).rev() {
        let kids = &children[p];
        if kids.is_empty() {
            continue;
        }
        let death = death_of[p];
        let persists = |c: usize| births[c] - death >= threshold;
        let kept = kids.iter().filter(|&&c| persists(c)).count();
        if kept == kids.len() {
            continue;
        }
        if kept >= 2 {
            for &c in kids.iter().filter(|&&c| !persists(c)) {
                parent_map[c] = p;
                lambda_map[c] = Some(death);
            }
            continue;
        }
        // The most persistent child (the last of equals, as fast_hdbscan) continues the parent.
        let sibling = kids.iter().copied().fold(kids[0], |a, c| if births[c] >= births[a] { c } else { a });
        if leaf[sibling] {
            leaf[p] = true;
        } else {
            for &c in kids.iter().filter(|&&c| c != sibling) {
                lambda_map[c] = Some(death);
            }
        }
        for &c in kids {
            parent_map[c] = p;
        }
    }
    // Resolve chains top-down (a parent's id is below its children's), then number the kept clusters
    // consecutively in their old order.
    for c in n..nn {
        parent_map[c] = parent_map[parent_map[c]];
    }
    let mut new_id = vec![usize::MAX; nn];
    let mut next = n;
    for c in n..nn {
        if parent_map[c] == c {
            new_id[c] = next;
            next += 1;
        }
    }
    let mut out = CondensedTree { n_points: n, ..Default::default() };
    for i in 0..ct.len() {
        let (p, c) = (ct.parent[i], ct.child[i]);
        if c >= n && parent_map[c] != c {
            continue;
        }
        out.parent.push(new_id[parent_map[p]]);
        out.child.push(if c >= n { new_id[c] } else { c });
        out.lambda_val.push(lambda_map[p].unwrap_or(ct.lambda_val[i]));
        out.child_size.push(ct.child_size[i]);
        if ct.is_weighted() {
            out.child_weight.push(ct.child_weight[i]);
        }
    }
    out
}

/// Stability of every cluster id (index = node id; points hold 0), hdbscan's `compute_stability`. With
/// sample weights, fast_hdbscan's: `Σ λ·child_weight` over the cluster's rows (a point row weighs 1)
/// minus its birth λ times its weight.
pub(crate) fn stability(ct: &CondensedTree) -> Vec<f64> {
    let nn = ct.n_nodes();
    let mut s = vec![0.0f64; nn];
    if ct.is_weighted() {
        for i in 0..ct.len() {
            let w = ct.child_weight[i];
            s[ct.parent[i]] += ct.lambda_val[i] * w;
            if ct.child[i] >= ct.n_points {
                s[ct.child[i]] -= ct.lambda_val[i] * w;
            }
        }
        return s;
    }
    let mut births = vec![0.0f64; nn];
    for i in 0..ct.len() {
        births[ct.child[i]] = ct.lambda_val[i];
    }
    births[ct.root()] = 0.0;
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

/// How clusters are selected from the condensed tree (see [`crate::HdbscanParams`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SelectionRule {
    pub(crate) method: ClusterSelection,
    pub(crate) allow_single_cluster: bool,
    pub(crate) epsilon: f64,
    /// 0 = no limit.
    pub(crate) max_cluster_size: usize,
    /// `f64::INFINITY` = no limit.
    pub(crate) epsilon_max: f64,
}

impl SelectionRule {
    #[cfg(test)]
    fn eom(allow_single_cluster: bool) -> SelectionRule {
        SelectionRule {
            method: ClusterSelection::Eom,
            allow_single_cluster,
            epsilon: 0.0,
            max_cluster_size: 0,
            epsilon_max: f64::INFINITY,
        }
    }
}

/// hdbscan's `get_clusters`: selection, labelling, probabilities and persistence.
pub(crate) fn select(ct: &CondensedTree, rule: &SelectionRule) -> Selection {
    select_by(ct, rule, None)
}

/// [`select`] with the excess of mass replaced by fast_hdbscan's semi-supervised selection (BCubed
/// F-measure of the partial labels, then stability; see [`bcubed_selection`]).
pub(crate) fn select_semi_supervised(
    ct: &CondensedTree,
    rule: &SelectionRule,
    partial_labels: &[i64],
    variant: SemiSupervised,
) -> Selection {
    select_by(ct, rule, Some((partial_labels, variant)))
}

fn select_by(ct: &CondensedTree, rule: &SelectionRule, partial: Option<(&[i64], SemiSupervised)>) -> Selection {
    let SelectionRule { method, allow_single_cluster, epsilon, max_cluster_size, epsilon_max } = *rule;
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
    // A cluster's size is its row's child_size and its birth distance 1 / λ of that row; the root's,
    // when it may be selected, the sum of its cluster children's sizes (not of every point: hdbscan and
    // scikit-learn count it so) and the tree's largest distance.
    let mut size = vec![0.0f64; nn];
    let mut born = vec![0.0f64; nn];
    for i in ct.cluster_rows() {
        size[ct.child[i]] = ct.size_of_row(i);
        born[ct.child[i]] = 1.0 / ct.lambda_val[i];
    }
    if allow_single_cluster {
        size[root] = children[root].iter().map(|&c| size[c]).sum();
        born[root] = ct.lambda_val.iter().map(|&l| 1.0 / l).fold(0.0, f64::max);
    }
    let over_limit = |c: usize| (max_cluster_size != 0 && size[c] > max_cluster_size as f64) || born[c] > epsilon_max;
    match method {
        ClusterSelection::Eom if partial.is_some() => {
            let (y, variant) = partial.expect("checked");
            is_cluster.fill(false);
            for c in bcubed_selection(ct, &stab, &children, y, variant, allow_single_cluster) {
                is_cluster[c] = true;
            }
        }
        ClusterSelection::Eom => {
            if ct.is_weighted() {
                // fast_hdbscan clamps at 0: its weighted stability can be negative (points count 1, births W).
                stab.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            for &node in &node_list {
                // hdbscan accumulates the children's stability in a C `float`; replicated so that
                // near-ties are decided the same way.
                let mut subtree: f32 = 0.0;
                for &ch in &children[node] {
                    subtree = (f64::from(subtree) + stab[ch]) as f32;
                }
                if f64::from(subtree) > stab[node] || over_limit(node) {
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
    // Epsilon merges the excess-of-mass choice (supervised or not) up to clusters born below it.
    if method == ClusterSelection::Eom && epsilon != 0.0 && has_cluster_tree {
        let eom: Vec<usize> = (n..nn).filter(|&c| is_cluster[c]).collect();
        let selected = if eom.len() == 1 && eom[0] == root {
            if allow_single_cluster { eom } else { Vec::new() }
        } else {
            epsilon_search(&eom, &parents, &children, epsilon, allow_single_cluster, root)
        };
        is_cluster.fill(false);
        for c in selected {
            is_cluster[c] = true;
        }
    }
    let clusters: Vec<usize> = (n..nn).filter(|&c| is_cluster[c]).collect();
    let labels = labelling(ct, &clusters, allow_single_cluster, epsilon);
    let probabilities = probabilities(ct, &clusters, &labels);
    let persistence = persistence(ct, &clusters, &labels, &stab, None);
    Selection { clusters, labels, probabilities, persistence }
}

/// fast_hdbscan's semi-supervised selection (HDBSCAN*(BC), Castro Gertrudes et al. 2019) on the
/// condensed tree: bottom-up, a cluster is compared with the best total of its descendants first by its
/// BCubed F-measure over the labelled rows, `Σ_c 2·k_c² / (L·(m + N_c))` (k_c of its m labelled rows in
/// class c, N_c of all L labelled rows), then by stability (not clamped); a full tie keeps the cluster.
/// With [`SemiSupervised::Bc`] a labelled row that leaves a cluster before it splits also counts below
/// the split as a cluster of its own (a "virtual node", never returned). Sums are in `f32`, as
/// fast_hdbscan compares them. Returns the selected clusters, ascending.
pub(crate) fn bcubed_selection(
    ct: &CondensedTree,
    stab: &[f64],
    children: &[Vec<usize>],
    y: &[i64],
    variant: SemiSupervised,
    allow_single_cluster: bool,
) -> Vec<usize> {
    use std::collections::BTreeMap;
    let (n, nn, root) = (ct.n_points, ct.n_nodes(), ct.root());
    let mut class_total: BTreeMap<i64, f64> = BTreeMap::new();
    for &c in y.iter().filter(|&&c| c >= 0) {
        *class_total.entry(c).or_default() += 1.0;
    }
    let labelled: f64 = class_total.values().sum();
    let score = |counts: &BTreeMap<i64, f64>| -> f64 {
        let m: f64 = counts.values().sum();
        counts.iter().map(|(c, &k)| 2.0 * k * k / (labelled * (m + class_total[c]))).sum()
    };
    // Per cluster: the classes of the labelled rows in its subtree; and its children in row order,
    // clusters and (bc) virtual nodes.
    enum Kid {
        Cluster(usize),
        Virtual(f32),
    }
    let mut counts: Vec<BTreeMap<i64, f64>> = vec![BTreeMap::new(); nn];
    let mut kids: Vec<Vec<Kid>> = (0..nn).map(|_| Vec::new()).collect();
    let mut parent_of = vec![usize::MAX; nn];
    for i in 0..ct.len() {
        let (p, c) = (ct.parent[i], ct.child[i]);
        if c >= n {
            parent_of[c] = p;
            kids[p].push(Kid::Cluster(c));
        } else if y[c] >= 0 {
            *counts[p].entry(y[c]).or_default() += 1.0;
            if variant == SemiSupervised::Bc && !children[p].is_empty() {
                let alone = 2.0 / (labelled * (1.0 + class_total[&y[c]]));
                kids[p].push(Kid::Virtual(alone as f32));
            }
        }
    }
    let mut bc = vec![0.0f32; nn];
    for c in (n..nn).rev() {
        bc[c] = score(&counts[c]) as f32;
        if c != root {
            for (class, k) in std::mem::take(&mut counts[c]) {
                *counts[parent_of[c]].entry(class).or_default() += k;
            }
        }
    }
    // Children have larger ids than their parents: descending ids visit bottom-up.
    let mut best = vec![(0.0f32, 0.0f32); nn];
    let mut chosen = vec![false; nn];
    let last = if allow_single_cluster { root } else { root + 1 };
    for c in (last..nn).rev() {
        let cur = (stab[c] as f32, bc[c]);
        let (mut ts, mut tb) = (0.0f32, 0.0f32);
        for k in &kids[c] {
            let (s, b) = match *k {
                Kid::Cluster(d) => best[d],
                Kid::Virtual(b) => (0.0, b),
            };
            ts += s;
            tb += b;
        }
        let keep = tb < cur.1 || (tb == cur.1 && ts <= cur.0);
        if keep {
            chosen[c] = true;
            for d in bfs_clusters(children, c).into_iter().skip(1) {
                chosen[d] = false;
            }
            best[c] = cur;
        } else {
            best[c] = (ts, tb);
        }
    }
    (n..nn).filter(|&c| chosen[c]).collect()
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

/// hdbscan's `get_stability_scores` (`cluster_persistence_`): a cluster's stability over its size times
/// the tree's largest λ. With sample weights (`row_weight`) the size is its rows' total weight and the
/// stability is clamped to 0 and the ratio to 1 (fast_hdbscan's weighted stability counts a point row
/// once, its birth term by weight, so the ratio is not bounded by itself).
pub(crate) fn persistence(
    ct: &CondensedTree,
    clusters: &[usize],
    labels: &[i64],
    stab: &[f64],
    row_weight: Option<&[f64]>,
) -> Vec<f64> {
    let max_lambda = ct.lambda_val.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sizes = vec![0.0f64; clusters.len()];
    for (p, &l) in labels.iter().enumerate().filter(|(_, l)| **l >= 0) {
        sizes[l as usize] += row_weight.map_or(1.0, |w| w[p]);
    }
    clusters
        .iter()
        .zip(&sizes)
        .map(|(&c, &size)| {
            if max_lambda.is_infinite() || max_lambda == 0.0 || size == 0.0 {
                1.0
            } else if row_weight.is_some() {
                (stab[c].max(0.0) / (size * max_lambda)).min(1.0)
            } else {
                stab[c] / (size * max_lambda)
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

    #[test]
    fn equal_weight_merges_are_simultaneous() {
        // Four points joined at the same distance, in two different MST shapes: one node, 4 children.
        for edges in [[(0, 1, 2.0), (1, 2, 2.0), (2, 3, 2.0)], [(2, 3, 2.0), (0, 3, 2.0), (1, 0, 2.0)]] {
            let lt = level_tree(4, &edges, None);
            assert_eq!(lt.distance, vec![2.0]);
            assert_eq!(lt.children, vec![0, 1, 2, 3]);
        }
        // Disjoint merges at one distance stay separate nodes.
        let lt = level_tree(4, &[(0, 1, 1.0), (2, 3, 1.0), (1, 2, 5.0)], None);
        assert_eq!(lt.distance, vec![1.0, 1.0, 5.0]);
        assert_eq!(lt.kids(6), &[4, 5]);
    }

    #[test]
    fn kary_condense_splits_all_big_children() {
        // Three groups of 3 meeting at one distance: three clusters, not a nested pair.
        let mut e = vec![(0, 1, 1.0), (1, 2, 1.0), (3, 4, 1.0), (4, 5, 1.0), (6, 7, 1.0), (7, 8, 1.0)];
        e.extend([(2, 3, 9.0), (5, 6, 9.0)]);
        let ct = condense(&level_tree(9, &e, None), 3);
        let clusters: Vec<usize> = ct.cluster_rows().map(|r| ct.child[r]).collect();
        assert_eq!(clusters.len(), 3);
        assert!(ct.cluster_rows().all(|r| ct.parent[r] == 9 && ct.lambda_val[r] == 1.0 / 9.0));
    }

    /// Two tight groups of 3 points far apart, plus one outlier:
    /// points 0,1,2 (group A), 3,4,5 (group B), 6 (outlier).
    const EDGES: [(usize, usize, f64); 6] =
        [(0, 1, 1.0), (1, 2, 1.0), (3, 4, 1.0), (4, 5, 2.0), (2, 3, 10.0), (5, 6, 20.0)];

    fn toy() -> LevelTree {
        level_tree(7, &EDGES, None)
    }

    #[test]
    fn linkage_rows() {
        let t = single_linkage(7, &EDGES);
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
        let s = select(&ct, &SelectionRule::eom(false));
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
        let ct = condense(&level_tree(10, &edges, None), 3);
        assert!(ct.lambda_val.iter().all(|l| l.is_finite()));
        let s = select(&ct, &SelectionRule::eom(true));
        assert!(s.labels.iter().all(|&l| l == 0));
        assert!(glosh(&ct).iter().all(|&x| x == 0.0));
    }
    #[test]
    fn simplify_drops_a_child_that_does_not_persist_from_a_three_way_split() {
        // Root 9 splits at λ 1 into 10, 11 (dense, λ up to 5) and 12 (λ up to 1.2).
        let mut ct = CondensedTree { n_points: 9, ..Default::default() };
        let mut row = |p: usize, c: usize, l: f64, s: usize| {
            ct.parent.push(p);
            ct.child.push(c);
            ct.lambda_val.push(l);
            ct.child_size.push(s);
        };
        for c in 10..13 {
            row(9, c, 1.0, 3);
        }
        for p in 0..9 {
            row(10 + p / 3, p, if p < 6 { 5.0 } else { 1.2 }, 1);
        }
        let s = simplify(&ct, 1.0);
        // 12 leaves: its points fall out of the root at the split; 10 and 11 stay.
        assert_eq!(s.child.iter().filter(|&&c| c >= 9).count(), 2);
        for p in 6..9 {
            let i = s.child.iter().position(|&c| c == p).unwrap();
            assert_eq!((s.parent[i], s.lambda_val[i]), (9, 1.0));
        }
        assert_eq!(s.n_nodes(), 12);
        // Above every child's persistence the root is all that is left, a leaf with the points' λ.
        let all = simplify(&ct, 10.0);
        assert!(all.child.iter().all(|&c| c < 9) && all.parent.iter().all(|&p| p == 9));
        assert_eq!(simplify(&ct, 0.1), ct);
    }
}
