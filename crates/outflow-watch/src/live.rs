//! Host and pair windows updated live: each open window has its own aggregator, fed the flows of that
//! window as they arrive; a window is scored and closed once the watermark (the latest flow time minus
//! the allowed lateness, or the clock when the log is quiet) passes its end. Open windows are scored
//! every few seconds too, for an early alert when an entity already crosses the model's threshold.
//!
//! `bytes_out_baseline_z` is computed against the entity's *earlier* windows (the last 24 seen live),
//! not all of them as a batch run does: a live window has no future. A host model's first contacts
//! (`new_failed_dsts`, `new_dst_ports`) are counted against the contacts of the windows closed in the last 24 window
//! lengths, as a batch run counts them against the earlier windows of its log: a monitor polling the
//! same addresses every hour is not a new scan every hour. The model's rank of a window is measured
//! against the entity's windows closed in the last 24 window lengths ([`outflow::OwnPast`]), as a batch
//! run measures it against the earlier windows of its log: a host unusual every hour is unusual once.
//! All three are kept next to the checkpoint.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use outflow::aggregate::features::robust_z;
use outflow::aggregate::{Aggregator, Contacts, Entities, Level, Window, seconds_at};
use outflow::io::{Family, Table};
use outflow::{Detector, OwnPast, Severity};

use crate::alert::{Alert, EntityAlert, ModelInfo, entity_alert};
use crate::error::{Result, WatchError};
use crate::follow::FollowState;
use crate::watch::Counters;

/// A host `(address, None)` or a pair `(source, Some(destination))`.
type EntityKey = (String, Option<String>);
/// Per entity: (window index, `log1p(bytes_out)`) of its latest closed windows, as saved.
type SavedHistory = Vec<(String, Option<String>, Vec<(i64, f64)>)>;

/// The file kept next to the checkpoint: the baseline history, the contacts and the model tails of
/// recent windows.
#[derive(Deserialize)]
#[serde(untagged)]
enum SavedFile {
    Current {
        baseline: SavedHistory,
        contacts: Contacts,
        /// Absent in files written before the own past was kept.
        #[serde(default)]
        own_past: OwnPast,
        /// The window length the window indexes count in (0: not recorded).
        #[serde(default)]
        window_seconds: u64,
    },
    /// Written before contacts were kept: the baseline history alone.
    Baseline(SavedHistory),
}

/// [`SavedFile::Current`] as written, borrowing the contacts.
#[derive(Serialize)]
struct SavedRef<'a> {
    baseline: SavedHistory,
    contacts: &'a Contacts,
    own_past: &'a OwnPast,
    window_seconds: u64,
}

/// Past windows kept per entity for its baseline, and window lengths a contact is remembered.
const HISTORY: usize = 24;
const BASELINE: &str = "bytes_out_baseline_z";

/// What the checkpoint keeps of the live windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// Windows ending at or before this time (epoch seconds) are closed.
    pub closed_before: f64,
    /// Early alerts raised for windows still open: (window start, source, destination, severity).
    #[serde(default)]
    pub alerted: Vec<(i64, String, Option<String>, Severity)>,
}

struct Open {
    aggregator: Aggregator,
    /// Where to read from again to rebuild this window after a restart, and the header in force there.
    replay: (FollowState, String),
    opened: u64,
}

/// The open windows of a host or pair model.
pub struct LiveWindows {
    level: Level,
    seconds: u64,
    lateness: f64,
    params: outflow::AggregateParams,
    open: BTreeMap<i64, Open>,
    closed_before: f64,
    max_ts: f64,
    alerted: HashMap<(i64, String, Option<String>), Severity>,
    /// Per entity: (window index, log1p(bytes_out)) of its latest closed windows.
    history: HashMap<EntityKey, Vec<(i64, f64)>>,
    /// Destinations and ports each source reached in recently closed windows.
    contacts: Contacts,
    /// The model's tails of recently closed windows.
    past: OwnPast,
    history_file: Option<PathBuf>,
    history_dirty: bool,
    last_state: (FollowState, String),
    opened: u64,
}

