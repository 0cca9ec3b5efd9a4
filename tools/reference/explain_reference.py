#!/usr/bin/env python3
"""Reference fixtures of outflow-explain (TreeSHAP against shap, CART against scikit-learn).

Run from anywhere with the pinned environment (shap 0.51.0, scikit-learn 1.9.1, see requirements.txt):

    /work/venv/bin/python tools/reference/explain_reference.py

For each TreeSHAP case it
  1. draws a training set (features on a 1/64 grid, integer `label`; not kept) and the rows to explain,
     `<case>.x.csv` (a fifth of them sitting exactly on split thresholds, to pin down `x <= t`);
  2. trains a forest in Rust (`cargo run -p outflow-benches --bin shap_tool -- train`), which writes `<case>.forest.json`
     in shap's custom-tree dict form;
  3. loads that JSON into `shap.TreeExplainer({"trees": [...]})` (path-dependent, raw output) and writes
     shap's expected values, SHAP values and model output to `<case>.shap.json`.
One more case (`sklearn_rf`) exports a scikit-learn forest to the same JSON form and takes shap's values for
the scikit-learn model object itself. The CART cases train `DecisionTreeClassifier` on data checked to be
free of ties between candidate splits and write the fitted tree (`cart*.sklearn.json`).

The Rust tests (crates/outflow-explain/tests/reference.rs) read only the files written here: `cargo test`
needs no Python. Re-running this script retrains the Rust forests, so commit the forest JSON together with
the values.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import shap
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "outflow-explain" / "tests" / "fixtures" / "reference"
INT_KEYS = {"children_left", "children_right", "children_default", "features"}
TREE_KEYS = ["children_left", "children_right", "children_default", "features", "thresholds", "values",
             "node_sample_weight"]


def grid(a):
    """Multiples of 1/64: exact in float32 (scikit-learn trains on float32) and short in decimal."""
    return np.round(np.asarray(a, dtype=np.float64) * 64.0) / 64.0


def write_csv(path, x, labels=None):
    names = [f"f{j}" for j in range(x.shape[1])]
    with open(path, "w") as f:
        f.write(",".join(names + (["label"] if labels is not None else [])) + "\n")
        for i in range(x.shape[0]):
            cells = [repr(float(v)) for v in x[i]]
            if labels is not None:
                cells.append(str(int(labels[i])))
            f.write(",".join(cells) + "\n")


def load_forest(path):
    """A shap custom-tree model dict from the exported JSON."""
    j = json.loads(pathlib.Path(path).read_text())
    trees = [{k: np.asarray(t[k], dtype=np.int32 if k in INT_KEYS else np.float64) for k in TREE_KEYS}
             for t in j["trees"]]
    return {"trees": trees}


def shap_reference(model, x):
    ex = shap.TreeExplainer(model)
    assert ex.feature_perturbation == "tree_path_dependent", ex.feature_perturbation
    assert ex.model.model_output == "raw", ex.model.model_output
    values = np.asarray(ex.shap_values(x, check_additivity=True))  # (rows, features, classes)
    assert values.shape == (x.shape[0], x.shape[1], np.size(ex.expected_value)), values.shape
    return ex, values


def dump(path, obj):
    path.write_text(json.dumps(obj, separators=(",", ":")) + "\n")


def cargo_train(train_csv, forest_json, args):
    cmd = ["cargo", "run", "-q", "-p", "outflow-benches", "--bin", "shap_tool", "--", "train",
           str(train_csv), str(forest_json)] + args
    subprocess.run(cmd, check=True, cwd=ROOT)


def threshold_rows(forest, x, rng, count):
    """Rows copied from `x` with one feature set exactly to a split threshold of the forest."""
    rows = []
    for _ in range(count):
        t = forest["trees"][rng.integers(len(forest["trees"]))]
        internal = np.flatnonzero(t["children_left"] >= 0)
        node = internal[rng.integers(len(internal))]
        row = x[rng.integers(len(x))].copy()
        row[t["features"][node]] = t["thresholds"][node]
        rows.append(row)
    return np.array(rows)


def forest_case(name, n, m, n_explain, label_fn, train_args, seed):
    rng = np.random.default_rng(seed)
    x = grid(rng.normal(size=(n, m)) * rng.uniform(0.5, 3.0, size=m))
    y = label_fn(x, rng)
    forest_json = OUT / f"{name}.forest.json"
    with tempfile.TemporaryDirectory() as tmp:
        train_csv = pathlib.Path(tmp) / f"{name}.train.csv"
        write_csv(train_csv, x, y)
        cargo_train(train_csv, forest_json, train_args)
    model = load_forest(forest_json)
    n_on = max(1, n_explain // 5)
    xe = np.vstack([grid(rng.normal(size=(n_explain - n_on, m)) * x.std(0)), threshold_rows(model, x, rng, n_on)])
    write_csv(OUT / f"{name}.x.csv", xe)
    ex, values = shap_reference(model, xe)
    dump(OUT / f"{name}.shap.json", {
        "expected_value": np.atleast_1d(ex.expected_value).tolist(),
        "shap_values": values.tolist(),
        "model_output": ex.model.predict(xe).tolist(),
    })
    print(f"{name}: {len(model['trees'])} trees, {sum(len(t['values']) for t in model['trees'])} nodes, "
          f"{xe.shape[0]} rows explained")


def sklearn_rf_case(seed=5):
    """A scikit-learn forest: its shap-dict export explained by Rust vs shap on the sklearn object."""
    name = "sklearn_rf"
    rng = np.random.default_rng(seed)
    x = grid(rng.normal(size=(150, 5)))
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 > 0.4).astype(int) + (x[:, 2] > 1.0)
    rf = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=seed).fit(x, y)
    n_trees = len(rf.estimators_)
    trees = []
    for est in rf.estimators_:
        t = est.tree_
        v = t.value[:, 0, :]
        v = v / v.sum(1, keepdims=True) / n_trees
        trees.append({
            "children_left": t.children_left.tolist(), "children_right": t.children_right.tolist(),
            "children_default": t.children_left.tolist(), "features": t.feature.tolist(),
            "thresholds": t.threshold.tolist(), "values": v.tolist(),
            "node_sample_weight": t.weighted_n_node_samples.tolist(),
        })
    dump(OUT / f"{name}.forest.json", {"trees": trees, "n_features": 5, "classes": rf.classes_.tolist()})
    xe = grid(rng.normal(size=(12, 5)))
    write_csv(OUT / f"{name}.x.csv", xe)
    ex, values = shap_reference(rf, xe)
    dump(OUT / f"{name}.shap.json", {
        "expected_value": np.atleast_1d(ex.expected_value).tolist(),
        "shap_values": values.tolist(),
        "model_output": rf.predict_proba(xe).tolist(),
    })
    print(f"{name}: {n_trees} sklearn trees, {xe.shape[0]} rows explained")


def best_proxies(xn, yn, wn, k, min_leaf):
    """Per feature, the best Σ L²/wL + Σ R²/wR over valid splits of one node (-inf when none)."""
    out = []
    for f in range(xn.shape[1]):
        order = np.argsort(xn[:, f], kind="stable")
        v, yy, ww = xn[order, f], yn[order], wn[order]
        onehot = np.zeros((len(v), k))
        onehot[np.arange(len(v)), yy] = ww
        left = np.cumsum(onehot, 0)[:-1]
        total = onehot.sum(0)
        right = total - left
        wl, wr = left.sum(1), right.sum(1)
        pos = np.arange(1, len(v))
        ok = (v[1:] > v[:-1]) & (pos >= min_leaf) & (len(v) - pos >= min_leaf)
        if not ok.any():
            out.append(-np.inf)
            continue
        proxy = (left ** 2).sum(1) / wl + (right ** 2).sum(1) / wr
        out.append(proxy[ok].max())
    return np.array(out)


def has_feature_ties(clf, x, y, sample_weight, min_leaf):
    """True when some internal node has two features whose best splits are (nearly) equally good."""
    path = clf.decision_path(x).tocsc()
    t = clf.tree_
    k = len(clf.classes_)
    yi = np.searchsorted(clf.classes_, y)
    for node in range(t.node_count):
        if t.children_left[node] < 0:
            continue
        rows = path[:, node].nonzero()[0]
        p = np.sort(best_proxies(x[rows], yi[rows], sample_weight[rows], k, min_leaf))[::-1]
        if len(p) > 1 and np.isfinite(p[1]) and p[0] - p[1] <= 1e-9 * abs(p[0]):
            return True
    return False


def cart_case(name, params, seed):
    for attempt in range(50):
        rng = np.random.default_rng(seed + attempt)
        x = grid(rng.normal(size=(200, 4)) * [1.0, 2.0, 0.5, 3.0])
        score = x[:, 0] + 0.4 * x[:, 1] - 0.8 * x[:, 2] * x[:, 3]
        y = np.digitize(score + rng.normal(scale=0.6, size=200), [-0.5, 0.8]) - 1  # classes -1, 0, 1
        clf = DecisionTreeClassifier(random_state=0, **params).fit(x, y)
        sw = np.ones(len(y))
        if params.get("class_weight") == "balanced":
            counts = {c: (y == c).sum() for c in clf.classes_}
            sw = np.array([len(y) / (len(clf.classes_) * counts[c]) for c in y])
        if not has_feature_ties(clf, x, y, sw, params.get("min_samples_leaf", 1)):
            break
    else:
        sys.exit(f"{name}: no tie-free data set found")
    write_csv(OUT / f"{name}.train.csv", x, y)
    t = clf.tree_
    dump(OUT / f"{name}.sklearn.json", {
        "params": params,
        "sklearn": sklearn.__version__,
        "classes": clf.classes_.tolist(),
        "children_left": t.children_left.tolist(), "children_right": t.children_right.tolist(),
        "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
        "n_node_samples": t.n_node_samples.tolist(),
        "weighted_n_node_samples": t.weighted_n_node_samples.tolist(),
        "impurity": t.impurity.tolist(),
        "value": t.value[:, 0, :].tolist(),
        "predict": clf.predict(x).tolist(),
        "feature_importances": clf.feature_importances_.tolist(),
    })
    print(f"{name}: {t.node_count} nodes, depth {clf.get_depth()}, data seed {seed + attempt}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"shap {shap.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}")

    def binary(x, rng):
        return (x[:, 0] - 0.5 * x[:, 3] + rng.normal(scale=0.7, size=len(x)) > 0).astype(int)

    def clusters(x, rng):
        s = x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(scale=0.5, size=len(x))
        y = np.digitize(s, [-0.5, 1.0]) - 1  # -1 .. 1
        y[rng.random(len(x)) < 0.05] = -1
        return y

    def noisy(x, rng):
        return rng.integers(0, 3, size=len(x)) * (x[:, 0] > -0.3) + (x[:, 1] > 0.8)

    forest_case("binary", 120, 5, 20, binary, ["--trees", "5", "--max-depth", "4", "--seed", "1"], seed=11)
    forest_case("multiclass", 200, 6, 12, clusters,
                ["--trees", "4", "--max-depth", "5", "--seed", "7", "--balanced", "--min-samples-leaf", "2"],
                seed=12)
    forest_case("deep", 120, 4, 12, noisy,
                ["--trees", "1", "--max-depth", "none", "--no-bootstrap", "--max-features", "all", "--seed", "3"],
                seed=13)
    sklearn_rf_case()
    cart_case("cart", {"max_depth": 5}, seed=100)
    cart_case("cart_balanced", {"max_depth": 6, "min_samples_leaf": 4, "class_weight": "balanced"}, seed=200)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT.relative_to(ROOT)} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
