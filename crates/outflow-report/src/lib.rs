//! # outflow-report
//!
//! Plots and a self-contained HTML report of an Outflow run directory — what an analyst looks at after
//! `outflow detect --out DIR`.
//!
//! [`write_report`] reads the run directory (`summary.json`, `scores.csv`, `anomalies.csv`,
//! `clusters.json`, `sample.csv`, the model file, and `hosts.csv` / `pairs.csv` of a `--level all` run), computes the numbers behind every figure
//! ([`ReportData`]), draws the figures ([`plots`]) and writes `DIR/report.html` — inline SVG, inline CSS,
//! the font embedded as a data URI, no script, no network — plus a PNG copy of every figure in
//! `DIR/figures/`. The figures:
//!
//! | id | figure | computed from |
//! |---|---|---|
//! | `pca-clusters` | 2-D PCA scatter by cluster, anomalies marked | `sample.csv` (asinh-compressed, seeded subsample) |
//! | `score-map` | outlier score in the PCA plane | `sample.csv` |
//! | `probability-map` | membership probability in the PCA plane (HDBSCAN) | `sample.csv` |
//! | `tsne-clusters` | t-SNE map by cluster, anomalies marked | `sample.csv` (2,000 of the shown flows, [`ReportOptions::tsne_points`]; `outflow-embed`) |
//! | `tsne-scores` | outlier score in the t-SNE map | `sample.csv` |
//! | `umap-clusters` | UMAP map by cluster, anomalies marked | `sample.csv` (the same 2,000 flows, [`ReportOptions::umap_points`]; `outflow-embed`) |
//! | `umap-scores` | outlier score in the UMAP map | `sample.csv` |
//! | `score-histogram` | score histogram with the p95 / p99 thresholds | `scores.csv`, `summary.json` |
//! | `cluster-sizes` | flows per cluster with percentages | `clusters.json` |
//! | `condensed-tree` | HDBSCAN condensed tree, selected clusters boxed | the model |
//! | `silhouette` | per-flow silhouette by cluster | `sample.csv` (`outflow-validate`) |
//! | `cluster-distances` | cluster centres in the PCA plane, area ∝ size | `sample.csv`, `clusters.json` |
//! | `elbow`, `silhouette-k`, `gap` | k-means inertia, silhouette and gap per k | `sample.csv` (`outflow-validate`) |
//! | `correlation` | Pearson correlation heatmap | `sample.csv` |
//! | `importance` | Gini and permutation importance of a surrogate forest | `sample.csv` (`outflow-explain`) |
//! | `shap` | TreeSHAP beeswarm of the noise class (else the smallest cluster) | `sample.csv` (`outflow-explain`) |
//! | `entity-bytes` | bytes out per window of the six highest-scored hosts (else pairs) | `hosts.csv` / `pairs.csv` (`--level all`) |
//! | `beacon-intervals` | histogram of the seconds between connections of the top beacon pair | `pairs.csv`, `scores.csv` |
//!
//! and two tables: cluster profiles (`clusters.json`) and the top 20 anomalies (`anomalies.csv`). A figure
//! that cannot be computed (one cluster, one feature, …) is replaced by a sentence saying why. Every
//! random choice is seeded ([`ReportOptions::seed`]): the same run directory and options give a
//! byte-identical page.
//!
//! ```no_run
//! use outflow_report::{ReportOptions, write_report};
//! let summary = write_report("outflow-run", &ReportOptions { overwrite: true, ..Default::default() }).unwrap();
//! println!("{} ({} bytes), {} figures", summary.html.display(), summary.html_bytes, summary.figures.len());
//! ```
//!
//! The figures are usable on their own — data types implementing [`plots::Figure`], rendered by
//! [`plots::to_svg`] and [`plots::to_png`]:
//!
//! ```
//! use outflow_report::analysis::cluster_sizes;
//! use outflow_report::plots::{SizeBars, to_png, to_svg};
//! let bars = cluster_sizes(&[(-1, 40), (0, 300), (1, 60)]);
//! assert_eq!(bars[0].percent, 10.0);
//! let fig = SizeBars { title: "Flows per cluster".into(), x_label: "flows".into(), bars };
//! assert!(to_svg(&fig).unwrap().contains("Flows per cluster"));
//! assert!(to_png(&fig).unwrap().starts_with(b"\x89PNG"));
//! ```

#![warn(missing_docs)]

pub mod analysis;
mod data;
mod error;
mod figures;
pub mod html;
pub mod maps;
pub mod plots;
mod report;

pub use crate::data::{Importances, ReportData};
pub use crate::error::{ReportError, Result};
pub use crate::figures::{FigureId, FigureSpec, Kind, Rendered};
pub use crate::maps::FlowMap;
pub use crate::report::{FigureInfo, RenderedReport, ReportOptions, ReportSummary, render_report, write_report};
pub use outflow::run::RunDir;
