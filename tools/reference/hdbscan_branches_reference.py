#!/usr/bin/env python3
"""Reference fixtures for branch detection within HDBSCAN clusters (FLASC: Bot et al., PeerJ CS 2025), as
defined by hdbscan 0.8.44's `hdbscan.branches.BranchDetector` (spec: tools/reference/notes/flasc_branches.md).

Run with the pinned environment (see requirements.txt):

    python tools/reference/hdbscan_branches_reference.py [--out DIR]

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan_branches/ (or DIR; stale
`*.json` there removed). Seeded: re-running reproduces the files byte for byte.

What hdbscan does, in short: for every cluster, centrality = 1 / distance to the cluster's centroid (mean
weighted by the cluster probabilities); a graph over the cluster's points ("full": all pairs not farther
apart than the cluster's longest MST edge; "core": the cluster's MST edges and k-nearest-neighbour pairs);
edge weight = the larger centrality of its ends (hdbscan doubles it for pairs that are both an MST edge and a
kNN pair, see the spec); single linkage, condensed tree and EOM/leaf selection on those weights give branch
labels; a cluster with more than two branches (more than one with `label_sides_as_branches`) is split in
the combined labels. Choices made here:

- The clustering is hdbscan's with `algorithm="prims_kdtree"` (exact MST) and `branch_detection_data=True`.
  `outflow_params.min_samples` is Outflow's (the point itself counted): hdbscan is called with one less.
  hdbscan's "core" kNN comes from its `BranchDetectionData`, which queries k = hdbscan's `min_samples`
  neighbours *with* the point itself (Outflow's S - 1 with itself, S - 2 others: `knn_k_with_self`).
- Data rounded to 4 decimals, so the JSON text is exactly what hdbscan saw. Rows are ordered clusters first,
  hdbscan noise last: hdbscan's core graph reads core distances at in-cluster ids (an indexing slip), and a
  noise row (NaN core distance) at such an id keeps duplicate rows apart and multiplies edge weights; with
  noise last that never happens (asserted per run).
- Self-check: an independent model of the graph, centralities and labelling (this file) run with hdbscan's
  own tie order reproduces every hdbscan run exactly (asserted).
- Ties: every merge of two branches happens at one vertex (the weight of its edges is its own centrality),
  so hdbscan's binary single linkage depends on the order of equal weights (quicksort). `level` is the same
  model with Outflow's tie-independent level tree (tree.rs: components joined at one weight merge in one
  node; children numbered by their smallest row) in place of the binary tree: labels, branch probabilities,
  branch counts, its ARI against hdbscan and the number of points it gives another label
  (`points_differing`, after matching each level label to its most frequent hdbscan label).
- `reordered_ari`: the lowest ARI of three seeded row permutations against the recorded labels (hdbscan
  refitted on the permuted rows, where noise is no longer last, so core runs also feel the NaN quirk);
  `level.reordered_ari` the same for the level model.
- The "core" graph contains MST edges: with hdbscan's min_samples > 1 (Outflow's S > 2) mutual reachability has tied
  MST edges and hdbscan's Prim picks one tree. Such cases record the MST pairs (`mst`) and, per core run,
  `mst_sensitivity`: the ARI of hdbscan's core labels on its exact Borůvka MST (another valid tree).
- fast_hdbscan 0.3.4 (information only, `fast_hdbscan` per core run): its BranchDetector on its own exact
  clustering (`algorithm="kruskal"`, same min_samples convention as hdbscan); it has no "full" graph.

Per case: `x`, both parameter conventions, hdbscan's cluster labels / probabilities, `centralities` (equal in
every run, asserted), `mst_unique`, and per run: the branch parameters (`min_branch_size` null = hdbscan's
default, the clusterer's min_cluster_size; `min_branch_size_effective` the value used), `labels`, `probabilities`,
`branch_labels`, `branch_probabilities` (6 decimals), `n_branches` and `branch_persistences` per cluster,
`doubled_pairs` per cluster (core), `reordered_ari`, `level`.
"""

