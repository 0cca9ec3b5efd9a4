#!/usr/bin/env python3
"""Reference fixtures of outflow-cluster's HDBSCAN metrics and `alpha` against the implementations that define them.

Run with the pinned environment (hdbscan 0.8.44, scikit-learn 1.9.1, scipy 1.17.1, numpy 2.4.6; see
requirements.txt):

    python tools/reference/hdbscan_metrics_reference.py

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan_metrics/ (stale `*.json`
there removed); crates/outflow-cluster/tests/parity_hdbscan_metrics.rs reads them, so `cargo test` needs no
Python. Seeded: re-running reproduces the files byte for byte.

Per case: the data (rounded to 6 decimals before fitting), the metric in Outflow's syntax (`minkowski:3`,
`haversine`, ...), `min_cluster_size`, `min_samples` in scikit-learn's convention (the point itself counted),
`alpha`, and (for `precomputed`, the data are the distance matrix; scikit-learn's `brute` path then, alpha 1)
- `core_distances`: scikit-learn's `NearestNeighbors(n_neighbors=min_samples)` distance to the last neighbour;
- `mst_weights`: the sorted edge weights of scipy's minimum spanning tree of the dense mutual-reachability
  matrix `max(core(a), core(b), d(a, b) / alpha)`. Every minimum spanning tree of a graph has the same
  multiset of weights, so this holds whatever the order of tied edges: the check of the metric and of
  alpha that no tie can blur;
- `sklearn`: labels of `sklearn.cluster.HDBSCAN` with the tree algorithm that applies alpha as hdbscan defines
  it (`kd_tree`, or `ball_tree` for haversine; its `brute` path divides the core distances by alpha too, so
  alpha there only rescales λ);
- `hdbscan` (min_samples >= 2): labels, probabilities and GLOSH outlier scores of `hdbscan.HDBSCAN` with
  `algorithm="generic"` (its Borůvka paths ignore alpha) and `min_samples - 1` (its convention);
- `reordered_ari`: the lowest ARI of each reference against itself over three seeded row orders (tied
  edges make both depend on the order; 1.0 means the labels are determined by the data).
"""

import json
import pathlib

import hdbscan
import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist
from sklearn.cluster import HDBSCAN
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.neighbors import NearestNeighbors

from hdbscan_options_reference import hierarchy_5d, nested_blobs

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/outflow-cluster/tests/fixtures/hdbscan_metrics"


def places(rng):
    """Flows geolocated around six cities (about 30-150 km spread), two of them close, plus scattered
    points over the globe: (latitude, longitude) in radians."""
    cities = [(52.52, 13.40), (48.86, 2.35), (40.71, -74.01), (35.68, 139.69), (-33.87, 151.21), (50.85, 4.35)]
    parts = []
    for (lat, lon), n, km in zip(cities, [60, 50, 70, 45, 40, 35], [60, 40, 150, 80, 30, 50]):
        spread = km / 6371.0
        parts.append(np.column_stack([
            np.radians(lat) + rng.normal(0, spread, n),
            np.radians(lon) + rng.normal(0, spread, n) / np.cos(np.radians(lat)),
        ]))
    lat = np.arcsin(rng.uniform(-1, 1, 20))
    lon = rng.uniform(-np.pi, np.pi, 20)
    parts.append(np.column_stack([lat, lon]))
    return np.vstack(parts)


def split_metric(metric):
    """Outflow's metric name -> (scikit-learn metric, its parameters)."""
    if metric.startswith("minkowski:"):
        return "minkowski", {"p": float(metric.split(":")[1])}
    return metric, {}


