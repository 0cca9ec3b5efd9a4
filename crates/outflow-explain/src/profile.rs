//! Cluster profiles (counts and medians of the original features, a rule-based interpretation) and the
//! comparison of normal and severely anomalous rows by outlier score.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use outflow_core::stats::{median, quantile_sorted};
use outflow_core::{check_len as check_rows, check_matrix, check_values};
use outflow_io::Family;

use crate::error::{ExplainError, Result};

/// Which columns make up a flow's payload (summed per row) and its duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileColumns {
    /// Columns summed per row into the payload, in bytes.
    pub payload: Vec<String>,
    /// Duration column.
    pub duration: Option<String>,
    /// Seconds per unit of the duration column (CICFlowMeter writes microseconds: 1e-6), so that rules
    /// and profiles speak seconds.
    #[serde(default = "one")]
    pub duration_scale: f64,
}

fn one() -> f64 {
    1.0
}

impl ProfileColumns {
    /// A log family's payload and duration columns (Zeek: `orig_bytes + resp_bytes` and `duration` in
    /// seconds; CICFlowMeter: the total lengths of forward and backward packets and `Flow Duration` in
    /// microseconds; see `outflow_io::Family`).
    pub fn of(family: Family) -> Self {
        let c = family.columns();
        ProfileColumns {
            payload: c.payload.iter().map(|s| s.to_string()).collect(),
            duration: c.duration.map(|(name, _)| name.to_owned()),
            duration_scale: c.duration.map_or(1.0, |(_, scale)| scale),
        }
    }

    /// The columns of the family with the most of its payload and duration columns among `names`, keeping
    /// only those present (ties: the first family of `Family::ALL`); no columns when no family has any.
    pub fn detect<S: AsRef<str>>(names: &[S]) -> Self {
        let has = |c: &str| names.iter().any(|n| n.as_ref() == c);
        let keep = |p: ProfileColumns| ProfileColumns {
            payload: p.payload.into_iter().filter(|c| has(c)).collect(),
            duration: p.duration.filter(|c| has(c)),
            duration_scale: p.duration_scale,
        };
        let found = |p: &ProfileColumns| p.payload.len() + usize::from(p.duration.is_some());
        Family::ALL
            .into_iter()
            .map(|f| keep(Self::of(f)))
            .rev()
            .max_by_key(found)
            .filter(|p| found(p) > 0)
            .unwrap_or(ProfileColumns { payload: Vec::new(), duration: None, duration_scale: 1.0 })
    }
}

/// A per-cluster quantity a rule can test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Median of the per-row payload sum.
    Payload,
    /// Median duration.
    Duration,
    /// Median of a named feature.
    Column(String),
}

/// When a rule applies to a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The cluster is the noise label.
    Noise,
    /// The measure's median is strictly above the threshold.
    MedianAbove {
        /// What to test.
        measure: Measure,
        /// The bound.
        threshold: f64,
    },
    /// The measure's median is strictly below the threshold.
    MedianBelow {
        /// What to test.
        measure: Measure,
        /// The bound.
        threshold: f64,
    },
}

/// An interpretation rule: the first rule whose condition holds names the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The condition.
    pub when: Condition,
    /// The interpretation given to matching clusters.
    pub label: String,
}

/// The default rules, first match wins: noise → anomaly; median payload > 1 MB → high-volume
/// transfer; median duration < 1 s → short flows.
pub fn default_rules() -> Vec<Rule> {
    vec![
        Rule { when: Condition::Noise, label: "anomaly / potential attack or scan".into() },
        Rule {
            when: Condition::MedianAbove { measure: Measure::Payload, threshold: 1_000_000.0 },
            label: "high-volume transfer, exfiltration candidate".into(),
        },
        Rule {
            when: Condition::MedianBelow { measure: Measure::Duration, threshold: 1.0 },
            label: "short interactive/background flows".into(),
        },
    ]
}

/// Settings of [`profile_clusters`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileParams {
    /// Interpretation rules, tried in order.
    pub rules: Vec<Rule>,
    /// Payload and duration columns; `None` = [`ProfileColumns::detect`]. Explicit columns must exist.
    pub columns: Option<ProfileColumns>,
    /// The label of noise points.
    pub noise_label: i64,
    /// Interpretation when no rule matches.
    pub fallback: String,
}

