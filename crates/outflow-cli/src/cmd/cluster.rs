//! `outflow cluster`: cluster a numeric CSV as is (no preprocessing) and write one line per row, with
//! HDBSCAN (default), DBSCAN, k-means or Ward.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use outflow::cluster::{Fit, Model};

use crate::algorithm::AlgorithmArgs;
use crate::input::{numeric_csv_with, set_threads};

/// Arguments of `outflow cluster`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numeric CSV with a header; every column is a feature.
    pub input: PathBuf,
    #[command(flatten)]
    pub clustering: AlgorithmArgs,
    /// k-means: seed of the initialisation; Ward: seed of the --sample-size sample; HDBSCAN and DBSCAN:
    /// seed of the approximate neighbour graph (--neighbors approximate).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the clustering's tree. Ward: its merge tree as JSON (SciPy linkage rows `[a, b, distance,
    /// size]`). HDBSCAN: as JSON, the condensed tree and the single-linkage tree as records with the
    /// `hdbscan` package's columns (`condensed_tree`: parent, child, lambda_val, child_size, and with
    /// --weight-column child_weight, fast_hdbscan's weighted child_size;
    /// `single_linkage_tree`: parent, left_child, right_child, distance, size); as CSV (a path ending in
    /// `.csv`), the condensed tree there and the single-linkage tree beside it (`NAME.single_linkage.csv`).
    #[arg(long, visible_alias = "tree-out")]
    pub tree: Option<PathBuf>,
    /// HDBSCAN: also write `cut_label`, the DBSCAN* clustering at this mutual-reachability distance read
    /// from the single-linkage tree (hdbscan's and scikit-learn's `dbscan_clustering`; clusters smaller
    /// than --min-cluster-size are noise, −1).
    #[arg(long)]
    pub cut_distance: Option<f64>,
    /// HDBSCAN: also write `exemplar`, 1 for the exemplars of the row's cluster (hdbscan's `exemplars_`:
    /// the points that leave each leaf of the condensed tree last), else 0.
    #[arg(long)]
    pub exemplars: bool,
    /// HDBSCAN: also write `membership_0` … `membership_{k−1}`, the probability of the row belonging to
    /// each cluster (hdbscan's `all_points_membership_vectors`; a row sums to the probability of being in
    /// some cluster).
    #[arg(long)]
    pub soft: bool,
    /// HDBSCAN: also find branches within the clusters (FLASC, as hdbscan's `BranchDetector`) on the `full`
    /// graph of each cluster (pairs within its longest tree edge) or the `core` one (tree and nearest
    /// neighbours), and write `flasc_label` (a split cluster's centre and each branch get their own label),
    /// `branch_label` (−1 the centre), `branch_probability` and `centrality` (1 / distance to the
    /// cluster's centroid).
    #[arg(long, value_name = "GRAPH", value_parser = ["full", "core"])]
    pub branches: Option<String>,
    /// With --branches: the smallest branch (default: --min-cluster-size).
    #[arg(long, requires = "branches")]
    pub min_branch_size: Option<usize>,
    /// With --branches: split a cluster of two branches (its two sides) too.
    #[arg(long, requires = "branches")]
    pub label_sides_as_branches: bool,
    /// HDBSCAN: the column of INPUT holding each row's sample weight (finite, ≥ 0; not a feature), as
    /// fast_hdbscan's `sample_weight`: core distances reach `min_samples` by cumulative weight, cluster
    /// sizes are weight sums.
    #[arg(long, value_name = "COLUMN")]
    pub weight_column: Option<String>,
    /// HDBSCAN: the column of INPUT holding partial labels (not a feature): a class ≥ 0, or −1 or an
    /// empty cell for an unlabelled row. The clusters are then chosen by the BCubed F-measure of the labels
    /// (fast_hdbscan's semi-supervised HDBSCAN*(BC)); the output labels are cluster numbers, not classes.
    #[arg(long, value_name = "COLUMN")]
    pub label_column: Option<String>,
    /// HDBSCAN with --label-column: `bc` counts a labelled row that leaves a cluster before it splits
    /// below the split too (fast_hdbscan's default), `bc_simple` for the cluster only.
    #[arg(long, value_parser = ["bc", "bc_simple"], requires = "label_column")]
    pub ss_algorithm: Option<String>,
    /// HDBSCAN with --metric precomputed: INPUT is a sparse matrix of distances, a CSV of edges with three
    /// columns (row, column, distance; rows numbered from 0; each pair once, or both ways with the same
    /// distance) — a neighbour graph, as scikit-learn's sparse precomputed input: pairs not listed are no
    /// edges, every row needs min_samples − 1 listed distances and the graph must be connected. Writes
    /// one line per row 0 … largest row number.
    #[arg(long)]
    pub sparse: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output CSV, one row per input row, in input order; label −1 is noise. Columns: hdbscan
    /// `label,probability,outlier_score`; dbscan `label,core,anomaly` (1/0: core point; reported anomaly =
    /// noise not rescued by --centroid-filter); kmeans `label,distance` and ward `label,distance`
    /// (Euclidean distance to the row's cluster centre / centroid). Membership probabilities and GLOSH
    /// scores have no counterpart in DBSCAN, k-means or Ward, so those columns are left out.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Overwrite OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    set_threads(a.threads)?;
    crate::input::check_output(&a.output, a.force)?;
    let algorithm = a.clustering.build(None)?.with_seed(a.seed);
    if a.tree.is_some() && !matches!(algorithm.name(), "ward" | "hdbscan") {
        bail!("--tree writes Ward's merge tree or HDBSCAN's trees: it needs --algorithm ward or hdbscan");
    }
    if a.cut_distance.is_some() && algorithm.name() != "hdbscan" {
        bail!("--cut-distance reads HDBSCAN's single-linkage tree: it needs --algorithm hdbscan");
    }
    if a.exemplars && algorithm.name() != "hdbscan" {
        bail!("--exemplars reads HDBSCAN's condensed tree: it needs --algorithm hdbscan");
    }
    if a.soft && algorithm.name() != "hdbscan" {
        bail!("--soft reads HDBSCAN's condensed tree: it needs --algorithm hdbscan");
    }
    if a.branches.is_some() && (algorithm.name() != "hdbscan" || a.sparse) {
        bail!("--branches looks inside HDBSCAN's clusters of rows: it needs --algorithm hdbscan on coordinates");
    }
    let guided = a.weight_column.is_some() || a.label_column.is_some();
    if guided && algorithm.name() != "hdbscan" {
        bail!("--weight-column and --label-column guide HDBSCAN: they need --algorithm hdbscan");
    }
    if a.sparse {
        match &algorithm {
            outflow::cluster::Algorithm::Hdbscan(p) if p.metric == outflow::cluster::Metric::Precomputed => {}
            _ => {
                bail!("--sparse reads a sparse matrix of distances: it needs --algorithm hdbscan --metric precomputed")
            }
        }
        if guided || a.soft {
            bail!("--sparse takes neither --weight-column, --label-column nor --soft");
        }
    }
    let trees = a.tree.as_ref().map(|p| tree_paths(p, algorithm.name()));
    for p in trees.iter().flatten() {
        crate::input::check_output(p, a.force)?;
    }
    let t0 = Instant::now();
    // A sparse fit has no features: its rows are the matrix's (n × 0 here).
    let (x, weights, partial, sparse) = if a.sparse {
        let d = read_sparse(&a)?;
        (ndarray::Array2::zeros((d.n_rows(), 0)), None, None, Some(d))
    } else {
        let (names, x) = numeric_csv_with(&a.input, a.label_column.as_deref())?;
        let (x, weights, partial) = split_guides(&a, &names, x)?;
        (x, weights, partial, None)
    };
    let read_s = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let model = match (&algorithm, &sparse) {
        (outflow::cluster::Algorithm::Hdbscan(p), Some(d)) => {
            Model::Hdbscan(p.fit_sparse(d).with_context(|| crate::input::shown(&a.input))?)
        }
        (outflow::cluster::Algorithm::Hdbscan(p), None) if guided => {
            let mut p = p.clone();
            if a.ss_algorithm.as_deref() == Some("bc_simple") {
                p = p.ss_algorithm(outflow::cluster::SemiSupervised::BcSimple);
            }
            Model::Hdbscan(p.fit_with(x.view(), weights.as_deref(), partial.as_deref())?)
        }
        _ => algorithm.fit(x.view())?,
    };
    let fit_s = t.elapsed().as_secs_f64();
    let mut columns: Vec<(String, Vec<f64>)> =
        model.row_columns(x.view())?.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
    if let (Some(cut), Model::Hdbscan(h)) = (a.cut_distance, &model) {
        let labels = h.dbscan_clustering(cut, h.params().min_cluster_size)?;
        columns.push(("cut_label".into(), labels.into_iter().map(|l| l as f64).collect()));
    }
    if let (true, Model::Hdbscan(h)) = (a.exemplars, &model) {
        let mut flag = vec![0.0; x.nrows()];
        h.exemplars().iter().flatten().for_each(|&i| flag[i] = 1.0);
        columns.push(("exemplar".into(), flag));
    }
    if let (Some(graph), Model::Hdbscan(h)) = (&a.branches, &model) {
        let params = outflow::cluster::BranchParams {
            graph: if graph == "core" {
                outflow::cluster::BranchGraph::Core
            } else {
                outflow::cluster::BranchGraph::Full
            },
            label_sides_as_branches: a.label_sides_as_branches,
            min_branch_size: a.min_branch_size,
            ..Default::default()
        };
        let b = h.branches(x.view(), &params)?;
        let ints = |v: &[i64]| v.iter().map(|&l| l as f64).collect();
        columns.push(("flasc_label".into(), ints(&b.labels)));
        columns.push(("branch_label".into(), ints(&b.branch_labels)));
        columns.push(("branch_probability".into(), b.branch_probabilities));
        columns.push(("centrality".into(), b.centralities));
    }
    if let (true, Model::Hdbscan(h)) = (a.soft, &model) {
        let soft = h.all_points_membership_vectors();
        for (k, column) in soft.columns().into_iter().enumerate() {
            columns.push((format!("membership_{k}"), column.to_vec()));
        }
    }
    let mut out = String::with_capacity(x.nrows() * 24);
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for i in 0..x.nrows() {
        let cells: Vec<String> = columns.iter().map(|(_, v)| v[i].to_string()).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    let files: Vec<Vec<u8>> = match (&trees, &model) {
        (Some(_), Model::Ward(w)) => {
            let tree = serde_json::json!({
                "n_leaves": w.linkage().len() + 1,
                "sample_rows": w.sample_rows(),
                "linkage": w.linkage().iter().map(|s| (s.a, s.b, s.distance, s.size)).collect::<Vec<_>>(),
            });
            vec![serde_json::to_vec(&tree)?]
        }
        (Some(paths), Model::Hdbscan(h)) => hdbscan_trees(h, paths.len() == 2)?,
        _ => Vec::new(),
    };
    for (path, bytes) in trees.iter().flatten().zip(&files) {
        crate::input::write_output(path, bytes, a.force)
            .with_context(|| format!("cannot write {}", crate::input::shown(path)))?;
    }
    crate::input::write_output(&a.output, out.as_bytes(), a.force)
        .with_context(|| format!("cannot write {}", crate::input::shown(&a.output)))?;
    let shape = match &sparse {
        Some(d) => format!("{} rows, {} distances", d.n_rows(), d.nnz() / 2),
        None => format!("{} rows × {} features", x.nrows(), x.ncols()),
    };
    eprintln!("{shape}: {} (read {read_s:.3}s, fit {fit_s:.3}s)", model.describe());
    Ok(())
}

