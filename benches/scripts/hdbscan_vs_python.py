"""Side by side on the same CSVs, 2 threads: `outflow cluster` (HDBSCAN, exact MST) against Python hdbscan
(defaults: approximate MST), fast_hdbscan and hdbscan-rs (a Rust HDBSCAN with a Python wheel, exact,
Outflow's min_samples convention), on Gaussian blobs (min_cluster_size 50, min_samples 10 — hdbscan's and
fast_hdbscan's own min_samples=9, since they do not count the point itself). Prints fit times,
whole-process times and the ratios, then the scattered shape of `hdbscan_scaling.py` (blobs of mixed
widths + 1 % uniform background noise, 8 dims) at 100,000, 300,000 and 1,000,000 rows against hdbscan-rs
alone (the fastest exact peer there; the Python ones take minutes at 300,000), then Outflow alone on
1,000,000 × 8 blobs (time and peak RSS).

    /work/venv/bin/python benches/scripts/hdbscan_vs_python.py [--skip-1m] [--skip-scattered]
        [--scattered-sizes 100000,300000,1000000] [--repeat N]

Needs numpy, scikit-learn (data), hdbscan, fast_hdbscan (+ pynndescent, used by fast_hdbscan above
30 dimensions) and hdbscan-rs 0.6.1 in the Python running it (all pinned in
`tools/reference/requirements.txt`; hdbscan-rs's rows are skipped with a notice when it is missing), and
builds the release `outflow` binary.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import make_blobs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = THREADS


def blobs(n, d, path):
    x, _ = make_blobs(n_samples=n, n_features=d, centers=10, cluster_std=1.0, random_state=42)
    np.savetxt(path, x, delimiter=",", header=",".join(f"f{i}" for i in range(d)), comments="", fmt="%.17g")
    return x


def run_outflow(path, out):
    t = time.perf_counter()
    p = subprocess.run(
        ["/usr/bin/time", "-f", "maxrss_kb %M", f"{ROOT}/target/release/outflow", "cluster", path, "--min-cluster-size", "50", "--min-samples", "10",
         "--threads", THREADS, "-o", out, "--force"],
        capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    fit = float(re.search(r"fit ([0-9.]+)s", p.stderr).group(1))
    rss = int(re.search(r"maxrss_kb (\d+)", p.stderr).group(1)) / 1024  # MiB
    clusters = int(re.search(r"(\d+) clusters", p.stderr).group(1))
    return fit, wall, rss, clusters


def timed(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-1m", action="store_true")
    ap.add_argument("--skip-scattered", action="store_true")
    ap.add_argument("--scattered-sizes", default="100000,300000,1000000")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "outflow-cli"], cwd=ROOT, check=True)
    import fast_hdbscan
    import hdbscan
    from sklearn.metrics import adjusted_rand_score

    try:
        import hdbscan_rs
    except ImportError:
        hdbscan_rs = None
        print("hdbscan-rs is not installed: its rows are skipped (pip install hdbscan-rs==0.6.1)")

    def run_rs(x, olabels):
        """hdbscan-rs on `x`: best fit time of `args.repeat` and the ARI against Outflow's labels."""
        times = []
        for _ in range(args.repeat):
            s, h = timed(lambda: hdbscan_rs.HDBSCAN(min_cluster_size=50, min_samples=10).fit(x))
            times.append(s)
        return min(times), h.labels_.max() + 1, adjusted_rand_score(olabels, h.labels_)

    tmp = tempfile.mkdtemp()
    print(f"{'data':>12} {'tool':<34} {'fit s':>8} {'process s':>10} {'clusters':>9}")
    for n, d in [(100_000, 8), (50_000, 32)]:
        path = f"{tmp}/blobs_{n}x{d}.csv"
        x = blobs(n, d, path)
        best_fit, best_wall = [], []
        for _ in range(args.repeat):
            fit, wall, _, k = run_outflow(path, f"{tmp}/out.csv")
            best_fit.append(fit)
            best_wall.append(wall)
        ofit, owall = min(best_fit), min(best_wall)
        print(f"{n}x{d:>3} {'outflow cluster (exact MST)':<34} {ofit:8.2f} {owall:10.2f} {k:9d}")
        peers = {}
        if hdbscan_rs is not None:
            olabels = np.loadtxt(f"{tmp}/out.csv", delimiter=",", skiprows=1, usecols=0)
            s, kr, ari = run_rs(x, olabels)
            peers["hdbscan-rs 0.6.1 (exact)"] = s
            print(f"{n}x{d:>3} {'hdbscan-rs 0.6.1 (exact)':<34} {s:8.2f} {'':>10} {kr:9d}   ARI {ari:.4f}")
        # Python hdbscan with its defaults (approximate MST), in process.
        s, h = timed(lambda: hdbscan.HDBSCAN(min_cluster_size=50, min_samples=9, core_dist_n_jobs=2).fit(x))
        peers["hdbscan 0.8.44 (default, approx MST)"] = s
        print(f"{n}x{d:>3} {'hdbscan 0.8.44 (default, approx MST)':<34} {s:8.2f} {'':>10} {h.labels_.max() + 1:9d}")
        # fast_hdbscan: first call includes numba compilation; the second is warm. Its min_samples counts
        # the other points only (core distance: the min_samples-th other neighbour), as hdbscan's does.
        s1, _ = timed(lambda: fast_hdbscan.HDBSCAN(min_cluster_size=50, min_samples=9).fit(x))
        s2, fh = timed(lambda: fast_hdbscan.HDBSCAN(min_cluster_size=50, min_samples=9).fit(x))
        approx = " (approx kNN)" if d > 30 else ""
        peers[f"fast_hdbscan 0.3.4 warm{approx}"] = s2
        print(f"{n}x{d:>3} {'fast_hdbscan 0.3.4 first call':<34} {s1:8.2f} {'':>10}")
        print(f"{n}x{d:>3} {('fast_hdbscan 0.3.4 warm' + approx):<34} {s2:8.2f} {'':>10} {fh.labels_.max() + 1:9d}")
        if d > 30:
            # Exact path of fast_hdbscan (kd-tree Borůvka), selected by passing unit sample weights.
            s3, fe = timed(lambda: fast_hdbscan.HDBSCAN(min_cluster_size=50, min_samples=9).fit(x, sample_weight=np.ones(n)))
            peers["fast_hdbscan 0.3.4 warm (exact)"] = s3
            print(f"{n}x{d:>3} {'fast_hdbscan 0.3.4 warm (exact)':<34} {s3:8.2f} {'':>10} {fe.labels_.max() + 1:9d}")
        fastest = min(peers, key=peers.get)
        print(f"{n}x{d:>3} ratio: Outflow fit is {peers[fastest] / ofit:.1f}x faster than the fastest peer ({fastest}); "
              f"{min(v for k, v in peers.items() if 'approx' not in k) / ofit:.1f}x faster than the fastest exact peer")
    if not args.skip_scattered and hdbscan_rs is not None:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from hdbscan_scaling import noisy_blobs

        for n in (int(v) for v in args.scattered_sizes.split(",")):
            path = f"{tmp}/scattered_{n}x8.csv"
            noisy_blobs(n, 8, 0, path)
            # Read back: the file holds the values rounded as Outflow reads them, so both fit the same array.
            x = np.loadtxt(path, delimiter=",", skiprows=1)
            ofit = min(run_outflow(path, f"{tmp}/out.csv")[0] for _ in range(args.repeat))
            olabels = np.loadtxt(f"{tmp}/out.csv", delimiter=",", skiprows=1, usecols=0)
            s, kr, ari = run_rs(x, olabels)
            print(f"{n}x  8 scattered {'outflow cluster (exact MST)':<34} {ofit:8.2f}")
            print(f"{n}x  8 scattered {'hdbscan-rs 0.6.1 (exact)':<34} {s:8.2f} {'':>10} {kr:9d}   ARI {ari:.4f}")
            print(f"{n}x  8 scattered ratio: Outflow fit is {s / ofit:.1f}x faster than hdbscan-rs")
    if not args.skip_1m:
        path = f"{tmp}/blobs_1000000x8.csv"
        blobs(1_000_000, 8, path)
        fit, wall, rss, k = run_outflow(path, f"{tmp}/out.csv")
        print(f"1000000x  8 {'outflow cluster (exact MST)':<34} {fit:8.2f} {wall:10.2f} {k:9d}   peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
