//! The anomaly score of a flow: several signals, each turned into its rank among the training flows, fused.
//!
//! Why not GLOSH alone: on real labeled Zeek logs, scans and failed connections are dense clusters of
//! near-identical flows, so HDBSCAN's GLOSH score (density relative to the point's own cluster) ranks
//! them *below* random (ROC-AUC 0.22–0.35 on the Stratosphere captures). Cluster rarity does not rescue
//! it: benign traffic is diverse, so much of it is noise, rarer than a tight scan cluster.
//!
//! The default signals depend on what a row is and on the log family ([`default_signals`]): on flow
//! logs of a known family an **Isolation Forest** (Liu et al. 2008: isolates unusual feature
//! combinations) and **PyOD's PCA score** (distances to the principal axes weighted by inverse explained
//! variance: flows off the correlation structure of normal traffic), fused by mean rank, on Zeek, KDD
//! and RT-IoT logs; the forest and the **PCA reconstruction error** (the distance to the principal
//! subspace) on CICFlowMeter logs and other tables; on host and pair rows the forest, PyOD's PCA score
//! and the Mahalanobis distance in principal-component space. They were chosen on
//! labeled logs against every single detector of `outflow benchmark` on the same prepared features
//! (`cargo run --release -p outflow-benches --bin detection_quality`; the README's detection table).
//! The clustering is what explains a flow (its cluster, the cluster's profile, a
//! surrogate forest); the signals are configurable ([`ScoringParams::signals`]: `glosh` (HDBSCAN only),
//! `cluster_rarity` or any `outflow-outlier` detector).
//!
//! Each signal is mapped through its empirical CDF over the training flows (mid-ranks for ties,
//! `outflow_outlier::ScoreFusion`), so the fused score is in [0, 1], comparable across signals and
//! stable for new flows.

use ndarray::ArrayView2;
use outflow_aggregate::Level;
use outflow_cluster::Membership;
use outflow_core::{Ecdf, Fit, InputError, ScoreSamples};
use outflow_io::Family;
use outflow_outlier::{
    Algorithm as Outlier, FusionMethod, IForestParams, MemberStats, Model as OutlierModelAny, OutlierModel, PcaParams,
    PcaScore, ScoreFusion,
};
use serde::{Deserialize, Serialize};

use crate::error::{OutflowError, Result};
use crate::evidence::Evidence;

/// One signal of the fused score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// HDBSCAN's GLOSH outlier score (the detector's clusterer must be HDBSCAN).
    Glosh,
    /// Rarity of the flow's cluster: 1 − cluster size / largest cluster size (noise: 1).
    ClusterRarity,
    /// Any detector of `outflow-outlier`, fitted on the same prepared features.
    Detector(Outlier),
}

impl Signal {
    /// Isolation Forest with default settings.
    pub fn isolation_forest() -> Signal {
        Signal::Detector(Outlier::Iforest(IForestParams::default()))
    }

    /// The name used in configuration and reports.
    pub fn name(&self) -> String {
        match self {
            Signal::Glosh => "glosh".into(),
            Signal::ClusterRarity => "cluster_rarity".into(),
            Signal::Detector(d) => d.name(),
        }
    }
}

impl std::str::FromStr for Signal {
    type Err = OutflowError;
    /// `glosh`, `cluster_rarity`, or any detector name of `outflow-outlier` (`iforest`, `ecod`, ...).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "glosh" => Ok(Signal::Glosh),
            "cluster_rarity" | "rarity" => Ok(Signal::ClusterRarity),
            other => other.parse::<Outlier>().map(Signal::Detector).map_err(|_| {
                InputError::param(
                    "scoring.signals",
                    format!(
                        "unknown signal '{other}' (glosh, cluster_rarity or a detector: {})",
                        Outlier::NAMES.join(", ")
                    ),
                )
                .into()
            }),
        }
    }
}

/// Scoring settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringParams {
    /// Signals fused into the outlier score; empty (the default): the log family's
    /// ([`default_signals`]), resolved at fit time and saved with the model.
    pub signals: Vec<Signal>,
    /// How the signal ranks are combined: `rank` (their mean) or `max_rank` (their maximum), so that the
    /// score stays in [0, 1].
    pub fusion: FusionMethod,
    /// Behaviour evidence joined to the fused score at the host and pair levels (see
    /// [`crate::evidence`]); ignored for flows.
    pub evidence: Vec<Evidence>,
    /// Training-score percentile at and above which a flow is `moderate`.
    pub moderate_percentile: f64,
    /// Training-score percentile at and above which a flow is `severe`.
    pub severe_percentile: f64,
}

impl Default for ScoringParams {
    fn default() -> Self {
        ScoringParams {
            signals: Vec::new(),
            fusion: FusionMethod::Rank,
            evidence: Evidence::ALL.to_vec(),
            moderate_percentile: 95.0,
            severe_percentile: 99.0,
        }
    }
}

/// Isolation Forest, PyOD's PCA score and the Mahalanobis distance in principal-component space, fused
/// by mean rank: the default of host and pair rows.
pub fn isolation_pca_signals() -> Vec<Signal> {
    vec![
        Signal::isolation_forest(),
        Signal::Detector(Outlier::Pca(PcaParams::default())),
        Signal::Detector(Outlier::Pca(PcaParams { score: PcaScore::Mahalanobis, ..PcaParams::default() })),
    ]
}

