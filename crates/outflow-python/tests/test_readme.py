"""The Python quick starts of the READMEs run as written, and the docstring examples hold."""

import doctest
import os
import re
from pathlib import Path

import pytest

import outflow
import outflow._cluster
import outflow._detector
from conftest import need

CRATE = Path(__file__).resolve().parents[1]
MARKER = "<!-- python quick start"


def quick_starts():
    for readme in (CRATE / "README.md", CRATE.parents[1] / "README.md"):
        text = readme.read_text()
        assert MARKER in text, f"{readme} has no Python quick start"
        block = re.search(re.escape(MARKER) + r".*?```python\n(.*?)```", text, re.S)
        yield readme, block.group(1)


@pytest.mark.parametrize("readme,code", list(quick_starts()), ids=lambda v: getattr(v, "parent", Path("")).name or None)
def test_quick_start_runs(readme, code, tmp_path, capsys):
    need("pyarrow")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, str(readme), "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "clusters," in out and "severe flows of 22874" in out
    assert (tmp_path / "model.json").exists()


@pytest.mark.parametrize("module", [outflow._cluster, outflow._detector], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    need("pyarrow")
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0
