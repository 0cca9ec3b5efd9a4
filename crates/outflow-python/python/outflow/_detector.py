"""The flow detector on Arrow data: fit on a log, score logs, model files shared with the command."""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import threading
from typing import Any, Callable, Dict, List, Optional, Union

from . import _outflow
from ._array import count, real
from ._errors import InputError


def _pyarrow():
    try:
        import pyarrow
    except ImportError:
        raise ImportError("outflow.Detector needs pyarrow: pip install 'outflow[arrow]' (or pip install pyarrow)") from None
    return pyarrow


def _batches(data: Any) -> List[Any]:
    """A pyarrow RecordBatch or Table, a pandas DataFrame, or anything pyarrow.table() takes (a dict of
    columns, an object with ``__arrow_c_stream__``) as a list of record batches."""
    pa = _pyarrow()
    if isinstance(data, pa.RecordBatch):
        return [data]
    if not isinstance(data, pa.Table):
        if type(data).__module__.startswith("pandas"):
            data = pa.Table.from_pandas(data, preserve_index=False)
        else:
            data = pa.table(data)
    batches = data.to_batches()
    if not batches:
        batches = [pa.RecordBatch.from_pylist([], schema=data.schema)]
    return batches


def _key(key: Union[bytes, str, None, bool]) -> Optional[bytes]:
    """The model key: given (bytes or text), or ``OUTFLOW_MODEL_KEY`` from the environment as the
    command reads it when ``key`` is None; ``key=False`` neither signs nor verifies."""
    if key is False:
        return None
    if key is None:
        # The variable's bytes, as the command reads them.
        key = os.environb.get(b"OUTFLOW_MODEL_KEY") if os.supports_bytes_environ else os.environ.get("OUTFLOW_MODEL_KEY")
        if not key:
            return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"key must be bytes, str, None or False, got {type(key).__name__}")
    return bytes(key)


