#!/usr/bin/env python3
"""Reference fixtures of outflow-embed (parity with scikit-learn 1.9.1's TSNE and trustworthiness).

    /work/venv/bin/python tools/reference/embed_reference.py

Writes small JSON files into crates/outflow-embed/tests/fixtures/ (removing stale *.json there); the Rust
tests read only these files. Seeded: re-running reproduces them. Data are rounded before use so the JSON
text is exactly the float64 scikit-learn saw; continuous data, so neighbour sets have no ties.

Cases
-----
* tsne_gradient.json -- on 150 x 5 rows, perplexity 10: scikit-learn's joint probabilities P
                        (`_joint_probabilities_nn` on the 31 nearest neighbours, squared distances) as
                        (row, column, value) triplets, its PCA start (`init="pca"`, scaled to a first-axis
                        standard deviation of 1e-4), and the Barnes-Hut divergence and gradient
                        (`_kl_divergence_bh`, angle 0.5) at two positions: spread-out random ones and
                        exaggerated-free ones; for 2 and 3 components.
* tsne_runs.json     -- scikit-learn TSNE with its defaults (random_state 0) on three shapes: the
                        trustworthiness of its embedding at 5 and 10 neighbours, kl_divergence_, n_iter_.
* trustworthiness.json -- scikit-learn's trustworthiness of given embeddings (k = 1, 5, 12), for exact parity.
"""
import json
import pathlib
import warnings

import numpy as np
import scipy.sparse
import sklearn
from sklearn.datasets import make_blobs, make_s_curve
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities_nn, _kl_divergence_bh
from sklearn.neighbors import NearestNeighbors

warnings.filterwarnings("ignore")
OUT = pathlib.Path(__file__).resolve().parents[2] / "crates" / "outflow-embed" / "tests" / "fixtures"
VERSIONS = {"sklearn": sklearn.__version__, "numpy": np.__version__}


def lst(a):
    return np.asarray(a, dtype=float).tolist()


def write(name, obj):
    obj["versions"] = VERSIONS
    (OUT / name).write_text(json.dumps(obj, separators=(",", ":")))


def gradient_case(rng):
    x = np.round(np.vstack([rng.normal(size=(75, 5)), rng.normal(size=(75, 5)) * 0.5 + 3.0]), 5)
    perplexity, k = 10.0, 31
    knn = NearestNeighbors(n_neighbors=k).fit(x)
    d = knn.kneighbors_graph(mode="distance")
    d.data **= 2
    p = scipy.sparse.csr_matrix(_joint_probabilities_nn(d, perplexity, 0))
    p.sort_indices()
    coo = p.tocoo()
    cases = []
    for dim in (2, 3):
        pca = PCA(n_components=dim, random_state=0).fit_transform(x).astype(np.float32)
        start = pca / np.std(pca[:, 0]) * 1e-4
        spread = np.round(rng.normal(size=(150, dim)) * 4.0, 4).astype(np.float32)
        evals = []
        for name, pos in (("pca_start", start), ("spread", spread)):
            err, grad = _kl_divergence_bh(pos.ravel().copy(), p, max(dim - 1, 1), 150, dim, angle=0.5,
                                          compute_error=True)
            evals.append({"name": name, "positions": lst(pos), "error": float(err), "gradient": lst(grad)})
        cases.append({"n_components": dim, "pca_start": lst(start), "evaluations": evals})
    write("tsne_gradient.json", {"x": lst(x), "perplexity": perplexity, "k": k, "rows": coo.row.tolist(),
                                 "cols": coo.col.tolist(), "values": lst(coo.data), "cases": cases})


def runs_case(rng):
    blobs, _ = make_blobs(n_samples=500, n_features=10, centers=5, cluster_std=[0.5, 1, 1.5, 2, 1],
                          random_state=3)
    curve, _ = make_s_curve(n_samples=800, noise=0.05, random_state=3)
    flows = np.column_stack([rng.lognormal(2, 1.5, 900), rng.lognormal(5, 2, 900), rng.poisson(4, 900) +
                             rng.random(900), rng.normal(size=900)])
    flows = np.log1p(np.abs(flows)) * np.sign(flows)
    runs = []
    for name, x in (("blobs", blobs), ("s_curve", curve), ("flows", flows)):
        x = np.round(x, 5)
        m = TSNE(random_state=0).fit(x)
        runs.append({"name": name, "x": lst(x), "trustworthiness_5": float(trustworthiness(x, m.embedding_, n_neighbors=5)),
                     "trustworthiness_10": float(trustworthiness(x, m.embedding_, n_neighbors=10)),
                     "kl_divergence": float(m.kl_divergence_), "n_iter": int(m.n_iter_)})
    write("tsne_runs.json", {"runs": runs})


def trust_case(rng):
    x = np.round(rng.normal(size=(120, 6)), 5)
    cases = []
    for emb in (x[:, :2], x[:, :2] + np.round(rng.normal(size=(120, 2)), 4), np.round(rng.normal(size=(120, 3)), 4)):
        for k in (1, 5, 12):
            cases.append({"embedding": lst(emb), "k": k, "trustworthiness": float(trustworthiness(x, emb, n_neighbors=k))})
    write("trustworthiness.json", {"x": lst(x), "cases": cases})


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("*.json"):
        p.unlink()
    rng = np.random.default_rng(20261205)
    gradient_case(rng)
    runs_case(rng)
    trust_case(rng)
    total = sum(p.stat().st_size for p in OUT.glob("*.json"))
    print(f"wrote {len(list(OUT.glob('*.json')))} fixtures, {total / 1024:.0f} KiB, into {OUT}")


if __name__ == "__main__":
    main()
