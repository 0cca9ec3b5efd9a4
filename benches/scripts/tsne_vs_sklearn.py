#!/usr/bin/env python3
"""t-SNE side by side: `outflow embed --method tsne` against scikit-learn's TSNE (both with scikit-learn's
defaults: 2 components, perplexity 30, PCA start, learning rate auto, 1000 iterations, angle 0.5) on the
same CSV in the same run; time of each (whole process for Outflow, fit for scikit-learn) and the
trustworthiness of both maps by scikit-learn's `trustworthiness` (5 and 10 neighbours).

    cargo build --release -p outflow-cli
    python benches/scripts/tsne_vs_sklearn.py [--csv FILE.csv ...] [--blobs 5000,20000] [--bin target/release/outflow]

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
from embed_data import blobs, read_numeric
from sklearn.manifold import TSNE, trustworthiness

def run(name, x, binary):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "x.csv"), os.path.join(d, "map.csv")
        pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])]).to_csv(src, index=False)
        t = time.perf_counter()
        subprocess.run([binary, "embed", src, "-o", dst], check=True, capture_output=True)
        ours_s = time.perf_counter() - t
        ours = pd.read_csv(dst).to_numpy()
    t = time.perf_counter()
    theirs = TSNE(random_state=0).fit_transform(x)
    sk_s = time.perf_counter() - t
    tw = {k: (trustworthiness(x, ours, n_neighbors=k), trustworthiness(x, theirs, n_neighbors=k)) for k in (5, 10)}
    print(f"| {name} | {x.shape[0]:,} × {x.shape[1]} | {ours_s:.2f} s | {sk_s:.2f} s | {sk_s / ours_s:.1f}× | "
          f"{tw[5][0]:.4f} / {tw[5][1]:.4f} | {tw[10][0]:.4f} / {tw[10][1]:.4f} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", action="append", default=[])
    ap.add_argument("--blobs", default="5000,20000")
    ap.add_argument("--bin", default="target/release/outflow")
    a = ap.parse_args()
    print("| data | rows × features | Outflow | scikit-learn | ratio | trustworthiness k=5 (Outflow / scikit-learn) | k=10 |")
    print("|---|---|---|---|---|---|---|")
    for n in [int(v) for v in a.blobs.split(",") if v]:
        run("blobs + 1 % noise", blobs(n), a.bin)
    for path in a.csv:
        run(os.path.basename(path), read_numeric(path), a.bin)

if __name__ == "__main__":
    main()