import json
import pathlib
import warnings

import fast_hdbscan
import hdbscan
import numpy as np
from hdbscan._hdbscan_linkage import label as hdbscan_label
from hdbscan.branches import BranchDetector
from hdbscan.hdbscan_ import _tree_to_labels
from scipy.sparse import coo_array
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist
from sklearn.metrics import adjusted_rand_score

from fixture_dir import fixture_dir  # tools/reference/fixture_dir.py

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/outflow-cluster/tests/fixtures/hdbscan_branches"

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)


# --------------------------------------------------------------------------------------------------- data
def arms(rng, centre, angles, n_arm, length, width, t0=0.25):
    out = []
    for a in angles:
        t = rng.uniform(t0, length, n_arm)
        d = np.array([np.cos(a), np.sin(a)])
        out.append(np.asarray(centre) + t[:, None] * d + rng.normal(0, width, (n_arm, 2)))
    return out


def star3_blob(rng):
    """A three-armed star (Y), a round blob and uniform noise."""
    parts = [rng.normal((0, 0), 0.3, (40, 2))] + arms(rng, (0, 0), [0.3, 2.4, 4.5], 45, 3.2, 0.13)
    parts += [rng.normal((6.5, 0.5), 0.55, (70, 2)), rng.uniform(-4, 9, (25, 2))]
    return np.vstack(parts)


def star4_arc(rng):
    """A four-armed star (+), a half-ring (two ends: an L-like two-branch cluster) and uniform noise."""
    parts = [rng.normal((0, 0), 0.35, (40, 2))] + arms(rng, (0, 0), [0.2 + k * np.pi / 2 for k in range(4)], 40, 3.0, 0.14)
    t = rng.uniform(0, np.pi, 90)
    parts.append(np.c_[7 + 2.5 * np.cos(t), 2.5 * np.sin(t) - 1] + rng.normal(0, 0.15, (90, 2)))
    parts.append(rng.uniform(-4, 10, (25, 2)))
    return np.vstack(parts)


def two_stars(rng):
    """A three-armed and a five-armed star with short arms, and uniform noise."""
    parts = [rng.normal((0, 0), 0.3, (35, 2))] + arms(rng, (0, 0), [0.5, 2.4, 4.4], 35, 2.6, 0.12)
    parts += [rng.normal((7, 6), 0.3, (30, 2))] + arms(rng, (7, 6), [0.1 + k * 2 * np.pi / 5 for k in range(5)], 22, 2.2, 0.1)
    parts.append(rng.uniform(-3, 10, (20, 2)))
    return np.vstack(parts)


# ------------------------------------------------------------------------------------------------- fitting
def fit_hdbscan(x, mcs, s, algorithm="prims_kdtree"):
    kw = dict(approx_min_span_tree=False) if algorithm == "boruvka_kdtree" else {}
    return hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=s - 1, algorithm=algorithm,
                           branch_detection_data=True, **kw).fit(x)


def detect(h, run):
    return BranchDetector(
        branch_detection_method=run["method"], min_cluster_size=run["min_branch_size"],
        cluster_selection_method=run["selection"], allow_single_cluster=run["allow_single_branch"],
        label_sides_as_branches=run["label_sides_as_branches"],
    ).fit(h)


