#!/usr/bin/env python3
"""Reference fixtures of outflow-cluster's HDBSCAN (parity with the Python `hdbscan` package).

Run from anywhere with the pinned environment (hdbscan 0.8.44, scikit-learn 1.9.1, see requirements.txt):

    /work/venv/bin/python tools/reference/hdbscan_reference.py

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan/ (and removes stale
`*.json` there). The Rust test crates/outflow-cluster/tests/parity_hdbscan.rs reads only these files:
`cargo test` needs no Python. Everything is seeded, so re-running reproduces the files byte for byte.

Conventions
-----------
* `params` are in Outflow's convention (`HdbscanParams`, serde names): Outflow's `min_samples` counts the
  point itself, so hdbscan is called with `min_samples = S - 1` for Outflow's `S` (S >= 2).
* hdbscan runs with `approx_min_span_tree=False` (exact Borůvka over a kd-tree for the kd-tree metrics,
  `algorithm="best"`) and `gen_min_span_tree=True, prediction_data=True`. For cosine, `algorithm="best"`
  sends the data to the ball-tree Borůvka, which rejects the metric (`ValueError: Unrecognized metric
  'cosine'`), so the cosine case uses `algorithm="generic"` (dense distance matrix + Prim). hdbscan does not
  generate prediction data for cosine ("Metric cosine not supported for prediction data!"); for that case
  the predictions come from hdbscan's own `approximate_predict` / `approximate_predict_scores` on a
  `PredictionData` whose neighbour index is a brute-force cosine search (`prediction.source` says so).
* Data are rounded to 4 decimals (integers for the tie cases) *before* fitting, so the short decimal text
  in the JSON is exactly the float64 that hdbscan saw (serde_json parses it to the same double).
* Non-finite values are written as `null` and counted under `nonfinite`. >= S copies of a row give zero
  mutual-reachability distances (`zero_mst_edges`); hdbscan's lambda only becomes infinite -- infinite
  stabilities, NaN GLOSH scores -- when a condensed-tree cluster (>= min_cluster_size points) forms at
  distance zero, i.e. with >= min_cluster_size copies (`duplicates_2d_inf`). Outflow keeps every lambda
  finite by design (see the crate docs).
* The MST total weight is checked against `mst_total_weight_exact`, computed with scipy's direct `cdist`:
  scikit-learn's euclidean `pairwise_distances` gives ~1e-8 instead of 0 between duplicate rows, which made
  a first version of this cross-check disagree with hdbscan's (correct) Borůvka by 4e-9.

Per case
--------
`data`, `params`, hdbscan's `labels_`, `probabilities_`, `outlier_scores_`, `cluster_persistence_`,
`relative_validity_`, the MST total weight (`mst_total_weight`, from hdbscan's own MST) and, as a
cross-check, `mst_total_weight_exact` (hdbscan's dense `mutual_reachability` + Prim `mst_linkage_core`),
the exact DBCV `validity_index(X, labels_, metric)` when there are >= 2 clusters (else null), the
cluster rows of the condensed tree with every cluster's stability and the selected cluster ids (for
diagnosing differences), and predictions for ~50 new points (near-cluster jitter, exact training rows,
far points):
  * `prediction.hdbscan`: stock `approximate_predict` + `approximate_predict_scores`. hdbscan's
    `PredictionData` recomputes core distances with k = hdbscan's min_samples = S - 1 neighbours
    (the point itself included), one fewer than the fit, so small differences to Outflow are expected.
  * `prediction.fit_core`: the same hdbscan functions after replacing `prediction_data_.core_distances`
    by the fit's core distances (k = S) -- Outflow's documented semantics; these should agree exactly.
`tie_order_sensitivity` records how far hdbscan moves from its own result when only the order of
equal-weight MST edges is reversed (same edges; its tree stages re-run): where that already breaks the
issue's tolerances, no implementation can be held to them on that fixture without copying hdbscan's
(quicksort-dependent) tie order.
"""

import json
import math
import pathlib
import warnings

