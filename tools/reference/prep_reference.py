#!/usr/bin/env python3
"""Reference fixtures for outflow-prep, computed with numpy / pandas / scikit-learn.

Run from the repository root with the pinned environment (see requirements.txt):

    /work/venv/bin/python tools/reference/prep_reference.py

Writes small JSON files to crates/outflow-prep/tests/fixtures/. The Rust tests read them; `cargo test` never
needs Python. Non-finite numbers are written as the strings "NaN", "inf", "-inf" (what outflow-io's
`f64_or_string` writes); a missing value is null.

The correlation-pruning rule (for each pair i < j with |r| >= threshold, neither already dropped, drop the one
with the higher mean |r| to all other features, the second on a tie) is written here as the reference
(`seed_prune`), in two flavours: `zero` (an undefined correlation, i.e. a constant column, counts as 0 in the
mean |r|) and `propagate` (NaN propagates, as polars gives NaN for constant columns). Both use the same tie
tolerance as the Rust code; the script checks that the plain dataframe loop (strict `>`, no tolerance) takes
the same decisions on every fixture.
"""

import io
import json
import math
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "crates", "outflow-prep", "tests", "fixtures")
TIE_TOLERANCE = 1e-12  # must equal outflow_prep::TIE_TOLERANCE
SEED = 20240611


