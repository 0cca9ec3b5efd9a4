#!/usr/bin/env python3
"""Reference fixtures for HDBSCAN on a *sparse* precomputed distance matrix (scipy CSR), as scikit-learn 1.9.1,
hdbscan 0.8.44 and fast_hdbscan 0.3.4 treat it. The semantics are specified in
tools/reference/notes/sparse_precomputed.md.

Run with the pinned environment (see requirements.txt):

    python tools/reference/hdbscan_sparse_reference.py [--out DIR]

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan_sparse/ (or DIR; stale
`*.json` there removed). Seeded: re-running reproduces the files byte for byte.

Every case is a graph, not a point cloud. The points that make it are drawn from a seeded generator and then
dropped. The JSON holds only the matrix, as canonical CSR: `n`, `indptr`, `indices` (sorted within a row, no
duplicates) and `data`, which is exactly the input the references saw. Stored distances are Euclidean
distances rounded to 4 decimals. The undirected edge values are then made distinct: in (value, i, j) order,
each value is raised to at least the previous one + 0.0001. With `min_samples = 1` there are therefore no
tied mutual-reachability edges and the trees are determined by the data. Every matrix is exactly symmetric.
Only `knn_diagonal` stores its diagonal (explicit zeros).

Per case, `runs` is a list of parameter sets. Each one has:

- `min_samples`: the value passed to all three references.
- `core_distances`: scikit-learn's and hdbscan's core distances (`null` = +inf). Neither library exposes
  them. The generator derives them by the rule (the `min_samples`-th smallest *stored* entry of the row,
  with a stored diagonal counting as an entry) and asserts that both libraries' own mutual-reachability
  functions give exactly `max(core_i, core_j, d_ij)` on every stored entry.
- One dict per reference, `sklearn`, `hdbscan` and `fast_hdbscan`. Each has `outflow_min_samples`, the
  Outflow `min_samples` (point itself counted, the recommended contract of the notes) that gives the same
  core distances. It also has either `error` ("Type: message"; the reference refused the input) or:
    - `labels`
    - `probabilities` (6 decimals)
    - `mst_weights`: the sorted weights of the reference's MST (`null` = +inf). This is tie-independent.
    - `cluster_rows`: the sorted [lambda, child_size] of the condensed tree's rows with child_size > 1
      (lambda to 7 significant digits).
    - `reordered_ari`: the lowest ARI of three seeded row+column permutations against the recorded labels.
      1.0 means the labels do not depend on the input order, despite tied edges.
    - `outlier_scores` (GLOSH, 6 decimals): hdbscan only.
    - `core_distances`: fast_hdbscan only, its own `_core_distances` (`null` = +inf).

fast_hdbscan runs with `algorithm="kruskal"`: an exact float64 Kruskal over the stored edges. Its default
`algorithm="boruvka"` works in float32 and mishandles rows with no stored entry (see the notes). The
generator asserts that on these inputs the Borůvka path gives the same MST weights. scikit-learn runs with
`copy=True` (with `copy=False` it overwrites the caller's matrix with mutual reachabilities). A run may also carry `hdbscan_max_dist`: hdbscan's `max_dist` keyword, which
replaces infinite mutual reachabilities.
"""

import json
import pathlib
import warnings

import fast_hdbscan
import hdbscan
import numpy as np
import scipy.sparse as sp
from hdbscan._hdbscan_reachability import sparse_mutual_reachability
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from sklearn.cluster import HDBSCAN
from sklearn.cluster._hdbscan._reachability import mutual_reachability_graph
from sklearn.cluster._hdbscan._tree import _condense_tree
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from fixture_dir import fixture_dir  # tools/reference/fixture_dir.py

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/outflow-cluster/tests/fixtures/hdbscan_sparse"
REFS = ("sklearn", "hdbscan", "fast_hdbscan")


def sig(v, digits=7):
    return float(f"{float(v):.{digits}g}")


def fin(v, digits=None):
    """A float for JSON: +-inf and NaN as None, optionally rounded."""
    v = float(v)
    if not np.isfinite(v):
        return None
    return round(v, digits) if digits is not None else v


# ----------------------------------------------------------------------------------------------------------
# Graphs


def csr_from_edges(n, edges, diagonal=False):
    """Canonical symmetric CSR from {(i, j): d} with i < j (plus explicit zero diagonal entries when asked).
    Built from (data, indices, indptr) so that explicit zeros stay stored."""
    rows, cols, vals = [], [], []
    for (i, j), d in edges.items():
        rows += [i, j]
        cols += [j, i]
        vals += [d, d]
    if diagonal:
        rows += list(range(n))
        cols += list(range(n))
        vals += [0.0] * n
    rows, cols, vals = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals, float)
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int32)
    g = sp.csr_matrix((vals, cols.astype(np.int32), indptr), shape=(n, n))
    assert g.has_sorted_indices and len(set(zip(rows.tolist(), cols.tolist()))) == len(rows)
    return g