/// The signals used when none are given, chosen per log family by measurement on labeled logs (the
/// README's detection table, `benches/tools/detection_quality.rs`) on the detection preparation
/// ([`outflow_prep::PrepParams::detection`]):
///
/// - **Zeek, KDD and RT-IoT flow logs**: an Isolation Forest and PyOD's PCA score, fused by mean rank.
///   The forest isolates unusual combinations; the PCA score finds flows off the correlation structure
///   of normal traffic (scans, beacons: dense groups of near-identical flows the forest alone ranks
///   low). Of every pair and triple of `outflow benchmark`'s detectors, this pair had the smallest
///   shortfall against the best single detector on the Zeek and KDD logs;
/// - **CICFlowMeter logs and any other table**: the Isolation Forest and the PCA reconstruction error
///   (the distance to the subspace of the axes holding 90 % of the variance), fused by mean rank. The
///   reconstruction error finds flows off the joint structure of many related counters (a CICFlowMeter
///   row has ~80, most derived from the same packets), where PyOD's PCA score — dominated by the axes
///   of least variance — ranked CSE-CIC-IDS2018's DDoS and SSH brute-force flows below random (ROC-AUC
///   0.52 and 0.33 with the forest and the LOF beside it; 0.91 and 0.77 with this pair). Chosen on
///   CIC-IDS2017, CSE-CIC-IDS2018 DDoS, LUFlow, UNSW-NB15 and ODDS http by the mean over them; CSE-CIC-
///   IDS2018 brute force, CTU-13 and ODDS smtp were kept out of the choice (the README's table of
///   other labeled logs). It costs the small CIC-IDS2017 sample (193 benign flows, 6 attacks per
///   subsampling) 0.04 ROC-AUC against the LOF triple chosen on it before;
/// - **host and pair rows**: the Isolation Forest, the PCA score and the Mahalanobis distance in
///   principal-component space ([`isolation_pca_signals`]), with the behaviour evidence joined (the
///   README's planted-behaviour tables).
pub fn default_signals(level: Level, family: Family) -> Vec<Signal> {
    if level.is_entity() {
        isolation_pca_signals()
    } else if matches!(family, Family::Generic | Family::Cic) {
        let reconstruction = PcaParams { score: PcaScore::Reconstruction, ..PcaParams::default() };
        vec![Signal::isolation_forest(), Signal::Detector(Outlier::Pca(reconstruction))]
    } else {
        vec![Signal::isolation_forest(), Signal::Detector(Outlier::Pca(PcaParams::default()))]
    }
}

impl ScoringParams {
    /// These settings with the signals filled in when none were given ([`default_signals`]).
    pub fn resolved(&self, level: Level, family: Family) -> ScoringParams {
        let mut p = self.clone();
        if p.signals.is_empty() {
            p.signals = default_signals(level, family);
        }
        p
    }

    /// Checks the settings. No signal means the family's default ([`default_signals`]).
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| Err(InputError::param(name, reason).into());
        if !matches!(self.fusion, FusionMethod::Rank | FusionMethod::MaxRank) {
            return bad(
                "scoring.fusion",
                format!("{:?} does not keep scores in [0, 1]; use rank or max_rank", self.fusion),
            );
        }
        let ok = |p: f64| (0.0..=100.0).contains(&p);
        if !ok(self.moderate_percentile)
            || !ok(self.severe_percentile)
            || self.moderate_percentile > self.severe_percentile
        {
            return bad(
                "scoring.moderate_percentile",
                format!(
                    "percentiles must satisfy 0 ≤ moderate ({}) ≤ severe ({}) ≤ 100",
                    self.moderate_percentile, self.severe_percentile
                ),
            );
        }
        for sig in &self.signals {
            if let Signal::Detector(d) = sig {
                d.validate().map_err(|e| OutflowError::Signal { signal: d.name(), source: Box::new(e) })?;
            }
        }
        Ok(())
    }
}

/// Training values kept per signal (evenly spaced order statistics beyond this many): bounds the model
/// file at a resolution finer than any threshold needs.
const ECDF_SIZE: usize = 20_000;

/// The fitted scorer: what each signal needs for new flows, and the fusion of their training ranks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scorer {
    params: ScoringParams,
    /// Rarity of each cluster label (noise and unknown labels: 1).
    rarity: Vec<f64>,
    /// Fitted detector of each `Signal::Detector` signal (in signal order; `None` for the others).
    models: Vec<Option<OutlierModelAny>>,
    /// The ranks of each signal among the training flows, and their combination.
    fusion: ScoreFusion,
    /// The evidence used (host and pair levels; empty for flows and for models saved before evidence).
    #[serde(default)]
    evidence: Vec<Evidence>,
    /// The training ranks of the fused model score and of each evidence, when there is evidence.
    #[serde(default)]
    evidence_stats: Vec<MemberStats>,
    /// The rules the evidence was computed under ([`crate::evidence::RULES`]; 0 in models saved before
    /// the rules had a number, which follow rules 1).
    #[serde(default)]
    evidence_rules: u32,
    /// Each evidence's top training rows by entity (rules 4; empty before, or for an evidence whose
    /// table holds a source's value once per window).
    #[serde(default)]
    evidence_tops: Vec<OwnTop>,
}

/// How much the tie-break (the exceedance of the strongest evidence, then the mean of the ranks) weighs
/// beside the highest rank: enough to order ties, too little to reorder anything else.
const TIE_BREAK: f64 = 1e-3;

/// The tie-break of a row: how far its strongest evidence lies beyond its tail (`beyond`, e-folds) and
/// the mean of its ranks. Under rules 3 the exceedance leads (0.9 against 0.1): a scan whose other
/// evidence is zero comes before a benign monitor moderately high on several (its uploads, its clock)
/// that ties with it on rank. Under older rules both weigh half.
fn tie_break(beyond: f64, mean_rank: f64, rules: u32) -> f64 {
    let beyond = beyond / (1.0 + beyond);
    if rules >= 3 { 0.9 * beyond + 0.1 * mean_rank } else { (mean_rank + beyond) / 2.0 }
}

