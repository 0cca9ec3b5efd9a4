#!/usr/bin/env python3
"""Reference fixtures of outflow-validate (parity with scikit-learn and hdbscan).

Run from anywhere with the pinned environment (scikit-learn 1.9.1, hdbscan 0.8.44, see requirements.txt):

    /work/venv/bin/python tools/reference/validate_reference.py

It writes one JSON file per case into crates/outflow-validate/tests/fixtures/ (and removes stale `*.json`
there). The Rust test crates/outflow-validate/tests/parity.rs reads only these files: `cargo test` needs
no Python. Everything is seeded, so re-running reproduces the files byte for byte.

Cases
-----
* `kind = "sklearn"`: `silhouette_score`, `silhouette_samples`, `davies_bouldin_score`,
  `calinski_harabasz_score` of scikit-learn. Outflow excludes noise (label -1) first, so scikit-learn is
  called on the rows with label >= 0 (the "masked" values); where the labelling has noise the unmasked
  scikit-learn values (noise treated as a cluster, scikit-learn's behaviour) are recorded too, for
  information only. `metric` applies to the silhouette (DB and CH are Euclidean by definition).
* `kind = "dbcv"`: `hdbscan.validity.validity_index(X, labels, metric)` on labellings with noise
  (hdbscan's own labels, k-means labels with injected noise, ...). `overflow` records whether hdbscan's
  `(1/d)**D` overflowed or underflowed in `all_points_core_distance` for this case (then its value is not
  the index). Such cases also carry `validity_index_stable`: hdbscan's very `validity_index` with its
  `all_points_core_distance` replaced by the same formula evaluated relative to each row's smallest
  positive distance (no overflow) -- the value Outflow must give. `equals` names the unscaled case: the
  index is scale invariant except through hdbscan's `isclose(atol=1e-8)` in its tree reconstruction, which
  matters only for distances ~1e-8 (the 2^-40 case).
* `kind = "relative_validity"`: `HDBSCAN(..., approx_min_span_tree=False, gen_min_span_tree=True)
  .relative_validity_` with its labels and MST (`mst`: [a, b, weight] rows). `params` are in Outflow's
  convention: Outflow's min_samples counts the point itself, so hdbscan gets `min_samples = S - 1`.
  `tie_robust` says whether hdbscan's own Prim (`prims_kdtree`) gives the same labels as its Borůvka
  tree: equal MST weights are common (core distances dominate) and hdbscan breaks those ties by edge
  order, so on `tie_robust: false` cases another exact implementation may legitimately find other
  clusters. The test checks the formula on hdbscan's own MST and labels for every case, and Outflow's
  own fit where its clusters equal hdbscan's.

Data are rounded (except the 2^±40-scaled copies, which are exact in binary) to 4 decimals before anything is computed, so the short decimal text in the JSON is
exactly the float64 that scikit-learn / hdbscan saw.
"""

import json
import pathlib
import warnings

import hdbscan
import numpy as np
import scipy
import sklearn
from hdbscan.validity import validity_index
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_samples,
    silhouette_score,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "outflow-validate" / "tests" / "fixtures"
GENERATOR = {
    "scikit_learn": sklearn.__version__,
    "hdbscan": "0.8.44",
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "script": "tools/reference/validate_reference.py",
}


def rounded(x):
    return np.round(np.asarray(x, dtype=np.float64), 4)


def write(case):
    case = {"generator": GENERATOR, **case}
    path = OUT / f"{case['name']}.json"
    path.write_text(json.dumps(case, separators=(",", ":")) + "\n")
    print(f"{path.relative_to(ROOT)}: {case['kind']}")


# ------------------------------------------------------------------------------------------- sklearn


def sklearn_case(name, description, x, labels, metric="euclidean"):
    x = rounded(x)
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels >= 0
    xm, lm = x[keep], labels[keep]
    case = {
        "name": name,
        "kind": "sklearn",
        "description": description,
        "metric": metric,
        "n": int(len(x)),
        "d": int(x.shape[1]),
        "n_noise": int((~keep).sum()),
        "data": x.tolist(),
        "labels": labels.tolist(),
        "silhouette": float(silhouette_score(xm, lm, metric=metric)),
        "silhouette_samples": silhouette_samples(xm, lm, metric=metric).tolist(),
        "davies_bouldin": float(davies_bouldin_score(xm, lm)),
        "calinski_harabasz": float(calinski_harabasz_score(xm, lm)),
    }
    if (~keep).any():
        case["unmasked"] = {
            "silhouette": float(silhouette_score(x, labels, metric=metric)),
            "davies_bouldin": float(davies_bouldin_score(x, labels)),
            "calinski_harabasz": float(calinski_harabasz_score(x, labels)),
        }
    write(case)


