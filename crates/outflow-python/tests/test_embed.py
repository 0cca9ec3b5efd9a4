"""TSNE and trustworthiness against scikit-learn on the same data."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.manifold import TSNE as SkTSNE
from sklearn.manifold import trustworthiness as sk_trustworthiness

import outflow


def test_trustworthiness_equals_sklearn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 6))
    for emb in (x[:, :2], rng.normal(size=(150, 2))):
        for k in (1, 5, 12):
            assert outflow.trustworthiness(x, emb, n_neighbors=k) == pytest.approx(
                sk_trustworthiness(x, emb, n_neighbors=k), abs=1e-12
            )


def test_tsne_is_as_trustworthy_as_sklearn_and_deterministic():
    x, _ = make_blobs(n_samples=400, n_features=8, centers=4, random_state=1)
    ours = outflow.TSNE(perplexity=20).fit(x)
    theirs = SkTSNE(perplexity=20, random_state=0).fit(x)
    assert ours.embedding_.shape == (400, 2) and ours.n_features_in_ == 8
    for k in (5, 10):
        assert sk_trustworthiness(x, ours.embedding_, n_neighbors=k) >= sk_trustworthiness(
            x, theirs.embedding_, n_neighbors=k
        ) - 0.02
    assert ours.kl_divergence_ <= theirs.kl_divergence_ * 1.1 + 0.02
    assert ours.learning_rate_ == pytest.approx(theirs.learning_rate_)
    again = outflow.TSNE(perplexity=20).fit_transform(x)
    assert np.array_equal(again, ours.embedding_)
    assert outflow.TSNE(n_components=3, perplexity=20, max_iter=250).fit_transform(x).shape == (400, 3)


def test_bad_parameters_name_themselves():
    x = np.random.default_rng(1).normal(size=(40, 3))
    for kwargs, needle in (
        ({"perplexity": 40}, "perplexity"),
        ({"n_components": 4}, "n_components"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"init": "spectral"}, "init"),
        ({"max_iter": 100}, "max_iter"),
    ):
        with pytest.raises(outflow.InputError, match=needle):
            outflow.TSNE(**kwargs).fit(x)
    with pytest.raises(outflow.InputError):
        outflow.TSNE(perplexity=5).fit(np.array([[1.0, np.nan]] * 20))
    with pytest.raises(outflow.InputError, match="n_neighbors"):
        outflow.trustworthiness(x, x[:, :2], n_neighbors=20)


def test_umap_maps_are_trustworthy_deterministic_and_transform_new_rows():
    x, _ = make_blobs(n_samples=500, n_features=8, centers=4, random_state=2)
    model = outflow.UMAP(random_state=3).fit(x[:400])
    assert model.embedding_.shape == (400, 2) and model.n_features_in_ == 8
    # umap-learn's maps of such blobs: trustworthiness ~0.96-0.99 at 5 neighbours.
    assert sk_trustworthiness(x[:400], model.embedding_, n_neighbors=5) > 0.95
    assert model._a == pytest.approx(1.5769, abs=1e-3) and model._b == pytest.approx(0.8951, abs=1e-3)
    assert np.array_equal(outflow.UMAP(random_state=3).fit_transform(x[:400]), model.embedding_)
    new = model.transform(x[400:])
    assert new.shape == (100, 2)
    assert sk_trustworthiness(x[400:], new, n_neighbors=5) > 0.9
    # A row lands where it lands in a batch; a pickled model places rows the same way.
    assert np.array_equal(model.transform(x[450:451])[0], new[50])
    import pickle

    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.transform(x[400:]), new)
    minkowski = outflow.UMAP(metric="minkowski", metric_kwds={"p": 3}, n_components=3, n_epochs=50).fit(x)
    assert minkowski.embedding_.shape == (500, 3)


def test_umap_bad_parameters_name_themselves():
    x = np.random.default_rng(1).normal(size=(40, 3))
    for kwargs, needle in (
        ({"n_neighbors": 40}, "n_neighbors"),
        ({"min_dist": 2.0}, "min_dist"),
        ({"init": "tsne"}, "init"),
        ({"metric": "nope"}, "metric"),
        ({"metric_kwds": {"w": 1}}, "metric_kwds"),
    ):
        with pytest.raises(outflow.InputError, match=needle):
            outflow.UMAP(**kwargs).fit(x)
    with pytest.raises(outflow.InputError):
        outflow.UMAP(n_neighbors=5).fit(np.array([[1.0, np.nan]] * 20))
    with pytest.raises(outflow.InputError):
        outflow.UMAP(n_neighbors=5).fit(x).transform(np.zeros((2, 4)))