/// The training rank from which a row stands out in an evidence.
pub const EVIDENCE_TOP: f64 = 0.99;

/// The tail floor of an evidence's training values: its 99th percentile, at least `least` (the
/// evidence's smallest value that counts, [`Evidence::floor`]); when both are 0, its smallest positive
/// value (0 when there is none). An evidence positive on a handful of rows (a scan's windows) has no
/// tail of its own to stand beyond: measured from its smallest positive value it would stand beyond
/// itself only. Computed once per scoring call, not per row.
fn tail_floor(stats: &MemberStats, least: f64) -> f64 {
    let sorted = stats.ecdf.values();
    if sorted.is_empty() {
        return 0.0;
    }
    let q = outflow_core::stats::quantile_sorted(sorted, EVIDENCE_TOP).max(least);
    if q > 0.0 { q } else { sorted.get(sorted.partition_point(|&x| x <= 0.0)).copied().unwrap_or(0.0) }
}

/// How far an evidence value lies beyond the training rows' top percent, in e-folds: `ln(v / floor)`
/// with the evidence's [`tail_floor`], 0 at or below it. Ranks cannot tell a 3 GB upload, 175 times the
/// next, from a beacon score 3 % above the next; among rows whose strongest ranks tie, the one farther
/// beyond its evidence's tail comes first.
fn exceedance(v: f64, floor: f64) -> f64 {
    if floor > 0.0 && v > floor { (v / floor).ln() } else { 0.0 }
}

/// The training values an evidence's rank table holds: a value shared by rows of one group (the pairs
/// of one source in one window) counted once. Fan-out is the source's: the 700 probes of one
/// scan are one observation of it, not 700 rows that would fill the evidence's top and rank the scan by
/// how many pairs it has. Without groups (`groups` empty) every row counts.
fn once_per_group(values: &[f64], groups: &[usize]) -> Vec<f64> {
    if groups.len() != values.len() {
        return values.to_vec();
    }
    let mut seen = std::collections::HashSet::new();
    values.iter().zip(groups).filter(|(v, g)| seen.insert((**g, v.to_bits()))).map(|(v, _)| *v).collect()
}

/// The model's rank of each row measured against its entity's earlier windows as well as against the
/// population: a row's upper-tail probability `p = 1 − rank` is divided by the median `p` of the same
/// entity's earlier windows (`history`: entity and window start per row; windows compared by start, so
/// the rows may come in any order) and capped at 1. A host that is unusual every hour (a monitor
/// sweeping the network, a server nobody else resembles) is unusual once, in its first window; a host
/// whose earlier windows were ordinary (median `p` near ½) keeps its rank nearly whole. Known
/// behaviours that persist (a beacon, a slow exfiltration) are carried by their evidence, which is
/// ranked against the other entities' rows, not against the entity's own past. `resolution` (one training rank step) keeps the ratio finite.
/// The past is the rows scored together: every row of a log in `detect` (up to `max_score_rows`; the
/// rows beyond are scored as a second batch) and `score`; plus `prior` (per entity: window start and
/// `p` of windows scored before, an [`OwnPast`] a live watch carries from window to window). A row
/// scored alone without a prior (the service) keeps its population rank. A prior window with the same
/// start as a row is that row scored before (a window closed again after a restart): not its past.
fn beyond_own_past(rank: &[f64], history: &[(usize, f64)], prior: &[Vec<(f64, f64)>], resolution: f64) -> Vec<f64> {
    let mut by_entity: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for (i, &(entity, _)) in history.iter().enumerate() {
        by_entity.entry(entity).or_default().push(i);
    }
    let mut out = rank.to_vec();
    for (entity, rows) in by_entity {
        // (window start, p, row): the rows and the entity's prior windows, in time order.
        let mut windows: Vec<(f64, f64, Option<usize>)> =
            rows.iter().map(|&r| (history[r].1, 1.0 - rank[r], Some(r))).collect();
        windows.extend(prior.get(entity).into_iter().flatten().map(|&(start, p)| (start, p, None)));
        windows.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The earlier windows' p, kept sorted for their median.
        let mut past: Vec<f64> = Vec::with_capacity(windows.len());
        let mut k = 0;
        while k < windows.len() {
            // Rows of one window (a table holds one per entity and window; kept general) share a past.
            let start = windows[k].0;
            let end = k + windows[k..].iter().take_while(|w| w.0.total_cmp(&start).is_eq()).count();
            if !past.is_empty() {
                let base = outflow_core::stats::median_sorted(&past);
                for &(_, p, row) in &windows[k..end] {
                    if let Some(r) = row {
                        out[r] = 1.0 - ((p + resolution) / (base + resolution)).min(1.0);
                    }
                }
            }
            // A window scored again counts once: its row's p, not also the prior one.
            let scored_now = windows[k..end].iter().any(|w| w.2.is_some());
            for &(_, p, row) in &windows[k..end] {
                if row.is_some() || !scored_now {
                    let at = past.partition_point(|&x| x < p);
                    past.insert(at, p);
                }
            }
            k = end;
        }
    }
    out
}