def distinct_rounded(x, pairs):
    """Euclidean distances of the pairs (i < j), rounded to 4 decimals and made distinct (in (value, i, j)
    order every value is at least the previous one + 0.0001)."""
    raw = {(i, j): round(float(np.linalg.norm(x[i] - x[j])), 4) for i, j in pairs}
    out, prev = {}, -1.0
    for (i, j), d in sorted(raw.items(), key=lambda kv: (kv[1], kv[0])):
        d = max(d, round(prev + 1e-4, 4))
        out[(i, j)] = d
        prev = d
    return out


def knn_pairs(x, k):
    """Unordered pairs of the k-nearest-neighbour graph (symmetrised: either direction) and of the Euclidean
    minimum spanning tree of the points, which makes the graph connected."""
    nbrs = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)
    pairs = {(min(i, j), max(i, j)) for i, row in enumerate(nbrs) for j in row[1:]}
    full = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    mst = minimum_spanning_tree(sp.csr_matrix(full)).tocoo()
    pairs |= {(min(i, j), max(i, j)) for i, j in zip(mst.row.tolist(), mst.col.tolist())}
    return pairs


def blobs(rng, centres, sizes, spreads, noise=0, box=(-3, 7)):
    parts = [rng.normal(c, s, (m, 2)) for c, m, s in zip(centres, sizes, spreads)]
    if noise:
        parts.append(rng.uniform(box[0], box[1], (noise, 2)))
    return np.vstack(parts)


def knn_blobs(rng):
    """Three blobs of unequal density and noise, 180 points; symmetrised 7-NN graph united with the Euclidean
    MST (connected; every row has >= 7 stored entries)."""
    x = blobs(rng, [(0, 0), (3.5, 0.5), (1.5, 3.5)], [60, 50, 50], [0.45, 0.6, 0.8], noise=20)
    return csr_from_edges(len(x), distinct_rounded(x, knn_pairs(x, 7)))


def radius_components(rng):
    """Four well-separated blobs and a 3-point clump, 128 points; radius graph (r = 0.9): five connected
    components, every row with at least one stored entry (the clump's rows hold 2)."""
    x = blobs(rng, [(0, 0), (6, 0), (0, 6), (6, 6)], [35, 35, 30, 25], [0.4, 0.5, 0.45, 0.35])
    x = np.vstack([x, [[3.0, 3.0], [3.3, 3.1], [3.1, 3.35]]])
    nn = NearestNeighbors(radius=0.9).fit(x)
    pairs = {(min(i, j), max(i, j)) for i, row in enumerate(nn.radius_neighbors(x, return_distance=False))
             for j in row.tolist() if i != j}
    return csr_from_edges(len(x), distinct_rounded(x, pairs))


def few_neighbours(rng):
    """Two blobs (symmetrised 5-NN graph + Euclidean MST among them, 140 points) and 16 scattered points each
    joined only to its 1 or 2 nearest blob points: their rows hold 1 or 2 entries, fewer than min_samples."""
    core = blobs(rng, [(0, 0), (3, 0.5)], [80, 60], [0.5, 0.6])
    extra = rng.uniform((-2.5, -2.5), (5.5, 3.0), (16, 2))
    x = np.vstack([core, extra])
    pairs = knn_pairs(core, 5)
    nbrs = NearestNeighbors(n_neighbors=2).fit(core).kneighbors(extra, return_distance=False)
    for e, row in enumerate(nbrs):
        for j in row[: 1 + e % 2]:
            pairs.add((int(j), len(core) + e))
    return csr_from_edges(len(x), distinct_rounded(x, pairs))


def knn_diagonal(rng):
    """Three blobs and noise, 150 points; symmetrised 6-NN graph + Euclidean MST, with the diagonal stored as
    explicit zeros. scikit-learn and hdbscan count the stored diagonal as an entry of the row (so here
    scikit-learn's min_samples counts the point itself, as with a dense matrix); fast_hdbscan drops it."""
    x = blobs(rng, [(0, 0), (3, 0), (1.5, 2.8)], [45, 45, 45], [0.5, 0.5, 0.6], noise=15)
    return csr_from_edges(len(x), distinct_rounded(x, knn_pairs(x, 6)), diagonal=True)


# ----------------------------------------------------------------------------------------------------------
# References


