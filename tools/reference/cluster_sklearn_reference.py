#!/usr/bin/env python3
"""Reference fixtures of outflow-cluster's DBSCAN, k-means and Ward (parity with scikit-learn / SciPy).

Run from anywhere with the pinned environment (scikit-learn 1.9.1, scipy 1.17.1, see requirements.txt):

    /work/venv/bin/python tools/reference/cluster_sklearn_reference.py

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/sklearn/ (and removes stale
`*.json` there). The Rust test crates/outflow-cluster/tests/parity_sklearn.rs reads only these files:
`cargo test` needs no Python. Everything is seeded, so re-running reproduces the files byte for byte.

Data are rounded to 4 decimals (integers for the tie cases) *before* fitting, so the short decimal text in
the JSON is exactly the float64 scikit-learn saw.

DBSCAN (`algorithm="dbscan"`)
    `DBSCAN(eps, min_samples, metric)` with scikit-learn's default `algorithm="auto"`, which takes the
    kd-tree for these <= 15 features (cosine: brute force). Per run: `labels_`, `core_sample_indices_`
    and `shared_border`, the number of non-core points within eps of core points of two or more clusters
    (the points whose label depends on scikit-learn's traversal order). Runs with `"auto": true` take eps
    from the auto-eps heuristic with NumPy: d = `NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X)` column
    k-1 (the query set is the training set, so a row is its own first neighbour: k counts the row itself),
    eps = median(d) + 0.5 * std(d) (population std); `eps` is that value.

k-means (`algorithm="kmeans"`)
    `KMeans(n_clusters=k, init=<centres>, n_init=1, algorithm="lloyd", max_iter, tol)`; the initial centres
    are recorded (`init`), with `labels_`, `inertia_`, `cluster_centers_`, `n_iter_`. Cases cover strict
    convergence, tol-based convergence (labels recomputed against the final centres), max_iter stops and an
    empty cluster re-seeded with the farthest point.

Ward (`algorithm="ward"`)
    Continuous random data (checked free of distance ties: all pairwise distances distinct, and the Ward
    merge distances distinct). `scipy.cluster.hierarchy.ward(X)` (the full linkage matrix `linkage`) and
    for each k `AgglomerativeClustering(n_clusters=k, linkage="ward", compute_distances=True)` (`labels_`
    and `distances_`).
"""

import json
import pathlib

import numpy as np
import scipy
import sklearn
from scipy.cluster.hierarchy import ward as scipy_ward
from scipy.spatial.distance import pdist
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans, kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.neighbors import NearestNeighbors

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "outflow-cluster" / "tests" / "fixtures" / "sklearn"


def r4(x):
    return np.round(np.asarray(x, dtype=np.float64), 4)


def as_rows(x):
    return [[float(v) for v in row] for row in x]


def write(name, case):
    case = {"name": name, "versions": {"sklearn": sklearn.__version__, "scipy": scipy.__version__}, **case}
    (OUT / f"{name}.json").write_text(json.dumps(case, separators=(",", ":")) + "\n")


# ---------------------------------------------------------------- DBSCAN


def shared_border(x, labels, core, eps, metric):
    nn = NearestNeighbors(radius=eps, metric=metric).fit(x)
    hoods = nn.radius_neighbors(x, return_distance=False)
    n = 0
    for i in range(len(x)):
        if core[i]:
            continue
        clusters = {labels[j] for j in hoods[i] if core[j]}
        n += len(clusters) >= 2
    return n


def dbscan_run(x, eps, min_samples, metric="euclidean", auto=False):
    db = DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit(x)
    core = np.zeros(len(x), dtype=bool)
    core[db.core_sample_indices_] = True
    return {
        "eps": float(eps),
        "auto": auto,
        "min_samples": int(min_samples),
        "metric": metric,
        "labels": [int(v) for v in db.labels_],
        "core_sample_indices": [int(v) for v in db.core_sample_indices_],
        "n_clusters": int(db.labels_.max() + 1),
        "noise": int((db.labels_ == -1).sum()),
        "shared_border": shared_border(x, db.labels_, core, eps, metric),
    }


