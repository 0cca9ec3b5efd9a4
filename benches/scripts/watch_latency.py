#!/usr/bin/env python3
"""Latency and throughput of `outflow watch` on a Zeek conn log that a writer appends to at fixed rates.

    cargo build --release -p outflow-cli
    python3 benches/scripts/watch_latency.py                       # 10k, 25k and 50k flows/s, 20 s each
    python3 benches/scripts/watch_latency.py --rates 50000 --seconds 60

A simulated day (`outflow simulate`) is fitted once (`outflow detect`). For each rate, a fresh conn.log
gets the simulated records again and again, in chunks every 10 ms, each record's `ts` set to the time it
is written; `outflow watch MODEL conn.log --alerts - --min-severity severe` follows it. The latency of
an alert is the time it is read from the watch's standard output minus the `ts` it carries (the time its
line was written); p50 / p99 over all alerts. Sustained throughput is the flows written per second when
the watch kept up (its flows_read, from --metrics, reached every written flow within 2 s of the end).
The last figures are the most the watch can take: about a million flows already written, followed from
the start of the file, and piped through standard input at full speed.

Standard library only; the outflow binary defaults to target/release/outflow.
"""

import argparse
import calendar
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def epoch_of(text):
    # "2026-12-03T17:00:00.123Z" → epoch seconds (UTC).
    whole, frac = text.rstrip("Z").split(".")
    t = time.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) + float("0." + frac)


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outflow", default="target/release/outflow")
    ap.add_argument("--rates", default="10000,25000,50000")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--threads", default="0")
    args = ap.parse_args()
    exe = os.path.abspath(args.outflow)
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: cargo build --release -p outflow-cli")

    tmp = tempfile.mkdtemp(prefix="watch-latency-")
    sim = os.path.join(tmp, "sim.log")
    subprocess.run([exe, "simulate", "--hours", "24", "--hosts", "50", "-o", sim], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = os.path.join(tmp, "run")
    subprocess.run([exe, "detect", sim, "--quiet", "--out", run], check=True, stdout=subprocess.DEVNULL)
    model = next(os.path.join(run, f) for f in os.listdir(run) if f.startswith("outflow-model-"))
    header, records = [], []
    with open(sim) as f:
        for line in f:
            (header if line.startswith("#") else records).append(line)
    rests = [r.split("\t", 1)[1] for r in records]
    print(f"log: {len(records)} simulated flows, replayed in a loop; model {os.path.basename(model)}")
    print(f"{'rate (flows/s)':>15} {'written':>9} {'alerts':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} kept up")

    for rate in [int(r) for r in args.rates.split(",")]:
        log = os.path.join(tmp, f"conn-{rate}.log")
        metrics = os.path.join(tmp, f"metrics-{rate}.json")
        with open(log, "w") as f:
            f.writelines(header)
        proc = subprocess.Popen(
            [exe, "watch", model, log, "--alerts", "-", "--min-severity", "severe", "--metrics", metrics,
             "--threads", args.threads],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=1 << 16)
        latencies = []

        def read_alerts():
            for line in proc.stdout:
                now = time.time()
                doc = json.loads(line)
                latencies.append(now - epoch_of(doc["@timestamp"]))

        reader = threading.Thread(target=read_alerts, daemon=True)
        reader.start()
        time.sleep(0.5)
        per_tick = rate / 100.0
        written, owed, i = 0, 0.0, 0
        start = time.time()
        with open(log, "a") as out:
            next_tick = start
            while time.time() - start < args.seconds:
                owed += per_tick
                n = int(owed)
                owed -= n
                ts = f"{time.time():.6f}\t"
                chunk = []
                for _ in range(n):
                    chunk.append(ts + rests[i])
                    i = (i + 1) % len(rests)
                out.write("".join(chunk))
                out.flush()
                written += n
                next_tick += 0.01
                pause = next_tick - time.time()
                if pause > 0:
                    time.sleep(pause)
        elapsed = time.time() - start
        deadline = time.time() + 2.0
        kept_up = False
        while time.time() < deadline:
            try:
                with open(metrics) as m:
                    if json.load(m).get("flows_read", 0) >= written:
                        kept_up = True
                        break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=5)
        lat = sorted(latencies)
        print(f"{written / elapsed:>15,.0f} {written:>9,} {len(lat):>7,} {percentile(lat, 0.5) * 1000:>8.0f} "
              f"{percentile(lat, 0.99) * 1000:>8.0f} {(lat[-1] if lat else float('nan')) * 1000:>8.0f} "
              f"{'yes' if kept_up else 'NO'}")

    # The most it can read: the log piped at full speed, repeated to about a million flows.
    big = os.path.join(tmp, "big.log")
    repeat = max(1, 1_000_000 // len(records))
    with open(big, "w") as f:
        f.writelines(header)
        for _ in range(repeat):
            f.writelines(records)
    metrics = os.path.join(tmp, "metrics-big.json")
    t0 = time.time()
    proc = subprocess.Popen([exe, "watch", model, big, "--alerts", "-", "--metrics", metrics, "--threads", args.threads],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n = repeat * len(records)
    while True:
        try:
            with open(metrics) as m:
                if json.load(m).get("flows_read", 0) >= n:
                    break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    dt = time.time() - t0
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    print(f"a written file followed from its start: {n:,} flows in {dt:.2f} s = {n / dt:,.0f} flows/s")
    t0 = time.time()
    with open(big) as f:
        subprocess.run([exe, "watch", model, "-", "--alerts", "-", "--threads", args.threads], stdin=f,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    dt = time.time() - t0
    print(f"standard input at full speed: {n:,} flows in {dt:.2f} s = {n / dt:,.0f} flows/s")


if __name__ == "__main__":
    main()