def references(x, metric, mcs, ms, alpha):
    name, kw = split_metric(metric)
    core = NearestNeighbors(n_neighbors=ms, metric=name, p=kw.get("p", 2)).fit(x).kneighbors(x)[0][:, -1]
    # scipy's cdist sums coordinate by coordinate (scikit-learn's euclidean pairwise_distances expands the
    # square, off by ~1e-13).
    if name == "precomputed":
        d = x.copy()
    elif name == "haversine":
        d = pairwise_distances(x, metric=name)
    else:
        p = {"euclidean": 2.0, "manhattan": 1.0}.get(name, kw.get("p"))
        d = cdist(x, x, "minkowski", p=p)
    d = d / alpha
    mr = np.maximum(d, np.maximum.outer(core, core))
    np.fill_diagonal(mr, 0.0)
    weights = np.sort(minimum_spanning_tree(mr).data)
    assert len(weights) == len(x) - 1, "zero distances in the fixture"

    def fit_sklearn(data):
        algorithm = {"haversine": "ball_tree", "precomputed": "brute"}.get(name, "kd_tree")
        return HDBSCAN(
            min_cluster_size=mcs, min_samples=ms, alpha=alpha, metric=name, metric_params=kw or None,
            algorithm=algorithm, copy=True,
        ).fit(data)

    def fit_hdbscan(data):
        return hdbscan.HDBSCAN(
            min_cluster_size=mcs, min_samples=ms - 1, alpha=alpha, metric=name, algorithm="generic", **kw
        ).fit(data)

    def stability(fit, ref):
        worst = 1.0
        for seed in range(3):
            perm = np.random.default_rng(seed).permutation(len(x))
            got = fit(x[perm][:, perm] if name == "precomputed" else x[perm]).labels_
            back = np.empty_like(got)
            back[perm] = got
            worst = min(worst, float(adjusted_rand_score(ref, back)))
        return round(worst, 6)

    sk = fit_sklearn(x)
    out = {
        "core_distances": core.tolist(),
        "mst_weights": weights.tolist(),
        "sklearn": {"labels": sk.labels_.tolist(), "reordered_ari": stability(fit_sklearn, sk.labels_)},
    }
    if ms >= 2:
        h = fit_hdbscan(x)
        out["hdbscan"] = {
            "labels": h.labels_.tolist(),
            "probabilities": h.probabilities_.tolist(),
            "outlier_scores": h.outlier_scores_.tolist(),
            "reordered_ari": stability(fit_hdbscan, h.labels_),
        }
    return out


def case(name, x, metric, mcs, ms, alpha=1.0):
    x = np.round(x, 6)
    doc = {
        "name": name, "metric": metric, "min_cluster_size": mcs, "min_samples": ms, "alpha": alpha,
        "x": x.tolist(),
    }
    doc.update(references(x, metric, mcs, ms, alpha))
    (OUT / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    ref = doc.get("hdbscan", doc["sklearn"])
    print(name, "clusters", len(set(ref["labels"]) - {-1}), "stable", doc["sklearn"]["reordered_ari"],
          doc.get("hdbscan", {}).get("reordered_ari"))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    x = nested_blobs(np.random.default_rng(7))
    case("alpha_half_2d", x, "euclidean", 10, 5, alpha=0.5)
    case("alpha_two_2d", x, "euclidean", 10, 5, alpha=2.0)
    case("alpha_manhattan_2d", x, "manhattan", 10, 4, alpha=1.5)
    y = hierarchy_5d(np.random.default_rng(11))
    case("minkowski3_5d_ms1", y, "minkowski:3", 15, 1)
    case("minkowski3_5d_ms4", y, "minkowski:3", 15, 4)
    case("minkowski1.5_5d_alpha", y, "minkowski:1.5", 15, 3, alpha=1.5)
    g = places(np.random.default_rng(3))
    case("haversine_ms1", g, "haversine", 8, 1)
    case("haversine_ms5", g, "haversine", 8, 5)
    case("haversine_ms5_alpha", g, "haversine", 8, 5, alpha=0.7)
    # A distance matrix: between 100 points of three blobs in 6-D, by the Canberra distance (one Outflow
    # has no metric for; continuous, so no ties).
    rng = np.random.default_rng(13)
    v = np.vstack([rng.normal(c, 1.0, size=(n, 6)) for c, n in [(0, 40), (5, 35), (10, 20)]] + [rng.uniform(-5, 15, (5, 6))])
    d = np.round(cdist(v, v, "canberra"), 6)
    case("precomputed_ms1", d, "precomputed", 8, 1)
    case("precomputed_ms4", d, "precomputed", 8, 4)


if __name__ == "__main__":
    main()
