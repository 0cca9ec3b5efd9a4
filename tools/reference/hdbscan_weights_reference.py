#!/usr/bin/env python3
"""Reference fixtures for HDBSCAN with sample weights and with partial labels (semi-supervised), both defined
by fast_hdbscan 0.3.4 (hdbscan 0.8.44 and scikit-learn 1.9.1 have neither).

Run with the pinned environment (see requirements.txt):

    python tools/reference/hdbscan_weights_reference.py [--out DIR]

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan_weights/ (or DIR; stale
`*.json` there removed). Seeded: re-running reproduces the files byte for byte.

What fast_hdbscan does, in short (weights: core distances by cumulative weight with
the point itself counted, cluster sizes as weight sums, point rows of size 1; labels: HDBSCAN*(BC), BCubed
F-measure first, stability as tie-break). Choices made here:

- Exact MST with the intended mutual reachability: every weighted run uses `algorithm="kruskal"`,
  `knn_k=n-1`. fast_hdbscan's default Borůvka path takes square roots of weighted core distances that are
  already distances (not squared ones) and mixes the two in its edge weights; its labels are recorded per
  case (`boruvka_default`) for information only, with their ARI against the exact run.
- Data rounded to 4 decimals (the JSON text is exactly what fast_hdbscan saw; it computes in float32).
  Non-integer weights are multiples of 1/8, so their sums are exact in float32 (fast_hdbscan's size
  arithmetic) and in float64.
- `min_samples` is fast_hdbscan's: with weights, the cumulative weight of the neighbours sorted by distance,
  the point itself first, must reach it (unit weights: scikit-learn's convention).
- Tied MST edges (core distances) can make the tree depend on the row order: `reordered_ari` is the lowest
  ARI of three seeded row permutations against the recorded labels.
- Semi-supervised: fast_hdbscan 0.3.4 under numba 0.68 cannot compile its selection (`extract_clusters_bcubed`
  raises numba's TypingError for every input; upstream issue TutteInstitute/fast_hdbscan#39). The fixture
  records that error (`unpatched_error`), then re-compiles the same functions with the one empty list typed
  explicitly (`patch_bcubed`): the algorithm is unchanged. Labels must be int64 (other dtypes fail to type).

Per run: the parameters, `labels`, `probabilities` (6 decimals), `cluster_rows` (sorted [λ, weighted size]
of the condensed tree's cluster rows), `selected` (condensed-tree node ids), and for the main run of a case
and every `min_samples=1` run (no tied mutual-reachability edges: the tree is determined by the data) also `core_distances`, the whole `condensed_tree` ([parent, child, λ, child_size] rows, fast_hdbscan's order;
λ to 7 significant digits) and `stability` ([node, score] as fast_hdbscan's score_condensed_tree_nodes).
"""

import inspect
import json
import pathlib
import textwrap

import fast_hdbscan
import fast_hdbscan.cluster_trees as ct
import fast_hdbscan.hdbscan as fh
import numba
import numpy as np
from sklearn.metrics import adjusted_rand_score

from fixture_dir import fixture_dir  # tools/reference/fixture_dir.py

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/outflow-cluster/tests/fixtures/hdbscan_weights"


def patch_bcubed():
    """Re-compiles fast_hdbscan's BCubed selection with `virtual_nodes` typed (numba cannot type the empty
    reflected list it builds when no virtual node is added). Nothing else changes."""
    src = textwrap.dedent(inspect.getsource(ct.get_condensed_tree_clusters_bcubed.py_func))
    src = src[src.index("def "):]
    old_list = "virtual_nodes = [0 for x in range(0)]"
    old_ret = "return cluster_elements, np.array(virtual_nodes)"
    assert src.count(old_list) == 1 and src.count(old_ret) == 1, "fast_hdbscan source changed"
    src = src.replace(old_list, "virtual_nodes = List.empty_list(int64)").replace(
        old_ret,
        "out = np.empty(len(virtual_nodes), dtype=np.int64)\n"
        "    for i in range(len(virtual_nodes)):\n"
        "        out[i] = virtual_nodes[i]\n"
        "    return cluster_elements, out",
    )
    exec(compile(src, "<patched get_condensed_tree_clusters_bcubed>", "exec"), ct.__dict__)
    ct.get_condensed_tree_clusters_bcubed = numba.njit(ct.get_condensed_tree_clusters_bcubed)
    fh.extract_clusters_bcubed = numba.njit(ct.extract_clusters_bcubed.py_func)


def sig(v, digits=7):
    return float(f"{float(v):.{digits}g}")


