//! How a run's scores rank the log's own labels, when it has them. Labels are read here only, after the
//! fit: they never reach the model.

use outflow_io::Table;
use outflow_outlier::metrics::{average_precision, roc_auc};
use outflow_prep::{LeakageCheck, name_matches};
use serde::{Deserialize, Serialize};

use crate::detector::{FlowScore, Severity};

/// The scores against a label column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelEvaluation {
    /// The label column read.
    pub column: String,
    /// Scored rows with a label.
    pub rows: usize,
    /// Of those, rows labeled as an attack: any value but `0`, `benign`, `normal`, `normal.` or
    /// `background` (case-insensitive; CTU-13's `flow=To-Background-…` counts as `background`), or 1 in a
    /// numeric column of zeros and ones (UNSW-NB15's and ODDS's `label`, ADBench's `class`, Bot-IoT's
    /// `attack`);
    /// a host or pair row is an attack when any of its flows' labels is.
    pub positives: usize,
    /// ROC-AUC of the outlier score.
    pub roc_auc: f64,
    /// PR-AUC (average precision) of the outlier score.
    pub pr_auc: f64,
    /// Severe rows with a label.
    pub severe: usize,
    /// Share of attacks among them: the precision an analyst reading the severe list gets (`None` without
    /// severe rows).
    pub precision_at_severe: Option<f64>,
}

/// The evaluation of `scores` (one per row of `table`) against the first of the label columns `labels`
/// (names or globs; a fitted detector's are its preparation's [`outflow_prep::PrepParams::labels`]) that
/// `table` has with both attacks and non-attacks in its scored rows; `None` without one. Column names
/// match as the preparation matches them (trimmed, any case): CICFlowMeter exports write `Label` or
/// ` Label`.
pub fn label_evaluation(table: &Table, scores: &[FlowScore], labels: &[String]) -> Option<LabelEvaluation> {
    let mut tally = LabelTally::new(labels);
    tally.push(table, scores);
    tally.finish()
}

/// The labels and scores of a log read batch by batch, for one [`label_evaluation`] at the end: 9 bytes
/// per labelled row and label column.
#[derive(Debug, Default)]
pub(crate) struct LabelTally {
    /// The label names, in the order they are preferred.
    names: Vec<String>,
    columns: Vec<ColumnTally>,
}

#[derive(Debug, Default)]
struct ColumnTally {
    /// The first of the names that matched the column (its place orders the columns).
    name: usize,
    /// The column's name in the table.
    column: String,
    /// A numeric column with a value other than 0 and 1: not a label, never evaluated.
    not_flags: bool,
    attack: Vec<bool>,
    score: Vec<f64>,
    severe: usize,
    severe_attacks: usize,
}

impl LabelTally {
    /// A tally of the columns named `labels` (names or globs).
    pub(crate) fn new(labels: &[String]) -> LabelTally {
        LabelTally { names: labels.to_vec(), columns: Vec::new() }
    }

    /// Adds the scored rows of one batch (`scores[i].row` indexes `table`).
    pub(crate) fn push(&mut self, table: &Table, scores: &[FlowScore]) {
        let rule = LeakageCheck::default();
        let is_attack = |value: &str| {
            let parts = value.split(';').map(str::trim).filter(|p| !p.is_empty() && *p != "-" && *p != "(empty)");
            let mut parts = parts.peekable();
            parts.peek()?;
            Some(parts.any(|p| rule.target_of(p) > 0.5))
        };
        for column in table.columns() {
            let Some(name) = self.names.iter().position(|n| name_matches(n, column.name())) else { continue };
            let at = match self.columns.iter().position(|c| c.column == column.name()) {
                Some(at) => at,
                None => {
                    let column = column.name().to_owned();
                    self.columns.push(ColumnTally { name, column, ..ColumnTally::default() });
                    self.columns.len() - 1
                }
            };
            let t = &mut self.columns[at];
            let numeric = column.dtype().is_numeric();
            t.not_flags = t.not_flags
                || numeric && (0..table.n_rows()).any(|i| column.f64_at(i).is_some_and(|v| v != 0.0 && v != 1.0));
            if t.not_flags {
                continue;
            }
            for f in scores {
                let Some(score) = f.outlier_score else { continue };
                let attack = if numeric {
                    column.f64_at(f.row).map(|v| v == 1.0)
                } else {
                    column.str_at(f.row).and_then(is_attack)
                };
                let Some(attack) = attack else { continue };
                t.attack.push(attack);
                t.score.push(score);
                if f.severity == Severity::Severe {
                    t.severe += 1;
                    t.severe_attacks += usize::from(attack);
                }
            }
        }
    }