/// The model's upper-tail probability (`1 −` its rank among the training rows) of host or pair windows
/// scored before, by entity: the past a row's model rank is also measured against (a host unusual every
/// hour is unusual once). A batch run has its whole log; a live watch scores one window at a time and
/// carries this from window to window ([`crate::Detector::score_entities_after`],
/// [`crate::ScoredLog::past`]).
///
/// ```
/// use outflow::OwnPast;
/// let mut past = OwnPast::new();
/// assert!(past.is_empty());
/// past.forget_before(3600.0);
/// assert_eq!(past.len(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnPast {
    /// Per entity key (the host, or `"source destination"`): window start and `p`, by window start.
    by_entity: std::collections::BTreeMap<String, Vec<(f64, f64)>>,
}

impl OwnPast {
    /// No windows.
    pub fn new() -> OwnPast {
        OwnPast::default()
    }

    /// Whether it holds no window.
    pub fn is_empty(&self) -> bool {
        self.by_entity.is_empty()
    }

    /// How many entity windows it holds.
    pub fn len(&self) -> usize {
        self.by_entity.values().map(Vec::len).sum()
    }

    /// Adds the windows of `newer`; a window it already holds (the same entity and start) is replaced.
    pub fn absorb(&mut self, newer: OwnPast) {
        for (key, windows) in newer.by_entity {
            let held = self.by_entity.entry(key).or_default();
            for (start, p) in windows {
                match held.binary_search_by(|w| w.0.total_cmp(&start)) {
                    Ok(i) => held[i].1 = p,
                    Err(i) => held.insert(i, (start, p)),
                }
            }
        }
    }

    /// Drops the windows starting before `start`.
    pub fn forget_before(&mut self, start: f64) {
        self.by_entity.retain(|_, w| {
            w.retain(|(s, _)| *s >= start);
            !w.is_empty()
        });
    }

    /// Each entity's windows, in the order of `keys`.
    fn windows_of(&self, keys: &[String]) -> Vec<Vec<(f64, f64)>> {
        keys.iter().map(|k| self.by_entity.get(k).cloned().unwrap_or_default()).collect()
    }

    fn push(&mut self, key: &str, start: f64, p: f64) {
        let held = self.by_entity.entry(key.to_owned()).or_default();
        let at = held.partition_point(|w| w.0 < start);
        held.insert(at, (start, p));
    }
}

/// What host and pair rows bring to scoring beside their features (all empty for flows).
#[derive(Debug, Default)]
pub(crate) struct EntityContext {
    /// Each evidence's values, one per row.
    pub(crate) evidence: Vec<(Evidence, Vec<f64>)>,
    /// Each row's source-window group (pairs; empty for hosts), for [`once_per_group`].
    pub(crate) groups: Vec<usize>,
    /// Each row's entity and window.
    pub(crate) rows: EntityRows,
}

/// The entity and window of each row of a batch of host or pair rows (empty without the key columns).
#[derive(Debug, Default, Clone)]
pub(crate) struct EntityRows {
    /// Per row: its entity (an index into `keys`) and window start, for [`beyond_own_past`].
    pub(crate) windows: Vec<(usize, f64)>,
    /// Per entity: its key (the host, or the source and destination), for [`OwnTop`].
    pub(crate) keys: Vec<String>,
    /// Per entity: its windows scored before (window start, `p`), from an [`OwnPast`].
    pub(crate) prior: Vec<Vec<(f64, f64)>>,
}

impl EntityRows {
    /// With the windows `past` holds of these rows' entities.
    pub(crate) fn after(mut self, past: &OwnPast) -> EntityRows {
        self.prior = past.windows_of(&self.keys);
        self
    }

    fn key_of(&self, row: usize) -> Option<&str> {
        self.windows.get(row).and_then(|&(e, _)| self.keys.get(e)).map(String::as_str)
    }
}

/// Training rows kept per evidence in [`OwnTop`] at most (the largest values).
const OWN_TOP_ROWS: usize = 5_000;

/// An evidence's top training rows (its top percent, at most [`OWN_TOP_ROWS`]) by entity, so that a row
/// is ranked among the *other* entities' rows: a behaviour that persists (a beacon every hour of the
/// day, a slow exfiltration) fills the top of its evidence's table with its own windows, and ranked
/// against them its weaker windows would fall below any other entity's single top row. A new log's
/// rows are not in the table; a training row measured against the other entities is measured as a new
/// row of its entity is, so `detect` and `score` of the same log agree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct OwnTop {
    /// The values the evidence's rank table was built from.
    count: usize,
    /// The top values: a value among them is ranked exactly, not from the rank table (which keeps
    /// evenly spaced order statistics of a large table, too coarse for one entity's few rows).
    top: Ecdf,
    /// The top values of each entity (ordered by key: the model file is the same for the same fit).
    by_entity: std::collections::BTreeMap<String, Ecdf>,
}

impl OwnTop {
    fn of(values: &[f64], rows: &EntityRows) -> OwnTop {
        let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i] > 0.0).collect();
        // The top percent, rounded up (less a rounding error of 1 − 0.99).
        let top = ((values.len() as f64 * (1.0 - EVIDENCE_TOP) - 1e-9).ceil() as usize).min(OWN_TOP_ROWS);
        if order.len() > top {
            order.select_nth_unstable_by(top, |&a, &b| values[b].total_cmp(&values[a]));
            order.truncate(top);
        }
        let mut by_entity: std::collections::BTreeMap<String, Vec<f64>> = std::collections::BTreeMap::new();
        for &i in &order {
            if let Some(key) = rows.key_of(i) {
                by_entity.entry(key.to_owned()).or_default().push(values[i]);
            }
        }
        let top: Vec<f64> = order.iter().map(|&i| values[i]).collect();
        OwnTop {
            count: values.len(),
            top: Ecdf::new(&top),
            by_entity: by_entity.into_iter().map(|(k, v)| (k, Ecdf::new(&v))).collect(),
        }
    }

    /// `rank` (among every training value, from the rank table) of `v`, a row of entity `key`, with
    /// that entity's top training values left out; from the top values themselves when `v` reaches them.
    fn among_others(&self, rank: f64, v: f64, key: Option<&str>) -> f64 {
        let Some(own) = key.and_then(|k| self.by_entity.get(k)) else { return rank };
        let m = own.len();
        if self.count <= m {
            return rank;
        }
        // Values below `v` plus half of those equal to it: the mid-rank count.
        let mid = |e: &Ecdf| e.rank(v) * e.len() as f64;
        let among_all = match self.top.values().first() {
            Some(&least) if v >= least => (self.count - self.top.len()) as f64 + mid(&self.top),
            _ => rank * self.count as f64,
        };
        ((among_all - mid(own)) / (self.count - m) as f64).clamp(0.0, 1.0)
    }
}

