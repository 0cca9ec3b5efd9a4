#!/usr/bin/env bash
# Silhouette side by side: outflow-validate (Rust, $THREADS threads) vs scikit-learn's silhouette_score
# (OpenBLAS / OpenMP limited to $THREADS threads) on the very same data, in the same run.
#
#   benches/scripts/validate_vs_sklearn.sh                 # 50,000 × 32, 8 clusters, 2 threads
#   ROWS=20000 COLS=16 THREADS=1 benches/scripts/validate_vs_sklearn.sh
#
# Both sides compute the exact silhouette over all pairs (no sampling). Times are the best of $REPEAT
# runs (scikit-learn: $SK_REPEAT, it is slow). Also prints both scores and their relative difference.
# PYTHON defaults to /work/venv/bin/python (the pinned environment of tools/reference/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-50000}
COLS=${COLS:-32}
CLUSTERS=${CLUSTERS:-8}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
SK_REPEAT=${SK_REPEAT:-1}
PYTHON=${PYTHON:-/work/venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p outflow-benches --bin silhouette_tool
target_dir=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/silhouette_tool"

# Flow-like data: overlapping blobs of different spreads, a heavy-tailed column block, 4 decimals.
"$PYTHON" - "$tmp" "$ROWS" "$COLS" "$CLUSTERS" <<'PY'
import sys
import numpy as np
tmp, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(2026)
centres = rng.normal(scale=4.0, size=(k, d))
labels = rng.integers(0, k, n)
spread = rng.uniform(0.5, 2.0, k)
x = centres[labels] + rng.normal(size=(n, d)) * spread[labels, None]
x[:, : d // 4] += rng.lognormal(sigma=1.0, size=(n, d // 4))
x = np.round(x, 4)
x.astype("<f8").tofile(f"{tmp}/x.f64")
labels.astype("<i8").tofile(f"{tmp}/y.i64")
PY

echo "== data: $ROWS rows × $COLS features, $CLUSTERS clusters; $THREADS threads on both sides"
RAYON_NUM_THREADS=$THREADS "$bin" "$tmp/x.f64" "$tmp/y.i64" "$ROWS" "$COLS" "$REPEAT" | tee "$tmp/rust.json"

OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS \
"$PYTHON" - "$tmp" "$ROWS" "$COLS" "$SK_REPEAT" <<'PY'
import json, sys, time
import numpy as np
import sklearn
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_info
tmp, n, d, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(f"{tmp}/x.f64", dtype="<f8").reshape(n, d)
y = np.fromfile(f"{tmp}/y.i64", dtype="<i8")
best, score = float("inf"), None
for _ in range(repeat):
    t = time.perf_counter()
    score = silhouette_score(x, y)
    best = min(best, time.perf_counter() - t)
rust = json.loads(open(f"{tmp}/rust.json").read())
blas = ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in threadpool_info())
print(f"scikit-learn {sklearn.__version__} silhouette_score ({blas}): {best:.3f} s  score {score!r}")
print(f"outflow-validate silhouette ({rust['threads']} threads):          {rust['seconds']:.3f} s  score {rust['score']!r}")
print(f"relative difference of the scores: {abs(score - rust['score']) / abs(score):.1e}")
print(f"speed-up: {best / rust['seconds']:.1f}x")
PY