impl Default for ProfileParams {
    fn default() -> Self {
        ProfileParams { rules: default_rules(), columns: None, noise_label: -1, fallback: "unknown".into() }
    }
}

/// One cluster's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfile {
    /// Cluster label.
    pub label: i64,
    /// Rows in the cluster.
    pub count: usize,
    /// Share of all rows.
    pub fraction: f64,
    /// Median of every feature (in the order of [`Profiles::feature_names`]).
    pub medians: Vec<f64>,
    /// Median per-row payload, when payload columns are known.
    pub median_payload: Option<f64>,
    /// Median duration, when the duration column is known.
    pub median_duration: Option<f64>,
    /// Label of the first matching rule, or the fallback.
    pub interpretation: String,
}

/// Profiles of all clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profiles {
    /// Feature names, the order of every `medians`.
    pub feature_names: Vec<String>,
    /// The payload / duration columns used.
    pub columns: ProfileColumns,
    /// One profile per label, sorted by label.
    pub clusters: Vec<ClusterProfile>,
}

fn column_index(names: &[String], name: &str) -> Result<usize> {
    names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| ExplainError::BadColumn { name: name.to_owned(), reason: "not among the features".into() })
}

/// Profiles every cluster of `labels` on the original (unscaled) features `x`.
pub fn profile_clusters(
    x: ArrayView2<'_, f64>,
    feature_names: &[String],
    labels: &[i64],
    params: &ProfileParams,
) -> Result<Profiles> {
    check_matrix(x)?;
    check_rows("labels", x.nrows(), labels.len())?;
    check_rows("feature names", x.ncols(), feature_names.len())?;
    let columns = params.columns.clone().unwrap_or_else(|| ProfileColumns::detect(feature_names));
    if !(columns.duration_scale.is_finite() && columns.duration_scale > 0.0) {
        return Err(ExplainError::param(
            "duration_scale",
            format!("must be finite and > 0, got {}", columns.duration_scale),
        ));
    }
    let payload_idx = columns.payload.iter().map(|c| column_index(feature_names, c)).collect::<Result<Vec<_>>>()?;
    let duration_idx = columns.duration.as_deref().map(|c| column_index(feature_names, c)).transpose()?;
    for rule in &params.rules {
        if let Condition::MedianAbove { measure: Measure::Column(c), .. }
        | Condition::MedianBelow { measure: Measure::Column(c), .. } = &rule.when
        {
            column_index(feature_names, c)?;
        }
    }
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let n = x.nrows();
    let mut clusters = Vec::with_capacity(classes.len());
    let mut buf = Vec::new();
    for &label in &classes {
        let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == label).collect();
        let mut med = |f: &dyn Fn(usize) -> f64| {
            buf.clear();
            buf.extend(rows.iter().map(|&i| f(i)));
            median(&mut buf)
        };
        let medians: Vec<f64> = (0..x.ncols()).map(|j| med(&|i| x[[i, j]])).collect();
        let median_payload =
            (!payload_idx.is_empty()).then(|| med(&|i| payload_idx.iter().map(|&j| x[[i, j]]).sum::<f64>()));
        let median_duration = duration_idx.map(|j| medians[j] * columns.duration_scale);
        let measure = |m: &Measure| match m {
            Measure::Payload => median_payload,
            Measure::Duration => median_duration,
            Measure::Column(c) => feature_names.iter().position(|n| n == c).map(|j| medians[j]),
        };
        let interpretation = params
            .rules
            .iter()
            .find(|r| match &r.when {
                Condition::Noise => label == params.noise_label,
                Condition::MedianAbove { measure: m, threshold } => measure(m).is_some_and(|v| v > *threshold),
                Condition::MedianBelow { measure: m, threshold } => measure(m).is_some_and(|v| v < *threshold),
            })
            .map_or_else(|| params.fallback.clone(), |r| r.label.clone());
        clusters.push(ClusterProfile {
            label,
            count: rows.len(),
            fraction: rows.len() as f64 / n as f64,
            medians,
            median_payload,
            median_duration,
            interpretation,
        });
    }
    Ok(Profiles { feature_names: feature_names.to_vec(), columns, clusters })
}

