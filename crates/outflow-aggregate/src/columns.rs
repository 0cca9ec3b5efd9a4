//! Finding the columns that play each part of a connection, and reading a batch of flows through them.

use outflow_io::family::same_name;
use outflow_io::{Column, ColumnData, DataType, Family, FlowRoles, Table};
use rustc_hash::FxHashMap;

use crate::entities::EntityKey;
use crate::error::{AggregateError, Result};
use crate::time::{epoch_seconds, parse_timestamp};

/// Strings numbered in order of first appearance.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The id of a known string.
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The interner with each string's rank in byte order, for sorting rows by name without comparing
    /// strings.
    pub(crate) fn ranked(self) -> Ranked {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        Ranked { interner: self, rank }
    }
}

/// An interner and the rank of each id's string in byte order.
#[derive(Debug)]
pub(crate) struct Ranked {
    pub(crate) interner: Interner,
    pub(crate) rank: Vec<u32>,
}

impl Ranked {
    /// The ranks of an entity's source and destination (0 for a host, which has none), so that sorting
    /// them sorts the names.
    pub(crate) fn of(&self, key: &EntityKey) -> (u32, u32) {
        (self.rank[key.src as usize], key.dst.map_or(0, |d| self.rank[d as usize] + 1))
    }

    /// The key of a host (`dst` `None`) or pair in window `window`; `None` for an unknown address.
    pub(crate) fn key(&self, src: &str, dst: Option<&str>, window: i64) -> Option<EntityKey> {
        let dst = match dst {
            Some(d) => Some(self.interner.get(d)?),
            None => None,
        };
        Some(EntityKey { src: self.interner.get(src)?, dst, window })
    }
}

/// The column names of each part, found once on the first batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleColumns {
    pub(crate) family: Family,
    pub(crate) timestamp: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) destination: Option<String>,
    pub(crate) destination_port: Option<String>,
    pub(crate) service: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) failed_states: Vec<String>,
    pub(crate) bytes_out: Option<String>,
    pub(crate) bytes_in: Option<String>,
    pub(crate) packets_out: Option<String>,
    pub(crate) packets_in: Option<String>,
    pub(crate) bytes_total: Option<String>,
    pub(crate) packets_total: Option<String>,
    pub(crate) local_source: Option<String>,
    pub(crate) local_destination: Option<String>,
    /// The duration column and the seconds in its unit.
    pub(crate) duration: Option<(String, f64)>,
    pub(crate) labels: Vec<String>,
}

/// The candidate names of a part: the log family's first, then every other family's.
fn candidates(family: Family, part: fn(&FlowRoles) -> &'static [&'static str]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = part(&family.columns().roles).to_vec();
    for f in Family::ALL {
        for &n in part(&f.columns().roles) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

fn find(table: &Table, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| table.columns().iter().find(|c| same_name(c.name(), n)).map(|c| c.name().to_owned()))
}

impl RoleColumns {
    /// The parts of `table`'s flows; `labels` are label columns besides the families'.
    pub(crate) fn find(table: &Table, labels: &[String]) -> RoleColumns {
        let family = Family::detect(table);
        let part =
            |p: fn(&FlowRoles) -> &'static [&'static str]| family.role_column(table, p).map(|c| c.name().to_owned());
        let state = part(|r| r.state);
        let failed_states: Vec<String> = if state.is_some() {
            candidates(family, |r| r.failed_states).iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        };
        let duration = family.duration_column(table).map(|(c, unit)| (c.name().to_owned(), unit));
        let families = Family::union(|c| c.labels);
        let named = labels.iter().map(String::as_str).chain(families.iter().copied());
        let labels = named.filter_map(|n| find(table, &[n])).fold(Vec::new(), |mut v: Vec<String>, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
        RoleColumns {
            family,
            timestamp: part(|r| r.timestamp),
            source: part(|r| r.source),
            destination: part(|r| r.destination),
            destination_port: part(|r| r.destination_port),
            service: part(|r| r.service),
            state,
            failed_states,
            bytes_out: part(|r| r.bytes_out),
            bytes_in: part(|r| r.bytes_in),
            packets_out: part(|r| r.packets_out),
            packets_in: part(|r| r.packets_in),
            bytes_total: part(|r| r.bytes_total),
            packets_total: part(|r| r.packets_total),
            local_source: part(|r| r.local_source),
            local_destination: part(|r| r.local_destination),
            duration,
            labels,
        }
    }