impl LiveWindows {
    /// Live windows for a host or pair model, resumed from a checkpoint's state. The baseline history
    /// is kept next to the checkpoint (`history_file`).
    pub fn new(
        detector: &Detector,
        state: Option<LiveState>,
        lateness: Duration,
        history_file: Option<&Path>,
        replay: (FollowState, String),
    ) -> Result<LiveWindows> {
        let params = detector.params().aggregation.clone();
        let Window::Tumbling { seconds } = params.window else {
            return Err(WatchError::Param {
                name: "MODEL",
                message: "the model aggregates the whole log as one window (--window all); a watch needs \
                          time windows (fit it with --window 15m, 1h, ...)"
                    .into(),
            });
        };
        let state = state.unwrap_or(LiveState { closed_before: f64::NEG_INFINITY, alerted: Vec::new() });
        let saved = match history_file {
            Some(p) => match std::fs::read(p) {
                Ok(bytes) => serde_json::from_slice(&bytes)
                    .map_err(|e| WatchError::Checkpoint { path: p.display().to_string(), message: e.to_string() })?,
                Err(_) => SavedFile::Baseline(Vec::new()),
            },
            None => SavedFile::Baseline(Vec::new()),
        };
        let (entries, contacts, past) = match saved {
            // Saved under another window length: its window indexes mean other times.
            SavedFile::Current { window_seconds, .. } if window_seconds != 0 && window_seconds != seconds => {
                (Vec::new(), Contacts::new(), OwnPast::new())
            }
            SavedFile::Current { baseline, contacts, own_past, .. } => (baseline, contacts, own_past),
            SavedFile::Baseline(baseline) => (baseline, Contacts::new(), OwnPast::new()),
        };
        let history = entries.into_iter().map(|(s, d, h)| ((s, d), h)).collect();
        Ok(LiveWindows {
            level: detector.level(),
            seconds,
            lateness: lateness.as_secs_f64(),
            params,
            open: BTreeMap::new(),
            closed_before: state.closed_before,
            max_ts: f64::NEG_INFINITY,
            alerted: state.alerted.into_iter().map(|(w, s, d, sev)| ((w, s, d), sev)).collect(),
            history,
            contacts,
            past,
            history_file: history_file.map(Path::to_owned),
            history_dirty: false,
            last_state: replay,
            opened: 0,
        })
    }

    /// Whether a reloaded model can take over the open windows (same level and aggregation).
    pub fn accepts(&self, d: &Detector) -> std::result::Result<(), String> {
        if d.level() != self.level {
            return Err(format!("it is a {} model and the watch runs a {} model", d.level(), self.level));
        }
        if d.params().aggregation != self.params {
            return Err("it aggregates flows with other settings than the running model".into());
        }
        Ok(())
    }

    /// Forgets the model tails of past windows: they are ranks among another model's training rows.
    pub fn model_changed(&mut self) {
        self.past = OwnPast::new();
        self.history_dirty = true;
    }

    /// Whether a window ends at or before `watermark`.
    pub fn closes_any(&self, watermark: f64) -> bool {
        self.open.keys().next().is_some_and(|i| (*i + 1) as f64 * self.seconds as f64 <= watermark)
    }

