"""Data shared by the embedding benchmarks (`tsne_vs_sklearn.py`, `umap_vs_umap_learn.py`): the
blobs-with-background-noise shape and the reading of a prepared CSV."""
import numpy as np
import pandas as pd

# Trustworthiness is exact (O(n²) memory in scikit-learn): larger files are subsampled first.
MAX_ROWS = 20_000


def blobs(n, seed=0):
    """N rows of 10-dimensional Gaussian blobs of mixed widths with 1 % uniform background noise."""
    rng = np.random.default_rng(seed)
    k = 10
    centres = rng.normal(scale=8.0, size=(k, 10))
    widths = rng.uniform(0.5, 2.0, size=k)
    m = int(n * 0.99)
    lab = rng.integers(0, k, size=m)
    x = centres[lab] + rng.normal(size=(m, 10)) * widths[lab, None]
    noise = rng.uniform(-25, 25, size=(n - m, 10))
    return np.round(np.vstack([x, noise]), 5)


def read_numeric(path):
    """The numeric columns of a CSV without `__label` (detection_quality's --dump-prepared), at most
    MAX_ROWS rows (a seeded sample)."""
    d = pd.read_csv(path)
    d = d.drop(columns=[c for c in d.columns if c == "__label"])
    x = d.to_numpy(dtype=float)
    if x.shape[0] > MAX_ROWS:
        x = x[np.random.default_rng(0).choice(x.shape[0], MAX_ROWS, replace=False)]
    return x