/// `--sparse`: the edge list of distances INPUT holds.
fn read_sparse(a: &Args) -> Result<outflow::cluster::SparseDistances> {
    let (names, edges) = crate::input::numeric_csv(&a.input)?;
    let shown = crate::input::shown(&a.input);
    if edges.ncols() != 3 {
        bail!(
            "{shown}: --sparse reads three columns (row, column, distance), got {} ({})",
            edges.ncols(),
            names.join(", ")
        );
    }
    let index = |v: f64, line: usize, what: &str| -> Result<usize> {
        if v.fract() == 0.0 && (0.0..4.0e9).contains(&v) {
            Ok(v as usize)
        } else {
            bail!("{shown} line {line}: the {what} is a row number (0, 1, …), got {v}")
        }
    };
    // (distance, line, listed as row < column, listed both ways)
    let mut pairs: std::collections::BTreeMap<(usize, usize), (f64, usize, bool, bool)> = Default::default();
    let mut rows = 0;
    for (r, e) in edges.rows().into_iter().enumerate() {
        let line = r + 2;
        let (i, j, d) = (index(e[0], line, "row")?, index(e[1], line, "column")?, e[2]);
        rows = rows.max(i.max(j) + 1);
        if i == j {
            if d != 0.0 {
                bail!("{shown} line {line}: the distance of row {i} to itself is {d}, not 0");
            }
            continue; // a zero distance to itself says nothing
        }
        let key = (i.min(j), i.max(j));
        match pairs.get_mut(&key) {
            None => {
                pairs.insert(key, (d, line, i < j, false));
            }
            Some((seen, at, forward, both)) => {
                if *both || *forward == (i < j) {
                    bail!("{shown} line {line}: the pair ({i}, {j}) is listed again (line {at})");
                }
                if (*seen - d).abs() > 1e-8 + 1e-5 * d.abs() {
                    bail!("{shown} line {line}: distance {d} from {i} to {j}, but {seen} the other way (line {at})");
                }
                *both = true;
            }
        }
    }
    let n = pairs.keys().map(|&(_, j)| j + 1).max().unwrap_or(0).max(rows);
    outflow::cluster::SparseDistances::from_edges(n, pairs.iter().map(|(&(i, j), &(d, ..))| (i, j, d)))
        .with_context(|| shown.clone())
}

