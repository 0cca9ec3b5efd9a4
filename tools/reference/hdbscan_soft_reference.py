#!/usr/bin/env python3
"""Reference fixtures of outflow-cluster's soft clustering against hdbscan's, which defines it.

Run with the pinned environment (hdbscan 0.8.44, scikit-learn 1.9.1, numpy 2.4.6; see requirements.txt):

    python tools/reference/hdbscan_soft_reference.py

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan_soft/ (stale `*.json` there
removed); crates/outflow-cluster/tests/parity_hdbscan_soft.rs reads them. Seeded: re-running reproduces the
files byte for byte.

Per case: the data (rounded to 4 decimals), `min_cluster_size`, `min_samples` in scikit-learn's convention
(hdbscan is given `min_samples - 1`), hdbscan's labels, exemplar row indices, `all_points_membership_vectors`,
and `membership_vector` of new points (`points`). For the new points hdbscan's `PredictionData` core distances
are replaced by the fit's (distance to the `min_samples`-th nearest row, itself included), as Outflow predicts
(see the crate docs); stock hdbscan recomputes them with one neighbour fewer. `reordered_ari` and
`exemplars_stable` record whether hdbscan's labels and exemplars stay put when only the row order changes;
`cluster_rows` are the (λ, size) of the condensed tree's cluster rows, sorted: where tied edges make Outflow's
tree differ from hdbscan's (a bridge point filed under another cluster), the probabilities differ with it.
"""

import json
import pathlib

import hdbscan
import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/outflow-cluster/tests/fixtures/hdbscan_soft"


def fit(x, mcs, ms):
    return hdbscan.HDBSCAN(
        min_cluster_size=mcs, min_samples=ms - 1, approx_min_span_tree=False, prediction_data=True
    ).fit(x)


def exemplar_rows(model, x):
    index = {tuple(row): i for i, row in enumerate(x.tolist())}
    return [sorted(index[tuple(row)] for row in e.tolist()) for e in model.exemplars_]


def case(name, x, mcs, ms, points):
    x = np.round(x, 4)
    points = np.round(points, 4)
    model = fit(x, mcs, ms)
    exemplars = exemplar_rows(model, x)
    ari, stable = 1.0, True
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(x))
        other = fit(x[perm], mcs, ms)
        back = np.empty_like(other.labels_)
        back[perm] = other.labels_
        ari = min(ari, float(adjusted_rand_score(model.labels_, back)))
        stable &= sorted(exemplar_rows(other, x)) == sorted(exemplars)
    model.prediction_data_.core_distances = (
        NearestNeighbors(n_neighbors=ms).fit(x).kneighbors(x)[0][:, -1]
    )
    doc = {
        "name": name, "min_cluster_size": mcs, "min_samples": ms, "x": x.tolist(),
        "labels": model.labels_.tolist(), "exemplars": exemplars,
        "reordered_ari": round(ari, 6), "exemplars_stable": bool(stable),
        "cluster_rows": sorted(
            [round(float(r["lambda_val"]), 9), int(r["child_size"])]
            for r in model.condensed_tree_._raw_tree if r["child_size"] > 1
        ),
        "all_points": hdbscan.all_points_membership_vectors(model).tolist(),
        "points": points.tolist(),
        "membership_vector": hdbscan.membership_vector(model, points).tolist(),
    }
    (OUT / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(name, "clusters", model.labels_.max() + 1, "ARI to itself", doc["reordered_ari"], "exemplars stable", stable)


def blobs(rng, centres, sizes, sd, noise, box):
    parts = [rng.normal(c, s, size=(n, len(c))) for c, n, s in zip(centres, sizes, sd)]
    parts.append(rng.uniform(-box, box, size=(noise, len(centres[0]))))
    return np.vstack(parts)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    rng = np.random.default_rng(21)
    x = blobs(rng, [(0, 0), (6, 1), (2, 7)], [70, 60, 50], [0.8, 1.0, 0.6], 20, 10)
    q = np.vstack([rng.uniform(-10, 10, size=(25, 2)), x[rng.choice(len(x), 15, replace=False)] + rng.normal(0, 0.3, (15, 2))])
    case("three_blobs_2d", x, 12, 6, q)
    case("three_blobs_2d_ms3", x, 12, 3, q)
    rng = np.random.default_rng(22)
    y = blobs(rng, [(0,) * 4, (5, 5, 0, 0), (0, 5, 5, 5), (5, 0, 5, 0)], [50, 45, 40, 35], [1.0, 0.8, 1.2, 0.7], 15, 9)
    q = np.vstack([rng.uniform(-9, 9, size=(20, 4)), y[rng.choice(len(y), 20, replace=False)] + rng.normal(0, 0.4, (20, 4))])
    case("four_blobs_4d", y, 10, 5, q)
    rng = np.random.default_rng(24)
    z = blobs(rng, [(0, 0, 0), (6, 6, 0), (0, 6, 6), (6, 0, 6), (10, 10, 10)], [40, 40, 35, 30, 30], [0.7, 0.9, 0.6, 0.8, 1.0], 6, 12)
    q = np.vstack([rng.uniform(-3, 13, size=(20, 3)), z[rng.choice(len(z), 20, replace=False)] + rng.normal(0, 0.3, (20, 3))])
    case("five_blobs_3d", z, 10, 5, q)


if __name__ == "__main__":
    main()