# --------------------------------------------------------------------------------------------------- model
def cluster_graph(x, labels, probs, mst, k_self, c, method, core_bd=None):
    """Points, centralities, edges (local ids, a < b) and weight multipliers of cluster c (the spec's §3-4)."""
    n = len(x)
    pts = np.flatnonzero(labels == c)
    m = len(pts)
    loc = np.full(n, -1)
    loc[pts] = np.arange(m)
    centroid = np.average(x[pts], weights=probs[pts], axis=0)
    with np.errstate(divide="ignore"):
        cent = 1.0 / np.sqrt(((x[pts] - centroid) ** 2).sum(axis=1))
    inside = (labels[mst[:, 0].astype(int)] == c) & (labels[mst[:, 1].astype(int)] == c)
    cmst = mst[inside]
    checks = {"nan_rows": 0, "equal_col3": 0}
    if method == "full":
        max_dist = cmst[:, 2].max()
        d = cdist(x[pts], x[pts])
        a, b = np.nonzero(np.triu(d <= max_dist, 1))
        edges = np.c_[a, b]
        mult = np.ones(len(edges))
    else:
        mst_pairs = {}
        for p, q, w in cmst:
            i, j = sorted((loc[int(p)], loc[int(q)]))
            mst_pairs[(i, j)] = w
        order = np.argsort(cdist(x[pts], x), axis=1, kind="stable")[:, :k_self]
        knn_pairs = set()
        for i in range(m):
            for j in loc[order[i]]:
                if j >= 0 and j != i:
                    knn_pairs.add((min(i, j), max(i, j)))
        pairs = sorted(set(mst_pairs) | knn_pairs)
        edges = np.array(pairs, dtype=int).reshape(-1, 2)
        mult = np.array([2.0 if (p in mst_pairs and p in knn_pairs) else 1.0 for p in pairs])
        if core_bd is not None:  # conditions under which hdbscan's rule differs from this one
            for i, j in knn_pairs:
                col3 = max(core_bd[i], core_bd[j])  # hdbscan indexes global core distances by local ids
                if np.isnan(col3):
                    checks["nan_rows"] += 1
                elif (i, j) in mst_pairs and col3 == mst_pairs[(i, j)]:
                    checks["equal_col3"] += 1
    w = np.maximum(cent[edges[:, 0]], cent[edges[:, 1]]) * mult
    return pts, cent, edges, w, mult, checks


def level_tree(n, edges):
    """Outflow's tree.rs `level_tree`: edges of equal weight merge all the components they touch at once."""
    edges = sorted(edges, key=lambda e: e[2])
    uf = list(range(n))
    node_of = list(range(n))
    min_row = {i: i for i in range(n)}
    size = {i: 1 for i in range(n)}

    def find(v):
        r = v
        while uf[r] != r:
            r = uf[r]
        while uf[v] != r:
            uf[v], v = r, uf[v]
        return r

    kids_of, dist = [], []
    i = 0
    while i < len(edges):
        w = edges[i][2]
        j = i
        while j < len(edges) and edges[j][2] == w:
            j += 1
        touched = [(find(v), node_of[find(v)]) for a, b, _ in edges[i:j] for v in (a, b)]
        for a, b, _ in edges[i:j]:
            ra, rb = find(a), find(b)
            if ra != rb:
                uf[rb] = ra
        groups = sorted({(find(r), node) for r, node in touched})
        g = 0
        while g < len(groups):
            h = g
            while h < len(groups) and groups[h][0] == groups[g][0]:
                h += 1
            if h - g >= 2:
                kids = sorted((node for _, node in groups[g:h]), key=lambda k: (min_row[k], k))
                nid = n + len(dist)
                kids_of.append(kids)
                dist.append(w)
                size[nid] = sum(size[k] for k in kids)
                min_row[nid] = min(min_row[k] for k in kids)
                node_of[groups[g][0]] = nid
            g = h
        i = j
    return kids_of, dist, size


