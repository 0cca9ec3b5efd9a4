//! The host and pair part of a run: `hosts.csv`, `pairs.csv`, their models, `alerts.csv` and the flow
//! scores' links to them.

use outflow_aggregate::{Entities, Level, Locality};
use outflow_cluster::Algorithm;
use outflow_io::{Column, Table};
use serde::{Deserialize, Serialize};

use super::SeverityCounts;
use crate::detector::{DetectorFit, FlowScore, Severity, Thresholds};

/// `alerts.csv`.
pub const ALERTS: &str = "alerts.csv";
/// The columns an entity table (`hosts.csv`, `pairs.csv`) has after its identifying columns and before
/// its features.
pub const ENTITY_SCORE_COLUMNS: [&str; 6] =
    ["outlier_score", "severity", "cluster", "probability", "evidence", "reasons"];
/// The columns of `alerts.csv`.
pub const ALERT_COLUMNS: [&str; 13] = [
    "rank",
    "level",
    "severity",
    "outlier_score",
    "src",
    "dst",
    "window_start",
    "window_end",
    "flows",
    "cluster",
    "evidence",
    "reasons",
    "flow_rows",
];
/// Flow rows listed per alert in `alerts.csv` at most (the `flows` column has the count).
pub const MAX_FLOW_ROWS: usize = 1_000;

/// The summary of one host or pair analysis of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelSummary {
    /// Host or pair.
    pub level: Level,
    /// Its table (`hosts.csv`, `pairs.csv`).
    pub table_file: String,
    /// Its model file.
    pub model_file: String,
    /// The time window.
    pub window: String,
    /// Where the inside of the network came from.
    pub locality: Locality,
    /// Flows aggregated.
    pub flows_aggregated: usize,
    /// Flows left out (no addresses, or no timestamp with time windows).
    pub flows_left_out: usize,
    /// Rows (hosts or pairs × windows).
    pub rows: usize,
    /// Rows scored.
    pub rows_scored: usize,
    /// Features the model saw.
    pub features: Vec<String>,
    /// The clusterer and its parameters.
    pub clustering: Algorithm,
    /// Clusters.
    pub clusters: usize,
    /// Share of fitted rows labelled noise, in percent.
    pub noise_percent: f64,
    /// Severity thresholds.
    pub thresholds: Thresholds,
    /// Rows per severity.
    pub severity_counts: SeverityCounts,
    /// How its scores rank the labels of its flows, when the log has a label column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<super::LabelEvaluation>,
}

pub(crate) fn severity_counts(scores: &[FlowScore]) -> SeverityCounts {
    let mut c = SeverityCounts::default();
    for f in scores {
        match f.severity {
            Severity::Normal => c.normal += 1,
            Severity::Moderate => c.moderate += 1,
            Severity::Severe => c.severe += 1,
            Severity::Unscored => c.unscored += 1,
        }
    }
    c
}

fn entities(fit: &DetectorFit) -> &Entities {
    fit.entities.as_ref().expect("a host or pair fit")
}

/// The summary of a host or pair fit.
pub fn level_summary(fit: &DetectorFit, model_file: &str) -> LevelSummary {
    let e = entities(fit);
    let st = e.stats();
    let left_out = st.flows_without_hosts + st.flows_without_time;
    let counts = severity_counts(&fit.flows);
    LevelSummary {
        level: e.level(),
        table_file: e.level().table_name().to_owned(),
        model_file: model_file.to_owned(),
        window: e.params().window.to_string(),
        locality: st.locality,
        flows_aggregated: st.flows_read - left_out,
        flows_left_out: left_out,
        rows: e.len(),
        rows_scored: e.len() - counts.unscored,
        features: fit.summary.features.clone(),
        clustering: fit.summary.clustering.clone(),
        clusters: fit.summary.clusters.len(),
        noise_percent: 100.0 * fit.summary.noise_fraction,
        thresholds: fit.summary.thresholds,
        severity_counts: counts,
        labels: super::label_evaluation(e.table(), &fit.flows, fit.detector.label_columns()),
    }
}

/// Row order of a scored table: highest score first, unscored last, ties by row.
fn ranked(scores: &[FlowScore]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    let key = |i: usize| scores[i].outlier_score.unwrap_or(f64::NEG_INFINITY);
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    order
}

fn cell(t: &Table, column: &str, row: usize) -> String {
    t.column(column).map_or(String::new(), |c| c.value(row).to_string())
}

