#!/usr/bin/env python3
"""Reference fixtures of outflow-outlier (parity with PyOD 3.6.7 / scikit-learn 1.9.1).

Run from anywhere with the pinned environment (see requirements.txt):

    /work/venv/bin/python tools/reference/outlier_reference.py

It writes small JSON files into crates/outflow-outlier/tests/fixtures/ (removing stale *.json there). The
Rust test crates/outflow-outlier/tests/reference.rs reads only these files: `cargo test` needs no Python.
Everything is seeded, so re-running reproduces the files.

Data are rounded (4-6 decimals) *before* fitting, so the JSON text is exactly the float64 the Python side
saw. Distance-based cases use continuous random data (no distance ties), so neighbour sets are unique.

Cases
-----
* iforest.json   -- sklearn IsolationForest (via PyOD IForest; 100 and 300 trees, max_samples 256) scores on
                    the training rows and new rows; the Rust side checks Spearman >= 0.95 (different random
                    trees, same settings). The Spearman of two sklearn forests with different seeds is
                    recorded for scale.
* knn.json       -- PyOD KNN (largest / mean / median; k = 5, 6) decision_scores_ and decision_function.
* lof.json       -- PyOD LOF (n_neighbors = 20, 7) decision_scores_ and decision_function.
* ecdf.json      -- PyOD ECOD and COPOD on data with ties, a constant column and skew of both signs;
                    training scores and decision_function on a new batch (which PyOD concatenates).
* pca.json       -- PyOD PCA (standardization, weighted; n_selected_components None and 2) on a tall
                    matrix (sklearn's covariance_eigh solver) and a short one (full SVD).
* gmm.json       -- sklearn GaussianMixture (full, diag; 3 components) from given weights / means /
                    precisions: per-row log-likelihood, lower_bound_, n_iter_, converged_.
* cblof.json     -- PyOD CBLOF (8 clusters, use_weights False / True): k-means labels_ and
                    cluster_centers_, decision_scores_, decision_function on new rows.
* autoencoder.json -- PyOD AutoEncoder and VAE (defaults, ten seeds) on rows near a 2-D manifold in 6
                    dimensions with rows off it: ROC-AUC of decision_scores_ and of decision_function on new
                    rows per seed, the scores of three seeds and the Spearman between them for scale (PyTorch's random streams
                    cannot be reproduced, so the Rust side compares rankings and ROC-AUC).
* metrics.json   -- sklearn roc_auc_score, average_precision_score and PyOD precision_n_scores on
                    scores with many ties.
"""

import json
import pathlib
import warnings

import numpy as np
import pyod
import scipy.stats
import sklearn
from pyod.models.auto_encoder import AutoEncoder
from pyod.models.cblof import CBLOF
from pyod.models.copod import COPOD
from pyod.models.ecod import ECOD
from pyod.models.iforest import IForest
from pyod.models.knn import KNN
from pyod.models.lof import LOF
from pyod.models.pca import PCA
from pyod.models.vae import VAE
from pyod.utils.utility import precision_n_scores
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.mixture import GaussianMixture

warnings.filterwarnings("ignore")
OUT = pathlib.Path(__file__).resolve().parents[2] / "crates" / "outflow-outlier" / "tests" / "fixtures"
VERSIONS = {"pyod": pyod.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__}
try:
    import torch

    torch.set_num_threads(2)
except ImportError:  # only the autoencoder case needs it
    torch = None


def lst(a):
    return np.asarray(a, dtype=float).tolist()


