#!/usr/bin/env python3
"""UMAP side by side: `outflow embed --method umap` against umap-learn 0.5.12's UMAP, both with umap-learn's
defaults (2 components, 15 neighbours, min_dist 0.1, spectral start, 500 epochs up to 10,000 rows and 200
above), on the same CSV in the same run. Times: the whole Outflow process (read, fit, write) against
umap-learn's fit alone, seeded (random_state=0: umap-learn then runs its layout on one thread, as Outflow's
is deterministic) and unseeded (its parallel, non-deterministic layout). umap-learn's numba functions are
compiled by a first, untimed fit on the same data. Quality: scikit-learn's `trustworthiness` of each map
(5 and 10 neighbours).

    cargo build --release -p outflow-cli
    python benches/scripts/umap_vs_umap_learn.py [--csv FILE.csv ...] [--blobs 5000,20000] [--bin target/release/outflow]

A `--csv` file is read as numeric columns; a column named `__label` (detection_quality's --dump-prepared)
is dropped. `--blobs N` writes N rows of 10-dimensional Gaussian blobs of mixed widths with 1 % uniform
background noise. Trustworthiness is exact (O(n²) memory in scikit-learn): files above 20,000 rows are
subsampled to 20,000 rows first (seeded), for both.
"""
import argparse
import os
import subprocess
import tempfile
import time

import pandas as pd
import umap
from embed_data import blobs, read_numeric
from sklearn.manifold import trustworthiness

def run(name, x, binary):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "x.csv"), os.path.join(d, "map.csv")
        pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])]).to_csv(src, index=False)
        t = time.perf_counter()
        subprocess.run([binary, "embed", src, "--method", "umap", "-o", dst], check=True, capture_output=True)
        ours_s = time.perf_counter() - t
        ours = pd.read_csv(dst).to_numpy()
    umap.UMAP(random_state=0).fit(x)  # numba compilation, untimed
    t = time.perf_counter()
    theirs = umap.UMAP(random_state=0).fit_transform(x)
    seeded_s = time.perf_counter() - t
    t = time.perf_counter()
    umap.UMAP().fit_transform(x)
    parallel_s = time.perf_counter() - t
    tw = {k: (trustworthiness(x, ours, n_neighbors=k), trustworthiness(x, theirs, n_neighbors=k)) for k in (5, 10)}
    print(f"| {name} | {x.shape[0]:,} × {x.shape[1]} | {ours_s:.2f} s | {seeded_s:.2f} s ({seeded_s / ours_s:.1f}×) | "
          f"{parallel_s:.2f} s ({parallel_s / ours_s:.1f}×) | "
          f"{tw[5][0]:.4f} / {tw[5][1]:.4f} | {tw[10][0]:.4f} / {tw[10][1]:.4f} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", action="append", default=[])
    ap.add_argument("--blobs", default="5000,20000")
    ap.add_argument("--bin", default="target/release/outflow")
    a = ap.parse_args()
    print("| data | rows × features | Outflow | umap-learn seeded (ratio) | umap-learn parallel (ratio) | "
          "trustworthiness k=5 (Outflow / umap-learn) | k=10 |")
    print("|---|---|---|---|---|---|---|")
    for n in [int(v) for v in a.blobs.split(",") if v]:
        run("blobs + 1 % noise", blobs(n), a.bin)
    for path in a.csv:
        run(os.path.basename(path), read_numeric(path), a.bin)

if __name__ == "__main__":
    main()