    /// Whether any window is open.
    pub fn has_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Adds a batch of flows to their windows (flows for a closed window are counted late).
    pub fn push(&mut self, flows: &Table, counters: &mut Counters) -> Result<()> {
        let family = Family::detect(flows);
        let Some(ts) = family.role_column(flows, |r| r.timestamp) else {
            return Err(WatchError::Param { name: "SOURCE", message: "the log has no timestamp column".into() });
        };
        let w = self.seconds as f64;
        // A time beyond the clock (plus the lateness) is a broken record, not the future: it would close
        // every window at once.
        let horizon = now() + self.lateness + w;
        let mut by_window: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for row in 0..flows.n_rows() {
            let Some(t) = seconds_at(ts, row).filter(|t| *t >= 0.0) else { continue };
            if t > horizon {
                counters.future_flows += 1;
                continue;
            }
            let index = (t / w).floor() as i64;
            if (index + 1) as f64 * w <= self.closed_before {
                counters.late_flows += 1;
                continue;
            }
            self.max_ts = self.max_ts.max(t);
            by_window.entry(index).or_default().push(row);
        }
        for (index, rows) in by_window {
            let part = flows.take_rows(&rows);
            let open = match self.open.get_mut(&index) {
                Some(o) => o,
                None => {
                    self.opened += 1;
                    let aggregator =
                        Aggregator::new(self.params.clone(), &[self.level]).map_err(outflow::OutflowError::from)?;
                    self.open.entry(index).or_insert(Open {
                        aggregator,
                        replay: self.last_state.clone(),
                        opened: self.opened,
                    })
                }
            };
            open.aggregator.push(&part).map_err(outflow::OutflowError::from)?;
        }
        Ok(())
    }

    /// The time before which windows are complete: the latest flow time, or the clock when the log is
    /// quiet, minus the lateness.
    pub fn watermark(&self, idle: bool) -> f64 {
        let clock = if idle {
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
        } else {
            f64::NEG_INFINITY
        };
        self.max_ts.max(clock) - self.lateness
    }

    /// Scores and closes the windows ending at or before `watermark`; returns their alerts (an entity
    /// alerted early is alerted again only when its severity rose).
    pub fn close(
        &mut self,
        detector: &Detector,
        model: &ModelInfo,
        watermark: f64,
        counters: &mut Counters,
        log: &mut dyn FnMut(&str),
    ) -> Vec<Alert> {
        let w = self.seconds as f64;
        let due: Vec<i64> = self.open.keys().copied().filter(|i| (*i + 1) as f64 * w <= watermark).collect();
        let mut alerts = Vec::new();
        for index in due {
            let open = self.open.remove(&index).expect("listed above");
            counters.windows_closed += 1;
            self.closed_before = self.closed_before.max((index + 1) as f64 * w);
            // Only host rows count first contacts.
            let contacts = (self.level == Level::Host).then(|| open.aggregator.contacts());
            match self.score(detector, open.aggregator, &self.contacts) {
                Ok(Some((entities, mut scored))) => {
                    alerts.extend(self.alerts_of(&entities, &scored, model, false));
                    self.remember(&entities, index);
                    self.past.absorb(std::mem::take(&mut scored.past));
                }
                Ok(None) => {}
                Err(e) => {
                    log(&format!("window starting {}: not scored ({e})", crate::alert::rfc3339(index as f64 * w)))
                }
            }
            self.alerted.retain(|k, _| k.0 != index);
            if let Some(contacts) = contacts {
                self.contacts.absorb(contacts);
                self.contacts.forget_before(index + 1 - HISTORY as i64);
            }
            self.past.forget_before((index + 1 - HISTORY as i64) as f64 * w);
            self.history_dirty = true;
        }
        if self.history_dirty {
            self.history_dirty = false;
            if let Some(p) = &self.history_file {
                let baseline: SavedHistory =
                    self.history.iter().map(|((s, d), h)| (s.clone(), d.clone(), h.clone())).collect();
                let saved =
                    SavedRef { baseline, contacts: &self.contacts, own_past: &self.past, window_seconds: self.seconds };
                let bytes = serde_json::to_vec(&saved).expect("history serialises");
                if let Err(e) = outflow::write_atomic(p, &bytes, true) {
                    log(&format!("baseline history: {e}"));
                }
            }
        }
        alerts
    }