def fit(ref, g, mcs, ms, max_dist=None):
    """The fitted model of one reference on (a copy of) g."""
    g = g.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if ref == "sklearn":
            return HDBSCAN(metric="precomputed", min_cluster_size=mcs, min_samples=ms, copy=True).fit(g)
        if ref == "hdbscan":
            kw = {} if max_dist is None else {"max_dist": max_dist}
            return hdbscan.HDBSCAN(metric="precomputed", min_cluster_size=mcs, min_samples=ms, **kw).fit(g)
        if ref == "fast_hdbscan":
            return fast_hdbscan.HDBSCAN(metric="precomputed", min_cluster_size=mcs, min_samples=ms,
                                        algorithm="kruskal").fit(g)
        if ref == "fast_hdbscan_boruvka":
            return fast_hdbscan.HDBSCAN(metric="precomputed", min_cluster_size=mcs, min_samples=ms).fit(g)
    raise ValueError(ref)


def single_linkage_weights(ref, model):
    if ref == "sklearn":
        return np.sort(model._single_linkage_tree_["value"])
    if ref == "hdbscan":
        return np.sort(model._single_linkage_tree[:, 2])
    return np.sort(np.asarray(model._single_linkage_tree)[:, 2])


def condensed(ref, model, mcs):
    if ref == "sklearn":
        return _condense_tree(model._single_linkage_tree_, mcs)
    return model._condensed_tree


def permuted(g, perm):
    return g[perm][:, perm].tocsr()


def reordered_ari(ref, g, mcs, ms, labels, max_dist=None):
    worst = 1.0
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(g.shape[0])
        got = fit(ref, permuted(g, perm), mcs, ms, max_dist).labels_
        back = np.empty_like(got)
        back[perm] = got
        worst = min(worst, float(adjusted_rand_score(labels, back)))
    return round(worst, 6)


def stored_kth(g, k, drop_diagonal=False):
    """Per row: the k-th smallest stored entry (+inf when the row holds fewer)."""
    out = np.empty(g.shape[0])
    for i in range(g.shape[0]):
        s, e = g.indptr[i], g.indptr[i + 1]
        row = g.data[s:e][g.indices[s:e] != i] if drop_diagonal else g.data[s:e]
        out[i] = np.sort(row)[k - 1] if len(row) >= k else np.inf
    return out


def check_mutual_reachability(g, ms, core):
    """Both libraries' mutual-reachability functions give max(core_i, core_j, d_ij) on every stored entry
    whose value is finite (hdbscan drops the rest, scikit-learn leaves the distance there)."""
    coo = g.tocoo()
    want = np.maximum(np.maximum(core[coo.row], core[coo.col]), coo.data)
    finite = np.isfinite(want)
    skl = mutual_reachability_graph(g.copy(), min_samples=ms).tocoo()
    assert np.array_equal(skl.row, coo.row) and np.array_equal(skl.col, coo.col)
    assert np.array_equal(skl.data[finite], want[finite])
    hdb = sparse_mutual_reachability(g.tolil(), min_points=ms)
    nonzero = finite & (coo.data != 0)  # hdbscan only walks the non-zero stored entries
    got = np.asarray(hdb[coo.row[nonzero], coo.col[nonzero]]).ravel()
    assert np.array_equal(got, want[nonzero])


def expected_mst_weights(g, core):
    """Sorted MST weights of max(core_i, core_j, d_ij) over the stored off-diagonal entries; +inf edges
    (and +inf bridges between components, fast_hdbscan's rule) kept."""
    coo = g.tocoo()
    off = coo.row != coo.col
    r, c, d = coo.row[off], coo.col[off], coo.data[off]
    w = np.maximum(np.maximum(core[r], core[c]), d)
    big = np.where(np.isfinite(w), w, 1e300) + 1.0  # + 1: scipy drops zero weights
    tree = minimum_spanning_tree(sp.csr_matrix((big, (r, c)), shape=g.shape)).data - 1.0
    n_comp = connected_components(g, directed=False)[0]
    tree = np.concatenate([tree, np.full(n_comp - 1, 1e300)])
    return np.sort(np.where(tree >= 1e299, np.inf, tree))


def outflow_ms(ref, ms, diagonal):
    """Outflow's min_samples (point itself counted) with the same core distances as the reference's ms."""
    if ref == "fast_hdbscan":
        return 1 if ms == 1 else ms + 1
    return ms if diagonal else ms + 1