def condense(n, lt, mcs):
    """Outflow's tree.rs `condense`: rows (parent, child, λ, size)."""
    kids_of, dist, size = lt
    rows = []
    if n < 2 or not dist:
        return rows

    def points_below(k):
        out, queue = [], [k]
        while queue:
            v = queue.pop(0)
            if v < n:
                out.append(v)
            else:
                queue.extend(kids_of[v - n])
        return out

    root = n + len(dist) - 1
    label = {root: n}
    nxt = n + 1
    queue = [root]
    head = 0
    while head < len(queue):
        node = queue[head]
        head += 1
        lam = 1.0 / dist[node - n]
        me = label[node]
        kids = kids_of[node - n]
        n_big = sum(1 for k in kids if size[k] >= mcs)
        for k in kids:
            if size[k] >= mcs and n_big >= 2:
                label[k] = nxt
                nxt += 1
                rows.append((me, label[k], lam, size[k]))
                queue.append(k)
            elif size[k] >= mcs:
                label[k] = me
                queue.append(k)
            else:
                rows.extend((me, p, lam, 1) for p in points_below(k))
    return rows


def select(n, rows, method, single):
    """Outflow's tree.rs `select` (no epsilon, persistence or size limit): labels, probabilities, #clusters."""
    if not rows:
        return np.full(n, -1), np.zeros(n), 0
    par = np.array([r[0] for r in rows])
    chi = np.array([r[1] for r in rows])
    lam = np.array([r[2] for r in rows])
    siz = np.array([r[3] for r in rows])
    nn = int(max(par.max(), chi.max())) + 1
    root = n
    birth = np.zeros(nn)
    birth[chi] = lam
    birth[root] = 0.0
    stab = np.zeros(nn)
    for p, l, s in zip(par, lam, siz):
        stab[p] += (l - birth[p]) * s
    children = [[] for _ in range(nn)]
    for p, c in zip(par, chi):
        if c >= n:
            children[p].append(c)

    def bfs(c):
        out = [c]
        h = 0
        while h < len(out):
            out.extend(children[out[h]])
            h += 1
        return out

    nodes = list(range(nn - 1, n - 1, -1))
    if not single:
        nodes.pop()
    is_c = np.zeros(nn, bool)
    is_c[nodes] = True
    if method == "eom":
        for node in nodes:
            sub = np.float32(0.0)
            for ch in children[node]:
                sub = np.float32(float(sub) + stab[ch])
            if float(sub) > stab[node]:
                is_c[node] = False
                stab[node] = float(sub)
            else:
                for s in bfs(node)[1:]:
                    is_c[s] = False
    else:
        leaves = [c for c in bfs(root) if not children[c]] if any(chi >= n) else []
        is_c[:] = False
        is_c[leaves] = True
    clusters = [c for c in range(n, nn) if is_c[c]]
    up = list(range(nn))
    child_lam = np.zeros(nn)
    parent_max = np.zeros(nn)
    for p, c, l in zip(par, chi, lam):
        child_lam[c] = l
        parent_max[p] = max(parent_max[p], l)
        if not is_c[c]:
            up[c] = p

    def top(v):
        while up[v] != v:
            v = up[v]
        return v

    labels = np.full(n, -1)
    for p in range(n):
        c = top(p)
        if c > root or (c == root and len(clusters) == 1 and single and is_c[c] and child_lam[p] >= parent_max[c]):
            labels[p] = clusters.index(c)
    probs = np.zeros(n)
    for p, c, l in zip(par, chi, lam):
        if c < n and labels[c] >= 0:
            ml = parent_max[clusters[labels[c]]]
            probs[c] = 1.0 if ml == 0 or not np.isfinite(l) else min(l, ml) / ml
    return labels, probs, len(clusters)


