"""DBSCAN, k-means, Ward and the validation indices against scikit-learn and hdbscan."""

import pickle

import numpy as np
import pytest

import outflow
from conftest import blobs, need


def test_dbscan_matches_scikit_learn_with_a_given_radius():
    cluster = need("sklearn.cluster")
    X = blobs(seed=1)
    ref = cluster.DBSCAN(eps=0.8, min_samples=6).fit(X)
    ours = outflow.DBSCAN(eps=0.8, min_samples=6).fit(X)
    assert np.array_equal(ref.labels_, ours.labels_)
    assert np.array_equal(np.sort(ref.core_sample_indices_), ours.core_sample_indices_)
    assert ours.eps_ == 0.8
    np.testing.assert_array_equal(ours.components_, X[ours.core_sample_indices_])


def test_dbscan_auto_radius_is_the_knn_rule():
    neighbors = need("sklearn.neighbors")
    X = blobs(seed=2)
    ours = outflow.DBSCAN(min_samples=5, knn_k=4).fit(X)
    # The 4th neighbour, the row itself counted as the first.
    d = neighbors.NearestNeighbors(n_neighbors=4).fit(X).kneighbors(X)[0][:, -1]
    assert ours.eps_ == pytest.approx(np.median(d) + 0.5 * np.std(d), rel=1e-12)
    cluster = need("sklearn.cluster")
    assert np.array_equal(cluster.DBSCAN(eps=ours.eps_, min_samples=5).fit(X).labels_, ours.labels_)


def test_dbscan_approximate_neighbours_agree_with_scikit_learn():
    cluster = need("sklearn.cluster")
    metrics = need("sklearn.metrics")
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 10, (6, 40))
    X = centres[np.arange(3000) % 6] + rng.normal(0, 1.0, (3000, 40))
    ref = cluster.DBSCAN(eps=9.0, min_samples=10).fit(X)
    ours = outflow.DBSCAN(eps=9.0, min_samples=10, neighbors="approximate", random_state=4).fit(X)
    assert ours.neighbor_recall_ is not None and 0.9 < ours.neighbor_recall_ <= 1.0
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= 0.98
    again = outflow.DBSCAN(eps=9.0, min_samples=10, neighbors="approximate", random_state=4).fit(X)
    assert np.array_equal(again.labels_, ours.labels_)
    assert outflow.DBSCAN(eps=9.0, min_samples=10).fit(X).neighbor_recall_ is None
    with pytest.raises(outflow.InputError, match="neighbors"):
        outflow.DBSCAN(neighbors="nearest").fit(X)


def test_kmeans_matches_scikit_learn_from_the_same_centres():
    cluster = need("sklearn.cluster")
    X = blobs(seed=3)
    init = X[[0, 200, 400, 590]]
    ref = cluster.KMeans(n_clusters=4, init=init, n_init=1, tol=0.0, max_iter=300).fit(X)
    ours = outflow.KMeans(n_clusters=4, init=init, n_init=1, tol=0.0).fit(X)
    assert np.array_equal(ref.labels_, ours.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9, atol=1e-12)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-9)
    assert np.array_equal(ours.predict(X[:40]), ref.predict(X[:40]))
    back = pickle.loads(pickle.dumps(ours))
    assert np.array_equal(back.predict(X[:40]), ours.predict(X[:40]))


def test_kmeans_is_reproducible_for_a_seed():
    X = blobs(seed=4)
    a = outflow.KMeans(n_clusters=4, n_init=3, random_state=7).fit(X)
    b = outflow.KMeans(n_clusters=4, n_init=3, random_state=7).fit(X)
    assert np.array_equal(a.labels_, b.labels_) and a.inertia_ == b.inertia_


def test_ward_matches_scikit_learn():
    cluster = need("sklearn.cluster")
    metrics = need("sklearn.metrics")
    X = blobs(n=400, seed=5)
    ref = cluster.AgglomerativeClustering(n_clusters=4, linkage="ward").fit(X)
    ours = outflow.Ward(n_clusters=4).fit(X)
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) == pytest.approx(1.0)


