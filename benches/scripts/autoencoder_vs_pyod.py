#!/usr/bin/env python3
"""PyOD's AutoEncoder and VAE (defaults, random_state = seed) on exactly the prepared features and rows
Outflow's detectors saw in detection_quality, with their fit time, for the README's autoencoder table.

    cargo run --release -p outflow-benches --bin detection_quality -- --singles autoencoder,vae \\
        --seeds 1-3 --dump-prepared PREP_DIR --out ours.csv ...
    python benches/scripts/autoencoder_vs_pyod.py PREP_DIR pyod.csv [--models autoencoder,vae]

PREP_DIR holds `<set>-<seed>.csv` (the prepared matrix, `__label` 1 = attack). Writes one line per set,
seed and model in detection_quality's `--out` layout (score `pyod_autoencoder` / `pyod_vae`) plus the
fit and score time in seconds (after a warm-up fit, so PyTorch's start-up is not timed), and prints
them. PyTorch runs on the CPU with two threads.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from pyod.models.auto_encoder import AutoEncoder
from pyod.models.vae import VAE
from sklearn.metrics import average_precision_score, roc_auc_score


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("prep_dir")
    ap.add_argument("out")
    ap.add_argument("--models", default="autoencoder,vae")
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = {"autoencoder": AutoEncoder, "vae": VAE}
    warm = np.random.default_rng(0).normal(size=(256, 8))
    for cls in models.values():
        cls(verbose=0, epoch_num=1).fit(warm)
    with open(args.out, "w") as f:
        f.write("set,prep,score,seed,roc_auc,pr_auc,seconds\n")
        for path in sorted(Path(args.prep_dir).glob("*.csv")):
            name, seed = path.stem.rsplit("-", 1)
            d = pd.read_csv(path)
            y = d.pop("__label").to_numpy()
            x = d.to_numpy(dtype=np.float64)
            for model in args.models.split(","):
                t = time.perf_counter()
                m = models[model](random_state=int(seed), verbose=0).fit(x)
                secs = time.perf_counter() - t
                s = m.decision_scores_
                roc, pr = roc_auc_score(y, s), average_precision_score(y, s)
                f.write(f"{name},detection,pyod_{model},{seed},{roc:.6f},{pr:.6f},{secs:.2f}\n")
                f.flush()
                print(f"{name:16} seed {seed:>2} {model:12} ROC {roc:.3f}  PR {pr:.3f}  {secs:7.1f} s  ({x.shape[0]} x {x.shape[1]})")


if __name__ == "__main__":
    main()