    /// Scores the open windows as they stand and returns alerts for entities that already cross the
    /// moderate threshold and were not alerted at that severity.
    pub fn early(
        &mut self,
        detector: &Detector,
        model: &ModelInfo,
        _counters: &mut Counters,
        log: &mut dyn FnMut(&str),
    ) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let snapshots: Vec<Aggregator> = self.open.values().map(|o| o.aggregator.clone()).collect();
        // A window is scored after the closed windows' contacts and those of the open windows before it
        // (while a window waits for late flows, the next one is open too).
        let mut earlier: Option<Contacts> = None;
        let n = snapshots.len();
        for (k, aggregator) in snapshots.into_iter().enumerate() {
            let contacts = (self.level == Level::Host && k + 1 < n).then(|| aggregator.contacts());
            match self.score(detector, aggregator, earlier.as_ref().unwrap_or(&self.contacts)) {
                Ok(Some((entities, scored))) => alerts.extend(self.alerts_of(&entities, &scored, model, true)),
                Ok(None) => {}
                Err(e) => log(&format!("open window: not scored ({e})")),
            }
            if let Some(c) = contacts {
                earlier.get_or_insert_with(|| self.contacts.clone()).absorb(c);
            }
        }
        alerts
    }

    fn score(
        &self,
        detector: &Detector,
        aggregator: Aggregator,
        earlier: &Contacts,
    ) -> outflow::Result<Option<(Entities, outflow::ScoredLog)>> {
        let out = aggregator.finish_after(earlier)?;
        let entities = match self.level {
            Level::Host => out.hosts,
            _ => out.pairs,
        };
        let Some(mut entities) = entities.filter(|e| !e.is_empty()) else { return Ok(None) };
        self.fill_baseline(&mut entities);
        let scored = detector.score_entities_after(entities.clone(), &self.past)?;
        Ok(Some((entities, scored)))
    }

    /// `bytes_out_baseline_z` against the entity's earlier windows.
    fn fill_baseline(&self, entities: &mut Entities) {
        if !entities.feature_names().iter().any(|f| f == BASELINE) {
            return;
        }
        let w = self.seconds as f64;
        let values: Vec<f64> = (0..entities.len())
            .map(|row| {
                let key = key_of(entities, row);
                let now = entities.value("bytes_out", row).unwrap_or(0.0).ln_1p();
                let index = entities.value("window_start", row).map(|s| (s / w).floor() as i64).unwrap_or(0);
                let mut series: Vec<f64> = self
                    .history
                    .get(&key)
                    .map(|h| h.iter().filter(|(i, _)| *i < index).map(|(_, v)| *v).collect())
                    .unwrap_or_default();
                series.push(now);
                *robust_z(&series).last().expect("one value at least")
            })
            .collect();
        let _ = entities.replace_feature(BASELINE, values);
    }

    fn remember(&mut self, entities: &Entities, index: i64) {
        for row in 0..entities.len() {
            let key = key_of(entities, row);
            let v = entities.value("bytes_out", row).unwrap_or(0.0).ln_1p();
            let h = self.history.entry(key).or_default();
            // Closing a window again after a restart replaces its value.
            h.retain(|(i, _)| *i != index);
            h.push((index, v));
            h.sort_by_key(|(i, _)| *i);
            if h.len() > HISTORY {
                h.drain(..h.len() - HISTORY);
            }
        }
        self.history_dirty = true;
    }

    fn alerts_of(
        &mut self,
        entities: &Entities,
        scored: &outflow::ScoredLog,
        model: &ModelInfo,
        partial: bool,
    ) -> Vec<Alert> {
        let w = self.seconds as f64;
        let table = entities.table();
        let mut alerts = Vec::new();
        for (row, s) in scored.scores.iter().enumerate() {
            if !s.severity.is_anomaly() {
                continue;
            }
            let (src, dst) = key_of(entities, row);
            let start = entities.value("window_start", row).unwrap_or(0.0);
            let index = (start / w).floor() as i64;
            let key = (index, src.clone(), dst.clone());
            if self.alerted.get(&key).is_some_and(|before| *before >= s.severity) {
                continue;
            }
            if partial {
                self.alerted.insert(key, s.severity);
            }
            let flows = table.column("flows").and_then(|c| c.f64_at(row)).unwrap_or(0.0) as u64;
            let reasons = scored.reasons.get(s.row).map(String::as_str).unwrap_or("");
            alerts.push(entity_alert(
                &EntityAlert {
                    level: if self.level == Level::Host { "host" } else { "pair" },
                    src: &src,
                    dst: dst.as_deref(),
                    window: (start, start + w),
                    flows,
                    bytes_out: entities.value("bytes_out", row),
                    bytes_in: entities.value("bytes_in", row),
                    score: s.outlier_score.unwrap_or(0.0),
                    severity: s.severity,
                    cluster: s.cluster.unwrap_or(-1),
                    evidence: s.evidence.iter().map(|e| e.name().to_owned()).collect(),
                    reasons,
                    partial,
                },
                model,
            ));
        }
        alerts
    }

    /// Where a restart must read from (with the header in force there): the position before the first
    /// flow of the oldest open window, or `current` when none is open. `current` becomes the start of
    /// windows opened next.
    pub fn replay_from(&mut self, current: (FollowState, String)) -> (FollowState, String) {
        self.last_state = current.clone();
        self.open.values().min_by_key(|o| o.opened).map(|o| o.replay.clone()).unwrap_or(current)
    }

    /// The state for the checkpoint.
    pub fn state(&self) -> LiveState {
        LiveState {
            closed_before: self.closed_before,
            alerted: self.alerted.iter().map(|((w, s, d), sev)| (*w, s.clone(), d.clone(), *sev)).collect(),
        }
    }
}

