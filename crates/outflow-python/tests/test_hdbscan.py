"""outflow.HDBSCAN against hdbscan 0.8 (exact MST) and scikit-learn's HDBSCAN, and its estimator
contract."""

import pickle
import threading
import time

import numpy as np
import pytest

import outflow
from conftest import blobs, need

CASES = [
    # (data seed, dimensions, min_cluster_size, min_samples in hdbscan's convention, method, epsilon)
    (0, 2, 10, None, "eom", 0.0),
    (1, 3, 15, 5, "eom", 0.0),
    (2, 5, 8, 3, "leaf", 0.0),
    (3, 2, 20, 10, "eom", 0.5),
    (4, 8, 12, None, "leaf", 0.0),
]


@pytest.mark.parametrize("seed,d,mcs,ms,method,eps", CASES)
def test_matches_hdbscan(seed, d, mcs, ms, method, eps):
    hdbscan = need("hdbscan")
    metrics = need("sklearn.metrics")
    X = blobs(d=d, seed=seed)
    ref = hdbscan.HDBSCAN(
        min_cluster_size=mcs,
        min_samples=ms,
        cluster_selection_method=method,
        cluster_selection_epsilon=eps,
        approx_min_span_tree=False,
        gen_min_span_tree=True,
    ).fit(X)
    ours = outflow.HDBSCAN(
        min_cluster_size=mcs,
        min_samples=ms,
        cluster_selection_method=method,
        cluster_selection_epsilon=eps,
        min_samples_includes_self=False,
    ).fit(X)
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= 0.99
    # Mutual-reachability distances tie often (an edge's weight is often a core distance), and two
    # exact implementations may break a tie between equal-weight edges differently: a border point
    # then changes its parent in the tree. Such points must stay rare.
    assert np.mean((ref.labels_ < 0) != (ours.labels_ < 0)) <= 0.01
    assert np.mean(~np.isclose(ours.probabilities_, ref.probabilities_, atol=1e-9)) <= 0.01
    assert np.mean(~np.isclose(ours.outlier_scores_, ref.outlier_scores_, atol=1e-9)) <= 0.01


def test_relative_validity_matches_hdbscan():
    """DBCV over the tree as hdbscan's ``relative_validity_`` computes it, on Outflow's own tree and
    labels (two exact trees may break weight ties differently, and one border point attached elsewhere
    moves this index a lot; the Rust crate's fixtures check it on hdbscan's own trees)."""
    hdbscan = need("hdbscan")
    X = blobs(n=400, d=2, centres=3, seed=21)
    ours = outflow.HDBSCAN(min_cluster_size=20, min_samples_includes_self=False).fit(X)
    ref = hdbscan.HDBSCAN(min_cluster_size=20, approx_min_span_tree=False, gen_min_span_tree=True).fit(X)
    np.testing.assert_allclose(np.sort(ours.minimum_spanning_tree_[:, 2]), np.sort(ref._min_spanning_tree[:, 2]), rtol=1e-12)
    ref._min_spanning_tree = ours.minimum_spanning_tree_
    ref.labels_ = ours.labels_
    ref._relative_validity = None
    assert ours.relative_validity_ == pytest.approx(ref.relative_validity_, abs=1e-12)


def test_min_samples_conventions_agree():
    X = blobs(seed=7)
    a = outflow.HDBSCAN(min_cluster_size=10, min_samples=6).fit(X)
    b = outflow.HDBSCAN(min_cluster_size=10, min_samples=5, min_samples_includes_self=False).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    # The default min_samples is min_cluster_size, counted in each convention.
    c = outflow.HDBSCAN(min_cluster_size=10, min_samples_includes_self=False).fit(X)
    d = outflow.HDBSCAN(min_cluster_size=10, min_samples=11).fit(X)
    assert np.array_equal(c.labels_, d.labels_)