    /// Errors when the hosts (and, for windows, the timestamp) are missing.
    pub(crate) fn require(&self, level: &'static str, needs_time: bool) -> Result<()> {
        let hint = if self.family == Family::Kdd {
            "; KDD records carry no addresses or times: analyse them at the flow level".to_owned()
        } else {
            String::new()
        };
        let missing = |role: &'static str, part: fn(&FlowRoles) -> &'static [&'static str], hint: String| {
            AggregateError::MissingColumn { level, role, candidates: candidates(self.family, part).join(", "), hint }
        };
        if self.source.is_none() {
            return Err(missing("source address", |r| r.source, hint));
        }
        if self.destination.is_none() {
            return Err(missing("destination address", |r| r.destination, hint));
        }
        if needs_time && self.timestamp.is_none() {
            let hint = format!("{hint}; or aggregate the whole log as one window (--window all)");
            return Err(missing("timestamp", |r| r.timestamp, hint));
        }
        Ok(())
    }
}

/// Ids (in an interner) of a column's values, looked up row by row without copying the column.
#[derive(Debug)]
pub(crate) enum IdColumn<'a> {
    /// A categorical column: the id of each level, found once.
    Levels { column: &'a Column, codes: &'a [u32], ids: Vec<u32> },
    /// Any other column: the id of every row, interned up front.
    Rows(Vec<Option<u32>>),
}

