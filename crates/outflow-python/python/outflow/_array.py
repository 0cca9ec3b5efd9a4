"""Numpy input as the native module reads it: 2-D float64, any strides.

A float64 array is passed as it is (the Rust side reads it in place, whatever its strides or order);
integer, boolean and other float arrays, and lists, are copied to float64; object arrays are converted
when every value is a number. Anything else — strings, complex numbers, sparse matrices, 1-D or 3-D
arrays — is refused with a message saying what to do. Nothing is ever reinterpreted bit for bit.
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
    """`X` as a 2-D float64 array, without a copy when it already is one."""
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        raise TypeError(f"{name} is a sparse matrix; Outflow needs a dense array: pass {name}.toarray()")
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    arr = np.asarray(X)
    if arr.dtype.kind == "c":
        raise InputError(f"{name} has complex values (dtype {arr.dtype}); Outflow needs real numbers")
    if arr.dtype.kind not in _NUMERIC_KINDS:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise InputError(f"{name} must hold numbers, got dtype {arr.dtype}: {e}") from None
    if arr.ndim != 2:
        hint = f" (reshape with {name}.reshape(-1, 1) for one feature, or {name}.reshape(1, -1) for one sample)"
        raise InputError(f"{name} must be a 2-D array, got {arr.ndim}-D with shape {arr.shape}" + (hint if arr.ndim == 1 else ""))
    # dtype=float64 is native byte order: a big-endian array is converted, never misread.
    return np.asarray(arr, dtype=np.float64)


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
    if arr.shape[0] != n_rows:
        raise InputError(f"{name} has {arr.shape[0]} entries for {n_rows} rows")
    return np.asarray(arr, dtype=np.int64)


def seed_of(random_state: Any) -> int:
    """A seed from scikit-learn's `random_state`: None → 0 (results are always reproducible), an int, or
    a numpy `RandomState` / `Generator` (one draw from it)."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise InputError(f"random_state must be non-negative, got {random_state}")
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
