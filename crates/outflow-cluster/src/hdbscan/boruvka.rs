//! Exact minimum spanning tree of the mutual-reachability graph by Borůvka's algorithm over the kd-tree.
//!
//! Each round, every point searches the tree for its nearest point (in mutual reachability) outside its
//! own component, in parallel. Searches are pruned by
//! - nodes whose points all lie in the searcher's component,
//! - the lower bound `max(core(p), smallest core distance in the node outside p's component, box
//!   distance)`, the box taken over the node's points of other components where the node mixes
//!   components (`Split`),
//! - a per-component upper bound shared through an atomic (the best edge any point of the component has
//!   found so far), seeded from the previous round's still-valid edges.
//!
//! Only candidates *strictly* worse than a known edge are pruned, and each component keeps the
//! lexicographically smallest `(weight, point, neighbour)`, so the tree does not depend on the number of
//! threads or on timing. The first round comes free from the k-nearest-neighbour lists (a neighbour with a
//! smaller core distance realises the lower bound `core(p)`), as in McInnes & Healy (2017).
//!
//! The last rounds join a few large components (whole clusters), and a search from every point then
//! costs most of the MST. With at most [`FEW_COMPONENTS`] left, each point first gets a lower bound on
//! its best edge — by projection onto the lines between group centroids, level by level of core
//! distance (`projection_bounds`), and from a ball around its leaf (`ball_bounds`) — the points
//! with the smallest bounds are searched first, in waves, and the rest are skipped once their bound
//! exceeds their component's best edge. Points whose core distance exceeds every component's best edge
//! so far cannot end a winning edge and are left out of the projections: scattered background points
//! (1 % of the rows of a realistic log) otherwise spread every component over the whole space. The
//! largest component never searches (the others' lightest edges suffice for a round), so with two
//! components left only the smaller one does.
//!
//! Where a component's best edge is long and starts at one of its scattered points, the points of its
//! dense clusters lie a little further from the other components (1–1.5 times that edge) and each
//! would search far into the neighbourhood. Their ball bounds lie just above the edge, so the ball
//! searches look a little beyond it and a bound that finds nothing there is exact enough to skip the
//! points even when the edge never improves (the common case: the round's start edge is the best). On
//! 10 million rows of `benches/scripts/hdbscan_scaling.py`'s shape the round joining the last two
//! components searched from 1,652,124 points before, 32,752 after (MST 450 s → 41 s).

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::kdtree::{BATCH_MIN_DIM, Balls, KdTree, NONE, Stack, with_dim};
use crate::metric::{Kernel, LANES, fmax};
use crate::simd::Job;

/// An MST edge between tree positions with its reduced weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PosEdge {
    pub a: u32,
    pub b: u32,
    pub w: f64,
}

struct UnionFind {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind { parent: (0..n as u32).collect(), rank: vec![0; n] }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        let mut root = x;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        while self.parent[x as usize] != root {
            let next = self.parent[x as usize];
            self.parent[x as usize] = root;
            x = next;
        }
        root
    }

    fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = if self.rank[ra as usize] < self.rank[rb as usize] { (ra, rb) } else { (rb, ra) };
        self.parent[lo as usize] = hi;
        if self.rank[lo as usize] == self.rank[hi as usize] {
            self.rank[hi as usize] += 1;
        }
        true
    }
}

/// A candidate edge; ordered by weight, then point, then neighbour.
#[derive(Debug, Clone, Copy)]
struct Cand {
    w: f64,
    p: u32,
    q: u32,
}

impl Cand {
    const NONE: Cand = Cand { w: f64::INFINITY, p: NONE, q: NONE };

    #[inline(always)]
    fn better(&self, o: &Cand) -> bool {
        (self.w, self.p, self.q) < (o.w, o.p, o.q)
    }
}

struct State<'a> {
    tree: &'a KdTree,
    /// Node balls for the chunked (high-dimensional) searches.
    balls: Option<Balls>,
    core: &'a [f64],
    comp: Vec<u32>,
    /// Per node, the smallest core distances by component (refreshed each round).
    node_core: Vec<NodeCore>,
    /// Per node, its points split into the main component's and the rest, each with its box.
    split: Split,
}

/// Per node, the points of one component (the node's main one, mostly its majority) and the rest, each
/// group with its box and smallest core distance (refreshed in the rounds that read it: every round of
/// the one-point searches below [`BATCH_MIN_DIM`], the few-component rounds' leaf balls above).
///
/// Why: a leaf at a cluster's edge holds the cluster's points and a few scattered points of other
/// components. Its box reaches into the cluster, so it bounds nothing for the cluster's own searches, and
/// every point of a cluster whose best edge is long (a cluster far from the rest) scanned the leaves of
/// its whole edge: on 1 % background noise nearly every leaf scanned in the last rounds held no point
/// within the bound. The box of the other points alone is tight; the main group's box does the same for
/// searches from other components.
struct Split {
    dim: usize,
    slack: f64,
    main: Vec<u32>,
    /// Points of `main` in the node (a lower bound for inner nodes: it only picks `main`).
    count: Vec<u32>,
    /// Smallest core distance of the main group, then of the rest (+∞: empty).
    cores: Vec<[f64; 2]>,
    /// Per node `4 * dim` values: the main group's lower and upper corners, then the rest's (an empty
    /// group: lower +∞, upper −∞).
    boxes: Vec<f64>,
}

impl Split {
    fn new(tree: &KdTree) -> Split {
        let m = tree.nodes.len();
        Split {
            dim: tree.dim,
            slack: tree.slack,
            main: vec![NONE; m],
            count: vec![0; m],
            cores: vec![[f64::INFINITY; 2]; m],
            boxes: vec![0.0; m * 4 * tree.dim],
        }
    }