/// Takes the --weight-column and --label-column columns out of the features.
type Guides = (ndarray::Array2<f64>, Option<Vec<f64>>, Option<Vec<i64>>);
fn split_guides(a: &Args, names: &[String], x: ndarray::Array2<f64>) -> Result<Guides> {
    let find = |flag: &str, name: &str| {
        names.iter().position(|n| n == name).with_context(|| {
            format!(
                "{flag} {name}: {} has no such column (columns: {})",
                crate::input::shown(&a.input),
                names.join(", ")
            )
        })
    };
    let wcol = a.weight_column.as_deref().map(|n| find("--weight-column", n)).transpose()?;
    let lcol = a.label_column.as_deref().map(|n| find("--label-column", n)).transpose()?;
    if wcol.is_some() && wcol == lcol {
        bail!("--weight-column and --label-column name the same column");
    }
    let line = |i: usize| i + 2; // the header is line 1
    let weights = wcol.map(|c| x.column(c).to_vec());
    if let (Some(c), Some(w)) = (wcol, &weights)
        && let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0))
    {
        bail!(
            "{} line {}, column '{}': a sample weight is finite and ≥ 0, got {}",
            crate::input::shown(&a.input),
            line(i),
            names[c],
            w[i]
        );
    }
    let partial = lcol
        .map(|c| {
            x.column(c)
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    if v.is_nan() {
                        Ok(-1)
                    } else if v.fract() == 0.0 && (-1.0..9.0e15).contains(&v) {
                        Ok(v as i64)
                    } else {
                        bail!(
                            "{} line {}, column '{}': a partial label is a class ≥ 0 or −1 (or empty) for an \
                             unlabelled row, got {v}",
                            crate::input::shown(&a.input),
                            line(i),
                            names[c]
                        )
                    }
                })
                .collect::<Result<Vec<i64>>>()
        })
        .transpose()?;
    let keep: Vec<usize> = (0..x.ncols()).filter(|&c| Some(c) != wcol && Some(c) != lcol).collect();
    if keep.is_empty() {
        bail!("{}: no feature column is left besides the weights and labels", crate::input::shown(&a.input));
    }
    Ok((x.select(ndarray::Axis(1), &keep), weights, partial))
}