def model(x, labels, probs, mst, k_self, run, tree, core_bd=None):
    """Branch detection per the spec. tree="hdbscan": hdbscan's own binary tree and tie order (self-check);
    tree="level": Outflow's level tree."""
    n = len(x)
    out_labels = np.full(n, -1)
    out_probs = probs.astype(float).copy()
    blab = np.zeros(n, dtype=int)
    bprob = np.ones(n)
    cent_all = np.zeros(n)
    running = 0
    n_branches, doubled, checks = [], [], {"nan_rows": 0, "equal_col3": 0}
    mcs, single = run["min_branch_size_effective"], run["allow_single_branch"]
    for c in range(labels.max() + 1):
        pts, cent, edges, w, mult, chk = cluster_graph(x, labels, probs, mst, k_self, c, run["method"], core_bd)
        for k in checks:
            checks[k] += chk[k]
        m = len(pts)
        t = minimum_spanning_tree(coo_array((w, (edges[:, 0].astype(np.int32), edges[:, 1].astype(np.int32))), shape=(m, m))).tocoo()
        t = np.column_stack((t.row, t.col, t.data))
        if tree == "hdbscan":
            t = t[np.argsort(t[:, 2]), :]
            bl, bp, pers, _, _ = _tree_to_labels(None, hdbscan_label(t), min_cluster_size=mcs,
                                                 cluster_selection_method=run["selection"], allow_single_cluster=single)
            nb = len(pers)
        else:
            rows = condense(m, level_tree(m, [(int(a), int(b), v) for a, b, v in t]), mcs)
            bl, bp, nb = select(m, rows, run["selection"], single)
        if single and nb == 1:  # hdbscan's update_single_cluster_labels (ε = 0)
            bl, bp = np.zeros(m, dtype=int), np.ones(m)
        cent_all[pts] = cent
        n_branches.append(int(nb))
        doubled.append(int((mult > 1).sum()))
        if nb <= (1 if run["label_sides_as_branches"] else 2):
            out_labels[pts] = running
            running += 1
        else:
            has_noise = int((bl == -1).any())
            out_labels[pts] = bl + running + has_noise
            blab[pts] = bl
            bprob[pts] = bp
            out_probs[pts] = (out_probs[pts] + bp) / 2
            running += nb + has_noise
    return dict(labels=out_labels, probabilities=out_probs, branch_labels=blab, branch_probabilities=bprob,
                centralities=cent_all, n_branches=n_branches, doubled=doubled, checks=checks)


# --------------------------------------------------------------------------------------------------- checks
def mst_tied_pairs(x, s, mst):
    """Non-MST pairs whose mutual reachability equals the largest edge on their MST path (0: unique MST)."""
    n = len(x)
    d = cdist(x, x)
    core = np.sort(d, axis=1)[:, s - 1]  # hdbscan's min_samples = s - 1 others
    mr = np.maximum(d, np.maximum(core[:, None], core[None, :]))
    adj = [[] for _ in range(n)]
    for a, b, w in mst:
        adj[int(a)].append((int(b), w))
        adj[int(b)].append((int(a), w))
    minimax = np.zeros((n, n))
    for src in range(n):
        stack = [(src, -1, 0.0)]
        while stack:
            u, p, mx = stack.pop()
            minimax[src, u] = mx
            stack.extend((v, u, max(mx, w)) for v, w in adj[u] if v != p)
    tree = np.zeros((n, n), bool)
    for a, b, _ in mst:
        tree[int(a), int(b)] = tree[int(b), int(a)] = True
    iu = np.triu_indices(n, 1)
    off = ~tree[iu]
    return int((mr[iu][off] == minimax[iu][off]).sum())


def knn_boundary_ties(x, labels, k_self):
    """Clustered points whose k-th and (k+1)-th nearest neighbour (itself first) are equally far."""
    d = np.sort(cdist(x, x), axis=1)
    inside = labels >= 0
    return int((d[inside, k_self - 1] == d[inside, k_self]).sum()) if k_self >= 1 else 0


def points_differing(a, b):
    return int(sum((a == la).sum() - np.unique(b[a == la], return_counts=True)[1].max() for la in np.unique(a)))


def r6(v):
    return [round(float(t), 6) for t in v]


