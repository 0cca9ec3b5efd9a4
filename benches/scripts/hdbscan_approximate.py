"""Approximate neighbours side by side, 2 threads: `outflow cluster --neighbors approximate` against
fast_hdbscan's default above 30 dimensions (a pynndescent k-NN graph, Kruskal on it) on the same CSV,
in the same run, with Outflow's exact fit as the reference partition (ARI of each against it).

Data: the shape of `hdbscan_scaling.py` — 12 Gaussian blobs of mixed widths (centres N(0, 10²) per axis,
standard deviations 0.5–2) with 1 % uniform background noise in [−30, 30] per axis.
fast_hdbscan is warmed up (its numba functions compiled) on the same file before it is timed.

    /tmp/ref/bin/python benches/scripts/hdbscan_approximate.py [--rows 50000] [--dims 32,64] [--repeat 2]

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


def outflow(path, out, neighbors, seed=0):
    t = time.perf_counter()
    p = subprocess.run(
        [f"{ROOT}/target/release/outflow", "cluster", path, "--min-cluster-size", str(MCS), "--min-samples", str(MS),
         "--neighbors", neighbors, "--seed", str(seed), "--threads", THREADS, "-o", out, "--force"],
        capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    fit = float(re.search(r"fit ([0-9.]+)s", p.stderr).group(1))
    recall = re.search(r"neighbour recall ([0-9.]+)", p.stderr)
    labels = np.loadtxt(out, delimiter=",", skiprows=1, usecols=0, dtype=np.int64, ndmin=1)
    return fit, wall, (float(recall.group(1)) if recall else None), labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--dims", default="32,64")
    ap.add_argument("--repeat", type=int, default=2)
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
            exact_fit, exact_wall, _, exact = outflow(path, out, "exact")
            fast_hdbscan.HDBSCAN(min_cluster_size=MCS, min_samples=MS).fit(x)  # compiles numba on this data
            for r in range(args.repeat):
                fit, wall, recall, approx = outflow(path, out, "approximate")
                t = time.perf_counter()
                fh = fast_hdbscan.HDBSCAN(min_cluster_size=MCS, min_samples=MS).fit(x).labels_
                fh_s = time.perf_counter() - t
                print(f"{args.rows} x {d} run {r + 1}: outflow approximate fit {fit:.3f}s (process {wall:.3f}s, "
                      f"recall {recall}, ARI vs exact {ari(exact, approx):.4f}); fast_hdbscan {fh_s:.3f}s "
                      f"(ARI vs outflow exact {ari(exact, fh):.4f}); outflow exact fit {exact_fit:.3f}s; "
                      f"fast_hdbscan / outflow approximate = {fh_s / fit:.2f}x (fit), {fh_s / wall:.2f}x (process)",
                      flush=True)


if __name__ == "__main__":
    main()