def enc(x):
    """JSON-safe copy: numpy to Python, non-finite floats to strings."""
    if isinstance(x, dict):
        return {k: enc(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [enc(v) for v in x]
    if isinstance(x, np.ndarray):
        return enc(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    return x


def write(name, obj):
    obj = {"generator": "tools/reference/prep_reference.py",
           "versions": {"numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__},
           **obj}
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(enc(obj), f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"{name}: {os.path.getsize(path)} bytes")


def flow_like(rng, n, p_extra=0):
    """Heavy-tailed, tied, signed and constant columns, like flow features."""
    cols = [
        np.round(rng.lognormal(3.0, 2.0, n), 3),              # bytes-like, heavy tail
        rng.poisson(2.0, n).astype(float),                     # counts with ties
        np.full(n, 5.0),                                       # constant
        np.round(rng.uniform(-10, 10, n), 4),                  # signed
        np.where(rng.uniform(size=n) < 0.9, 0.0, rng.exponential(1e4, n)),  # mostly zero: IQR 0, not constant
        rng.standard_normal(n) * 1e-3 + 1e6,                   # large offset, tiny spread
    ]
    for _ in range(p_extra):
        cols.append(rng.standard_normal(n))
    return np.column_stack(cols)


# ---------------------------------------------------------------------------------------------------- scalers
def scalers(rng):
    x = flow_like(rng, 57)
    x_new = flow_like(rng, 9)
    x_new[0, :] = [1e9, -3.0, 7.0, 100.0, 0.0, 0.0]  # far outside the training range
    out = {"x": x, "x_new": x_new, "cases": []}
    for name, est, attrs in [
        ("robust", RobustScaler(), ["center_", "scale_"]),
        ("robust_10_90", RobustScaler(quantile_range=(10.0, 90.0)), ["center_", "scale_"]),
        ("robust_no_centering", RobustScaler(with_centering=False), ["scale_"]),
        ("standard", StandardScaler(), ["mean_", "scale_"]),
        ("minmax", MinMaxScaler(), ["scale_", "min_"]),
        ("minmax_pm1_clip", MinMaxScaler(feature_range=(-1.0, 1.0), clip=True), ["scale_", "min_"]),
    ]:
        est.fit(x)
        exact_mean = [math.fsum(x[:, j]) / x.shape[0] for j in range(x.shape[1])]
        out["cases"].append({
            "exact_mean": exact_mean,
            "name": name,
            "params": {k: v for k, v in est.get_params().items() if k != "copy"},
            "attrs": {a: getattr(est, a) for a in attrs},
            "train": est.transform(x),
            "new": est.transform(x_new),
        })
    write("scalers.json", out)


# ---------------------------------------------------------------------------------------------------- PCA
def seed_components(ratio, f):
    cum = np.cumsum(ratio)
    return int(np.argmax(cum >= f) + 1)


def pca_case(name, x, x_new):
    full = PCA().fit(x)
    k = PCA(n_components=3).fit(x)
    # scikit-learn's covariance_eigh solver forms X'X - n mean mean' (cancellation with large means); the full
    # SVD of the centred data is the accurate reference, the default solver the bit-for-bit peer.
    svd = PCA(svd_solver="full").fit(x)
    return {
        "svd_explained_variance": svd.explained_variance_,
        "svd_components": svd.components_,
        "svd_transform_new": svd.transform(x_new),
        "name": name,
        "solver": full._fit_svd_solver,
        "x": x,
        "x_new": x_new,
        "mean": full.mean_,
        "components": full.components_,
        "explained_variance": full.explained_variance_,
        "explained_variance_ratio": full.explained_variance_ratio_,
        "singular_values": full.singular_values_,
        "transform_new": full.transform(x_new),
        "transform_head": full.transform(x[:10]),
        "k3_components": k.components_,
        "k3_transform_new": k.transform(x_new),
        "components_80": seed_components(full.explained_variance_ratio_, 0.80),
        "components_90": seed_components(full.explained_variance_ratio_, 0.90),
        "components_95": seed_components(full.explained_variance_ratio_, 0.95),
    }


def pca(rng):
    # Correlated features with clearly separated eigenvalues (no near-degenerate axes).
    mix = rng.standard_normal((6, 6)) * np.array([6.0, 4.0, 2.5, 1.5, 0.8, 0.3])[:, None]
    tall = rng.standard_normal((300, 6)) @ mix + np.array([1e3, -5, 0, 2, 7, 1e-2])
    tall_new = rng.standard_normal((7, 6)) @ mix
    mix8 = rng.standard_normal((8, 8)) * np.geomspace(5.0, 0.2, 8)[:, None]
    wide = rng.standard_normal((25, 8)) @ mix8
    wide_new = rng.standard_normal((5, 8)) @ mix8
    cases = [pca_case("tall_covariance_eigh", tall, tall_new), pca_case("short_full_svd", wide, wide_new)]
    assert cases[0]["solver"] == "covariance_eigh" and cases[1]["solver"] == "full", [c["solver"] for c in cases]
    write("pca.json", {"cases": cases})


# ---------------------------------------------------------------------------------------------------- correlation
def formula_matrix(n):
    """Integer-exact data both sides compute identically: spans several of Rust's 4096-row blocks."""
    i = np.arange(n, dtype=np.int64)
    cols = [
        (i * 7919 + 13) % 1009,
        (i * 104729 + 7) % 65537,
        ((i * 7919 + 13) % 1009) * 3 + (i % 11),          # correlated with column 0
        np.full(n, 42),                                    # constant
        (i * i) % 997 - 498,                               # signed
        1_000_000_000 + (i % 17),                          # large offset
    ]
    return np.column_stack(cols).astype(np.float64)


def correlation(rng):
    x = flow_like(rng, 200, p_extra=2)
    x[:, 6] = x[:, 0] * 0.5 + rng.standard_normal(200)   # strongly correlated with the heavy-tailed column
    x[:, 7] = -x[:, 3] + rng.standard_normal(200) * 0.1  # negative correlation
    with np.errstate(invalid="ignore", divide="ignore"):
        small = np.corrcoef(x, rowvar=False)
        big = np.corrcoef(formula_matrix(10_000), rowvar=False)
    write("correlation.json", {
        "small": {"x": x, "corr": small},
        "formula": {"n": 10_000, "corr": big},
    })


# ---------------------------------------------------------------------------------------------------- describe
def seed_skew(data):
    mean = np.mean(data)
    std = np.std(data)
    if std > 0:
        return float(np.mean(((data - mean) / std) ** 3))
    return None


def seed_iqr_outliers(data):
    q1 = np.percentile(data, 25)
    q3 = np.percentile(data, 75)
    iqr = q3 - q1
    return int(np.sum((data < q1 - 1.5 * iqr) | (data > q3 + 1.5 * iqr)))


def describe(rng):
    n = 101
    cols = {
        "heavy": np.round(rng.lognormal(2.0, 2.5, n), 2),
        "ties": rng.integers(0, 4, n).astype(float),
        "with_nulls": np.where(rng.uniform(size=n) < 0.2, np.nan, rng.standard_normal(n) * 50),
        "one_value": np.where(np.arange(n) == 17, 3.25, np.nan),
        "constant": np.full(n, -2.0),
        "with_inf": np.where(np.arange(n) % 40 == 3, np.inf, rng.uniform(0, 10, n)),
        "even_count": np.where(np.arange(n) < 100, rng.exponential(3.0, n), np.nan),
    }
    out = []
    for name, c in cols.items():
        v = c[~np.isnan(c)]
        rec = {"name": name, "values": [None if math.isnan(a) else a for a in c.tolist()], "count": int(v.size)}
        if v.size:
            with np.errstate(invalid="ignore"):
                q = np.percentile(v, [25, 50, 75])
                rec.update(mean=np.mean(v), min=np.min(v), max=np.max(v), p25=q[0], p50=q[1], p75=q[2],
                           std=np.std(v, ddof=1) if v.size > 1 else None,
                           variance=np.var(v, ddof=1) if v.size > 1 else None,
                           skewness=seed_skew(v), iqr_outliers=seed_iqr_outliers(v))
            if np.all(np.isfinite(v)) and v.size > 1:  # pandas agrees where numpy is well defined
                d = pd.Series(c).describe()
                for k, pk in [("mean", "mean"), ("std", "std"), ("p25", "25%"), ("p50", "50%"), ("p75", "75%")]:
                    assert math.isclose(rec[k], d[pk], rel_tol=1e-12, abs_tol=1e-12), (name, k, rec[k], d[pk])
        out.append(rec)
    write("describe.json", {"columns": out})


# ---------------------------------------------------------------------------------------------------- pruning
def seed_prune(corr, threshold, policy):
    """The correlation-pruning rule with an explicit policy for undefined correlations."""
    p = corr.shape[0]
    mean_abs = []
    for i in range(p):
        corrs = [abs(corr[i, j]) for j in range(p) if i != j]
        if policy == "zero":
            corrs = [0.0 if math.isnan(c) else c for c in corrs]
        mean_abs.append(sum(corrs) / len(corrs) if corrs else 0)
    pairs = [(i, j, corr[i, j]) for i in range(p) for j in range(i + 1, p) if abs(corr[i, j]) >= threshold]
    dropped, decisions = set(), []
    for i, j, _ in pairs:
        if i in dropped or j in dropped:
            continue
        d = i if mean_abs[i] > mean_abs[j] + TIE_TOLERANCE else j
        dropped.add(d)
        decisions.append(d)
    return pairs, mean_abs, decisions


def seed_prune_verbatim(corr, threshold):
    """The rule as a plain dataframe loop (polars/numpy NaN for constant columns, strict `>`)."""
    p = corr.shape[0]
    mean_correlations = {}
    for i in range(p):
        corrs = [abs(corr[i, j]) for j in range(p) if i != j]
        mean_correlations[i] = sum(corrs) / len(corrs) if corrs else 0
    strong = [(i, j) for i in range(p) for j in range(i + 1, p) if abs(corr[i, j]) >= threshold]
    cols_to_drop, order = set(), []
    for f1, f2 in strong:
        if f1 in cols_to_drop or f2 in cols_to_drop:
            continue
        d = f1 if mean_correlations[f1] > mean_correlations[f2] else f2
        cols_to_drop.add(d)
        order.append(d)
    return order


def low_variance(x, keep, threshold=0.01):
    return [j for j in keep if np.var(x[:, j], ddof=1) < threshold]


def pruning_case(name, x, threshold=0.8):
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(x, rowvar=False)
    case = {"name": name, "x": x, "threshold": threshold, "policies": {}}
    for policy in ("zero", "propagate"):
        pairs, mean_abs, decisions = seed_prune(corr, threshold, policy)
        keep = [j for j in range(x.shape[1]) if j not in decisions]
        case["policies"][policy] = {
            "pairs": [[i, j] for i, j, _ in pairs],
            "mean_abs": mean_abs,
            "dropped": decisions,
            "low_variance": low_variance(x, keep),
        }
    verbatim = seed_prune_verbatim(corr, threshold)
    case["verbatim_agrees_with_propagate"] = verbatim == case["policies"]["propagate"]["dropped"]
    return case


def pruning(rng):
    n = 120
    z = rng.standard_normal((n, 3))
    cases = []
    # Exact duplicate columns: a tie the rule must break the same way every time.
    a = z[:, 0] * 3 + 1
    cases.append(pruning_case("duplicates_tie", np.column_stack([a, a.copy(), z[:, 1], a * 2 + 0.1 * z[:, 2], z[:, 2]])))
    # Constant columns: the zero and propagate policies disagree.
    # Column 0 has the higher mean |r| of the pair (0, 1): `zero` drops 0, `propagate` (all means NaN) drops 1.
    c = np.column_stack([z[:, 0], z[:, 0] + 0.4 * z[:, 1], np.zeros(n), 0.7 * z[:, 0] + 0.7 * z[:, 2], z[:, 2],
                         np.full(n, 7.0), rng.standard_normal(n) * 0.05])
    cases.append(pruning_case("constant_columns", c))
    assert cases[-1]["policies"]["zero"]["dropped"] != cases[-1]["policies"]["propagate"]["dropped"]
    # A chain a~b~c where skipping matters.
    b = z[:, 0] + 0.3 * z[:, 1]
    cases.append(pruning_case("chain", np.column_stack([z[:, 0], b, b + 0.3 * z[:, 2], z[:, 2], 0.5 * z[:, 1]])))
    # Many latent-factor features, thresholds 0.8 and 0.5, with a low-variance binary column.
    f = rng.standard_normal((n, 4))
    load = rng.uniform(-1, 1, (4, 12)) * (rng.uniform(size=(4, 12)) < 0.5)
    m = f @ load + rng.standard_normal((n, 12)) * 0.3
    m[:, 11] = (rng.uniform(size=n) < 0.008).astype(float)
    m[0, 11] = 1.0
    cases.append(pruning_case("latent_factors_0.8", m, 0.8))
    cases.append(pruning_case("latent_factors_0.5", m, 0.5))
    for cse in cases:
        assert cse["verbatim_agrees_with_propagate"], cse["name"]
    write("pruning.json", {"cases": cases})


# ---------------------------------------------------------------------------------------------------- pipeline
def pipeline():
    """The preprocessing of a CICFlowMeter excerpt: nulls, infinities, header lengths, correlation
    pruning (both policies), low variance, RobustScaler."""
    path = os.path.join(OUT, "cic-excerpt.csv")
    df = pd.read_csv(path)
    n_in = len(df)
    df = df.dropna()
    num = df.select_dtypes("number").columns
    df = df[np.isfinite(df[num]).all(axis=1)]
    after_inf = len(df)
    df = df[(df["Fwd Header Length"] > 0) & (df["Bwd Header Length"] > 0)]
    rows = df.index.tolist()
    features = [c for c in df.columns if c != "Label"]
    x = df[features].to_numpy(dtype=float)
    y = (df["Label"].str.strip().str.lower() != "benign").astype(float).to_numpy()
    out = {"input_rows": n_in, "rows_after_non_finite": after_inf, "kept_rows": rows, "candidates": features,
           "policies": {}}
    for policy in ("zero", "propagate"):
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(x, rowvar=False)
        _, _, dropped = seed_prune(corr, 0.8, policy)
        keep = [j for j in range(len(features)) if j not in dropped]
        low = low_variance(x, keep)
        final = [j for j in keep if j not in low]
        xs = x[:, final]
        scaler = RobustScaler().fit(xs)
        scaled = scaler.transform(xs)
        leak = []
        for j in final:
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.corrcoef(x[:, j], y)[0, 1]
            if abs(r) >= 0.5:
                leak.append([features[j], r])
        out["policies"][policy] = {
            "correlation_dropped": [features[j] for j in dropped],
            "low_variance_dropped": [features[j] for j in low],
            "features": [features[j] for j in final],
            "center": scaler.center_,
            "scale": scaler.scale_,
            "scaled_head": scaled[:5],
            "scaled_column_sums": scaled.sum(axis=0),
            "leakage": leak,
        }
    write("pipeline_cic.json", out)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    scalers(rng)
    pca(rng)
    correlation(rng)
    describe(rng)
    pruning(rng)
    pipeline()


if __name__ == "__main__":
    sys.exit(main())
