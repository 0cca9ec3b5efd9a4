#!/usr/bin/env python3
"""Reference fixtures of outflow-cluster's HDBSCAN options against the implementations that define them.

Run with the pinned environment (hdbscan 0.8.44, scikit-learn 1.9.1, numpy 2.4.6; see requirements.txt):

    python tools/reference/hdbscan_options_reference.py

It writes one JSON file per case into crates/outflow-cluster/tests/fixtures/hdbscan_options/ (stale
`*.json` there removed); crates/outflow-cluster/tests/parity_hdbscan_options.rs reads them, so `cargo test`
needs no Python. Seeded: re-running reproduces the files byte for byte.

`dbscan_clustering(cut_distance, min_cluster_size)` (hdbscan and scikit-learn): for `min_samples` >= 2, three
cuts (quantiles of hdbscan's single-linkage merge distances) at sizes 1 and `min_cluster_size`, the labels of
both; a cut of the tree does not depend on the order of tied edges, so the partitions are determined.

Exemplars (hdbscan's `exemplars_`, rows mapped back to their indices; the data have no duplicate rows) for
`min_samples` >= 2, without limits, with the (λ, size) of hdbscan's condensed-tree cluster rows (`cluster_rows`,
sorted) to tell where tied edges give Outflow another tree.

`cluster_selection_epsilon_max` (defined by hdbscan 0.8.44): runs with `epsilon_max` record hdbscan's labels
only.

`cluster_selection_persistence` (defined by fast_hdbscan 0.3.4) for `min_samples` 1 (fast_hdbscan's 1 too: no
core distances, no tied edges): fast_hdbscan's labels at the thresholds of a geometric grid where its result
changes, and one below each.

`max_cluster_size` (defined by scikit-learn; hdbscan has the same rule): per case, the data (rounded to 4
decimals before fitting, so the JSON text is exactly what both saw), `min_cluster_size`, `min_samples` in
scikit-learn's convention (the point itself counted), `allow_single_cluster`, and per `max_cluster_size`
(0 = None) the labels of `sklearn.cluster.HDBSCAN` and of `hdbscan.HDBSCAN` with `min_samples - 1` (its
convention) and `approx_min_span_tree=False`. With `min_samples = 1` the mutual-reachability distance is the
plain distance, so continuous data have no tied MST edges and the labels are determined exactly; hdbscan
cannot take that case (its smallest `min_samples`, 1, is scikit-learn's 2) and records none. Above, core
distances tie MST edges and hdbscan's result depends on the row order: `reordered_ari` records how far it
moves from itself when only the order changes.
"""

import json
import pathlib

import fast_hdbscan
import hdbscan
import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.metrics import adjusted_rand_score

OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/outflow-cluster/tests/fixtures/hdbscan_options"


def nested_blobs(rng):
    """Two pairs of close sub-blobs and a lone blob: EOM keeps each pair whole, a size cap splits it."""
    centres = [(0, 0), (1.6, 0), (20, 0), (21.8, 0), (10, 15)]
    sizes = [60, 50, 45, 40, 70]
    parts = [rng.normal(c, 0.6, size=(s, 2)) for c, s in zip(centres, sizes)]
    parts.append(rng.uniform(-5, 28, size=(15, 2)))
    return np.vstack(parts)


def hierarchy_5d(rng):
    """Three groups of three sub-clusters in 5-D, with background noise."""
    parts = []
    for g in range(3):
        base = rng.normal(0, 30, size=5)
        for _ in range(3):
            parts.append(rng.normal(base + rng.normal(0, 1.2, size=5), 0.8, size=(int(rng.integers(25, 60)), 5)))
    parts.append(rng.uniform(-60, 60, size=(20, 5)))
    return np.vstack(parts)


def labels_sklearn(x, mcs, ms, cap, single):
    return HDBSCAN(
        min_cluster_size=mcs, min_samples=ms, max_cluster_size=cap or None, allow_single_cluster=single, copy=True
    ).fit(x).labels_


def labels_hdbscan(x, mcs, ms, cap, single, eps_max=float("inf")):
    return hdbscan.HDBSCAN(
        min_cluster_size=mcs, min_samples=ms - 1, max_cluster_size=cap, allow_single_cluster=single,
        approx_min_span_tree=False, cluster_selection_epsilon_max=eps_max,
    ).fit(x).labels_


def reordered_ari(x, ref, mcs, ms, cap, single, eps_max=float("inf")):
    """hdbscan's own agreement with itself when only the row order changes (three seeded permutations,
    the lowest ARI): tied MST edges make its tree depend on that order."""
    worst = 1.0
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(x))
        got = labels_hdbscan(x[perm], mcs, ms, cap, single, eps_max)
        back = np.empty_like(got)
        back[perm] = got
        worst = min(worst, float(adjusted_rand_score(ref, back)))
    return round(worst, 6)