def reference_record(ref, g, mcs, ms, diagonal, max_dist=None):
    rec = {"outflow_min_samples": outflow_ms(ref, ms, diagonal)}
    try:
        model = fit(ref, g, mcs, ms, max_dist)
    except Exception as e:  # the reference refuses the input: the message is the behaviour to record
        rec["error"] = f"{type(e).__name__}: {' '.join(str(e).split())}"
        return rec
    tree = condensed(ref, model, mcs)
    lam, size = ("value", "cluster_size") if ref == "sklearn" else ("lambda_val", "child_size")
    clusters = tree[tree[size] > 1]
    rec["labels"] = model.labels_.tolist()
    rec["probabilities"] = [fin(p, 6) for p in model.probabilities_]
    rec["mst_weights"] = [fin(w) for w in single_linkage_weights(ref, model)]
    rec["cluster_rows"] = sorted([sig(r[lam]), int(r[size])] for r in clusters)
    if ref == "hdbscan":
        rec["outlier_scores"] = [fin(s, 6) for s in model.outlier_scores_]
    if ref == "fast_hdbscan":
        rec["core_distances"] = [fin(c) for c in model._core_distances]
        bo = fit("fast_hdbscan_boruvka", g, mcs, ms)
        assert np.array_equal(single_linkage_weights(ref, bo), single_linkage_weights(ref, model))
    rec["reordered_ari"] = reordered_ari(ref, g, mcs, ms, model.labels_, max_dist)
    return rec


def parameter_set(g, mcs, ms, diagonal, max_dist=None):
    core = stored_kth(g, ms)  # scikit-learn's and hdbscan's rule: the ms-th stored entry (diagonal counted)
    check_mutual_reachability(g, ms, core)
    run = {"min_samples": ms, "core_distances": [fin(c) for c in core]}
    if max_dist is not None:
        run["hdbscan_max_dist"] = max_dist
    for ref in REFS:
        if max_dist is not None and ref != "hdbscan":
            continue
        rec = reference_record(ref, g, mcs, ms, diagonal, max_dist)
        run[ref] = rec
        if "error" in rec:
            continue
        if ref == "fast_hdbscan":
            fcore = np.zeros(g.shape[0]) if ms == 1 else stored_kth(g, ms, drop_diagonal=True)
            assert np.array_equal(np.array(rec["core_distances"], dtype=float),
                                  np.where(np.isfinite(fcore), fcore, np.nan), equal_nan=True)
            want = expected_mst_weights(g, fcore)
        elif max_dist is None:
            want = expected_mst_weights(g, core)
        else:
            continue
        got = np.array([np.inf if w is None else w for w in rec["mst_weights"]])
        assert len(got) == len(want) and np.allclose(got, want, rtol=0, atol=1e-12), (ref, ms)
    return run


def write(out, name, doc):
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n"
    (out / f"{name}.json").write_text(text)
    summary = []
    for run in doc["runs"]:
        for ref in REFS:
            if ref in run:
                r = run[ref]
                summary.append((ref, run["min_samples"], "error" if "error" in r else
                                (len(set(r["labels"]) - {-1}), r["reordered_ari"])))
    print(name, f"{len(text) / 1024:.1f} KB", summary)


def case(out, name, description, g, mcs, ms_list, diagonal=False, max_dist_runs=()):
    n = g.shape[0]
    n_comp, comp = connected_components(g, directed=False)
    doc = {
        "name": name, "description": " ".join(description.split()), "n": n,
        "indptr": g.indptr.tolist(), "indices": g.indices.tolist(), "data": g.data.tolist(),
        "diagonal_stored": diagonal, "min_cluster_size": mcs,
        "n_components": int(n_comp), "components": comp.tolist(),
        "runs": [parameter_set(g, mcs, ms, diagonal) for ms in ms_list]
        + [parameter_set(g, mcs, ms, diagonal, max_dist=md) for ms, md in max_dist_runs],
    }
    write(out, name, doc)


def main():
    out = fixture_dir(__doc__, OUT)
    case(out, "knn_blobs", knn_blobs.__doc__, knn_blobs(np.random.default_rng(31)), mcs=10, ms_list=[1, 4])
    case(out, "radius_components", radius_components.__doc__, radius_components(np.random.default_rng(32)),
         mcs=8, ms_list=[1, 4])
    case(out, "few_neighbours", few_neighbours.__doc__, few_neighbours(np.random.default_rng(33)), mcs=10,
         ms_list=[1, 2, 4], max_dist_runs=[(4, 2.0)])
    case(out, "knn_diagonal", knn_diagonal.__doc__, knn_diagonal(np.random.default_rng(34)), mcs=10,
         ms_list=[1, 4], diagonal=True)


if __name__ == "__main__":
    main()