def auto_eps(x, k=4):
    d = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)[0][:, k - 1]
    return float(np.median(d) + 0.5 * np.std(d))


def bridged_clusters(rng, n_pairs=6):
    """Pairs of small dense clusters with points between them that are within eps = 1 of a core point of
    each cluster but are not core themselves: their label depends on which cluster reaches them first."""
    rows = []
    for p in range(n_pairs):
        base = np.array([p * 10.0, (p % 3) * 7.0])
        left = base + np.array([-1.2, 0.0]) + rng.normal(scale=0.15, size=(12, 2))
        right = base + np.array([1.2, 0.0]) + rng.normal(scale=0.15, size=(12, 2))
        bridge = base + np.array([[rng.uniform(-0.1, 0.1), rng.uniform(-0.3, 0.3)] for _ in range(2)])
        rows += [left, right, bridge]
    x = np.vstack(rows)
    x = x[rng.permutation(len(x))]
    return r4(x)


def dbscan_cases():
    rng = np.random.default_rng(5)
    x, _ = make_blobs(n_samples=300, n_features=2, centers=4, cluster_std=0.6, random_state=1)
    x = r4(x)
    write("dbscan_blobs_2d", {"algorithm": "dbscan", "data": as_rows(x), "runs": [
        dbscan_run(x, eps, m) for eps in (0.25, 0.4, 0.7) for m in (3, 5, 10)
    ] + [dbscan_run(x, auto_eps(x), 4, auto=True)]})

    x = bridged_clusters(rng)
    runs = [dbscan_run(x, eps, m) for eps, m in ((1.0, 5), (1.0, 8), (0.9, 5), (1.1, 12))]
    assert sum(r["shared_border"] for r in runs) >= 5, "the bridged case must have shared border points"
    write("dbscan_shared_border_2d", {"algorithm": "dbscan", "data": as_rows(x), "runs": runs})

    x = rng.integers(0, 8, size=(400, 3)).astype(np.float64)  # many exact ties at eps and duplicates
    write("dbscan_grid_ties_3d", {"algorithm": "dbscan", "data": as_rows(x), "runs": [
        dbscan_run(x, eps, m, metric) for metric in ("euclidean", "manhattan", "chebyshev")
        for eps, m in ((1.0, 3), (1.0, 6), (2.0, 10), (1.5, 4))
    ]})

    x, _ = make_blobs(n_samples=600, n_features=8, centers=5, cluster_std=1.5, random_state=3)
    x = r4(x)
    write("dbscan_blobs_8d", {"algorithm": "dbscan", "data": as_rows(x), "runs": [
        dbscan_run(x, auto_eps(x), m, auto=True) for m in (4, 8)
    ] + [dbscan_run(x, eps, 5) for eps in (2.5, 3.2)] + [dbscan_run(x, 7.0, 5, "manhattan")]})

    base, _ = make_blobs(n_samples=120, n_features=5, centers=3, cluster_std=0.8, random_state=4)
    x = r4(np.vstack([base, base[rng.integers(0, 120, size=180)]]))
    x = x[rng.permutation(len(x))]
    write("dbscan_duplicates_5d", {"algorithm": "dbscan", "data": as_rows(x), "runs": [
        dbscan_run(x, eps, m) for eps, m in ((0.8, 4), (1.2, 10), (0.5, 3))
    ] + [dbscan_run(x, auto_eps(x), 5, auto=True)]})

    x = r4(rng.normal(size=(250, 6)) + np.repeat(rng.normal(scale=3, size=(5, 6)), 50, axis=0))
    write("dbscan_cosine_6d", {"algorithm": "dbscan", "data": as_rows(x), "runs": [
        dbscan_run(x, eps, m, "cosine") for eps, m in ((0.05, 5), (0.1, 8))
    ]})


# ---------------------------------------------------------------- k-means