def sklearn_cases():
    rng = np.random.default_rng(6)
    x, y = make_blobs(n_samples=300, centers=4, n_features=2, cluster_std=1.2, random_state=1)
    sklearn_case("sk_blobs_2d", "4 blobs, true labels, no noise", x, y)

    x, y = make_blobs(n_samples=400, centers=5, n_features=8, cluster_std=2.0, random_state=2)
    y = y.copy()
    y[rng.random(len(y)) < 0.12] = -1
    sklearn_case("sk_blobs_8d_noise", "5 overlapping blobs in 8-D, 12% of labels set to noise", x, y)

    x, _ = make_blobs(n_samples=500, centers=6, n_features=32, cluster_std=3.0, random_state=3)
    y = KMeans(n_clusters=6, n_init=1, random_state=0).fit_predict(rounded(x))
    sklearn_case("sk_kmeans_32d", "6 blobs in 32-D, k-means labels", x, y)

    # uneven sizes, a singleton and a two-point cluster, labels not contiguous, plus noise
    x = np.vstack([
        rng.normal(0, 1, (120, 3)),
        rng.normal(6, 0.5, (40, 3)),
        rng.normal(-6, 2.0, (80, 3)),
        [[20.0, 20.0, 20.0]],
        [[-15.0, 10.0, 0.0], [-15.5, 10.2, 0.1]],
        rng.uniform(-20, 20, (17, 3)),
    ])
    y = np.array([3] * 120 + [7] * 40 + [10] * 80 + [42] + [5, 5] + [-1] * 17)
    sklearn_case("sk_uneven_3d", "uneven clusters incl. a singleton and a pair, labels 3/5/7/10/42, noise", x, y)

    # duplicated rows inside clusters (scikit-learn's GEMM distances are ~1e-8 between them, Outflow's 0)
    x, y = make_blobs(n_samples=200, centers=3, n_features=4, cluster_std=1.0, random_state=5)
    x = rounded(x)
    dup = rng.choice(200, 30, replace=False)
    x = np.vstack([x, x[dup]])
    y = np.concatenate([y, y[dup]])
    sklearn_case("sk_duplicates_4d", "3 blobs in 4-D with 30 duplicated rows", x, y)

    x, y = make_blobs(n_samples=250, centers=3, n_features=5, cluster_std=1.5, random_state=7)
    y = y.copy()
    y[rng.random(len(y)) < 0.08] = -1
    for metric in ["manhattan", "chebyshev", "cosine"]:
        sklearn_case(f"sk_{metric}_5d", f"3 blobs in 5-D, 8% noise, silhouette with the {metric} metric", x, y, metric)


# ---------------------------------------------------------------------------------------------- DBCV


def hdbscan_overflows(x, labels, metric):
    """True when hdbscan's (1/d)**D leaves the float range for some cluster."""
    d = x.shape[1]
    for c in np.unique(labels[labels >= 0]):
        dm = pairwise_distances(x[labels == c], metric=metric)
        nz = dm[dm != 0]
        with np.errstate(over="ignore", divide="ignore"):
            p = (1.0 / nz) ** d
        if not np.all(np.isfinite(p)) or np.any(p == 0) or not np.isfinite(p.sum(dtype=np.float64)):
            return True
    return False


def stable_all_points_core_distance(distance_matrix, d=2.0):
    """hdbscan's all_points_core_distance with the powers taken relative to each row's smallest positive
    distance, so that nothing overflows: the same formula, evaluated stably."""
    dm = distance_matrix
    n = dm.shape[0]
    out = np.zeros(n)
    any_positive = False
    for i in range(n):
        row = dm[i][dm[i] != 0]
        if len(row) == 0:
            continue
        any_positive = True
        m = row.min()
        out[i] = m * (np.sum((m / row) ** d) / (n - 1)) ** (-1.0 / d)
    return out if any_positive else np.zeros(n)


def stable_validity_index(x, labels, metric):
    import hdbscan.validity as hv
    original = hv.all_points_core_distance
    hv.all_points_core_distance = stable_all_points_core_distance
    try:
        return float(hv.validity_index(x, labels, metric=metric))
    finally:
        hv.all_points_core_distance = original


