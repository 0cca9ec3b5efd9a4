//! The detector end to end on the shipped sample: fit, scores, thresholds, model file, bad input.

use std::path::PathBuf;

use outflow::io::{Column, Table};
use outflow::prep::PrepError;
use outflow::{
    ArtifactError, Detector, DetectorParams, InputError, OutflowError, ReadOptions, Severity, WriteError, read_table,
};

fn sample() -> Table {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled");
    read_table(p, &ReadOptions::default()).unwrap()
}

#[test]
fn fit_scores_every_record_with_frozen_thresholds() {
    let t = sample();
    let fit = DetectorParams::default().fit(&t).unwrap();
    assert_eq!(fit.flows.len(), t.n_rows());
    assert!(fit.flows.iter().enumerate().all(|(i, f)| f.row == i));
    let n = fit.flows.len() as f64;
    let severe = fit.flows.iter().filter(|f| f.severity == Severity::Severe).count() as f64;
    let flagged = fit.flows.iter().filter(|f| f.severity.is_anomaly()).count() as f64;
    assert!((severe / n - 0.01).abs() < 0.005, "severe share {}", severe / n);
    assert!((flagged / n - 0.05).abs() < 0.01, "flagged share {}", flagged / n);
    let s = &fit.summary;
    assert!(s.thresholds.moderate <= s.thresholds.severe);
    assert!(!s.clusters.is_empty());
    assert!(fit.flows.iter().all(|f| f.outlier_score.is_some_and(|x| (0.0..=1.0).contains(&x))));
}

#[test]
fn saved_model_reproduces_the_fit() {
    let t = sample();
    let fit = DetectorParams::default().fit(&t).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    fit.detector.save(&path, false).unwrap();
    assert!(matches!(fit.detector.save(&path, false), Err(OutflowError::Write(WriteError::Exists(_)))));
    let loaded = Detector::load(&path).unwrap();
    let again = loaded.score(&t).unwrap();
    for (a, b) in fit.flows.iter().zip(&again) {
        if a.probability == Some(1.0) {
            assert_eq!(a.cluster, b.cluster, "core point {} changed cluster", a.row);
        }
        let (x, y) = (a.outlier_score.unwrap(), b.outlier_score.unwrap());
        assert!((x - y).abs() < 1e-12, "row {}: score {x} at fit, {y} when scored again", a.row);
        assert_eq!(a.severity, b.severity);
    }
}