/// `hosts.csv` / `pairs.csv`: `src`, (`dst`), `window_start`, `window_end`, `flows`, `outlier_score`,
/// `severity`, `cluster`, `probability`, `reasons`, then every aggregate feature and the label columns;
/// highest score first.
pub fn entity_csv(fit: &DetectorFit) -> String {
    super::write::table_csv(&entity_table(fit))
}

/// The table of [`entity_csv`], typed.
pub fn entity_table(fit: &DetectorFit) -> Table {
    entity_scores_table(entities(fit), &fit.flows, &fit.reasons(3))
}

/// [`entity_csv`] of any scored host or pair rows (e.g. [`crate::Detector::score_log`]'s).
pub fn entity_scores_csv(e: &Entities, scores: &[FlowScore], reasons: &[String]) -> String {
    super::write::table_csv(&entity_scores_table(e, scores, reasons))
}

/// The table of [`entity_scores_csv`], typed (what Parquet output writes).
pub fn entity_scores_table(e: &Entities, scores: &[FlowScore], reasons: &[String]) -> Table {
    entity_rows(e, scores, reasons, &ranked(scores))
}

/// Rows of an entity fit's table written at a time.
pub(crate) const WRITE_ROWS: usize = 1 << 16;

/// [`entity_table`] in pieces of `rows` rows (in order), so that a table of millions of pair rows is
/// never copied whole to be written.
pub(crate) fn entity_table_pieces(
    fit: &DetectorFit,
    rows: usize,
    mut write: impl FnMut(&Table) -> crate::Result<()>,
) -> crate::Result<()> {
    let reasons = fit.reasons(3);
    let order = ranked(&fit.flows);
    for piece in order.chunks(rows) {
        write(&entity_rows(entities(fit), &fit.flows, &reasons, piece))?;
    }
    Ok(())
}

/// The rows `order` of an entity table with their scores.
fn entity_rows(e: &Entities, scores: &[FlowScore], reasons: &[String], order: &[usize]) -> Table {
    let t = e.table();
    let ids = ["src", "dst", "window_start", "window_end", "flows"];
    let mut columns: Vec<Column> = ids.iter().filter_map(|c| t.column(c)).map(|c| c.take(order)).collect();
    let ranked_scores = || order.iter().map(|&r| &scores[r]);
    let evidence: Vec<String> = ranked_scores().map(evidence_name).collect();
    columns.extend([
        Column::from_f64_opt(ENTITY_SCORE_COLUMNS[0], ranked_scores().map(|f| f.outlier_score)),
        Column::from_str_opt(ENTITY_SCORE_COLUMNS[1], ranked_scores().map(|f| Some(f.severity.name()))),
        Column::from_i64_opt(ENTITY_SCORE_COLUMNS[2], ranked_scores().map(|f| f.cluster)),
        Column::from_f64_opt(ENTITY_SCORE_COLUMNS[3], ranked_scores().map(|f| f.probability)),
        Column::from_str_opt(ENTITY_SCORE_COLUMNS[4], evidence.iter().map(|s| text(s))),
        Column::from_str_opt(ENTITY_SCORE_COLUMNS[5], order.iter().map(|&r| reasons.get(r).and_then(|s| text(s)))),
    ]);
    let rest = t.columns().iter().filter(|c| !ids.contains(&c.name())).map(|c| c.take(order));
    super::write::append_unique(&mut columns, rest);
    Table::new(columns).expect("columns of one length and distinct names")
}