    /// The evaluation against the first label column (in the order of the names) with both classes.
    pub(crate) fn finish(self) -> Option<LabelEvaluation> {
        let mut columns = self.columns;
        columns.sort_by_key(|c| c.name);
        columns.into_iter().filter(|t| !t.not_flags).find_map(|t| {
            let positives = t.attack.iter().filter(|&&a| a).count();
            if positives == 0 || positives == t.attack.len() {
                return None;
            }
            Some(LabelEvaluation {
                column: t.column,
                rows: t.attack.len(),
                positives,
                roc_auc: roc_auc(&t.attack, &t.score).ok()?,
                pr_auc: average_precision(&t.attack, &t.score).ok()?,
                severe: t.severe,
                precision_at_severe: (t.severe > 0).then(|| t.severe_attacks as f64 / t.severe as f64),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outflow_io::Column;

    fn families() -> Vec<String> {
        outflow_io::Family::union(|c| c.labels).iter().map(|s| s.to_string()).collect()
    }

    fn score(row: usize, s: f64, severity: Severity) -> FlowScore {
        FlowScore { outlier_score: Some(s), severity, ..FlowScore::unscored(row, String::new()) }
    }

    #[test]
    fn ranks_attacks_against_the_first_usable_label_column() {
        let t = Table::new(vec![
            Column::from_str_opt("label", [Some("Benign"), Some("Malicious"), Some("background"), None]),
            Column::from_str_opt("detailed-label", [Some("-"), Some("CC"), Some("-"), Some("-")]),
        ])
        .unwrap();
        let scores = [
            score(0, 0.2, Severity::Normal),
            score(1, 0.9, Severity::Severe),
            score(2, 0.95, Severity::Severe),
            score(3, 1.0, Severity::Severe),
        ];
        let e = label_evaluation(&t, &scores, &families()).unwrap();
        assert_eq!((e.column.as_str(), e.rows, e.positives, e.severe), ("label", 3, 1, 2));
        assert_eq!(e.roc_auc, 0.5);
        assert_eq!(e.precision_at_severe, Some(0.5));
        // Host and pair rows join their flows' labels with ';'.
        let joined =
            Table::new(vec![Column::from_str_opt("label", [Some("Benign;Malicious"), Some("Benign")])]).unwrap();
        let e =
            label_evaluation(&joined, &[score(0, 0.9, Severity::Severe), score(1, 0.1, Severity::Normal)], &families())
                .unwrap();
        assert_eq!((e.positives, e.roc_auc, e.pr_auc), (1, 1.0, 1.0));
        // A numeric column of zeros and ones is a label (1: attack); one with other values is not.
        let flags = Table::new(vec![Column::from_i64_opt("label", [Some(0), Some(1), Some(0)])]).unwrap();
        let three =
            [score(0, 0.2, Severity::Normal), score(1, 0.9, Severity::Severe), score(2, 0.95, Severity::Severe)];
        let e = label_evaluation(&flags, &three, &families()).unwrap();
        assert_eq!((e.rows, e.positives, e.roc_auc, e.precision_at_severe), (3, 1, 0.5, Some(0.5)));
        let counts = Table::new(vec![Column::from_i64_opt("label", [Some(0), Some(1), Some(2)])]).unwrap();
        assert!(label_evaluation(&counts, &three, &families()).is_none());
        // One class only: nothing to evaluate.
        let benign = Table::new(vec![Column::from_str_opt("label", [Some("normal"), Some("normal")])]).unwrap();
        assert!(
            label_evaluation(&benign, &[score(0, 0.5, Severity::Normal), score(1, 0.4, Severity::Normal)], &families())
                .is_none()
        );
        // CICFlowMeter's header: any case, padded; the evaluation names the column as the table does.
        let cic =
            Table::new(vec![Column::from_str_opt(" Label", [Some("BENIGN"), Some("DDoS"), Some("BENIGN")])]).unwrap();
        let e = label_evaluation(&cic, &three, &families()).unwrap();
        assert_eq!((e.column.as_str(), e.rows, e.positives, e.roc_auc), (" Label", 3, 1, 0.5));
        // The ODDS / ADBench convention: a `class` of zeros and ones.
        let class = Table::new(vec![Column::from_i64_opt("class", [Some(0), Some(0), Some(1)])]).unwrap();
        let e = label_evaluation(&class, &three, &families()).unwrap();
        assert_eq!((e.column.as_str(), e.positives, e.roc_auc), ("class", 1, 1.0));
        // A label named by the user comes before the families' names, and only named columns are read.
        let both = Table::new(vec![
            Column::from_i64_opt("class", [Some(0), Some(0), Some(1)]),
            Column::from_str_opt("Verdict", [Some("normal"), Some("bad"), Some("normal")]),
        ])
        .unwrap();
        let mut named = vec!["verdict".to_owned()];
        named.extend(families());
        let e = label_evaluation(&both, &three, &named).unwrap();
        assert_eq!((e.column.as_str(), e.positives, e.roc_auc), ("Verdict", 1, 0.5));
        assert_eq!(label_evaluation(&both, &three, &families()).unwrap().column, "class");
        assert!(label_evaluation(&both, &three, &[]).is_none());
    }
}
