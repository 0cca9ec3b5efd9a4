//! The streaming aggregator: flow batches in, host and pair tables out.

use std::net::IpAddr;

use outflow_core::InputError;
use outflow_io::{Column, Table};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

use crate::beacon::Series;
use crate::columns::{FailedColumn, IdColumn, Interner, Reply, RoleColumns, TimeColumn, flag_at, flags, number_at};
use crate::contacts::Contacts;
use crate::entities::{Entities, EntityKey, Row};
use crate::error::{AggregateError, Result};
use crate::features::{
    Available, BEACON_PEERS, BEACON_SCHEDULE_SCORE, BEACON_SCHEDULE_TOLERANCE, DST_DISTINCT_SRCS, FromPairs,
    SRC_DISTINCT_DSTS, host_features, pair_features,
};
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
}

/// A pair in a window.
#[derive(Debug, Clone, Default)]
pub(crate) struct PairAcc {
    pub(crate) traffic: Traffic,
    pub(crate) series: Series,
    pub(crate) labels: LabelCounts,
}

/// Flows below which a batch is not split between threads.
const MIN_SHARE: usize = 1 << 14;

/// The partial tables of one chunk of flows.
#[derive(Default)]
struct Partial {
    // Boxed: the tables grow by rehashing, which moves values; a pointer moves faster than ~500 bytes.
    hosts: FxHashMap<(u32, i64), Box<HostAcc>>,
    pairs: FxHashMap<(u32, u32, i64), Box<PairAcc>>,
    without_time: usize,
    without_hosts: usize,
    range: Option<(f64, f64)>,
}

