#!/usr/bin/env bash
# Pearson correlation matrix side by side: outflow-prep (Rust, $THREADS threads) vs numpy.corrcoef and
# pandas.DataFrame.corr on the very same synthesized CSV, in the same run.
#
#   benches/scripts/prep_vs_numpy.sh                 # 371,621 rows × 70 columns (a typical preprocessed CICFlowMeter export)
#   ROWS=100000 COLS=40 benches/scripts/prep_vs_numpy.sh
#
# Times only the correlation on both sides, after each side has read the CSV (best over $REPEAT alternating
# rounds); prints the read times too, the ratios, and the largest difference between the matrices.
# PYTHON defaults to /work/venv/bin/python (the pinned environment of tools/reference/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-371621}
COLS=${COLS:-70}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-5}
PYTHON=${PYTHON:-/work/venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p outflow-benches --bin corr_tool
target_dir=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/corr_tool"

# Flow-like columns: heavy-tailed byte and packet counts, rates, durations, 0/1 flags driven by shared latent
# factors (so many pairs correlate), and one constant column (like the URG flag counters).
"$PYTHON" - "$tmp/flows.csv" "$ROWS" "$COLS" <<'PY'
import sys
import numpy as np
path, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(371621)
f = rng.standard_normal((n, 8))
cols = []
for j in range(m):
    a, b = f[:, j % 8], f[:, (3 * j + 1) % 8]
    e = rng.standard_normal(n)
    kind = j % 5
    if j == 13:
        c = np.zeros(n)
    elif kind == 0:
        c = np.round(np.exp(1.0 + np.abs(a) + 0.3 * e))
    elif kind == 1:
        c = np.round(np.exp(4.0 + 1.5 * a + 0.5 * e))
    elif kind == 2:
        c = np.round((a + 0.5 * b + 0.2 * e) * 1000.0, 3)
    elif kind == 3:
        c = (a + 0.3 * e > 1.0).astype(float)
    else:
        c = np.round(np.exp(b + 0.4 * e), 6)
    cols.append(c)
x = np.column_stack(cols)
np.savetxt(path, x, delimiter=",", fmt="%.17g", header=",".join(f"f{j}" for j in range(m)), comments="")
PY
size=$(du -h "$tmp/flows.csv" | cut -f1)
echo "== data: $ROWS rows × $COLS columns ($size CSV), $THREADS threads"

# Rounds alternate the two sides so that both see the same machine load (the runner may be shared); each
# side's figure is its best time over all rounds.
RAYON_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS \
"$PYTHON" - "$tmp" "$REPEAT" "$bin" <<'PY'
import json, pathlib, subprocess, sys, time, warnings
import numpy as np
import pandas as pd
tmp, repeat, binary = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
warnings.simplefilter("ignore", RuntimeWarning)  # the constant column: NaN, as in outflow-prep
t = time.perf_counter()
df = pd.read_csv(tmp / "flows.csv")
read = time.perf_counter() - t
x = df.to_numpy(dtype=np.float64)

def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out

np_times, pd_times, rust_runs = [], [], []
for _ in range(repeat):
    out = subprocess.run([binary, str(tmp / "flows.csv"), "--repeat", "3", "--out", str(tmp / "rust.f64")],
                         check=True, capture_output=True, text=True).stdout
    rust_runs.append(json.loads(out))
    s, r_np = timed(lambda: np.corrcoef(x, rowvar=False))
    np_times.append(s)
    s, _ = timed(lambda: df.corr().to_numpy())
    pd_times.append(s)
rust = min(rust_runs, key=lambda r: r["corr_seconds_best"])
r_rust = np.fromfile(tmp / "rust.f64", dtype="<f8").reshape(x.shape[1], x.shape[1])
both = ~np.isnan(r_np)
assert np.array_equal(both, ~np.isnan(r_rust)), "NaN pattern differs"
diff = np.max(np.abs(r_rust[both] - r_np[both]))
rs, np_s, pd_s = rust["corr_seconds_best"], min(np_times), min(pd_times)
print(f"outflow-prep correlation_matrix : {rs:8.3f} s   (read CSV {rust['read_seconds']:.2f} s, {rust['threads']} threads)")
print(f"numpy.corrcoef                  : {np_s:8.3f} s   (pandas read_csv {read:.2f} s)")
print(f"pandas.DataFrame.corr           : {pd_s:8.3f} s")
print(f"ratio numpy / outflow-prep      : {np_s / rs:8.2f}x")
print(f"ratio pandas / outflow-prep     : {pd_s / rs:8.2f}x")
print(f"max |r_rust - r_numpy|          : {diff:.2e}")
PY