/// The clock, in seconds since the epoch.
fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn key_of(entities: &Entities, row: usize) -> EntityKey {
    let t = entities.table();
    let text = |name: &str| t.column(name).and_then(|c| c.str_at(row)).map(str::to_owned);
    (text("src").unwrap_or_default(), text("dst"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_file_keeps_contacts_and_reads_the_older_baseline_only_form() {
        let mut contacts = Contacts::new();
        contacts.add_destination("10.0.0.5", "10.0.0.9", 7);
        let baseline: SavedHistory = vec![("10.0.0.5".into(), None, vec![(7, 3.5)])];
        let past: OwnPast = serde_json::from_str(r#"{"by_entity": {"10.0.0.5": [[25200.0, 0.25]]}}"#).unwrap();
        let saved = SavedRef { baseline: baseline.clone(), contacts: &contacts, own_past: &past, window_seconds: 3600 };
        let bytes = serde_json::to_vec(&saved).unwrap();
        match serde_json::from_slice(&bytes).unwrap() {
            SavedFile::Current { baseline: b, contacts: c, own_past, window_seconds } => {
                assert_eq!((b, own_past.clone(), window_seconds), (baseline.clone(), past.clone(), 3600));
                assert_eq!(own_past.len(), 1);
                assert!(c.destination_before("10.0.0.5", "10.0.0.9", 8));
                assert!(!c.destination_before("10.0.0.5", "10.0.0.9", 7));
            }
            SavedFile::Baseline(_) => panic!("read as the older form"),
        }
        // Written before the own past was kept: read with none.
        let without = serde_json::json!({"baseline": baseline, "contacts": contacts, "window_seconds": 3600});
        match serde_json::from_value(without).unwrap() {
            SavedFile::Current { own_past, .. } => assert!(own_past.is_empty()),
            SavedFile::Baseline(_) => panic!("read as the older form"),
        }
        let older = serde_json::to_vec(&baseline).unwrap();
        assert!(matches!(serde_json::from_slice(&older).unwrap(), SavedFile::Baseline(b) if b == baseline));
    }
}
