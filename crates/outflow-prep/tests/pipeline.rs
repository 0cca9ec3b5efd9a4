//! The fitted pipeline end to end: properties, determinism across thread counts, typed errors, and the
//! real logs of the repository.

use std::path::PathBuf;

use ndarray::Array2;
use outflow_io::{Column, ReadOptions, Table, read_table};
use outflow_prep::{
    Encoding, Family, Fit, InputError, MinMaxScalerParams, Missing, PcaComponents, PcaParams, Prep, PrepError,
    PrepParams, Prepared, RobustScalerParams, RowStatus, ScalerParams, StandardScalerParams, Step, Transform,
    UndefinedCorrelation,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn same(a: &Prepared, b: &Prepared) {
    assert_eq!(a.features, b.features);
    assert_eq!(a.kept, b.kept);
    assert_eq!(a.rows, b.rows);
    // Bitwise equality, NaN-safe.
    let bits = |x: &Array2<f64>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.unscaled), bits(&b.unscaled));
    assert_eq!(bits(&a.scaled), bits(&b.scaled));
    assert_eq!(a.projected.as_ref().map(bits), b.projected.as_ref().map(bits));
    assert_eq!(a.carried, b.carried);
}

/// A flow-like table: heavy-tailed bytes with nulls and infinities, a categorical, a boolean, a label.
fn flow_table(rng: &mut ChaCha8Rng, n: usize) -> Table {
    let protos = ["tcp", "udp", "icmp", "gre", "sctp"];
    let mut bytes = Vec::new();
    let mut pkts = Vec::new();
    let mut dur = Vec::new();
    let mut proto = Vec::new();
    let mut local = Vec::new();
    let mut label = Vec::new();
    for _ in 0..n {
        let u: f64 = rng.random();
        let b = (rng.random::<f64>() * 12.0).exp().round();
        bytes.push(if u < 0.05 {
            None
        } else if u < 0.07 {
            Some(f64::INFINITY)
        } else {
            Some(b)
        });
        pkts.push(Some(1 + (b / 500.0) as i64 + rng.random_range(0..3)));
        dur.push(if rng.random::<f64>() < 0.1 { None } else { Some(rng.random::<f64>() * 3.0) });
        proto.push(if rng.random::<f64>() < 0.03 { None } else { Some(protos[rng.random_range(0..protos.len())]) });
        local.push(Some(rng.random::<bool>()));
        label.push(Some(if rng.random::<f64>() < 0.3 { "Malicious" } else { "Benign" }));
    }
    Table::new(vec![
        Column::from_f64_opt("orig_bytes", bytes),
        Column::from_i64_opt("orig_pkts", pkts),
        Column::from_interval_opt("duration", dur),
        Column::from_str_opt("proto", proto),
        Column::from_bool_opt("local_orig", local),
        Column::from_f64("constant", vec![3.0; n]),
        Column::from_str_opt("label", label),
    ])
    .unwrap()
}