impl<'a> IdColumn<'a> {
    pub(crate) fn new(col: &'a Column, interner: &mut Interner) -> IdColumn<'a> {
        match col.data() {
            ColumnData::Categorical(c) => IdColumn::Levels {
                column: col,
                codes: c.codes(),
                ids: c.levels().iter().map(|l| interner.id(l)).collect(),
            },
            _ => IdColumn::Rows(
                (0..col.len()).map(|i| (!col.is_null(i)).then(|| interner.id(&col.value(i).to_string()))).collect(),
            ),
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<u32> {
        match self {
            IdColumn::Levels { column, codes, ids } => (!column.is_null(i)).then(|| ids[codes[i] as usize]),
            IdColumn::Rows(v) => v[i],
        }
    }
}

/// Numbers of a column row by row: `None` for nulls, text and non-finite values.
#[inline]
pub(crate) fn number_at(col: Option<&Column>, i: usize) -> Option<f64> {
    col.and_then(|c| c.f64_at(i)).filter(|x| x.is_finite())
}

/// The responder's bytes or packets of each row: a column of their own, or a total both ways less the
/// originator's part (Argus's `TotBytes` beside `SrcBytes`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reply<'a> {
    Own(&'a Column),
    TotalLess { total: &'a Column, out: &'a Column },
    Missing,
}

impl<'a> Reply<'a> {
    pub(crate) fn new(own: Option<&'a Column>, total: Option<&'a Column>, out: Option<&'a Column>) -> Self {
        match (own, total, out) {
            (Some(c), _, _) => Reply::Own(c),
            (None, Some(total), Some(out)) => Reply::TotalLess { total, out },
            _ => Reply::Missing,
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<f64> {
        match self {
            Reply::Own(c) => number_at(Some(c), i),
            Reply::TotalLess { total, out } => {
                number_at(Some(total), i).map(|t| (t - number_at(Some(out), i).unwrap_or(0.0)).max(0.0))
            }
            Reply::Missing => None,
        }
    }
}

/// Whether each row's connection failed: from the state column (per level when categorical), else
/// from what the responder sent: no packet, or, in a log of totals, no byte beyond the originator's
/// part (Argus counts packet bytes, headers included: a reply always adds some; payload bytes of their
/// own can be 0 on an answered connection, so they decide nothing).
#[derive(Debug)]
pub(crate) enum FailedColumn<'a> {
    Levels { column: &'a Column, codes: &'a [u32], failed: Vec<bool> },
    Text { column: &'a Column, states: &'a [String] },
    NoPacketBack,
    NoByteBeyondTotal,
    Unknown,
}

impl<'a> FailedColumn<'a> {
    pub(crate) fn new(state: Option<&'a Column>, states: &'a [String], packets_in: Reply, bytes_in: Reply) -> Self {
        match (state, packets_in, bytes_in) {
            (Some(c), _, _) => match c.data() {
                ColumnData::Categorical(cat) => FailedColumn::Levels {
                    column: c,
                    codes: cat.codes(),
                    failed: cat.levels().iter().map(|l| states.iter().any(|f| f == l.trim())).collect(),
                },
                _ => FailedColumn::Text { column: c, states },
            },
            (None, Reply::Missing, Reply::TotalLess { .. }) => FailedColumn::NoByteBeyondTotal,
            (None, Reply::Missing, _) => FailedColumn::Unknown,
            (None, _, _) => FailedColumn::NoPacketBack,
        }
    }

    /// Row `i`, given the responder's packets and bytes read for it (`None`: not in the row).
    #[inline]
    pub(crate) fn get(&self, i: usize, packets_in: Option<f64>, bytes_in: Option<f64>) -> bool {
        match self {
            FailedColumn::Levels { column, codes, failed } => !column.is_null(i) && failed[codes[i] as usize],
            FailedColumn::Text { column, states } => {
                column.str_at(i).is_some_and(|s| states.iter().any(|f| f == s.trim()))
            }
            FailedColumn::NoPacketBack => packets_in.unwrap_or(0.0) == 0.0,
            FailedColumn::NoByteBeyondTotal => bytes_in.unwrap_or(0.0) == 0.0,
            FailedColumn::Unknown => false,
        }
    }
}

/// Timestamps row by row: time and number columns as they are, date-time text parsed once per level.
#[derive(Debug)]
pub(crate) enum TimeColumn<'a> {
    Numbers(&'a Column),
    Parsed(Vec<Option<f64>>),
    Missing,
}

impl<'a> TimeColumn<'a> {
    /// `first_record` numbers the batch's first row in errors.
    pub(crate) fn new(col: Option<&'a Column>, first_record: usize) -> Result<TimeColumn<'a>> {
        Ok(match col {
            None => TimeColumn::Missing,
            Some(c) if c.dtype() == DataType::Categorical => TimeColumn::Parsed(timestamps(c, first_record)?),
            Some(c) => TimeColumn::Numbers(c),
        })
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<f64> {
        match self {
            TimeColumn::Numbers(c) => number_at(Some(c), i).map(epoch_seconds),
            TimeColumn::Parsed(v) => v[i],
            TimeColumn::Missing => None,
        }
    }
}

/// Numbers of a column, `None` for nulls and text.
pub(crate) fn numbers(col: &Column) -> Vec<Option<f64>> {
    (0..col.len()).map(|i| col.f64_at(i)).collect()
}

/// Booleans of a column (`T`/`F` columns are read as booleans by the readers).
pub(crate) fn flags(col: &Column) -> Vec<Option<bool>> {
    (0..col.len()).map(|i| flag_at(col, i)).collect()
}

/// Row `i` of a boolean column (`T`/`F`, `true`/`false`, `1`/`0` text is read too).
#[inline]
pub(crate) fn flag_at(col: &Column, i: usize) -> Option<bool> {
    match col.value(i) {
        outflow_io::Value::Bool(b) => Some(b),
        outflow_io::Value::Str(s) => match s.trim() {
            t if t.eq_ignore_ascii_case("t") || t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
            f if f.eq_ignore_ascii_case("f") || f.eq_ignore_ascii_case("false") || f == "0" => Some(false),
            _ => None,
        },
        v => v.as_f64().map(|x| x != 0.0),
    }
}

/// Timestamps in seconds since the epoch: a time or number column as is (in a finer unit, converted by
/// [`epoch_seconds`]), date-time text parsed (once per distinct text). `first_record` numbers the
/// batch's first row in errors.
pub(crate) fn timestamps(col: &Column, first_record: usize) -> Result<Vec<Option<f64>>> {
    match (col.dtype(), col.data()) {
        (DataType::Categorical, ColumnData::Categorical(c)) => {
            let mut parsed: Vec<Option<Option<f64>>> = vec![None; c.levels().len()];
            let mut out = Vec::with_capacity(col.len());
            for i in 0..col.len() {
                if col.is_null(i) {
                    out.push(None);
                    continue;
                }
                let code = c.codes()[i] as usize;
                let ts = match parsed[code] {
                    Some(ts) => ts,
                    None => {
                        let text = c.get(i);
                        let ts = if text.trim().is_empty() || text.trim() == "-" {
                            None
                        } else {
                            Some(parse_timestamp(text).ok_or_else(|| AggregateError::Timestamp {
                                column: col.name().to_owned(),
                                record: first_record + i + 1,
                                value: text.to_owned(),
                            })?)
                        };
                        parsed[code] = Some(ts);
                        ts
                    }
                };
                out.push(ts);
            }
            Ok(out)
        }
        _ => Ok(numbers(col).into_iter().map(|v| v.filter(|t| t.is_finite()).map(epoch_seconds)).collect()),
    }
}
