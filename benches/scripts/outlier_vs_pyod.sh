#!/usr/bin/env bash
# Outlier detectors side by side: outflow-outlier (Rust, $THREADS threads) vs PyOD 3.6.7 / scikit-learn 1.9.1
# ($THREADS threads: n_jobs, OMP / OpenBLAS / MKL / NUMBA threads) on the very same CSV, in the same run.
#
#   benches/scripts/outlier_vs_pyod.sh                       # KDD Cup 99 10 %, prepared as `outflow benchmark` does
#   DETECTORS="iforest lof knn" THREADS=2 REPEAT=3 benches/scripts/outlier_vs_pyod.sh
#   CSV=my_features.csv benches/scripts/outlier_vs_pyod.sh   # any numeric CSV with a header
#
# The default CSV is the KDD Cup 99 10 % file (../shared/data/kdd/kddcup.data_10_percent.gz) after
# outflow-prep's KDD preset with the attacks subsampled to 3 % (seed 7): 100,287 rows × 16 features, full of
# exact duplicates like real flow data. Times `fit` on both sides (training scores included: PyOD's
# `decision_scores_`), best of $REPEAT. Also compares the two sides' training scores.
# PYTHON defaults to /work/venv/bin/python (the pinned environment of tools/reference/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
DETECTORS=${DETECTORS:-"iforest lof"}
PYTHON=${PYTHON:-/work/venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
DATA=${DATA:-../shared/data/kdd/kddcup.data_10_percent.gz}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p outflow-benches --bin outlier_tool
target_dir=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/outlier_tool"

if [ -z "${CSV:-}" ]; then
    CSV="$tmp/features.csv"
    "$bin" prepare "$DATA" label negative normal. 0.03 7 "$CSV"
fi

export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS NUMBA_NUM_THREADS=$THREADS
for det in $DETECTORS; do
    RAYON_NUM_THREADS=$THREADS "$bin" time "$CSV" "$det" --repeat "$REPEAT" --seed 0 --out "$tmp/$det.f64" > "$tmp/$det.json"
done

"$PYTHON" - "$CSV" "$tmp" "$THREADS" "$REPEAT" $DETECTORS <<'PY'
import json, pathlib, sys, time
import numpy as np
import scipy.stats
import pyod, sklearn
from pyod.models.iforest import IForest
from pyod.models.knn import KNN
from pyod.models.lof import LOF
from pyod.models.ecod import ECOD
from pyod.models.copod import COPOD

csv, tmp, threads, repeat, dets = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
x = np.loadtxt(csv, delimiter=",", skiprows=1)
make = {
    "iforest": lambda: IForest(n_estimators=100, random_state=0, n_jobs=threads),
    "lof": lambda: LOF(n_neighbors=20, n_jobs=threads),
    "knn": lambda: KNN(n_neighbors=5, n_jobs=threads),
    "ecod": lambda: ECOD(),
    "copod": lambda: COPOD(),
}
print(f"data: {csv}: {x.shape[0]} rows × {x.shape[1]} features, {len(np.unique(x, axis=0))} distinct rows")
print(f"PyOD {pyod.__version__} / scikit-learn {sklearn.__version__} vs outflow-outlier, {threads} threads each, best of {repeat}")
print(f"{'detector':<10} {'PyOD s':>9} {'outflow s':>10} {'speed-up':>9}   agreement of the training scores")
for d in dets:
    rust = json.loads((tmp / f"{d}.json").read_text())
    ours = np.fromfile(tmp / f"{d}.f64", dtype="<f8")
    best = float("inf")
    for _ in range(repeat):
        m = make[d]()
        t = time.perf_counter()
        m.fit(x)
        best = min(best, time.perf_counter() - t)
    ref = m.decision_scores_
    if d == "iforest":
        # PyOD's decision_scores_ = -(score_samples - offset_); ours = -score_samples: compare ranks
        agree = f"Spearman {scipy.stats.spearmanr(ours, ref).statistic:.4f} (different random trees)"
    else:
        rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300)
        agree = f"max rel. diff {rel.max():.2e}, rows > 1e-9: {(rel > 1e-9).sum()}"
        if d == "knn":
            dup = ((rel > 1e-9) & (ours == 0) & (ref < 1e-6)).sum()
            agree += f" (of which {dup}: exact duplicates, 0 here, ~2e-7 in scikit-learn)"
    print(f"{d:<10} {best:9.3f} {rust['seconds']:10.3f} {best / rust['seconds']:8.1f}x   {agree}")
print("Score differences on this data are scikit-learn's: with more than 15 features its NearestNeighbors uses the")
print("brute-force |x|^2 - 2 x.y + |y|^2 expansion, which puts exact duplicates ~2e-7 apart instead of 0; LOF's")
print("1e-10 guard then turns those into very different densities. outflow-outlier's distances are exact.")
PY
