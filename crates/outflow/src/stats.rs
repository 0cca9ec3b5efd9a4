//! Per-cluster statistics of the original columns (what `clusters.json` holds) and row selection.

use std::collections::BTreeMap;

use outflow_io::family::same_name;
use outflow_io::{Column, DataType, Family, Table, TopValue};
use serde::{Deserialize, Serialize};

use crate::detector::FlowScore;
use outflow_core::InputError;
use outflow_core::stats::percentile;

/// Statistics of one numeric column within a cluster (non-null values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    /// Non-null values.
    pub count: usize,
    /// Mean.
    #[serde(serialize_with = "outflow_io::f64_or_string", deserialize_with = "outflow_io::f64_from_number_or_string")]
    pub mean: f64,
    /// Median.
    #[serde(serialize_with = "outflow_io::f64_or_string", deserialize_with = "outflow_io::f64_from_number_or_string")]
    pub median: f64,
    /// Sample standard deviation (ddof 1; 0 for one value).
    #[serde(serialize_with = "outflow_io::f64_or_string", deserialize_with = "outflow_io::f64_from_number_or_string")]
    pub std: f64,
    /// Sample variance.
    #[serde(serialize_with = "outflow_io::f64_or_string", deserialize_with = "outflow_io::f64_from_number_or_string")]
    pub variance: f64,
    /// Maximum − minimum.
    #[serde(serialize_with = "outflow_io::f64_or_string", deserialize_with = "outflow_io::f64_from_number_or_string")]
    pub range: f64,
    /// First quartile (linear interpolation).
    #[serde(serialize_with = "outflow_io::f64_or_string", deserialize_with = "outflow_io::f64_from_number_or_string")]
    pub q1: f64,
}

/// One cluster's size and column statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Label (−1 = noise).
    pub cluster: i64,
    /// Flows.
    pub size: usize,
    /// Share of the scored flows.
    pub fraction: f64,
    /// Top-5 values of each categorical column.
    pub categorical: BTreeMap<String, Vec<TopValue>>,
    /// Statistics of each numeric column.
    pub numeric: BTreeMap<String, NumericStats>,
}

/// Statistics of every cluster over the original columns of `table` (one row per flow of `flows`).
pub fn cluster_statistics(table: &Table, flows: &[FlowScore]) -> Vec<ClusterStats> {
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for f in flows {
        if let Some(c) = f.cluster {
            groups.entry(c).or_default().push(f.row);
        }
    }
    let scored: usize = groups.values().map(Vec::len).sum();
    groups
        .into_iter()
        .map(|(cluster, rows)| {
            let mut categorical = BTreeMap::new();
            let mut numeric = BTreeMap::new();
            for col in table.columns() {
                if col.dtype() == DataType::Categorical {
                    categorical.insert(col.name().to_owned(), top_values(col, &rows, 5));
                } else if let Some(s) = numeric_stats(col, &rows) {
                    numeric.insert(col.name().to_owned(), s);
                }
            }
            ClusterStats {
                cluster,
                size: rows.len(),
                fraction: rows.len() as f64 / scored.max(1) as f64,
                categorical,
                numeric,
            }
        })
        .collect()
}

fn top_values(col: &Column, rows: &[usize], k: usize) -> Vec<TopValue> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (order, &r) in rows.iter().enumerate() {
        if let Some(s) = col.str_at(r) {
            counts.entry(s).or_insert((0, order)).0 += 1;
        }
    }
    let mut v: Vec<(&str, usize, usize)> = counts.into_iter().map(|(s, (c, o))| (s, c, o)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    v.into_iter().take(k).map(|(s, c, _)| TopValue { value: s.to_owned(), count: c }).collect()
}

fn numeric_stats(col: &Column, rows: &[usize]) -> Option<NumericStats> {
    let v: Vec<f64> = rows.iter().filter_map(|&r| col.f64_at(r)).filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let variance = if v.len() > 1 { v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    let (min, max) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    Some(NumericStats {
        count: v.len(),
        mean,
        median: percentile(&v, 50.0),
        std: variance.sqrt(),
        variance,
        range: max - min,
        q1: percentile(&v, 25.0),
    })
}

/// Which flows to analyse: keep only chosen services and hosts, as analysts do before clustering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    /// Keep flows whose `service` (Zeek) is one of these, in any case (empty: all). Zeek lists every
    /// protocol its analysers confirmed (`smb,gssapi,krb`): a flow is kept when any of them is asked for.
    pub services: Vec<String>,
    /// Keep flows from or to one of these addresses or networks (`10.0.0.5`, `10.0.0.0/24`, `fd00::/8`;
    /// an address as written, e.g. an exporter's integer form, also matches its exact text) in
    /// `id.orig_h` / `id.resp_h`, `Src IP` / `Dst IP`, or another exporter's names of the connection's two
    /// ends, as the host level finds them.
    pub hosts: Vec<String>,
}