import hdbscan
import numpy as np
import scipy
import sklearn
from hdbscan import prediction as hpred
from hdbscan._hdbscan_linkage import label, mst_linkage_core
from hdbscan._hdbscan_reachability import mutual_reachability
from hdbscan._hdbscan_tree import compute_stability, condense_tree, get_clusters, outlier_scores
from hdbscan.validity import validity_index
from scipy.stats import spearmanr
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from scipy.spatial.distance import cdist
from sklearn.metrics import pairwise_distances

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "outflow-cluster" / "tests" / "fixtures" / "hdbscan"
HDBSCAN_VERSION = "0.8.44"
N_PREDICT_NEAR, N_PREDICT_EXACT, N_PREDICT_FAR = 30, 3, 17


# --------------------------------------------------------------------------------------------- data


def with_noise(x, n_noise, rng, margin=0.1):
    """Appends `n_noise` uniform points over the (slightly enlarged) bounding box."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    noise = rng.uniform(lo - margin * span, hi + margin * span, size=(n_noise, x.shape[1]))
    return np.vstack([x, noise])


def blobs(n, d, centers, std, seed, noise_frac=0.05, box=(-10.0, 10.0)):
    n_noise = int(round(n * noise_frac))
    x, _ = make_blobs(n_samples=n - n_noise, n_features=d, centers=centers, cluster_std=std,
                      center_box=box, random_state=seed)
    rng = np.random.default_rng(seed + 1000)
    x = with_noise(x, n_noise, rng)
    return rng.permutation(x)


def varying_density(seed):
    """Three 2-D blobs of very different spread plus uniform background noise."""
    x, _ = make_blobs(n_samples=[400, 350, 300], n_features=2,
                      centers=[[0.0, 0.0], [6.0, 6.0], [-6.0, 7.0]],
                      cluster_std=[0.3, 1.0, 2.2], random_state=seed)
    rng = np.random.default_rng(seed + 1000)
    x = np.vstack([x, rng.uniform([-14.0, -6.0], [14.0, 16.0], size=(150, 2))])
    return rng.permutation(x)


def one_cluster(seed):
    """One 3-D Gaussian with a heavy-ish tail, plus a few far points (seed 21: the condensed tree has no
    split at min_cluster_size 20; seed 23: it splits once, into 22 + 82 points)."""
    rng = np.random.default_rng(seed)
    core = rng.normal(0.0, 1.0, size=(420, 3))
    tail = rng.standard_t(3, size=(60, 3)) * 1.5
    far = rng.uniform(-12.0, 12.0, size=(20, 3))
    return rng.permutation(np.vstack([core, tail, far]))


def integer_grid(n, d, centers, std, seed, max_copies):
    """Blobs rounded to integers: many exact distance ties; at most `max_copies` copies of any row."""
    x, _ = make_blobs(n_samples=n, n_features=d, centers=centers, cluster_std=std,
                      center_box=(-15.0, 15.0), random_state=seed)
    x = np.round(x)
    keep, seen = [], {}
    for i, row in enumerate(map(tuple, x)):
        seen[row] = seen.get(row, 0) + 1
        if seen[row] <= max_copies:
            keep.append(i)
    return x[keep]


def repeated_rows(seed, n_rows, copies):
    """2-D blobs where `n_rows` rows occur `copies` times each."""
    x = np.round(blobs(600, 2, 4, 0.8, seed, noise_frac=0.05), 4)
    rng = np.random.default_rng(seed + 7)
    rows = rng.choice(x.shape[0], size=n_rows, replace=False)
    reps = np.repeat(x[rows], copies - 1, axis=0)
    return rng.permutation(np.vstack([x, reps]))


def directional(seed):
    """6-D points around 4 directions with varying norms: clusters for the cosine metric."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(4, 6))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    parts = []
    for k, m in enumerate([220, 180, 150, 120]):
        u = dirs[k] + rng.normal(0.0, 0.08 + 0.04 * k, size=(m, 6))
        parts.append(u * rng.uniform(0.5, 20.0, size=(m, 1)))
    parts.append(rng.normal(size=(40, 6)) * rng.uniform(0.5, 20.0, size=(40, 1)))
    return rng.permutation(np.vstack(parts))