fn config(variant: u8) -> PrepParams {
    let mut c = PrepParams::default();
    c.categorical.encoding = if variant & 1 == 1 { Encoding::OneHot } else { Encoding::Drop };
    c.categorical.top_k = 3;
    if variant & 2 == 2 {
        c.missing.columns.insert("duration".into(), Missing::Median);
        c.missing.columns.insert("orig_bytes".into(), Missing::Zero);
    }
    c.scaler = match variant % 3 {
        0 => ScalerParams::Robust(RobustScalerParams::default()),
        1 => ScalerParams::Standard(StandardScalerParams::default()),
        _ => ScalerParams::MinMax(MinMaxScalerParams::default()),
    };
    if variant & 4 == 4 {
        c.pca = Some(PcaParams { n_components: PcaComponents::Variance(0.9) });
    }
    if variant & 8 == 8 {
        c.selection.correlation.as_mut().unwrap().undefined = UndefinedCorrelation::Propagate;
        c.selection.low_variance = None;
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Scaling does not depend on the order of the rows: permuted input, identically permuted output.
    #[test]
    fn scaling_is_invariant_to_row_order(
        rows in proptest::collection::vec(proptest::collection::vec(-1e6f64..1e6, 3), 2..40),
        seed in any::<u64>(),
        kind in 0u8..3,
    ) {
        let n = rows.len();
        let x = Array2::from_shape_fn((n, 3), |(i, j)| if j == 2 { rows[i][0].round() } else { rows[i][j] });
        let mut perm: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in (1..n).rev() {
            perm.swap(i, rng.random_range(0..=i));
        }
        let xp = x.select(ndarray::Axis(0), &perm);
        let scaler = match kind {
            0 => ScalerParams::Robust(RobustScalerParams::default()),
            1 => ScalerParams::Standard(StandardScalerParams::default()),
            _ => ScalerParams::MinMax(MinMaxScalerParams::default()),
        };
        let a = scaler.fit(x.view()).unwrap();
        let b = scaler.fit(xp.view()).unwrap();
        prop_assert_eq!(&a, &b);
        let ya = a.transform(x.view()).unwrap().select(ndarray::Axis(0), &perm);
        let yb = b.transform(xp.view()).unwrap();
        prop_assert_eq!(ya, yb);
    }

    /// Transforming the training table reproduces the fit output exactly, also after a JSON round trip.
    #[test]
    fn transform_of_the_training_rows_equals_the_fit_output(seed in any::<u64>(), n in 3usize..120, variant in 0u8..16) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = flow_table(&mut rng, n);
        match config(variant).fit(&t) {
            Ok(fit) => {
                let again = fit.prep.transform(&t).unwrap();
                same(&fit.output, &again);
                let json = serde_json::to_string(&fit.prep).unwrap();
                let back: Prep = serde_json::from_str(&json).unwrap();
                same(&fit.output, &back.transform(&t).unwrap());
                prop_assert_eq!(fit.output.rows.len(), n);
                prop_assert_eq!(fit.output.rows.iter().filter(|r| r.kept().is_some()).count(), fit.output.kept.len());
            }
            // Tiny random tables may lose every row or feature: that must be a typed error, never a panic.
            Err(PrepError::NoRowsLeft { .. } | PrepError::Input(InputError::TooFewRows { .. }) | PrepError::NoFeatures(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
}

#[test]
fn the_output_does_not_depend_on_the_thread_count() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let t = flow_table(&mut rng, 30_000);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let fit = config(5).fit(&t).unwrap();
            let report = serde_json::to_string(&fit.report).unwrap();
            let eda = serde_json::to_string(&outflow_prep::eda(&t, &config(5)).unwrap()).unwrap();
            (fit.output, report, eda)
        })
    };
    let (a, ra, ea) = run(1);
    for threads in [2, 3] {
        let (b, rb, eb) = run(threads);
        same(&a, &b);
        assert_eq!(ra, rb);
        assert_eq!(ea, eb);
    }
}

#[test]
fn rows_are_accounted_for_with_reasons() {
    let t = Table::new(vec![
        Column::from_f64_opt("Flow Bytes/s", [Some(1.0), Some(f64::INFINITY), Some(3.0), Some(4.0), None, Some(6.0)]),
        Column::from_i64_opt("Fwd Header Length", [Some(20), Some(20), Some(0), Some(40), Some(20), Some(32)]),
        Column::from_i64_opt("Bwd Header Length", [Some(20), Some(20), Some(20), Some(-1), Some(20), Some(8)]),
        Column::from_str_opt("Label", [Some("BENIGN"), Some("DoS"), Some("DoS"), Some("BENIGN"), None, Some("DoS")]),
    ])
    .unwrap();
    let reasons = |params: PrepParams| -> Vec<String> {
        let fit = params.fit(&t).unwrap();
        fit.output.rows.iter().map(|r| r.rejection().map_or("kept".into(), ToString::to_string)).collect()
    };
    let fit = PrepParams::auto(&t).fit(&t).unwrap();
    assert_eq!(
        reasons(PrepParams::auto(&t)),
        [
            "kept",
            "non-finite value (inf) in 'Flow Bytes/s'",
            "header length must be > 0: 'Fwd Header Length' is 0",
            "header length must be > 0: 'Bwd Header Length' is -1",
            "missing value in 'Flow Bytes/s'",
            "kept",
        ]
    );
    assert_eq!(fit.output.kept, [0, 5]);
    assert!(matches!(fit.output.rows[5], RowStatus::Kept(1)));
    assert_eq!(fit.output.carried.column("Label").unwrap().str_at(1), Some("DoS"));
    let r = &fit.report;
    assert_eq!(r.step(Step::ValueRules).unwrap().rows_removed, 2);
    assert_eq!(r.step(Step::NonFinite).unwrap().rows_removed, 1);
    assert_eq!(r.step(Step::Missing).unwrap().rows_by_column[0].column, "Flow Bytes/s");
    assert_eq!(fit.output.n_rejected(), 4);
    let json = serde_json::to_value(&fit.output.rows[1]).unwrap();
    assert_eq!(json["rejected"]["value"], "inf");
    // Detection scores a direction without packets (length 0) and reads a missing number as 0; a
    // negative length is still a broken record.
    assert_eq!(
        reasons(PrepParams::auto_detection(&t)),
        [
            "kept",
            "non-finite value (inf) in 'Flow Bytes/s'",
            "kept",
            "must not be negative: 'Bwd Header Length' is -1",
            "kept",
            "kept",
        ]
    );
}

