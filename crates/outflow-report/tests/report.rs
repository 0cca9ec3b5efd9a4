//! The report of real run directories: the numbers behind each figure, the files, determinism, errors.

mod common;

use std::collections::BTreeSet;

use outflow::run::RunDirError;
use outflow::{DetectorParams, OutflowError};
use outflow_report::{Kind, ReportData, ReportError, ReportOptions, RunDir, render_report, write_report};

const FIGURES: [&str; 20] = [
    "pca-clusters",
    "score-map",
    "probability-map",
    "tsne-clusters",
    "tsne-scores",
    "umap-clusters",
    "umap-scores",
    "score-histogram",
    "cluster-sizes",
    "condensed-tree",
    "silhouette",
    "cluster-distances",
    "elbow",
    "silhouette-k",
    "gap",
    "correlation",
    "importance",
    "shap",
    "entity-bytes",
    "beacon-intervals",
];

fn sample_run() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    common::write_run_dir_all_levels(&dir, &common::sample_table(), &DetectorParams::default());
    (tmp, dir)
}

#[test]
fn figure_data_match_the_run_directory() {
    let (_tmp, dir) = sample_run();
    let run = RunDir::read(&dir).unwrap();
    let opts = ReportOptions::default();
    let data = ReportData::compute(&run, &opts).unwrap();
    let scored = run.summary.rows_kept;
    let s = &run.sample;

    // Histogram: every scored flow counted once; threshold lines at summary.json's values.
    assert_eq!(run.scores.scores.len(), scored);
    assert_eq!(data.histogram.total(), scored);
    assert_eq!(data.histogram.counts.len(), 50);
    assert_eq!(data.thresholds, (run.summary.thresholds.moderate, run.summary.thresholds.severe));
    assert_eq!(data.percentiles, (95.0, 99.0));
    let figs = data.figures(&run);
    let ids: Vec<&str> = figs.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, FIGURES);
    let Kind::Histogram(h) = &figs[7].kind else { panic!("histogram expected") };
    let lines: Vec<f64> = h.lines.iter().map(|l| l.value).collect();
    assert_eq!(lines, vec![run.summary.thresholds.moderate, run.summary.thresholds.severe]);
    assert_eq!(h.lines[0].tag, "p95");
    assert_eq!(h.lines[1].tag, "p99");

    // Cluster sizes: from clusters.json, all scored flows, percentages summing to 100.
    assert_eq!(data.sizes.iter().map(|b| b.size).sum::<usize>(), scored);
    assert!((data.sizes.iter().map(|b| b.percent).sum::<f64>() - 100.0).abs() < 1e-9);
    assert_eq!(data.sizes.len(), run.summary.clusters.len() + 1); // the sample log has noise
    assert_eq!(data.sizes[0].label, -1);

    // Scatter plots: a seeded sample of the sample, as many points as the page says.
    assert_eq!(s.len(), 5000);
    assert_eq!(data.shown.len(), opts.max_scatter_points);
    assert_eq!(data.projection.points.len(), s.len());
    for f in &figs[..3] {
        match &f.kind {
            Kind::ClusterScatter(c) => {
                assert_eq!((c.points.len(), c.labels.len(), c.severity.len()), (3000, 3000, 3000));
                let anomalies = data.shown.iter().filter(|&&i| s.is_anomaly(i)).count();
                assert_eq!(c.severity.iter().filter(|&&v| v > 0).count(), anomalies);
            }
            Kind::ValueMap(v) => assert_eq!((v.points.len(), v.values.len()), (3000, 3000)),
            _ => panic!("scatter expected"),
        }
    }
    // t-SNE maps: a seeded sample of the shown flows, by cluster and by score.
    let tsne = data.tsne.as_ref().unwrap();
    assert_eq!((tsne.rows.len(), tsne.points.len()), (opts.tsne_points, opts.tsne_points));
    assert!(tsne.rows.iter().all(|r| data.shown.binary_search(r).is_ok()));
    assert!(tsne.points.iter().flatten().all(|v| v.is_finite()));
    match (&figs[3].kind, &figs[4].kind) {
        (Kind::ClusterScatter(c), Kind::ValueMap(v)) => {
            assert_eq!(c.labels, tsne.rows.iter().map(|&i| s.cluster[i]).collect::<Vec<_>>());
            assert_eq!(v.values, tsne.rows.iter().map(|&i| s.outlier_score[i]).collect::<Vec<_>>());
            assert!(c.note.contains("t-SNE of 2,000 of 5,000 sampled flows"), "{}", c.note);
        }
        _ => panic!("t-SNE maps expected"),
    }
    // UMAP maps: the same flows.
    let umap = data.umap.as_ref().unwrap();
    assert_eq!(umap.rows, tsne.rows);
    assert!(umap.points.iter().flatten().all(|v| v.is_finite()));
    match (&figs[5].kind, &figs[6].kind) {
        (Kind::ClusterScatter(c), Kind::ValueMap(v)) => {
            assert_eq!(c.labels, umap.rows.iter().map(|&i| s.cluster[i]).collect::<Vec<_>>());
            assert_eq!(v.values, umap.rows.iter().map(|&i| s.outlier_score[i]).collect::<Vec<_>>());
            assert!(c.note.contains("UMAP of 2,000 of 5,000 sampled flows (neighbours 15)"), "{}", c.note);
        }
        _ => panic!("UMAP maps expected"),
    }
    let off = ReportData::compute(&run, &ReportOptions { tsne_points: 0, umap_points: 0, ..opts.clone() }).unwrap();
    assert!(off.tsne.is_err() && off.umap.is_err());
    assert!(off.umap.unwrap_err().contains("umap_points 0"));

    // Condensed tree: one box per selected cluster.
    let tree = data.tree.as_ref().unwrap();
    assert_eq!(tree.selected.len(), run.summary.clusters.len());
    assert_eq!(tree.n_points, run.summary.rows_fitted);
    let Kind::Tree(t) = &figs[9].kind else { panic!("tree expected") };
    assert!(t.log_lambda, "the sample's λ spans decades");

    // Silhouette: every non-noise sampled flow, mean as outflow-validate computes it.
    let sil = data.silhouette.as_ref().unwrap();
    let non_noise = s.cluster.iter().filter(|&&c| c >= 0).count();
    assert_eq!(sil.clusters.iter().map(|c| c.1.len()).sum::<usize>(), non_noise);
    assert_eq!(sil.n_noise, s.len() - non_noise);
    let expected = outflow::validate::silhouette_score(s.x.view(), &s.cluster).unwrap();
    assert!((sil.mean - expected).abs() < 1e-12);

    // Distance map: one bubble per cluster of the sample, sized by clusters.json.
    let in_sample: BTreeSet<i64> = s.cluster.iter().copied().filter(|&c| c >= 0).collect();
    assert_eq!(data.centroids.iter().map(|c| c.label).collect::<BTreeSet<_>>(), in_sample);
    for c in &data.centroids {
        let size = run.clusters.iter().find(|p| p.cluster == c.label).unwrap().size;
        assert_eq!(c.size, size);
    }

    // k curves: k = 1..=10.
    let kt = data.k_table.as_ref().unwrap();
    assert_eq!(kt.rows.iter().map(|r| r.k).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());

    // Correlations of the sample's features.
    let p = s.features.len();
    assert_eq!(data.correlations.dim(), (p, p));
    for i in 0..p {
        for j in 0..p {
            let r = data.correlations[[i, j]];
            assert!(r.is_nan() || (-1.0 - 1e-12..=1.0 + 1e-12).contains(&r));
            assert!(r.is_nan() && data.correlations[[j, i]].is_nan() || r == data.correlations[[j, i]]);
        }
    }

    // Surrogate importances and the beeswarm of the noise class.
    let imp = data.importances.as_ref().unwrap();
    assert_eq!((imp.gini.len(), imp.permutation.len()), (p, p));
    assert!((imp.gini.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(imp.accuracy > 0.8, "surrogate fidelity {}", imp.accuracy);
    let bee = data.beeswarm.as_ref().unwrap();
    assert_eq!(bee.class, -1);
    assert_eq!(bee.n_rows, opts.shap_rows);
    assert_eq!(bee.rows.len(), p);
    assert!(bee.rows.windows(2).all(|w| w[0].mean_abs >= w[1].mean_abs));
    assert!(bee.rows.iter().all(|r| r.shap.len() == opts.shap_rows && r.color.iter().all(|c| (0.0..=1.0).contains(c))));

    // Behaviour: the highest-scored hosts of hosts.csv, and the top beacon pair's intervals.
    let (level, series) = data.entities.as_ref().unwrap();
    assert_eq!(level, "host");
    assert!(!series.is_empty() && series.len() <= 6);
    assert!(series.windows(2).all(|w| w[0].peak_score >= w[1].peak_score));
    assert!(series.iter().all(|s| s.starts.windows(2).all(|w| w[0] < w[1]) && s.starts.len() == s.bytes_out.len()));
    let b = data.beacon.as_ref().unwrap();
    assert!(b.beacon_score > 0.0 && b.intervals.iter().all(|&i| i > 0.0), "{b:?}");
}

#[test]
fn writes_a_self_contained_deterministic_page_and_pngs() {
    let (_tmp, dir) = sample_run();
    let opts = ReportOptions::default();
    let s = write_report(&dir, &opts).unwrap();
    assert_eq!(s.html, dir.join("report.html"));
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);
    assert_eq!(s.figures.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), FIGURES);
    let html = std::fs::read_to_string(&s.html).unwrap();
    assert_eq!(html.len(), s.html_bytes);
    for id in FIGURES {
        assert_eq!(html.matches(&format!("id=\"fig-{id}\"")).count(), 1, "{id}");
        let png = dir.join("figures").join(format!("{id}.png"));
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let info = decoder.read_info().unwrap().info().clone();
        assert!(info.width >= 600 && info.height >= 300, "{id}: {}×{}", info.width, info.height);
    }
    assert_eq!(html.matches("<svg").count(), 20);
    assert!(html.contains("3,000 of the 5,000 sampled flows"));
    assert!(html.contains("id=\"cluster-profiles\"") && html.contains("id=\"top-anomalies\""));
    // Self-contained: no script, no stylesheet link, nothing fetched but data: URIs.
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    assert!(html.contains("url(data:font/ttf;base64,"));
    // The summary's thresholds are in the page.
    let run = RunDir::read(&dir).unwrap();
    assert!(html.contains(&outflow_report::plots::fmt_num(run.summary.thresholds.moderate)));

    // Nothing is overwritten without `overwrite`; with it the page is byte-identical.
    match write_report(&dir, &opts) {
        Err(ReportError::Exists(p)) => assert_eq!(p, dir.join("report.html")),
        other => panic!("expected Exists, got {other:?}"),
    }
    let again = write_report(&dir, &ReportOptions { overwrite: true, ..opts.clone() }).unwrap();
    assert_eq!(again.html_bytes, s.html_bytes);
    assert_eq!(std::fs::read_to_string(&again.html).unwrap(), html);
}