/// The files `--tree PATH` writes: PATH, and for HDBSCAN as CSV the single-linkage tree beside it.
fn tree_paths(path: &std::path::Path, algorithm: &str) -> Vec<PathBuf> {
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if algorithm == "hdbscan" && csv {
        let stem = path.file_stem().map_or_else(Default::default, |s| s.to_string_lossy().into_owned());
        vec![path.to_path_buf(), path.with_file_name(format!("{stem}.single_linkage.csv"))]
    } else {
        vec![path.to_path_buf()]
    }
}

/// HDBSCAN's condensed and single-linkage trees with the `hdbscan` package's columns: one JSON document,
/// or two CSV files (condensed, single linkage). Single-linkage node `n + i` is made by merge `i`.
fn hdbscan_trees(h: &outflow::cluster::Hdbscan, csv: bool) -> Result<Vec<Vec<u8>>> {
    let ct = h.condensed_tree();
    let sl = h.single_linkage_tree();
    let n = sl.n_points;
    if csv {
        let weighted = ct.is_weighted();
        let mut c = String::from(if weighted {
            "parent,child,lambda_val,child_size,child_weight\n"
        } else {
            "parent,child,lambda_val,child_size\n"
        });
        for i in 0..ct.len() {
            let _ = write!(c, "{},{},{},{}", ct.parent[i], ct.child[i], ct.lambda_val[i], ct.child_size[i]);
            let _ = if weighted { writeln!(c, ",{}", ct.child_weight[i]) } else { writeln!(c) };
        }
        let mut s = String::from("parent,left_child,right_child,distance,size\n");
        for (i, m) in sl.merges.iter().enumerate() {
            let _ = writeln!(s, "{},{},{},{},{}", n + i, m.left, m.right, m.distance, m.size);
        }
        return Ok(vec![c.into_bytes(), s.into_bytes()]);
    }
    let condensed: Vec<serde_json::Value> = (0..ct.len())
        .map(|i| {
            let mut row = serde_json::json!({"parent": ct.parent[i], "child": ct.child[i],
                "lambda_val": ct.lambda_val[i], "child_size": ct.child_size[i]});
            if ct.is_weighted() {
                row["child_weight"] = ct.child_weight[i].into();
            }
            row
        })
        .collect();
    let linkage: Vec<serde_json::Value> = sl
        .merges
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({"parent": n + i, "left_child": m.left, "right_child": m.right,
                "distance": m.distance, "size": m.size})
        })
        .collect();
    let doc = serde_json::json!({
        "n_points": n,
        "selected_clusters": h.selected_clusters(),
        "condensed_tree": condensed,
        "single_linkage_tree": linkage,
    });
    Ok(vec![serde_json::to_vec(&doc)?])
}