/// A fused score and the evidence its row stands out in.
pub(crate) type Scored = (f64, Vec<Evidence>);

/// Raw signal values of a batch of flows, one vector per configured signal.
pub(crate) type RawSignals = Vec<Vec<f64>>;

impl Scorer {
    /// Fits on the training matrix, its rows' cluster memberships, the rarity of each cluster label
    /// (noise and unknown labels: 1) and the rows' evidence values (empty for flows); returns the
    /// scorer and the fused training scores, each with the evidence in which its row stands out
    /// ([`Scorer::fuse`]).
    pub(crate) fn fit(
        params: &ScoringParams,
        x: ArrayView2<'_, f64>,
        memberships: &[Membership],
        rarity: Vec<f64>,
        seed: u64,
        entities: EntityContext,
    ) -> Result<(Self, Vec<Scored>)> {
        let EntityContext { evidence, groups, rows } = entities;
        params.validate()?;
        if params.signals.is_empty() {
            return Err(InputError::param("scoring.signals", "scoring needs at least one signal").into());
        }
        let models = params
            .signals
            .iter()
            .map(|sig| match sig {
                Signal::Detector(d) => d
                    .clone()
                    .with_seed(seed)
                    .fit(x)
                    .map(Some)
                    .map_err(|e| OutflowError::Signal { signal: d.name(), source: Box::new(e) }),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        let placeholder = ScoreFusion { method: params.fusion, stats: Vec::new() };
        let mut scorer = Scorer {
            params: params.clone(),
            rarity,
            models,
            fusion: placeholder,
            evidence: Vec::new(),
            evidence_stats: Vec::new(),
            evidence_rules: crate::evidence::RULES,
            evidence_tops: Vec::new(),
        };
        let raw = scorer.raw_training(memberships)?;
        let cols: Vec<&[f64]> = raw.iter().map(Vec::as_slice).collect();
        scorer.fusion = ScoreFusion::fit(params.fusion, &cols, Some(ECDF_SIZE))?;
        let fused = scorer.fusion.combine(&cols);
        if evidence.is_empty() {
            return Ok((scorer, fused.into_iter().map(|s| (s, Vec::new())).collect()));
        }
        scorer.evidence_stats = std::iter::once(MemberStats::of(&fused, Some(ECDF_SIZE)))
            .chain(evidence.iter().map(|(e, v)| {
                let kept = if e.is_the_sources() { once_per_group(v, &groups) } else { v.clone() };
                MemberStats::of(&kept, Some(ECDF_SIZE))
            }))
            .collect();
        scorer.evidence = evidence.iter().map(|(e, _)| *e).collect();
        // A fan-out table holds a source's value once per window, not once per row: left whole.
        scorer.evidence_tops =
            evidence
                .iter()
                .map(|(e, v)| {
                    if e.is_the_sources() && groups.len() == v.len() { OwnTop::default() } else { OwnTop::of(v, &rows) }
                })
                .collect();
        let values: Vec<Vec<f64>> = evidence.into_iter().map(|(_, v)| v).collect();
        let joined = scorer.join_evidence(fused, &values, &rows);
        Ok((scorer, joined))
    }

    /// Checks a scorer read from a model file: one fitted detector per detector signal, each sound
    /// ([`OutlierModelAny::check`]), one rank table per signal and per evidence.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        if self.models.len() != self.params.signals.len() || self.fusion.stats.len() != self.params.signals.len() {
            return Err(format!(
                "{} signals but {} fitted detectors and {} rank tables",
                self.params.signals.len(),
                self.models.len(),
                self.fusion.stats.len()
            ));
        }
        for (sig, m) in self.params.signals.iter().zip(&self.models) {
            match (sig, m) {
                (Signal::Detector(_), Some(m)) => m.check().map_err(|e| format!("signal {}: {e}", sig.name()))?,
                (Signal::Detector(_), None) => return Err(format!("signal {} has no fitted detector", sig.name())),
                _ => {}
            }
        }
        if !self.evidence_stats.is_empty() && self.evidence_stats.len() != self.evidence.len() + 1 {
            return Err(format!("{} evidences but {} rank tables", self.evidence.len(), self.evidence_stats.len()));
        }
        if self.evidence_rules > crate::evidence::RULES {
            return Err(format!(
                "its evidence follows rules {}, newer than this build's {} (upgrade Outflow to read it)",
                self.evidence_rules,
                crate::evidence::RULES
            ));
        }
        if !self.evidence_tops.is_empty() && self.evidence_tops.len() != self.evidence.len() {
            return Err(format!(
                "{} evidences but {} tables of top rows",
                self.evidence.len(),
                self.evidence_tops.len()
            ));
        }
        Ok(())
    }