# ------------------------------------------------------------------------------------------------- records
def run_record(x, h, mcs, s, run):
    b = detect(h, run)
    labels, probs = h.labels_, h.probabilities_
    bd = h.branch_detection_data_
    ref = model(x, labels, probs, h._min_spanning_tree, s - 1, run, "hdbscan", core_bd=bd.core_distances)
    assert ref["checks"] == {"nan_rows": 0, "equal_col3": 0}, ref["checks"]
    for key, got in [("labels", b.labels_), ("branch_labels", b.branch_labels_)]:
        assert np.array_equal(ref[key], got), f"self-check {key}"
    for key, got in [("probabilities", b.probabilities_), ("branch_probabilities", b.branch_probabilities_),
                     ("centralities", b.centralities_)]:
        assert np.allclose(ref[key], got, rtol=1e-12, atol=1e-12), f"self-check {key}"
    assert ref["n_branches"] == [len(p) for p in b.branch_persistences_]
    assert np.array_equal(b.cluster_labels_, labels)
    lev = model(x, labels, probs, h._min_spanning_tree, s - 1, run, "level")
    rec = dict(run)
    rec.update({
        "labels": b.labels_.tolist(),
        "probabilities": r6(b.probabilities_),
        "branch_labels": b.branch_labels_.tolist(),
        "branch_probabilities": r6(b.branch_probabilities_),
        "n_branches": ref["n_branches"],
        "branch_persistences": [r6(p) for p in b.branch_persistences_],
        "doubled_pairs": ref["doubled"] if run["method"] == "core" else None,
        "reordered_ari": reordered_ari(x, mcs, s, run, b.labels_, False),
        "level": {
            "labels": lev["labels"].tolist(),
            "branch_probabilities": r6(lev["branch_probabilities"]),
            "n_branches": lev["n_branches"],
            "ari_vs_hdbscan": round(float(adjusted_rand_score(b.labels_, lev["labels"])), 6),
            "points_differing": points_differing(lev["labels"], b.labels_),
            "reordered_ari": reordered_ari(x, mcs, s, run, lev["labels"], True),
        },
    })
    return rec, b


def reordered_ari(x, mcs, s, run, ref, level):
    worst = 1.0
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(x))
        h = fit_hdbscan(x[perm], mcs, s)
        if level:
            got = model(x[perm], h.labels_, h.probabilities_, h._min_spanning_tree, s - 1, run, "level")["labels"]
        else:
            got = detect(h, run).labels_
        back = np.empty_like(got)
        back[perm] = got
        worst = min(worst, float(adjusted_rand_score(ref, back)))
    return round(worst, 6)


def fast_record(x, mcs, s, run, hdb_labels, hdb_branch_labels):
    f = fast_hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=s - 1, algorithm="kruskal").fit(x)
    fb = fast_hdbscan.BranchDetector(
        min_cluster_size=run["min_branch_size_effective"], cluster_selection_method=run["selection"],
        allow_single_cluster=run["allow_single_branch"], label_sides_as_branches=run["label_sides_as_branches"],
    ).fit(f)
    return {
        "cluster_ari_vs_hdbscan": round(float(adjusted_rand_score(hdb_labels, f.labels_)), 6),
        "n_branches": [int(len(np.unique(fb.branch_labels_[p])) - int((fb.branch_labels_[p] == -1).any()))
                       for p in fb.cluster_points_],
        "ari_vs_hdbscan": round(float(adjusted_rand_score(hdb_branch_labels, fb.labels_)), 6),
    }