    fn refresh(&mut self, tree: &KdTree, comp: &[u32], core: &[f64]) {
        let d = self.dim;
        let slack = self.slack;
        // Leaves in parallel, then inner nodes from the bottom (children sit after their parent).
        let leaves: Vec<LeafSplit> = tree
            .nodes
            .par_iter()
            .enumerate()
            .filter(|(_, nd)| nd.is_leaf())
            .map(|(i, nd)| {
                let (s, e) = (nd.start as usize, nd.end as usize);
                // Majority vote (Boyer–Moore): any choice is a valid split, a majority the tightest.
                let (mut main, mut votes) = (comp[s], 0u32);
                for &c in &comp[s..e] {
                    if votes == 0 {
                        main = c;
                    }
                    votes = if c == main { votes + 1 } else { votes - 1 };
                }
                let mut b = vec![0.0; 4 * d];
                let (mb, ob) = b.split_at_mut(2 * d);
                empty_box(mb);
                empty_box(ob);
                let (mut cores, mut count) = ([f64::INFINITY; 2], 0u32);
                for p in s..e {
                    let g = usize::from(comp[p] != main);
                    count += u32::from(g == 0);
                    cores[g] = cores[g].min(core[p]);
                    let bx = if g == 0 { &mut *mb } else { &mut *ob };
                    for (j, &v) in tree.bpoint(p).iter().enumerate() {
                        bx[j] = bx[j].min(v - slack);
                        bx[d + j] = bx[d + j].max(v + slack);
                    }
                }
                LeafSplit { node: i, main, count, cores, boxes: b }
            })
            .collect();
        for LeafSplit { node: i, main, count, cores, boxes: b } in leaves {
            self.main[i] = main;
            self.count[i] = count;
            self.cores[i] = cores;
            self.boxes[i * 4 * d..(i + 1) * 4 * d].copy_from_slice(&b);
        }
        let mut b = vec![0.0; 4 * d];
        for i in (0..tree.nodes.len()).rev() {
            let nd = tree.nodes[i];
            if nd.is_leaf() {
                continue;
            }
            let (l, r) = (nd.left as usize, nd.right as usize);
            let main = if self.count[l] >= self.count[r] { self.main[l] } else { self.main[r] };
            let mut cores = [f64::INFINITY; 2];
            let (mb, ob) = b.split_at_mut(2 * d);
            empty_box(mb);
            empty_box(ob);
            let mut count = 0;
            for x in [l, r] {
                let xb = &self.boxes[x * 4 * d..(x + 1) * 4 * d];
                let (xm, xo) = xb.split_at(2 * d);
                let xc = self.cores[x];
                if self.main[x] == main {
                    count += self.count[x];
                    union_box(mb, xm);
                    union_box(ob, xo);
                    cores = [cores[0].min(xc[0]), cores[1].min(xc[1])];
                } else {
                    // The child's main points are not `main`'s; its other points may be.
                    union_box(mb, xo);
                    union_box(ob, xm);
                    union_box(ob, xo);
                    cores = [cores[0].min(xc[1]), cores[1].min(xc[0]).min(xc[1])];
                }
            }
            self.main[i] = main;
            self.count[i] = count;
            self.cores[i] = cores;
            self.boxes[i * 4 * d..(i + 1) * 4 * d].copy_from_slice(&b);
        }
    }

    /// A lower bound of the weight of any edge from a point of component `c` (query `qb` in the box
    /// frame) into `node`, core distances aside from the node's.
    #[inline(always)]
    fn bound<K: Kernel>(&self, node: usize, c: u32, qb: &[f64]) -> f64 {
        let d = qb.len();
        let b = &self.boxes[node * 4 * self.dim..];
        let cores = self.cores[node];
        let rest = fmax(cores[1], K::min_rdist_box(qb, &b[2 * d..3 * d], &b[3 * d..4 * d]));
        if self.main[node] == c { rest } else { rest.min(fmax(cores[0], K::min_rdist_box(qb, &b[..d], &b[d..2 * d]))) }
    }
}

/// One leaf's [`Split`] entries, computed in parallel.
struct LeafSplit {
    node: usize,
    main: u32,
    count: u32,
    cores: [f64; 2],
    boxes: Vec<f64>,
}

fn empty_box(b: &mut [f64]) {
    let d = b.len() / 2;
    b[..d].fill(f64::INFINITY);
    b[d..].fill(f64::NEG_INFINITY);
}

fn union_box(into: &mut [f64], from: &[f64]) {
    let d = into.len() / 2;
    for j in 0..d {
        into[j] = into[j].min(from[j]);
        into[d + j] = into[d + j].max(from[d + j]);
    }
}

/// The smallest core distance in a node (`min`, of a point of component `comp`), the smallest of the
/// points of other components (`other`; +∞ when there are none) and the component holding every point
/// (`only`, [`NONE`] when they are several). From them, the smallest core distance outside any
/// searcher's component ([`NodeCore::outside`]) bounds every edge into the node.
///
/// Why not one minimum over the node: in the last rounds a node near a cluster often mixes the cluster's
/// points (small core distances, the searcher's own component) with scattered points of other components
/// (large ones). The node's overall minimum then bounds nothing, and every point of the cluster searched
/// the whole neighbourhood of its component: about n² work once 1 % of the rows were background noise.
#[derive(Debug, Clone, Copy)]
struct NodeCore {
    min: f64,
    comp: u32,
    other: f64,
    only: u32,
}

impl NodeCore {
    const EMPTY: NodeCore = NodeCore { min: f64::INFINITY, comp: NONE, other: f64::INFINITY, only: NONE };

    fn point(core: f64, comp: u32) -> NodeCore {
        NodeCore { min: core, comp, other: f64::INFINITY, only: comp }
    }

    /// The smallest core distance among the node's points outside component `c` (+∞: none).
    #[inline(always)]
    fn outside(&self, c: u32) -> f64 {
        if self.comp == c { self.other } else { self.min }
    }

    fn merge(a: NodeCore, b: NodeCore) -> NodeCore {
        let (lo, hi) = if (b.min, b.comp) < (a.min, a.comp) { (b, a) } else { (a, b) };
        let only = if a.only == b.only { a.only } else { NONE };
        NodeCore { min: lo.min, comp: lo.comp, other: lo.other.min(hi.outside(lo.comp)), only }
    }
}