/// Empty text as null.
fn text(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The behaviour evidence an alert stands out in, strongest first, `;`-separated (empty for normal rows).
fn evidence_name(f: &FlowScore) -> String {
    f.evidence.iter().map(|e| e.name()).collect::<Vec<_>>().join(";")
}

/// For each flow, its rows in one level's table (see `Entities::link`).
pub type FlowLinks = Vec<[Option<usize>; 2]>;

/// The links of a flow table to each host or pair fit's rows, computed once for every output that
/// needs them.
pub fn level_links(flows: &Table, levels: &[DetectorFit]) -> crate::Result<Vec<FlowLinks>> {
    levels.iter().map(|fit| Ok(entities(fit).link(flows)?)).collect()
}

/// Per flow, the outlier score of its source host, destination host and pair, for the levels fitted
/// (columns `src_host_score`, `dst_host_score`, `pair_score`); `links` from [`level_links`].
pub fn flow_level_scores(levels: &[DetectorFit], links: &[FlowLinks]) -> Vec<(String, Vec<Option<f64>>)> {
    let mut out = Vec::new();
    for (fit, links) in levels.iter().zip(links) {
        let e = entities(fit);
        let score = |r: Option<usize>| r.and_then(|r| fit.flows[r].outlier_score);
        match e.level() {
            Level::Host => {
                out.push(("src_host_score".to_owned(), links.iter().map(|l| score(l[0])).collect()));
                out.push(("dst_host_score".to_owned(), links.iter().map(|l| score(l[1])).collect()));
            }
            _ => out.push(("pair_score".to_owned(), links.iter().map(|l| score(l[0])).collect())),
        }
    }
    out
}

/// One line of `alerts.csv` before ranking.
#[derive(Debug)]
struct Alert {
    level: Level,
    severity: Severity,
    score: f64,
    src: String,
    dst: String,
    window: (String, String),
    flows: usize,
    cluster: String,
    evidence: String,
    reasons: String,
    flow_rows: Vec<usize>,
}

/// `alerts.csv`: the moderate and severe flows, hosts and pairs ranked together — severe before
/// moderate, then hosts, pairs and flows, then by score — each naming its level and the input rows of its flows (at most
/// [`MAX_FLOW_ROWS`], space-separated; `flows` has the count). `links` from [`level_links`].
pub fn alerts_csv(
    flows: &Table,
    flow_scores: &[FlowScore],
    flow_reasons: &[String],
    levels: &[DetectorFit],
    links: &[FlowLinks],
) -> String {
    let mut book = AlertBook::new(levels);
    book.push(flows, 0, flow_scores, flow_reasons, links);
    book.csv()
}

/// `alerts.csv` gathered from a log read batch by batch: the anomalous flows of each batch, and for each
/// anomalous host or pair row the count of its flows and the first [`MAX_FLOW_ROWS`] of their rows.
/// Memory grows with the anomalies, not with the flows.
#[derive(Debug)]
pub struct AlertBook<'a> {
    levels: &'a [DetectorFit],
    flows: Vec<Alert>,
    /// Per level, the flows of each anomalous row (`None` for the others).
    members: Vec<Vec<Option<Members>>>,
}

/// The flows of a host or pair row: their count and first [`MAX_FLOW_ROWS`] rows.
type Members = (usize, Vec<usize>);

impl<'a> AlertBook<'a> {
    /// An empty book for the host and pair fits `levels`.
    pub fn new(levels: &'a [DetectorFit]) -> Self {
        let members = levels
            .iter()
            .map(|fit| {
                let mut rows = vec![None; entities(fit).len()];
                for f in fit.flows.iter().filter(|f| f.severity.is_anomaly()) {
                    rows[f.row] = Some((0, Vec::new()));
                }
                rows
            })
            .collect();
        AlertBook { levels, flows: Vec::new(), members }
    }

    /// Adds a batch of flows whose first row is row `base` of the log: its scores (`row` counts in the
    /// batch), the reasons of its anomalous flows (by batch row; others may be empty) and its `links` to
    /// the levels' rows ([`level_links`] of the batch).
    pub fn push(&mut self, flows: &Table, base: usize, scores: &[FlowScore], reasons: &[String], links: &[FlowLinks]) {
        let FlowIdentity { src: src_col, dst: dst_col, time, duration } = FlowIdentity::of(flows);
        for f in scores.iter().filter(|f| f.severity.is_anomaly()) {
            // In seconds since the epoch, as the host and pair rows' windows, whatever the log's form.
            let start = time.and_then(|c| outflow_aggregate::seconds_at(c, f.row));
            let lasted = duration
                .and_then(|(c, scale)| c.f64_at(f.row).filter(|d| d.is_finite() && *d >= 0.0).map(|d| d * scale));
            // To the microsecond: a sum of seconds would print its float residue (`301.85140800000005`).
            let seconds = |t: Option<f64>| t.map_or(String::new(), |t| ((t * 1e6).round() / 1e6).to_string());
            self.flows.push(Alert {
                level: Level::Flow,
                severity: f.severity,
                score: f.outlier_score.unwrap_or(0.0),
                src: src_col.map_or(String::new(), |c| cell(flows, c, f.row)),
                dst: dst_col.map_or(String::new(), |c| cell(flows, c, f.row)),
                window: (seconds(start), seconds(start.map(|t| t + lasted.unwrap_or(0.0)))),
                flows: 1,
                cluster: f.cluster.map_or(String::new(), |c| c.to_string()),
                evidence: String::new(),
                reasons: reasons.get(f.row).cloned().unwrap_or_default(),
                flow_rows: vec![base + f.row],
            });
        }
        for (members, links) in self.members.iter_mut().zip(links) {
            for (row, l) in links.iter().enumerate() {
                for &r in l.iter().flatten() {
                    if let Some((count, rows)) = &mut members[r] {
                        *count += 1;
                        if rows.len() < MAX_FLOW_ROWS {
                            rows.push(base + row);
                        }
                    }
                }
            }
        }
    }