def _json_value(value: Any) -> Any:
    """numpy scalars and arrays in a configuration, as JSON takes them."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"a configuration value of type {type(value).__name__} is not a number, text, list or dict")


_SHARED: Dict[str, "Detector"] = {}
_SHARED_LOCK = threading.Lock()


class Detector:
    """A fitted flow detector: preparation, clustering, fused anomaly score, severities and reasons.
    The model file is the one ``outflow detect`` writes and ``outflow score`` / ``outflow serve`` read.

    >>> import pyarrow as pa, outflow
    >>> flows = pa.table({"duration": [0.1 * (i % 17) for i in range(300)],
    ...                   "orig_bytes": [float(i * 37 % 1000) for i in range(300)]})
    >>> detector = outflow.Detector.fit(flows)
    >>> scored = detector.score(flows)
    >>> scored.column_names[-3:]
    ['outflow_score', 'outflow_severity', 'outflow_reason']
    """

    #: The columns :meth:`score` appends.
    SCORE_COLUMNS = ("outflow_cluster", "outflow_probability", "outflow_score", "outflow_severity", "outflow_reason")

    def __init__(self, native: Any) -> None:
        if not isinstance(native, _outflow.NativeDetector):
            raise TypeError("use Detector.fit, Detector.load or Detector.from_bytes")
        self._native = native

    @classmethod
    def fit(cls, data: Any, **config: Any) -> "Detector":
        """Fits on a flow log (Arrow, pandas, ...). ``config`` holds the fields of the command's
        detector parameters, e.g. ``level="host"``, ``seed=7``, ``clustering={"kind": "hdbscan",
        "min_cluster_size": 50}``, ``aggregation={"window": "1h"}``; an unknown or invalid field is an
        :class:`~outflow.InputError`."""
        try:
            params = json.dumps(config, default=_json_value, allow_nan=False)
        except ValueError as e:
            raise InputError(f"detector parameters: {e}") from None
        return cls(_outflow.NativeDetector.fit(_batches(data), params))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], key: Union[bytes, str, None, bool] = None) -> "Detector":
        """Reads a model file, verifying its signature with ``key`` (default: ``OUTFLOW_MODEL_KEY``
        when set, as the command does)."""
        return cls(_outflow.NativeDetector.load(os.fspath(path), _key(key)))

    @classmethod
    def from_bytes(cls, data: bytes, key: Union[bytes, str, None, bool] = None) -> "Detector":
        """A model from a model file's bytes (verified as :meth:`load` does)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be the bytes of a model file, got {type(data).__name__}")
        return cls(_outflow.NativeDetector.from_bytes(bytes(data), _key(key)))

    @classmethod
    def shared(cls, digest: str, data: Callable[[], bytes]) -> "Detector":
        """The detector of a model named by ``digest`` (e.g. its SHA-256), built from ``data()`` the
        first time this process asks and kept for every later call: what a Spark task calls on each
        batch, so that a Python worker builds a broadcast model once (unsigned: ``key=False``)."""
        with _SHARED_LOCK:
            found = _SHARED.get(digest)
            if found is None:
                found = cls.from_bytes(data(), key=False)
                _SHARED[digest] = found
            return found

    @staticmethod
    def digest(data: bytes) -> str:
        """The SHA-256 of model bytes, as :meth:`shared` names them."""
        return hashlib.sha256(data).hexdigest()

    def to_bytes(self, key: Union[bytes, str, None, bool] = None) -> bytes:
        """The model file's bytes (signed with ``key``, default ``OUTFLOW_MODEL_KEY`` when set)."""
        return self._native.to_bytes(_key(key))

    def save(self, path: Union[str, "os.PathLike[str]"], overwrite: bool = False, key: Union[bytes, str, None, bool] = None) -> None:
        """Writes the model file atomically; an existing file is replaced only with ``overwrite``."""
        self._native.save(os.fspath(path), overwrite, _key(key))

    def score(self, data: Any) -> Any:
        """Scores a flow log. A flow model returns the rows with :attr:`SCORE_COLUMNS` appended; a host
        or pair model aggregates the flows as at fit time and returns its host or pair rows with the
        same columns. A RecordBatch gives a RecordBatch, anything else a pyarrow Table. The log's
        columns come back as Outflow reads them: integers as ``int64`` (ports ``uint16``), floats as
        ``float64``, times as microsecond timestamps, intervals as float seconds, text as ``string`` —
        cast the result to the input's schema to keep its types (``examples/spark_score.py`` does)."""
        pa = _pyarrow()
        out = self._native.score(_batches(data))
        return out if isinstance(data, pa.RecordBatch) else pa.Table.from_batches([out])

    @property
    def level(self) -> str:
        """``flow``, ``host`` or ``pair``."""
        return self._native.level

    @property
    def required_columns(self) -> List[str]:
        """Columns a log must have to be scored."""
        return list(self._native.required_columns)

    @property
    def summary(self) -> Dict[str, Any]:
        """The fit's figures: clusters, noise, thresholds, DBCV, ..."""
        return json.loads(self._native.summary)

    @property
    def params(self) -> Dict[str, Any]:
        """The detector's parameters as :meth:`fit` takes them."""
        return json.loads(self._native.params)

    def __reduce__(self):
        return (Detector, (self._native,))

    def __repr__(self) -> str:
        return f"Detector(level={self.level!r}, required_columns={self.required_columns!r})"


def read_log(path: Union[str, "os.PathLike[str]"], format: str = "auto", columns: Optional[List[str]] = None) -> Any:
    """Reads a flow log with Outflow's readers (Zeek TSV or JSON lines, CSV, KDD, Parquet, Arrow IPC;
    gzip) into a pyarrow Table typed as Outflow reads it: Zeek ``time`` as timestamps, ``count`` and
    ``port`` as integers, ``addr`` as text, with the Zeek type kept in each field's metadata. ``format``
    is a name of the command's ``--format`` (``auto`` detects it). ``columns`` reads only those columns,
    in that order (from Parquet, the others are never decoded)."""
    pa = _pyarrow()
    if columns is not None:
        columns = [str(c) for c in columns]
    return pa.Table.from_batches([_outflow.read_log(os.fspath(path), format, columns)])


def simulate_log(seed: int = 1, hours: float = 24.0, hosts: int = 20) -> Any:
    """The simulated, labeled office network log of ``outflow simulate`` as a pyarrow Table: a Zeek conn
    log of ``hosts`` workstations over ``hours`` with planted exfiltration, beaconing, scans and DNS
    tunnelling (columns ``label`` and ``detailed-label``). Seed 1, 24 hours is the command's built-in
    sample. The same seed gives the same log on every machine."""
    pa = _pyarrow()
    seed = count("seed", seed, 0)
    hosts = count("hosts", hosts, 1)
    hours = real("hours", hours, 0.0)
    return pa.Table.from_batches([_outflow.simulate_log(seed, hours, hosts)])