def case(name, x, mcs, ms, caps, single=False, eps_maxes=()):
    x = np.round(x, 4)
    runs = []
    for eps_max in eps_maxes:
        ref = labels_hdbscan(x, mcs, ms, 0, single, eps_max)
        runs.append({
            "max_cluster_size": 0, "epsilon_max": eps_max, "hdbscan": ref.tolist(),
            "reordered_ari": reordered_ari(x, ref, mcs, ms, 0, single, eps_max),
        })
    for cap in caps:
        run = {"max_cluster_size": cap, "sklearn": labels_sklearn(x, mcs, ms, cap, single).tolist()}
        if ms >= 2:
            ref = labels_hdbscan(x, mcs, ms, cap, single)
            run["hdbscan"] = ref.tolist()
            run["reordered_ari"] = reordered_ari(x, ref, mcs, ms, cap, single)
        runs.append(run)
    cuts = []
    exemplars = None
    exemplars_stable = None
    cluster_rows = None
    if ms >= 2:
        model = hdbscan.HDBSCAN(
            min_cluster_size=mcs, min_samples=ms - 1, approx_min_span_tree=False, allow_single_cluster=single,
            prediction_data=True,
        ).fit(x)
        index = {tuple(row): i for i, row in enumerate(x.tolist())}
        exemplars = [sorted(index[tuple(row)] for row in e.tolist()) for e in model.exemplars_]
        cluster_rows = sorted(
            [round(float(r["lambda_val"]), 9), int(r["child_size"])]
            for r in model.condensed_tree_._raw_tree if r["child_size"] > 1
        )
        # Exemplars come from the leaves of the condensed tree, which tied edges can reshape even where
        # the labels do not move: stable only if three row orders give the same sets.
        exemplars_stable = True
        for seed in range(3):
            perm = np.random.default_rng(seed).permutation(len(x))
            other = hdbscan.HDBSCAN(
                min_cluster_size=mcs, min_samples=ms - 1, approx_min_span_tree=False,
                allow_single_cluster=single, prediction_data=True,
            ).fit(x[perm])
            got = sorted(sorted(index[tuple(row)] for row in e.tolist()) for e in other.exemplars_)
            exemplars_stable &= got == sorted(exemplars)
        merges = model.single_linkage_tree_.to_numpy()[:, 2]
        for q in (0.5, 0.9, 0.99):
            cut = float(np.round(np.quantile(merges, q), 6))
            for size in (1, mcs):
                sk = HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit(x).dbscan_clustering(cut, size)
                cuts.append({
                    "cut_distance": cut, "min_cluster_size": size,
                    "hdbscan": model.dbscan_clustering(cut, size).tolist(), "sklearn": sk.tolist(),
                })
    persistence = []
    if ms == 1:
        def fast(t):
            return fast_hdbscan.HDBSCAN(
                min_cluster_size=mcs, min_samples=1, allow_single_cluster=single,
                cluster_selection_persistence=float(t),
            ).fit(x).labels_
        grid = np.geomspace(0.01, 500, 60).round(6)
        previous = fast(grid[0])
        picked = [0]
        for i in range(1, len(grid)):
            got = fast(grid[i])
            if adjusted_rand_score(got, previous) < 1.0 or not np.array_equal(got < 0, previous < 0):
                picked += [i - 1, i]
            previous = got
        persistence = [{"threshold": float(grid[i]), "fast_hdbscan": fast(grid[i]).tolist()} for i in sorted(set(picked))]
    doc = {
        "name": name,
        "min_cluster_size": mcs,
        "min_samples": ms,
        "allow_single_cluster": single,
        "x": x.tolist(),
        "runs": runs,
        "cuts": cuts,
        "exemplars": exemplars,
        "exemplars_stable": exemplars_stable,
        "cluster_rows": cluster_rows,
        "persistence": persistence,
    }
    (OUT / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(name, [(r["max_cluster_size"], r.get("epsilon_max"), len(set(r["sklearn"] if "sklearn" in r else r["hdbscan"]))) for r in runs])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    rng = np.random.default_rng(7)
    x = nested_blobs(rng)
    case("nested_2d_ms1", x, 10, 1, [0, 200, 100, 60, 45])
    case("nested_2d_ms5", x, 10, 5, [0, 200, 100, 60], eps_maxes=[3.0, 1.0, 0.5])
    case("nested_2d_single", x, 10, 1, [0, 250, 120], single=True)
    rng = np.random.default_rng(5)
    z = np.vstack([rng.normal((0, 0), 1.0, size=(90, 2)), rng.normal((2.2, 0), 1.0, size=(80, 2))])
    case("one_blob_single", z, 12, 1, [0, 160, 100, 60], single=True)
    case("one_blob_single_ms3", z, 12, 3, [0], single=True, eps_maxes=[2.0, 0.8, 0.4])
    rng = np.random.default_rng(11)
    y = hierarchy_5d(rng)
    case("hierarchy_5d_ms1", y, 15, 1, [0, 150, 80, 40])
    case("hierarchy_5d_ms4", y, 15, 4, [0, 150, 80], eps_maxes=[20.0, 5.0, 2.0])


if __name__ == "__main__":
    main()