/// How features are ranked in a [`SeverityComparison`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftRanking {
    /// By `|severe mean − normal mean| / standard deviation over all rows`: comparable across units,
    /// the default because the input may be unscaled.
    #[default]
    Standardized,
    /// By `|severe mean − normal mean|` (meaningful only on scaled features).
    Raw,
}

/// Settings of [`compare_severity`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityParams {
    /// Rows with a score strictly below this percentile are normal.
    pub normal_below: f64,
    /// Rows with a score at or above this percentile are severe.
    pub severe_from: f64,
    /// Features to report.
    pub top: usize,
    /// Ranking of the features.
    pub ranking: ShiftRanking,
}

impl Default for SeverityParams {
    fn default() -> Self {
        SeverityParams { normal_below: 95.0, severe_from: 99.0, top: 10, ranking: ShiftRanking::Standardized }
    }
}

impl SeverityParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let ok = |p: f64| (0.0..=100.0).contains(&p);
        if !ok(self.normal_below) || !ok(self.severe_from) || self.normal_below > self.severe_from {
            return Err(ExplainError::param(
                "percentiles",
                format!("need 0 <= normal_below ({}) <= severe_from ({}) <= 100", self.normal_below, self.severe_from),
            ));
        }
        Ok(())
    }
}

/// One feature's shift between normal and severe rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureShift {
    /// Feature name.
    pub feature: String,
    /// Mean over normal rows.
    pub normal_mean: f64,
    /// Mean over severe rows.
    pub severe_mean: f64,
    /// `severe_mean − normal_mean`.
    pub difference: f64,
    /// `difference` over the feature's standard deviation across all rows (0 for a constant feature).
    pub standardized: f64,
}

/// Normal (score < p`normal_below`) vs severe (score ≥ p`severe_from`) rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityComparison {
    /// Score at the normal percentile (NumPy's linear interpolation).
    pub normal_threshold: f64,
    /// Score at the severe percentile.
    pub severe_threshold: f64,
    /// Rows below the normal threshold.
    pub n_normal: usize,
    /// Rows in between.
    pub n_moderate: usize,
    /// Rows at or above the severe threshold.
    pub n_severe: usize,
    /// The most shifted features, largest first (empty when either group is empty).
    pub top: Vec<FeatureShift>,
}

