#!/usr/bin/env python3
"""Converts ODDS / ADBench `.npz` anomaly sets (arrays `X`, `y`) to CSV for detection_quality.

    python benches/scripts/odds_csv.py NPZ_DIR OUT_DIR

The KDD Cup 99-derived ODDS sets `http` (567,479 rows, 2,211 attacks) and `smtp` (95,156 rows, 30
attacks) are in the ADBench repository (adbench/datasets/Classical/16_http.npz, 34_smtp.npz), taken
from ODDS (odds.cs.stonybrook.edu). Columns become duration, src_bytes, dst_bytes (ODDS's order, already
log-transformed by ODDS) plus `label` (1 = attack). Nothing is committed: the sets are large.
"""
import sys
from pathlib import Path

import numpy as np

NAMES = ["duration", "src_bytes", "dst_bytes"]


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for npz in sorted(src.glob("*.npz")):
        name = npz.stem.split("_", 1)[-1].lower()
        d = np.load(npz, allow_pickle=False)
        x, y = d["X"], d["y"].astype(int)
        cols = NAMES if x.shape[1] == 3 else [f"x{i}" for i in range(x.shape[1])]
        with open(out / f"{name}.csv", "w") as f:
            f.write(",".join(cols + ["label"]) + "\n")
            for row, label in zip(x, y):
                f.write(",".join(repr(float(v)) for v in row) + f",{label}\n")
        print(f"{name}: {x.shape[0]} rows, {x.shape[1]} features, {int(y.sum())} positives")


if __name__ == "__main__":
    main()