def test_matches_scikit_learn_hdbscan():
    cluster = need("sklearn.cluster")
    metrics = need("sklearn.metrics")
    X = blobs(seed=11, d=4)
    ref = cluster.HDBSCAN(min_cluster_size=12, min_samples=6, copy=True).fit(X)
    ours = outflow.HDBSCAN(min_cluster_size=12, min_samples=6).fit(X)
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= 0.99
    assert np.mean(~np.isclose(ours.probabilities_, ref.probabilities_, atol=1e-9)) <= 0.01


def test_max_cluster_size_matches_scikit_learn():
    """With min_samples 1 (the point itself) no MST edge ties: the partitions must be the same."""
    cluster = need("sklearn.cluster")
    metrics = need("sklearn.metrics")
    X = blobs(n=300, d=2, centres=3, seed=5)
    for cap in (None, 150, 60):
        ref = cluster.HDBSCAN(min_cluster_size=10, min_samples=1, max_cluster_size=cap, copy=True).fit(X)
        ours = outflow.HDBSCAN(min_cluster_size=10, min_samples=1, max_cluster_size=cap).fit(X)
        assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) == 1.0
        assert np.array_equal(ref.labels_ < 0, ours.labels_ < 0)


def test_dbscan_clustering_matches_hdbscan_and_exemplars_are_members():
    hdbscan = need("hdbscan")
    metrics = need("sklearn.metrics")
    X = blobs(n=300, d=2, centres=3, seed=5)
    ref = hdbscan.HDBSCAN(min_cluster_size=10, min_samples=4, approx_min_span_tree=False, prediction_data=True).fit(X)
    ours = outflow.HDBSCAN(min_cluster_size=10, min_samples=5).fit(X)
    for cut in (0.3, 0.8, 3.0):
        for size in (1, 10):
            # A cut of the tree does not depend on how tied edges are ordered: the same partition.
            assert metrics.adjusted_rand_score(ref.dbscan_clustering(cut, size), ours.dbscan_clustering(cut, size)) == 1.0
    # One array of exemplar rows per cluster, each a training row of that cluster.
    assert len(ours.exemplars_) == ours.labels_.max() + 1
    for k, e in enumerate(ours.exemplars_):
        members = {tuple(r) for r in X[ours.labels_ == k].tolist()}
        assert len(e) > 0 and all(tuple(r) in members for r in e.tolist())
    with pytest.raises(outflow.InputError, match="cut_distance"):
        ours.dbscan_clustering(-1.0)


def test_epsilon_max_limits_the_selection():
    X = blobs(n=300, d=2, centres=3, seed=5)
    plain = outflow.HDBSCAN(min_cluster_size=10).fit(X)
    capped = outflow.HDBSCAN(min_cluster_size=10, cluster_selection_epsilon_max=1e-9).fit(X)
    assert plain.labels_.max() >= 1
    # No cluster is born below a billionth of a unit: every point is noise.
    assert capped.labels_.max() == -1


def test_approximate_predict_matches_hdbscan():
    hdbscan = need("hdbscan")
    X = blobs(seed=3)
    new = blobs(n=200, seed=30)
    ref = hdbscan.HDBSCAN(min_cluster_size=15, approx_min_span_tree=False, prediction_data=True).fit(X)
    ours = outflow.HDBSCAN(min_cluster_size=15, min_samples_includes_self=False).fit(X)
    ref_labels, ref_strengths = hdbscan.approximate_predict(ref, new)
    labels, strengths = outflow.approximate_predict(ours, new)
    # Labels are numbered per implementation: map hdbscan's to ours through the training labels.
    to_ours = {r: o for r, o in zip(ref.labels_, ours.labels_) if r >= 0}
    to_ours[-1] = -1
    assert np.array_equal(labels, np.array([to_ours[r] for r in ref_labels]))
    np.testing.assert_allclose(strengths, ref_strengths, atol=1e-9)
    scores = outflow.approximate_predict_scores(ours, new)
    assert scores.shape == (new.shape[0],) and np.all((scores >= 0) & (scores <= 1))
    assert np.array_equal(ours.predict(new), labels)


