#!/usr/bin/env python3
"""Two builds of `outflow detect` on the same labeled log, scored over every flow.

    python benches/scripts/unscored_check.py LOG.csv --old OLD_OUTFLOW --new target/release/outflow \
        [--label Label] [--positive 1 | --negative BENIGN] [--seeds 1-5]

`summary.json`'s label evaluation reads the scored flows only, so two preparations that leave different
flows unscored are not compared by it. Here every flow counts: an unscored flow (empty `outlier_score`
in `scores.csv`) is ranked below every scored one, as an analyst never sees it. Per seed the positives
are subsampled to 3 % (every negative kept), as in `labeled_log_check.py`. Prints the mean ROC-AUC,
PR-AUC, unscored flows and unscored attacks per build. Labels are never used for fitting.
"""
import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from labeled_log_check import seeds, subsample


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", default="target/release/outflow")
    ap.add_argument("--label", default="Label")
    ap.add_argument("--positive", help="the attack value (else every value but --negative)")
    ap.add_argument("--negative", default="BENIGN")
    ap.add_argument("--seeds", default="1-5")
    a = ap.parse_args()
    d = pd.read_csv(a.log, low_memory=False)
    text = d[a.label].astype(str).str.strip()
    is_pos = text == a.positive if a.positive else text.str.upper() != a.negative.upper()
    pos, neg = d[is_pos], d[~is_pos]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds(a.seeds):
            sub, k = subsample(pos, neg, seed)
            f = Path(tmp) / f"s{seed}.csv"
            sub.to_csv(f, index=False)
            y = is_pos.loc[sub.index].to_numpy()
            for name, binary in [("old", a.old), ("new", a.new)]:
                run = Path(tmp) / f"run-{name}"
                subprocess.run([binary, "detect", "--quiet", "--seed", str(seed), "--force", "--out", str(run), str(f)],
                               check=True)
                s = pd.read_csv(run / "scores.csv").sort_values("row")["outlier_score"].to_numpy()
                unscored = np.isnan(s)
                s = np.where(unscored, np.nanmin(s) - 1, s)
                rows.append((name, seed, roc_auc_score(y, s), average_precision_score(y, s), unscored.sum(),
                             (unscored & y).sum()))
    r = pd.DataFrame(rows, columns=["build", "seed", "roc_auc", "pr_auc", "unscored", "unscored_attacks"])
    print(f"{a.log}: {len(neg)} negatives, {k} of {len(pos)} positives per seed, seeds {a.seeds}")
    print(r.drop(columns="seed").groupby("build").mean().round(3).to_string())


if __name__ == "__main__":
    main()
