"""Numpy input as the native module reads it: 2-D float64, any strides.

A native, aligned float64 array is passed as it is (the Rust side reads it in place, whatever its
strides or order); integer, boolean and other float arrays, big-endian or unaligned ones, lists and
object arrays of numbers are copied to float64. Anything else — strings, dates, complex numbers, masked
or sparse matrices, 1-D or 3-D arrays — is refused with a message saying what to do. Nothing is ever
reinterpreted bit for bit.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence

import numpy as np

from ._errors import InputError

_NUMERIC_KINDS = "biuf"


def _feature_names(X: Any) -> Optional[np.ndarray]:
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = [c for c in columns]
    if all(isinstance(c, str) for c in names):
        return np.asarray(names, dtype=object)
    return None


def as_matrix(X: Any, name: str = "X") -> np.ndarray:
    """`X` as a 2-D, aligned, native-order float64 array, without a copy when it already is one."""
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        raise TypeError(f"{name} is a sparse matrix; Outflow needs a dense array: pass {name}.toarray()")
    if isinstance(X, np.ma.MaskedArray):
        raise InputError(f"{name} is a masked array; fill the masked values first ({name}.filled(...))")
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    arr = np.asarray(X)
    kind = arr.dtype.kind
    if kind == "c":
        raise InputError(f"Complex data not supported: {name} has dtype {arr.dtype}; Outflow needs real numbers")
    if kind in "USMm":
        raise InputError(f"{name} must hold numbers, got dtype {arr.dtype} (strings and dates are not converted)")
    if kind == "O":
        bad = next((v for v in arr.flat if not isinstance(v, (numbers.Real, np.bool_))), None)
        if bad is not None:
            raise TypeError(f"{name} must hold numbers: argument must be a string or a real number, not '{type(bad).__name__}'")
    if arr.ndim != 2:
        hint = f" Reshape your data with {name}.reshape(-1, 1) for one feature, or {name}.reshape(1, -1) for one sample."
        raise InputError(f"{name} must be a 2-D array, got {arr.ndim}-D with shape {arr.shape}." + (hint if arr.ndim == 1 else ""))
    if arr.shape[1] == 0:
        raise InputError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    # A native, aligned float64 view is read in place; anything else (integers, float32, big-endian,
    # a field of a packed record array) is copied, never reinterpreted.
    return np.require(arr, dtype=np.float64, requirements=["ALIGNED"])


def as_labels(labels: Any, n_rows: int, name: str = "labels") -> np.ndarray:
    """`labels` as a 1-D int64 array of `n_rows` integers (negative = noise)."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError(f"{name} must be integers, got non-integral floats")
    elif arr.dtype.kind not in "biu":
        raise InputError(f"{name} must be integers, got dtype {arr.dtype}")
    if arr.size and (arr.max() >= 2**63 or arr.min() < -(2**63)):
        raise InputError(f"{name} must fit in 64-bit signed integers")
    if arr.shape[0] != n_rows:
        raise InputError(f"{name} has {arr.shape[0]} entries for {n_rows} rows")
    return np.require(arr, dtype=np.int64, requirements=["ALIGNED"])


def count(name: str, value: Any, minimum: int, allow_none: bool = False) -> Optional[int]:
    """An integer parameter ≥ `minimum` (or None when allowed), else an InputError naming it."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum or value >= 2**63:
        raise InputError(f"{name} must be an integer ≥ {minimum}{' or None' if allow_none else ''}, got {value!r}")
    return int(value)


def real(name: str, value: Any, minimum: float = float("-inf")) -> float:
    """A finite real parameter ≥ `minimum`, else an InputError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < minimum:
        raise InputError(f"{name} must be a finite number ≥ {minimum}, got {value!r}")
    return float(value)


METRICS = (
    "euclidean", "l2", "manhattan", "cityblock", "l1", "chebyshev", "infinity", "linf", "cosine", "minkowski",
    "haversine", "precomputed",
)


def metric_name(metric: Any, p: Any = None) -> str:
    """A metric the Rust crates know (``minkowski`` with its exponent ``p`` ≥ 1, as hdbscan and
    scikit-learn take it), else an InputError listing them."""
    if not isinstance(metric, str) or metric.lower() not in METRICS:
        raise InputError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    name = metric.lower()
    if name == "minkowski":
        exponent = 2.0 if p is None else real("p", p, 1.0)
        return f"minkowski:{exponent!r}"
    return name


def seed_of(random_state: Any) -> int:
    """A seed from scikit-learn's `random_state`: None → 0 (results are always reproducible), an int, or
    a numpy `RandomState` / `Generator` (one draw from it)."""
    if random_state is None:
        return 0
    if isinstance(random_state, (bool, np.bool_)):
        raise InputError(f"random_state must be None, an int, a RandomState or a Generator, got {random_state!r}")
    if isinstance(random_state, numbers.Integral):
        if not 0 <= random_state < 2**64:
            raise InputError(f"random_state must be in [0, 2**64), got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int64).max))
    raise InputError(f"random_state must be None, an int, a RandomState or a Generator, got {random_state!r}")


def check_fitted(estimator: Any, attributes: Sequence[str]) -> None:
    """Raises scikit-learn's NotFittedError (or AttributeError without scikit-learn) before a fit."""
    if all(hasattr(estimator, a) for a in attributes):
        return
    message = f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' first."
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:
        raise AttributeError(message) from None
    raise NotFittedError(message)
