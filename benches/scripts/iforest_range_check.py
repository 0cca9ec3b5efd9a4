#!/usr/bin/env python3
"""Why one score cannot hold both ODDS sets: an Isolation Forest whose trees reach values outside their
sample, against the plain forest, on the prepared matrices `detection_quality` fitted.

    detection_quality --data ../shared/data --odds ODDS_DIR --seeds 1-3 --singles iforest --dump-prepared DIR
    python benches/scripts/iforest_range_check.py DIR [--sets odds-http,odds-smtp] [--seeds 1-3]

A plain forest sends a value beyond its node's sample (ψ = 256 rows a tree) down the nearest side, so it
scores like the most extreme sampled row. The range-extended forest scores each row as if the node's
split had been drawn over the sample's range widened to reach the row: a row `δ` beyond a range of width
`s` ends its path at that node with probability `δ / (s + δ)` (the chance a uniform split falls between
it and the sample) and goes on otherwise; the path length is the expectation. Both forests are the same
trees (100, ψ = 256, the seed's draw); ROC-AUC and PR-AUC (average precision) per set and seed, then per
column the rows at the column's smallest value by label (labels read for this evaluation only).
"""
import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fusion_search import average_precision, roc_auc  # noqa: E402
from labeled_log_check import seeds  # noqa: E402

EULER = 0.5772156649015329


def c(n):
    """Average path length of an unsuccessful search in a binary tree of `n` rows."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1) + EULER) - 2.0 * (n - 1) / n


class Tree:
    """Flat arrays, root at 0; a leaf has feature −1 and its path length in `value`."""

    def __init__(self, x, rows, rng, max_depth):
        self.feature, self.threshold, self.left, self.right = [], [], [], []
        self.lo, self.hi, self.depth, self.value = [], [], [], []
        self._grow(x, rows, rng, 0, max_depth)
        for name in ("feature", "left", "right", "depth"):
            setattr(self, name, np.array(getattr(self, name)))
        for name in ("threshold", "lo", "hi", "value"):
            setattr(self, name, np.array(getattr(self, name), dtype=float))

    def _node(self):
        for v in (self.feature, self.threshold, self.left, self.right, self.lo, self.hi, self.depth, self.value):
            v.append(0)
        return len(self.feature) - 1

    def _grow(self, x, rows, rng, depth, max_depth):
        i = self._node()
        self.depth[i] = depth
        sub = x[rows]
        lo, hi = sub.min(0), sub.max(0)
        free = np.flatnonzero(hi > lo)
        if depth >= max_depth or len(rows) <= 1 or len(free) == 0:
            self.feature[i], self.value[i] = -1, depth + c(len(rows))
            return i
        f = free[rng.integers(len(free))]
        t = rng.uniform(lo[f], hi[f])
        self.feature[i], self.threshold[i], self.lo[i], self.hi[i] = f, t, lo[f], hi[f]
        self.left[i] = self._grow(x, rows[sub[:, f] <= t], rng, depth + 1, max_depth)
        self.right[i] = self._grow(x, rows[sub[:, f] > t], rng, depth + 1, max_depth)
        return i

    def path_lengths(self, x, extend):
        """Every row's path length (its expectation with `extend`), all rows a level at a time."""
        n = len(x)
        node = np.zeros(n, dtype=int)
        alive = np.ones(n)  # probability the path has not ended above the current node
        total = np.zeros(n)
        for _ in range(self.depth.max() + 1):
            f = self.feature[node]
            leaf = f < 0
            total += np.where(leaf, alive * self.value[node], 0.0)
            alive = np.where(leaf, 0.0, alive)
            v = x[np.arange(n), np.maximum(f, 0)]
            if extend:
                lo, hi = self.lo[node], self.hi[node]
                delta = np.maximum(np.maximum(lo - v, v - hi), 0.0)
                p = np.where(leaf, 0.0, delta / np.maximum(hi - lo + delta, 1e-300))
                total += alive * p * (self.depth[node] + 1)
                alive = alive * (1.0 - p)
            node = np.where(leaf, node, np.where(v <= self.threshold[node], self.left[node], self.right[node]))
        return total


def forest_scores(x, seed, n_trees=100, psi=256):
    rng = np.random.default_rng(seed)
    psi = min(psi, len(x))
    max_depth = math.ceil(math.log2(max(psi, 2)))
    trees = [Tree(x, rng.choice(len(x), psi, replace=False), rng, max_depth) for _ in range(n_trees)]
    out = {}
    for name, extend in (("plain", False), ("range-extended", True)):
        h = sum(t.path_lengths(x, extend) for t in trees) / n_trees
        out[name] = 2.0 ** (-h / c(psi))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--sets", default="odds-http,odds-smtp")
    ap.add_argument("--seeds", default="1-3")
    args = ap.parse_args()
    print(f"{'set':<16} {'seed':>4} {'forest':<15} {'ROC-AUC':>8} {'PR-AUC':>8}")
    for name in args.sets.split(","):
        for i, seed in enumerate(seeds(args.seeds)):
            d = pd.read_csv(f"{args.dir}/{name}-{seed}.csv")
            y = d.pop("__label").to_numpy()
            x = d.to_numpy(dtype=float)
            for forest, s in forest_scores(x, seed).items():
                print(f"{name:<16} {seed:>4} {forest:<15} {roc_auc(y, s):8.3f} {average_precision(y, s):8.3f}")
            if i == 0:
                for j, col in enumerate(d.columns):
                    at = x[:, j] == x[:, j].min()
                    print(f"{name:<16} column {col}: rows at its smallest value: {int((at & (y == 0)).sum())} normal, "
                          f"{int((at & (y == 1)).sum())} attacks")


if __name__ == "__main__":
    main()
