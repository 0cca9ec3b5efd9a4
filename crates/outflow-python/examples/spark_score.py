"""Score a Parquet flow dataset on Apache Spark with an Outflow model, batch by batch (``mapInArrow``).

The model file is read once on the driver and broadcast; each Python worker process turns it into a
detector the first time it sees it (``outflow.Detector.shared``) and keeps it for every later batch and
task. A flow model scores each row on its own,
so the output is the same whatever the partitioning: the dataset's columns followed by
``outflow_cluster``, ``outflow_probability``, ``outflow_score``, ``outflow_severity`` and
``outflow_reason`` — the values ``outflow score`` writes for the same rows. (A host or pair model
aggregates: score those on one machine with ``outflow score``, or group the flows by host first.)

Locally::

    python spark_score.py MODEL.json flows.parquet scored.parquet

On a cluster (the wheel installed on every node, or shipped with ``--py-files`` / an archive)::

    spark-submit --master yarn spark_score.py s3a://bucket/model.json s3a://bucket/flows/ s3a://bucket/scored/
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

def _score_types() -> list:
    """The columns ``Detector.score`` appends, with their Arrow types."""
    import outflow
    import pyarrow as pa

    kinds = [pa.int64(), pa.float64(), pa.float64(), pa.string(), pa.string()]
    return list(zip(outflow.Detector.SCORE_COLUMNS, kinds))


def score_dataframe(df: Any, model_bytes: bytes) -> Any:
    """``df`` with the score columns appended, computed by ``mapInArrow`` on the executors."""
    import outflow
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    detector = outflow.Detector.from_bytes(model_bytes, key=False)
    if detector.level != "flow":
        raise ValueError(f"a {detector.level} model aggregates flows across batches; score it with `outflow score`")
    # Spark's mapInArrow resolves its input columns by name, and a dot in a name (Zeek's `id.orig_h`)
    # reads as a struct field: the columns travel under names without dots and get theirs back in the
    # worker, before scoring, and on the result.
    names = df.columns
    safe = [f"_c{i}" for i in range(len(names))]
    # The output schema, declared before any batch is scored: the input's Arrow types (as Spark sends
    # them) followed by the score columns'. Scored batches are cast to it, which keeps each input
    # column's type (Outflow returns integers as int64 and times in nanoseconds).
    in_schema = _arrow_schema(df)
    out_schema = in_schema
    for name, kind in _score_types():
        out_schema = out_schema.append(pa.field(name, kind))
    safe_out = pa.schema([f.with_name(n) for f, n in zip(out_schema, safe + [n for n, _ in _score_types()])])
    broadcast = df.sparkSession.sparkContext.broadcast(model_bytes)
    digest = outflow.Detector.digest(model_bytes)

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # The cache lives in the installed package: this function travels by value to the workers, so a
        # cache of its own module would be new in every task.
        detector = outflow.Detector.shared(digest, lambda: broadcast.value)
        for batch in batches:
            if batch.num_rows:
                scored = detector.score(batch.rename_columns(names)).cast(out_schema)
                yield scored.rename_columns(safe_out.names)

    renamed = df.toDF(*safe).mapInArrow(score, from_arrow_schema(safe_out))
    return renamed.toDF(*out_schema.names)

def _arrow_schema(df: Any) -> Any:
    """The Arrow schema of the batches Spark sends a mapInArrow function (timestamps in the session's
    time zone)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    timezone = df.sparkSession.conf.get("spark.sql.session.timeZone")
    try:
        return to_arrow_schema(df.schema, timezone=timezone)
    except TypeError:  # older pyspark takes no time zone: its timestamps are UTC
        return to_arrow_schema(df.schema)


def main(argv: list) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        print("usage: spark_score.py MODEL INPUT.parquet OUTPUT.parquet", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    model, source, target = argv[1:]
    spark = SparkSession.builder.appName("outflow-score").getOrCreate()
    model_bytes = spark.sparkContext.binaryFiles(model).first()[1]
    score_dataframe(spark.read.parquet(source), model_bytes).write.mode("errorifexists").parquet(target)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
