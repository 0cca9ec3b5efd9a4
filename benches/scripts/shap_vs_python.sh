#!/usr/bin/env bash
# TreeSHAP side by side: outflow-explain (Rust, $THREADS threads) vs the shap package's TreeExplainer on the
# very same forest, exported by Rust in shap's custom-tree JSON form, in the same run.
#
#   benches/scripts/shap_vs_python.sh            # 100 trees of depth 7, 10,000 rows × 30 features, 2 threads
#   ROWS=2000 TREES=20 benches/scripts/shap_vs_python.sh
#
# Times only the SHAP computation on both sides (best of $REPEAT; shap with check_additivity=False; shap's
# path-dependent C++ code runs on one thread). Also checks that both give the same values.
# PYTHON defaults to /work/venv/bin/python (the pinned environment of tools/reference/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-10000}
COLS=${COLS:-30}
TREES=${TREES:-100}
DEPTH=${DEPTH:-7}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
PYTHON=${PYTHON:-/work/venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p outflow-benches --bin shap_tool
target_dir=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/shap_tool"

# Flow-like data: heavy-tailed features, 4 "clusters" (noise = -1) from a rule with interactions.
"$PYTHON" - "$tmp/data.csv" "$ROWS" "$COLS" <<'PY'
import sys
import numpy as np
path, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(2024)
x = rng.lognormal(sigma=1.0, size=(n, m)) * rng.uniform(1, 1000, size=m)
s = np.log(x[:, 0]) - np.log(x[:, 1]) + 0.5 * np.log(x[:, 2]) * (x[:, 3] > np.median(x[:, 3]))
y = np.digitize(s + rng.normal(scale=0.5, size=n), np.quantile(s, [0.1, 0.5])) - 1
y[rng.random(n) < 0.03] = -1
with open(path, "w") as f:
    f.write(",".join([f"f{j}" for j in range(m)] + ["label"]) + "\n")
    for i in range(n):
        f.write(",".join([repr(float(v)) for v in x[i]] + [str(int(y[i]))]) + "\n")
PY

echo "== data: $ROWS rows × $COLS features; forest: $TREES trees, max depth $DEPTH (trained by outflow-explain)"
RAYON_NUM_THREADS=$THREADS "$bin" train "$tmp/data.csv" "$tmp/forest.json" --trees "$TREES" --max-depth "$DEPTH" \
    --seed 1 --balanced
RAYON_NUM_THREADS=$THREADS "$bin" shap "$tmp/forest.json" "$tmp/data.csv" --out "$tmp/rust.f64" \
    --repeat "$REPEAT" | tee "$tmp/rust.json"

"$PYTHON" - "$tmp" "$REPEAT" <<'PY'
import json, pathlib, sys, time
import numpy as np
import shap
tmp, repeat = pathlib.Path(sys.argv[1]), int(sys.argv[2])
ints = {"children_left", "children_right", "children_default", "features"}
keys = ["children_left", "children_right", "children_default", "features", "thresholds", "values", "node_sample_weight"]
j = json.loads((tmp / "forest.json").read_text())
model = {"trees": [{k: np.asarray(t[k], dtype=np.int32 if k in ints else np.float64) for k in keys} for t in j["trees"]]}
data = np.loadtxt(tmp / "data.csv", delimiter=",", skiprows=1)
x = np.ascontiguousarray(data[:, :-1])
ex = shap.TreeExplainer(model)
assert ex.feature_perturbation == "tree_path_dependent"
best = float("inf")
for _ in range(repeat):
    t = time.perf_counter()
    values = np.asarray(ex.shap_values(x, check_additivity=False))
    best = min(best, time.perf_counter() - t)
rust = json.loads((tmp / "rust.json").read_text())
ours = np.fromfile(tmp / "rust.f64", dtype="<f8").reshape(values.shape)
leaves = sum(int((np.asarray(t["children_left"]) < 0).sum()) for t in j["trees"])
print(f"shap {shap.__version__} TreeExplainer (1 thread): {best:.3f} s")
print(f"outflow-explain ({rust['threads']} threads):          {rust['seconds']:.3f} s")
print(f"leaves: {leaves} ({leaves / len(j['trees']):.1f} per tree); values {values.shape}")
print(f"max |Δ| between the two: {np.abs(values - ours).max():.2e}")
print(f"speed-up: {best / rust['seconds']:.1f}x")
PY
