#!/usr/bin/env bash
# Host and pair aggregation side by side: outflow-aggregate (Rust) vs the same aggregates in pandas
# (groupby per host / pair and hour: counts, sums, distinct peers and ports, failed share, median
# interval between a pair's connections), on the very same generated flow CSV, in the same run.
#
#   benches/scripts/aggregate_vs_pandas.sh              # 2,000,000 flows, 5,000 hosts
#   ROWS=500000 benches/scripts/aggregate_vs_pandas.sh
#
# Both sides read the CSV and aggregate; the printed times are read + aggregate and aggregate alone.
# The 10-million-flow figure of the README is `aggregate_tool 10000000` (in memory, no CSV).
# PYTHON defaults to /work/venv/bin/python (pandas pinned in ../shared/python-reference.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-2000000}
HOSTS=${HOSTS:-5000}
PYTHON=${PYTHON:-/work/venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release -q -p outflow-benches --bin aggregate_tool
target_dir=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/release/aggregate_tool" "$ROWS" "$HOSTS" "$tmp/flows.csv" | tee "$tmp/outflow.txt"

"$PYTHON" - "$tmp/flows.csv" <<'PY' | tee "$tmp/pandas.txt"
import sys, time
import numpy as np
import pandas as pd
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1])
t1 = time.perf_counter()
df["w"] = np.floor(df["ts"] / 3600).astype("int64")
df["failed"] = df["conn_state"].isin(["S0", "REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR"])
out = df.groupby(["id.orig_h", "w"]).agg(
    flows_out=("ts", "size"), bytes_out=("orig_bytes", "sum"), bytes_in=("resp_bytes", "sum"),
    distinct_dsts=("id.resp_h", "nunique"), distinct_dst_ports=("id.resp_p", "nunique"),
    failed_out_fraction=("failed", "mean"), duration_total=("duration", "sum"))
inn = df.groupby(["id.resp_h", "w"]).agg(
    flows_in=("ts", "size"), distinct_srcs=("id.orig_h", "nunique"), failed_in_fraction=("failed", "mean"))
out.index.names = ["host", "w"]
inn.index.names = ["host", "w"]
hosts = out.join(inn, how="outer")
pairs = df.groupby(["id.orig_h", "id.resp_h", "w"]).agg(
    flows=("ts", "size"), bytes_out=("orig_bytes", "sum"), bytes_in=("resp_bytes", "sum"),
    distinct_dst_ports=("id.resp_p", "nunique"), failed_fraction=("failed", "mean"))
s = df.sort_values(["id.orig_h", "id.resp_h", "w", "ts"])
s["gap"] = s.groupby(["id.orig_h", "id.resp_h", "w"])["ts"].diff()
pairs["interval_median"] = s.groupby(["id.orig_h", "id.resp_h", "w"])["gap"].median()
t2 = time.perf_counter()
print(f"pandas {pd.__version__}: read CSV {t1 - t0:.3f} s + aggregate {t2 - t1:.3f} s = {t2 - t0:.3f} s "
      f"({len(hosts)} host rows, {len(pairs)} pair rows)")
PY

"$PYTHON" - "$tmp/outflow.txt" "$tmp/pandas.txt" <<'PY'
import re, sys
o = open(sys.argv[1]).read(); p = open(sys.argv[2]).read()
ot = float(re.search(r"= ([0-9.]+) s", o).group(1)); pt = float(re.search(r"= ([0-9.]+) s", p).group(1))
oa = float(re.search(r"\+ aggregate ([0-9.]+) s", o).group(1)); pa = float(re.search(r"aggregate ([0-9.]+) s =", p).group(1))
print(f"read + aggregate: pandas / outflow = {pt / ot:.1f}x; aggregate alone: {pa / oa:.1f}x")
PY
