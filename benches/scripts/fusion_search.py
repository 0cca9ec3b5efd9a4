#!/usr/bin/env python3
"""Searches fusions of single detectors per log family, from detection_quality's `--scores` dumps.

    detection_quality --data ../shared/data --odds ODDS_DIR --seeds 1-6 --scores DIR
    python benches/scripts/fusion_search.py DIR

For every pair and triple of ten detectors, fused by mean rank, by maximum rank (ties by the mean), by
mean and by maximum robust z-score (each score less its median, over its interquartile range), prints
per family the fusions meeting the goal on the most of its logs (mean ROC-AUC over seeds ≥ the best
single detector's − 0.005 and PR-AUC ≥ its − 0.02), then by mean PR-AUC. Ranks are plain
ranks of each seed's scores, not the detector's rank tables, so figures differ slightly from the
detector's own. PR-AUC is scikit-learn's average precision (tied scores are one threshold).
"""
import collections
import glob
import itertools
import sys

import numpy as np
import pandas as pd
from scipy.stats import rankdata

CANDIDATES = ["iforest", "pca", "pca_mahalanobis", "ecod", "copod", "lof", "cblof", "gmm_diag", "knn",
              "cluster_rarity"]
FAMILIES = {
    "zeek": ["strato-001", "strato-008", "strato-010"],
    "kdd": ["nslkdd-train20", "nslkdd-test21", "kdd99-10pct"],
    "cic": ["cic-ids2017"],
    "generic": ["odds-http", "odds-smtp"],
}
CURRENT = {"zeek": "mean:iforest+pca", "kdd": "mean:iforest+pca", "cic": "mean:iforest+pca+lof", "generic": "iforest"}


def roc_auc(y, s):
    r = rankdata(s)
    p = y.sum()
    n = len(y) - p
    return (r[y == 1].sum() - p * (p + 1) / 2) / (p * n)


def average_precision(y, s):
    order = np.argsort(-s, kind="mergesort")
    s, hits = s[order], y[order]
    last = np.r_[s[1:] != s[:-1], True]  # the end of each run of tied scores: one threshold
    tp, k = np.cumsum(hits)[last], np.arange(1, len(y) + 1)[last]
    return (np.diff(np.r_[0, tp / hits.sum()]) * tp / k).sum()


def robust_z(v):
    q75, q25 = np.percentile(v, [75, 25])
    scale = q75 - q25 if q75 > q25 else (v.std() or 1.0)
    return (v - np.median(v)) / scale


def main() -> None:
    root = sys.argv[1]
    results = collections.defaultdict(list)
    for sets in FAMILIES.values():
        for name in sets:
            for path in sorted(glob.glob(f"{root}/{name}@detection-*.csv")):
                d = pd.read_csv(path)
                y = d["__label"].values.astype(int)
                raw = {c: d[c].fillna(d[c].min()).values.astype(float) for c in CANDIDATES}
                ranks = {c: rankdata(v) / len(d) for c, v in raw.items()}
                z = {c: robust_z(v) for c, v in raw.items()}
                for c in CANDIDATES:
                    results[(name, c)].append((roc_auc(y, ranks[c]), average_precision(y, ranks[c])))
                for k in (2, 3):
                    for combo in itertools.combinations(CANDIDATES, k):
                        m = np.vstack([ranks[c] for c in combo])
                        zs = np.vstack([z[c] for c in combo])
                        fused = (("mean", m.mean(0)), ("max", m.max(0) + 1e-3 * m.mean(0)), ("zmean", zs.mean(0)),
                                 ("zmax", zs.max(0) + 1e-3 * m.mean(0)))
                        for method, v in fused:
                            spec = f"{method}:{'+'.join(combo)}"
                            results[(name, spec)].append((roc_auc(y, v), average_precision(y, v)))
    mean = {k: (np.mean([a for a, _ in v]), np.mean([b for _, b in v])) for k, v in results.items()}
    for family, sets in FAMILIES.items():
        best = {s: (max(mean[(s, c)][0] for c in CANDIDATES), max(mean[(s, c)][1] for c in CANDIDATES)) for s in sets}
        rows = []
        for spec in sorted({k[1] for k in mean if k[0] == sets[0]}):
            met = sum(mean[(s, spec)][0] >= best[s][0] - 0.005 and mean[(s, spec)][1] >= best[s][1] - 0.02
                      for s in sets)
            rows.append((met, np.mean([mean[(s, spec)][1] for s in sets]), np.mean([mean[(s, spec)][0] for s in sets]),
                         spec))
        rows.sort(reverse=True)
        for met, pr, roc, spec in [r for r in rows if r[3] == CURRENT[family]] + rows[:6]:
            per_set = " ".join(f"{s}:{mean[(s, spec)][0]:.3f}/{mean[(s, spec)][1]:.3f}" for s in sets)
            print(f"{family:8} {spec:45} met {met}/{len(sets)} ROC {roc:.3f} PR {pr:.3f}  {per_set}")


if __name__ == "__main__":
    main()
