"""How Outflow's exact HDBSCAN grows with the number of rows on scattered data: Gaussian blobs of mixed
widths (12 centres drawn from N(0, 10²) per axis, standard deviations 0.5–2) holding 99 % of the rows and
1 % uniform background noise in [−30, 30] per axis, 8 dimensions, min_cluster_size 50, min_samples 10,
2 threads. Prints the core-distance and MST times of each size (the `stage_times` tool) and the exponents
between consecutive sizes (time ∝ n^e) of the MST and of both stages.

    python benches/scripts/hdbscan_scaling.py [--sizes 100000,300000,1000000,3000000] [--bin PATH] [--seed 0]

`--bin` times another build of `stage_times` (for a before / after comparison on the same files). Needs
numpy; builds the release `stage_times` tool unless `--bin` is given.
"""
import argparse
import math
import os
import re
import subprocess
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def noisy_blobs(n, d, seed, path):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (12, d))
    sds = rng.uniform(0.5, 2, 12)
    n_noise = n // 100
    label = rng.integers(0, 12, n - n_noise)
    x = centres[label] + rng.normal(0, 1, (n - n_noise, d)) * sds[label, None]
    x = np.vstack([x, rng.uniform(-30, 30, (n_noise, d))])
    rng.shuffle(x)
    np.savetxt(path, x, delimiter=",", fmt="%.6f", header=",".join(f"x{i}" for i in range(d)), comments="")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,300000,1000000,3000000")
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bin", default=None)
    args = ap.parse_args()
    tool = args.bin
    if tool is None:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "outflow-benches", "--bin", "stage_times"],
                       cwd=ROOT, check=True)
        tool = f"{ROOT}/target/release/stage_times"
    env = dict(os.environ, RAYON_NUM_THREADS="2")
    print(f"{'rows':>10} {'core s':>8} {'MST s':>8} {'core+MST s':>11} {'e (MST)':>8} {'e (both)':>9}")
    prev = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = os.path.join(tmp, f"noisy_{n}.csv")
            noisy_blobs(n, args.dim, args.seed, path)
            cmd = [tool, path, "50", "10", "core,mst"]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
            core = float(re.search(r"core distances: ([\d.]+)s", out).group(1))
            both = float(re.search(r"core \+ MST: ([\d.]+)s", out).group(1))
            mst = both - core
            e = (lambda t, t0: f"{math.log(t / t0) / math.log(n / prev[0]):.2f}") if prev else (lambda t, t0: "")
            print(f"{n:>10} {core:>8.2f} {mst:>8.2f} {both:>11.2f} {e(mst, prev and prev[2]):>8} "
                  f"{e(both, prev and prev[1]):>9}", flush=True)
            prev = (n, both, mst)
            os.remove(path)


if __name__ == "__main__":
    main()