impl State<'_> {
    fn refresh_nodes(&mut self) {
        let t = self.tree;
        for i in (0..t.nodes.len()).rev() {
            let nd = t.nodes[i];
            self.node_core[i] = if nd.is_leaf() {
                let (s, e) = (nd.start as usize, nd.end as usize);
                (s + 1..e).fold(NodeCore::point(self.core[s], self.comp[s]), |acc, p| {
                    NodeCore::merge(acc, NodeCore::point(self.core[p], self.comp[p]))
                })
            } else {
                NodeCore::merge(self.node_core[nd.left as usize], self.node_core[nd.right as usize])
            };
        }
    }

    /// [`State::search`] for `p` unless its lower bound `lb[p]` is already above its component's bound
    /// (then `None`: `p` cannot hold the component's best edge).
    #[inline(always)]
    fn search_if_open<K: Kernel>(
        &self,
        p: usize,
        start: Cand,
        lb: &[f64],
        bounds: &[AtomicU64],
        d: usize,
    ) -> Option<Cand> {
        let bound = &bounds[self.comp[p] as usize];
        (lb[p] <= f64::from_bits(bound.load(Ordering::Relaxed))).then(|| self.search::<K>(p, start, bound, d))
    }

    /// Best edge from `p` to another component, starting from `best` (a known valid candidate or NONE).
    /// `d`: the dimension (a literal where the caller specialises it, see [`with_dim`]).
    #[inline(always)]
    fn search<K: Kernel>(&self, p: usize, mut best: Cand, bound: &AtomicU64, d: usize) -> Cand {
        let t = self.tree;
        let c = self.comp[p];
        let q = &t.point(p)[..d];
        let qb = &t.bpoint(p)[..d];
        let core_p = self.core[p];
        let mut stack = Stack::new();
        let (mut node, mut b) = (0usize, t.min_rdist::<K>(qb, 0));
        loop {
            let nc = self.node_core[node];
            let lb = fmax(fmax(core_p, nc.outside(c)), b);
            let open = |lb: f64| lb <= best.w && lb <= f64::from_bits(bound.load(Ordering::Relaxed));
            if nc.only != c && open(lb) && open(self.split.bound::<K>(node, c, qb)) {
                let nd = t.nodes[node];
                if nd.is_leaf() {
                    let limit = std::cell::Cell::new(best.w);
                    t.scan_leaf::<K>(
                        q,
                        node,
                        || limit.get().next_up(),
                        |first, rd| {
                            for (i, &r) in rd.iter().enumerate() {
                                let j = first + i;
                                let w = fmax(fmax(core_p, self.core[j]), r);
                                if w <= best.w && self.comp[j] != c {
                                    let cand = Cand { w, p: p as u32, q: j as u32 };
                                    if cand.better(&best) {
                                        best = cand;
                                        limit.set(w);
                                        bound.fetch_min(w.to_bits(), Ordering::Relaxed);
                                    }
                                }
                            }
                        },
                    );
                } else {
                    (node, b) = t.nearer_child::<K>(qb, nd, &mut stack);
                    continue;
                }
            }
            match stack.pop() {
                Some(x) => (node, b) = x,
                None => break,
            }
        }
        best
    }
}