    /// The evidence this scorer joins to the model's score (see [`crate::evidence`]).
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    /// The rules its evidence is computed under (see [`Evidence::values`]).
    pub fn evidence_rules(&self) -> u32 {
        self.evidence_rules
    }

    /// The fused model score joined to the evidence: the highest training rank among them (the model's
    /// measured against the row's own past as well, [`beyond_own_past`]), ties broken by [`tie_break`];
    /// with the evidence in which the row stands out (see [`Scorer::fuse`]).
    fn join_evidence(&self, fused: Vec<f64>, evidence: &[Vec<f64>], rows: &EntityRows) -> Vec<Scored> {
        let history = &rows.windows;
        if self.evidence_stats.is_empty() {
            return fused.into_iter().map(|s| (s, Vec::new())).collect();
        }
        let mut model: Vec<f64> = fused.iter().map(|&m| self.evidence_stats[0].rank(m)).collect();
        if self.evidence_rules >= 3 && history.len() == model.len() {
            let resolution = 1.0 / (self.evidence_stats[0].ecdf.values().len() + 1) as f64;
            model = beyond_own_past(&model, history, &rows.prior, resolution);
        }
        let k = self.evidence_stats.len() as f64;
        let floors: Vec<f64> = self.evidence_stats[1..]
            .iter()
            .zip(&self.evidence)
            .map(|(st, e)| tail_floor(st, if self.evidence_rules >= 3 { e.floor() } else { 0.0 }))
            .collect();
        model
            .iter()
            .enumerate()
            .map(|(i, &model)| {
                let key = rows.key_of(i);
                let ranks: Vec<(f64, f64)> = evidence
                    .iter()
                    .zip(&self.evidence_stats[1..])
                    .enumerate()
                    .map(|(j, (v, st))| {
                        let rank = st.rank(v[i]);
                        let rank = self.evidence_tops.get(j).map_or(rank, |t| t.among_others(rank, v[i], key));
                        (v[i], rank)
                    })
                    .collect();
                let max = ranks.iter().fold(model, |a, r| a.max(r.1));
                let sum = model + ranks.iter().map(|r| r.1).sum::<f64>();
                let mut standing: Vec<(f64, Evidence)> = ranks
                    .iter()
                    .zip(&self.evidence)
                    .filter(|((v, r), _)| *v > 0.0 && *r >= EVIDENCE_TOP)
                    .map(|((_, r), e)| (*r, *e))
                    .collect();
                standing.sort_by(|a, b| b.0.total_cmp(&a.0));
                let beyond = ranks.iter().zip(&floors).map(|((v, _), &f)| exceedance(*v, f)).fold(0.0, f64::max);
                let tie = tie_break(beyond, sum / k, self.evidence_rules);
                ((1.0 - TIE_BREAK) * max + TIE_BREAK * tie, standing.into_iter().map(|s| s.1).collect())
            })
            .collect()
    }

    /// From the parts of a model file of format version 1.
    pub(crate) fn from_parts(
        params: ScoringParams,
        rarity: Vec<f64>,
        models: Vec<Option<OutlierModelAny>>,
        fusion: ScoreFusion,
    ) -> Scorer {
        Scorer {
            params,
            rarity,
            models,
            fusion,
            evidence: Vec::new(),
            evidence_stats: Vec::new(),
            evidence_rules: 1,
            evidence_tops: Vec::new(),
        }
    }

    /// The settings.
    pub fn params(&self) -> &ScoringParams {
        &self.params
    }

    fn rarity(&self, label: i64) -> f64 {
        usize::try_from(label).ok().and_then(|l| self.rarity.get(l)).copied().unwrap_or(1.0)
    }

    /// Raw signals of the training rows: the detectors' training scores, the rest from the memberships.
    fn raw_training(&self, memberships: &[Membership]) -> Result<RawSignals> {
        self.raw(memberships, |m, _| Ok(m.training_scores().to_vec()))
    }

    /// Whether every raw signal of a row depends on that row alone (not on the rest of the batch).
    pub(crate) fn row_local(&self) -> bool {
        self.params.signals.iter().all(|s| match s {
            Signal::Detector(d) => d.row_local(),
            Signal::Glosh | Signal::ClusterRarity => true,
        })
    }

    /// Raw signals of new flows from their features and cluster memberships.
    pub(crate) fn raw_new(&self, x: ArrayView2<'_, f64>, memberships: &[Membership]) -> Result<RawSignals> {
        self.raw(memberships, |m, d| {
            m.score_samples(x).map_err(|e| OutflowError::Signal { signal: d.name(), source: Box::new(e) })
        })
    }

    /// Raw signals of rows from their cluster memberships, each detector signal's from `detector`.
    fn raw(
        &self,
        memberships: &[Membership],
        detector: impl Fn(&OutlierModelAny, &Outlier) -> Result<Vec<f64>>,
    ) -> Result<RawSignals> {
        self.params
            .signals
            .iter()
            .zip(&self.models)
            .map(|(s, m)| match s {
                Signal::Detector(d) => detector(m.as_ref().expect("fitted with the signal"), d),
                Signal::Glosh => memberships.iter().map(|p| p.outlier_score.ok_or_else(glosh_needs_hdbscan)).collect(),
                Signal::ClusterRarity => Ok(memberships.iter().map(|p| self.rarity(p.label)).collect()),
            })
            .collect()
    }