#[test]
fn two_renders_are_identical_and_the_seed_matters() {
    let (_tmp, dir) = sample_run();
    let run = RunDir::read(&dir).unwrap();
    let opts = ReportOptions { max_scatter_points: 500, shap_rows: 100, k_max: 4, ..Default::default() };
    let a = render_report(&run, &opts).unwrap();
    let b = render_report(&run, &opts).unwrap();
    assert_eq!(a.html, b.html);
    assert_eq!(a.pngs, b.pngs);
    let c = render_report(&run, &ReportOptions { seed: 7, ..opts }).unwrap();
    assert_ne!(a.html, c.html);
    assert!(a.html.contains("500 of the 5,000 sampled flows"));
}

#[test]
fn figures_that_need_two_clusters_are_skipped_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let fit = common::write_run_dir(&dir, &common::synthetic_table(120, 1), &DetectorParams::default());
    let run = RunDir::read(&dir).unwrap();
    let opts = ReportOptions { k_max: 4, ..Default::default() };
    let data = ReportData::compute(&run, &opts).unwrap();
    let clusters: BTreeSet<i64> = run.sample.cluster.iter().copied().filter(|&c| c >= 0).collect();
    assert_eq!(fit.summary.clusters.len(), clusters.len());
    if clusters.len() < 2 {
        assert!(data.silhouette.is_err());
    }
    let r = render_report(&run, &opts).unwrap();
    for (id, why) in &r.skipped {
        assert!(r.html.contains(&format!("data-skipped=\"{id}\"")), "{id}");
        assert!(!why.is_empty());
    }
    assert_eq!(r.figures.len(), 20);
    assert_eq!(r.pngs.len() + r.skipped.len(), 20);
    // A flow-only run says how to get the behaviour figures.
    let why = |id: &str| r.skipped.iter().find(|(f, _)| f.as_str() == id).map(|(_, w)| w.clone()).unwrap();
    assert!(why("entity-bytes").contains("--level all") && why("beacon-intervals").contains("--level all"));
    // The histogram still counts every scored flow.
    assert_eq!(data.histogram.total(), run.summary.rows_kept);

    // One class among the sampled flows: silhouette, importances and SHAP cannot be computed.
    let mut one = run.clone();
    one.sample.cluster.iter_mut().for_each(|c| *c = 0);
    let r = render_report(&one, &opts).unwrap();
    let skipped: Vec<&str> = r.skipped.iter().map(|(id, _)| id.as_str()).collect();
    for id in ["silhouette", "importance", "shap"] {
        assert!(skipped.contains(&id), "{id} not skipped: {skipped:?}");
    }
    for id in skipped {
        assert!(r.html.contains(&format!("data-skipped=\"{id}\"")));
    }
    assert!(r.html.contains("not computed — needs at least 2 clusters among the sampled flows, found 1."));
}