/// The MST (n − 1 edges, tree positions, reduced weights `max(core_a, core_b, rdist)`), given reduced core
/// distances per tree position and the k-nearest-neighbour lists (reduced distances, positions).
pub(crate) fn mst<K: Kernel>(tree: &KdTree, core: &[f64], knn_dist: &[f64], knn_pos: &[u32], k: usize) -> Vec<PosEdge> {
    let n = tree.n;
    let mut edges = Vec::with_capacity(n.saturating_sub(1));
    if n < 2 {
        return edges;
    }
    let balls = (tree.dim >= BATCH_MIN_DIM).then(|| Balls::new::<K>(tree));
    let mut st = State {
        tree,
        balls,
        core,
        comp: (0..n as u32).collect(),
        node_core: vec![NodeCore::EMPTY; tree.nodes.len()],
        split: Split::new(tree),
    };
    let mut uf = UnionFind::new(n);

    // Round 0 from the neighbour lists: the best listed edge is p's best overall when it is no heavier than
    // the last listed distance (every unlisted point is at least that far).
    let mut prev: Vec<Cand> = (0..n)
        .into_par_iter()
        .map(|p| {
            let (ds, qs) = (&knn_dist[p * k..(p + 1) * k], &knn_pos[p * k..(p + 1) * k]);
            let best = ds
                .iter()
                .zip(qs)
                .filter(|&(_, &q)| q != NONE && q as usize != p)
                .map(|(&d, &q)| Cand { w: core[p].max(core[q as usize]).max(d), p: p as u32, q })
                .fold(Cand::NONE, |a, b| if b.better(&a) { b } else { a });
            if best.w <= ds[k - 1] { best } else { Cand::NONE }
        })
        .collect();
    merge(&mut st, &mut uf, &prev, &mut edges);
    // The components of the first round with at most FEW_COMPONENTS of them: the groups whose
    // centroids give the projection bounds of that round and all later ones.
    let mut groups: Option<Vec<u32>> = None;

    while edges.len() < n - 1 {
        st.refresh_nodes();
        if tree.dim < BATCH_MIN_DIM || n - edges.len() <= FEW_COMPONENTS {
            st.split.refresh(tree, &st.comp, core);
        }
        // Start every point from its best known edge leaving its component: last round's edge if still
        // valid, or the best edge in its neighbour list — which is exact when it is no heavier than the last
        // listed distance (then no search is needed). Each component's bound starts at its best start.
        let mut starts: Vec<(Cand, bool)> = (0..n)
            .into_par_iter()
            .with_min_len(256)
            .map(|p| {
                let c = st.comp[p];
                let (ds, qs) = (&knn_dist[p * k..(p + 1) * k], &knn_pos[p * k..(p + 1) * k]);
                let listed = ds
                    .iter()
                    .zip(qs)
                    .filter(|&(_, &q)| q != NONE && st.comp[q as usize] != c)
                    .map(|(&d, &q)| Cand { w: fmax(fmax(core[p], core[q as usize]), d), p: p as u32, q })
                    .fold(Cand::NONE, |a, b| if b.better(&a) { b } else { a });
                let exact = listed.q != NONE && listed.w <= ds[k - 1];
                let old = prev[p];
                let start =
                    if old.q != NONE && st.comp[old.q as usize] != c && old.better(&listed) { old } else { listed };
                (start, exact)
            })
            .collect();
        // The largest component does not search: any component's lightest leaving edge is in the MST (cut
        // property), so a round may add the others' alone, and the largest joins through theirs. In the
        // last rounds it holds most points (with two left, only the smaller searches). Its points start
        // done, with no candidate.
        let mut size = vec![0u32; n];
        st.comp.iter().for_each(|&c| size[c as usize] += 1);
        let largest = (0..n as u32).max_by_key(|&c| (size[c as usize], std::cmp::Reverse(c))).expect("n ≥ 2");
        starts.par_iter_mut().zip(&st.comp).filter(|(_, c)| **c == largest).for_each(|(s, _)| *s = (Cand::NONE, true));
        let bounds: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(f64::INFINITY.to_bits())).collect();
        for (p, (cand, _)) in starts.iter().enumerate() {
            if cand.q != NONE {
                bounds[st.comp[p] as usize].fetch_min(cand.w.to_bits(), Ordering::Relaxed);
            }
        }
        let mut cands = vec![Cand::NONE; n];
        // A lower bound of each point's best edge: its core distance, or tighter ones in the last rounds.
        let few;
        let lb: &[f64] = if n - edges.len() <= FEW_COMPONENTS {
            let groups = groups.get_or_insert_with(|| st.comp.clone());
            few = few_components_warm_up::<K>(&st, groups, &starts, &bounds, &mut cands);
            &few
        } else {
            core
        };
        if tree.dim < BATCH_MIN_DIM {
            cands.par_chunks_mut(64).enumerate().for_each(|(chunk, out)| {
                crate::simd::run(SearchJob::<K> {
                    st: &st,
                    first: chunk * 64,
                    starts: &starts,
                    lb,
                    bounds: &bounds,
                    out,
                    _k: PhantomData,
                })
            });
        } else {
            // High dimensions: the points of a leaf chunk share one traversal (8 lanes).
            tree.leaf_slices(&mut cands, 1).into_par_iter().for_each(|(leaf, out)| {
                crate::simd::run(LeafSearchJob::<K> {
                    st: &st,
                    leaf,
                    starts: &starts,
                    lb,
                    bounds: &bounds,
                    out,
                    _k: PhantomData,
                })
            });
        }
        let before = edges.len();
        merge(&mut st, &mut uf, &cands, &mut edges);
        assert!(edges.len() > before, "Borůvka round added no edge");
        prev = cands;
    }
    edges
}

/// Borůvka searches for consecutive points (see [`crate::simd::Job`]).
struct SearchJob<'a, 'b, K> {
    st: &'a State<'b>,
    first: usize,
    /// Start candidate of each point and whether it is already exact.
    starts: &'a [(Cand, bool)],
    /// Lower bound of each point's best edge: points above their component's bound are skipped.
    lb: &'a [f64],
    bounds: &'a [AtomicU64],
    out: &'a mut [Cand],
    _k: PhantomData<K>,
}

impl<K: Kernel> Job for SearchJob<'_, '_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        with_dim!(self.st.tree.dim, D => {
            for (i, o) in self.out.iter_mut().enumerate() {
                let p = self.first + i;
                let (start, exact) = self.starts[p];
                if exact {
                    *o = start;
                } else if let Some(c) = self.st.search_if_open::<K>(p, start, self.lb, self.bounds, D) {
                    *o = c;
                }
            }
        })
    }
}

/// Borůvka searches for the points of one leaf, a chunk of lanes at a time.
struct LeafSearchJob<'a, 'b, K> {
    st: &'a State<'b>,
    leaf: usize,
    starts: &'a [(Cand, bool)],
    lb: &'a [f64],
    bounds: &'a [AtomicU64],
    out: &'a mut [Cand],
    _k: PhantomData<K>,
}

impl<K: Kernel> Job for LeafSearchJob<'_, '_, K> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let t = self.st.tree;
        let nd = t.nodes[self.leaf];
        let (s, e) = (nd.start as usize, nd.end as usize);
        for (ci, c0) in (s..e).step_by(LANES).enumerate() {
            let lanes = (e - c0).min(LANES);
            self.st.search_chunk::<K>(
                self.leaf,
                ci,
                c0,
                lanes,
                self.starts,
                self.lb,
                self.bounds,
                &mut self.out[c0 - s..c0 - s + lanes],
            );
        }
    }
}

