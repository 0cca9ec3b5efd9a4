#!/usr/bin/env bash
# Load test of `outflow serve` against 127.0.0.1 only, with wrk (Debian), and the same load against the
# FastAPI + hdbscan peer (serve_peer.py) in the same run. Single-flow POST /v1/score requests cycling
# through real flows of the built-in sample. Prints requests/s, latency percentiles and the ratio.
#
#   benches/scripts/serve_load.sh [DURATION_SECONDS=15] [CONNECTIONS=32]
#
# Needs: the release build of outflow (built here), wrk (installed with apt-get if missing), and for the
# peer a Python with hdbscan, fastapi and uvicorn (PYTHON=/path/to/python; default /work/venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-15}
CONN=${2:-32}
PY=${PYTHON:-/work/venv/bin/python}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null); }
cargo build --release -q -p outflow-cli
BIN=target/release/outflow
$BIN detect --quiet --out "$WORK/run"
MODEL=$(ls "$WORK"/run/outflow-model-*.json)

# Request bodies: 200 real flows of the sample as JSON objects (whole records).
"$PY" - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
fields, bodies = None, []
for line in open("examples/data/ctu-mixed-008.conn.log.labeled"):
    line = line.rstrip("\n")
    if line.startswith("#fields"):
        fields = line.split("\t")[1:]
        continue
    if line.startswith("#") or not fields:
        continue
    vals = line.split("\t")
    flow = {}
    for k, v in zip(fields, vals):
        if v == "-":
            continue
        if v in ("T", "F"):
            flow[k] = v == "T"
            continue
        try:
            flow[k] = int(v)
        except ValueError:
            try:
                flow[k] = float(v)
            except ValueError:
                flow[k] = v
    bodies.append(json.dumps(flow))
    if len(bodies) == 200:
        break
with open(f"{work}/bodies.lua", "w") as f:
    f.write("bodies = {\n" + ",\n".join("[==[" + b + "]==]" for b in bodies) + "\n}\n")
PY
cat > "$WORK/post.lua" <<LUA
dofile("$WORK/bodies.lua")
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/score", {["Content-Type"] = "application/json"}, bodies[i])
end
LUA

wait_up() { for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$1$2" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
load() {
  wrk -t1 -c"$CONN" -d"${DUR}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$1" > "$WORK/$2.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/$2.txt")
  p50=$(awk '/^ +50%/ {print $2}' "$WORK/$2.txt")
  p99=$(awk '/^ +99%/ {print $2}' "$WORK/$2.txt")
  local errs
  errs=$(awk '/Non-2xx/ {print $4}' "$WORK/$2.txt"); errs=${errs:-0}
  printf '%-34s %12s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$2" "$rps" "$p50" "$p99" "$errs"
  echo "$rps" > "$WORK/$2.rps"
}

echo "model: $MODEL; $CONN connections, ${DUR}s, wrk 1 thread; nproc $(nproc)"
$BIN serve "$MODEL" --addr 127.0.0.1:18080 --workers 2 2>"$WORK/serve.log" &
wait_up 18080 /healthz
load 18080 "outflow serve (2 workers)"
kill %1; wait %1 2>/dev/null || true

if "$PY" -c "import fastapi, uvicorn, hdbscan" 2>/dev/null; then
  (cd benches/scripts && MODEL="$MODEL" "$PY" -m uvicorn serve_peer:app --port 18081 --workers 2 --log-level warning) 2>"$WORK/peer.log" &
  wait_up 18081 /docs || { cat "$WORK/peer.log"; exit 1; }
  load 18081 "FastAPI + hdbscan (2 workers)"
  awk -v a="$(cat "$WORK/outflow serve (2 workers).rps")" -v b="$(cat "$WORK/FastAPI + hdbscan (2 workers).rps")" \
    'BEGIN { printf "ratio (outflow / FastAPI peer): %.1fx\n", a / b }'
else
  echo "peer skipped: $PY lacks fastapi/uvicorn/hdbscan"
fi