def dbcv_case(name, description, x, labels, metric="euclidean", equals=None, scale=None):
    x = np.asarray(x, dtype=np.float64) if scale is not None else rounded(x)
    labels = np.asarray(labels, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, per = validity_index(x, labels, metric=metric, per_cluster_scores=True)
    present = [int(c) for c in range(labels.max() + 1) if (labels == c).any()]
    case = {
        "name": name,
        "kind": "dbcv",
        "description": description,
        "metric": metric if metric != "cityblock" else "manhattan",
        "n": int(len(x)),
        "d": int(x.shape[1]),
        "n_noise": int((labels < 0).sum()),
        "overflow": bool(hdbscan_overflows(x, labels, metric)),
        "data": x.tolist(),
        "labels": labels.tolist(),
        "validity_index": float(value),
        "per_cluster": {str(c): float(per[c]) for c in present},
    }
    if case["overflow"]:
        case["validity_index_stable"] = stable_validity_index(x, labels, metric)
    if equals is not None:
        case["equals"] = equals
        case["scale"] = scale
    write(case)
    return x, labels


def dbcv_cases():
    rng = np.random.default_rng(14)
    # 3 blobs of different densities + uniform noise, labels from hdbscan itself
    x = np.vstack([
        rng.normal((0, 0), 0.3, (150, 2)),
        rng.normal((6, 6), 1.0, (200, 2)),
        rng.normal((-6, 5), 1.6, (150, 2)),
        rng.uniform(-10, 10, (50, 2)),
    ])
    x = rounded(x)
    lab = hdbscan.HDBSCAN(min_cluster_size=20, min_samples=9).fit(x).labels_
    dbcv_case("dbcv_density_2d", "3 blobs of std 0.3/1.0/1.6 + uniform noise; hdbscan labels", x, lab)

    # k-means labels with injected noise, 5-D
    x, _ = make_blobs(n_samples=400, centers=4, n_features=5, cluster_std=1.0, random_state=11)
    x = rounded(x)
    lab = KMeans(n_clusters=4, n_init=1, random_state=0).fit_predict(x)
    lab[rng.random(len(lab)) < 0.1] = -1
    dbcv_case("dbcv_kmeans_5d", "4 blobs in 5-D, k-means labels, 10% set to noise", x, lab)

    # a poor labelling (k-means with too many clusters), no noise: negative validities
    x, _ = make_blobs(n_samples=300, centers=2, n_features=3, cluster_std=1.0, random_state=12)
    x = rounded(x)
    lab = KMeans(n_clusters=5, n_init=1, random_state=0).fit_predict(x)
    dbcv_case("dbcv_oversplit_3d", "2 blobs in 3-D split into 5 k-means clusters", x, lab)

    # tiny clusters (pairs: no internal edge) and non-contiguous labels
    x = np.vstack([rng.normal(0, 1, (60, 2)), [[10, 10], [10.5, 10.2]], rng.normal((0, 12), 1, (40, 2)),
                   [[30, 0], [30.3, 0.4], [29.8, 0.1]], rng.uniform(-5, 35, (10, 2))])
    lab = np.array([0] * 60 + [2, 2] + [3] * 40 + [6] * 3 + [-1] * 10)
    dbcv_case("dbcv_pairs_2d", "clusters of 60, 2, 40 and 3 points (labels 0/2/3/6) + noise", x, lab)

    # higher dimensions, where (1/d)**D grows large
    for d, std in [(10, 1.0), (20, 1.0), (32, 2.0)]:
        x, y = make_blobs(n_samples=300, centers=3, n_features=d, cluster_std=std, random_state=20 + d)
        x = rounded(x)
        y = y.copy()
        y[rng.random(len(y)) < 0.05] = -1
        dbcv_case(f"dbcv_blobs_{d}d", f"3 blobs in {d}-D, true labels, 5% noise", x, y)

    # 50-D: the data as is, then scaled by 2^-40 and 2^40 (exact in binary). hdbscan's (1/d)**50 overflows
    # resp. underflows there, so its value is wrong; Outflow must give the unscaled value (scale invariance).
    x, y = make_blobs(n_samples=240, centers=3, n_features=50, cluster_std=1.0, random_state=70)
    x = rounded(x * 100.0)
    y = y.copy()
    y[rng.random(len(y)) < 0.05] = -1
    x, y = dbcv_case("dbcv_blobs_50d", "3 blobs in 50-D (x100), true labels, 5% noise", x, y)
    for tag, e in [("tiny", -40), ("huge", 40)]:
        dbcv_case(f"dbcv_blobs_50d_{tag}", f"dbcv_blobs_50d times 2^{e}: hdbscan's (1/d)**50 leaves the float range",
                  x * 2.0**e, y, equals="dbcv_blobs_50d", scale=2.0**e)

    # other metrics
    x, y = make_blobs(n_samples=250, centers=3, n_features=4, cluster_std=1.0, random_state=31)
    x = rounded(x)
    y = y.copy()
    y[rng.random(len(y)) < 0.06] = -1
    dbcv_case("dbcv_manhattan_4d", "3 blobs in 4-D, 6% noise, cityblock distance", x, y, metric="cityblock")
    dbcv_case("dbcv_chebyshev_4d", "3 blobs in 4-D, 6% noise, chebyshev distance", x, y, metric="chebyshev")


# --------------------------------------------------------------------------------- relative validity


def rv_case(name, description, x, min_cluster_size, min_samples, selection="eom", single=False):
    x = rounded(x)
    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples - 1,
        cluster_selection_method=selection,
        allow_single_cluster=single,
        approx_min_span_tree=False,
        gen_min_span_tree=True,
    ).fit(x)
    mst = model._min_spanning_tree
    # hdbscan's own Prim ("prims_kdtree") and Borůvka trees may break ties among equal MST weights differently;
    # when they disagree on the labels, no implementation can be held to hdbscan's labels on this case.
    generic = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples - 1,
        cluster_selection_method=selection,
        allow_single_cluster=single,
        algorithm="prims_kdtree",
        gen_min_span_tree=True,
    ).fit(x)
    tie_robust = bool(np.array_equal(generic.labels_, model.labels_))
    write({
        "name": name,
        "kind": "relative_validity",
        "description": description,
        "params": {"min_cluster_size": min_cluster_size, "min_samples": min_samples, "cluster_selection": selection,
                   "allow_single_cluster": single},
        "hdbscan_call": {"min_cluster_size": min_cluster_size, "min_samples": min_samples - 1,
                         "cluster_selection_method": selection, "allow_single_cluster": single,
                         "approx_min_span_tree": False, "gen_min_span_tree": True},
        "n": int(len(x)),
        "d": int(x.shape[1]),
        "data": x.tolist(),
        "labels": model.labels_.tolist(),
        "n_clusters": int(model.labels_.max() + 1),
        "mst": [[int(a), int(b), float(w)] for a, b, w in mst],
        "relative_validity": float(model.relative_validity_),
        "tie_robust": tie_robust,
        "relative_validity_generic": float(generic.relative_validity_),
    })


