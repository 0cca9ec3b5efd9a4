"""The output directory of a fixture generator: `--out DIR` or the crate's fixture directory, created,
with the stale `*.json` of an earlier run removed (a generator writes the whole set each time)."""

import argparse
import pathlib


def fixture_dir(doc: str, default: pathlib.Path) -> pathlib.Path:
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--out", type=pathlib.Path, default=default, help="output directory (default: the crate's fixtures)")
    out = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()
    return out
