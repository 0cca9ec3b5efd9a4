"""Scoring a Parquet flow dataset on Spark (local[2]) with mapInArrow equals `outflow score`."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

import outflow
from conftest import need, run_outflow, same, scores_by_row

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "spark_score.py"


def load_example():
    spec = importlib.util.spec_from_file_location("spark_score", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spark():
    need("pyspark")
    from pyspark.sql import SparkSession

    # The workers run this interpreter, with this environment's outflow and pyarrow.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("outflow-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        # Small Arrow batches: every partition is scored in several calls.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "700")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_map_in_arrow_equals_the_command(spark, model_and_log, tmp_path):
    pa = need("pyarrow")
    pq = need("pyarrow.parquet")
    model, log = model_and_log
    flows = outflow.read_log(log)
    # The row number is how `outflow score` names a flow; Spark keeps it as a column.
    flows = flows.append_column("row", pa.array(range(flows.num_rows), pa.int64()))
    source = tmp_path / "flows.parquet"
    pq.write_table(flows, source, row_group_size=1000)
    run_outflow("score", model, log, "-o", tmp_path / "expected.csv")
    expected = scores_by_row(tmp_path / "expected.csv")

    example = load_example()
    df = spark.read.parquet(str(source)).repartition(3)
    scored = example.score_dataframe(df, model.read_bytes())
    target = tmp_path / "scored.parquet"
    scored.write.parquet(str(target))

    got = pq.read_table(target)
    assert got.num_rows == len(expected)
    # Input columns come back with the types Spark gave them (a Zeek port, uint16 in the file, is
    # Spark's int32), not with Outflow's.
    assert got.schema.field("id.orig_p").type == pa.int32()
    rows = got.column("row").to_pylist()
    cols = [got.column(c).to_pylist() for c in outflow.Detector.SCORE_COLUMNS]
    for row, values in zip(rows, zip(*cols)):
        assert all(same(a, b) for a, b in zip(values, expected[row])), (row, values, expected[row])


def test_the_example_runs_as_a_script(spark, model_and_log, tmp_path, monkeypatch):
    """What spark-submit runs: the script's own main on a local session."""
    need("pyspark")
    pq = need("pyarrow.parquet")
    model, log = model_and_log
    source = tmp_path / "flows.parquet"
    pq.write_table(outflow.read_log(log).slice(0, 3000), source)
    example = load_example()
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master local[2] pyspark-shell")
    # main() stops the session it gets (the fixture's): this test comes last.
    assert example.main(["spark_score.py", str(model), str(source), str(tmp_path / "out")]) == 0
    out = pq.read_table(tmp_path / "out")
    assert out.num_rows == 3000 and "outflow_score" in out.column_names
