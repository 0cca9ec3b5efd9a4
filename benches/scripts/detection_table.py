#!/usr/bin/env python3
"""The README's detection table from detection_quality's `--out` CSV (and iforest_baseline.py's).

    python benches/scripts/detection_table.py RESULTS.csv [PYTHON.csv] [PREP] [EXTRA_PREP:EXTRA_SCORE]

One row per score (the default, the Python Isolation Forest, each single detector), one column per
labeled set: mean ROC-AUC / PR-AUC over the seeds, for the preparation PREP (default `detection`), plus
one extra row of another preparation when asked (e.g. `notebook:iforest+pca+pca_mahalanobis`). The
best single detector of each set is in bold; the last rows say whether the default meets the goal
(ROC-AUC ≥ best single − 0.005 and PR-AUC ≥ best single − 0.02) and give its worst seed.
"""
import csv
import sys
from collections import defaultdict

SINGLES = ["iforest", "lof", "knn", "knn_mean", "knn_median", "cblof", "ecod", "copod", "gmm", "gmm_diag",
           "pca", "pca_mahalanobis", "pca_reconstruction", "glosh", "cluster_rarity", "autoencoder", "vae"]


def main() -> None:
    prep = sys.argv[3] if len(sys.argv) > 3 else "detection"
    extra = sys.argv[4].split(":", 1) if len(sys.argv) > 4 else None
    vals = defaultdict(list)
    for path in sys.argv[1:3]:
        for r in csv.DictReader(open(path)):
            key = None
            if r["prep"] == prep:
                key = (r["set"], r["score"])
            elif extra and [r["prep"], r["score"]] == extra:
                key = (r["set"], "extra")
            if key:
                vals[key].append((float(r["roc_auc"]), float(r["pr_auc"])))
    sets = list(dict.fromkeys(s for s, _ in vals))
    mean = {k: (sum(a for a, _ in v) / len(v), sum(b for _, b in v) / len(v)) for k, v in vals.items()}
    best = {s: (max(mean[(s, d)][0] for d in SINGLES if (s, d) in mean),
                max(mean[(s, d)][1] for d in SINGLES if (s, d) in mean)) for s in sets}
    print("| score | " + " | ".join(sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for score in ["default", "extra", "python_iforest"] + SINGLES:
        cells = []
        for s in sets:
            if (s, score) not in mean:
                cells.append("–")
                continue
            roc, pr = mean[(s, score)]
            a = f"**{roc:.3f}**" if score in SINGLES and roc == best[s][0] else f"{roc:.3f}"
            b = f"**{pr:.3f}**" if score in SINGLES and pr == best[s][1] else f"{pr:.3f}"
            cells.append(f"{a} / {b}")
        if all((s, score) not in mean for s in sets):
            continue
        name = {
            "default": "**Outflow default**",
            "extra": f"before: {extra[1]} on the {extra[0]} preparation" if extra else "",
            "python_iforest": "scikit-learn Isolation Forest",
        }.get(score, score)
        print(f"| {name} | " + " | ".join(cells) + " |")
    goal, worst = [], []
    for s in sets:
        roc, pr = mean[(s, "default")]
        dr, dp = roc - best[s][0], pr - best[s][1]
        ok = dr >= -0.005 and dp >= -0.02
        goal.append(("met" if ok else "**not met**") + f" ({dr:+.3f} / {dp:+.3f})")
        v = vals[(s, "default")]
        worst.append(f"{min(a for a, _ in v):.3f} / {min(b for _, b in v):.3f}")
    print("| default − best single | " + " | ".join(goal) + " |")
    print("| default, worst seed | " + " | ".join(worst) + " |")


if __name__ == "__main__":
    main()