def test_scikit_learn_contract():
    base = need("sklearn.base")
    pipeline = need("sklearn.pipeline")
    preprocessing = need("sklearn.preprocessing")
    X = blobs(seed=5)
    est = outflow.HDBSCAN(min_cluster_size=12, cluster_selection_method="leaf")
    assert est.get_params()["min_cluster_size"] == 12
    twin = base.clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "labels_")
    twin.set_params(min_cluster_size=30)
    assert twin.min_cluster_size == 30 and est.min_cluster_size == 12
    labels = pipeline.make_pipeline(preprocessing.StandardScaler(), est).fit_predict(X)
    assert labels.shape == (X.shape[0],) and labels.max() >= 1
    assert base.is_clusterer(est) if hasattr(base, "is_clusterer") else True
    with pytest.raises(ValueError):
        est.set_params(no_such_parameter=1)


def test_pickle_round_trip_keeps_prediction():
    X = blobs(seed=8)
    model = outflow.HDBSCAN(min_cluster_size=10).fit(X)
    back = pickle.loads(pickle.dumps(model))
    assert np.array_equal(back.labels_, model.labels_)
    assert np.array_equal(outflow.approximate_predict(back, X[:50])[0], outflow.approximate_predict(model, X[:50])[0])
    # A pickle is data from outside: a damaged one is refused, never trusted.
    data = model._model.to_bytes()
    for damaged in [b"{}", data[: len(data) // 2], data.replace(b'"n_features":3', b'"n_features":9')]:
        with pytest.raises(outflow.ModelFileError, match="HDBSCAN model"):
            type(model._model).from_bytes(damaged)


def test_inputs_of_any_layout_and_numeric_dtype_give_the_same_labels():
    X = blobs(seed=9)
    expected = outflow.HDBSCAN(min_cluster_size=10).fit(X).labels_
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    variants = {
        "strided columns": wide[:, ::2],
        "Fortran order": np.asfortranarray(X),
        "big-endian": X.astype(">f8"),
        "list of lists": X.tolist(),
        "object dtype": X.astype(object),
    }
    for name, v in variants.items():
        assert np.array_equal(outflow.HDBSCAN(min_cluster_size=10).fit(v).labels_, expected), name
    # Rows in reverse (negative strides): the same partition, read backwards.
    metrics = need("sklearn.metrics")
    reversed_rows = outflow.HDBSCAN(min_cluster_size=10).fit(X[::-1]).labels_
    assert metrics.adjusted_rand_score(reversed_rows[::-1], expected) == 1.0
    # A field of a packed record array: float64 values at byte strides that are not multiples of 8.
    packed = np.zeros(X.shape[0], dtype=[("tag", "i1"), ("x", "f8", (X.shape[1],))])
    packed["x"] = X
    assert packed["x"].strides[0] % 8 != 0
    assert np.array_equal(outflow.HDBSCAN(min_cluster_size=10).fit(packed["x"]).labels_, expected)
    ints = np.round(X * 1000).astype(np.int32)
    assert np.array_equal(
        outflow.HDBSCAN(min_cluster_size=10).fit(ints).labels_,
        outflow.HDBSCAN(min_cluster_size=10).fit(ints.astype(np.float64)).labels_,
    )


def test_pandas_frame_records_feature_names():
    pd = need("pandas")
    X = blobs(seed=10)
    frame = pd.DataFrame(X, columns=["duration", "orig_bytes", "resp_bytes"])
    model = outflow.HDBSCAN(min_cluster_size=10).fit(frame)
    assert list(model.feature_names_in_) == ["duration", "orig_bytes", "resp_bytes"]
    assert model.n_features_in_ == 3
    assert np.array_equal(outflow.approximate_predict(model, frame.iloc[:20])[0], model.labels_[:20])
    with pytest.raises(outflow.InputError, match="feature names should match"):
        outflow.approximate_predict(model, frame[["resp_bytes", "orig_bytes", "duration"]])


@pytest.mark.parametrize(
    "bad,message",
    [
        (np.array([[0.0, 1.0], [np.nan, 2.0]] * 10), "non-finite value NaN at row 1, column 0"),
        (np.arange(10.0), "must be a 2-D array"),
        (np.array([["a", "b"]] * 10), "must hold numbers"),
        (np.array([["1.5", "2"]] * 10), "must hold numbers"),
        (np.array([["2024-01-01"]] * 10, dtype="datetime64[D]"), "must hold numbers"),
        (np.ma.masked_array(np.ones((10, 2)), mask=False), "masked"),
        (np.ones((10, 0)), "0 feature"),
        (np.ones((10, 2)) * 1j, "Complex data not supported"),
        (np.ones((1, 2)), "n_samples = 1"),
        (np.empty((0, 3)), "empty"),
    ],
)
def test_bad_input_is_a_clear_input_error(bad, message):
    with pytest.raises(outflow.InputError, match=message):
        outflow.HDBSCAN(min_cluster_size=5).fit(bad)


@pytest.mark.parametrize("metric, p, alpha", [("minkowski", 3.0, 1.0), ("manhattan", None, 0.5), ("haversine", None, 1.0)])
def test_metrics_and_alpha_match_scikit_learn(metric, p, alpha):
    """With min_samples 2 and continuous data, scikit-learn's tree algorithms (which apply alpha to the
    distances only, as hdbscan defines it) and Outflow give the same partition."""
    cluster = need("sklearn.cluster")
    metrics = need("sklearn.metrics")
    X = blobs(n=240, d=2, centres=3, seed=9)
    if metric == "haversine":
        X = X / np.abs(X).max() * 1.2  # radians: latitudes within ±69°
    algorithm = "ball_tree" if metric == "haversine" else "kd_tree"
    params = {"p": p} if p else None
    ref = cluster.HDBSCAN(min_cluster_size=10, min_samples=2, metric=metric, metric_params=params, alpha=alpha,
                          algorithm=algorithm, copy=True).fit(X)
    ours = outflow.HDBSCAN(min_cluster_size=10, min_samples=2, metric=metric, p=p, alpha=alpha).fit(X)
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= 0.99
    assert np.mean((ref.labels_ < 0) != (ours.labels_ < 0)) <= 0.01


def test_membership_vectors_match_hdbscan():
    """hdbscan's soft clustering; new points with the fit's core distances in hdbscan's prediction data,
    as Outflow predicts. Exact (1e-16) where the condensed trees are the same, which the Rust fixtures
    assert; here a tied edge files two bridge rows differently, so: within 0.01, and at most 2 % of the
    rows off by more than 1e-9."""
    hdbscan = need("hdbscan")
    neighbors = need("sklearn.neighbors")
    X = blobs(n=300, d=2, centres=3, noise=0, seed=2)
    ref = hdbscan.HDBSCAN(min_cluster_size=15, min_samples=4, approx_min_span_tree=False, prediction_data=True).fit(X)
    ours = outflow.HDBSCAN(min_cluster_size=15, min_samples=5).fit(X)
    assert np.array_equal(ref.labels_, ours.labels_)
    soft = outflow.all_points_membership_vectors(ours)
    assert soft.shape == (len(X), ours.labels_.max() + 1)
    diff = np.abs(soft - hdbscan.all_points_membership_vectors(ref)).max(axis=1)
    assert diff.max() < 0.01 and np.mean(diff > 1e-9) <= 0.02
    ref.prediction_data_.core_distances = neighbors.NearestNeighbors(n_neighbors=5).fit(X).kneighbors(X)[0][:, -1]
    Q = np.random.default_rng(0).uniform(X.min(), X.max(), (20, 2))
    assert np.allclose(outflow.membership_vector(ours, Q), hdbscan.membership_vector(ref, Q), atol=0.01)


def test_persistence_removes_short_lived_splits():
    """Parity with fast_hdbscan is asserted on the Rust fixtures (fast_hdbscan and numba stay out of the
    test environment); here: the option reaches the fit and only ever merges clusters."""
    X = blobs(n=300, d=2, centres=4, seed=3)
    counts = [outflow.HDBSCAN(min_cluster_size=10, min_samples=1, cluster_selection_persistence=t).fit(X).labels_.max() + 1
              for t in (0.0, 0.2, 1.0, 5.0, 1e6)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    with pytest.raises(outflow.InputError, match="cluster_selection_persistence"):
        outflow.HDBSCAN(cluster_selection_persistence=-1.0).fit(X)


def test_precomputed_distances_match_hdbscan():
    hdbscan = need("hdbscan")
    metrics = need("sklearn.metrics")
    X = blobs(n=200, d=4, centres=3, seed=4)
    D = np.abs(X[:, None, :] - X[None, :, :]).sum(axis=2)  # L1, as a matrix
    ref = hdbscan.HDBSCAN(min_cluster_size=10, min_samples=2, metric="precomputed", algorithm="generic").fit(D)
    ours = outflow.HDBSCAN(min_cluster_size=10, min_samples=3, metric="precomputed").fit(D)
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= 0.99
    same = outflow.HDBSCAN(min_cluster_size=10, min_samples=3, metric="manhattan").fit(X)
    assert np.array_equal(same.labels_, ours.labels_)
    with pytest.raises(outflow.InputError, match="symmetric"):
        outflow.HDBSCAN(metric="precomputed").fit(D + np.triu(np.ones_like(D)))


def test_bad_parameters_are_refused_at_fit():
    X = blobs(seed=1)
    for params, message in [
        ({"min_cluster_size": 1}, "min_cluster_size"),
        ({"min_samples": 0}, "min_samples"),
        ({"cluster_selection_method": "best"}, "cluster_selection_method"),
        ({"metric": "mahalanobis"}, "metric"),
        ({"cluster_selection_epsilon": -1.0}, "cluster_selection_epsilon"),
        ({"cluster_selection_epsilon": float("nan")}, "cluster_selection_epsilon"),
        ({"min_cluster_size": 2**70}, "min_cluster_size"),
        ({"min_cluster_size": 10, "max_cluster_size": 5}, "max_cluster_size"),
        ({"cluster_selection_epsilon": 0.5, "cluster_selection_epsilon_max": 0.2}, "cluster_selection_epsilon_max"),
        ({"cluster_selection_epsilon_max": float("nan")}, "cluster_selection_epsilon_max"),
        ({"alpha": 0.0}, "alpha"),
        ({"metric": "minkowski", "p": 0.5}, "p must be"),
        ({"metric": "haversine"}, "haversine takes two columns"),
    ]:
        est = outflow.HDBSCAN(**params)  # accepted as given, as scikit-learn requires
        with pytest.raises(outflow.InputError, match=message):
            est.fit(X)


def test_sparse_input_is_refused():
    sparse = need("scipy.sparse")
    with pytest.raises(TypeError, match="toarray"):
        outflow.HDBSCAN().fit(sparse.csr_matrix(np.ones((10, 2))))


def test_sparse_precomputed_distances_match_scikit_learn():
    """A symmetric k-nearest-neighbour graph as scikit-learn's sparse precomputed input: same labels,
    scikit-learn's min_samples=k being ours k+1 (no stored diagonal)."""
    sparse = need("scipy.sparse")
    neighbors = need("sklearn.neighbors")
    cluster = need("sklearn.cluster")
    metrics = need("sklearn.metrics")
    X = blobs(d=3, seed=7)
    G = neighbors.kneighbors_graph(X, 12, mode="distance")
    G = G.maximum(G.T).tocoo()  # symmetric; coordinate format on purpose (converted inside)
    ref = cluster.HDBSCAN(min_cluster_size=15, min_samples=4, metric="precomputed").fit(G.tocsr())
    ours = outflow.HDBSCAN(min_cluster_size=15, min_samples=4, min_samples_includes_self=False, metric="precomputed").fit(G)
    assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= 0.98
    assert len(ours.exemplars_) == ours.labels_.max() + 1
    rows = G.tocsr()[:5].toarray()
    rows[rows == 0] = np.inf
    np.fill_diagonal(rows[:, :5], 0.0)
    labels, _ = outflow.approximate_predict(ours, rows)
    assert (labels == ours.labels_[:5]).mean() >= 0.8
    with pytest.raises(outflow.InputError, match="connected components"):
        outflow.HDBSCAN(metric="precomputed").fit(sparse.block_diag([G, G]).tocsr())
    with pytest.raises(outflow.InputError, match="square"):
        outflow.HDBSCAN(metric="precomputed").fit(sparse.csr_matrix(np.ones((4, 3))))
    twice = sparse.coo_matrix(([1.0, 1.0, 2.0, 2.0], ([0, 0, 1, 1], [1, 1, 0, 0])), shape=(2, 2))
    with pytest.raises(outflow.InputError, match="more than once"):
        outflow.HDBSCAN(metric="precomputed", min_cluster_size=2).fit(twice)


def test_prediction_checks_width_and_fit():
    X = blobs(seed=2)
    with pytest.raises((AttributeError, ValueError), match="not fitted"):
        outflow.approximate_predict(outflow.HDBSCAN(), X)
    model = outflow.HDBSCAN(min_cluster_size=10).fit(X)
    with pytest.raises(outflow.InputError, match="features"):
        outflow.approximate_predict(model, X[:, :2])


def test_fit_releases_the_gil():
    """While a fit runs in one thread, another thread keeps running Python: the fit holds no GIL."""
    X = blobs(n=60_000, d=3, seed=12)
    window = {}

    def fit():
        window["start"] = time.perf_counter()
        outflow.HDBSCAN(min_cluster_size=50).fit(X)
        window["end"] = time.perf_counter()

    worker = threading.Thread(target=fit)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    inside = [t for t in ticks if window["start"] < t < window["end"]]
    # Each tick is a return of this thread to Python; with the GIL held by the fit there would be
    # none between its start and end (at most one straddling the call).
    assert len(inside) >= 5, f"{len(inside)} ticks during a fit of {window['end'] - window['start']:.3f} s"


def _weights_fixture(name):
    import json
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "outflow-cluster/tests/fixtures/hdbscan_weights" / f"{name}.json"
    return json.loads(path.read_text())


def test_sample_weights_and_partial_labels_match_fast_hdbscan():
    """fast_hdbscan's results recorded by tools/reference/hdbscan_weights_reference.py (fast_hdbscan is not
    in this environment): sample weights, and partial labels with HDBSCAN*(BC)."""
    metrics = need("sklearn.metrics")
    d = _weights_fixture("blobs_int_weights")
    run = d["runs"][0]
    X, w = np.array(d["x"]), np.array(d["weights"])
    ours = outflow.HDBSCAN(min_cluster_size=run["min_cluster_size"], min_samples=run["min_samples"]).fit(X, sample_weight=w)
    assert metrics.adjusted_rand_score(run["labels"], ours.labels_) == 1.0
    assert np.array_equal(ours.labels_ < 0, np.array(run["labels"]) < 0)
    unweighted = outflow.HDBSCAN(min_cluster_size=run["min_cluster_size"], min_samples=run["min_samples"]).fit(X)
    assert metrics.adjusted_rand_score(run["labels"], unweighted.labels_) < 0.99, "the weights matter here"

    d = _weights_fixture("nested_semi_supervised")
    X, y = np.array(d["x"]), np.array(d["y"])
    for run in d["runs"][:2]:
        # fast_hdbscan counts min_samples without the row itself when unweighted. Tied edges move its own
        # result with the row order (reordered_ari), so agreement is asked within 0.02 of that.
        est = outflow.HDBSCAN(
            min_cluster_size=run["min_cluster_size"], min_samples=run["min_samples"], min_samples_includes_self=False,
            semi_supervised=True, ss_algorithm=run["ss_algorithm"],
        )
        ari = metrics.adjusted_rand_score(run["labels"], est.fit_predict(X, y))
        assert ari >= run["reordered_ari"] - 0.02, (run["ss_algorithm"], ari)
    assert np.array_equal(outflow.HDBSCAN().fit(X, sample_weight=2.0).labels_, outflow.HDBSCAN().fit(X, sample_weight=np.full(len(X), 2.0)).labels_)


def test_approximate_neighbours_match_the_exact_partition():
    metrics = need("sklearn.metrics")
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 10, (6, 40))
    X = np.vstack([c + rng.normal(0, 1, (300, 40)) for c in centres] + [rng.uniform(-30, 30, (20, 40))])
    exact = outflow.HDBSCAN(min_cluster_size=30, min_samples=10).fit(X)
    assert exact.neighbor_recall_ is None
    approx = outflow.HDBSCAN(min_cluster_size=30, min_samples=10, neighbors="approximate", random_state=3).fit(X)
    assert 0.9 < approx.neighbor_recall_ <= 1.0
    assert metrics.adjusted_rand_score(exact.labels_, approx.labels_) >= 0.98
    again = outflow.HDBSCAN(min_cluster_size=30, min_samples=10, neighbors="approximate", random_state=3).fit(X)
    assert np.array_equal(again.labels_, approx.labels_)
    with pytest.raises(outflow.InputError, match="neighbors"):
        outflow.HDBSCAN(neighbors="nearest").fit(X)
    with pytest.raises(outflow.InputError, match="knn_k"):
        outflow.HDBSCAN(min_samples=10, neighbors="approximate", knn_k=3).fit(X)


def test_bad_weights_and_labels_are_input_errors():
    X = blobs(d=2, seed=0)
    n = X.shape[0]
    with pytest.raises(outflow.InputError, match="one per row"):
        outflow.HDBSCAN().fit(X, sample_weight=np.ones(n - 1))
    with pytest.raises(outflow.InputError, match="sample_weight"):
        outflow.HDBSCAN().fit(X, sample_weight=-np.ones(n))
    with pytest.raises(outflow.InputError, match="non-zero"):
        outflow.HDBSCAN().fit(X, sample_weight=np.zeros(n))
    with pytest.raises(outflow.InputError, match="partial labels y"):
        outflow.HDBSCAN(semi_supervised=True).fit(X)
    with pytest.raises(outflow.InputError, match="whole numbers"):
        outflow.HDBSCAN(semi_supervised=True).fit(X, np.full(n, 0.5))
    with pytest.raises(outflow.InputError, match="unlabelled"):
        outflow.HDBSCAN(semi_supervised=True).fit(X, np.full(n, -1))
    with pytest.raises(outflow.InputError, match="ss_algorithm"):
        outflow.HDBSCAN(semi_supervised=True, ss_algorithm="bcubed").fit(X, np.zeros(n))


def test_branch_detector_matches_hdbscan():
    """FLASC branches against hdbscan's BranchDetector (run here) and the fixture's tie-independent
    reference (tools/reference/hdbscan_branches_reference.py)."""
    hdbscan = need("hdbscan")
    metrics = need("sklearn.metrics")
    import json
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "outflow-cluster/tests/fixtures/hdbscan_branches/star3_blob.json"
    d = json.loads(path.read_text())
    X = np.array(d["x"])
    clusterer = outflow.HDBSCAN(min_cluster_size=50, min_samples=2).fit(X)
    for run in d["runs"]:
        ours = outflow.BranchDetector(
            branch_detection_method=run["method"], cluster_selection_method=run["selection"],
            min_cluster_size=run["min_branch_size"], label_sides_as_branches=run["label_sides_as_branches"],
        ).fit(clusterer)
        assert metrics.adjusted_rand_score(run["level"]["labels"], ours.labels_) == 1.0
        assert np.allclose(ours.centralities_, d["centralities"], rtol=0, atol=2e-6)  # recorded to 6 decimals
        ref_clusterer = hdbscan.HDBSCAN(min_cluster_size=50, min_samples=1, algorithm="prims_kdtree", branch_detection_data=True).fit(X)
        ref = hdbscan.branches.BranchDetector(
            branch_detection_method=run["method"], cluster_selection_method=run["selection"],
            min_cluster_size=run["min_branch_size"], label_sides_as_branches=run["label_sides_as_branches"],
        ).fit(ref_clusterer)
        assert metrics.adjusted_rand_score(ref.labels_, ours.labels_) >= run["level"]["ari_vs_hdbscan"] - 1e-6
    with pytest.raises(outflow.InputError, match="branch_detection_method"):
        outflow.BranchDetector(branch_detection_method="all").fit(clusterer)