# -------------------------------------------------------------------------------------------- cases


def P(mcs, s, selection="eom", eps=0.0, single=False, metric="euclidean"):
    return {"min_cluster_size": mcs, "min_samples": s, "cluster_selection_epsilon": eps,
            "cluster_selection": selection, "allow_single_cluster": single, "metric": metric}


def cases():
    dens = varying_density(11)
    one = one_cluster(21)
    one_split = one_cluster(23)
    return [
        ("blobs_2d_eom", "Gaussian blobs + 5% uniform noise", blobs(1000, 2, 5, 1.0, 1), P(15, 6)),
        ("blobs_5d_eom", "Gaussian blobs + 5% uniform noise", blobs(800, 5, 6, 1.5, 2), P(20, 10)),
        ("blobs_10d_eom", "Gaussian blobs + 5% uniform noise", blobs(700, 10, 6, 2.0, 3), P(20, 8)),
        ("blobs_20d_eom", "Gaussian blobs + 5% uniform noise", blobs(450, 20, 5, 2.0, 4), P(15, 6)),
        ("blobs_50d_eom", "Gaussian blobs + 5% uniform noise", blobs(300, 50, 4, 2.5, 5), P(15, 5)),
        ("density_2d_eom", "3 blobs of std 0.3/1.0/2.2 + uniform noise", dens, P(25, 10)),
        ("density_2d_leaf", "3 blobs of std 0.3/1.0/2.2 + uniform noise", dens, P(10, 5, "leaf")),
        ("density_2d_eom_eps", "3 blobs of std 0.3/1.0/2.2 + uniform noise", dens, P(10, 5, "eom", 0.6)),
        ("density_2d_leaf_eps", "3 blobs of std 0.3/1.0/2.2 + uniform noise", dens, P(10, 5, "leaf", 0.4)),
        ("one_cluster_3d", "one Gaussian + t-tail + far points", one, P(20, 8)),
        ("one_cluster_3d_single", "one Gaussian + t-tail + far points", one, P(20, 8, single=True)),
        ("one_cluster_3d_single_eps", "one Gaussian + t-tail + far points", one,
         P(20, 8, "eom", 0.5, single=True)),
        ("one_cluster_split_3d", "one Gaussian + t-tail + far points; the condensed tree splits once",
         one_split, P(20, 8)),
        ("one_cluster_split_3d_single", "one Gaussian + t-tail + far points; the root beats the split",
         one_split, P(20, 8, single=True)),
        ("ties_grid_2d", "integer-rounded blobs, <= 3 copies of a row (ties, no zero core distance)",
         integer_grid(900, 2, 5, 3.0, 31, 3), P(12, 6)),
        ("ties_grid_3d_manhattan", "integer-rounded blobs, <= 2 copies of a row, manhattan",
         integer_grid(700, 3, 4, 2.5, 32, 2), P(10, 5, metric="manhattan")),
        ("duplicates_2d", "blobs with 25 rows occurring 8x: >= min_samples copies give zero "
         "mutual-reachability distances, but < min_cluster_size copies keep every lambda finite",
         repeated_rows(41, 25, 8), P(10, 5)),
        ("duplicates_2d_inf", "blobs with 4 rows occurring 15x: >= min_cluster_size copies at zero distance "
         "give hdbscan lambda = inf (infinite stabilities, NaN outlier scores)",
         repeated_rows(42, 4, 15), P(10, 5)),
        ("manhattan_4d_eom", "Gaussian blobs + 5% uniform noise, manhattan",
         blobs(700, 4, 5, 1.2, 51), P(15, 7, metric="manhattan")),
        ("chebyshev_3d_leaf", "Gaussian blobs + 5% uniform noise, chebyshev, min_samples 2",
         blobs(700, 3, 6, 1.0, 61), P(12, 2, "leaf", metric="chebyshev")),
        ("cosine_6d_eom", "directional clusters with random norms, cosine (hdbscan algorithm=generic)",
         directional(71), P(15, 6, metric="cosine")),
    ]


# ---------------------------------------------------------------------------------------- reference


