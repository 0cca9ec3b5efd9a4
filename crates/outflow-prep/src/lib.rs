//! # outflow-prep
//!
//! Turns a flow [`Table`](outflow_io::Table) into a feature matrix for density-based clustering, as one
//! fitted, serialisable pipeline whose fitted state is kept for scoring new flows:
//!
//! 1. **Cleaning** ([`PrepParams`]; each step named in [`Step`] and reported in a [`StepReport`]): label
//!    columns carried, never features; identifiers (addresses, ports, uid, timestamps; Zeek `addr` / `port`
//!    types) dropped; categorical columns dropped or one-hot encoded with a top-k guard; optional one-hot of
//!    well-known destination ports; missing values dropped or imputed (zero, median) per column — the Zeek
//!    preset imputes 0 for unset duration / bytes / packets instead of dropping the scans an analyst is
//!    looking for; rows with NaN / infinities dropped; value rules ("header length must be > 0");
//!    booleans to 0/1.
//! 2. **Feature selection** ([`CorrelationPruning`], [`LowVariance`], [`LeakageCheck`]), in this
//!    order, on the unscaled cleaned data.
//! 3. **Scaling** ([`RobustScalerParams`] by default, [`StandardScalerParams`], [`MinMaxScalerParams`]) and optional
//!    [`PcaParams`], with scikit-learn's definitions and sign convention.
//! 4. **EDA** ([`eda`]): describe, skewness, IQR outliers, duplicates, correlations, what would be pruned.
//!
//! [`PrepParams::fit`] returns a [`Prep`] (serde), a [`FitReport`] and the transformed training rows;
//! [`Prep::transform`] reads new flows by column name exactly as at fit time and accounts for every
//! input row: its row in the matrices or a [`Rejection`] saying why it could not be scored. Results do not
//! depend on the number of threads.
//!
//! ```
//! use outflow_io::{read_input, Input, ReadOptions};
//! use outflow_prep::{PrepParams, Family, Step};
//!
//! let log = "#separator \\x09\n\
//!            #fields\tts\tuid\tid.orig_h\tproto\tduration\torig_bytes\tresp_bytes\tlabel\n\
//!            #types\ttime\tstring\taddr\tenum\tinterval\tcount\tcount\tstring\n\
//!            1.0\tC1\t10.0.0.1\ttcp\t0.5\t300\t1200\tBenign\n\
//!            2.0\tC2\t10.0.0.2\ttcp\t-\t-\t-\tMalicious\n\
//!            3.0\tC3\t10.0.0.1\tudp\t1.5\t80\t95\tBenign\n\
//!            4.0\tC4\t10.0.0.3\ttcp\t9.0\t99000\t40\tBenign\n";
//! let (table, _) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
//! let config = PrepParams::auto(&table);
//! assert_eq!(config.preset, Family::Zeek);
//!
//! let fit = config.fit(&table).unwrap();
//! // The scan-like row with unset duration and bytes is imputed with 0, not dropped.
//! assert_eq!(fit.output.kept, vec![0, 1, 2, 3]);
//! assert_eq!(fit.report.step(Step::Missing).unwrap().imputed.len(), 3);
//! assert!(fit.report.step(Step::Identifiers).unwrap().columns_removed.len() == 3); // ts, uid, id.orig_h
//!
//! // The fitted state round-trips through JSON and transforms new flows by column name.
//! let json = serde_json::to_string(&fit.prep).unwrap();
//! let prep: outflow_prep::Prep = serde_json::from_str(&json).unwrap();
//! let again = prep.transform(&table).unwrap();
//! assert_eq!(again.scaled, fit.output.scaled);
//! ```

#![warn(missing_docs)]

mod config;
mod corr;
mod eda;
mod error;
mod pattern;
mod pca;
mod pipeline;
mod report;
mod scale;
mod select;
pub mod stats;

pub use outflow_core::{Fit, InputError, Transform};

pub use crate::config::{
    Categoricals, Comparison, Encoding, Missing, MissingValues, PortEncoding, PrepParams, Selection, ValueRule,
    WELL_KNOWN_PORTS,
};
pub use crate::corr::{Moments, correlation_matrix, pearson};
pub use crate::eda::{ColumnStats, CorrelationMatrix, EdaReport, Num, Ranked, duplicate_rows, eda};
pub use crate::error::{PrepError, Result};
pub use crate::pattern::{matches as name_matches, matches_any};
pub use crate::pca::{Pca, PcaComponents, PcaParams, PcaSummary};
pub use crate::pipeline::{OTHER_LEVEL, Prep, PrepFit, Prepared, UNSET_LEVEL};
pub use crate::report::{
    ColumnCount, ColumnReason, CorrelatedPair, FitReport, Imputed, PrunedFeature, Rejection, RejectionKind, RowStatus,
    Step, StepReport,
};
pub use crate::scale::{MinMaxScalerParams, RobustScalerParams, Scaler, ScalerParams, StandardScalerParams};
pub use crate::select::{
    CorrelationPruned, CorrelationPruning, LeakageCheck, LeakageFlag, LowVariance, Pair, PruneDecision, TIE_TOLERANCE,
    UndefinedCorrelation,
};
pub use outflow_io::Family;
