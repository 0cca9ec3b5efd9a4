//! [`Entities`]: the host or pair table an aggregation produces, and the way back from flows to rows.

use std::sync::{Arc, OnceLock};

use outflow_io::{Categorical, Column, ColumnData, Table};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::aggregator::Stats;
use crate::columns::{Ranked, RoleColumns, timestamps};
use crate::error::Result;
use crate::features::{Available, BASELINE, robust_z};
use crate::level::Level;
use crate::params::AggregateParams;
use crate::window::Window;

/// The identifying columns of every entity table, in order (`dst` only for pairs).
pub const ENTITY_COLUMNS: [&str; 4] = ["src", "dst", "window_start", "window_end"];

/// Who and when a row is about (addresses as ids of the aggregation's address interner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EntityKey {
    pub(crate) src: u32,
    pub(crate) dst: Option<u32>,
    pub(crate) window: i64,
}

/// One row before it goes into the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) key: EntityKey,
    pub(crate) window_start: Option<f64>,
    pub(crate) window_end: Option<f64>,
    pub(crate) flows: u64,
    pub(crate) values: Vec<f64>,
    pub(crate) labels: Vec<String>,
}

/// A host or pair table: one row per host (or pair) and window, ordered by window, source, destination.
///
/// Columns: `src` (the host; for pairs the originator), `dst` (pairs only), `window_start`, `window_end`
/// (seconds since the epoch; the first and last flow of the log for `--window all`), `flows`, the
/// features (see the [`crate::features`] table), then one column per label column of the log holding its
/// values among the row's flows, most frequent first, joined by `;`.
#[derive(Debug, Clone)]
pub struct Entities {
    level: Level,
    table: Table,
    features: Vec<String>,
    labels: Vec<String>,
    params: AggregateParams,
    stats: Stats,
    /// The key of each row.
    keys: Vec<EntityKey>,
    /// Row of each key, built on the first lookup.
    index: OnceLock<FxHashMap<EntityKey, usize>>,
    /// The addresses the keys number (shared by the host and pair tables of one aggregation).
    addresses: Arc<Ranked>,
}

impl Entities {
    pub(crate) fn build(
        level: Level,
        mut rows: Vec<Row>,
        addresses: &Arc<Ranked>,
        available: &Available,
        label_names: &[String],
        params: AggregateParams,
        stats: Stats,
    ) -> Entities {
        // Rows are ordered through a permutation of small keys rather than moved.
        let mut keys: Vec<(i64, (u32, u32), u32)> =
            rows.iter().enumerate().map(|(i, r)| (r.key.window, addresses.of(&r.key), i as u32)).collect();
        keys.par_sort_unstable();
        let order: Vec<usize> = keys.into_iter().map(|k| k.2 as usize).collect();
        let names = if level == Level::Host { available.host_names() } else { available.pair_names() };
        if names.last() == Some(&BASELINE) {
            fill_baseline(&mut rows, names.iter().position(|n| *n == "bytes_out").expect("with bytes"), addresses);
        }
        let rows: Vec<&Row> = order.iter().map(|&i| &rows[i]).collect();
        let mut columns = vec![address_column("src", rows.iter().map(|r| r.key.src), addresses)];
        if level == Level::Pair {
            columns.push(address_column("dst", rows.iter().map(|r| r.key.dst.expect("a pair")), addresses));
        }
        columns.push(Column::from_time_opt("window_start", rows.iter().map(|r| r.window_start)));
        columns.push(Column::from_time_opt("window_end", rows.iter().map(|r| r.window_end)));
        columns.push(Column::from_i64_opt("flows", rows.iter().map(|r| Some(r.flows as i64))));
        // One pass over the rows (each row's values live apart), writing every column sequentially.
        let mut features: Vec<Vec<f64>> = names.iter().map(|_| Vec::with_capacity(rows.len())).collect();
        for r in &rows {
            features.iter_mut().zip(&r.values).for_each(|(c, &v)| c.push(v));
        }
        columns.extend(names.iter().zip(features).map(|(name, values)| Column::from_f64(*name, values)));
        for (c, name) in label_names.iter().enumerate() {
            columns.push(Column::from_str_opt(name.clone(), rows.iter().map(|r| Some(r.labels[c].as_str()))));
        }
        let table = Table::new(columns).expect("columns of one length with distinct names");
        let keys = rows.iter().map(|r| r.key).collect();
        Entities {
            level,
            table,
            features: names.iter().map(|s| s.to_string()).collect(),
            labels: label_names.to_vec(),
            params,
            stats,
            keys,
            index: OnceLock::new(),
            addresses: Arc::clone(addresses),
        }
    }

    /// The row of an entity in window index `window`.
    fn find(&self, src: &str, dst: Option<&str>, window: i64) -> Option<usize> {
        let index = self.index.get_or_init(|| self.keys.iter().enumerate().map(|(i, k)| (*k, i)).collect());
        index.get(&self.addresses.key(src, dst, window)?).copied()
    }

