"""outflow.Detector on Arrow and pandas, against the `outflow` command on the same log."""

import pickle

import pytest

import outflow
from conftest import need, run_outflow, same, scores_by_row


def test_read_log_types_zeek_columns(simulated_log):
    pa = need("pyarrow")
    table = outflow.read_log(simulated_log)
    assert isinstance(table, pa.Table)
    schema = table.schema
    assert pa.types.is_timestamp(schema.field("ts").type) or pa.types.is_float64(schema.field("ts").type)
    assert pa.types.is_integer(schema.field("id.orig_p").type)
    assert schema.field("id.orig_h").type == pa.string()
    assert table.num_rows > 1000
    some = outflow.read_log(simulated_log, columns=["id.resp_p", "ts"])
    assert some.column_names == ["id.resp_p", "ts"] and some.num_rows == table.num_rows
    with pytest.raises(outflow.InputError, match="no_such"):
        outflow.read_log(simulated_log, columns=["no_such"])


def test_scores_equal_the_command(model_and_log, tmp_path):
    need("pyarrow")
    model, log = model_and_log
    out = tmp_path / "scores.csv"
    run_outflow("score", model, log, "-o", out)
    expected = scores_by_row(out)
    scored = outflow.Detector.load(model).score(outflow.read_log(log))
    cols = [scored.column(c).to_pylist() for c in outflow.Detector.SCORE_COLUMNS]
    assert scored.num_rows == len(expected)
    for row, got in enumerate(zip(*cols)):
        assert all(same(a, b) for a, b in zip(got, expected[row])), (row, got, expected[row])


def test_a_parquet_copy_scores_the_same(model_and_log, tmp_path):
    pq = need("pyarrow.parquet")
    model, log = model_and_log
    pq.write_table(outflow.read_log(log), tmp_path / "flows.parquet")
    run_outflow("score", model, log, "-o", tmp_path / "text.csv")
    run_outflow("score", model, tmp_path / "flows.parquet", "-o", tmp_path / "parquet.csv")
    assert (tmp_path / "text.csv").read_text() == (tmp_path / "parquet.csv").read_text()


def test_fit_score_save_load_and_pandas(tmp_path, simulated_log):
    pa = need("pyarrow")
    need("pandas")
    flows = outflow.read_log(simulated_log)
    detector = outflow.Detector.fit(flows, seed=3)
    assert detector.level == "flow" and detector.params["seed"] == 3
    scored = detector.score(flows)
    assert scored.column_names[: flows.num_columns] == flows.column_names
    assert scored.column_names[flows.num_columns :] == list(outflow.Detector.SCORE_COLUMNS)
    # A RecordBatch in gives a RecordBatch out; a pandas frame gives a Table.
    batch = flows.to_batches()[0]
    assert isinstance(detector.score(batch), pa.RecordBatch)
    from_pandas = detector.score(flows.select(detector.required_columns).to_pandas())
    assert from_pandas.column("outflow_score").to_pylist() == scored.column("outflow_score").to_pylist()
    path = tmp_path / "model.json"
    detector.save(path)
    with pytest.raises(outflow.OutflowError, match="exists"):
        detector.save(path)
    again = outflow.Detector.load(path).score(flows)
    assert again.column("outflow_score").to_pylist() == scored.column("outflow_score").to_pylist()
    clone = pickle.loads(pickle.dumps(detector))
    assert clone.score(batch).column("outflow_severity").to_pylist() == detector.score(batch).column("outflow_severity").to_pylist()


def test_host_level_detector(simulated_log):
    need("pyarrow")
    flows = outflow.read_log(simulated_log)
    hosts = outflow.Detector.fit(flows, level="host", aggregation={"window": "1h"})
    assert hosts.level == "host"
    scored = hosts.score(flows)
    assert "src" in scored.column_names and "outflow_score" in scored.column_names
    assert scored.num_rows < flows.num_rows


def test_signed_models(tmp_path, simulated_log):
    need("pyarrow")
    detector = outflow.Detector.fit(outflow.read_log(simulated_log).slice(0, 2000))
    key = b"a key of at least sixteen bytes"
    signed = detector.to_bytes(key=key)
    outflow.Detector.from_bytes(signed, key=key)
    with pytest.raises(outflow.ModelFileError):
        outflow.Detector.from_bytes(signed, key=b"another key of sixteen bytes")
    with pytest.raises(outflow.ModelFileError):
        outflow.Detector.from_bytes(b"not a model")
    with pytest.raises(outflow.InputError, match="16"):
        detector.to_bytes(key=b"short")


def test_bad_logs_get_clear_errors(tmp_path, simulated_log):
    pa = need("pyarrow")
    pq = need("pyarrow.parquet")
    flows = outflow.read_log(simulated_log)
    detector = outflow.Detector.fit(flows.slice(0, 2000))
    missing = detector.required_columns[0]
    with pytest.raises(outflow.InputError, match=f"no column named '{missing}'"):
        detector.score(flows.drop_columns([missing]))
    numeric = next(c for c in detector.required_columns if pa.types.is_integer(flows.schema.field(c).type) or pa.types.is_floating(flows.schema.field(c).type))
    wrong = flows.set_column(flows.column_names.index(numeric), numeric, pa.array(["x"] * flows.num_rows))
    with pytest.raises(outflow.InputError, match=numeric):
        detector.score(wrong)
    with pytest.raises(outflow.InputError, match="unknown field"):
        outflow.Detector.fit(flows, no_such_setting=1)
    import numpy as np

    assert outflow.Detector.fit(flows.slice(0, 2000), seed=np.int64(3)).params["seed"] == 3
    path = tmp_path / "corrupt.parquet"
    pq.write_table(flows.slice(0, 100), path)
    data = path.read_bytes()
    path.write_bytes(data[:-12] + b"\0" * 8 + data[-4:])
    with pytest.raises(outflow.InputError, match="corrupt.parquet"):
        outflow.read_log(path)