def fit(x, w=None, y=None, *, mcs, ms, method="eom", single=False, cap=0, eps=0.0, ss=None, exact=True):
    kw = dict(
        min_cluster_size=mcs, min_samples=ms, cluster_selection_method=method, allow_single_cluster=single,
        max_cluster_size=cap or np.inf, cluster_selection_epsilon=float(eps),
    )
    if ss:
        kw.update(semi_supervised=True, ss_algorithm=ss)
    if exact:
        kw.update(algorithm="kruskal", knn_k=len(x) - 1)
    else:
        kw.update(reproducible=True)
    return fast_hdbscan.HDBSCAN(**kw).fit(x, y if ss else None, sample_weight=w)


def reordered_ari(x, w, y, ref, **kw):
    worst = 1.0
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(x))
        got = fit(x[perm], None if w is None else w[perm], None if y is None else y[perm], **kw).labels_
        back = np.empty_like(got)
        back[perm] = got
        worst = min(worst, float(adjusted_rand_score(ref, back)))
    return round(worst, 6)


def run_record(x, w, y, main=False, **kw):
    model = fit(x, w, y, **kw)
    tree = model._condensed_tree
    n = len(x)
    clusters = tree[tree["child_size"] > 1]
    labels = model.labels_
    rec = {
        "min_cluster_size": kw["mcs"], "min_samples": kw["ms"], "method": kw.get("method", "eom"),
        "allow_single_cluster": kw.get("single", False), "max_cluster_size": kw.get("cap", 0),
        "epsilon": kw.get("eps", 0.0), "weighted": w is not None, "ss_algorithm": kw.get("ss"),
        "labels": labels.tolist(),
        "probabilities": [round(float(p), 6) for p in model.probabilities_],
        "cluster_rows": sorted([sig(r["lambda_val"]), float(r["child_size"])] for r in clusters),
        "selected": selected_nodes(tree, labels, n),
        "reordered_ari": reordered_ari(x, w, y, labels, **kw),
    }
    if main:
        rec["core_distances"] = [round(float(c), 6) for c in model._core_distances]
        rec["condensed_tree"] = [
            [int(r["parent"]), int(r["child"]), sig(r["lambda_val"]), float(r["child_size"])] for r in tree
        ]
        scores = ct.score_condensed_tree_nodes(
            ct.CondensedTree(tree["parent"], tree["child"], tree["lambda_val"].astype(np.float32),
                             tree["child_size"].astype(np.float32))
        )
        rec["stability"] = sorted([int(k), sig(v)] for k, v in scores.items())
    return rec


def selected_nodes(tree, labels, n):
    """The condensed-tree node of each label (label order), from the points' parents: a selected cluster is
    the lowest common cluster ancestor of its points' parents; labels with no point (fast_hdbscan can
    select an empty cluster, see the weights spec) give None."""
    parent = {int(c): int(p) for p, c in zip(tree["parent"], tree["child"])}

    def chain(node):
        out = []
        while node in parent:
            node = parent[node]
            out.append(node)
        return out

    result = []
    for lab in range(int(labels.max()) + 1 if len(labels) else 0):
        pts = np.flatnonzero(labels == lab)
        if len(pts) == 0:
            result.append(None)
            continue
        common = None
        for p in pts:
            anc = chain(int(p))
            common = anc if common is None else [a for a in common if a in set(anc)]
        result.append(common[0])
    return result


def blobs_int(rng):
    """Three blobs and noise; the loose blob carries the heavy weights, so weights make it a cluster."""
    parts = [rng.normal((0, 0), 0.45, (90, 2)), rng.normal((4, 0.5), 0.5, (80, 2)),
             rng.normal((1.8, 4.2), 1.0, (60, 2)), rng.uniform(-3, 7, (40, 2))]
    x = np.round(np.vstack(parts), 4)
    w = np.concatenate([rng.integers(1, 3, 90), rng.integers(1, 3, 80), rng.integers(3, 6, 60),
                        rng.integers(1, 3, 40)]).astype(np.float64)
    return x, w


def blobs_frac(rng):
    """Four blobs of unequal density and noise; weights k/8 in [0, 3], about 5% zero."""
    parts = [rng.normal((0, 0), 0.5, (70, 2)), rng.normal((2.2, 0.3), 0.4, (50, 2)),
             rng.normal((5, 3), 0.7, (60, 2)), rng.normal((0.5, 4.5), 0.35, (30, 2)),
             rng.uniform(-3, 8, (40, 2))]
    x = np.round(np.vstack(parts), 4)
    w = rng.integers(1, 25, len(x)) / 8.0
    w[rng.random(len(x)) < 0.05] = 0.0
    return x, w


