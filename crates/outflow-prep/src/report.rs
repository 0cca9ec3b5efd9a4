//! What the pipeline did: per-step reports, the fit report, and the fate of every input row.

use std::fmt;

use serde::{Deserialize, Serialize};

use outflow_io::f64_or_string;

use crate::pca::PcaSummary;
use crate::select::LeakageFlag;

/// The named steps of the pipeline, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Label columns set aside (carried, never features).
    Labels,
    /// Identifier columns dropped (addresses, ports, ids, timestamps).
    Identifiers,
    /// Columns dropped by `drop_columns`.
    Excluded,
    /// Destination ports one-hot encoded.
    Ports,
    /// Categorical columns dropped or one-hot encoded.
    Categorical,
    /// Text columns that are not listed as categorical, dropped.
    Text,
    /// Numeric columns without a single finite value, dropped.
    EmptyColumns,
    /// Missing values: rows dropped or values imputed.
    Missing,
    /// Rows with NaN or an infinity dropped.
    NonFinite,
    /// Rows breaking a value rule dropped.
    ValueRules,
    /// Boolean columns turned into 0/1.
    Booleans,
    /// Correlation pruning.
    Correlation,
    /// Low-variance filter.
    LowVariance,
    /// Leakage check.
    Leakage,
}

impl Step {
    /// The step's name (`snake_case`).
    pub fn name(self) -> &'static str {
        match self {
            Step::Labels => "labels",
            Step::Identifiers => "identifiers",
            Step::Excluded => "excluded",
            Step::Ports => "ports",
            Step::Categorical => "categorical",
            Step::Text => "text",
            Step::EmptyColumns => "empty_columns",
            Step::Missing => "missing",
            Step::NonFinite => "non_finite",
            Step::ValueRules => "value_rules",
            Step::Booleans => "booleans",
            Step::Correlation => "correlation",
            Step::LowVariance => "low_variance",
            Step::Leakage => "leakage",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A column and why a step removed (or set aside) it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReason {
    /// Column name.
    pub column: String,
    /// Why.
    pub reason: String,
}

/// How many rows a step removed because of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnCount {
    /// Column name.
    pub column: String,
    /// Rows.
    pub rows: usize,
}

/// Values imputed in one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imputed {
    /// Column name.
    pub column: String,
    /// Cells imputed.
    pub count: usize,
    /// The value put in.
    pub value: f64,
}

/// What one step removed, imputed or added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// Rows removed.
    pub rows_removed: usize,
    /// Rows removed per column (the first offending column of each row).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows_by_column: Vec<ColumnCount>,
    /// Columns removed or set aside, with reasons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_removed: Vec<ColumnReason>,
    /// Columns created (one-hot encodings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_added: Vec<String>,
    /// Imputations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imputed: Vec<Imputed>,
    /// Columns converted in place (booleans to 0/1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub converted: Vec<String>,
}

impl StepReport {
    pub(crate) fn new(step: Step) -> Self {
        StepReport {
            step,
            rows_removed: 0,
            rows_by_column: Vec::new(),
            columns_removed: Vec::new(),
            columns_added: Vec::new(),
            imputed: Vec::new(),
            converted: Vec::new(),
        }
    }

    /// True when the step changed nothing.
    pub fn is_noop(&self) -> bool {
        self.rows_removed == 0
            && self.columns_removed.is_empty()
            && self.columns_added.is_empty()
            && self.imputed.is_empty()
            && self.converted.is_empty()
    }
}

/// Why a row could not be scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RejectionKind {
    /// A null in a column whose policy is to drop the row.
    Missing,
    /// NaN or an infinity.
    NonFinite {
        /// The value.
        #[serde(serialize_with = "f64_or_string")]
        value: f64,
    },
    /// A finite value beyond ±[`outflow_core::MAX_MAGNITUDE`]: no distance or variance can be computed
    /// with it.
    TooLarge {
        /// The value.
        #[serde(serialize_with = "f64_or_string")]
        value: f64,
    },
    /// A value rule does not hold.
    Rule {
        /// The rule's name.
        rule: String,
        /// The value.
        #[serde(serialize_with = "f64_or_string")]
        value: f64,
    },
}

/// A row the pipeline could not score: the step, the first offending column, and what was wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The step that removed the row.
    pub step: Step,
    /// The column.
    pub column: String,
    /// What was wrong.
    #[serde(flatten)]
    pub kind: RejectionKind,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RejectionKind::Missing => write!(f, "missing value in '{}'", self.column),
            RejectionKind::NonFinite { value } => write!(f, "non-finite value ({value}) in '{}'", self.column),
            RejectionKind::TooLarge { value } => write!(
                f,
                "value {value:e} in '{}' is beyond ±{:e}: its square overflows",
                self.column,
                outflow_core::MAX_MAGNITUDE
            ),
            RejectionKind::Rule { rule, value } => write!(f, "{rule}: '{}' is {value}", self.column),
        }
    }
}

/// The fate of one input row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// Scored: its row in the output matrices.
    Kept(usize),
    /// Not scored, and why.
    Rejected(Rejection),
}

impl RowStatus {
    /// The output row, if kept.
    pub fn kept(&self) -> Option<usize> {
        match self {
            RowStatus::Kept(r) => Some(*r),
            RowStatus::Rejected(_) => None,
        }
    }

    /// The rejection, if not kept.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            RowStatus::Kept(_) => None,
            RowStatus::Rejected(r) => Some(r),
        }
    }
}

/// A strongly correlated pair of features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelatedPair {
    /// First feature (earlier in the feature order).
    pub a: String,
    /// Second feature.
    pub b: String,
    /// Pearson correlation.
    #[serde(serialize_with = "f64_or_string")]
    pub r: f64,
}

/// A feature removed by selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrunedFeature {
    /// The feature.
    pub name: String,
    /// Why, in words.
    pub reason: String,
    /// The rule: `correlation`, `low_variance` or `leakage`.
    pub rule: Step,
    /// The measured value (|r| with the partner or label, or the variance).
    #[serde(serialize_with = "f64_or_string")]
    pub value: f64,
    /// The kept partner of a correlated pair, or the label of a leakage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

/// What [`crate::PrepParams::fit`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// The preset the configuration came from.
    pub preset: outflow_io::Family,
    /// Rows in the input table.
    pub input_rows: usize,
    /// Rows kept (fitted on).
    pub rows: usize,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
    /// Features after cleaning and encoding, before selection.
    pub candidates: Vec<String>,
    /// Pairs with |r| at or above the correlation threshold, in the rule's (row-major) order.
    pub correlated_pairs: Vec<CorrelatedPair>,
    /// Features removed by selection, in decision order.
    pub pruned: Vec<PrunedFeature>,
    /// Features correlating with the label.
    pub leakage: Vec<LeakageFlag>,
    /// The final features, in output order.
    pub features: Vec<String>,
    /// The scaler.
    pub scaler: String,
    /// Explained-variance profile of the scaled features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca: Option<PcaSummary>,
    /// Things worth a look (rules that matched nothing, skipped checks).
    pub warnings: Vec<String>,
}

impl FitReport {
    /// The report of one step.
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }
}