def test_indices_match_scikit_learn_on_non_noise_rows():
    metrics = need("sklearn.metrics")
    X = blobs(seed=6)
    labels = outflow.HDBSCAN(min_cluster_size=15).fit(X).labels_
    keep = labels >= 0
    assert (~keep).any(), "the case must have noise rows to leave out"
    assert outflow.silhouette_score(X, labels) == pytest.approx(metrics.silhouette_score(X[keep], labels[keep]), rel=1e-9)
    assert outflow.davies_bouldin_score(X, labels) == pytest.approx(metrics.davies_bouldin_score(X[keep], labels[keep]), rel=1e-9)
    assert outflow.calinski_harabasz_score(X, labels) == pytest.approx(
        metrics.calinski_harabasz_score(X[keep], labels[keep]), rel=1e-9
    )
    manhattan = outflow.silhouette_score(X, labels, metric="manhattan")
    assert manhattan == pytest.approx(metrics.silhouette_score(X[keep], labels[keep], metric="manhattan"), rel=1e-9)


def test_dbcv_matches_hdbscan_validity_index():
    need("hdbscan")
    from hdbscan.validity import validity_index

    X = blobs(n=400, seed=7)
    labels = outflow.HDBSCAN(min_cluster_size=15).fit(X).labels_
    assert outflow.dbcv(X, labels) == pytest.approx(validity_index(X, labels), abs=1e-9)


def test_hopkins_tells_clusters_from_uniform_data():
    rng = np.random.default_rng(0)
    clustered = outflow.hopkins(blobs(seed=8), random_state=1)
    uniform = outflow.hopkins(rng.uniform(0, 1, (600, 3)), random_state=1)
    assert clustered.statistic > 0.8 and 0.3 < uniform.statistic < 0.7
    assert outflow.hopkins(blobs(seed=8), random_state=1) == clustered


def test_kmeans_takes_scikit_learns_n_init_auto():
    X = blobs(seed=4)
    assert outflow.KMeans(n_clusters=4, n_init="auto", random_state=1).fit(X).n_iter_ >= 1
    with pytest.raises(outflow.InputError, match="tol"):
        outflow.KMeans(tol=float("inf")).fit(X)


def test_labels_are_read_safely():
    X = blobs(seed=9)
    labels = outflow.HDBSCAN(min_cluster_size=15).fit(X).labels_
    packed = np.zeros(X.shape[0], dtype=[("tag", "i1"), ("label", "i8")])
    packed["label"] = labels
    assert outflow.silhouette_score(X, packed["label"]) == outflow.silhouette_score(X, labels)
    with pytest.raises(outflow.InputError, match="64-bit"):
        outflow.silhouette_score(X, np.full(X.shape[0], 2**63, dtype=np.uint64))


def test_index_inputs_are_checked():
    X = blobs(seed=9)
    with pytest.raises(outflow.InputError, match="entries for"):
        outflow.silhouette_score(X, np.zeros(3, dtype=int))
    with pytest.raises(outflow.InputError, match="at least 2 clusters"):
        outflow.silhouette_score(X, np.zeros(X.shape[0], dtype=int))
    with pytest.raises(outflow.InputError, match="integers"):
        outflow.davies_bouldin_score(X, np.full(X.shape[0], 0.5))
    labels = outflow.HDBSCAN(min_cluster_size=15).fit(X).labels_
    with pytest.raises(outflow.InputError, match="sample_size"):
        outflow.silhouette_score(X, labels, sample_size=-1)
    with pytest.raises(outflow.InputError, match="metric"):
        outflow.dbcv(X, labels, metric=None)


# HDBSCAN's sample weights are fast_hdbscan's, the only HDBSCAN with weights, and those are not
# repetitions: a point row counts once in a cluster's stability whatever its weight, and a zero-weight
# row stays in the tree. scikit-learn's check that weight k equals k copies (and 0 equals removal)
# therefore fails by definition, for fast_hdbscan as for us.
EXPECTED_FAILURES = {
    "HDBSCAN": {"check_sample_weight_equivalence_on_dense_data": "fast_hdbscan's weights are not repetitions"},
}


def test_scikit_learn_estimator_checks():
    """scikit-learn's own estimator checks, every one of them (expected failures named and asserted)."""
    need("sklearn")
    from sklearn.utils.estimator_checks import check_estimator

    for estimator in [outflow.HDBSCAN(), outflow.DBSCAN(), outflow.KMeans(n_clusters=2), outflow.Ward()]:
        name = type(estimator).__name__
        expected = EXPECTED_FAILURES.get(name, {})
        results = check_estimator(estimator, on_fail=None, expected_failed_checks=expected)
        failed = [r["check_name"] for r in results if r["status"] == "failed"]
        assert not failed, f"{name}: {failed}"
        xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
        assert xfailed == set(expected), f"{name}: expected failures {sorted(xfailed)}"