impl State<'_> {
    /// Searches for up to [`LANES`] points (`c0..c0 + lanes`, chunk `ci` of `leaf`) in one traversal;
    /// each lane keeps its own component, core distance, best candidate and bound.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn search_chunk<K: Kernel>(
        &self,
        leaf: usize,
        ci: usize,
        c0: usize,
        lanes: usize,
        starts: &[(Cand, bool)],
        lb: &[f64],
        bounds: &[AtomicU64],
        out: &mut [Cand],
    ) {
        let t = self.tree;
        let qcols = &t.soa[t.soa_off[leaf] + ci * t.dim * LANES..][..t.dim * LANES];
        let mut active = [false; LANES];
        let mut comp = [NONE; LANES];
        let mut core = [0.0f64; LANES];
        let mut best = [Cand::NONE; LANES];
        for l in 0..lanes {
            let p = c0 + l;
            let (start, exact) = starts[p];
            comp[l] = self.comp[p];
            core[l] = self.core[p];
            best[l] = if exact || out[l].q == NONE { start } else { out[l] };
            active[l] = !exact && lb[p] <= f64::from_bits(bounds[comp[l] as usize].load(Ordering::Relaxed));
        }
        if !active.iter().any(|&a| a) {
            out.copy_from_slice(&best[..lanes]);
            return;
        }
        let mut need = [false; LANES];
        let mut bl = [0.0f64; LANES];
        let mut dl = [0.0f64; LANES];
        let q0 = t.bpoint(c0);
        let bcols = t.bchunk(leaf, ci);
        let mut stack = Stack::new();
        let mut node = 0usize;
        loop {
            K::box_from_chunk(bcols, t.lo(node), t.hi(node), &mut bl);
            if let Some(b) = &self.balls {
                b.tighten::<K>(t.dim, qcols, node, &mut bl);
            }
            let nc = self.node_core[node];
            let mut any = false;
            for l in 0..lanes {
                let lb = fmax(fmax(core[l], nc.outside(comp[l])), bl[l]);
                need[l] = active[l]
                    && nc.only != comp[l]
                    && lb <= best[l].w
                    && lb <= f64::from_bits(bounds[comp[l] as usize].load(Ordering::Relaxed));
                any |= need[l];
            }
            if any {
                let n2 = t.nodes[node];
                if n2.is_leaf() {
                    for r in n2.start as usize..n2.end as usize {
                        K::rdists_from_chunk(qcols, t.point(r), &mut dl);
                        let (cr, core_r) = (self.comp[r], self.core[r]);
                        for l in 0..lanes {
                            if need[l] && cr != comp[l] {
                                let w = fmax(fmax(core[l], core_r), dl[l]);
                                if w <= best[l].w {
                                    let cand = Cand { w, p: (c0 + l) as u32, q: r as u32 };
                                    if cand.better(&best[l]) {
                                        best[l] = cand;
                                        bounds[comp[l] as usize].fetch_min(w.to_bits(), Ordering::Relaxed);
                                    }
                                }
                            }
                        }
                    }
                } else {
                    node = t.nearer_child::<K>(q0, n2, &mut stack).0;
                    continue;
                }
            }
            match stack.pop() {
                Some((n2, _)) => node = n2,
                None => break,
            }
        }
        out.copy_from_slice(&best[..lanes]);
    }
}

/// Adds each component's best candidate (in component order) and relabels components.
fn merge(st: &mut State<'_>, uf: &mut UnionFind, cands: &[Cand], edges: &mut Vec<PosEdge>) {
    let n = st.comp.len();
    let mut best = vec![Cand::NONE; n];
    for c in cands.iter().filter(|c| c.q != NONE) {
        let comp = st.comp[c.p as usize] as usize;
        if c.better(&best[comp]) {
            best[comp] = *c;
        }
    }
    for c in best.iter().filter(|c| c.q != NONE) {
        if uf.union(c.p, c.q) {
            edges.push(PosEdge { a: c.p, b: c.q, w: c.w });
        }
    }
    for p in 0..n {
        st.comp[p] = uf.find(p as u32);
    }
}

/// Labels (each below the number of points) → dense ids `0..count` in order of first appearance.
fn dense_ids(labels: &[u32]) -> (Vec<u32>, usize) {
    let mut id = vec![NONE; labels.len()];
    let mut count = 0u32;
    let ids = labels
        .iter()
        .map(|&l| {
            if id[l as usize] == NONE {
                id[l as usize] = count;
                count += 1;
            }
            id[l as usize]
        })
        .collect();
    (ids, count as usize)
}

/// The ball bounds of a few-component round are computed once the waves grow beyond this many points
/// per component (see [`few_components_warm_up`]).
const BALLS_AFTER_WAVE: usize = 256;

/// Up to this many components a round bounds every point's distance to the other components by
/// projections ([`projection_bounds`]) and first searches the points with the smallest bounds.
const FEW_COMPONENTS: usize = 32;