def case(out, name, description, x, mcs, s, runs):
    x = np.round(x, 4)
    # Clusters first, noise last (see the module docstring), each in its original order.
    h = fit_hdbscan(x, mcs, s)
    x = np.vstack([x[h.labels_ >= 0], x[h.labels_ < 0]])
    h = fit_hdbscan(x, mcs, s)
    assert (h.labels_[: (h.labels_ >= 0).sum()] >= 0).all()
    mst = h._min_spanning_tree
    tied = mst_tied_pairs(x, s, mst)
    ties_knn = knn_boundary_ties(x, h.labels_, s - 1)
    assert ties_knn == 0, f"{name}: kNN boundary ties"
    records, centralities = [], None
    for run in runs:
        run = dict(run, min_branch_size_effective=run["min_branch_size"] or mcs)
        rec, b = run_record(x, h, mcs, s, run)
        if centralities is None:
            centralities = b.centralities_
        assert np.array_equal(centralities, b.centralities_)
        if run["method"] == "core":
            rec["fast_hdbscan"] = fast_record(x, mcs, s, run, h.labels_, b.labels_)
            if tied:
                other = detect(fit_hdbscan(x, mcs, s, "boruvka_kdtree"), run).labels_
                rec["mst_sensitivity"] = round(float(adjusted_rand_score(b.labels_, other)), 6)
        records.append(rec)
    doc = {
        "name": name, "description": description, "x": x.tolist(),
        "outflow_params": {"min_cluster_size": mcs, "min_samples": s},
        "hdbscan_call": {"min_cluster_size": mcs, "min_samples": s - 1, "algorithm": "prims_kdtree",
                         "branch_detection_data": True},
        "knn_k_with_self": s - 1,
        "cluster_labels": h.labels_.tolist(),
        "cluster_probabilities": r6(h.probabilities_),
        "centralities": r6(centralities),
        "mst_unique": tied == 0,
        "mst_tied_pairs": tied,
        "mst": sorted([sorted([int(a), int(b)]) for a, b, _ in mst]) if tied else None,
        "runs": records,
    }
    text = json.dumps(doc, separators=(",", ":")) + "\n"
    (out / f"{name}.json").write_text(text)
    print(f"{name}: {len(text) / 1024:.1f} KB, n={len(x)}, clusters={h.labels_.max() + 1}, mst_unique={tied == 0}")
    for r in records:
        print(f"  {r['method']:4} {r['selection']:4} mbs={r['min_branch_size_effective']:2} sides={r['label_sides_as_branches']!s:5} "
              f"single={r['allow_single_branch']!s:5} branches={r['n_branches']} level={r['level']['n_branches']} "
              f"reordered={r['reordered_ari']} level_ari={r['level']['ari_vs_hdbscan']} "
              f"diff={r['level']['points_differing']} level_reordered={r['level']['reordered_ari']}"
              + (f" fast_ari={r['fast_hdbscan']['ari_vs_hdbscan']}" if "fast_hdbscan" in r else "")
              + (f" mst_sens={r['mst_sensitivity']}" if "mst_sensitivity" in r else ""))


def run(method, selection, mbs, sides=False, single=False):
    return {"method": method, "selection": selection, "min_branch_size": mbs,
            "label_sides_as_branches": sides, "allow_single_branch": single}


def main():
    out = fixture_dir(__doc__, OUT)
    case(out, "star3_blob", "Y-shaped star (3 arms) + round blob + uniform noise; S=2: unique MST, the core "
         "graph is the cluster's MST alone (kNN with itself only)", star3_blob(np.random.default_rng(11)),
         mcs=50, s=2, runs=[run("full", "eom", 15), run("full", "leaf", 8, sides=True),
                            run("core", "eom", 15), run("core", "leaf", 8)])
    case(out, "star4_arc", "four-armed star + half ring + uniform noise; S=5: tied MST edges (recorded)",
         star4_arc(np.random.default_rng(12)), mcs=40, s=5,
         runs=[run("full", "eom", None), run("full", "eom", 15, sides=True), run("full", "leaf", 8),
               run("core", "eom", 15), run("core", "leaf", 8)])
    case(out, "two_stars", "three- and five-armed stars with short arms + uniform noise; S=2: unique MST",
         two_stars(np.random.default_rng(14)), mcs=40, s=2,
         runs=[run("full", "eom", 15, sides=True), run("full", "leaf", 8), run("full", "eom", 8, single=True),
               run("core", "eom", 15), run("core", "leaf", 8)])


if __name__ == "__main__":
    main()