#[test]
fn broken_run_directories_are_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert!(matches!(
        write_report(&missing, &ReportOptions::default()),
        Err(ReportError::Run(OutflowError::Run(RunDirError::NotADirectory(_))))
    ));

    let dir = tmp.path().join("run");
    common::write_run_dir(&dir, &common::synthetic_table(60, 3), &DetectorParams::default());
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let model_file = RunDir::read(&dir).unwrap().summary.model_file;

    std::fs::rename(dir.join("sample.csv"), dir.join("sample.bak")).unwrap();
    match RunDir::read(&dir) {
        Err(OutflowError::Run(RunDirError::MissingFile(path))) => assert!(path.ends_with("sample.csv")),
        other => panic!("expected MissingFile, got {other:?}"),
    }
    std::fs::rename(dir.join("sample.bak"), dir.join("sample.csv")).unwrap();

    // A truncated scores.csv is refused, not drawn.
    let scores = std::fs::read_to_string(dir.join("scores.csv")).unwrap();
    let cut: String = scores.lines().take(50).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("scores.csv"), cut).unwrap();
    match RunDir::read(&dir) {
        Err(OutflowError::Run(RunDirError::Invalid { path, message })) => {
            assert!(path.ends_with("scores.csv") && message.contains("truncated"), "{message}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    std::fs::write(dir.join("scores.csv"), &scores).unwrap();

    std::fs::write(dir.join("summary.json"), "{\"model_file\": 3}").unwrap();
    assert!(matches!(RunDir::read(&dir), Err(OutflowError::Run(RunDirError::Invalid { .. }))));
    std::fs::write(dir.join("summary.json"), summary.replace(&model_file, "gone.json")).unwrap();
    match RunDir::read(&dir) {
        Err(OutflowError::Run(RunDirError::MissingFile(path))) => assert!(path.ends_with("gone.json")),
        other => panic!("expected MissingFile, got {other:?}"),
    }
    std::fs::write(dir.join("summary.json"), &summary).unwrap();
    std::fs::write(dir.join(&model_file), b"not a model").unwrap();
    assert!(matches!(RunDir::read(&dir), Err(OutflowError::Artifact { .. })));
    // An interrupted run (no summary.json) is never read as a complete one.
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    assert!(
        matches!(RunDir::read(&dir), Err(OutflowError::Run(RunDirError::MissingFile(p))) if p.ends_with("summary.json"))
    );
    std::fs::write(dir.join("summary.json"), &summary).unwrap();
    assert!(matches!(
        write_report(&dir, &ReportOptions { max_scatter_points: 0, ..Default::default() }),
        Err(ReportError::Option(_))
    ));
}