    /// The file's text: every alert, ranked.
    pub fn csv(self) -> String {
        let mut alerts = self.flows;
        for (fit, mut members) in self.levels.iter().zip(self.members) {
            let e = entities(fit);
            let t = e.table();
            let reasons = fit.reasons(3);
            for f in fit.flows.iter().filter(|f| f.severity.is_anomaly()) {
                let r = f.row;
                let (flows, flow_rows) = members[r].take().unwrap_or_default();
                alerts.push(Alert {
                    level: e.level(),
                    severity: f.severity,
                    score: f.outlier_score.unwrap_or(0.0),
                    src: cell(t, "src", r),
                    dst: cell(t, "dst", r),
                    window: (cell(t, "window_start", r), cell(t, "window_end", r)),
                    flows,
                    cluster: f.cluster.map_or(String::new(), |c| c.to_string()),
                    evidence: evidence_name(f),
                    reasons: reasons[r].clone(),
                    flow_rows,
                });
            }
        }
        // Behaviour before single connections: at one severity, host and pair alerts (each summarising
        // many flows) come before flow alerts; scores of different levels come from different models.
        let order = |l: Level| match l {
            Level::Host => 0,
            Level::Pair => 1,
            Level::Flow => 2,
        };
        alerts.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then(order(a.level).cmp(&order(b.level))).then(b.score.total_cmp(&a.score))
        });
        let header = ALERT_COLUMNS.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let records = alerts.into_iter().enumerate().map(|(i, a)| {
            vec![
                (i + 1).to_string(),
                a.level.name().to_owned(),
                a.severity.name().to_owned(),
                a.score.to_string(),
                a.src,
                a.dst,
                a.window.0,
                a.window.1,
                a.flows.to_string(),
                a.cluster,
                a.evidence,
                a.reasons,
                a.flow_rows.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(" "),
            ]
        });
        super::write::csv_text(std::iter::once(header).chain(records))
    }
}

/// The source, destination, start and duration columns of a flow table, when it has them (found as the
/// aggregation finds them).
struct FlowIdentity<'a> {
    src: Option<&'a str>,
    dst: Option<&'a str>,
    time: Option<&'a Column>,
    /// With the factor to seconds.
    duration: Option<(&'a Column, f64)>,
}

impl<'a> FlowIdentity<'a> {
    fn of(t: &'a Table) -> FlowIdentity<'a> {
        let family = outflow_io::Family::detect(t);
        let find = |role: fn(&outflow_io::FlowRoles) -> &'static [&'static str]| family.role_column(t, role);
        let duration = family.duration_column(t);
        FlowIdentity {
            src: find(|r| r.source).map(|c| c.name()),
            dst: find(|r| r.destination).map(|c| c.name()),
            time: find(|r| r.timestamp),
            duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DetectorParams;
    use crate::run::{TableFormat, TableWriter, table_bytes};

    #[test]
    fn an_entity_table_written_in_pieces_is_the_table() {
        let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/data/ctu-mixed-008.conn.log.labeled");
        let flows = crate::read_table(p, &crate::ReadOptions::default()).unwrap();
        let fit = DetectorParams { level: Level::Pair, ..DetectorParams::default() }.fit(&flows).unwrap();
        assert!(fit.flows.len() > 20, "{} pair rows", fit.flows.len());
        // CSV: the same bytes (Parquet would cut its row groups elsewhere).
        let mut w = TableWriter::new(Vec::new(), TableFormat::Csv).unwrap();
        let mut pieces = 0;
        entity_table_pieces(&fit, 7, |piece| {
            pieces += 1;
            w.write(piece)
        })
        .unwrap();
        assert_eq!(pieces, fit.flows.len().div_ceil(7));
        assert!(w.finish().unwrap() == table_bytes(&entity_table(&fit), TableFormat::Csv).unwrap());
    }
}
