//! Scoring Arrow record batches (feature `arrow`): what a Spark `mapInArrow` function or any embedding
//! tool exchanging Arrow calls.

use outflow_io::arrow::{Batch, batch_to_table, table_to_batch};
use outflow_io::{Column, Table};

use crate::detector::{Detector, FlowScore};
use crate::error::Result;

/// The columns [`Detector::score_batch`] appends, prefixed so that they never collide with a log's own.
pub const SCORE_COLUMNS: [&str; 5] =
    ["outflow_cluster", "outflow_probability", "outflow_score", "outflow_severity", "outflow_reason"];

fn score_columns(scores: &[FlowScore]) -> [Column; 5] {
    [
        Column::from_i64_opt(SCORE_COLUMNS[0], scores.iter().map(|s| s.cluster)),
        Column::from_f64_opt(SCORE_COLUMNS[1], scores.iter().map(|s| s.probability)),
        Column::from_f64_opt(SCORE_COLUMNS[2], scores.iter().map(|s| s.outlier_score)),
        Column::from_str_opt(SCORE_COLUMNS[3], scores.iter().map(|s| Some(s.severity.name()))),
        Column::from_str_opt(SCORE_COLUMNS[4], scores.iter().map(|s| s.reason.as_deref())),
    ]
}

impl Detector {
    /// Scores a record batch and returns one. A flow model returns the batch's own columns followed by
    /// [`BATCH_SCORE_COLUMNS`](crate::BATCH_SCORE_COLUMNS), row for row; a host or pair model aggregates the batch's flows as at fit time
    /// and returns the host or pair rows (every aggregate feature) followed by the same columns.
    ///
    /// ```
    /// use outflow::{DetectorParams, io::{Column, Table}};
    /// use outflow::io::arrow::{batch_to_table, table_to_batch};
    /// let t = Table::new(vec![
    ///     Column::from_f64("duration", (0..200).map(|i| (i % 17) as f64 / 4.0).collect()),
    ///     Column::from_f64("orig_bytes", (0..200).map(|i| (i * 37 % 1000) as f64).collect()),
    /// ])
    /// .unwrap();
    /// let detector = DetectorParams::default().fit(&t).unwrap().detector;
    /// let out = detector.score_batch(&table_to_batch(&t).unwrap()).unwrap();
    /// assert_eq!((out.num_rows(), out.num_columns()), (200, 7));
    /// let scored = batch_to_table("scored", &out).unwrap();
    /// assert_eq!(scored.column("outflow_severity").unwrap().str_at(0).map(|s| s.len() > 0), Some(true));
    /// ```
    pub fn score_batch(&self, batch: &Batch) -> Result<Batch> {
        let table = batch_to_table("record batch", batch)?;
        let scored = self.score_log(&table)?;
        let base = match &scored.entities {
            Some(entities) => entities.table().clone(),
            None => table,
        };
        let mut columns: Vec<Column> = base.columns().to_vec();
        columns.extend(score_columns(&scored.scores));
        Ok(table_to_batch(&Table::new(columns)?)?)
    }
}