def rv_cases():
    rng = np.random.default_rng(21)
    x = np.vstack([
        rng.normal((0, 0), 0.4, (200, 2)),
        rng.normal((5, 5), 0.8, (200, 2)),
        rng.normal((-5, 6), 1.2, (150, 2)),
        rng.uniform(-10, 10, (60, 2)),
    ])
    rv_case("rv_density_2d", "3 blobs + uniform noise", x, 25, 10)
    rv_case("rv_density_2d_leaf", "3 blobs + uniform noise, leaf selection", x, 15, 10, "leaf")
    rv_case("rv_density_2d_leaf_ties", "3 blobs + uniform noise, leaf, small min_samples: tie-sensitive", x, 15, 5,
            "leaf")
    x, _ = make_blobs(n_samples=500, centers=4, n_features=6, cluster_std=1.2, random_state=22)
    rv_case("rv_blobs_6d", "4 blobs in 6-D", x, 20, 8)
    x = np.vstack([
        rng.normal((0, 0, 0, 0), 0.5, (150, 4)),
        rng.normal((4, 4, 0, 0), 1.0, (150, 4)),
        rng.normal((-4, 4, 2, 0), 1.5, (150, 4)),
        rng.uniform(-8, 8, (40, 4)),
    ])
    rv_case("rv_density_4d", "3 blobs of different densities in 4-D + uniform noise", x, 30, 12)
    rv_case("rv_density_4d_leaf", "3 blobs of different densities in 4-D + uniform noise, leaf", x, 20, 8, "leaf")
    x = np.vstack([rng.normal(0, 1, (150, 3)), rng.uniform(-8, 8, (30, 3))])
    rv_case("rv_one_cluster_3d", "one blob + noise, allow_single_cluster (the noise-separation branch)", x, 40, 10,
            single=True)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    sklearn_cases()
    dbcv_cases()
    rv_cases()


if __name__ == "__main__":
    main()
