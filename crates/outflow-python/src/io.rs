//! Flow logs read by Outflow's readers (Zeek TSV and JSON, CSV, KDD, Parquet, Arrow; gzip) into Arrow,
//! with the types `outflow` scores them with, and the simulated office log of the built-in sample.

use arrow_array::RecordBatch;
use arrow_pyarrow::PyArrowType;
use pyo3::prelude::*;

use outflow::io::arrow::table_to_batch;
use outflow::io::{Input, read_input};
use outflow::{Format, ReadOptions};
use outflow_sim::SimParams;

use crate::errors;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_log, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_log, m)?)?;
    Ok(())
}

/// Reads a flow log as one record batch; `format` is a name of `outflow --format` (`auto` detects it),
/// `columns` the columns to read (Parquet decodes no others).
#[pyfunction]
#[pyo3(signature = (path, format = "auto", columns = None))]
fn read_log(
    py: Python<'_>,
    path: std::path::PathBuf,
    format: &str,
    columns: Option<Vec<String>>,
) -> PyResult<PyArrowType<RecordBatch>> {
    let format: Format =
        format.parse().map_err(|e: outflow::io::IoError| errors::raise(errors::Kind::Input, e.to_string()))?;
    let opts = ReadOptions { format, columns, ..Default::default() };
    let batch = py
        .detach(|| -> outflow::Result<RecordBatch> {
            let table = outflow::read_table(&path, &opts)?;
            Ok(table_to_batch(&table)?)
        })
        .map_err(errors::outflow)?;
    Ok(PyArrowType(batch))
}

/// The simulated, labeled office log of `outflow simulate` (the built-in sample is seed 1) as it reads:
/// a Zeek conn log with every planted behaviour.
#[pyfunction]
#[pyo3(signature = (seed = 1, hours = 24.0, hosts = 20))]
fn simulate_log(py: Python<'_>, seed: u64, hours: f64, hosts: usize) -> PyResult<PyArrowType<RecordBatch>> {
    let params = SimParams { seed, hours, hosts, ..SimParams::default() };
    let batch = py.detach(|| -> Result<RecordBatch, String> {
        let log = outflow_sim::try_simulate(&params).map_err(|e| e.to_string())?.to_zeek();
        let name = format!("outflow-sim-seed{seed}.conn.log");
        let (table, _) = read_input(&Input::bytes(name, log), &ReadOptions::default()).map_err(|e| e.to_string())?;
        table_to_batch(&table).map_err(|e| e.to_string())
    });
    Ok(PyArrowType(batch.map_err(|e| errors::raise(errors::Kind::Input, e))?))
}