#[test]
fn every_outlier_detector_and_clusterer_survives_the_model_file() {
    // Each signal and each clusterer saved and loaded scores the sample as at fit time.
    let t = sample();
    let mut setups: Vec<DetectorParams> = outflow::outlier::Algorithm::NAMES
        .iter()
        .filter(|n| !["glosh", "cluster_rarity", "lof", "knn", "knn_mean", "knn_median"].contains(n))
        .map(|n| {
            let signal = outflow::Signal::Detector(outflow::outlier::Algorithm::preset(n, 1).unwrap());
            let scoring = outflow::ScoringParams { signals: vec![signal], ..Default::default() };
            DetectorParams { scoring, max_fit_rows: 1500, ..Default::default() }
        })
        .collect();
    for name in outflow::cluster::Algorithm::NAMES {
        let mut clustering = outflow::cluster::Algorithm::by_name(name).unwrap();
        if clustering.required().contains(&"k") {
            clustering.set("k", "4").unwrap();
        }
        setups.push(DetectorParams { clustering, max_fit_rows: 1500, ..Default::default() });
    }
    for params in setups {
        let fit = params.fit(&t).unwrap();
        let what = format!(
            "{} / {:?}",
            params.clustering.name(),
            params.scoring.signals.iter().map(outflow::Signal::name).collect::<Vec<_>>()
        );
        let loaded = Detector::from_bytes(&fit.detector.to_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
        let again = loaded.score(&t).unwrap();
        // ECOD and COPOD (also inside the fusion presets) score new rows together with the batch they
        // come in (PyOD's definition), so only their range is fixed.
        let batch_dependent = ["ecod", "copod", "fusion"].iter().any(|n| what.contains(n));
        for (a, b) in fit.flows.iter().zip(&again) {
            if batch_dependent {
                assert!(b.outlier_score.is_some_and(|s| (0.0..=1.0).contains(&s)), "{what}: row {}", a.row);
            } else {
                assert_eq!(a.outlier_score, b.outlier_score, "{what}: row {}", a.row);
            }
        }
    }
}

#[test]
fn bad_model_files_and_inputs_fail_clearly() {
    let t = sample();
    let fit = DetectorParams::default().fit(&t).unwrap();
    let bytes = fit.detector.to_bytes();
    // Corrupted body.
    let mut bad = bytes.clone();
    let k = bad.len() - 100;
    bad[k] ^= 1;
    assert!(matches!(Detector::from_bytes(&bad), Err(ArtifactError::Checksum)));
    // Truncated.
    assert!(matches!(Detector::from_bytes(&bytes[..bytes.len() / 2]), Err(ArtifactError::Length { .. })));
    // Newer format.
    let text = String::from_utf8(bytes.clone()).unwrap().replacen("\"format_version\":2", "\"format_version\":99", 1);
    let e = Detector::from_bytes(text.as_bytes()).unwrap_err();
    assert!(matches!(e, ArtifactError::NewerVersion { found: 99, .. }), "{e}");
    let text = String::from_utf8(bytes.clone()).unwrap().replacen("\"format_version\":2", "\"format_version\":0", 1);
    assert!(matches!(Detector::from_bytes(text.as_bytes()), Err(ArtifactError::Header(_))));
    // Not a model.
    assert!(matches!(Detector::from_bytes(b"hello\nworld"), Err(ArtifactError::NotAModel(_))));
    // A column missing at scoring time.
    let missing = t.drop_columns(&["orig_bytes"]);
    let err = fit.detector.score(&missing).unwrap_err();
    assert!(matches!(&err, OutflowError::Prep(PrepError::MissingColumn { name }) if name == "orig_bytes"), "{err}");
    // An empty table.
    let empty = Table::new(vec![Column::from_f64("x", vec![])]).unwrap();
    let e = DetectorParams::default().fit(&empty).unwrap_err();
    assert!(matches!(e, OutflowError::Input(InputError::Empty { .. })), "{e}");
}

/// A model file written by format version 1 (HDBSCAN only, before the detector took any clusterer)
/// loads and scores new flows exactly as the version that wrote it did.
#[test]
fn a_version_1_model_still_scores_identically() {
    use std::io::Read;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model-v1");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dir.join("model.json.gz")).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    let detector = Detector::from_bytes(&bytes).unwrap();
    assert_eq!(detector.summary().clustering.name(), "hdbscan");
    // Flows 3001–3400 of the sample log, as the fixture was scored.
    let log = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/ctu-mixed-008.conn.log.labeled"),
    )
    .unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let new = [&lines[..8], &lines[3008..3408]].concat().join("\n") + "\n";
    let (table, _) =
        outflow::io::read_input(&outflow::io::Input::bytes("new.conn.log", new), &ReadOptions::default()).unwrap();
    let flows = detector.score(&table).unwrap();
    let expected = std::fs::read_to_string(dir.join("expected-scores.csv")).unwrap();
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    let got: Vec<String> = flows
        .iter()
        .map(|f| {
            let cluster = f.cluster.map_or(String::new(), |c| c.to_string());
            let reason = f.reason.clone().unwrap_or_default();
            format!(
                "{},{cluster},{},{},{},{reason}",
                f.row,
                opt(f.probability),
                opt(f.outlier_score),
                f.severity.name()
            )
        })
        .collect();
    let want: Vec<&str> = expected.lines().skip(1).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    // Its header still reads, and re-saving writes the current format.
    let again = Detector::from_bytes(&detector.to_bytes()).unwrap();
    assert_eq!(again.score(&table).unwrap(), flows);
}

