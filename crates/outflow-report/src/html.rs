//! The page: one self-contained HTML document (inline SVG and CSS, the font as a data URI, no script).

use std::fmt::Write;

use base64::Engine;
use outflow::io::Family;
use outflow::run::ANOMALY_COLUMNS;

use crate::data::ReportData;
use crate::figures::{FigureId, FigureSpec, Kind};
use crate::plots::{self, FONT, FONT_BYTES, cluster_color, cluster_name, fmt_int, fmt_num};
use crate::report::{ReportOptions, fmt_pct};
use outflow::ClusterStats;
use outflow::run::RunDir;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink: #222; --muted: #666; --line: #ddd; --bg: #f6f7f9; --moderate: #e67e00; --severe: #c8001e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.45 FONTNAME, "DejaVu Sans", Arial, sans-serif; }
header { background: #1f2d3d; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0 0 6px; font-size: 26px; font-weight: normal; }
header p { margin: 0; color: #cfd8e3; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px; position: sticky; top: 0; z-index: 1; }
nav a { color: #1f4e79; text-decoration: none; margin-right: 16px; white-space: nowrap; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 40px; }
section { margin-top: 28px; }
h2 { font-size: 21px; font-weight: normal; border-bottom: 2px solid #1f2d3d; padding-bottom: 4px; margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .v { font-size: 22px; }
.card .k { color: var(--muted); font-size: 13px; }
figure.fig { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 0 0 18px; padding: 10px; }
figure.fig svg { display: block; width: auto; height: auto; max-width: 100%; margin: 0 auto; }
figure.fig svg text { font-family: FONTNAME, "DejaVu Sans", sans-serif; }
figure.fig figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; }
figure.fig figcaption a { color: #1f4e79; }
figure.skipped { color: var(--muted); padding: 18px; }
.row3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px; }
.row3 figure.fig { margin: 0; }
.note { color: var(--muted); font-size: 14px; margin: 4px 0 12px; }
.tablewrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 5px 9px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; white-space: nowrap; }
th { background: #eef1f5; font-weight: normal; color: #333; white-space: normal; min-width: 4em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:hover td { background: #fafbfd; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
.badge { padding: 1px 7px; border-radius: 9px; color: #fff; font-size: 12px; }
.badge.severe { background: var(--severe); }
.badge.moderate { background: var(--moderate); }
.badge.normal { background: #888; }
ul.dropped { columns: 2; font-size: 13.5px; color: #333; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; padding: 20px; }
"#;

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn figure_html(out: &mut String, spec: &FigureSpec, svg: &Option<String>, caption: &str) {
    let id = spec.id.as_str();
    match (svg, &spec.kind) {
        (Some(svg), _) => {
            let _ = writeln!(
                out,
                "<figure class=\"fig\" id=\"fig-{id}\" data-figure=\"{id}\">{svg}<figcaption>{caption} \
                 <a href=\"figures/{id}.png\">PNG</a></figcaption></figure>",
                svg = svg.trim(),
            );
        }
        (None, Kind::Skipped(why)) => {
            let _ = writeln!(
                out,
                "<figure class=\"fig skipped\" id=\"fig-{id}\" data-skipped=\"{id}\"><strong>{title}</strong>: not \
                 computed — {why}.</figure>",
                title = escape(spec.title()),
                why = escape(why),
            );
        }
        (None, _) => {}
    }
}

/// The drawn figures, looked up by id as the sections place them.
struct Figures<'a>(&'a [(&'a FigureSpec, Option<String>)]);

impl Figures<'_> {
    fn find(&self, id: FigureId) -> Option<&(&FigureSpec, Option<String>)> {
        self.0.iter().find(|(f, _)| f.id == id)
    }

    fn place(&self, h: &mut String, id: FigureId, caption: &str) {
        if let Some((spec, svg)) = self.find(id) {
            figure_html(h, spec, svg, caption);
        }
    }
}

/// Builds the page.
pub(crate) fn page(
    run: &RunDir,
    opts: &ReportOptions,
    data: &ReportData,
    figs: &[(&FigureSpec, Option<String>)],
) -> String {
    let figs = Figures(figs);
    let mut h = String::with_capacity(1 << 20);
    head_and_header(&mut h, run);
    overview(&mut h, run, opts, data);
    map_section(&mut h, run, opts, data, &figs);
    scores_section(&mut h, data, &figs);
    structure_section(&mut h, &figs);
    k_section(&mut h, run, data, &figs);
    features_section(&mut h, &figs);
    behaviour_section(&mut h, &figs);
    profiles_table(&mut h, run);
    anomalies_table(&mut h, run);
    preparation(&mut h, run);
    h.push_str("</main>\n");
    let _ = writeln!(
        h,
        "<footer>outflow-report {} · self-contained: inline SVG, embedded DejaVu Sans subset (Bitstream Vera licence), \
         no scripts, no network. PNG copies in <code>figures/</code>.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

/// The document head (styles, the embedded font), the title bar and the navigation.
fn head_and_header(h: &mut String, run: &RunDir) {
    let s = &run.summary;
    let font64 = base64::engine::general_purpose::STANDARD.encode(FONT_BYTES);
    let title = format!("Outflow report — {}", if s.input.is_empty() { "run" } else { &s.input });
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         font-src data:; img-src data:\">\n<title>{}</title>\n<style>\n@font-face {{ font-family: {FONT}; src: \
         url(data:font/ttf;base64,{font64}) format(\"truetype\"); }}\n{}</style>\n</head>\n<body>",
        escape(&title),
        CSS.replace("FONTNAME", FONT),
    );
    let _ = writeln!(
        h,
        "<header><h1>{}</h1><p>{} flows read ({} format, {} preset) · {} scored · {} features · {} {} · signals \
         {}</p></header>",
        escape(&title),
        fmt_int(s.rows_read as u64),
        escape(&s.format),
        escape(&s.preset),
        fmt_int(s.rows_kept as u64),
        s.features_kept.len(),
        s.clustering.title(),
        s.clustering.key_parameters().first().map_or("", String::as_str),
        escape(&s.signals.join(" + ")),
    );
    h.push_str(
        "<nav><a href=\"#overview\">Overview</a><a href=\"#map\">Map</a><a href=\"#scores\">Scores</a>\
         <a href=\"#structure\">Cluster structure</a><a href=\"#k\">Choosing k</a><a href=\"#features\">Features</a>\
         <a href=\"#profiles\">Cluster profiles</a><a href=\"#anomalies\">Top anomalies</a>\
         <a href=\"#preparation\">Preparation</a></nav>\n<main>\n",
    );
}

/// The headline numbers as cards.
fn overview(h: &mut String, run: &RunDir, opts: &ReportOptions, data: &ReportData) {
    let s = &run.summary;
    let count = |k: &str| run.scores.severity_counts.get(k).copied().unwrap_or(0);
    let (pm, ps) = data.percentiles;
    let (tm, ts) = data.thresholds;
    let mut cards: Vec<(String, String)> = vec![
        (fmt_int(s.rows_read as u64), "flows read".into()),
        (fmt_int(s.rows_kept as u64), format!("scored ({} fitted)", fmt_int(s.rows_fitted as u64))),
        (s.clusters.len().to_string(), "clusters".into()),
        (format!("{:.1}%", s.noise_percent), "noise (fitted flows)".into()),
        (s.dbcv.map_or("n/a".into(), |d| format!("{d:.3}")), "DBCV".into()),
        (fmt_int(count("severe") as u64), format!("severe (score ≥ {}, p{})", fmt_num(ts), fmt_pct(ps))),
        (fmt_int(count("moderate") as u64), format!("moderate (≥ {}, p{})", fmt_num(tm), fmt_pct(pm))),
        (fmt_int(count("unscored") as u64), "unscored".into()),
    ];
    if let Some(l) = &s.labels {
        let of = format!(
            "against column {} ({} attacks of {})",
            l.column,
            fmt_int(l.positives as u64),
            fmt_int(l.rows as u64)
        );
        cards.push((format!("{:.3}", l.roc_auc), format!("ROC-AUC {of}")));
        cards.push((format!("{:.3}", l.pr_auc), "PR-AUC (average precision)".into()));
        if let Some(p) = l.precision_at_severe {
            cards.push((
                format!("{:.1}%", 100.0 * p),
                format!("of the {} severe are attacks", fmt_int(l.severe as u64)),
            ));
        }
    }
    h.push_str("<section id=\"overview\"><h2>Overview</h2><div class=\"cards\">");
    for (v, k) in cards {
        let _ = write!(
            h,
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
            escape(&v),
            escape(&k)
        );
    }
    h.push_str("</div>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Model <code>{}</code>; figures from <code>sample.csv</code> ({} flows, the scaled features the \
         model saw) unless said otherwise; report seed {}.</p></section>",
        escape(&s.model_file),
        fmt_int(run.sample.len() as u64),
        opts.seed
    );
}

fn map_section(h: &mut String, run: &RunDir, opts: &ReportOptions, data: &ReportData, figs: &Figures<'_>) {
    let pr = &data.projection;
    let _ = writeln!(
        h,
        "<section id=\"map\"><h2>Map of the flows</h2><p class=\"note\">Scatter plots show <strong>{} of the {} \
         sampled flows</strong> (a seeded sample, seed {}; {} flows were scored). Axes: the first two principal \
         components of the model's scaled features{}, explaining {:.1}% and {:.1}% of their variance.</p>",
        fmt_int(data.shown.len() as u64),
        fmt_int(run.sample.len() as u64),
        opts.seed,
        fmt_int(run.scores.scores.len() as u64),
        if pr.compressed { " after asinh compression (flow features are heavy-tailed)" } else { "" },
        100.0 * pr.explained[0],
        100.0 * pr.explained[1],
    );
    let clusterer = run.summary.clustering.title();
    figs.place(
        h,
        FigureId::PcaClusters,
        &format!("Colour: {clusterer} cluster (grey: noise). Orange rings: moderate anomalies; red crosses: severe."),
    );
    figs.place(
        h,
        FigureId::ScoreMap,
        "Colour: fused outlier score; the colour bar marks the moderate and severe thresholds.",
    );
    figs.place(
        h,
        FigureId::ProbabilityMap,
        &format!("Colour: {clusterer} membership strength; noise has probability 0."),
    );
    figs.place(
        h,
        FigureId::TsneClusters,
        &format!(
            "A t-SNE map (Barnes–Hut, scikit-learn's defaults, PCA start) of a seeded sample of the shown flows{}: \
             neighbours in the map are neighbours in the features, distances between groups mean little. \
             Colour and marks as above.",
            if data.tsne.as_ref().is_ok_and(|t| t.compressed) { ", features asinh-compressed" } else { "" }
        ),
    );
    figs.place(h, FigureId::TsneScores, "Colour: fused outlier score in the t-SNE map.");
    figs.place(
        h,
        FigureId::UmapClusters,
        &format!(
            "A UMAP map (umap-learn's defaults: 15 neighbours, min_dist 0.1, spectral start) of the same flows{}: \
             it keeps more of the layout between groups than t-SNE, still only roughly. Colour and marks as above.",
            if data.umap.as_ref().is_ok_and(|t| t.compressed) { ", features asinh-compressed" } else { "" }
        ),
    );
    figs.place(h, FigureId::UmapScores, "Colour: fused outlier score in the UMAP map.");
    h.push_str("</section>\n");
}

fn scores_section(h: &mut String, data: &ReportData, figs: &Figures<'_>) {
    let (pm, ps) = data.percentiles;
    h.push_str("<section id=\"scores\"><h2>Outlier scores</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">All {} scored flows from <code>scores.csv</code>; vertical lines at the thresholds of \
         <code>summary.json</code> (the {}th and {}th percentiles of the training scores).</p>",
        fmt_int(data.histogram.total() as u64),
        fmt_pct(pm),
        fmt_pct(ps)
    );
    figs.place(h, FigureId::ScoreHistogram, "50 equal bins.");
    h.push_str("</section>\n");
}

fn structure_section(h: &mut String, figs: &Figures<'_>) {
    h.push_str("<section id=\"structure\"><h2>Cluster structure</h2>\n");
    figs.place(
        h,
        FigureId::ClusterSizes,
        "Scored flows per cluster (from clusters.json), percentages of all scored flows.",
    );
    let log_note = match figs.find(FigureId::CondensedTree) {
        Some((FigureSpec { kind: Kind::Tree(t), .. }, _)) if t.log_lambda => {
            " λ is on a log scale: it spans several decades (duplicate flows give very large λ)."
        }
        _ => "",
    };
    figs.place(
        h,
        FigureId::CondensedTree,
        &format!(
            "As hdbscan's <code>condensed_tree_.plot(select_clusters=True)</code>: icicle width = points still in the \
             cluster, λ grows downwards; boxes mark the selected clusters.{log_note}"
        ),
    );
    figs.place(
        h,
        FigureId::Silhouette,
        "Exact silhouette (Euclidean, on the model's features) of each sampled non-noise flow, sorted within its cluster; the dashed line is the mean.",
    );
    figs.place(
        h,
        FigureId::ClusterDistances,
        "Centres of the clusters' sampled flows in the PCA plane; bubble area ∝ scored flows in the cluster.",
    );
    h.push_str("</section>\n");
}

fn k_section(h: &mut String, run: &RunDir, data: &ReportData, figs: &Figures<'_>) {
    h.push_str("<section id=\"k\"><h2>Choosing k</h2>\n");
    let k_note = match &data.k_table {
        Ok(t) => format!(
            "k-means for k = 1…{} on the sampled flows (3 starts, {} uniform reference sets for the gap statistic, \
             silhouette on ≤ 2,000 flows). Chosen k: elbow {}, silhouette {}, gap {}; {} found {}.",
            t.rows.last().map_or(0, |r| r.k),
            t.n_refs,
            t.k_elbow.map_or("–".into(), |k| k.to_string()),
            t.k_silhouette.map_or("–".into(), |k| k.to_string()),
            t.k_gap.map_or("none in range".into(), |k| k.to_string()),
            run.summary.clustering.title(),
            run.summary.clusters.len()
        ),
        Err(e) => format!("Not computed: {e}."),
    };
    let _ = writeln!(h, "<p class=\"note\">{}</p><div class=\"row3\">", escape(&k_note));
    figs.place(
        h,
        FigureId::Elbow,
        "Inertia W<sub>k</sub>; the elbow is the point farthest from the chord of log W<sub>k</sub>.",
    );
    figs.place(h, FigureId::SilhouetteK, "Mean silhouette of the k-means labels.");
    figs.place(h, FigureId::Gap, "Tibshirani's gap; k̂ = smallest k with Gap(k) ≥ Gap(k+1) − s<sub>k+1</sub>.");
    h.push_str("</div></section>\n");
}

fn features_section(h: &mut String, figs: &Figures<'_>) {
    h.push_str("<section id=\"features\"><h2>Features</h2>\n");
    figs.place(h, FigureId::Correlation, "Pearson correlation of the scaled features on the sampled flows.");
    figs.place(
        h,
        FigureId::Importance,
        "A random forest (depth ≤ 7, balanced classes) trained to predict the cluster of each sampled flow: Gini \
         importance (mean decrease in impurity) and permutation importance (accuracy drop, 5 shuffles, ± 1 sd).",
    );
    figs.place(
        h,
        FigureId::Shap,
        "Exact TreeSHAP of the surrogate forest on a seeded subset of the sample: each dot is a flow; to the right \
         the feature pushes the flow towards this class. Colour: the feature's value (5th–95th percentile).",
    );
    h.push_str("</section>\n");
}

fn behaviour_section(h: &mut String, figs: &Figures<'_>) {
    h.push_str("<section id=\"behaviour\"><h2>Behaviour over time</h2>\n");
    figs.place(
        h,
        FigureId::EntityBytes,
        "From <code>hosts.csv</code> (else <code>pairs.csv</code>): the bytes each of the highest-scored hosts sent \
         in every window it was seen, its highest score in brackets. Steady volume to one place, or one window far \
         above the host's own habit, is what exfiltration looks like.",
    );
    figs.place(
        h,
        FigureId::BeaconIntervals,
        "The pair row of <code>pairs.csv</code> with the highest beacon score: seconds between its consecutive \
         connection starts (from <code>scores.csv</code>). A beacon shows one narrow peak at its period.",
    );
    h.push_str("</section>\n");
}

/// The numeric and categorical columns of the profile table: the model's features first; the
/// categorical columns log families profile first (`profiled`), then others.
fn profile_columns(run: &RunDir) -> (Vec<String>, Vec<String>) {
    let first = |c: &ClusterStats| c.numeric.keys().cloned().collect::<Vec<_>>();
    let numeric_all = run.clusters.first().map(first).unwrap_or_default();
    let mut numeric: Vec<String> =
        run.summary.features_kept.iter().filter(|f| numeric_all.contains(f)).take(8).cloned().collect();
    if numeric.is_empty() {
        numeric = numeric_all.into_iter().take(6).collect();
    }
    let cats: Vec<String> = run.clusters.first().map(|c| c.categorical.keys().cloned().collect()).unwrap_or_default();
    // Columns whose values are all distinct (uid, …) say nothing about a cluster.
    let informative = |name: &String| {
        run.clusters.iter().any(|c| c.categorical.get(name).is_some_and(|v| v.first().is_some_and(|t| t.count > 1)))
    };
    let mut chosen: Vec<String> = Family::union(|c| c.profiled)
        .into_iter()
        .map(str::to_owned)
        .filter(|p| cats.contains(p) && informative(p))
        .collect();
    for c in &cats {
        if chosen.len() >= 5 {
            break;
        }
        if !chosen.contains(c) && informative(c) {
            chosen.push(c.clone());
        }
    }
    chosen.truncate(5);
    (numeric, chosen)
}

fn swatch(label: i64) -> String {
    format!("<span class=\"sw\" style=\"background:{}\"></span>{}", hex(cluster_color(label)), cluster_name(label))
}

fn profiles_table(h: &mut String, run: &RunDir) {
    let (numeric, cats) = profile_columns(run);
    h.push_str("<section id=\"profiles\"><h2>Cluster profiles</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">From <code>clusters.json</code>: every scored flow, original units. Medians of the model's \
         numeric features; the most frequent value of {} categorical columns with its share of the cluster.</p>",
        cats.len()
    );
    h.push_str("<div class=\"tablewrap\"><table id=\"cluster-profiles\"><thead><tr><th>cluster</th><th class=\"num\">flows</th><th class=\"num\">share</th>");
    for n in &numeric {
        let _ = write!(h, "<th class=\"num\">median {}</th>", escape(n));
    }
    for c in &cats {
        let _ = write!(h, "<th>top {}</th>", escape(c));
    }
    h.push_str("</tr></thead><tbody>\n");
    for c in &run.clusters {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}%</td>",
            swatch(c.cluster),
            fmt_int(c.size as u64),
            100.0 * c.fraction
        );
        for n in &numeric {
            let v = c.numeric.get(n).map_or(f64::NAN, |s| s.median);
            let v = if v.is_finite() { fmt_num(v) } else { "–".to_owned() };
            let _ = write!(h, "<td class=\"num\">{}</td>", escape(&v));
        }
        for k in &cats {
            let cell = c.categorical.get(k).and_then(|v| v.first()).map_or(String::from("–"), |t| {
                let v = if t.value.is_empty() { "(empty)".to_owned() } else { plots::shorten(&t.value, 28) };
                let share = 100.0 * t.count as f64 / c.size.max(1) as f64;
                let share = if share < 1.0 { "<1%".to_owned() } else { format!("{share:.0}%") };
                format!("{} <span style=\"color:#777\">{}</span>", escape(&v), escape(&share))
            });
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div></section>\n");
}

fn anomalies_table(h: &mut String, run: &RunDir) {
    let a = &run.anomalies;
    let mut cols: Vec<usize> = ANOMALY_COLUMNS.iter().filter_map(|f| a.header.iter().position(|x| x == f)).collect();
    let header: Vec<&str> = a.header.iter().map(String::as_str).collect();
    let features = run.summary.features_kept.iter().filter_map(|name| header.iter().position(|x| x == name));
    for j in Family::shown_of(&header).into_iter().chain(features) {
        if cols.len() >= 20 {
            break;
        }
        if !cols.contains(&j) {
            cols.push(j);
        }
    }
    h.push_str("<section id=\"anomalies\"><h2>Top anomalies</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">The {} highest-scoring of the {} moderate and severe flows (<code>anomalies.csv</code> has \
         every column).</p>",
        a.top.len(),
        fmt_int(a.total as u64)
    );
    h.push_str("<div class=\"tablewrap\"><table id=\"top-anomalies\"><thead><tr><th class=\"num\">#</th>");
    for &j in &cols {
        let _ = write!(h, "<th>{}</th>", escape(&a.header[j]));
    }
    h.push_str("</tr></thead><tbody>\n");
    for (i, rec) in a.top.iter().enumerate() {
        let _ = write!(h, "<tr><td class=\"num\">{}</td>", i + 1);
        for &j in &cols {
            let v = rec.get(j).map(String::as_str).unwrap_or("");
            let name = a.header[j].as_str();
            let cell = match name {
                "severity" => format!("<span class=\"badge {0}\">{0}</span>", escape(v)),
                "cluster" => v.parse::<i64>().map_or(escape(v), swatch),
                "outlier_score" | "probability" => v.parse::<f64>().map_or(escape(v), |x| format!("{x:.4}")),
                _ => escape(&plots::shorten(v, 40)),
            };
            let class = if matches!(name, "row" | "outlier_score" | "probability") { " class=\"num\"" } else { "" };
            let _ = write!(h, "<td{class}>{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div></section>\n");
}

fn preparation(h: &mut String, run: &RunDir) {
    let s = &run.summary;
    h.push_str("<section id=\"preparation\"><h2>Preparation</h2>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Features the model saw ({}): <strong>{}</strong>.</p>",
        s.features_kept.len(),
        escape(&s.features_kept.join(", "))
    );
    let mut seen = std::collections::BTreeSet::new();
    let dropped: Vec<_> = s.features_dropped.iter().filter(|d| seen.insert(d.name.clone())).collect();
    if !dropped.is_empty() {
        let _ = write!(h, "<p class=\"note\">Columns not used ({}):</p><ul class=\"dropped\">", dropped.len());
        for d in dropped {
            let _ = write!(h, "<li><code>{}</code> — {}: {}</li>", escape(&d.name), escape(&d.step), escape(&d.reason));
        }
        h.push_str("</ul>\n");
    }
    if let Some(rows) = &run.tuning {
        let _ = writeln!(
            h,
            "<p class=\"note\">Parameters chosen by <code>--tune</code> over {} settings (<code>tuning.csv</code>).</p>",
            rows.len().saturating_sub(1)
        );
    }
    h.push_str("</section>\n");
}
