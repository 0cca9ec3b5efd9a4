//! Writing tables and serialising non-finite numbers.

use std::io::Write;

use serde::Serializer;

use crate::error::{IoError, Result};
use crate::table::Table;

/// Writes a table as CSV with a header; nulls are empty fields, floats use the shortest round-trip text
/// and non-finite values `inf`, `-inf`, `NaN` (read back as such by [`crate::read_csv`], except `NaN`,
/// which is a default null token).
pub fn write_csv<W: Write>(table: &Table, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| IoError::Write(e.to_string());
    w.write_record(table.names()).map_err(err)?;
    let mut cells: Vec<String> = Vec::with_capacity(table.n_cols());
    for i in 0..table.n_rows() {
        cells.clear();
        cells.extend(table.columns().iter().map(|c| c.value(i).to_string()));
        w.write_record(&cells).map_err(err)?;
    }
    w.flush().map_err(|e| IoError::Write(e.to_string()))
}

/// Serde helper: a finite `f64` as a JSON number, `inf`/`-inf`/`NaN` as strings (serde_json would write
/// `null`, which does not round-trip).
pub fn f64_or_string<S: Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("NaN")
    } else {
        s.serialize_str(if *x > 0.0 { "inf" } else { "-inf" })
    }
}

/// [`f64_or_string`] for `Option<f64>` (`None` → `null`).
pub fn opt_f64_or_string<S: Serializer>(x: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match x {
        Some(v) => f64_or_string(v, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, CsvOptions, Input, read_csv};

    #[test]
    fn csv_round_trip() {
        let t = Table::new(vec![
            Column::from_f64_opt("x", [Some(0.1), None, Some(f64::INFINITY)]),
            Column::from_str_opt("s", [Some("a,b"), Some("c\"d"), None]),
            Column::from_i64_opt("n", [Some(1), Some(-2), None]),
        ])
        .unwrap();
        let mut buf = Vec::new();
        write_csv(&t, &mut buf).unwrap();
        let back = read_csv(&Input::bytes("b", buf), &CsvOptions::default()).unwrap();
        assert_eq!(back, t);
    }
}
