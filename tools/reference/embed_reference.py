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
* umap_curve.json    -- umap-learn's find_ab_params(spread, min_dist) for several pairs.
* umap_graph.json    -- on 200 x 4 rows (below 4,096, so umap-learn searches neighbours exactly): the fuzzy
                        graph (`fuzzy_simplicial_set` on UMAP.fit's exact neighbours) as (row, column, value) triplets, `_sigmas` and `_rhos`, for three
                        parameter sets (default; n_neighbors 7 with local_connectivity 2; set_op_mix_ratio 0.5).
* umap_runs.json     -- umap-learn with its defaults (random_state 0, 1, 2) on the three shapes of
                        tsne_runs.json (referred to by name): the trustworthiness of its embedding at 5 and 10
                        neighbours, and of its `transform` of the last fifth of the rows after a fit on the
                        first four fifths.
"""
import json
import pathlib
import warnings

import numpy as np
import scipy.sparse
import sklearn
import umap
from sklearn.datasets import make_blobs, make_s_curve
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities_nn, _kl_divergence_bh
from sklearn.neighbors import NearestNeighbors

warnings.filterwarnings("ignore")
OUT = pathlib.Path(__file__).resolve().parents[2] / "crates" / "outflow-embed" / "tests" / "fixtures"
VERSIONS = {"sklearn": sklearn.__version__, "numpy": np.__version__, "umap-learn": umap.__version__}


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
    return {"blobs": blobs, "s_curve": curve, "flows": flows}


def trust_case(rng):
    x = np.round(rng.normal(size=(120, 6)), 5)
    cases = []
    for emb in (x[:, :2], x[:, :2] + np.round(rng.normal(size=(120, 2)), 4), np.round(rng.normal(size=(120, 3)), 4)):
        for k in (1, 5, 12):
            cases.append({"embedding": lst(emb), "k": k, "trustworthiness": float(trustworthiness(x, emb, n_neighbors=k))})
    write("trustworthiness.json", {"x": lst(x), "cases": cases})


def umap_curve_case():
    from umap.umap_ import find_ab_params
    pairs = [(1.0, 0.1), (1.0, 0.0), (1.0, 0.5), (2.0, 0.3), (0.5, 0.25), (1.0, 1.0)]
    out = []
    for spread, min_dist in pairs:
        a, b = find_ab_params(spread, min_dist)
        out.append({"spread": spread, "min_dist": min_dist, "a": float(a), "b": float(b)})
    write("umap_curve.json", {"cases": out})


def umap_graph_case(rng):
    x = np.round(np.vstack([rng.normal(size=(100, 4)), rng.normal(size=(100, 4)) * 0.3 + 2.0]), 5)
    cases = []
    from sklearn.metrics import pairwise_distances
    from umap.umap_ import fuzzy_simplicial_set
    dmat = pairwise_distances(x)
    order = np.argsort(dmat, axis=1)
    for params in ({}, {"n_neighbors": 7, "local_connectivity": 2.0}, {"set_op_mix_ratio": 0.5}):
        # UMAP.fit's exact neighbours below 4,096 rows; graph_ itself is pruned in place by the layout.
        k = params.get("n_neighbors", 15)
        idx = order[:, :k]
        g, sigmas, rhos = fuzzy_simplicial_set(x, k, np.random.RandomState(0), "euclidean", knn_indices=idx,
                                               knn_dists=np.take_along_axis(dmat, idx, axis=1),
                                               local_connectivity=params.get("local_connectivity", 1.0),
                                               set_op_mix_ratio=params.get("set_op_mix_ratio", 1.0))
        g = g.tocoo()
        # Single-precision values: 9 significant digits hold them exactly.
        cases.append({"params": params, "rows": g.row.tolist(), "cols": g.col.tolist(),
                      "values": [float(f"{v:.9g}") for v in g.data], "sigmas": lst(sigmas), "rhos": lst(rhos)})
    write("umap_graph.json", {"x": lst(x), "cases": cases})


def umap_runs_case(shapes):
    runs = []
    for name, x in shapes.items():
        x = np.round(x, 5)
        cut = len(x) * 4 // 5
        for seed in (0, 1, 2):
            m = umap.UMAP(random_state=seed).fit(x)
            held = umap.UMAP(random_state=seed).fit(x[:cut]).transform(x[cut:])
            runs.append({"name": name, "seed": seed,
                         "trustworthiness_5": float(trustworthiness(x, m.embedding_, n_neighbors=5)),
                         "trustworthiness_10": float(trustworthiness(x, m.embedding_, n_neighbors=10)),
                         "transform_trustworthiness_5": float(trustworthiness(x[cut:], held, n_neighbors=5))})
    write("umap_runs.json", {"runs": runs})


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("*.json"):
        p.unlink()
    rng = np.random.default_rng(20261205)
    gradient_case(rng)
    shapes = runs_case(rng)
    trust_case(rng)
    umap_curve_case()
    umap_graph_case(rng)
    umap_runs_case(shapes)
    total = sum(p.stat().st_size for p in OUT.glob("*.json"))
    print(f"wrote {len(list(OUT.glob('*.json')))} fixtures, {total / 1024:.0f} KiB, into {OUT}")


if __name__ == "__main__":
    main()
