#!/usr/bin/env python3
"""The default score against every single detector on a labeled log outside the detection table.

    cargo build --release -p outflow-cli
    python benches/scripts/labeled_log_check.py LOG.csv [--label label] [--positive 1] [--drop id,...] \
        [--seeds 1-20] [--outflow target/release/outflow] [--signals "iforest,pca;pca_mahalanobis"] [--out seeds.csv]

Per seed: positives subsampled to 3 % of the rows (seeded; every negative kept), written to a CSV; then
`outflow detect` on it (the default score; `summary.json`'s label evaluation) and `outflow benchmark
--contamination none` (every single detector on the same rows and preparation). Prints the mean ROC-AUC
and PR-AUC over the seeds, the best single detector of each, and whether the default meets the goal of
the README's detection table (ROC-AUC ≥ best − 0.005, PR-AUC ≥ best − 0.02), with each score's worst seed;
`--out` keeps every seed's values. Labels are never used for
fitting. `--drop` removes columns that are artefacts of the file (a row number sorted by class).
`--signals` also runs `outflow detect --signals S` for each `;`-separated S (rows `signals:S`, left out
of the best single detector): other fusions on exactly the default's preparation.
"""
import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd


def seeds(spec: str) -> list[int]:
    a, _, b = spec.partition("-")
    return list(range(int(a), int(b or a) + 1))


def subsample(pos: pd.DataFrame, neg: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, int]:
    """Every negative and a seeded 3 % of positives (all when fewer), shuffled; and the positives kept."""
    rng = np.random.default_rng(seed)
    k = min(len(pos), max(1, round(0.03 / 0.97 * len(neg))))
    sub = pd.concat([neg, pos.iloc[np.sort(rng.choice(len(pos), k, replace=False))]])
    return sub.sample(frac=1, random_state=seed), k


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--label", default="label")
    ap.add_argument("--positive", default="1")
    ap.add_argument("--drop", default="")
    ap.add_argument("--seeds", default="1-20")
    ap.add_argument("--outflow", default="target/release/outflow")
    ap.add_argument("--signals", default="")
    ap.add_argument("--out", help="every seed's ROC-AUC and PR-AUC per score, as CSV")
    a = ap.parse_args()
    d = pd.read_csv(a.log, low_memory=False)
    d = d.drop(columns=[c for c in a.drop.split(",") if c])
    is_pos = d[a.label].astype(str).str.strip() == a.positive
    pos, neg = d[is_pos], d[~is_pos]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds(a.seeds):
            sub, k = subsample(pos, neg, seed)
            f = Path(tmp) / f"s{seed}.csv"
            sub.to_csv(f, index=False)
            run = Path(tmp) / f"run{seed}"
            for signals in [None] + [s for s in a.signals.split(";") if s]:
                extra = ["--signals", signals] if signals else []
                subprocess.run([a.outflow, "detect", "--quiet", "--seed", str(seed), "--force", "--out", str(run),
                                *extra, str(f)], check=True)
                labels = json.loads((run / "summary.json").read_text())["labels"]
                rows.append((f"signals:{signals}" if signals else "default", seed, labels["roc_auc"], labels["pr_auc"]))
            bench = subprocess.run(
                [a.outflow, "benchmark", "--label-column", a.label, "--positive", a.positive, "--contamination", "none",
                 "--seed", str(seed), "--json", "--no-score-timing", str(f)],
                check=True, capture_output=True, text=True)
            for r in json.loads(bench.stdout)["results"]:
                if not r["name"].startswith("fusion_") and r["error"] is None:
                    rows.append((r["name"], seed, r["roc_auc"], r["pr_auc"]))
    r = pd.DataFrame(rows, columns=["score", "seed", "roc_auc", "pr_auc"])
    if a.out:
        r.to_csv(a.out, index=False)
    by = r.groupby("score")[["roc_auc", "pr_auc"]]
    mean = by.mean().sort_values("roc_auc", ascending=False)
    worst = by.min().rename(columns={"roc_auc": "worst_roc", "pr_auc": "worst_pr"})
    print(f"{a.log}: {len(neg)} negatives, {k} of {len(pos)} positives per seed, seeds {a.seeds}")
    print(mean.join(worst).round(3).to_string())
    singles = mean.drop(index=[i for i in mean.index if i == "default" or i.startswith("signals:")])
    best_roc, best_pr = singles["roc_auc"].max(), singles["pr_auc"].max()
    roc, pr = mean.loc["default"]
    met = roc >= best_roc - 0.005 and pr >= best_pr - 0.02
    print(f"default {roc:.3f} / {pr:.3f}; best single {best_roc:.3f} ({singles['roc_auc'].idxmax()}) / "
          f"{best_pr:.3f} ({singles['pr_auc'].idxmax()}): goal {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