#[test]
fn host_and_pair_scores_join_the_behaviour_evidence_and_survive_the_model_file() {
    use outflow::{Evidence, Level};
    let t = sample();
    assert!(DetectorParams::default().fit(&t).unwrap().detector.scorer().evidence().is_empty());
    for level in [Level::Host, Level::Pair] {
        let fit = DetectorParams { level, ..DetectorParams::default() }.fit(&t).unwrap();
        assert_eq!(fit.detector.scorer().evidence(), Evidence::ALL, "{level}");
        let e = fit.entities.as_ref().unwrap();
        // The row holding the strongest beacon evidence scores in the top rank, whatever the model says.
        let beacon = |r: usize| match level {
            Level::Pair => e.value("beacon_score", r).unwrap() / e.value("beacon_peers", r).unwrap().max(1.0),
            _ => e.value("beacon_max", r).unwrap(),
        };
        let top = (0..e.len()).max_by(|&a, &b| beacon(a).total_cmp(&beacon(b))).unwrap();
        let n = e.len() as f64;
        assert!(fit.flows[top].outlier_score.unwrap() >= (1.0 - 1e-3) * (1.0 - 0.5 / n), "{level}");
        // Saved and loaded, the model aggregates and scores the log as at fit time.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        fit.detector.save(&path, false).unwrap();
        let again = Detector::load(&path).unwrap().score_log(&t).unwrap();
        for (a, b) in fit.flows.iter().zip(&again.scores) {
            let (x, y) = (a.outlier_score.unwrap(), b.outlier_score.unwrap());
            assert!((x - y).abs() < 1e-12, "{level} row {}: {x} at fit, {y} scored again", a.row);
        }
    }
}

#[test]
fn defaults_follow_the_log_family_and_are_saved_explicitly() {
    use outflow::prep::Encoding;
    use outflow::{Level, Scorer};
    let names = |s: &Scorer| s.params().signals.iter().map(|s| s.name()).collect::<Vec<_>>();
    // Zeek: the detection preparation (one-hot categoricals, log1p) and Isolation Forest + PCA.
    let t = sample();
    let fit = DetectorParams::default().fit(&t).unwrap();
    assert_eq!(names(fit.detector.scorer()), ["iforest", "pca"]);
    let prep = fit.detector.params().prep.as_ref().unwrap();
    assert_eq!(prep.categorical.encoding, Encoding::OneHot);
    assert_eq!(prep.log1p, ["*"]);
    assert!(fit.summary.features.iter().any(|f| f.starts_with("conn_state=")), "{:?}", fit.summary.features);
    assert_eq!(fit.detector.params().scoring.signals.len(), 2, "the model file names the signals it used");
    let zeek = outflow::FamilyDefaults { family: outflow::io::Family::Zeek, preparation: true, signals: true };
    assert_eq!(fit.summary.defaults, Some(zeek));
    // A table of no known family: the Isolation Forest and the PCA reconstruction error.
    let n = 300;
    let col = |name: &str, k: usize| Column::from_f64(name, (0..n).map(|i| ((i * k) % 97) as f64).collect());
    let generic = Table::new(vec![col("a", 7), col("b", 13), col("c", 31)]).unwrap();
    let fit = DetectorParams::default().fit(&generic).unwrap();
    assert_eq!(names(fit.detector.scorer()), ["iforest", "pca_reconstruction"]);
    // CICFlowMeter columns: the same pair.
    let cic = Table::new(vec![col("Flow Duration", 7), col("Total Fwd Packets", 13), col("Flow Bytes/s", 31)]).unwrap();
    let fit = DetectorParams::default().fit(&cic).unwrap();
    assert_eq!(names(fit.detector.scorer()), ["iforest", "pca_reconstruction"]);
    assert_eq!(fit.summary.defaults.map(|d| d.family), Some(outflow::io::Family::Cic));
    // Host rows: the three signals the behaviour evidence was measured with.
    let fit = DetectorParams { level: Level::Host, ..Default::default() }.fit(&t).unwrap();
    assert_eq!(names(fit.detector.scorer()), ["iforest", "pca", "pca_mahalanobis"]);
    // Signals given are kept.
    let params = DetectorParams {
        scoring: outflow::ScoringParams { signals: vec!["ecod".parse().unwrap()], ..Default::default() },
        ..Default::default()
    };
    let fit = params.fit(&generic).unwrap();
    assert_eq!(names(fit.detector.scorer()), ["ecod"]);
    let chosen = outflow::FamilyDefaults { family: outflow::io::Family::Generic, preparation: true, signals: false };
    assert_eq!(fit.summary.defaults, Some(chosen));
    // Everything given: nothing to report.
    let given = DetectorParams { prep: fit.detector.params().prep.clone(), ..params };
    assert_eq!(given.fit(&generic).unwrap().summary.defaults, None);
}

