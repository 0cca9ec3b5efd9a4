//! The streaming aggregator: flow batches in, host and pair tables out.

use std::net::IpAddr;

use outflow_core::InputError;
use outflow_io::Table;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::beacon::Series;
use crate::columns::{Interner, RoleColumns, flags, ids, numbers, timestamps};
use crate::entities::{Entities, EntityKey, Row};
use crate::error::{AggregateError, Result};
use crate::features::{Available, host_features, pair_features};
use crate::level::Level;
use crate::params::{AggregateParams, Locality};
use crate::traffic::{Flow, LabelCounts, Traffic};
use crate::window::Window;

/// A host in a window: the connections it originated and those it answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostAcc {
    pub(crate) out: Traffic,
    pub(crate) inn: Traffic,
    pub(crate) labels: LabelCounts,
    pub(crate) first: f64,
    pub(crate) last: f64,
}

/// A pair in a window.
#[derive(Debug, Clone, Default)]
pub(crate) struct PairAcc {
    pub(crate) traffic: Traffic,
    pub(crate) series: Series,
    pub(crate) labels: LabelCounts,
    pub(crate) first: f64,
    pub(crate) last: f64,
}

fn seen(first: &mut f64, last: &mut f64, flows: u64, ts: Option<f64>) {
    if let Some(t) = ts {
        if flows == 0 || t < *first {
            *first = t;
        }
        if flows == 0 || t > *last {
            *last = t;
        }
    }
}

/// Flow batches in, host and pair tables out; memory grows with the hosts and pairs per window, not with
/// the flows.
///
/// ```
/// use outflow_aggregate::{AggregateParams, Aggregator, Level};
/// use outflow_io::{Input, ReadOptions, read_input};
/// let log = "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\torig_bytes\tresp_bytes\n\
///            #types\ttime\taddr\taddr\tport\tcount\tcount\n\
///            10.0\t10.0.0.5\t8.8.8.8\t53\t40\t90\n20.0\t10.0.0.5\t1.1.1.1\t443\t900\t40000\n";
/// let (flows, _) = read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap();
/// let mut agg = Aggregator::new(AggregateParams::default(), &[Level::Host, Level::Pair]).unwrap();
/// agg.push(&flows).unwrap();
/// let out = agg.finish().unwrap();
/// let hosts = out.hosts.unwrap();
/// assert_eq!(hosts.len(), 3); // 10.0.0.5, 8.8.8.8, 1.1.1.1 in one hour
/// let pairs = out.pairs.unwrap();
/// assert_eq!(pairs.value("bytes_out", pairs.row_of("10.0.0.5", Some("1.1.1.1"), 0.0).unwrap()), Some(900.0));
/// ```
#[derive(Debug)]
pub struct Aggregator {
    params: AggregateParams,
    hosts_wanted: bool,
    pairs_wanted: bool,
    roles: Option<RoleColumns>,
    addresses: Interner,
    services: Interner,
    ports: Interner,
    labels: Vec<Interner>,
    /// Per address id: inside the network (`None` until looked up).
    inside: Vec<Option<bool>>,
    locality: Option<Locality>,
    hosts: FxHashMap<(u32, i64), HostAcc>,
    pairs: FxHashMap<(u32, u32, i64), PairAcc>,
    batches: usize,
    flows_read: usize,
    flows_without_hosts: usize,
    flows_without_time: usize,
    time_range: Option<(f64, f64)>,
}

/// What [`Aggregator::finish`] returns: the tables of the levels asked for.
#[derive(Debug, Clone)]
pub struct Aggregates {
    /// Host rows, when asked for.
    pub hosts: Option<Entities>,
    /// Pair rows, when asked for.
    pub pairs: Option<Entities>,
}

impl Aggregator {
    /// An aggregator for the entity levels listed (flow is ignored; at least one of host and pair).
    pub fn new(params: AggregateParams, levels: &[Level]) -> Result<Aggregator> {
        params.validate()?;
        let hosts_wanted = levels.contains(&Level::Host);
        let pairs_wanted = levels.contains(&Level::Pair);
        if !hosts_wanted && !pairs_wanted {
            return Err(InputError::param("levels", "aggregation needs the host or the pair level").into());
        }
        Ok(Aggregator {
            params,
            hosts_wanted,
            pairs_wanted,
            roles: None,
            addresses: Interner::default(),
            services: Interner::default(),
            ports: Interner::default(),
            labels: Vec::new(),
            inside: Vec::new(),
            locality: None,
            hosts: FxHashMap::default(),
            pairs: FxHashMap::default(),
            batches: 0,
            flows_read: 0,
            flows_without_hosts: 0,
            flows_without_time: 0,
            time_range: None,
        })
    }

