"""Parquet and Arrow IPC fixtures written by pyarrow, for outflow-io's Arrow reader.

Reads crates/outflow-io/tests/data/zat-conn.log (a Zeek conn log from SuperCowPowers/zat, MIT) with a
minimal Zeek parser of its own and writes the same flows with the Arrow types data lakes use:

- ts: timestamp[ns, UTC]; duration: duration[ns]
- id.orig_h / id.resp_h / proto: dictionary<int32, string>; uid, service, conn_state, history: string
- ports: uint16; counts: uint64 (missed_bytes as int32); local_orig: bool
- tunnel_parents (Zeek table[string]): list<string>

into tests/data/: zat-conn.snappy.parquet (row groups of 100 rows), zat-conn.zstd.parquet (one row
group), zat-conn.arrow (IPC file) and zat-conn.arrows (IPC stream). The Rust test reads them and
compares with its own reading of the Zeek log.

It also writes zat-conn.pandas.parquet and ctu-001-labeled.pandas.parquet the way a pandas user of zat gets one (zat's `LogToDataFrame`
types, then `DataFrame.to_parquet`): Zeek bools as a category of the texts `T` / `F`, counts as nullable
UInt64, ints as Int32, ports as UInt16, times as datetime64[ns] (and the index), intervals as
timedelta64[ns], other types as categories, uids as text. The first 20 flows, in the same formats, seed the
`read_columnar` fuzz target (fuzz/corpus/read_columnar/).

    python tools/reference/arrow_reference.py   # pyarrow==26.0.1 (requirements.txt)
"""

import pathlib

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "crates" / "outflow-io" / "tests" / "data"


def read_zeek(path):
    fields, types, rows = [], [], []
    unset, empty = "-", "(empty)"
    for line in path.read_text().splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line.startswith("#types"):
            types = line.split("\t")[1:]
        elif line.startswith("#unset_field"):
            unset = line.split("\t")[1]
        elif line.startswith("#empty_field"):
            empty = line.split("\t")[1]
        elif line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return fields, types, rows, unset, empty


def column(name, zeek_type, values, unset, empty):
    def val(v, conv):
        return None if v == unset else conv(v)

    if zeek_type == "time":
        ns = [val(v, lambda s: round(float(s) * 1e9)) for v in values]
        return pa.array(ns, type=pa.timestamp("ns", tz="UTC"))
    if zeek_type == "interval":
        ns = [val(v, lambda s: round(float(s) * 1e9)) for v in values]
        return pa.array(ns, type=pa.duration("ns"))
    if zeek_type == "port":
        return pa.array([val(v, int) for v in values], type=pa.uint16())
    if zeek_type == "count":
        kind = pa.int32() if name == "missed_bytes" else pa.uint64()
        return pa.array([val(v, int) for v in values], type=kind)
    if zeek_type == "bool":
        return pa.array([val(v, lambda s: s == "T") for v in values], type=pa.bool_())
    if zeek_type.startswith(("table[", "set[", "vector[")):
        lists = [val(v, lambda s: [] if s == empty else s.split(",")) for v in values]
        return pa.array(lists, type=pa.list_(pa.string()))
    strings = pa.array([val(v, str) for v in values], type=pa.string())
    if zeek_type in ("addr", "enum"):
        return strings.dictionary_encode()
    return strings


def zat_style(path):
    """A DataFrame typed by zat's documented mapping (read with pandas, not with zat)."""
    import pandas as pd

    fields, types, _, _, _ = read_zeek(path)
    first = {"bool": "category", "count": "UInt64", "int": "Int32", "double": "float", "time": "float",
             "interval": "float", "port": "UInt16"}
    dtype = {f: first.get(t, "object" if "uid" in f else "category") for f, t in zip(fields, types)}
    df = pd.read_csv(path, sep="\t", names=fields, dtype=dtype, comment="#", na_values="-")
    for f, t in zip(fields, types):
        if t == "time":
            df[f] = pd.to_datetime(df[f], unit="s")
        elif t == "interval":
            df[f] = pd.to_timedelta(df[f], unit="s")
    return df.set_index("ts")


def main():
    # zat's conn.log has no bool values (local_orig is unset); the CTU capture (GPL-2.0, test data only,
    # excluded from the crate's package like its source) has T and F.
    for log in ["zat-conn", "ctu-001-labeled"]:
        zat_style(DATA / f"{log}.log" if log == "zat-conn" else DATA / f"{log}.conn.log").to_parquet(
            DATA / f"{log}.pandas.parquet", engine="pyarrow"
        )
    fields, types, rows, unset, empty = read_zeek(DATA / "zat-conn.log")
    arrays = [column(f, t, [r[i] for r in rows], unset, empty) for i, (f, t) in enumerate(zip(fields, types))]
    table = pa.table(arrays, names=fields)
    pq.write_table(table, DATA / "zat-conn.snappy.parquet", compression="snappy", row_group_size=100)
    pq.write_table(table, DATA / "zat-conn.zstd.parquet", compression="zstd")
    with ipc.new_file(DATA / "zat-conn.arrow", table.schema) as w:
        w.write_table(table, max_chunksize=128)
    with ipc.new_stream(DATA / "zat-conn.arrows", table.schema) as w:
        w.write_table(table, max_chunksize=128)
    # Seeds of the `read_columnar` fuzz target: the first 20 flows, small enough to mutate.
    seeds = ROOT / "fuzz" / "corpus" / "read_columnar"
    seeds.mkdir(parents=True, exist_ok=True)
    head = table.slice(0, 20)
    pq.write_table(head, seeds / "zat-head20.snappy.parquet", compression="snappy", row_group_size=8)
    pq.write_table(head, seeds / "zat-head20.plain.parquet", compression="none")
    with ipc.new_file(seeds / "zat-head20.arrow", head.schema) as w:
        w.write_table(head)
    with ipc.new_stream(seeds / "zat-head20.arrows", head.schema) as w:
        w.write_table(head, max_chunksize=7)
    print(f"{table.num_rows} rows, pyarrow {pa.__version__}")


if __name__ == "__main__":
    main()