#[test]
fn typed_errors_and_no_panics_on_bad_input() {
    let cfg = PrepParams::default();
    assert!(matches!(cfg.fit(&Table::default()), Err(PrepError::Input(InputError::Empty { .. }))));

    // All-null and text-only tables: the columns go, then there is nothing to fit.
    let t = Table::new(vec![Column::from_f64_opt("x", [None, None]), Column::from_str_opt("s", [Some("a"), None])])
        .unwrap();
    let e = cfg.fit(&t).unwrap_err();
    assert!(matches!(e, PrepError::NoFeatures(_)), "{e}");

    // Every row removed: the error says by which step and column.
    let t = Table::new(vec![
        Column::from_f64("x", vec![f64::NAN, f64::INFINITY, 1.0]),
        Column::from_f64_opt("y", [Some(1.0), Some(2.0), None]),
    ])
    .unwrap();
    let e = cfg.fit(&t).unwrap_err().to_string();
    assert!(e.contains("no rows left after cleaning 3 rows") && e.contains("'y' 1") && e.contains("'x' 2"), "{e}");

    // Constant columns only: selection removes them all.
    let t = Table::new(vec![Column::from_f64("a", vec![1.0; 5]), Column::from_f64("b", vec![2.0; 5])]).unwrap();
    assert!(matches!(cfg.fit(&t), Err(PrepError::NoFeatures(_))));
    // ... and with selection off they scale with scale 1 (no NaN).
    let mut open = cfg.clone();
    open.selection.low_variance = None;
    let fit = open.fit(&t).unwrap();
    assert!(fit.output.scaled.iter().all(|v| *v == 0.0));
    assert!(fit.report.warnings.iter().any(|w| w.contains("no PCA summary")));

    // One row left.
    let t = Table::new(vec![Column::from_f64_opt("a", [Some(1.0), None])]).unwrap();
    assert!(matches!(cfg.fit(&t), Err(PrepError::Input(InputError::TooFewRows { found: 1, .. }))));

    // Invalid configuration.
    let mut bad = cfg.clone();
    bad.selection.correlation.as_mut().unwrap().threshold = 0.0;
    assert!(matches!(bad.fit(&t), Err(PrepError::Input(InputError::InvalidParameter { .. }))));

    // A corrupt fitted state is an error at transform time, not a panic.
    let t = Table::new(vec![Column::from_f64("a", vec![1.0, 2.0, 4.0]), Column::from_f64("b", vec![0.0, 5.0, 1.0])])
        .unwrap();
    let fit = cfg.fit(&t).unwrap();
    let mut json: serde_json::Value = serde_json::to_value(&fit.prep).unwrap();
    json["features"][0]["source"]["input"] = 99.into();
    let broken: Prep = serde_json::from_value(json).unwrap();
    assert!(matches!(broken.transform(&t), Err(PrepError::Corrupt(_))));
}

