//! Bad input is a typed error, never a panic.

use ndarray::{Array2, array};
use outflow_io::{Column, Table};
use outflow_outlier::benchmark::{BenchmarkParams, LabelRule, benchmark, parse_detectors};
use outflow_outlier::{
    Algorithm, Fit, IForestParams, InputError, KnnParams, LofParams, OutlierError, OutlierModel, ScoreSamples,
    contamination_threshold,
};

#[test]
fn empty_and_non_finite_input() {
    for name in Algorithm::NAMES {
        let d = Algorithm::preset(name, 0).unwrap();
        let e = d.fit(Array2::<f64>::zeros((0, 3)).view()).unwrap_err();
        assert!(matches!(e, OutlierError::Input(InputError::Empty { .. })), "{name}: {e}");
        let mut x = Array2::from_shape_fn((30, 2), |(i, j)| (i * 3 + j) as f64);
        x[[4, 1]] = f64::NAN;
        let e = d.fit(x.view()).unwrap_err();
        assert!(matches!(e, OutlierError::Input(InputError::NonFinite { row: 4, col: 1, .. })), "{name}: {e}");
        x[[4, 1]] = 1.0;
        let m = d.fit(x.view()).unwrap();
        let e = m.score_samples(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(matches!(e, OutlierError::Input(InputError::WidthMismatch { expected: 2, found: 3 })), "{name}: {e}");
        let e = m.score_samples(array![[1.0, f64::INFINITY]].view()).unwrap_err();
        assert!(matches!(e, OutlierError::Input(InputError::NonFinite { .. })), "{name}: {e}");
        assert!(m.score_samples(Array2::<f64>::zeros((0, 2)).view()).unwrap().is_empty(), "{name}");
    }
}

#[test]
fn parameters_and_contamination() {
    let x = Array2::from_shape_fn((6, 2), |(i, j)| (i * 2 + j) as f64);
    for k in [6, 7] {
        assert!(matches!(
            KnnParams { n_neighbors: k, ..Default::default() }.fit(x.view()),
            Err(OutlierError::Input(InputError::TooFewRows { .. }))
        ));
        assert!(matches!(
            LofParams { n_neighbors: k, ..Default::default() }.fit(x.view()),
            Err(OutlierError::Input(InputError::TooFewRows { .. }))
        ));
    }
    assert!(KnnParams { n_neighbors: 0, ..Default::default() }.fit(x.view()).is_err());
    assert!(IForestParams { n_estimators: 0, ..Default::default() }.fit(x.view()).is_err());
    assert!(IForestParams { max_features: 1.5, ..Default::default() }.fit(x.view()).is_err());
    let m = IForestParams::default().fit(x.view()).unwrap();
    for c in [0.0, -0.1, 0.51, f64::NAN] {
        assert!(matches!(m.threshold(c), Err(OutlierError::Input(InputError::InvalidParameter { .. }))), "{c}");
        assert!(m.predict(x.view(), c).is_err());
    }
    assert!(m.threshold(0.5).is_ok());
    assert!(contamination_threshold(&[], 0.1).is_err());
    assert!(parse_detectors("iforest,nope", 0).is_err());
    assert!(parse_detectors(" , ", 0).is_err());
}

#[test]
fn benchmark_refusals() {
    let n = 40;
    let t = Table::new(vec![
        Column::from_f64("bytes", (0..n).map(|i| (i * 37 % 11) as f64).collect()),
        Column::from_f64("pkts", (0..n).map(|i| (i % 5) as f64).collect()),
        Column::from_str_opt("label", (0..n).map(|i| Some(if i % 10 == 0 { "attack" } else { "normal" }))),
    ])
    .unwrap();
    let run = |rule: LabelRule, c: Option<f64>| {
        let mut cfg = BenchmarkParams::new(rule, 1);
        cfg.contamination = c;
        cfg.detectors = parse_detectors("iforest,ecod", 1).unwrap();
        benchmark(&t, &cfg)
    };
    // single class
    let e = run(LabelRule::positive("label", "nothing-matches"), None).unwrap_err();
    assert!(matches!(e, OutlierError::Labels(_)), "{e}");
    let e = run(LabelRule::negative("label", "nothing-matches"), None).unwrap_err();
    assert!(matches!(e, OutlierError::Labels(_)), "{e}");
    // unknown column, bad contamination
    assert!(matches!(run(LabelRule::positive("nope", "attack"), None), Err(OutlierError::Labels(_))));
    assert!(matches!(
        run(LabelRule::positive("label", "attack"), Some(0.7)),
        Err(OutlierError::Input(InputError::InvalidParameter { .. }))
    ));
    // fine: labels never become features, negatives all kept, case-insensitive column
    let r = run(LabelRule::negative("LABEL", "normal."), Some(0.05)).unwrap();
    assert_eq!(r.negatives, 36);
    assert_eq!(r.positives, 2); // round(0.05 · 36 / 0.95) = 2
    assert!(!r.features.iter().any(|f| f.eq_ignore_ascii_case("label")));
    assert!(r.results.iter().all(|d| d.error.is_none() && d.roc_auc.is_some()));
}