    /// Host or pair.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The table.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Replaces a feature column with values computed otherwise (a live watch's baseline from past
    /// windows only); the column must exist and have one value per row.
    pub fn replace_feature(&mut self, name: &str, values: Vec<f64>) -> Result<()> {
        if !self.features.iter().any(|f| f == name) || values.len() != self.len() {
            let why =
                format!("'{name}' is not a feature of these rows, or {} values for {} rows", values.len(), self.len());
            return Err(outflow_core::InputError::param("replace_feature", why).into());
        }
        self.table
            .set_column(Column::from_f64(name, values))
            .map_err(|e| outflow_core::InputError::param("replace_feature", e.to_string()))?;
        Ok(())
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.table.n_rows()
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.table.n_rows() == 0
    }

    /// The feature columns, in table order.
    pub fn feature_names(&self) -> &[String] {
        &self.features
    }

    /// The label columns carried from the flows.
    pub fn label_names(&self) -> &[String] {
        &self.labels
    }

    /// The parameters it was built with.
    pub fn params(&self) -> &AggregateParams {
        &self.params
    }

    /// Counts of the aggregation.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// A numeric value by column name and row.
    pub fn value(&self, column: &str, row: usize) -> Option<f64> {
        self.table.column(column).and_then(|c| c.f64_at(row))
    }

    /// The row of a host (`dst` `None`) or pair in the window holding time `ts`.
    pub fn row_of(&self, src: &str, dst: Option<&str>, ts: f64) -> Option<usize> {
        self.find(src, dst, self.params.window.index_of(ts))
    }

    /// For each flow of a table (the aggregated one or any with the same columns), its rows here: for
    /// hosts `[source host, destination host]`, for pairs `[pair, None]`; `None` where the flow was left
    /// out (no address, no timestamp) or, for another table, has no row.
    pub fn link(&self, flows: &Table) -> Result<Vec<[Option<usize>; 2]>> {
        let roles = RoleColumns::find(flows, &self.params.labels);
        roles.require(self.level.name(), self.params.window != Window::All)?;
        let text = |name: &Option<String>| {
            let c = flows.column(name.as_ref().expect("required")).expect("found");
            (0..flows.n_rows()).map(|i| (!c.is_null(i)).then(|| c.value(i).to_string())).collect::<Vec<_>>()
        };
        let (src, dst) = (text(&roles.source), text(&roles.destination));
        let ts = match roles.timestamp.as_ref().and_then(|n| flows.column(n)) {
            Some(c) if self.params.window != Window::All => timestamps(c, 0)?,
            _ => vec![Some(0.0); flows.n_rows()],
        };
        let find = |s: &str, d: Option<&str>, w: i64| self.find(s, d, w);
        Ok((0..flows.n_rows())
            .map(|i| {
                let (Some(s), Some(d), Some(t)) = (&src[i], &dst[i], ts[i]) else { return [None, None] };
                let w = self.params.window.index_of(t);
                match self.level {
                    Level::Pair => [find(s, Some(d), w), None],
                    _ => [find(s, None, w), find(d, None, w)],
                }
            })
            .collect())
    }
}

/// A categorical column of addresses, its levels the addresses used in byte order.
fn address_column(name: &str, ids: impl Iterator<Item = u32> + Clone, addresses: &Ranked) -> Column {
    let mut used: Vec<u32> = ids.clone().collect();
    used.sort_unstable_by_key(|&id| addresses.rank[id as usize]);
    used.dedup();
    let mut code = vec![u32::MAX; addresses.rank.len()];
    for (c, &id) in used.iter().enumerate() {
        code[id as usize] = c as u32;
    }
    let levels = used.iter().map(|&id| addresses.interner.name(id).to_owned()).collect();
    let codes = ids.map(|id| code[id as usize]).collect();
    Column::new(name, ColumnData::Categorical(Categorical::new(codes, levels).expect("codes of used levels")))
}

/// Sets the last value of every row to the robust z-score of its `log1p(bytes_out)` against the rows of
/// the same entity (other windows).
fn fill_baseline(rows: &mut [Row], bytes_out: usize, addresses: &Ranked) {
    // Rows of one entity are consecutive in (source, destination) order.
    let mut order: Vec<((u32, u32), u32)> =
        rows.iter().enumerate().map(|(i, r)| (addresses.of(&r.key), i as u32)).collect();
    order.par_sort_unstable();
    let groups: Vec<&[((u32, u32), u32)]> = order.chunk_by(|a, b| a.0 == b.0).collect();
    let z: Vec<(usize, f64)> = groups
        .par_iter()
        .flat_map_iter(|g| {
            let values: Vec<f64> = g.iter().map(|m| rows[m.1 as usize].values[bytes_out].ln_1p()).collect();
            g.iter().map(|m| m.1 as usize).zip(robust_z(&values)).collect::<Vec<_>>()
        })
        .collect();
    for (i, v) in z {
        *rows[i].values.last_mut().expect("the baseline column") = v;
    }
}