    fn level_name(&self) -> &'static str {
        if self.hosts_wanted { "host" } else { "pair" }
    }

    /// Adds a batch of flows. Every batch must have the columns of the first.
    pub fn push(&mut self, flows: &Table) -> Result<()> {
        self.batches += 1;
        let roles = RoleColumns::find(flows);
        match &self.roles {
            None => {
                roles.require(self.level_name(), self.params.window != Window::All)?;
                self.locality = Some(self.locality_of(flows, &roles));
                self.labels = vec![Interner::default(); roles.labels.len()];
                self.roles = Some(roles);
            }
            Some(first) if *first != roles => {
                return Err(AggregateError::Batch {
                    batch: self.batches,
                    reason: "its columns differ from the first batch's".into(),
                });
            }
            Some(_) => {}
        }
        let roles = self.roles.clone().expect("set above");
        let batch = self.read_batch(flows, &roles)?;
        self.flows_read += flows.n_rows();
        for (i, flow) in batch.flows.iter().enumerate() {
            let Some(flow) = flow else { continue };
            let window = match (self.params.window, flow.ts) {
                (Window::All, _) => 0,
                (w, Some(t)) => w.index_of(t),
                (_, None) => {
                    self.flows_without_time += 1;
                    continue;
                }
            };
            if let Some(t) = flow.ts {
                self.time_range = Some(match self.time_range {
                    None => (t, t),
                    Some((a, b)) => (a.min(t), b.max(t)),
                });
            }
            let label_ids: Vec<Option<u32>> = batch.labels.iter().map(|l| l[i]).collect();
            if self.hosts_wanted {
                for (host, originated) in [(flow.src, true), (flow.dst, false)] {
                    let acc = self.hosts.entry((host, window)).or_default();
                    seen(&mut acc.first, &mut acc.last, acc.out.flows + acc.inn.flows, flow.ts);
                    if originated {
                        acc.out.originated(flow, true);
                    } else {
                        acc.inn.answered(flow);
                    }
                    for (c, &v) in label_ids.iter().enumerate() {
                        acc.labels.add(c, v);
                    }
                }
            }
            if self.pairs_wanted {
                let acc = self.pairs.entry((flow.src, flow.dst, window)).or_default();
                seen(&mut acc.first, &mut acc.last, acc.traffic.flows, flow.ts);
                acc.traffic.originated(flow, false);
                if let Some(t) = flow.ts {
                    acc.series.push(t, flow.bytes_out, self.params.max_beacon_points);
                }
                for (c, &v) in label_ids.iter().enumerate() {
                    acc.labels.add(c, v);
                }
            }
        }
        Ok(())
    }

    /// Inside-the-network rule for this log (see [`AggregateParams::internal`]).
    fn locality_of(&self, flows: &Table, roles: &RoleColumns) -> Locality {
        if self.params.internal.is_some() {
            return Locality::Given;
        }
        let any_set = [&roles.local_source, &roles.local_destination]
            .into_iter()
            .flatten()
            .filter_map(|n| flows.column(n))
            .any(|c| flags(c).into_iter().any(|f| f == Some(true)));
        if any_set { Locality::ZeekFields } else { Locality::PrivateRanges }
    }

    fn is_inside(&mut self, address: u32) -> bool {
        let i = address as usize;
        if self.inside.len() <= i {
            self.inside.resize(self.addresses.len().max(i + 1), None);
        }
        if let Some(v) = self.inside[i] {
            return v;
        }
        let ip: Option<IpAddr> = self.addresses.name(address).trim().parse().ok();
        let private = crate::network::Networks::private();
        let nets = self.params.internal.as_ref().unwrap_or(&private);
        let v = ip.is_some_and(|ip| nets.contains(ip));
        self.inside[i] = Some(v);
        v
    }

    /// The batch's flows through the role columns (`None`: no source or destination).
    fn read_batch(&mut self, t: &Table, roles: &RoleColumns) -> Result<Batch> {
        let col = |name: &Option<String>| name.as_ref().and_then(|n| t.column(n));
        let n = t.n_rows();
        let src = ids(col(&roles.source).expect("required"), &mut self.addresses);
        let dst = ids(col(&roles.destination).expect("required"), &mut self.addresses);
        let ts = match col(&roles.timestamp) {
            Some(c) => timestamps(c, self.flows_read)?,
            None => vec![None; n],
        };
        let port = col(&roles.destination_port).map(|c| ids(c, &mut self.ports));
        let service = col(&roles.service).map(|c| ids(c, &mut self.services));
        let zero = |name: &Option<String>| col(name).map(numbers);
        let (bytes_out, bytes_in) = (zero(&roles.bytes_out), zero(&roles.bytes_in));
        let (packets_out, packets_in) = (zero(&roles.packets_out), zero(&roles.packets_in));
        let duration = roles.duration.as_ref().and_then(|(n, unit)| {
            t.column(n).map(|c| numbers(c).into_iter().map(|v| v.map(|d| d * unit)).collect::<Vec<_>>())
        });
        let failed: Vec<bool> = match col(&roles.state) {
            Some(c) => {
                (0..n).map(|i| c.str_at(i).is_some_and(|s| roles.failed_states.iter().any(|f| f == s.trim()))).collect()
            }
            None => match &packets_in {
                Some(p) => p.iter().map(|v| v.unwrap_or(0.0) == 0.0).collect(),
                None => vec![false; n],
            },
        };
        let local = |name: &Option<String>| col(name).map(flags);
        let (local_src, local_dst) = (local(&roles.local_source), local(&roles.local_destination));
        let labels: Vec<Vec<Option<u32>>> = roles
            .labels
            .iter()
            .zip(self.labels.iter_mut())
            .map(|(name, interner)| ids(t.column(name).expect("found"), interner))
            .collect();
        let locality = self.locality.expect("set on the first batch");
        let at = |v: &Option<Vec<Option<f64>>>, i: usize| v.as_ref().and_then(|v| v[i]).filter(|x| x.is_finite());
        let mut flows = Vec::with_capacity(n);
        for i in 0..n {
            let (Some(s), Some(d)) = (src[i], dst[i]) else {
                self.flows_without_hosts += 1;
                flows.push(None);
                continue;
            };
            let outbound = match locality {
                Locality::ZeekFields => {
                    let flag = |v: &Option<Vec<Option<bool>>>| v.as_ref().and_then(|v| v[i]).unwrap_or(false);
                    flag(&local_src) && !flag(&local_dst)
                }
                _ => self.is_inside(s) && !self.is_inside(d),
            };
            flows.push(Some(Flow {
                ts: ts[i],
                src: s,
                dst: d,
                port: port.as_ref().and_then(|p| p[i]),
                service: service.as_ref().and_then(|p| p[i]).filter(|&id| !is_unset(self.services.name(id))),
                failed: failed[i],
                bytes_out: at(&bytes_out, i).unwrap_or(0.0).max(0.0),
                bytes_in: at(&bytes_in, i).unwrap_or(0.0).max(0.0),
                packets_out: at(&packets_out, i).unwrap_or(0.0).max(0.0),
                packets_in: at(&packets_in, i).unwrap_or(0.0).max(0.0),
                duration: at(&duration, i),
                outbound,
            }));
        }
        Ok(Batch { flows, labels })
    }

    /// The host and pair tables.
    pub fn finish(self) -> Result<Aggregates> {
        let Some(roles) = self.roles.clone() else {
            return Err(InputError::Empty { rows: 0, cols: 0 }.into());
        };
        if self.hosts.is_empty() && self.pairs.is_empty() {
            let why = if self.flows_read == 0 {
                "the log has no flows".to_owned()
            } else if self.flows_without_hosts == self.flows_read {
                format!("none of the {} flows has both addresses", self.flows_read)
            } else {
                format!("none of the {} flows has a timestamp (use --window all)", self.flows_read)
            };
            return Err(AggregateError::NoFlows(why));
        }
        let available = Available::of(&roles);
        let span = match (self.params.window, self.time_range) {
            (Window::Tumbling { seconds }, _) => seconds as f64,
            (Window::All, Some((a, b))) => b - a,
            (Window::All, None) => 0.0,
        };
        let window_bounds = |w: i64| -> (Option<f64>, Option<f64>) {
            match (self.params.window, self.time_range) {
                (Window::Tumbling { seconds }, _) => {
                    let s = w as f64 * seconds as f64;
                    (Some(s), Some(s + seconds as f64))
                }
                (Window::All, Some((a, b))) => (Some(a), Some(b)),
                (Window::All, None) => (None, None),
            }
        };
        let name_label = |c: usize, id: u32| self.labels[c].name(id).to_owned();
        let stats = Stats {
            flows_read: self.flows_read,
            flows_without_hosts: self.flows_without_hosts,
            flows_without_time: self.flows_without_time,
            locality: self.locality.expect("set"),
        };
        let hosts = self.hosts_wanted.then(|| {
            let rows: Vec<Row> = self
                .hosts
                .par_iter()
                .map(|(&(h, w), acc)| {
                    let (start, end) = window_bounds(w);
                    Row {
                        key: EntityKey { src: self.addresses.name(h).to_owned(), dst: None, window: w },
                        window_start: start,
                        window_end: end,
                        flows: acc.out.flows + acc.inn.flows,
                        values: host_features(acc, &available),
                        labels: (0..roles.labels.len()).map(|c| acc.labels.joined(c, |id| name_label(c, id))).collect(),
                    }
                })
                .collect();
            Entities::build(Level::Host, rows, &available, &roles.labels, self.params.clone(), stats)
        });
        let pairs = self.pairs_wanted.then(|| {
            let rows: Vec<Row> = self
                .pairs
                .into_par_iter()
                .map(|((s, d, w), mut acc)| {
                    let (start, end) = window_bounds(w);
                    let beacon = available.time.then(|| acc.series.stats(span));
                    Row {
                        key: EntityKey {
                            src: self.addresses.name(s).to_owned(),
                            dst: Some(self.addresses.name(d).to_owned()),
                            window: w,
                        },
                        window_start: start,
                        window_end: end,
                        flows: acc.traffic.flows,
                        values: pair_features(&acc, beacon.as_ref(), &available),
                        labels: (0..roles.labels.len()).map(|c| acc.labels.joined(c, |id| name_label(c, id))).collect(),
                    }
                })
                .collect();
            Entities::build(Level::Pair, rows, &available, &roles.labels, self.params.clone(), stats)
        });
        Ok(Aggregates { hosts, pairs })
    }
}