/// The first part of a Borůvka round among few, large components (the last rounds, which join whole
/// clusters), where searching from every point wastes most of the work: only points near another
/// component can hold the component's best edge. Each component's points are searched in increasing
/// order of a lower bound on their best edge, in waves that double in size, until every remaining point's
/// bound exceeds its component's best edge so far (strictly, so ties are still found and the result does
/// not depend on the order). Returns the bounds for the rest of the round: +∞ for the points searched
/// here (their results are in `out`), above their component's bound for the others.
///
/// The bounds are the larger of two: projections onto the lines between the groups' centroids
/// ([`projection_bounds`]) and balls over subtrees and leaves ([`ball_bounds`]), the latter
/// computed after the first waves (up to [`BALLS_AFTER_WAVE`] points per component). On 300,000 rows of
/// 12 blobs with 1 % background noise the round joining 14 components searched from 22,000 points,
/// where it had searched from 156,000 with projections over whole groups and no ball bounds.
fn few_components_warm_up<K: Kernel>(
    st: &State<'_>,
    groups: &[u32],
    starts: &[(Cand, bool)],
    bounds: &[AtomicU64],
    out: &mut [Cand],
) -> Vec<f64> {
    let n = st.comp.len();
    // No edge heavier than every component's bound can still win, and an edge is never lighter than its
    // endpoints' core distances: points whose core distance exceeds them all are left out of the bounds.
    // Only the bounds of components that search matter (the bounds are read for their points alone).
    let reach = (0..st.comp.len())
        .filter(|&p| !starts[p].1)
        .map(|p| f64::from_bits(bounds[st.comp[p] as usize].load(Ordering::Relaxed)))
        .fold(0.0, fmax);
    let mut lb = projection_bounds::<K>(st.tree, groups, &st.comp, st.core, reach, |p| !starts[p].1);
    // The points still to search, per component.
    let (cid, nc) = dense_ids(&st.comp);
    let mut order: Vec<Vec<u32>> = vec![Vec::new(); nc];
    for p in (0..n).filter(|&p| !starts[p].1) {
        order[cid[p] as usize].push(p as u32);
    }
    order.par_iter_mut().for_each(|ps| ps.sort_by(|&a, &b| lb[a as usize].total_cmp(&lb[b as usize]).then(a.cmp(&b))));
    let bound_of = |p: u32| f64::from_bits(bounds[st.comp[p as usize] as usize].load(Ordering::Relaxed));
    let mut next = vec![0usize; order.len()];
    let mut wave = 16usize;
    let mut balls = false;
    loop {
        // The first waves, on the projection bounds alone, bring each component's bound near its best
        // edge; the ball bounds, computed against those bounds, then skip far more points and stop their
        // searches sooner (3 million rows of the scaling script: MST 17.2 s → 9.6 s).
        if !balls && wave > BALLS_AFTER_WAVE {
            let by_ball = ball_bounds::<K>(st, starts, bounds, &lb);
            lb.par_iter_mut().zip(&by_ball).for_each(|(a, &b)| *a = fmax(*a, b));
            order.par_iter_mut().zip(&next).for_each(|(ps, &i)| {
                ps[i..].sort_by(|&a, &b| lb[a as usize].total_cmp(&lb[b as usize]).then(a.cmp(&b)))
            });
            balls = true;
        }
        let mut batch = Vec::new();
        for (ps, i) in order.iter().zip(next.iter_mut()) {
            if *i < ps.len() && lb[ps[*i] as usize] <= bound_of(ps[*i]) {
                let end = (*i + wave).min(ps.len());
                batch.extend_from_slice(&ps[*i..end]);
                *i = end;
            }
        }
        if batch.is_empty() {
            break;
        }
        let found: Vec<Cand> = batch
            .par_chunks(8)
            .flat_map_iter(|ps| {
                crate::simd::run(OrderedSearchJob::<K> { st, ps, lb: &lb, starts, bounds, _k: PhantomData })
            })
            .collect();
        for (&p, c) in batch.iter().zip(found) {
            out[p as usize] = c;
            lb[p as usize] = f64::INFINITY;
        }
        wave *= 2;
    }
    lb
}

/// Borůvka searches for a list of points, each skipped when its lower bound exceeds its component's bound.
struct OrderedSearchJob<'a, 'b, K> {
    st: &'a State<'b>,
    ps: &'a [u32],
    lb: &'a [f64],
    starts: &'a [(Cand, bool)],
    bounds: &'a [AtomicU64],
    _k: PhantomData<K>,
}

impl<K: Kernel> Job for OrderedSearchJob<'_, '_, K> {
    type Output = Vec<Cand>;
    #[inline(always)]
    fn run(self) -> Vec<Cand> {
        with_dim!(self.st.tree.dim, D => {
            self.ps
                .iter()
                .map(|&p| {
                    let p = p as usize;
                    self.st.search_if_open::<K>(p, self.starts[p].0, self.lb, self.bounds, D).unwrap_or(Cand::NONE)
                })
                .collect()
        })
    }
}

