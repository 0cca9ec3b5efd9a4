"""Approximate neighbours side by side, 2 threads: `outflow cluster --neighbors approximate` against
fast_hdbscan's default above 30 dimensions (a pynndescent k-NN graph, Kruskal on it) on the same CSV,
in the same run, with Outflow's exact fit as the reference partition (ARI of each against it).
With `--dbscan`, DBSCAN as well: Outflow's exact and approximate fits and scikit-learn's `DBSCAN`
(`n_jobs=2`), all at the radius Outflow's exact fit chose by its k-NN rule (min_samples 10).

Data: the shape of `hdbscan_scaling.py` — 12 Gaussian blobs of mixed widths (centres N(0, 10²) per axis,
standard deviations 0.5–2) with 1 % uniform background noise in [−30, 30] per axis.
fast_hdbscan is warmed up (its numba functions compiled) on the same file before it is timed.

    /tmp/ref/bin/python benches/scripts/hdbscan_approximate.py [--rows 50000] [--dims 32,64] [--repeat 2] [--dbscan]

Needs numpy, scikit-learn (ARI), fast_hdbscan and pynndescent; builds the release `outflow` binary.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = THREADS
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hdbscan_scaling import noisy_blobs  # noqa: E402

MCS, MS = 50, 10


def outflow(path, out, neighbors, seed=0, algorithm=("--min-cluster-size", str(MCS))):
    t = time.perf_counter()
    p = subprocess.run(
        [f"{ROOT}/target/release/outflow", "cluster", path, *algorithm, "--min-samples", str(MS),
         "--neighbors", neighbors, "--seed", str(seed), "--threads", THREADS, "-o", out, "--force"],
        capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    fit = float(re.search(r"fit ([0-9.]+)s", p.stderr).group(1))
    recall = re.search(r"neighbour recall ([0-9.]+)", p.stderr)
    labels = np.loadtxt(out, delimiter=",", skiprows=1, usecols=0, dtype=np.int64, ndmin=1)
    eps = re.search(r"eps ([0-9.eE+-]+)", p.stderr)
    return fit, wall, (float(recall.group(1)) if recall else None), labels, (eps.group(1) if eps else None)


def dbscan(path, x, out, repeat, rows, d):
    """Outflow's DBSCAN, exact and approximate, and scikit-learn's at Outflow's automatic radius."""
    from sklearn.cluster import DBSCAN
    from sklearn.metrics import adjusted_rand_score as ari

    exact_fit, _, _, exact, eps = outflow(path, out, "exact", algorithm=("--algorithm", "dbscan"))
    given = ("--algorithm", "dbscan", "--eps", eps)
    for r in range(repeat):
        fit, wall, recall, approx, _ = outflow(path, out, "approximate", algorithm=given)
        t = time.perf_counter()
        sk = DBSCAN(eps=float(eps), min_samples=MS, n_jobs=int(THREADS)).fit(x).labels_
        sk_s = time.perf_counter() - t
        given_fit, _, _, given_exact, _ = outflow(path, out, "exact", algorithm=given)
        print(f"DBSCAN {rows} x {d} run {r + 1} (eps {eps}, {exact.max() + 1} clusters): outflow approximate fit "
              f"{fit:.3f}s (process {wall:.3f}s, recall {recall}, ARI vs exact {ari(given_exact, approx):.4f}); "
              f"outflow exact fit {given_fit:.3f}s (with the radius search {exact_fit:.3f}s); scikit-learn "
              f"{sk_s:.3f}s (ARI vs outflow exact {ari(given_exact, sk):.4f}); scikit-learn / outflow approximate "
              f"= {sk_s / fit:.1f}x (fit), {sk_s / wall:.1f}x (process); exact / approximate = {given_fit / fit:.1f}x",
              flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--dims", default="32,64")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dbscan", action="store_true")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "outflow-cli"], cwd=ROOT, check=True)
    import fast_hdbscan
    from sklearn.metrics import adjusted_rand_score as ari

    with tempfile.TemporaryDirectory() as tmp:
        for d in [int(v) for v in args.dims.split(",")]:
            path = os.path.join(tmp, f"blobs-{d}.csv")
            noisy_blobs(args.rows, d, 7, path)
            x = np.loadtxt(path, delimiter=",", skiprows=1)
            out = os.path.join(tmp, "labels.csv")
            if args.dbscan:
                dbscan(path, x, out, args.repeat, args.rows, d)
            exact_fit, exact_wall, _, exact, _ = outflow(path, out, "exact")
            # fast_hdbscan's min_samples counts the other points only (Outflow's counts the point itself).
            fast_hdbscan.HDBSCAN(min_cluster_size=MCS, min_samples=MS - 1).fit(x)  # compiles numba on this data
            for r in range(args.repeat):
                fit, wall, recall, approx, _ = outflow(path, out, "approximate")
                t = time.perf_counter()
                fh = fast_hdbscan.HDBSCAN(min_cluster_size=MCS, min_samples=MS - 1).fit(x).labels_
                fh_s = time.perf_counter() - t
                print(f"{args.rows} x {d} run {r + 1}: outflow approximate fit {fit:.3f}s (process {wall:.3f}s, "
                      f"recall {recall}, ARI vs exact {ari(exact, approx):.4f}); fast_hdbscan {fh_s:.3f}s "
                      f"(ARI vs outflow exact {ari(exact, fh):.4f}); outflow exact fit {exact_fit:.3f}s; "
                      f"fast_hdbscan / outflow approximate = {fh_s / fit:.2f}x (fit), {fh_s / wall:.2f}x (process)",
                      flush=True)


if __name__ == "__main__":
    main()