impl RowFilter {
    /// True when the filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.hosts.is_empty()
    }

    /// Per row: `None` if kept, else why it was left out.
    pub fn apply(&self, table: &Table) -> crate::Result<Vec<Option<String>>> {
        let n = table.n_rows();
        let mut out = vec![None; n];
        if !self.services.is_empty() {
            let col = Family::union(|c| c.services).iter().find_map(|c| column_named(table, c)).ok_or_else(|| {
                InputError::param("services", "selecting by service needs a 'service' column (Zeek conn logs)")
            })?;
            for (i, o) in out.iter_mut().enumerate() {
                let s = col.value(i).to_string();
                let asked = |part: &str| self.services.iter().any(|w| w.trim().eq_ignore_ascii_case(part.trim()));
                if !s.split(',').any(asked) {
                    *o = Some(format!("not selected: service '{s}' not among {}", self.services.join(", ")));
                }
            }
        }
        if !self.hosts.is_empty() {
            // The columns the host and pair levels read as the connection's two ends.
            let family = Family::detect(table);
            let cols: Vec<&Column> =
                [family.role_column(table, |r| r.source), family.role_column(table, |r| r.destination)]
                    .into_iter()
                    .flatten()
                    .collect();
            if cols.is_empty() {
                return Err(InputError::param(
                    "hosts",
                    "selecting by host needs address columns (id.orig_h / id.resp_h, Src IP / Dst IP, SrcAddr / \
                     DstAddr, src_ip / dst_ip, ...)",
                )
                .into());
            }
            // Each an address or network, or else an address as an exporter writes it as a number.
            let networks: Vec<Option<outflow_aggregate::Network>> = self.hosts.iter().map(|h| h.parse().ok()).collect();
            if let Some((h, _)) =
                self.hosts.iter().zip(&networks).find(|(h, n)| {
                    n.is_none() && (h.trim().is_empty() || !h.trim().bytes().all(|b| b.is_ascii_digit()))
                })
            {
                let why = format!("'{h}' is not an address or a network (10.0.0.5, 10.0.0.0/24, fd00::/8)");
                return Err(InputError::param("hosts", why).into());
            }
            let kept = |text: &str| {
                let ip: Option<std::net::IpAddr> = text.trim().parse().ok();
                self.hosts.iter().zip(&networks).any(|(h, n)| match (n, ip) {
                    (Some(n), Some(ip)) => n.contains(ip),
                    _ => h.trim() == text.trim(),
                })
            };
            for (i, o) in out.iter_mut().enumerate() {
                if o.is_none() && !cols.iter().any(|c| !c.is_null(i) && kept(&c.value(i).to_string())) {
                    *o = Some(format!("not selected: no address in {}", self.hosts.join(", ")));
                }
            }
        }
        Ok(out)
    }
}

/// The column of a name, compared trimmed and case-insensitively.
fn column_named<'t>(table: &'t Table, name: &str) -> Option<&'t Column> {
    table.columns().iter().find(|c| same_name(c.name(), name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Severity;

    #[test]
    fn selection_by_service_set_and_by_network() {
        let t = Table::new(vec![
            Column::from_str_opt("id.orig_h", [Some("10.0.0.5"), Some("fd2d:ab8c:225::1"), Some("192.168.1.9")]),
            Column::from_str_opt("id.resp_h", [Some("8.8.8.8"), Some("fd2d::9"), Some("10.0.1.7")]),
            Column::from_str_opt("service", [Some("smb,gssapi,krb"), Some("SSL"), None]),
        ])
        .unwrap();
        let kept = |f: RowFilter| f.apply(&t).unwrap().iter().map(Option::is_none).collect::<Vec<_>>();
        let by = |services: &[&str], hosts: &[&str]| RowFilter {
            services: services.iter().map(|s| s.to_string()).collect(),
            hosts: hosts.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(kept(by(&["krb"], &[])), [true, false, false]);
        assert_eq!(kept(by(&["ssl"], &[])), [false, true, false]);
        assert_eq!(kept(by(&[], &["10.0.0.0/16"])), [true, false, true]);
        assert_eq!(kept(by(&[], &["FD2D:AB8C:0225::1"])), [false, true, false]);
        assert_eq!(kept(by(&["smb"], &["10.0.0.5"])), [true, false, false]);
        let err = by(&[], &["notanip"]).apply(&t).unwrap_err().to_string();
        assert!(err.contains("'notanip' is not an address or a network"), "{err}");
    }

    #[test]
    fn stats_per_cluster() {
        let t = Table::new(vec![
            Column::from_f64("bytes", vec![1.0, 2.0, 3.0, 100.0]),
            Column::from_str_opt("proto", [Some("tcp"), Some("tcp"), Some("udp"), Some("icmp")]),
        ])
        .unwrap();
        let f = |row, c| FlowScore {
            row,
            cluster: Some(c),
            probability: Some(1.0),
            outlier_score: Some(0.1),
            severity: Severity::Normal,
            reason: None,
            evidence: Vec::new(),
        };
        let s = cluster_statistics(&t, &[f(0, 0), f(1, 0), f(2, 0), f(3, -1)]);
        assert_eq!(s[0].cluster, -1);
        let c0 = &s[1];
        assert_eq!(c0.size, 3);
        assert_eq!(c0.numeric["bytes"].median, 2.0);
        assert_eq!(c0.numeric["bytes"].variance, 1.0);
        assert_eq!(c0.numeric["bytes"].q1, 1.5);
        assert_eq!(c0.categorical["proto"][0], TopValue { value: "tcp".into(), count: 2 });
    }

    #[test]
    fn filters() {
        let t = Table::new(vec![
            Column::from_str_opt("service", [Some("ssl"), Some("dns"), None]),
            Column::from_str_opt("id.orig_h", [Some("10.0.0.1"), Some("10.0.0.2"), Some("10.0.0.1")]),
            Column::from_str_opt("id.resp_h", [Some("1.1.1.1"), Some("10.0.0.1"), Some("8.8.8.8")]),
        ])
        .unwrap();
        let f = RowFilter { services: vec!["ssl".into()], hosts: vec![] };
        let r = f.apply(&t).unwrap();
        assert!(r[0].is_none() && r[1].is_some() && r[2].is_some());
        let f = RowFilter { services: vec![], hosts: vec!["10.0.0.1".into()] };
        assert!(f.apply(&t).unwrap().iter().all(Option::is_none));
    }
}