/// Compares the feature means of normal and severe rows by outlier score.
pub fn compare_severity(
    x: ArrayView2<'_, f64>,
    feature_names: &[String],
    scores: &[f64],
    params: &SeverityParams,
) -> Result<SeverityComparison> {
    params.validate()?;
    check_matrix(x)?;
    check_rows("scores", x.nrows(), scores.len())?;
    check_rows("feature names", x.ncols(), feature_names.len())?;
    check_values(scores)?;
    let mut sorted = scores.to_vec();
    outflow_core::stats::sort_floats(&mut sorted);
    let normal_threshold = quantile_sorted(&sorted, params.normal_below / 100.0);
    let severe_threshold = quantile_sorted(&sorted, params.severe_from / 100.0);
    let normal: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] < normal_threshold).collect();
    let severe: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] >= severe_threshold).collect();
    let n = scores.len();
    let mut out = SeverityComparison {
        normal_threshold,
        severe_threshold,
        n_normal: normal.len(),
        n_moderate: n - normal.len() - severe.len(),
        n_severe: severe.len(),
        top: Vec::new(),
    };
    if normal.is_empty() || severe.is_empty() {
        return Ok(out);
    }
    let mean = |rows: &[usize], j: usize| rows.iter().map(|&i| x[[i, j]]).sum::<f64>() / rows.len() as f64;
    let mut shifts: Vec<FeatureShift> = (0..x.ncols())
        .map(|j| {
            let col = x.column(j);
            let mu = col.sum() / n as f64;
            let sd = (col.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / n as f64).sqrt();
            let (normal_mean, severe_mean) = (mean(&normal, j), mean(&severe, j));
            let difference = severe_mean - normal_mean;
            let standardized = if sd > 0.0 { difference / sd } else { 0.0 };
            FeatureShift { feature: feature_names[j].clone(), normal_mean, severe_mean, difference, standardized }
        })
        .collect();
    let key = |s: &FeatureShift| match params.ranking {
        ShiftRanking::Standardized => s.standardized.abs(),
        ShiftRanking::Raw => s.difference.abs(),
    };
    // Stable sort: equal shifts keep feature order.
    shifts.sort_by(|a, b| key(b).total_cmp(&key(a)));
    shifts.truncate(params.top);
    out.top = shifts;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_rules_in_order() {
        let x = array![
            [0.5, 2e6, 1e5],
            [0.7, 3e6, 1e5],
            [30.0, 2e6, 2e6],
            [40.0, 1e6, 3e6],
            [0.1, 10.0, 10.0],
            [0.2, 20.0, 30.0],
            [5.0, 1.0, 1.0],
        ];
        let n = names(&["duration", "orig_bytes", "resp_bytes"]);
        let labels = [0, 0, 1, 1, 2, 2, -1];
        let p = profile_clusters(x.view(), &n, &labels, &ProfileParams::default()).unwrap();
        assert_eq!(p.columns, ProfileColumns::of(Family::Zeek));
        let by = |l: i64| p.clusters.iter().find(|c| c.label == l).unwrap();
        assert_eq!(by(-1).interpretation, "anomaly / potential attack or scan");
        // Cluster 0: median payload 2.1e6+... > 1 MB wins over its short duration (rule order).
        assert_eq!(by(0).interpretation, "high-volume transfer, exfiltration candidate");
        assert_eq!(by(0).median_payload, Some((2.1e6 + 3.1e6) / 2.0));
        assert_eq!(by(1).interpretation, "high-volume transfer, exfiltration candidate");
        assert_eq!(by(2).interpretation, "short interactive/background flows");
        assert_eq!(by(2).medians, vec![(0.1 + 0.2) / 2.0, 15.0, 20.0]);
        assert_eq!(by(2).count, 2);
    }

    #[test]
    fn detect_and_custom_columns() {
        assert_eq!(ProfileColumns::detect(&["flow_duration", "x"]).duration.as_deref(), Some("flow_duration"));
        let cic =
            ProfileColumns::detect(&["Flow Duration", "Total Length of Fwd Packets", "Total Length of Bwd Packets"]);
        assert_eq!(cic.payload.len(), 2);
        assert_eq!((cic.duration.as_deref(), cic.duration_scale), (Some("Flow Duration"), 1e-6));
        assert!(ProfileColumns::detect(&["x"]).payload.is_empty());
        // KDD features: its payload and duration, not Zeek's duration alone.
        let kdd = ProfileColumns::detect(&["duration", "src_bytes", "dst_bytes", "count"]);
        assert_eq!(kdd, ProfileColumns::of(Family::Kdd));
        let x = array![[1.0], [2.0]];
        let params = ProfileParams {
            columns: Some(ProfileColumns { payload: vec!["nope".into()], duration: None, duration_scale: 1.0 }),
            ..Default::default()
        };
        assert!(matches!(
            profile_clusters(x.view(), &names(&["a"]), &[0, 1], &params),
            Err(ExplainError::BadColumn { .. })
        ));
        let params = ProfileParams {
            rules: vec![Rule {
                when: Condition::MedianAbove { measure: Measure::Column("a".into()), threshold: 1.5 },
                label: "big a".into(),
            }],
            ..Default::default()
        };
        let p = profile_clusters(x.view(), &names(&["a"]), &[0, 1], &params).unwrap();
        assert_eq!(p.clusters[0].interpretation, "unknown");
        assert_eq!(p.clusters[1].interpretation, "big a");
    }

    #[test]
    fn severity_groups_and_ranking() {
        let n = 200;
        let x = ndarray::Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => i as f64,       // follows the score
            1 => 1000.0,         // constant
            _ => (i % 7) as f64, // unrelated
        });
        let scores: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let c = compare_severity(x.view(), &names(&["a", "b", "c"]), &scores, &SeverityParams::default()).unwrap();
        assert_eq!(c.n_severe, 2);
        assert_eq!(c.n_normal, 190);
        assert_eq!(c.n_moderate, 8);
        assert_eq!(c.top[0].feature, "a");
        assert_eq!(c.top[2].feature, "b");
        assert_eq!(c.top[2].standardized, 0.0);
        let bad = compare_severity(x.view(), &names(&["a", "b", "c"]), &scores[1..], &SeverityParams::default());
        assert!(matches!(bad, Err(ExplainError::Input(outflow_core::InputError::LengthMismatch { .. }))));
    }
}
