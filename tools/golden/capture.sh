#!/usr/bin/env bash
# Runs every `outflow` command on fixed inputs and keeps what each writes, with the parts that change from
# run to run (timings, creation times, time-stamped file names) normalised, so two builds can be compared
# with `diff -r`. A refactoring that must not change behaviour should leave the two trees identical.
#
#   tools/golden/capture.sh OUT_DIR [OUTFLOW_BINARY] [EXTRA_LOG...]
#
# Inputs: the built-in sample log, data generated here, and any extra logs given (e.g. other Zeek, CIC or
# KDD logs; each gets detect + score + report). Needs jq.
set -euo pipefail

out="$1"
bin="${2:-target/debug/outflow}"
shift $(( $# >= 2 ? 2 : 1 ))
extra=("$@")
bin="$(realpath "$bin")"
mkdir -p "$out"
out="$(realpath "$out")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Timings and creation times vary between runs: blank them.
norm_json() { jq -S 'del(.timings_seconds) | (.. | objects | select(has("created"))).created = "-" ' "$1"; }
norm_model() {
    # Line 1 is the header (created time varies); line 2 is the body.
    head -n1 "$1" | jq -S '.created = "-"'
    tail -n +2 "$1"
}

run_dir() { # name, then detect arguments
    local name="$1"
    shift
    local d="$work/$name"
    "$bin" detect --quiet --out "$d" "$@" 2>"$out/$name.detect.stderr" || echo "exit $?" >>"$out/$name.detect.stderr"
    mkdir -p "$out/$name"
    if [ -d "$d" ]; then
        for f in scores.csv anomalies.csv sample.csv tuning.csv clusters.json; do
            [ -f "$d/$f" ] && cp "$d/$f" "$out/$name/$f"
        done
        [ -f "$d/summary.json" ] && norm_json "$d/summary.json" | jq 'del(.model_file)' >"$out/$name/summary.json"
        local model
        model="$(ls "$d"/outflow-model-*.json 2>/dev/null | head -n1 || true)"
        if [ -n "$model" ]; then
            norm_model "$model" >"$out/$name/model.json"
            cp "$model" "$work/$name.model.json"
        fi
        if "$bin" report --quiet --seed 7 "$d" 2>"$out/$name.report.stderr"; then
            sed -E 's/outflow-model-[0-9T]+Z\.json/outflow-model-X.json/g' "$d/report.html" >"$out/$name/report.html"
        fi
    fi
}

# The main job on the built-in sample, with and without options.
run_dir sample
run_dir sample-tuned --tune --tune-sample 600 --seed 3
run_dir sample-glosh --signals glosh,cluster_rarity,iforest --max-fit-rows 2000
run_dir sample-ssl --service ssl --min-cluster-size 20 --min-samples 5
i=0
for log in "${extra[@]}"; do
    i=$((i + 1))
    run_dir "extra$i" "$log"
done

# score with the sample model on the sample and on each extra log.
sample_log="$(dirname "$0")/../../examples/data/ctu-mixed-008.conn.log.labeled"
"$bin" score "$work/sample.model.json" "$sample_log" --out "$out/score-sample.csv" 2>"$out/score-sample.stderr" || true
i=0
for log in "${extra[@]}"; do
    i=$((i + 1))
    [ -f "$work/extra$i.model.json" ] && "$bin" score "$work/extra$i.model.json" "$log" --out "$out/score-extra$i.csv" \
        2>"$out/score-extra$i.stderr" || true
done

# Relative names inside the work directory, so outputs that echo their inputs do not vary.
cd "$work"
strip_times() { sed -E 's/"([a-z_]*seconds)": [0-9.e+-]+/"\1": 0/; s/\([0-9.]+s in total\)/(-s in total)/'; }

# Numeric features of the sample (from detect's sample.csv) for the matrix commands.
awk -F, 'NR <= 1501' "$work/sample/sample.csv" >"$work/sample-head.csv"
cut -d, -f6- "$work/sample-head.csv" >features.csv
cut -d, -f2 "$work/sample-head.csv" | sed '1s/.*/label/' >labels.csv
cut -d, -f2,4 "$work/sample-head.csv" | sed '1s/.*/label,outlier_score/' >scores.csv

"$bin" inspect --json >"$out/inspect.json" 2>&1 || true
"$bin" inspect >"$out/inspect.txt" 2>&1 || true
"$bin" eda --json >"$out/eda.json" 2>&1 || true
"$bin" eda >"$out/eda.txt" 2>&1 || true
for a in "hdbscan --min-cluster-size 15 --min-samples 5" "hdbscan --min-cluster-size 15 --selection leaf --metric manhattan" \
    "dbscan --eps auto" "dbscan --eps 0.5 --min-samples 4 --centroid-filter 90" "kmeans --k 5 --seed 2 --n-init 3" \
    "ward --k 4" "ward --k 4 --sample-size 500 --seed 1"; do
    tag="$(echo "$a" | tr ' .' '__')"
    # shellcheck disable=SC2086
    "$bin" cluster features.csv --algorithm $a --output "$out/cluster-$tag.csv" 2>"$work/err" ||
        cp "$work/err" "$out/cluster-$tag.err"
done
"$bin" validate features.csv labels.csv | jq "del(.seconds, .read_seconds)" >"$out/validate.json" 2>&1 || true
"$bin" tendency features.csv --k-max 6 --refs 3 --seed 1 2>&1 | strip_times >"$out/tendency.txt" || true
"$bin" compare features.csv -a "kmeans:k=4" -a "ward:k=4" -a "hdbscan:min_cluster_size=15" \
    -a "dbscan:eps=auto" -a "nope:k=1" --json | jq 'del(.algorithms[].fit_seconds, .algorithms[].index_seconds)' \
    2>&1 | strip_times >"$out/compare.json" || true
"$bin" explain features.csv labels.csv --scores scores.csv --trees 20 --seed 3 --json \
    --shap-out "$out/shap.csv" --export-forest "$out/forest.json" 2>&1 | strip_times >"$out/explain.json" || true
"$bin" explain features.csv labels.csv --trees 10 --seed 3 2>&1 | strip_times >"$out/explain.txt" || true
"$bin" benchmark --detectors iforest,lof,ecod,pca,glosh,fusion_rank --no-score-timing --json |
    jq 'del(.. | .fit_seconds?, .score_seconds?, .seconds?)' >"$out/benchmark.json" 2>&1 || true

# The service: answers to good and bad requests.
port=$((20000 + RANDOM % 20000))
"$bin" serve "$work/sample.model.json" --addr "127.0.0.1:$port" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 50); do curl -sf "127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
post() { # name, content type, body
    curl -s -o "$out/serve-$1.json" -w '%{http_code}\n' -H "content-type: $2" --data-binary "$3" \
        "127.0.0.1:$port/v1/score" >"$out/serve-$1.status"
}
post one application/json '{"duration":0.5,"orig_bytes":300,"resp_bytes":1200,"orig_pkts":4,"local_orig":true,"proto":"tcp"}'
post batch application/json '[{"duration":0.5,"orig_bytes":300,"resp_bytes":1200},{"duration":3600,"orig_bytes":90000000,"resp_bytes":12}]'
post ndjson application/x-ndjson $'{"duration":1,"orig_bytes":3}\n{"duration":2,"orig_bytes":5000000}\n'
post bad-json application/json '{"duration":'
post missing application/json '{"foo":1}'
post wrong-type application/json '{"duration":"long","orig_bytes":3}'
post huge application/json '{"duration":1e300,"orig_bytes":3}'
curl -s "127.0.0.1:$port/v1/model" | jq -S 'del(.path) | (.. | objects | select(has("created"))).created = "-"' >"$out/serve-model.json"
curl -s "127.0.0.1:$port/openapi.json" >"$out/serve-openapi.json"
kill "$pid"
wait "$pid" 2>/dev/null || true
echo "captured in $out"