/// Counts of an aggregation, kept with its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Flows read.
    pub flows_read: usize,
    /// Flows left out: no source or destination address.
    pub flows_without_hosts: usize,
    /// Flows left out: no timestamp (time windows only).
    pub flows_without_time: usize,
    /// Where the inside of the network came from.
    pub locality: Locality,
}

struct Batch {
    flows: Vec<Option<Flow>>,
    labels: Vec<Vec<Option<u32>>>,
}

/// Zeek's unset and empty markers, as a service name.
fn is_unset(s: &str) -> bool {
    matches!(s.trim(), "" | "-" | "(empty)")
}

/// Aggregates one flow table at one level.
///
/// ```
/// use outflow_aggregate::{aggregate, AggregateParams, Level};
/// use outflow_io::{Column, Table};
/// let flows = Table::new(vec![
///     Column::from_str_opt("id.orig_h", [Some("10.0.0.1"), Some("10.0.0.1")]),
///     Column::from_str_opt("id.resp_h", [Some("10.0.0.2"), Some("10.0.0.3")]),
///     Column::from_time_opt("ts", [Some(5.0), Some(4000.0)]),
/// ]).unwrap();
/// let hosts = aggregate(&flows, &AggregateParams::default(), Level::Host).unwrap();
/// assert_eq!(hosts.len(), 4); // 10.0.0.1 in two hours, 10.0.0.2 and 10.0.0.3 once
/// ```
pub fn aggregate(flows: &Table, params: &AggregateParams, level: Level) -> Result<Entities> {
    let mut agg = Aggregator::new(params.clone(), &[level])?;
    agg.push(flows)?;
    let out = agg.finish()?;
    Ok(match level {
        Level::Host => out.hosts,
        _ => out.pairs,
    }
    .expect("the level asked for"))
}