def kmeans_run(x, init, max_iter=300, tol=1e-4):
    km = KMeans(n_clusters=len(init), init=init, n_init=1, algorithm="lloyd", max_iter=max_iter, tol=tol).fit(x)
    return {
        "k": len(init),
        "init": as_rows(init),
        "max_iter": max_iter,
        "tol": tol,
        "labels": [int(v) for v in km.labels_],
        "inertia": float(km.inertia_),
        "centres": as_rows(km.cluster_centers_),
        "n_iter": int(km.n_iter_),
    }


def kmeans_cases():
    rng = np.random.default_rng(11)
    x, _ = make_blobs(n_samples=400, n_features=2, centers=4, cluster_std=1.0, random_state=2)
    x = r4(x)
    runs = [kmeans_run(x, x[rng.choice(len(x), 4, replace=False)]) for _ in range(3)]
    runs.append(kmeans_run(x, x[rng.choice(len(x), 6, replace=False)], tol=0.0))
    write("kmeans_blobs_2d", {"algorithm": "kmeans", "data": as_rows(x), "runs": runs})

    x, _ = make_blobs(n_samples=1000, n_features=10, centers=12, cluster_std=3.0, random_state=5)
    x = r4(x)
    runs = []
    for seed in (0, 1):
        init, _ = kmeans_plusplus(x, 8, random_state=seed)
        runs.append(kmeans_run(x, init))
        runs.append(kmeans_run(x, init, tol=0.0))
    runs.append(kmeans_run(x, runs[0]["init"], max_iter=3))
    write("kmeans_overlap_10d", {"algorithm": "kmeans", "data": as_rows(x), "runs": runs})

    x, _ = make_blobs(n_samples=300, n_features=3, centers=3, cluster_std=1.0, random_state=7)
    x = r4(x)
    init = np.vstack([x[:2], [[100.0, 100.0, 100.0]]])  # the far centre gets no point at first
    write("kmeans_empty_cluster_3d", {"algorithm": "kmeans", "data": as_rows(x), "runs": [kmeans_run(x, init)]})

    x = r4(rng.lognormal(size=(500, 33)) * rng.uniform(1, 50, size=33))
    init = x[rng.choice(len(x), 8, replace=False)]
    write("kmeans_flowlike_33d", {"algorithm": "kmeans", "data": as_rows(x), "runs": [
        kmeans_run(x, init), kmeans_run(x, init, tol=0.05), kmeans_run(x, init, max_iter=2)
    ]})


# ---------------------------------------------------------------- Ward


def ward_case(name, x, ks):
    d = pdist(x)
    assert len(np.unique(d)) == len(d), f"{name}: pairwise distance ties"
    z = scipy_ward(x)
    assert len(np.unique(z[:, 2])) == len(z), f"{name}: merge distance ties"
    runs = []
    for k in ks:
        ac = AgglomerativeClustering(n_clusters=k, linkage="ward", compute_distances=True).fit(x)
        runs.append({"k": k, "labels": [int(v) for v in ac.labels_], "distances": [float(v) for v in ac.distances_]})
    write(name, {"algorithm": "ward", "data": as_rows(x), "linkage": as_rows(z), "runs": runs})


def ward_cases():
    rng = np.random.default_rng(21)
    ward_case("ward_uniform_2d", r4(rng.uniform(-10, 10, size=(200, 2))), [2, 3, 5, 10, 200])
    x, _ = make_blobs(n_samples=300, n_features=8, centers=6, cluster_std=1.5, random_state=8)
    ward_case("ward_blobs_8d", r4(x), [2, 6, 8, 25])
    x = r4(rng.lognormal(size=(150, 5)) * np.array([1.0, 10.0, 100.0, 0.1, 1000.0]))
    ward_case("ward_scaled_5d", x, [1, 2, 4, 7])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.glob("*.json"):
        f.unlink()
    dbscan_cases()
    kmeans_cases()
    ward_cases()
    total = sum(f.stat().st_size for f in OUT.glob("*.json"))
    print(f"wrote {len(list(OUT.glob('*.json')))} fixtures, {total / 1024:.0f} KiB, to {OUT}")


if __name__ == "__main__":
    main()