    /// The model's upper-tail probability of each row by entity and window, for rows scored later
    /// ([`OwnPast`]); empty when the scorer measures no own past (no evidence, rules before 3) or the
    /// rows have no entity keys.
    pub(crate) fn model_tails(&self, raw: &RawSignals, rows: &EntityRows) -> OwnPast {
        let mut past = OwnPast::new();
        let n = raw.first().map_or(0, Vec::len);
        if self.evidence_stats.is_empty() || self.evidence_rules < 3 || rows.windows.len() != n {
            return past;
        }
        let cols: Vec<&[f64]> = raw.iter().map(Vec::as_slice).collect();
        for (fused, &(entity, start)) in self.fusion.combine(&cols).into_iter().zip(&rows.windows) {
            if start.is_finite() {
                past.push(&rows.keys[entity], start, 1.0 - self.evidence_stats[0].rank(fused));
            }
        }
        past
    }

    /// Fuses raw signals into scores in [0, 1], joined to the rows' values of [`Scorer::evidence`]; each
    /// with the evidence in which its row stands out: a positive value in the top 1 % of the other
    /// entities' training rows ([`EVIDENCE_TOP`]), strongest first.
    pub(crate) fn fuse(&self, raw: &RawSignals, evidence: &[Vec<f64>], rows: &EntityRows) -> Vec<Scored> {
        let cols: Vec<&[f64]> = raw.iter().map(Vec::as_slice).collect();
        self.join_evidence(self.fusion.combine(&cols), evidence, rows)
    }
}