def blobs(rng, n, d, n_out, decimals=5):
    """Two anisotropic Gaussian blobs plus uniform outliers."""
    a = rng.normal(size=(n // 2, d)) @ rng.normal(size=(d, d)) * 0.5
    b = rng.normal(size=(n - n // 2, d)) * 0.7 + 4.0
    o = rng.uniform(-8, 12, size=(n_out, d))
    return np.round(np.vstack([a, b, o]), decimals)


def write(name, obj, extra_versions=None):
    obj["versions"] = {**VERSIONS, **(extra_versions or {})}
    (OUT / name).write_text(json.dumps(obj, separators=(",", ":")))


def iforest_case(rng):
    # Heavy-tailed (Student t, 3 d.o.f.) like flow features. Two sklearn forests with different seeds agree to
    # Spearman ~0.97 here with 100 trees (recorded below for scale); on two dense blobs plus uniform outliers
    # they agree to only ~0.94, which would make the 0.95 bar meaningless for 100 trees.
    x = np.round(rng.standard_t(3, size=(600, 3)), 5)
    new = np.round(rng.uniform(-12, 12, size=(40, 3)), 5)
    cases = []
    for trees in (100, 300):
        m = IForest(n_estimators=trees, max_samples=256, random_state=0).fit(x)
        other = IsolationForest(n_estimators=trees, max_samples=256, random_state=1).fit(x)
        ours = -m.detector_.score_samples(x)
        rho = scipy.stats.spearmanr(ours, -other.score_samples(x)).statistic
        # 2^(-E h / c(psi)): sklearn's -score_samples, the Rust score
        cases.append({"n_estimators": trees, "max_samples": 256, "scores": lst(ours),
                      "new_scores": lst(-m.detector_.score_samples(new)),
                      "spearman_between_two_sklearn_seeds": float(rho)})
    write("iforest.json", {"x": lst(x), "new": lst(new), "cases": cases})


def knn_lof_cases(rng):
    x = blobs(rng, 300, 5, 20, 6)
    new = np.vstack([np.round(rng.normal(size=(20, 5)) * 2, 6), x[:10]])
    cases = []
    for k in (5, 6):
        for method in ("largest", "mean", "median"):
            m = KNN(n_neighbors=k, method=method).fit(x)
            cases.append({"k": k, "method": method, "scores": lst(m.decision_scores_),
                          "new_scores": lst(m.decision_function(new))})
    write("knn.json", {"x": lst(x), "new": lst(new), "cases": cases})
    cases = []
    for k in (20, 7):
        m = LOF(n_neighbors=k).fit(x)
        cases.append({"k": k, "scores": lst(m.decision_scores_), "new_scores": lst(m.decision_function(new))})
    write("lof.json", {"x": lst(x), "new": lst(new), "cases": cases})


def ecdf_case(rng):
    n = 400
    cols = [
        np.round(rng.lognormal(size=n), 3),           # positive skew
        -np.round(rng.lognormal(size=n), 3),          # negative skew
        rng.integers(0, 6, size=n).astype(float),     # many ties
        np.full(n, 2.5),                              # constant: skewness undefined -> 0
        np.round(rng.normal(size=n), 4),
    ]
    x = np.column_stack(cols)
    new = np.column_stack([
        np.round(rng.lognormal(size=25) * 3, 3), -np.round(rng.lognormal(size=25), 3),
        rng.integers(-2, 9, size=25).astype(float), np.full(25, 2.5), np.round(rng.normal(size=25) * 3, 4),
    ])
    out = {"x": lst(x), "new": lst(new)}
    for name, cls in (("ecod", ECOD), ("copod", COPOD)):
        m = cls().fit(x)
        out[name] = {"scores": lst(m.decision_scores_), "new_scores": lst(m.decision_function(new))}
    write("ecdf.json", out)


def pca_case(rng):
    cases = []
    for n, d in ((500, 6), (40, 6)):
        base = rng.normal(size=(n, d)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])[:d]
        x = np.round(base @ np.linalg.qr(rng.normal(size=(d, d)))[0], 5)
        new = np.round(rng.normal(size=(15, d)) * 3, 5)
        for sel in (None, 2):
            m = PCA(n_selected_components=sel).fit(x)
            cases.append({"x": lst(x), "new": lst(new), "n_selected_components": sel,
                          "scores": lst(m.decision_scores_), "new_scores": lst(m.decision_function(new)),
                          "explained_variance_ratio": lst(m.detector_.explained_variance_ratio_)})
    write("pca.json", {"cases": cases})


def gmm_case(rng):
    x = np.round(np.vstack([rng.normal(size=(150, 3)) + [0, 0, 0], rng.normal(size=(100, 3)) * 0.5 + [4, 1, 0],
                            rng.normal(size=(60, 3)) @ np.array([[1, .5, 0], [0, 1, .3], [0, 0, 1]]) + [0, 5, 2]]), 5)
    new = np.round(rng.normal(size=(20, 3)) * 3, 5)
    means = np.array([[0.5, 0.5, 0.5], [3.0, 1.0, 0.0], [0.0, 4.0, 2.0]])
    weights = np.array([0.4, 0.3, 0.3])
    cases = []
    for cov in ("full", "diag"):
        if cov == "full":
            precisions = np.stack([np.eye(3) * 1.0, np.eye(3) * 2.0, np.array([[1.0, 0.2, 0], [0.2, 1.0, 0], [0, 0, 1.0]])])
        else:
            precisions = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [1.0, 0.5, 1.0]])
        g = GaussianMixture(n_components=3, covariance_type=cov, weights_init=weights, means_init=means,
                            precisions_init=precisions, tol=1e-3, reg_covar=1e-6, max_iter=100).fit(x)
        cases.append({
            "covariance_type": cov, "weights": lst(weights), "means": lst(means),
            "precisions": [lst(p.ravel()) for p in precisions],
            "log_likelihood": lst(g.score_samples(x)), "new_log_likelihood": lst(g.score_samples(new)),
            "lower_bound": float(g.lower_bound_), "n_iter": int(g.n_iter_), "converged": bool(g.converged_),
        })
    write("gmm.json", {"x": lst(x), "new": lst(new), "cases": cases})


def cblof_case(rng):
    x = np.round(np.vstack([rng.normal(size=(200, 3)), rng.normal(size=(120, 3)) * 0.6 + [5, 0, 0],
                            rng.normal(size=(60, 3)) * 0.4 + [0, 6, 0], rng.normal(size=(12, 3)) * 0.3 + [6, 6, 6],
                            rng.uniform(-6, 10, size=(8, 3))]), 5)
    new = np.round(rng.uniform(-6, 10, size=(20, 3)), 5)
    cases = []
    for w in (False, True):
        m = CBLOF(n_clusters=8, random_state=0, use_weights=w).fit(x)
        cases.append({"use_weights": w, "labels": m.cluster_labels_.tolist(),
                      "centres": lst(m.cluster_centers_), "scores": lst(m.decision_scores_),
                      "new_scores": lst(m.decision_function(new)),
                      "large": sorted(int(c) for c in m.large_cluster_labels_)})
    write("cblof.json", {"x": lst(x), "new": lst(new), "alpha": 0.9, "beta": 5.0, "cases": cases})


def metrics_case(rng):
    cases = []
    for n, pos_rate, decimals in ((50, 0.3, 1), (300, 0.05, 2), (1000, 0.1, 1), (200, 0.5, 0), (120, 0.2, 6)):
        y = (rng.random(n) < pos_rate).astype(int)
        y[0], y[1] = 1, 0
        s = np.round(rng.normal(size=n) + y * 0.8, decimals)
        cases.append({"y": y.tolist(), "scores": lst(s), "roc_auc": float(roc_auc_score(y, s)),
                      "average_precision": float(average_precision_score(y, s)),
                      "precision_at_n": float(precision_n_scores(y, s))})
    write("metrics.json", {"cases": cases})


def autoencoder_case(rng):
    # Rows near a 2-D manifold (a smooth map of two latent values) in 6 dimensions, and rows off it whose
    # every coordinate is in the inliers' range: only the structure gives them away.
    def manifold(n):
        t = rng.uniform(-2, 2, size=(n, 2))
        cols = [t[:, 0], t[:, 1], t[:, 0] * t[:, 1], np.sin(t[:, 0]), t[:, 1] ** 2, t[:, 0] - t[:, 1]]
        return np.column_stack(cols) + rng.normal(scale=0.05, size=(n, 6))

    def off(n):
        base = manifold(n)
        return np.column_stack([base[:, j][rng.permutation(n)] for j in range(6)])

    x = np.round(np.vstack([manifold(400), off(16)]), 5)
    y = np.r_[np.zeros(400), np.ones(16)].astype(int)
    new = np.round(np.vstack([manifold(30), off(10)]), 5)
    y_new = np.r_[np.zeros(30), np.ones(10)].astype(int)
    out = {"x": lst(x), "y": y.tolist(), "new": lst(new), "y_new": y_new.tolist()}
    for name, cls in (("autoencoder", AutoEncoder), ("vae", VAE)):
        runs = []
        for seed in range(10):
            m = cls(random_state=seed, verbose=0).fit(x)
            s, s_new = m.decision_scores_, m.decision_function(new)
            run = {"seed": seed, "roc_auc": float(roc_auc_score(y, s)), "new_roc_auc": float(roc_auc_score(y_new, s_new))}
            if seed < 3:  # scores of three seeds are enough to compare rankings
                run.update(scores=lst(s), new_scores=lst(s_new))
            runs.append(run)
        rho = [scipy.stats.spearmanr(runs[a]["scores"], runs[b]["scores"]).statistic for a, b in ((0, 1), (0, 2), (1, 2))]
        out[name] = {"runs": runs, "spearman_between_pyod_seeds": [float(r) for r in rho]}
    write("autoencoder.json", out, {"torch": torch.__version__})


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("*.json"):
        p.unlink()
    rng = np.random.default_rng(20261125)
    iforest_case(rng)
    knn_lof_cases(rng)
    ecdf_case(rng)
    pca_case(rng)
    gmm_case(rng)
    cblof_case(rng)
    metrics_case(rng)
    autoencoder_case(rng)
    total = sum(p.stat().st_size for p in OUT.glob("*.json"))
    print(f"wrote {len(list(OUT.glob('*.json')))} fixtures, {total / 1024:.0f} KiB, into {OUT}")


if __name__ == "__main__":
    main()
