"""Shared fixtures. The parity peers (hdbscan, scikit-learn, pyspark) are optional for a developer's
quick run, where tests that need a missing one are skipped; `.ci/run` sets OUTFLOW_STRICT=1, which
turns every such skip into a failure, so a CI run always compares against them."""

import csv
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

STRICT = os.environ.get("OUTFLOW_STRICT") == "1"


def need(module: str):
    """The module, or a skip (a failure under OUTFLOW_STRICT=1)."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        if STRICT:
            pytest.fail(f"{module} is required when OUTFLOW_STRICT=1")
        pytest.skip(f"{module} is not installed")


def outflow_bin() -> str:
    """The `outflow` command: OUTFLOW_BIN, or `outflow` on the PATH (required under OUTFLOW_STRICT=1)."""
    path = os.environ.get("OUTFLOW_BIN") or shutil.which("outflow")
    if not path:
        if STRICT:
            pytest.fail("OUTFLOW_BIN must name the outflow command when OUTFLOW_STRICT=1")
        pytest.skip("the outflow command is not built (set OUTFLOW_BIN)")
    return path


def run_outflow(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([outflow_bin(), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, f"outflow {' '.join(map(str, args))} failed:\n{done.stderr}"
    return done


def blobs(n: int = 600, d: int = 3, centres: int = 4, noise: int = 30, seed: int = 0) -> np.ndarray:
    """Gaussian blobs of mixed widths plus uniform background noise: continuous values, so no distance
    ties make two exact implementations differ."""
    rng = np.random.default_rng(seed)
    parts = []
    for c in range(centres):
        centre = rng.uniform(-10, 10, d)
        parts.append(rng.normal(centre, 0.3 + 0.4 * c, (n // centres, d)))
    parts.append(rng.uniform(-14, 14, (noise, d)))
    return np.vstack(parts)


@pytest.fixture(scope="session")
def simulated_log(tmp_path_factory) -> Path:
    """A simulated Zeek conn log (three hours, every planted behaviour) written by `outflow simulate`."""
    path = tmp_path_factory.mktemp("log") / "sim.conn.log"
    run_outflow("simulate", "--seed", "5", "--hours", "3", "-o", path)
    return path


@pytest.fixture(scope="session")
def model_and_log(simulated_log, tmp_path_factory):
    """A model fitted by `outflow detect` on the simulated log."""
    run = tmp_path_factory.mktemp("run") / "run"
    run_outflow("detect", simulated_log, "--out", run, "--quiet")
    (model,) = [p for p in run.iterdir() if p.name.startswith("outflow-model-")]
    return model, simulated_log


def scores_by_row(path):
    """`outflow score`'s CSV as {row: (cluster, probability, outlier_score, severity, reason)}."""
    num = lambda s: None if s == "" else float(s)  # noqa: E731
    with open(path, newline="") as f:
        return {
            int(r["row"]): (None if r["cluster"] == "" else int(r["cluster"]), num(r["probability"]), num(r["outlier_score"]), r["severity"], r["reason"] or None)
            for r in csv.DictReader(f)
        }


def same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