impl Partial {
    /// Two partial tables as one (the larger one absorbs the smaller).
    fn merged(self, other: Partial, cap: usize) -> Partial {
        let (mut big, small) = if self.hosts.len() + self.pairs.len() >= other.hosts.len() + other.pairs.len() {
            (self, other)
        } else {
            (other, self)
        };
        big.without_time += small.without_time;
        big.without_hosts += small.without_hosts;
        if let Some((a, b)) = small.range {
            big.range = Some(big.range.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        merge_maps(&mut big.hosts, small.hosts, |a, b| a.merge(*b));
        merge_maps(&mut big.pairs, small.pairs, |a, b| a.merge(*b, cap));
        big
    }

    fn add(
        &mut self,
        flow: &Flow,
        labels: impl Iterator<Item = Option<u32>> + Clone,
        window: Window,
        cap: usize,
        hosts: bool,
        pairs: bool,
    ) {
        let w = match (window, flow.ts) {
            (Window::All, _) => 0,
            (w, Some(t)) => w.index_of(t),
            (_, None) => {
                self.without_time += 1;
                return;
            }
        };
        if let Some(t) = flow.ts {
            self.range = Some(self.range.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        if hosts {
            let out = self.hosts.entry((flow.src, w)).or_default();
            out.out.originated(flow, true);
            labels.clone().enumerate().for_each(|(c, v)| out.labels.add(c, v));
            let inn = self.hosts.entry((flow.dst, w)).or_default();
            inn.inn.answered(flow);
            labels.clone().enumerate().for_each(|(c, v)| inn.labels.add(c, v));
        }
        if pairs {
            let acc = self.pairs.entry((flow.src, flow.dst, w)).or_default();
            acc.traffic.originated(flow, false);
            if let Some(t) = flow.ts {
                acc.series.push(t, flow.bytes_out, cap);
            }
            labels.enumerate().for_each(|(c, v)| acc.labels.add(c, v));
        }
    }
}

/// The batch's row numbers grouped by window, each group in row order (rows without a time together:
/// they are counted, not summed). One group when the window is the whole log.
fn rows_by_window(ts: &TimeColumn<'_>, window: Window, n: usize) -> Vec<Vec<u32>> {
    if window == Window::All {
        return vec![(0..n as u32).collect()];
    }
    let of = |i: usize| ts.get(i).map(|t| window.index_of(t));
    let windows: Vec<Option<i64>> = (0..n).into_par_iter().map(of).collect();
    let mut group: FxHashMap<Option<i64>, usize> = FxHashMap::default();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (i, w) in windows.into_iter().enumerate() {
        let g = *group.entry(w).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i as u32);
    }
    groups
}

fn merge_maps<K: std::hash::Hash + Eq, V>(
    into: &mut FxHashMap<K, V>,
    from: FxHashMap<K, V>,
    merge: impl Fn(&mut V, V),
) {
    for (k, v) in from {
        match into.entry(k) {
            Entry::Vacant(e) => {
                e.insert(v);
            }
            Entry::Occupied(mut e) => merge(e.get_mut(), v),
        }
    }
}

impl HostAcc {
    fn merge(&mut self, other: HostAcc) {
        self.out.merge(other.out);
        self.inn.merge(other.inn);
        self.labels.merge(other.labels);
    }
}

impl PairAcc {
    fn merge(&mut self, other: PairAcc, cap: usize) {
        self.traffic.merge(other.traffic);
        self.series.merge(other.series, cap);
        self.labels.merge(other.labels);
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
#[derive(Debug, Clone)]
pub struct Aggregator {
    params: AggregateParams,
    hosts_wanted: bool,
    pairs_wanted: bool,
    roles: Option<RoleColumns>,
    addresses: Interner,
    services: Interner,
    ports: Interner,
    labels: Vec<Interner>,
    /// Per address id: inside the network.
    inside: Vec<bool>,
    /// The given networks, else the private ranges (used unless Zeek's fields decide).
    inside_networks: crate::network::Networks,
    locality: Option<Locality>,
    // Boxed: the tables grow by rehashing, which moves values; a pointer moves faster than ~500 bytes.
    hosts: FxHashMap<(u32, i64), Box<HostAcc>>,
    pairs: FxHashMap<(u32, u32, i64), Box<PairAcc>>,
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
        let inside_networks = params.internal.clone().unwrap_or_else(crate::network::Networks::private);
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
            inside_networks,
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
        let roles = RoleColumns::find(flows, &self.params.labels);
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
        // Chunks of flows are summed in parallel into partial tables, then merged. Every aggregate is
        // order-free (sums of whole numbers, durations in whole microseconds, maxima, sets, the earliest
        // beacon points), so neither the chunking nor the thread count changes a bit of the result.
        let (window, cap) = (self.params.window, self.params.max_beacon_points);
        // Pairs are always summed: host rows take the highest beacon score of their pairs.
        let (hosts, pairs) = (self.hosts_wanted, true);
        let rows = self.columns(flows, &roles)?;
        // The flows are summed window by window: one window's accumulators stay in cache whatever the
        // order of the log (a log sorted by host, or merged from several sensors, visits every window
        // over and over), and tasks of different windows fill different entries, which the merge moves
        // without combining. A window larger than a thread's share is cut into shares. Flows are read
        // from the columns as they are summed, never held as a batch of their own.
        let n = flows.n_rows();
        if u32::try_from(n).is_err() {
            let reason = format!("{n} rows; a batch holds at most {} (push the log in smaller batches)", u32::MAX);
            return Err(AggregateError::Batch { batch: self.batches, reason });
        }
        let share = n.div_ceil(rayon::current_num_threads().max(1)).max(MIN_SHARE);
        let order = rows_by_window(&rows.ts, window, n);
        let tasks: Vec<&[u32]> = order.iter().flat_map(|w| w.chunks(share)).collect();
        let part = tasks
            .into_par_iter()
            .map(|task| {
                let mut part = Partial::default();
                for &i in task {
                    let i = i as usize;
                    match rows.flow(i) {
                        Some(flow) => {
                            let labels = rows.labels.iter().map(|l| l.get(i));
                            part.add(&flow, labels, window, cap, hosts, pairs);
                        }
                        None => part.without_hosts += 1,
                    }
                }
                part
            })
            .reduce(Partial::default, |a, b| a.merged(b, cap));
        drop(rows);
        self.flows_read += n;
        self.merge(part, cap);
        Ok(())
    }

    fn merge(&mut self, part: Partial, cap: usize) {
        self.flows_without_time += part.without_time;
        self.flows_without_hosts += part.without_hosts;
        if let Some((a, b)) = part.range {
            self.time_range = Some(self.time_range.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        merge_maps(&mut self.hosts, part.hosts, |a, b| a.merge(*b));
        merge_maps(&mut self.pairs, part.pairs, |a, b| a.merge(*b, cap));
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

    /// Whether each address id is inside the network (looked up once per new address).
    fn update_inside(&mut self) {
        for id in self.inside.len()..self.addresses.len() {
            let ip: Option<IpAddr> = self.addresses.name(id as u32).trim().parse().ok();
            self.inside.push(ip.is_some_and(|ip| self.inside_networks.contains(ip)));
        }
    }

    /// The batch's role columns, ready to be read row by row from several threads.
    fn columns<'a>(&'a mut self, t: &'a Table, roles: &'a RoleColumns) -> Result<Rows<'a>> {
        let col = |name: &Option<String>| name.as_ref().and_then(|n| t.column(n));
        let src = IdColumn::new(col(&roles.source).expect("required"), &mut self.addresses);
        let dst = IdColumn::new(col(&roles.destination).expect("required"), &mut self.addresses);
        self.update_inside();
        let service = col(&roles.service).map(|c| IdColumn::new(c, &mut self.services));
        let service_set = (0..self.services.len() as u32).map(|id| !is_unset(self.services.name(id))).collect();
        let dns_services = (0..self.services.len() as u32).map(|id| is_dns_service(self.services.name(id))).collect();
        let port = col(&roles.destination_port).map(|c| PortColumn::new(c, &mut self.ports));
        let dns_ports = (0..self.ports.len() as u32).map(|id| is_dns_port(self.ports.name(id))).collect();
        let labels = roles
            .labels
            .iter()
            .zip(self.labels.iter_mut())
            .map(|(name, interner)| IdColumn::new(t.column(name).expect("found"), interner))
            .collect();
        let zeek_locality = self.locality == Some(Locality::ZeekFields);
        let bytes_in = Reply::new(col(&roles.bytes_in), col(&roles.bytes_total), col(&roles.bytes_out));
        let packets_in = Reply::new(col(&roles.packets_in), col(&roles.packets_total), col(&roles.packets_out));
        Ok(Rows {
            src,
            dst,
            ts: TimeColumn::new(col(&roles.timestamp), self.flows_read)?,
            port,
            service,
            service_set,
            dns_services,
            dns_ports,
            failed: FailedColumn::new(col(&roles.state), &roles.failed_states, packets_in, bytes_in),
            bytes_out: col(&roles.bytes_out),
            bytes_in,
            packets_out: col(&roles.packets_out),
            packets_in,
            duration: roles.duration.as_ref().and_then(|(n, unit)| t.column(n).map(|c| (c, *unit))),
            local: zeek_locality.then(|| (col(&roles.local_source), col(&roles.local_destination))),
            inside: &self.inside,
            labels,
        })
    }

    /// The host and pair tables.
    pub fn finish(self) -> Result<Aggregates> {
        self.finish_after(&Contacts::default())
    }

    /// The contacts of the flows pushed so far: each source's destinations and destination ports,
    /// with their windows (for [`Aggregator::finish_after`] on the windows that follow).
    pub fn contacts(&self) -> Contacts {
        let mut c = Contacts::new();
        for (&(s, d, w), acc) in &self.pairs {
            let src = self.addresses.name(s);
            c.add_destination(src, self.addresses.name(d), w);
            for p in acc.traffic.ports.iter() {
                c.add_port(src, &port_name(&self.ports, p), w);
            }
        }
        c
    }

    /// The host and pair tables, with the contacts made in `earlier` windows (by other aggregators: a
    /// live watch aggregates each window alone) counted as earlier contacts: a destination or port
    /// reached there is not new in `new_failed_dsts` and `new_dst_ports`.
    pub fn finish_after(mut self, earlier: &Contacts) -> Result<Aggregates> {
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
        let addresses = std::sync::Arc::new(std::mem::take(&mut self.addresses).ranked());
        // Pairs first: each host row takes the highest beacon score of its pairs in the window.
        let mut pair_rows: Vec<Row> = self
            .pairs
            .into_par_iter()
            .map(|((s, d, w), mut acc)| {
                let (start, end) = window_bounds(w);
                let beacon = available.time.then(|| acc.series.stats(span));
                Row {
                    key: EntityKey { src: s, dst: Some(d), window: w },
                    window_start: start,
                    window_end: end,
                    flows: acc.traffic.flows,
                    values: pair_features(&acc, beacon.as_ref(), &available),
                    labels: (0..roles.labels.len()).map(|c| acc.labels.joined(c, |id| name_label(c, id))).collect(),
                }
            })
            .collect();
        let names = available.pair_names();
        let at = |n: &str| names.iter().position(|m| *m == n).expect("a pair feature");
        let (fan_out, fan_in) = (at(SRC_DISTINCT_DSTS), at(DST_DISTINCT_SRCS));
        let mut outs: FxHashMap<(u32, i64), u32> = FxHashMap::default();
        let mut ins: FxHashMap<(u32, i64), u32> = FxHashMap::default();
        for r in &pair_rows {
            *outs.entry((r.key.src, r.key.window)).or_default() += 1;
            *ins.entry((r.key.dst.expect("a pair"), r.key.window)).or_default() += 1;
        }
        pair_rows.par_iter_mut().for_each(|r| {
            r.values[fan_out] = outs[&(r.key.src, r.key.window)] as f64;
            r.values[fan_in] = ins[&(r.key.dst.expect("a pair"), r.key.window)] as f64;
        });
        let mut from_pairs: FxHashMap<(u32, i64), FromPairs> = FxHashMap::default();
        if let (Some(score), Some(peers), Some(interval)) = (
            names.iter().position(|n| *n == "beacon_score"),
            names.iter().position(|n| *n == BEACON_PEERS),
            names.iter().position(|n| *n == "interval_median"),
        ) {
            count_schedule_peers(&mut pair_rows, score, interval, peers);
            for row in &pair_rows {
                let best = &mut from_pairs.entry((row.key.src, row.key.window)).or_default().beacon_max;
                *best = best.max(row.values[score] / row.values[peers].max(1.0));
            }
        }
        let name = |id: u32| addresses.interner.name(id);
        // Skipped outright when there is nothing earlier (every batch run): no names to look up.
        let earlier = (!earlier.is_empty()).then_some(earlier);
        // First contacts are host features: a pair table alone has no use for them.
        if let Some(failed) = names.iter().position(|n| *n == "failed_fraction").filter(|_| self.hosts_wanted) {
            let known = |s: u32, d: u32, w: i64| earlier.is_some_and(|e| e.destination_before(name(s), name(d), w));
            let probes = self.params.max_probe_attempts.map(|most| Probes {
                most: f64::from(most),
                ports: names.iter().position(|n| *n == "distinct_dst_ports"),
            });
            count_new_failed_dsts(&pair_rows, failed, probes, known, &mut from_pairs);
        }
        if self.hosts_wanted && available.ports {
            let ports = &self.ports;
            let known =
                |h: u32, p: u32, w: i64| earlier.is_some_and(|e| e.port_before(name(h), &port_name(ports, p), w));
            count_new_dst_ports(&self.hosts, known, &mut from_pairs);
        }
        let (host_accs, pairs_wanted, hosts_wanted) = (self.hosts, self.pairs_wanted, self.hosts_wanted);
        let params = &self.params;
        // The two tables are built side by side; their accumulators are dropped as they are read.
        let (hosts, pairs) = rayon::join(
            || {
                hosts_wanted.then(|| {
                    let rows: Vec<Row> = host_accs
                        .into_par_iter()
                        .map(|((h, w), acc)| {
                            let (start, end) = window_bounds(w);
                            let from_pairs = from_pairs.get(&(h, w)).copied().unwrap_or_default();
                            Row {
                                key: EntityKey { src: h, dst: None, window: w },
                                window_start: start,
                                window_end: end,
                                flows: acc.out.flows + acc.inn.flows,
                                values: host_features(&acc, from_pairs, &available),
                                labels: (0..roles.labels.len())
                                    .map(|c| acc.labels.joined(c, |id| name_label(c, id)))
                                    .collect(),
                            }
                        })
                        .collect();
                    Entities::build(Level::Host, rows, &addresses, &available, &roles.labels, params.clone(), stats)
                })
            },
            || {
                pairs_wanted.then(|| {
                    Entities::build(
                        Level::Pair,
                        pair_rows,
                        &addresses,
                        &available,
                        &roles.labels,
                        params.clone(),
                        stats,
                    )
                })
            },
        );
        Ok(Aggregates { hosts, pairs })
    }
}

/// Which failed contacts are probes: at most `most` failed connections per destination port (the
/// pair's `distinct_dst_ports` column, when the log has ports).
#[derive(Debug, Clone, Copy)]
struct Probes {
    most: f64,
    ports: Option<usize>,
}

/// Adds to each source's windows the destinations first contacted there (no pair of the two in an
/// earlier window, here or `known` from other aggregators) with a failed connection — only those it
/// probed rather than polled, when `probes` is given. Windows are
/// compared by index, so the order the flows came in does not matter.
fn count_new_failed_dsts(
    rows: &[Row],
    failed: usize,
    probes: Option<Probes>,
    known: impl Fn(u32, u32, i64) -> bool,
    into: &mut FxHashMap<(u32, i64), FromPairs>,
) {
    let mut first: FxHashMap<(u32, u32), i64> = FxHashMap::default();
    for r in rows {
        let w = first.entry((r.key.src, r.key.dst.expect("a pair"))).or_insert(r.key.window);
        *w = (*w).min(r.key.window);
    }
    let probed = |r: &&Row| {
        r.values[failed] > 0.0
            && probes.is_none_or(|p| {
                let failures = (r.values[failed] * r.flows as f64).round();
                failures <= p.most * p.ports.map_or(1.0, |c| r.values[c].max(1.0))
            })
    };
    for r in rows.iter().filter(probed) {
        let dst = r.key.dst.expect("a pair");
        if first[&(r.key.src, dst)] == r.key.window && !known(r.key.src, dst, r.key.window) {
            into.entry((r.key.src, r.key.window)).or_default().new_failed_dsts += 1.0;
        }
    }
}

/// Adds to each host's windows the destination ports first contacted there (none of its connections
/// went to them in an earlier window, here or `known` from other aggregators).
fn count_new_dst_ports(
    hosts: &FxHashMap<(u32, i64), Box<HostAcc>>,
    known: impl Fn(u32, u32, i64) -> bool,
    into: &mut FxHashMap<(u32, i64), FromPairs>,
) {
    let mut first: FxHashMap<(u32, u32), i64> = FxHashMap::default();
    for (&(h, w), acc) in hosts {
        for p in acc.out.ports.iter() {
            let f = first.entry((h, p)).or_insert(w);
            *f = (*f).min(w);
        }
    }
    for (&(h, w), acc) in hosts {
        let new = acc.out.ports.iter().filter(|&p| first[&(h, p)] == w && !known(h, p, w)).count();
        if new > 0 {
            into.entry((h, w)).or_default().new_dst_ports = new as f64;
        }
    }
}

/// Fills each beaconing pair's count of the source's pairs on the same schedule in the window (itself
/// included): pairs scoring at least [`BEACON_SCHEDULE_SCORE`] whose median intervals differ by at most
/// [`BEACON_SCHEDULE_TOLERANCE`] of the larger.
fn count_schedule_peers(rows: &mut [Row], score: usize, interval: usize, peers: usize) {
    let mut by_source: FxHashMap<(u32, i64), Vec<(f64, usize)>> = FxHashMap::default();
    for (i, r) in rows.iter().enumerate() {
        if r.values[score] >= BEACON_SCHEDULE_SCORE {
            by_source.entry((r.key.src, r.key.window)).or_default().push((r.values[interval], i));
        }
    }
    for mut group in by_source.into_values() {
        group.sort_by(|a, b| a.0.total_cmp(&b.0));
        let within = |a: f64, b: f64| (b - a).abs() <= BEACON_SCHEDULE_TOLERANCE * a.abs().max(b.abs());
        // Both ends of the neighbourhood move forward as the intervals grow.
        let (mut lo, mut hi) = (0, 0);
        for k in 0..group.len() {
            let x = group[k].0;
            while !within(group[lo].0, x) {
                lo += 1;
            }
            hi = hi.max(k);
            while hi + 1 < group.len() && within(x, group[hi + 1].0) {
                hi += 1;
            }
            rows[group[k].1].values[peers] = (hi - lo + 1) as f64;
        }
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

/// The role columns of one batch, read row by row.
struct Rows<'a> {
    src: IdColumn<'a>,
    dst: IdColumn<'a>,
    ts: TimeColumn<'a>,
    port: Option<PortColumn<'a>>,
    service: Option<IdColumn<'a>>,
    /// Per service id: a real service name (not Zeek's unset markers).
    service_set: Vec<bool>,
    /// Per service id: DNS.
    dns_services: Vec<bool>,
    /// Per interned (text) port id: port 53.
    dns_ports: Vec<bool>,
    failed: FailedColumn<'a>,
    bytes_out: Option<&'a Column>,
    bytes_in: Reply<'a>,
    packets_out: Option<&'a Column>,
    packets_in: Reply<'a>,
    duration: Option<(&'a Column, f64)>,
    /// Zeek's `local_orig` / `local_resp` when they decide what is inside.
    local: Option<(Option<&'a Column>, Option<&'a Column>)>,
    /// Per address id: inside the network.
    inside: &'a [bool],
    labels: Vec<IdColumn<'a>>,
}

impl Rows<'_> {
    /// Flow `i`; `None` without a source or destination.
    #[inline]
    fn flow(&self, i: usize) -> Option<Flow> {
        let (s, d) = (self.src.get(i)?, self.dst.get(i)?);
        let outbound = match self.local {
            Some((ls, ld)) => {
                let flag = |c: Option<&Column>| c.and_then(|c| flag_at(c, i)).unwrap_or(false);
                flag(ls) && !flag(ld)
            }
            None => self.inside[s as usize] && !self.inside[d as usize],
        };
        let amount = |c: Option<&Column>| number_at(c, i).unwrap_or(0.0).max(0.0);
        let port = self.port.as_ref().and_then(|p| p.get(i));
        let service = self.service.as_ref().and_then(|c| c.get(i)).filter(|&id| self.service_set[id as usize]);
        let dns = service.is_some_and(|id| self.dns_services[id as usize])
            || port.is_some_and(|p| if p >= PORT_TEXT { self.dns_ports[(p - PORT_TEXT) as usize] } else { p == 53 });
        let (packets_in, bytes_in) = (self.packets_in.get(i), self.bytes_in.get(i));
        Some(Flow {
            ts: self.ts.get(i),
            src: s,
            dst: d,
            port,
            service,
            dns,
            failed: self.failed.get(i, packets_in, bytes_in),
            bytes_out: amount(self.bytes_out),
            bytes_in: bytes_in.unwrap_or(0.0).max(0.0),
            packets_out: amount(self.packets_out),
            packets_in: packets_in.unwrap_or(0.0).max(0.0),
            duration: self.duration.and_then(|(c, unit)| number_at(Some(c), i).map(|d| d * unit)),
            outbound,
        })
    }
}

/// Destination ports as set members: a whole-number port is its own id, anything else (text, named
/// ports) an interned id above them.
enum PortColumn<'a> {
    Numbers(&'a Column),
    Ids(IdColumn<'a>),
}

/// Interned port ids start here, above every whole-number port.
const PORT_TEXT: u32 = 1 << 31;

impl<'a> PortColumn<'a> {
    fn new(c: &'a Column, interner: &mut Interner) -> PortColumn<'a> {
        if c.dtype().is_numeric() { PortColumn::Numbers(c) } else { PortColumn::Ids(IdColumn::new(c, interner)) }
    }

    #[inline]
    fn get(&self, i: usize) -> Option<u32> {
        match self {
            PortColumn::Numbers(c) => {
                c.f64_at(i).filter(|p| p.fract() == 0.0 && (0.0..PORT_TEXT as f64).contains(p)).map(|p| p as u32)
            }
            PortColumn::Ids(ids) => ids.get(i).map(|id| id | PORT_TEXT),
        }
    }
}

/// A port id as the log writes the port.
fn port_name(ports: &Interner, p: u32) -> std::borrow::Cow<'_, str> {
    if p & PORT_TEXT != 0 { ports.name(p & !PORT_TEXT).into() } else { p.to_string().into() }
}

/// A service naming DNS (Zeek joins the protocols it recognised with commas: `dns`, `dns,ssl`).
fn is_dns_service(s: &str) -> bool {
    s.split(',').any(|p| p.trim().eq_ignore_ascii_case("dns"))
}

/// A destination port written as text that is port 53 (`53`, `53/udp`).
fn is_dns_port(s: &str) -> bool {
    s.split('/').next().is_some_and(|p| p.trim() == "53")
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
