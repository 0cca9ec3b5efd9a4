"""Rows per second scoring a Parquet flow dataset on Spark (local[2]), same data, same session:
Outflow's detector in mapInArrow (crates/outflow-python/examples/spark_score.py) against a pandas UDF
(mapInPandas) running the Python peers of the notebooks — hdbscan's approximate_predict plus
scikit-learn's Isolation Forest (200 trees) on the log1p of the numeric columns, both fitted on the
same 20,000-row sample the Outflow model is fitted on.

    python benches/scripts/spark_throughput.py [--rows 1000000] [--outflow target/release/outflow]

Needs pyspark, pyarrow, pandas, scikit-learn, hdbscan and the outflow wheel (release build), and the
outflow command (for `outflow simulate`). Each job is run once to warm up, then timed writing to
Spark's `noop` sink.
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import outflow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NUMERIC = ["duration", "orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes"]


def dataset(binary, rows, workdir):
    """A simulated log repeated to `rows` rows, as Parquet."""
    log = os.path.join(workdir, "sim.log")
    subprocess.run([binary, "simulate", "--seed", "2", "-o", log], check=True, capture_output=True)
    flows = outflow.read_log(log)
    reps = -(-rows // flows.num_rows)
    table = pa.concat_tables([flows] * reps).slice(0, rows)
    path = os.path.join(workdir, "flows.parquet")
    pq.write_table(table, path, row_group_size=100_000)
    return flows, path


def python_peer(flows):
    import hdbscan
    from sklearn.ensemble import IsolationForest

    sample = flows.slice(0, min(20_000, flows.num_rows)).select(NUMERIC).to_pandas()
    x = np.log1p(sample.fillna(0).clip(lower=0).to_numpy(dtype=float))
    clusterer = hdbscan.HDBSCAN(min_cluster_size=50, min_samples=9, prediction_data=True).fit(x)
    forest = IsolationForest(n_estimators=200, random_state=0).fit(x)
    return clusterer, forest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--outflow", default=os.path.join(ROOT, "target", "release", "outflow"))
    a = ap.parse_args()
    from pyspark.sql import SparkSession

    spec = importlib.util.spec_from_file_location("spark_score", os.path.join(ROOT, "crates", "outflow-python", "examples", "spark_score.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    with tempfile.TemporaryDirectory() as tmp:
        flows, path = dataset(a.outflow, a.rows, tmp)
        detector = outflow.Detector.fit(flows.slice(0, 20_000))
        model_bytes = detector.to_bytes(key=False)
        clusterer, forest = python_peer(flows)

        os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers run this environment
        spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
        df = spark.read.parquet(path)

        def peer(frames):
            import hdbscan

            for f in frames:
                x = np.log1p(f[NUMERIC].fillna(0).clip(lower=0).to_numpy(dtype=float))
                labels, strengths = hdbscan.approximate_predict(clusterer, x)
                f = f.assign(cluster=labels, probability=strengths, score=-forest.score_samples(x))
                yield f

        from pyspark.sql.types import DoubleType, LongType, StructField, StructType

        # A new StructType: StructType.add would change df.schema in place.
        extra = [StructField("cluster", LongType()), StructField("probability", DoubleType()), StructField("score", DoubleType())]
        # mapInPandas reads a dot in a name as a struct field: the peer gets Zeek's names without dots.
        peer_df = df.toDF(*[c.replace(".", "_") for c in df.columns])
        peer_schema = StructType(list(peer_df.schema.fields) + extra)
        jobs = {
            "outflow (mapInArrow)": lambda: example.score_dataframe(df, model_bytes),
            "hdbscan + IsolationForest (mapInPandas)": lambda: peer_df.mapInPandas(peer, peer_schema),
        }
        times = {}
        for name, job in jobs.items():
            job().write.format("noop").mode("overwrite").save()  # warm-up
            t = time.perf_counter()
            job().write.format("noop").mode("overwrite").save()
            times[name] = time.perf_counter() - t
        spark.stop()
    base = times["outflow (mapInArrow)"]
    print(f"{a.rows:,} flows, Spark local[2]")
    for name, t in times.items():
        print(f"{name:<42}{t:>9.2f} s{a.rows / t:>14,.0f} rows/s{t / base:>8.2f}×")


if __name__ == "__main__":
    main()