fn glosh_needs_hdbscan() -> OutflowError {
    InputError::param("scoring.signals", "the glosh signal needs the hdbscan clusterer").into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_persistent_entity_is_ranked_among_the_others() {
        // 997 rows of other entities at 1..=997 (two of entity "b" at the top), three of "a" above them.
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        let keys = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let windows: Vec<(usize, f64)> = (0..1000)
            .map(|i| {
                (
                    if i >= 997 {
                        0
                    } else if i >= 995 {
                        1
                    } else {
                        2
                    },
                    i as f64,
                )
            })
            .collect();
        let rows = EntityRows { windows, keys, prior: Vec::new() };
        let top = OwnTop::of(&values, &rows);
        assert_eq!(top.by_entity.get("a").map(Ecdf::values), Some(&[998.0, 999.0, 1000.0][..]));
        assert_eq!(top.by_entity.values().map(Ecdf::len).sum::<usize>(), 10, "the top percent: {:?}", top.by_entity);
        let stats = MemberStats::of(&values, None);
        // Every row of "a" stands above every other entity's row.
        for v in [998.0, 999.0, 1000.0] {
            assert_eq!(top.among_others(stats.rank(v), v, Some("a")), 1.0);
        }
        // "b" is ranked without its own two rows: 995 of the 998 others lie below its top row.
        assert!((top.among_others(stats.rank(997.0), 997.0, Some("b")) - 995.0 / 998.0).abs() < 1e-12);
        // An entity outside the top, or a row without one, keeps its rank among every row.
        assert_eq!(top.among_others(stats.rank(500.0), 500.0, Some("z")), stats.rank(500.0));
        assert_eq!(top.among_others(stats.rank(999.0), 999.0, None), stats.rank(999.0));

        // A large table's rank table keeps evenly spaced order statistics only; the top is ranked from its
        // own values, so an entity's 24 top hours all stand above the others, in their order.
        let n = 100_000;
        let values: Vec<f64> = (1..=n).map(f64::from).collect();
        let keys = vec!["beacon".to_owned(), "others".to_owned()];
        let windows: Vec<(usize, f64)> = (0..n).map(|i| (usize::from(i < n - 24), f64::from(i))).collect();
        let rows = EntityRows { windows, keys, prior: Vec::new() };
        let top = OwnTop::of(&values, &rows);
        let stats = MemberStats::of(&values, Some(ECDF_SIZE));
        let ranks: Vec<f64> =
            (n - 23..=n).map(f64::from).map(|v| top.among_others(stats.rank(v), v, Some("beacon"))).collect();
        assert!(ranks.iter().all(|&r| r == 1.0), "{ranks:?}");
        let below = top.among_others(stats.rank(f64::from(n - 24)), f64::from(n - 24), Some("others"));
        assert!(below < 1.0 && below > 0.999, "{below}");
    }

    use super::*;

    #[test]
    fn exceedance_measures_the_distance_beyond_the_top_percent() {
        // 995 rows at 0, five at 1..5: the 99th percentile is 0, the smallest positive value 1.
        let mut v = vec![0.0; 995];
        v.extend((1..=5).map(f64::from));
        let floor = tail_floor(&MemberStats::of(&v, None), 0.0);
        assert_eq!(exceedance(0.0, floor), 0.0);
        assert_eq!(exceedance(1.0, floor), 0.0);
        assert!((exceedance(175.0, floor) - 175f64.ln()).abs() < 1e-12);
        // With a least value that counts (five targets), the scan's 175 stands ln(35) beyond it.
        let floor = tail_floor(&MemberStats::of(&v, None), 5.0);
        assert!((exceedance(175.0, floor) - 35f64.ln()).abs() < 1e-12);
        // A value at its evidence's top by a few percent stands barely beyond it.
        let floor =
            tail_floor(&MemberStats::of(&(0..1000).map(|i| f64::from(i) / 1000.0).collect::<Vec<_>>(), None), 0.0);
        assert!(exceedance(1.03, floor) < 0.05);
        assert_eq!(exceedance(f64::NAN, floor), 0.0);
    }

    #[test]
    fn the_model_rank_is_measured_against_the_entitys_past() {
        // Entity 0 is as unusual every hour; entity 1 is ordinary, then unusual; entity 2 has one window.
        // Rows come in any order: windows are compared by start.
        let history = [(0, 7200.0), (1, 0.0), (0, 0.0), (1, 7200.0), (2, 0.0), (0, 3600.0), (1, 3600.0)];
        let rank = [0.999, 0.5, 0.999, 0.999, 0.999, 0.999, 0.5];
        let out = beyond_own_past(&rank, &history, &[], 0.0);
        // Its first window keeps its rank; later ones are no more unusual than its past.
        assert_eq!((out[2], out[5], out[0]), (0.999, 0.0, 0.0));
        // p = 0.001 against a past median of 0.5: 1 − 0.002.
        assert!((out[3] - 0.998).abs() < 1e-12, "{}", out[3]);
        assert_eq!((out[1], out[6], out[4]), (0.5, 0.0, 0.999));
    }

    #[test]
    fn windows_scored_one_at_a_time_after_their_past_rank_as_scored_together() {
        // Three entities over five windows, ranks spread over (0, 1); entity 2 misses window 2.
        let mut history = Vec::new();
        let mut rank = Vec::new();
        for w in 0..5 {
            for e in 0..3usize {
                if (e, w) != (2, 2) {
                    history.push((e, f64::from(w) * 3600.0));
                    rank.push(((e * 7 + w as usize * 13) % 17) as f64 / 17.0 + 0.01);
                }
            }
        }
        let keys: Vec<String> = ["a", "b", "a c"].iter().map(|k| k.to_string()).collect();
        let whole = beyond_own_past(&rank, &history, &[], 1e-3);
        let mut past = OwnPast::new();
        for w in 0..5 {
            let start = f64::from(w) * 3600.0;
            let rows: Vec<usize> = (0..rank.len()).filter(|&r| history[r].1 == start).collect();
            // Entities renumbered within the window, as each batch numbers them.
            let local_keys: Vec<String> = rows.iter().map(|&r| keys[history[r].0].clone()).collect();
            let local: Vec<(usize, f64)> = rows.iter().enumerate().map(|(i, &r)| (i, history[r].1)).collect();
            let ranks: Vec<f64> = rows.iter().map(|&r| rank[r]).collect();
            let prior = past.windows_of(&local_keys);
            let out = beyond_own_past(&ranks, &local, &prior, 1e-3);
            for (i, &r) in rows.iter().enumerate() {
                assert_eq!(out[i], whole[r], "window {w}, row {r}");
            }
            let mut tails = OwnPast::new();
            for (i, _) in rows.iter().enumerate() {
                tails.push(&local_keys[i], start, 1.0 - ranks[i]);
            }
            past.absorb(tails.clone());
            // Absorbing the same windows again replaces them.
            past.absorb(tails);
            // A window scored again (closed again after a restart) is not its own past.
            for (i, &r) in rows.iter().enumerate() {
                let again = beyond_own_past(&[rank[r]], &[(0, start)], &past.windows_of(&local_keys[i..=i]), 1e-3);
                assert_eq!(again[0], whole[r], "window {w}, row {r} again");
            }
        }
        assert_eq!(past.len(), rank.len());
        // Every window scored again at once, the prior holding other values for them (another model's):
        // each row's past is its own rows', the prior's copies of the same windows left out.
        let mut other = OwnPast::new();
        for (r, &(e, start)) in history.iter().enumerate() {
            other.push(&keys[e], start, (1.0 - rank[r]) * 0.5);
        }
        assert_eq!(beyond_own_past(&rank, &history, &other.windows_of(&keys), 1e-3), whole);
        past.forget_before(2.0 * 3600.0);
        assert_eq!(past.len(), rank.len() - 6);
        let back: OwnPast = serde_json::from_str(&serde_json::to_string(&past).unwrap()).unwrap();
        assert_eq!(back, past);
    }

    #[test]
    fn a_sources_shared_value_counts_once() {
        // Three pairs of source-window 0 share 5.0; source-window 1 has 5.0 and 0.0.
        assert_eq!(once_per_group(&[5.0, 5.0, 5.0, 5.0, 0.0, 2.0], &[0, 0, 0, 1, 1, 0]), vec![5.0, 5.0, 0.0, 2.0]);
        assert_eq!(once_per_group(&[5.0, 5.0], &[]), vec![5.0, 5.0]);
    }

    #[test]
    fn signals_parse_and_validate() {
        assert_eq!("glosh".parse::<Signal>().unwrap(), Signal::Glosh);
        assert_eq!("iforest".parse::<Signal>().unwrap().name(), "iforest");
        assert!(matches!("nope".parse::<Signal>(), Err(OutflowError::Input(InputError::InvalidParameter { .. }))));
        let p = ScoringParams { fusion: FusionMethod::ZScore, ..Default::default() };
        assert!(p.validate().is_err());
        let p = ScoringParams { moderate_percentile: 99.5, ..Default::default() };
        assert!(p.validate().is_err());
        assert!(ScoringParams::default().validate().is_ok());
        assert!(serde_json::from_str::<ScoringParams>(r#"{"signalz": []}"#).is_err());
    }

    #[test]
    fn each_family_has_its_measured_signals() {
        let names = |level, family| default_signals(level, family).iter().map(Signal::name).collect::<Vec<_>>();
        assert_eq!(names(Level::Flow, Family::Zeek), ["iforest", "pca"]);
        assert_eq!(names(Level::Flow, Family::Kdd), ["iforest", "pca"]);
        assert_eq!(names(Level::Flow, Family::Cic), ["iforest", "pca_reconstruction"]);
        assert_eq!(names(Level::Flow, Family::Generic), ["iforest", "pca_reconstruction"]);
        assert_eq!(names(Level::Host, Family::Cic), ["iforest", "pca", "pca_mahalanobis"]);
    }
}