class BruteIndex:
    """A `query(points, k)` neighbour index by brute force (for cosine, which sklearn's trees reject)."""

    def __init__(self, data, metric="euclidean", **_):
        self.data, self.metric = data, metric

    def query(self, points, k=1):
        dist = pairwise_distances(np.asarray(points, dtype=np.float64), self.data, metric=self.metric)
        idx = np.argsort(dist, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(dist, idx, axis=1), idx


def new_points(x, seed):
    rng = np.random.default_rng(seed)
    n, d = x.shape
    scale = x.std(axis=0).mean()
    near_rows = rng.choice(n, size=N_PREDICT_NEAR, replace=False)
    near = x[near_rows] + rng.normal(0.0, 0.05 * scale, size=(N_PREDICT_NEAR, d))
    exact = x[rng.choice(n, size=N_PREDICT_EXACT, replace=False)]
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    far = rng.uniform(lo - 0.5 * span, hi + 0.5 * span, size=(N_PREDICT_FAR, d))
    return np.round(np.vstack([near, exact, far]), 4)


def fin(a):
    """Floats with NaN/inf as None (JSON null)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=np.float64)]


def distances(a, b, metric):
    """Exact pairwise distances. scikit-learn's euclidean `pairwise_distances` uses the dot-product
    expansion and gives ~1e-8 instead of 0 between duplicate rows, so the tree metrics use scipy's
    direct `cdist`; cosine uses scikit-learn's, as hdbscan's generic algorithm does."""
    if metric == "cosine":
        return pairwise_distances(a, b, metric="cosine")
    return cdist(a, b, metric={"manhattan": "cityblock"}.get(metric, metric))


def fit_core_distances(x, s, metric):
    """Core distances of the fit (distance to the S-th nearest row, itself included)."""
    return np.sort(distances(x, x, metric), axis=1)[:, s - 1]


def predictions(clusterer, x, q, s, metric):
    """hdbscan's approximate_predict(_scores), stock and with the fit's core distances."""
    pd = clusterer.prediction_data_ if metric != "cosine" else None
    source = "hdbscan PredictionData (kd-tree)"
    if pd is None:
        hpred.PredictionData._tree_type_map = dict(hpred.PredictionData._tree_type_map, brute=BruteIndex)
        pd = hpred.PredictionData(x, clusterer.condensed_tree_, s - 1, tree_type="brute", metric=metric)
        clusterer.prediction_data_ = pd
        source = "hdbscan PredictionData with a brute-force cosine index (hdbscan has none for cosine)"
    out = {"source": source, "points": [[float(v) for v in row] for row in q]}
    stock_core = pd.core_distances.copy()
    for key, core in [("hdbscan", stock_core), ("fit_core", fit_core_distances(x, s, metric))]:
        pd.core_distances = core
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels, probs = hdbscan.approximate_predict(clusterer, q)
            scores = hdbscan.approximate_predict_scores(clusterer, q)
        out[key] = {"labels": [int(v) for v in labels], "probabilities": fin(probs),
                    "outlier_scores": fin(scores)}
    pd.core_distances = stock_core
    return out


def selected_clusters(raw, labels, n_clusters):
    """Condensed-tree id of each label's selected cluster: the lowest common ancestor of the parents of
    its points. (hdbscan's own `CondensedTree._select_clusters()`, which `PredictionData` uses, takes
    the *smallest* parent id instead; that differs when the root is the single selected cluster.)"""
    parent = {int(c): int(p) for p, c in zip(raw["parent"], raw["child"]) if c >= raw["parent"].min()}

    def path(c):
        out = [c]
        while out[-1] in parent:
            out.append(parent[out[-1]])
        return out[::-1]

    point_parent = {int(c): int(p) for p, c in zip(raw["parent"], raw["child"]) if c < raw["parent"].min()}
    result = []
    for k in range(n_clusters):
        paths = [path(point_parent[i]) for i in np.flatnonzero(labels == k)]
        lca = None
        for depth in range(min(map(len, paths))):
            if len({p[depth] for p in paths}) > 1:
                break
            lca = paths[0][depth]
        result.append(lca)
    return result


def tree_stages(mst_in_order, params):
    """hdbscan's own single-linkage -> condensed tree -> selection -> GLOSH, on MST rows in this order."""
    ct = condense_tree(label(np.asarray(mst_in_order, dtype=np.double)), params["min_cluster_size"])
    labels, probs, _ = get_clusters(ct, compute_stability(ct), params["cluster_selection"],
                                    params["allow_single_cluster"], False, params["cluster_selection_epsilon"])
    return labels, probs, outlier_scores(ct)


def tie_order_sensitivity(clusterer, params):
    """How much hdbscan's own result moves when only the order of equal-weight MST edges changes.

    hdbscan feeds its MST, sorted by weight with numpy's unstable quicksort, to `label`; the binary
    dendrogram (and so the condensed tree) depends on the order of equal weights, which are common:
    a mutual-reachability distance is often some point's core distance. Re-running hdbscan's tree stages
    on the same edges with the ties in reverse order measures how far the reference itself is from being
    determined by the data."""
    mst = clusterer._min_spanning_tree
    if params["metric"] == "cosine":  # the generic algorithm returns the MST unsorted
        mst = mst[np.argsort(mst[:, 2])]
    base = tree_stages(mst, params)
    assert (base[0] == clusterer.labels_).all(), "replaying hdbscan's MST must reproduce its labels"
    rev = mst[np.lexsort((-np.arange(mst.shape[0]), mst[:, 2]))]
    other = tree_stages(rev, params)
    w = mst[:, 2]
    _, counts = np.unique(w, return_counts=True)
    fin = np.isfinite(base[2]) & np.isfinite(other[2])
    rho = spearmanr(base[2][fin], other[2][fin]).statistic if fin.sum() > 2 else 1.0
    # probabilities where the labels agree, clusters matched through the contingency table
    mapping = {-1: -1}
    for k in set(other[0].tolist()) - {-1}:
        ks, kc = np.unique(base[0][other[0] == k], return_counts=True)
        mapping[k] = int(ks[np.argmax(kc)])
    agree = (np.array([mapping[k] for k in other[0]]) == base[0]) & fin
    dprob = float(np.abs(base[1] - other[1])[agree].max()) if agree.any() else 0.0
    return {"tied_mst_edges": int(counts[counts > 1].sum()),
            "reversed_ties_max_prob_diff": dprob,
            "reversed_ties_ari": float(adjusted_rand_score(base[0], other[0])),
            "reversed_ties_noise": int((other[0] == -1).sum()),
            "reversed_ties_spearman": float(rho) if math.isfinite(rho) else 1.0}


def reference(name, description, x, params, seed):
    s = params["min_samples"]
    assert s >= 2, "Outflow's min_samples S maps to hdbscan's S - 1 >= 1"
    metric = params["metric"]
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=params["min_cluster_size"], min_samples=s - 1,
        cluster_selection_epsilon=params["cluster_selection_epsilon"],
        cluster_selection_method=params["cluster_selection"],
        allow_single_cluster=params["allow_single_cluster"], metric=metric,
        algorithm="generic" if metric == "cosine" else "best",
        approx_min_span_tree=False, gen_min_span_tree=True, prediction_data=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clusterer.fit(x)
    labels = clusterer.labels_
    n_clusters = int(labels.max()) + 1

    mst = clusterer._min_spanning_tree
    mr = mutual_reachability(distances(x, x, metric), s - 1)
    exact = mst_linkage_core(mr)

    raw = clusterer.condensed_tree_._raw_tree
    ctree = raw[raw["child_size"] > 1]
    stab = hdbscan._hdbscan_tree.compute_stability(raw)
    selected = selected_clusters(raw, labels, n_clusters)

    dbcv = None
    if n_clusters >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # validity_index also calls scipy's cdist, which knows manhattan only as "cityblock".
            scipy_metric = {"manhattan": "cityblock"}.get(metric, metric)
            dbcv = float(validity_index(x.astype(np.float64), labels, metric=scipy_metric))
        dbcv = dbcv if math.isfinite(dbcv) else None

    nonfinite = {
        "outlier_scores": int((~np.isfinite(clusterer.outlier_scores_)).sum()),
        "probabilities": int((~np.isfinite(clusterer.probabilities_)).sum()),
        "lambda": int((~np.isfinite(raw["lambda_val"])).sum()),
        "stabilities": int(sum(not math.isfinite(v) for v in stab.values())),
        "persistence": int((~np.isfinite(clusterer.cluster_persistence_)).sum()),
        "zero_mst_edges": int((mst[:, 2] == 0.0).sum()),
    }
    q = new_points(x, seed)
    rv = clusterer.relative_validity_
    return {
        "name": name,
        "description": description,
        "generator": {"hdbscan": HDBSCAN_VERSION, "scikit_learn": sklearn.__version__,
                      "numpy": np.__version__, "scipy": scipy.__version__,
                      "hdbscan_call": {"min_samples": s - 1, "approx_min_span_tree": False,
                                       "algorithm": "generic" if metric == "cosine" else "best"}},
        "params": params,
        "n": int(x.shape[0]),
        "d": int(x.shape[1]),
        "n_clusters": n_clusters,
        "n_noise": int((labels == -1).sum()),
        "nonfinite": nonfinite,
        "labels": [int(v) for v in labels],
        "probabilities": fin(clusterer.probabilities_),
        "outlier_scores": fin(clusterer.outlier_scores_),
        "cluster_persistence": fin(clusterer.cluster_persistence_),
        "relative_validity": float(rv) if math.isfinite(rv) else None,
        "validity_index": dbcv,
        "tie_order_sensitivity": tie_order_sensitivity(clusterer, params),
        "mst_total_weight": float(mst[:, 2].sum()),
        "mst_total_weight_exact": float(exact[:, 2].sum()),
        "condensed_cluster_tree": [[int(r["parent"]), int(r["child"]), float(r["lambda_val"]),
                                    int(r["child_size"])] if math.isfinite(r["lambda_val"]) else
                                   [int(r["parent"]), int(r["child"]), None, int(r["child_size"])]
                                   for r in ctree],
        "stabilities": {str(int(k)): (float(v) if math.isfinite(v) else None) for k, v in sorted(stab.items())},
        "selected_clusters": selected,
        "selected_clusters_prediction_data": (sorted(int(c) for c in clusterer.condensed_tree_._select_clusters())
                                              if n_clusters else []),
        "prediction": predictions(clusterer, x, q, s, metric),
        "data": [[float(v) for v in row] for row in x],
    }


def dump(obj):
    """One top-level key per line, compact values; floats as Python repr (shortest round-trip)."""
    lines = [f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'), allow_nan=False)}" for k, v in obj.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main():
    assert hdbscan.__file__ and HDBSCAN_VERSION in open(
        pathlib.Path(hdbscan.__file__).parents[1].glob("hdbscan-*.dist-info/METADATA").__next__()).read()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    total = 0
    for i, (name, description, x, params) in enumerate(cases()):
        x = np.round(np.asarray(x, dtype=np.float64), 4)
        ref = reference(name, description, x, params, seed=1000 + i)
        text = dump(ref)
        (OUT / f"{name}.json").write_text(text)
        total += len(text)
        nf = {k: v for k, v in ref["nonfinite"].items() if v}
        t = ref["tie_order_sensitivity"]
        print(f"{name:28} n={ref['n']:5} d={ref['d']:3} clusters={ref['n_clusters']:3} noise={ref['n_noise']:4} "
              f"dbcv={ref['validity_index'] if ref['validity_index'] is None else round(ref['validity_index'], 4)} "
              f"ties {t['tied_mst_edges']}/{ref['n'] - 1} -> reversed: ARI {t['reversed_ties_ari']:.4f} "
              f"noise {t['reversed_ties_noise']} rho {t['reversed_ties_spearman']:.4f} "
              f"dprob {t['reversed_ties_max_prob_diff']:.1e} "
              f"{len(text) / 1024:5.1f} KiB {nf or ''}")
    print(f"total {total / 1024:.1f} KiB in {OUT}")


if __name__ == "__main__":
    main()