def nested(rng):
    """Two pairs of close sub-blobs, a lone blob and noise; about 10% labelled (int64, -1 unlabelled): the
    sub-blobs of the first pair carry different classes, those of the second pair one class, and a few
    noise points are labelled too (virtual nodes of HDBSCAN*(BC)). Plain EOM keeps the first pair whole
    (3 clusters); "bc" splits it (4); "bc_simple", without virtual nodes, does not (3)."""
    centres = [(0, 0), (2.0, 0), (9, 0), (10.8, 0), (5, 7)]
    sizes = [70, 60, 60, 55, 65]
    parts = [rng.normal(c, 0.5, (s, 2)) for c, s in zip(centres, sizes)]
    parts.append(rng.uniform(-3, 13, (40, 2)))
    x = np.round(np.vstack(parts), 4)
    truth = np.repeat([0, 1, 2, 2, 3, -1], sizes + [40])
    y = np.full(len(x), -1, dtype=np.int64)
    pick = rng.random(len(x)) < 0.10
    y[pick & (truth >= 0)] = truth[pick & (truth >= 0)]
    noise = np.flatnonzero(truth < 0)
    for i in noise[:4]:  # labelled noise: the class of the nearest blob centre
        d = [np.hypot(*(x[i] - c)) for c in centres]
        y[i] = [0, 1, 2, 2, 3][int(np.argmin(d))]
    return x, y


def write(out, name, doc):
    text = json.dumps(doc, separators=(",", ":")) + "\n"
    (out / f"{name}.json").write_text(text)
    print(name, f"{len(text) / 1024:.1f} KB", [(r.get("ss_algorithm") or r["method"], r["min_samples"],
                                               len(set(r["labels"]) - {-1}), r["reordered_ari"]) for r in doc["runs"]])


def weighted_case(out, name, x, w, mcs, ms, extra):
    runs = [run_record(x, w, None, main=True, mcs=mcs, ms=ms)]
    runs += [run_record(x, w, None, main=e.get("ms") == 1, **dict(dict(mcs=mcs, ms=ms), **e)) for e in extra]
    exact = runs[0]["labels"]
    default = fit(x, w, mcs=mcs, ms=ms, exact=False).labels_
    unweighted = fit(x, None, mcs=mcs, ms=ms).labels_
    doc = {
        "name": name, "x": x.tolist(), "weights": w.tolist(), "runs": runs,
        "boruvka_default": {"labels": default.tolist(), "ari_vs_exact": round(float(adjusted_rand_score(exact, default)), 6)},
        "unweighted": {"labels": unweighted.tolist(), "ari_vs_weighted": round(float(adjusted_rand_score(exact, unweighted)), 6)},
    }
    write(out, name, doc)


def semi_supervised_case(out, name, x, y, mcs, ms):
    try:
        fit(x, None, y, mcs=mcs, ms=ms, ss="bc")
        unpatched = None
    except Exception as e:  # numba.core.errors.TypingError under numba 0.68
        unpatched = type(e).__name__
    patch_bcubed()
    runs = [run_record(x, None, y, main=True, mcs=mcs, ms=ms, ss="bc")]
    runs.append(run_record(x, None, y, mcs=mcs, ms=ms, ss="bc_simple"))
    runs.append(run_record(x, None, y, mcs=mcs, ms=ms, ss="bc", single=True))
    runs.append(run_record(x, None, y, main=True, mcs=mcs, ms=1, ss="bc"))
    runs.append(run_record(x, None, y, mcs=mcs, ms=ms))  # plain EOM, labels unused
    doc = {"name": name, "x": x.tolist(), "y": y.tolist(), "unpatched_error": unpatched, "runs": runs}
    write(out, name, doc)


def main():
    out = fixture_dir(__doc__, OUT)
    x, w = blobs_int(np.random.default_rng(21))
    weighted_case(out, "blobs_int_weights", x, w, mcs=15, ms=5, extra=[
        dict(ms=1), dict(method="leaf"), dict(cap=150), dict(single=True, mcs=40),
    ])
    x, w = blobs_frac(np.random.default_rng(22))
    weighted_case(out, "blobs_frac_weights", x, w, mcs=10, ms=4, extra=[
        dict(ms=1), dict(method="leaf"), dict(eps=0.6),
    ])
    x, y = nested(np.random.default_rng(23))
    semi_supervised_case(out, "nested_semi_supervised", x, y, mcs=15, ms=5)


if __name__ == "__main__":
    main()
