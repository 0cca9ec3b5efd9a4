"""HDBSCAN in one Python process, on the same array: outflow.HDBSCAN (the wheel), hdbscan 0.8 (exact
MST, and its default approximate MST), fast_hdbscan, hdbscan-rs (a Rust HDBSCAN's wheel, exact, when
installed) and scikit-learn's HDBSCAN. Each is run once on the data first (fast_hdbscan's numba
compilation happens there, on the same data), then timed over --repeat runs; the best time and the ratio to Outflow are printed, with the adjusted Rand index of
each peer's labels against Outflow's.

    python benches/scripts/python_side_by_side.py [--rows 100000] [--dims 8] [--repeat 3]

Needs the outflow wheel (release build: `maturin build --release` in crates/outflow-python), numpy,
scikit-learn, hdbscan and fast_hdbscan; hdbscan-rs is timed when installed (pinned with the others in
`tools/reference/requirements.txt`). Threads are set to 2 for every library.
"""

import argparse
import os

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = THREADS

import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402


def peers(mcs, ms):
    """(name, fit function returning labels); `ms` counts the point itself (hdbscan's is ms - 1)."""
    import fast_hdbscan
    import hdbscan
    import sklearn.cluster

    import outflow

    # Outflow first: its labels are the reference of every ARI.
    fits = [("outflow.HDBSCAN", lambda x: outflow.HDBSCAN(min_cluster_size=mcs, min_samples=ms).fit(x).labels_)]
    try:
        import hdbscan_rs

        # Outflow's min_samples convention (the point itself counted).
        fits.append(("hdbscan-rs (exact)", lambda x: hdbscan_rs.HDBSCAN(min_cluster_size=mcs, min_samples=ms).fit(x).labels_))
    except ImportError:
        pass
    return fits + [
        ("hdbscan (exact MST)", lambda x: hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms - 1, approx_min_span_tree=False, core_dist_n_jobs=2).fit(x).labels_),
        ("hdbscan (default)", lambda x: hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms - 1, core_dist_n_jobs=2).fit(x).labels_),
        ("fast_hdbscan", lambda x: fast_hdbscan.HDBSCAN(min_cluster_size=mcs, min_samples=ms - 1).fit(x).labels_),
        ("sklearn.cluster.HDBSCAN", lambda x: sklearn.cluster.HDBSCAN(min_cluster_size=mcs, min_samples=ms, n_jobs=2).fit(x).labels_),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dims", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-cluster-size", type=int, default=50)
    ap.add_argument("--min-samples", type=int, default=10)
    ap.add_argument("--skip", default="", help="comma-separated peers to leave out (e.g. sklearn for large runs)")
    a = ap.parse_args()
    x, _ = make_blobs(n_samples=a.rows, n_features=a.dims, centers=10, cluster_std=1.0, random_state=42)
    print(f"{a.rows:,} x {a.dims} blobs, min_cluster_size {a.min_cluster_size}, min_samples {a.min_samples} (point counted), {THREADS} threads")
    results = {}
    reference = None
    for name, fit in peers(a.min_cluster_size, a.min_samples):
        if any(s and s in name for s in a.skip.split(",")):
            continue
        labels = fit(x)  # warm-up on the same data
        times = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            labels = fit(x)
            times.append(time.perf_counter() - t)
        if reference is None:
            reference = labels
        results[name] = (min(times), adjusted_rand_score(reference, labels))
    base = results["outflow.HDBSCAN"][0]
    print(f"{'implementation':<26}{'best fit (s)':>14}{'× outflow':>12}{'ARI vs outflow':>16}")
    for name, (best, ari) in results.items():
        print(f"{name:<26}{best:>14.3f}{best / base:>12.2f}{ari:>16.4f}")


if __name__ == "__main__":
    main()