/// A lower bound (reduced) of each point's mutual-reachability distance to the points of other
/// components whose core distance is at most `reach` — the only ones that can end an edge no heavier
/// than `reach` — for the points where `wanted` holds (0 elsewhere).
///
/// `groups` partitions the points into groups that each lie in one component (earlier components). For
/// `p` in group `g`, `q` in group `h` of another component and `u = c_h − c_g` (centroids), Hölder
/// gives `‖q − p‖ ≥ (u·q − u·p) / ‖u‖_*`, so `min_{q∈h} u·q` (one pass over `h`) bounds the distance
/// from `p` to all of `h` at once. For well-separated clusters this is close to the true gap, and points
/// deep inside a cluster get a bound above the closest pair between clusters. Groups finer than the
/// components keep the bound tight after clusters have merged into non-convex components. The bound is
/// shrunk by the worst-case rounding of the dot products, so it never exceeds a computed distance.
/// Centroids are those of the groups' points within `reach` (the origin for a group without one: it
/// bounds nothing then, its minimum projection being +∞, and its own points are beyond `reach`).
fn projection_bounds<K: Kernel>(
    tree: &KdTree,
    groups: &[u32],
    comp: &[u32],
    core: &[f64],
    reach: f64,
    wanted: impl Fn(usize) -> bool + Sync,
) -> Vec<f64> {
    let (n, d) = (tree.n, tree.dim);
    let (gid, ng) = dense_ids(groups);
    let mut group_comp = vec![0u32; ng];
    for (&g, &c) in gid.iter().zip(comp) {
        group_comp[g as usize] = c;
    }
    // Points that can end an edge of weight ≤ reach; the others are as far as their core distance.
    let reachable = |q: usize| core[q] <= reach;
    // Per group: coordinate sums of its reachable points, then their count; and the largest coordinate
    // magnitude of all points.
    let (sums, max_abs) = (0..n)
        .into_par_iter()
        .with_min_len(4096)
        .fold(
            || (vec![0.0; ng * (d + 1)], 0.0f64),
            |(mut acc, mut m), p| {
                let g = gid[p] as usize;
                let x = tree.point(p);
                m = x.iter().fold(m, |m, v| m.max(v.abs()));
                if reachable(p) {
                    acc[g * (d + 1)..g * (d + 1) + d].iter_mut().zip(x).for_each(|(s, &v)| *s += v);
                    acc[g * (d + 1) + d] += 1.0;
                }
                (acc, m)
            },
        )
        .reduce(
            || (vec![0.0; ng * (d + 1)], 0.0),
            |(a, ma), (b, mb)| (a.iter().zip(&b).map(|(x, y)| x + y).collect(), ma.max(mb)),
        );
    let centroid: Vec<f64> = (0..ng)
        .flat_map(|g| (0..d).map(move |j| (g, j)))
        .map(|(g, j)| sums[g * (d + 1) + j] / sums[g * (d + 1) + d].max(1.0))
        .collect();
    // For p in group g and every group a: s[a] = (c_g − c_a)·p = u[a][g]·p, with u[a][g] = c_g − c_a. Then
    // min over q ∈ g of s[a] is min_proj[a][g], and u[g][h]·p = −s[h]. The vectors are stored per group
    // as d × ng matrices (column a), so one point's products vectorise across groups.
    let mut v = vec![0.0; ng * d * ng];
    for g in 0..ng {
        for j in 0..d {
            for a in 0..ng {
                v[(g * d + j) * ng + a] = centroid[g * d + j] - centroid[a * d + j];
            }
        }
    }
    let project = |p: usize, out: &mut [f64]| {
        let g = gid[p] as usize;
        out.fill(0.0);
        for (j, &x) in tree.point(p).iter().enumerate() {
            for (o, &vj) in out.iter_mut().zip(&v[(g * d + j) * ng..(g * d + j + 1) * ng]) {
                *o += vj * x;
            }
        }
    };
    // Dual norms of u[g][h] and the rounding slack of a difference of two dot products.
    let mut dual = vec![0.0; ng * ng];
    let mut slack = vec![0.0; ng * ng];
    let mut u = vec![0.0; d];
    for g in 0..ng {
        for h in 0..ng {
            u.iter_mut().enumerate().for_each(|(j, t)| *t = centroid[h * d + j] - centroid[g * d + j]);
            dual[g * ng + h] = K::dual_norm(&u);
            let l1: f64 = u.iter().map(|t| t.abs()).sum();
            slack[g * ng + h] = 4.0 * (d + 2) as f64 * f64::EPSILON * l1 * max_abs;
        }
    }
    let other = |g: usize, h: usize| group_comp[g] != group_comp[h];
    // Core levels: an edge to q is no lighter than q's core distance, so the points of a group are
    // bounded level by level — scattered points (large core distances) reaching towards another group
    // then bound as far as their core distance, instead of spoiling the whole group's bound.
    // tau[l] = reach · 0.6^(LEVELS − 1 − l) (reduced); q is at the first level with core(q) ≤ tau[l].
    const LEVELS: usize = 8;
    let tau: [f64; LEVELS] = std::array::from_fn(|l| reach * 0.6f64.powi((LEVELS - 1 - l) as i32));
    let level = |c: f64| tau.iter().position(|&t| c <= t).unwrap_or(LEVELS - 1);
    let floor = |l: usize| if l == 0 { 0.0 } else { tau[l - 1] };
    // min_proj[(a·ng + g)·LEVELS + l] = min over q ∈ g at level l of u[a][g]·q.
    let min_proj = (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .fold(
            || (vec![f64::INFINITY; ng * ng * LEVELS], vec![0.0; ng]),
            |(mut acc, mut sp), q| {
                if !reachable(q) {
                    return (acc, sp);
                }
                project(q, &mut sp);
                let (g, l) = (gid[q] as usize, level(core[q]));
                for (a, &v) in sp.iter().enumerate() {
                    let i = (a * ng + g) * LEVELS + l;
                    acc[i] = acc[i].min(v);
                }
                (acc, sp)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| vec![f64::INFINITY; ng * ng * LEVELS], |a, b| a.iter().zip(&b).map(|(x, y)| x.min(*y)).collect());
    let mut lb = vec![0.0; n];
    lb.par_iter_mut().enumerate().with_min_len(1024).for_each_init(
        || vec![0.0; ng],
        |sp, (p, out)| {
            if !wanted(p) {
                return;
            }
            project(p, sp);
            let g = gid[p] as usize;
            let bound = (0..ng)
                .filter(|&h| other(g, h))
                .flat_map(|h| (0..LEVELS).map(move |l| (h, l)))
                .map(|(h, l)| {
                    let i = g * ng + h;
                    let v = min_proj[i * LEVELS + l] + sp[h] - slack[i];
                    let gap = if v > 0.0 && dual[i] > 0.0 { v / dual[i] } else { 0.0 };
                    fmax(floor(l), K::to_rdist(gap * (1.0 - 1e-9)) * (1.0 - 1e-9))
                })
                .fold(f64::INFINITY, f64::min);
            *out = fmax(core[p], bound);
        },
    );
    lb
}

/// A lower bound (reduced) of each searching point's best edge from one search per ball: a node's
/// points of its main component lie in a ball (centre `c`, radius `ρ`), so an edge from any of them to
/// `r` weighs at least `max(core(r), d(c, r) − ρ)` (triangle inequality). 0 for the points no ball
/// covers (not of their leaf's main component).
///
/// Why: in the last rounds a cluster far from the rest has its best edge long, and nearly all its
/// points lie within 1.5 times that length of another component, so each point searched far (measured
/// on 1 % background noise: 120,000 of 300,000 points). A dense leaf's ball is small next to that
/// length, so the bound is within a few percent of the truth and one search per leaf leaves only the
/// points near the gap to search. Subtrees of up to [`BALL_SUBTREE`] points first try one ball for all
/// their points, which only has to prove every edge heavier than the bound (a search that stops at the
/// first counter-example): on 3 million rows the round joining two components spent 2.0 s on leaf
/// balls, 0.3 s this way. Points already searched (`lb` +∞) are left out of the balls.
fn ball_bounds<K: Kernel>(st: &State<'_>, starts: &[(Cand, bool)], bounds: &[AtomicU64], lb: &[f64]) -> Vec<f64> {
    let t = st.tree;
    let d = t.dim;
    let mut out = vec![0.0; t.n];
    subtree_slices(t, 0, &mut out, BALL_SUBTREE).into_par_iter().for_each_init(
        || (vec![0.0; d], vec![0.0; d], Vec::new()),
        |(centre, cb, members), (node, out)| {
            let base = t.nodes[node].start as usize;
            st.ball_bound::<K>(node, base, starts, bounds, lb, out, (centre, cb, members))
        },
    );
    out
}

/// Subtrees of at most `size` points (or single leaves) covering the tree under `node`, each with its
/// part of `v` (one value per point, in tree order).
fn subtree_slices<'a, T>(t: &KdTree, node: usize, v: &'a mut [T], size: usize) -> Vec<(usize, &'a mut [T])> {
    let nd = t.nodes[node];
    if nd.is_leaf() || ((nd.end - nd.start) as usize) <= size {
        return vec![(node, v)];
    }
    let left = t.nodes[nd.left as usize];
    let (l, r) = v.split_at_mut((left.end - left.start) as usize);
    let mut out = subtree_slices(t, nd.left as usize, l, size);
    out.extend(subtree_slices(t, nd.right as usize, r, size));
    out
}

/// The largest subtrees whose points are first bounded by one ball (see [`State::ball_bound`]).
const BALL_SUBTREE: usize = 2048;

impl State<'_> {
    /// The ball bounds of [`ball_bounds`] for the searching points under `node` whose entry of `out`
    /// (positions from `base`) is still 0. A ball over all the node's points of its main component
    /// first: when it proves every edge from them heavier than their component's bound, they are all
    /// skipped with one search; otherwise the children are bounded, down to one ball per leaf.
    #[allow(clippy::too_many_arguments)]
    fn ball_bound<K: Kernel>(
        &self,
        node: usize,
        base: usize,
        starts: &[(Cand, bool)],
        bounds: &[AtomicU64],
        lb: &[f64],
        out: &mut [f64],
        buf: (&mut [f64], &mut [f64], &mut Vec<usize>),
    ) {
        let (centre, cb, members) = buf;
        let t = self.tree;
        let nd = t.nodes[node];
        let (s, e) = (nd.start as usize, nd.end as usize);
        let m = self.split.main[node];
        let open = |p: usize, out: &[f64]| !starts[p].1 && lb[p] < f64::INFINITY && out[p - base] == 0.0;
        members.clear();
        members.extend((s..e).filter(|&p| self.comp[p] == m && open(p, out)));
        if !members.is_empty() {
            centre.fill(0.0);
            for &p in members.iter() {
                centre.iter_mut().zip(t.point(p)).for_each(|(c, &v)| *c += v);
            }
            centre.iter_mut().for_each(|c| *c /= members.len() as f64);
            let rho = members.iter().map(|&p| K::to_dist(K::rdist(centre, t.point(p)))).fold(0.0, fmax);
            // Rounding of the centre, the radius and the distances: a relative margin far above it.
            let rho = rho * (1.0 + 1e-9) + 1e-12;
            match &t.rot {
                Some(r) => r.apply(centre, cb),
                None => cb.copy_from_slice(centre),
            }
            // Searched up to a little beyond the component's bound: finding nothing below then proves
            // every edge from the ball strictly heavier than the bound (the margin covers the rounding
            // the shrink below covers), so its points are skipped even when the bound never shrinks —
            // the usual case in the last rounds, where the start edge is already the best.
            let bound = f64::from_bits(bounds[m as usize].load(Ordering::Relaxed));
            let limit = K::to_dist(bound) * (1.0 + 4e-9);
            let best = self.ball_search::<K>(centre, cb, rho, m, limit, !nd.is_leaf());
            let lb = if best >= limit && bound.is_finite() {
                Some(bound.next_up())
            } else if nd.is_leaf() {
                Some(K::to_rdist(fmax(best * (1.0 - 1e-9), 0.0)))
            } else {
                None
            };
            if let Some(lb) = lb {
                for &p in members.iter() {
                    out[p - base] = lb;
                }
            }
        }
        if !nd.is_leaf() && (s..e).any(|p| open(p, out)) {
            for c in [nd.left, nd.right] {
                self.ball_bound::<K>(
                    c as usize,
                    base,
                    starts,
                    bounds,
                    lb,
                    out,
                    (&mut *centre, &mut *cb, &mut *members),
                );
            }
        }
    }

    /// `min over r outside component m of max(core(r), d(c, r) − ρ)` (true distances), or `limit` when
    /// every such value is at least `limit`. `cb`: the centre in the box frame. `early`: return the first
    /// value found below `limit` (the caller only asks whether there is one).
    fn ball_search<K: Kernel>(&self, c: &[f64], cb: &[f64], rho: f64, m: u32, limit: f64, early: bool) -> f64 {
        let t = self.tree;
        let sp = &self.split;
        let d = t.dim;
        let node_bound = |node: usize| -> f64 {
            let b = &sp.boxes[node * 4 * d..(node + 1) * 4 * d];
            let cores = sp.cores[node];
            let group = |g: usize| {
                let (lo, hi) = (&b[2 * g * d..(2 * g + 1) * d], &b[(2 * g + 1) * d..(2 * g + 2) * d]);
                fmax(K::to_dist(cores[g]), K::to_dist(K::min_rdist_box(cb, lo, hi)) - rho)
            };
            if sp.main[node] == m { group(1) } else { group(0).min(group(1)) }
        };
        let mut best = limit;
        let mut stack = Stack::new();
        stack.push(0, node_bound(0));
        while let Some((node, lb)) = stack.pop() {
            if lb >= best || self.node_core[node].only == m {
                continue;
            }
            let nd = t.nodes[node];
            if nd.is_leaf() {
                for r in nd.start as usize..nd.end as usize {
                    if self.comp[r] != m {
                        let v = fmax(K::to_dist(self.core[r]), K::to_dist(K::rdist(c, t.point(r))) - rho);
                        best = best.min(v);
                        if early && best < limit {
                            return best;
                        }
                    }
                }
            } else {
                let (l, r) = (nd.left as usize, nd.right as usize);
                let (bl, br) = (node_bound(l), node_bound(r));
                if bl <= br {
                    stack.push(r, br);
                    stack.push(l, bl);
                } else {
                    stack.push(l, bl);
                    stack.push(r, br);
                }
            }
        }
        best
    }
}