#[test]
fn scorers_fit_on_a_larger_sample_than_the_clustering() {
    // The clustering on 800 rows, the scorers (GLOSH included: its rows outside the clustering's sample
    // take their approximate GLOSH score) on 3,000 rows holding those 800.
    let t = sample();
    let (fit_n, score_n, seed) = (800, 3000, 42);
    let scoring = outflow::ScoringParams {
        signals: vec![outflow::Signal::Glosh, "iforest".parse().unwrap()],
        ..Default::default()
    };
    let params = DetectorParams { scoring, max_fit_rows: fit_n, max_score_rows: score_n, seed, ..Default::default() };
    let fit = params.fit(&t).unwrap();
    let n = fit.prepared.kept.len();
    assert_eq!((fit.summary.rows_fitted, fit.summary.rows_fitted_scorers), (fit_n, score_n));
    // Severity thresholds are percentiles of the scorers' 3,000 rows.
    let score_rows = outflow::sample_indices(n, score_n, seed);
    let severe = score_rows.iter().filter(|&&k| fit.flows[fit.prepared.kept[k]].severity == Severity::Severe).count();
    assert!((20..=40).contains(&severe), "{severe} severe of {score_n}");
    // Every row outside the clustering's sample is scored as the saved model scores it.
    let fit_rows: Vec<usize> =
        outflow::sample_indices(score_n, fit_n, seed).into_iter().map(|i| score_rows[i]).collect();
    let again = Detector::from_bytes(&fit.detector.to_bytes()).unwrap().score(&t).unwrap();
    let mut compared = 0;
    for k in (0..n).filter(|k| fit_rows.binary_search(k).is_err()) {
        let r = fit.prepared.kept[k];
        assert_eq!(fit.flows[r].outlier_score, again[r].outlier_score, "row {r}");
        assert_eq!(fit.flows[r].cluster, again[r].cluster, "row {r}");
        compared += 1;
    }
    assert_eq!(compared, n - fit_n);
    // The scorers' sample may not be smaller than the clustering's.
    let bad = DetectorParams { max_fit_rows: 1000, max_score_rows: 999, ..Default::default() };
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("max_score_rows") && e.contains("1000"), "{e}");
}

#[test]
fn prepared_rows_score_as_the_table() {
    let t = sample();
    let fit = DetectorParams::default().fit(&t).unwrap();
    let prepared = fit.detector.prep().transform(&t).unwrap();
    assert_eq!(fit.detector.score_prepared_rows(&prepared).unwrap(), fit.detector.score(&t).unwrap());
    let hosts = DetectorParams { level: outflow::Level::Host, ..Default::default() }.fit(&t).unwrap();
    assert!(matches!(hosts.detector.score_prepared_rows(&hosts.prepared), Err(OutflowError::Input(_))));
}

/// An unset `min_samples` is 10 at most `min_cluster_size`; a value given is kept, at most the rows, and
/// 0 is an error, not 1.
#[test]
fn a_given_min_samples_is_kept() {
    use outflow::cluster::{Algorithm, HdbscanParams};
    let with = |mcs, ms| DetectorParams {
        clustering: Algorithm::Hdbscan(HdbscanParams {
            min_cluster_size: mcs,
            min_samples: ms,
            ..outflow::auto_hdbscan()
        }),
        ..DetectorParams::default()
    };
    let sizes = |p: DetectorParams, n| match p.resolve(n) {
        Algorithm::Hdbscan(h) => (h.min_cluster_size, h.min_samples),
        other => panic!("{other:?}"),
    };
    assert_eq!(sizes(with(0, None), 100_000), (1000, Some(10)));
    assert_eq!(sizes(with(5, None), 100_000), (5, Some(5)));
    assert_eq!(sizes(with(10, Some(20)), 100_000), (10, Some(20)));
    assert_eq!(sizes(with(10, Some(500)), 300), (10, Some(300)));
    assert!(with(10, Some(0)).validate().is_err());
    assert!(with(10, Some(20)).validate().is_ok());
}

/// A fit without a cluster has no DBCV (it was reported as 0).
#[test]
fn a_fit_without_clusters_has_no_dbcv() {
    use outflow::cluster::{Algorithm, HdbscanParams};
    let t = sample();
    let hdbscan = HdbscanParams { min_cluster_size: 1_000_000, ..outflow::auto_hdbscan() };
    let fit = DetectorParams { clustering: Algorithm::Hdbscan(hdbscan), ..DetectorParams::default() }.fit(&t).unwrap();
    assert!(fit.summary.clusters.is_empty());
    assert_eq!(fit.summary.dbcv, None);
}
