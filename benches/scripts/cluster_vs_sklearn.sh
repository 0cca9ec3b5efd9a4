#!/usr/bin/env bash
# DBSCAN, k-means and Ward side by side: the release `outflow cluster` binary ($THREADS threads) against
# scikit-learn (OpenMP / BLAS limited to $THREADS threads) on the very same CSV files, in the same run.
#
#   benches/scripts/cluster_vs_sklearn.sh                 # the issue's sizes (below), 2 threads
#   SCALE=0.1 benches/scripts/cluster_vs_sklearn.sh       # a tenth of the rows, for a quick look
#   ONLY=kmeans benches/scripts/cluster_vs_sklearn.sh     # one of kmeans, dbscan, ward
#
# Data (sklearn.datasets.make_blobs, written with 6 decimals, read back by both sides):
#   k-means  371,621 × 33, 8 blobs (std 1)   KMeans(n_clusters=8, n_init=10)      outflow --k 8 --n-init 10
#   DBSCAN   100,000 × 8, 10 blobs (std 1)   DBSCAN(eps, min_samples=5)           outflow --eps E --min-samples 5
#            eps = the auto-eps heuristic (median + 0.5·std of the 4th-neighbour distances, computed by
#            scikit-learn); a second line times `--eps auto` against NearestNeighbors + DBSCAN.
#   Ward     20,000 × 8, 10 blobs (std 1)    AgglomerativeClustering(8, linkage="ward")   outflow --k 8
#
# Times: outflow's own "fit" figure (parsing the CSV is not included: it is printed separately), and the
# scikit-learn `fit` call (the CSV is parsed beforehand); best of $REPEAT runs for both. Also reports how
# the results agree: DBSCAN labels must be identical; k-means (different random streams) and Ward are
# compared by the adjusted Rand index and inertia.
# PYTHON defaults to /work/venv/bin/python (the pinned environment of tools/reference/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS=${THREADS:-2}
REPEAT=${REPEAT:-1}
SCALE=${SCALE:-1}
ONLY=${ONLY:-all}
PYTHON=${PYTHON:-/work/venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p outflow-cli
target_dir=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/outflow"

"$PYTHON" - "$tmp" "$SCALE" <<'PY'
import sys
import numpy as np
from sklearn.datasets import make_blobs
tmp, scale = sys.argv[1], float(sys.argv[2])
def save(name, n, d, centers):
    x, _ = make_blobs(n_samples=int(n * scale), n_features=d, centers=centers, cluster_std=1.0, random_state=0)
    with open(f"{tmp}/{name}.csv", "w") as f:
        f.write(",".join(f"f{j}" for j in range(d)) + "\n")
        np.savetxt(f, x, delimiter=",", fmt="%.6f")
save("kmeans", 371_621, 33, 8)
save("dbscan", 100_000, 8, 10)
save("ward", 20_000, 8, 10)
PY

# outflow: best "fit" seconds of $REPEAT runs; the stderr summary of the last one is kept.
run_outflow() {
    local name=$1; shift
    local best=""
    for _ in $(seq "$REPEAT"); do
        "$bin" cluster "$tmp/$name.csv" --threads "$THREADS" -o "$tmp/$name.out" --force "$@" 2> "$tmp/$name.log"
        local s
        s=$(sed -n 's/.*fit \([0-9.]*\)s.*/\1/p' "$tmp/$name.log")
        best=$("$PYTHON" -c "print(min(x for x in [$s, ${best:-$s}]))")
    done
    echo "$best" > "$tmp/$name.time"
    echo "  outflow: $(cat "$tmp/$name.log")"
}

if [ "$ONLY" = all ] || [ "$ONLY" = kmeans ]; then
    echo "== k-means, k = 8, n_init = 10 ($(($(wc -l < "$tmp/kmeans.csv") - 1)) rows × 33)"
    run_outflow kmeans --algorithm kmeans --k 8 --n-init 10 --seed 0
fi
if [ "$ONLY" = all ] || [ "$ONLY" = dbscan ]; then
    eps=$("$PYTHON" - "$tmp/dbscan.csv" <<'PY'
import sys
import numpy as np
from sklearn.neighbors import NearestNeighbors
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
d = NearestNeighbors(n_neighbors=4).fit(x).kneighbors(x)[0][:, 3]
print(repr(float(np.median(d) + 0.5 * np.std(d))))
PY
)
    echo "$eps" > "$tmp/eps"
    echo "== DBSCAN, min_samples = 5, eps = $eps ($(($(wc -l < "$tmp/dbscan.csv") - 1)) rows × 8)"
    run_outflow dbscan --algorithm dbscan --eps "$eps" --min-samples 5
    cp "$tmp/dbscan.csv" "$tmp/dbscan_auto.csv"
    run_outflow dbscan_auto --algorithm dbscan --eps auto --min-samples 5
fi
if [ "$ONLY" = all ] || [ "$ONLY" = ward ]; then
    echo "== Ward, k = 8 ($(($(wc -l < "$tmp/ward.csv") - 1)) rows × 8)"
    run_outflow ward --algorithm ward --k 8
fi

"$PYTHON" - "$tmp" "$REPEAT" "$ONLY" "$THREADS" <<'PY'
import os, pathlib, re, sys, time
import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

tmp, repeat, only, threads = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
read = lambda name: np.loadtxt(tmp / f"{name}.csv", delimiter=",", skiprows=1)  # correctly rounded
ours = lambda name: pd.read_csv(tmp / f"{name}.out")
ours_time = lambda name: float((tmp / f"{name}.time").read_text())

def best(fit):
    t_best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fit()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, out

rows = []
with threadpool_limits(limits=threads):
    if only in ("all", "kmeans"):
        x = read("kmeans")
        t, km = best(lambda: KMeans(n_clusters=8, n_init=10, random_state=0).fit(x))
        o = ours("kmeans")
        inertia = float((o["distance"] ** 2).sum())
        rows.append(("k-means k=8 n_init=10", x.shape, ours_time("kmeans"), t,
                     f"ARI {adjusted_rand_score(km.labels_, o['label']):.6f}; inertia outflow {inertia:.6e} "
                     f"sklearn {km.inertia_:.6e}"))
    if only in ("all", "dbscan"):
        x = read("dbscan")
        eps = float((tmp / "eps").read_text())
        t, db = best(lambda: DBSCAN(eps=eps, min_samples=5).fit(x))
        o = ours("dbscan")
        same = np.array_equal(db.labels_, o["label"].to_numpy())
        rows.append(("DBSCAN eps given", x.shape, ours_time("dbscan"), t,
                     f"labels identical: {same}; {db.labels_.max() + 1} clusters, "
                     f"{(db.labels_ < 0).mean():.1%} noise"))
        def auto():
            d = NearestNeighbors(n_neighbors=4).fit(x).kneighbors(x)[0][:, 3]
            return DBSCAN(eps=float(np.median(d) + 0.5 * np.std(d)), min_samples=5).fit(x)
        t, db = best(auto)
        o = ours("dbscan_auto")
        m = re.search(r"eps ([0-9.e+-]+)", (tmp / "dbscan_auto.log").read_text())
        same = np.array_equal(db.labels_, o["label"].to_numpy())
        rows.append(("DBSCAN eps auto (kNN + DBSCAN)", x.shape, ours_time("dbscan_auto"), t,
                     f"labels identical: {same}; eps outflow {m.group(1)} sklearn {eps!r}"))
    if only in ("all", "ward"):
        x = read("ward")
        t, w = best(lambda: AgglomerativeClustering(n_clusters=8, linkage="ward").fit(x))
        o = ours("ward")
        rows.append(("Ward k=8", x.shape, ours_time("ward"), t,
                     f"ARI {adjusted_rand_score(w.labels_, o['label']):.6f}"))

print(f"\nscikit-learn {sklearn.__version__}, {threads} threads (OMP/OpenBLAS); outflow --threads {threads}; "
      f"best of {repeat}; fit only (CSV parsing excluded on both sides)")
print(f"{'what':32} {'rows × cols':>14} {'outflow s':>10} {'sklearn s':>10} {'speed-up':>9}  agreement")
for what, shape, a, b, agree in rows:
    print(f"{what:32} {shape[0]:>8,} × {shape[1]:<3} {a:>10.3f} {b:>10.3f} {b / a:>8.1f}x  {agree}")
PY
