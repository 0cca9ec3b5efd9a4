#!/usr/bin/env python3
"""The README detection table's Python baseline: scikit-learn's Isolation Forest (200 trees) on
sign(x)·log1p(|x|) of the numeric input columns, on exactly the rows detection_quality evaluated.

    cargo run --release -p outflow-benches --bin detection_quality -- --dump DUMP_DIR ...
    python benches/scripts/iforest_baseline.py DUMP_DIR [OUT.csv]

DUMP_DIR holds `<set>-<seed>.csv` (numeric columns, `__label` 1 = attack). Prints ROC-AUC and PR-AUC
(average precision) per set and seed, then the mean and worst per set (and writes them to OUT.csv in
detection_quality's `--out` layout, score `python_iforest`). Missing values become 0.
"""
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score


def main() -> None:
    results = defaultdict(list)
    for path in sorted(Path(sys.argv[1]).glob("*.csv")):
        name, seed = path.stem.rsplit("-", 1)
        d = pd.read_csv(path)
        y = d.pop("__label").to_numpy()
        x = d.to_numpy(dtype=float)
        x = np.nan_to_num(np.sign(x) * np.log1p(np.abs(x)), nan=0.0, posinf=0.0, neginf=0.0)
        model = IsolationForest(n_estimators=200, random_state=int(seed)).fit(x)
        s = -model.score_samples(x)
        roc, pr = roc_auc_score(y, s), average_precision_score(y, s)
        results[name].append((seed, (roc, pr)))
        print(f"{name:16} seed {seed:>2}  ROC {roc:.3f}  PR {pr:.3f}  ({int(y.sum())} positives of {len(y)})")
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("set,prep,score,seed,roc_auc,pr_auc\n")
            for name, r in results.items():
                for seed, (roc, pr) in r:
                    f.write(f"{name},detection,python_iforest,{seed},{roc:.6f},{pr:.6f}\n")
    results = {k: [v for _, v in r] for k, r in results.items()}
    for name, r in results.items():
        a = np.array(r)
        print(f"{name:16} mean ROC {a[:, 0].mean():.3f}  PR {a[:, 1].mean():.3f}  worst {a[:, 0].min():.3f} / {a[:, 1].min():.3f}")


if __name__ == "__main__":
    main()