#[test]
fn transform_by_name_with_missing_wrong_extra_and_unseen() {
    let train = Table::new(vec![
        Column::from_f64("bytes", vec![1.0, 50.0, 3.0, 400.0, 5.0, 9.0]),
        Column::from_str_opt("proto", [Some("tcp"), Some("udp"), Some("tcp"), Some("icmp"), Some("tcp"), None]),
        Column::from_f64("pkts", vec![3.0, 1.0, 2.0, 8.0, 1.0, 2.0]),
    ])
    .unwrap();
    let mut cfg = PrepParams::default();
    cfg.categorical.encoding = Encoding::OneHot;
    cfg.categorical.top_k = 2;
    cfg.selection.correlation = None;
    cfg.selection.low_variance = None;
    let fit = cfg.fit(&train).unwrap();
    assert_eq!(fit.report.features, ["bytes", "proto=tcp", "proto=udp", "proto=other", "pkts"]);

    // Columns in another order, an extra column, an unseen level: fine.
    let new = Table::new(vec![
        Column::from_f64("pkts", vec![1.0, 2.0]),
        Column::from_str_opt("extra", [Some("x"), Some("y")]),
        Column::from_str_opt("proto", [Some("sctp"), Some("udp")]),
        Column::from_f64("bytes", vec![7.0, 8.0]),
    ])
    .unwrap();
    let out = fit.prep.transform(&new).unwrap();
    assert_eq!(out.unscaled.row(0).to_vec(), [7.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(out.unscaled.row(1).to_vec(), [8.0, 0.0, 1.0, 0.0, 2.0]);

    let missing = new.drop_columns(&["bytes"]);
    assert!(matches!(fit.prep.transform(&missing), Err(PrepError::MissingColumn { name }) if name == "bytes"));
    let mut wrong = new.clone();
    wrong.set_column(Column::from_str_opt("bytes", [Some("a"), Some("b")])).unwrap();
    assert!(matches!(fit.prep.transform(&wrong), Err(PrepError::WrongType { name, .. }) if name == "bytes"));
    let mut wrong = new.clone();
    wrong.set_column(Column::from_f64("proto", vec![6.0, 17.0])).unwrap();
    assert!(matches!(fit.prep.transform(&wrong), Err(PrepError::WrongType { name, .. }) if name == "proto"));
    // An integer column where a float was fitted is the same kind: accepted.
    let mut ints = new.clone();
    ints.set_column(Column::from_i64_opt("bytes", [Some(7), Some(8)])).unwrap();
    assert_eq!(fit.prep.transform(&ints).unwrap().unscaled, out.unscaled);
    // Zero rows in: zero rows out.
    let empty = new.take_rows(&[]);
    assert_eq!(fit.prep.transform(&empty).unwrap().scaled.nrows(), 0);
}

#[test]
fn ports_are_one_hot_encoded_when_asked() {
    let t = Table::new(vec![
        Column::from_i64_opt("id.resp_p", [Some(443), Some(80), Some(51234), Some(443), None, Some(22)]),
        Column::from_f64("bytes", vec![1.0, 2.0, 3.0, 40.0, 5.0, 6.0]),
    ])
    .unwrap();
    let mut cfg = PrepParams::default();
    cfg.ports.enabled = true;
    cfg.selection.low_variance = None;
    cfg.selection.correlation = None;
    let fit = cfg.fit(&t).unwrap();
    assert_eq!(fit.report.features, ["id.resp_p=22", "id.resp_p=80", "id.resp_p=443", "id.resp_p=other", "bytes"]);
    assert_eq!(fit.output.unscaled.row(2).to_vec(), [0.0, 0.0, 0.0, 1.0, 3.0]);
    assert_eq!(fit.output.unscaled.row(4).to_vec(), [0.0, 0.0, 0.0, 1.0, 5.0]);
    // Without port encoding the port is an identifier.
    let fit = PrepParams { selection: cfg.selection.clone(), ..Default::default() }.fit(&t).unwrap();
    assert_eq!(fit.report.features, ["bytes"]);
}

#[test]
fn addresses_ports_and_times_of_unnamed_flow_exports_are_identifiers() {
    // A Joy / NetFlow-style export (LUFlow's columns, UNSW-NB15's `dsport`): addresses as integers,
    // ports, epoch times.
    let n = 6;
    let t = Table::new(vec![
        Column::from_f64("src_ip", (0..n).map(|i| 3232235777.0 + i as f64).collect()),
        Column::from_f64(" Dest_IP", (0..n).map(|i| 167772161.0 * (i % 3) as f64).collect()),
        Column::from_i64_opt("src_port", (0..n).map(|i| Some(40000 + i as i64))),
        Column::from_i64_opt("dsport", (0..n).map(|i| Some([53, 80, 25][i % 3]))),
        Column::from_i64_opt("dest_port", (0..n).map(|i| Some([443, 80, 22][i % 3]))),
        Column::from_f64("time_start", (0..n).map(|i| 1.594e9 + i as f64).collect()),
        Column::from_f64("bytes_in", vec![1.0, 20.0, 3.0, 400.0, 5.0, 60.0]),
        Column::from_f64("duration", vec![0.5, 2.0, 0.1, 9.0, 0.3, 1.0]),
        // Labels under the names of labeled flow sets: carried, never features.
        Column::from_i64_opt("class", (0..n).map(|i| Some((i == 3) as i64))),
        Column::from_str_opt("category", (0..n).map(|i| Some(if i == 3 { "DDoS" } else { "Normal" }))),
    ])
    .unwrap();
    let mut cfg = PrepParams::auto_detection(&t);
    cfg.selection.correlation = None;
    let fit = cfg.fit(&t).unwrap();
    assert_eq!(fit.report.features, ["bytes_in", "duration"]);
    assert_eq!(fit.output.carried.names(), ["class", "category"]);
}

#[test]
fn zeek_sample_keeps_unset_flows_and_carries_labels() {
    let t = read_table(data("../../examples/data/ctu-mixed-008.conn.log.labeled"), &ReadOptions::default()).unwrap();
    let cfg = PrepParams::auto(&t);
    assert_eq!(cfg.preset, Family::Zeek);
    let fit = cfg.fit(&t).unwrap();
    assert_eq!(fit.output.kept.len(), 5663);
    let missing = fit.report.step(Step::Missing).unwrap();
    assert_eq!(missing.rows_removed, 0);
    assert!(missing.imputed.iter().any(|i| i.column == "duration" && i.count > 0 && i.value == 0.0));
    for id in ["ts", "uid", "id.orig_h", "id.resp_p"] {
        assert!(fit.report.step(Step::Identifiers).unwrap().columns_removed.iter().any(|c| c.column == id));
    }
    assert!(!fit.report.features.iter().any(|f| f.contains("label")));
    assert_eq!(fit.output.carried.names(), ["label", "detailedlabel"]);
    assert_eq!(fit.prep.carried_columns(), ["label", "detailedlabel"]);
    assert!(fit.report.pca.as_ref().unwrap().components_95 >= 1);
    // The same log without its label columns transforms identically (labels are not needed to score).
    let unlabeled = t.drop_columns(&["label", "detailedlabel"]);
    assert_eq!(fit.prep.transform(&unlabeled).unwrap().scaled, fit.output.scaled);
    // With the drop-row policy the unset flows would be lost.
    let mut seed_like = cfg.clone();
    seed_like.missing.columns.clear();
    let strict = seed_like.fit(&t).unwrap();
    assert!(strict.output.kept.len() < 5663);
}

#[test]
fn kdd_excerpt_and_one_hot_with_cardinality_guard() {
    let t = read_table(data("tests/fixtures/nsl-kdd-train20-head60.txt"), &ReadOptions::default()).unwrap();
    let mut cfg = PrepParams::auto(&t);
    assert_eq!(cfg.preset, Family::Kdd);
    cfg.categorical.encoding = Encoding::OneHot;
    cfg.categorical.top_k = 4;
    let fit = cfg.fit(&t).unwrap();
    let added = &fit.report.step(Step::Categorical).unwrap().columns_added;
    assert!(added.iter().any(|c| c == "service=other"));
    assert_eq!(added.iter().filter(|c| c.starts_with("service=")).count(), 5);
    assert!(!fit.report.candidates.iter().any(|c| c == "label" || c == "difficulty"));
    assert_eq!(fit.output.carried.names(), ["label", "difficulty"]);
    assert!(fit.report.leakage.iter().all(|l| l.label == "label"));
}

#[test]
fn pruned_columns_are_checked_when_present_but_not_required() {
    let a: Vec<f64> = (0..20).map(|i| (i * i % 17) as f64).collect();
    let b: Vec<f64> = a.iter().map(|v| v * 2.0 + 1.0).collect(); // duplicate of a: pruned
    let c: Vec<f64> = (0..20).map(|i| ((i * 7) % 5) as f64).collect();
    let t =
        Table::new(vec![Column::from_f64("a", a.clone()), Column::from_f64("b", b), Column::from_f64("c", c.clone())])
            .unwrap();
    let fit = PrepParams::default().fit(&t).unwrap();
    assert_eq!(fit.report.features, ["a", "c"]);
    assert_eq!(fit.prep.required_columns(), ["a", "c"]);
    assert_eq!(fit.prep.checked_columns(), ["a", "b", "c"]);
    // Without the pruned column: fine.
    let without = t.drop_columns(&["b"]);
    assert_eq!(fit.prep.transform(&without).unwrap().scaled, fit.output.scaled);
    // With it, its values are still checked, as at fit time.
    let mut bad = t.clone();
    let mut b2: Vec<Option<f64>> = (0..20).map(|i| Some(i as f64)).collect();
    b2[3] = Some(f64::NAN);
    bad.set_column(Column::from_f64_opt("b", b2)).unwrap();
    let out = fit.prep.transform(&bad).unwrap();
    assert_eq!(out.rows[3].rejection().unwrap().to_string(), "non-finite value (NaN) in 'b'");
    // A required column stays required.
    assert!(matches!(fit.prep.transform(&t.drop_columns(&["c"])), Err(PrepError::MissingColumn { .. })));
}

/// A level literally named `other` (KDD's `service`) does not collide with the catch-all column.
#[test]
fn a_level_named_other_keeps_the_catch_all_distinct() {
    use outflow_io::{Column, Table};
    use outflow_prep::{Encoding, PrepParams};
    let services = ["http", "other", "other", "smtp", "ftp", "http", "other", "domain_u"];
    let t = Table::new(vec![
        Column::from_str_opt("service", services.iter().map(|s| Some(*s))),
        Column::from_f64("bytes", (0..8).map(|i| i as f64 * 10.0).collect()),
    ])
    .unwrap();
    let mut c = PrepParams::default();
    c.categorical.encoding = Encoding::OneHot;
    c.categorical.top_k = 2;
    c.selection.correlation = None;
    c.selection.low_variance = None;
    let fit = c.fit(&t).unwrap();
    let f = &fit.report.features;
    assert!(f.contains(&"service=other".to_string()) && f.contains(&"service=(other)".to_string()), "{f:?}");
}

#[test]
fn categoricals_encode_by_rarity_alone_or_beside_one_hot() {
    let train = Table::new(vec![
        Column::from_f64("bytes", vec![1.0, 50.0, 3.0, 400.0, 5.0, 9.0]),
        Column::from_str_opt("proto", [Some("tcp"), Some("udp"), Some("tcp"), Some("icmp"), Some("tcp"), None]),
    ])
    .unwrap();
    let mut cfg = PrepParams::default();
    cfg.categorical.top_k = 1;
    cfg.selection.correlation = None;
    cfg.selection.low_variance = None;
    let (common, once) = ((6.0f64 / 3.0).ln(), 6.0f64.ln());
    let new = Table::new(vec![
        Column::from_f64("bytes", vec![7.0, 8.0, 9.0]),
        Column::from_str_opt("proto", [Some("sctp"), Some("udp"), Some("tcp")]),
    ])
    .unwrap();

    cfg.categorical.encoding = Encoding::Rarity;
    let fit = cfg.fit(&train).unwrap();
    assert_eq!(fit.report.features, ["bytes", "rarity(proto)"]);
    let column: Vec<f64> = fit.output.unscaled.column(1).to_vec();
    assert_eq!(column, [common, once, common, once, common, once], "the unset level counts as a level");
    // Unseen levels score as a level seen once; the fitted table survives serialisation.
    let saved: Prep = serde_json::from_str(&serde_json::to_string(&fit.prep).unwrap()).unwrap();
    let out = saved.transform(&new).unwrap();
    assert_eq!(out.unscaled.column(1).to_vec(), [once, once, common]);

    cfg.categorical.encoding = Encoding::OneHotRarity;
    let fit = cfg.fit(&train).unwrap();
    assert_eq!(fit.report.features, ["bytes", "proto=tcp", "proto=other", "rarity(proto)"]);
    let out = fit.prep.transform(&new).unwrap();
    assert_eq!(out.unscaled.row(0).to_vec(), [7.0, 0.0, 1.0, once]);
    assert_eq!(out.unscaled.row(2).to_vec(), [9.0, 1.0, 0.0, common]);
}

#[test]
fn kept_features_survive_every_selection_step() {
    let train = Table::new(vec![
        Column::from_f64("bytes", vec![1.0, 50.0, 3.0, 400.0, 5.0, 9.0]),
        Column::from_f64("bytes_copy", vec![2.0, 100.0, 6.0, 800.0, 10.0, 18.0]),
        Column::from_f64("score", vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.001]),
        Column::from_f64("flat", vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.001]),
    ])
    .unwrap();
    let cfg = PrepParams::default();
    let pruned = cfg.fit(&train).unwrap().report.features;
    assert!(!pruned.contains(&"score".to_owned()) && pruned.len() == 1, "{pruned:?}");
    let mut keep = PrepParams::default();
    keep.selection.keep = vec!["score".into(), "bytes_c*".into()];
    let kept = keep.fit(&train).unwrap().report.features;
    // The named ones stay; the unnamed constant and nothing else goes.
    assert!(kept.contains(&"score".to_owned()) && kept.contains(&"bytes_copy".to_owned()), "{kept:?}");
    assert!(!kept.contains(&"flat".to_owned()), "{kept:?}");
}
