//! `outflow cluster` end to end: every algorithm, output columns, bad input.

use std::path::Path;
use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

/// Two tight groups of 20 rows and one far row.
fn write_data(path: &Path) {
    let mut s = String::from("a,b\n");
    for i in 0..20 {
        s.push_str(&format!("{},{}\n", (i % 5) as f64 * 0.1, (i / 5) as f64 * 0.1));
    }
    for i in 0..20 {
        s.push_str(&format!("{},{}\n", 10.0 + (i % 5) as f64 * 0.1, (i / 5) as f64 * 0.1));
    }
    s.push_str("50,50\n");
    std::fs::write(path, s).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> (String, Vec<Vec<String>>) {
    let input = dir.join("x.csv");
    let output = dir.join("out.csv");
    let out = outflow()
        .args(["cluster", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--force"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&output).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    (header, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

#[test]
fn every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    write_data(&dir.path().join("x.csv"));
    let label = |rows: &[Vec<String>], i: usize| rows[i][0].parse::<i64>().unwrap();

    let (h, rows) = run(dir.path(), &["--min-cluster-size", "5"]);
    assert_eq!(h, "label,probability,outlier_score");
    assert_eq!(label(&rows, 40), -1);

    let (h, rows) = run(dir.path(), &["--algorithm", "dbscan", "--eps", "0.3", "--min-samples", "4"]);
    assert_eq!(h, "label,core,anomaly");
    assert_eq!(rows.len(), 41);
    assert_eq!((label(&rows, 0), label(&rows, 20), label(&rows, 40)), (0, 1, -1));
    assert_eq!(rows[40][1..], ["0", "1"]);
    let (_, auto) = run(dir.path(), &["--algorithm", "dbscan", "--eps", "auto", "--centroid-filter", "90"]);
    assert_eq!(auto.len(), 41);

    let (h, rows) = run(dir.path(), &["--algorithm", "kmeans", "--k", "3", "--seed", "2", "--n-init", "3"]);
    assert_eq!(h, "label,distance");
    assert_ne!(label(&rows, 0), label(&rows, 20));
    assert_ne!(label(&rows, 20), label(&rows, 40));
    assert_eq!(rows[40][1], "0");

    let (h, rows) = run(dir.path(), &["--algorithm", "ward", "--k", "3"]);
    assert_eq!(h, "label,distance");
    assert_eq!((label(&rows, 0), label(&rows, 20), label(&rows, 40)), (0, 1, 2));
    let tree = dir.path().join("tree.json");
    let (_, sampled) =
        run(dir.path(), &["--algorithm", "ward", "--k", "2", "--sample-size", "10", "--tree", tree.to_str().unwrap()]);
    assert_eq!(sampled.len(), 41);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&tree).unwrap()).unwrap();
    assert_eq!(v["linkage"].as_array().unwrap().len(), 9);
    assert_eq!(v["sample_rows"].as_array().unwrap().len(), 10);
}

#[test]
fn bad_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    write_data(&input);
    let fails = |args: &[&str], needle: &str| {
        let out = outflow()
            .args(["cluster", input.to_str().unwrap(), "-o", dir.path().join("o.csv").to_str().unwrap(), "--force"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{args:?}: {err}");
    };
    fails(&["--algorithm", "kmeans"], "needs --k");
    fails(&["--algorithm", "kmeans", "--k", "0"], "invalid parameter `k`: must be at least 1");
    fails(&["--algorithm", "ward", "--k", "42"], "needs at least 42 rows, found 41");
    fails(&["--algorithm", "dbscan", "--eps", "0"], "invalid parameter `eps`: must be finite and > 0");
    fails(&["--algorithm", "dbscan", "--eps", "-1"], "invalid parameter `eps`");
    fails(&["--algorithm", "dbscan", "--eps", "wide"], "number or 'auto'");
    fails(&["--algorithm", "kmeans", "--k", "2", "--metric", "manhattan"], "euclidean only");
    // No option is silently ignored, no algorithm silently replaced.
    fails(&["--k", "3"], "--k does not apply to --algorithm hdbscan");
    fails(&["--algorithm", "hdbscan", "--selection", "lef"], "unknown variant `lef`");
    fails(&["--algorithm", "optics"], "invalid value 'optics'");
    fails(&["--algorithm", "kmeans", "--k", "2", "--tree", "t.json"], "needs --algorithm ward or hdbscan");
    fails(&["--min-cluster-size", "5", "--max-cluster-size", "3"], "max_cluster_size");
    fails(&["--min-samples", "0", "--min-samples-convention", "hdbscan"], "hdbscan's convention");
    fails(&["--algorithm", "dbscan", "--max-cluster-size", "9"], "--max-cluster-size does not apply");
    fails(&["--epsilon", "0.5", "--epsilon-max", "0.2"], "cluster_selection_epsilon_max");
    fails(&["--cut-distance", "0"], "cut_distance");
    fails(&["--algorithm", "ward", "--k", "2", "--cut-distance", "1"], "needs --algorithm hdbscan");
    fails(&["--algorithm", "kmeans", "--k", "2", "--exemplars"], "needs --algorithm hdbscan");
    fails(&["--algorithm", "dbscan", "--soft"], "needs --algorithm hdbscan");
    fails(&["--metric", "minkowski:0.5"], "p must be ≥ 1");
}

#[test]
fn hdbscan_options() {
    let dir = tempfile::tempdir().unwrap();
    write_data(&dir.path().join("x.csv"));
    let labels = |rows: &[Vec<String>]| rows.iter().map(|r| r[0].parse::<i64>().unwrap()).collect::<Vec<_>>();
    // hdbscan's min_samples 4 is scikit-learn's 5, the same fit.
    let (_, sk) = run(dir.path(), &["--min-cluster-size", "5", "--min-samples", "5"]);
    let (_, hd) =
        run(dir.path(), &["--min-cluster-size", "5", "--min-samples", "4", "--min-samples-convention", "hdbscan"]);
    assert_eq!(sk, hd);
    // The trees with hdbscan's columns, as JSON and as two CSV files; never overwritten unasked.
    let json = dir.path().join("trees.json");
    run(dir.path(), &["--min-cluster-size", "5", "--tree-out", json.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let (ct, sl) = (v["condensed_tree"].as_array().unwrap(), v["single_linkage_tree"].as_array().unwrap());
    assert_eq!(sl.len(), 40);
    assert_eq!(sl[39]["size"], 41);
    assert_eq!(sl[0]["parent"], 41);
    // Every point leaves the condensed tree once; the two groups are the root's cluster children.
    assert_eq!(ct.iter().filter(|r| r["child_size"] == 1).count(), 41);
    let kids: Vec<&serde_json::Value> = ct.iter().filter(|r| r["parent"] == 41 && r["child_size"] != 1).collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert_eq!(v["selected_clusters"].as_array().unwrap().len(), 2);
    let csv = dir.path().join("trees.csv");
    run(dir.path(), &["--min-cluster-size", "5", "--tree", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().next(), Some("parent,child,lambda_val,child_size"));
    assert_eq!(text.lines().count(), ct.len() + 1);
    let linkage = std::fs::read_to_string(dir.path().join("trees.single_linkage.csv")).unwrap();
    assert_eq!(linkage.lines().next(), Some("parent,left_child,right_child,distance,size"));
    assert_eq!(linkage.lines().count(), 41);
    let again = outflow()
        .args([
            "cluster",
            dir.path().join("x.csv").to_str().unwrap(),
            "-o",
            dir.path().join("o2.csv").to_str().unwrap(),
        ])
        .args(["--tree", json.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("--force"));
    // DBSCAN* at a cut: the two groups, the far row noise; a cut above every merge, one cluster.
    let (h, rows) = run(dir.path(), &["--min-cluster-size", "5", "--cut-distance", "1"]);
    assert_eq!(h, "label,probability,outlier_score,cut_label");
    let cut: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_eq!((cut[0], cut[20], cut[40]), ("0", "1", "-1"));
    let (_, rows) = run(dir.path(), &["--min-cluster-size", "5", "--cut-distance", "1000"]);
    assert!(rows.iter().all(|r| r[3] == "0"));
    // Exemplars: some rows of each group, never the far row.
    let (h, rows) = run(dir.path(), &["--min-cluster-size", "5", "--exemplars"]);
    assert_eq!(h, "label,probability,outlier_score,exemplar");
    let ex: Vec<usize> = (0..41).filter(|&i| rows[i][3] == "1").collect();
    assert!(ex.iter().any(|&i| i < 20) && ex.iter().any(|&i| (20..40).contains(&i)) && !ex.contains(&40), "{ex:?}");
    // Soft clustering: one column per cluster; a row of the first group belongs mostly to its cluster.
    let (h, rows) = run(dir.path(), &["--min-cluster-size", "5", "--soft"]);
    assert_eq!(h, "label,probability,outlier_score,membership_0,membership_1");
    let p = |r: usize, k: usize| rows[r][3 + k].parse::<f64>().unwrap();
    let first = rows[0][0].parse::<usize>().unwrap();
    assert!(p(0, first) > p(0, 1 - first) && p(0, 0) + p(0, 1) <= 1.0 + 1e-12, "{:?}", rows[0]);
    // Two groups of 20: with a cap of 12 neither is selected whole.
    let whole = labels(&run(dir.path(), &["--min-cluster-size", "5"]).1);
    assert_eq!(whole.iter().filter(|&&l| l == whole[0]).count(), 20);
    let capped = labels(&run(dir.path(), &["--min-cluster-size", "5", "--max-cluster-size", "12"]).1);
    for l in capped.iter().filter(|&&l| l >= 0) {
        assert!(capped.iter().filter(|&&m| m == *l).count() <= 12, "{capped:?}");
    }
}

#[test]
fn approximate_neighbours_for_both_density_clusterers() {
    let dir = tempfile::tempdir().unwrap();
    write_data(&dir.path().join("x.csv"));
    for alg in [["--min-cluster-size", "5"], ["--algorithm", "dbscan"]] {
        let (_, exact) = run(dir.path(), &alg);
        let approx = ["--neighbors", "approximate", "--seed", "3"];
        let (_, rows) = run(dir.path(), &[&alg[..], &approx[..]].concat());
        assert_eq!(rows, exact, "{alg:?}");
        let out = outflow()
            .args(["cluster", dir.path().join("x.csv").to_str().unwrap(), "-o"])
            .arg(dir.path().join("shown.csv"))
            .args(["--force"])
            .args(alg)
            .args(approx)
            .output()
            .unwrap();
        let shown = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && shown.contains("neighbour recall"), "{alg:?}: {shown}");
    }
    let out = outflow()
        .args(["cluster", dir.path().join("x.csv").to_str().unwrap(), "-o"])
        .arg(dir.path().join("bad.csv"))
        .args(["--algorithm", "dbscan", "--neighbors", "approximate", "--min-samples", "10"])
        .args(["--param", "graph_neighbors=3"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("graph_neighbors"), "{err}");
}

/// Three groups of 4 rows on a line, with a weight column `w` and a partial-label column `y` (dropped
/// when `label_of_row_2` is `None`).
fn write_guided(path: &Path, weight_of_row_5: &str, label_of_row_2: Option<&str>) {
    let mut s = String::from(if label_of_row_2.is_some() { "a,w,b,y\n" } else { "a,w,b\n" });
    for g in 0..3 {
        for i in 0..4 {
            let row = g * 4 + i;
            let w = if row == 5 { weight_of_row_5.to_string() } else { "2".into() };
            let y = match row {
                2 => label_of_row_2.unwrap_or_default().to_string(),
                0 | 1 => "0".into(),
                9 => "1".into(),
                _ => String::new(),
            };
            let y = if label_of_row_2.is_some() { format!(",{y}") } else { String::new() };
            s.push_str(&format!("{},{w},{}{y}\n", g as f64 * 10.0 + i as f64 * 0.1, (i % 2) as f64 * 0.1));
        }
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn sample_weights_and_partial_labels() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    write_guided(&input, "2", Some("0"));
    let label = |rows: &[Vec<String>], i: usize| rows[i][0].parse::<i64>().unwrap();
    // Groups of 4 rows are below min_cluster_size 6; weighing 2 each they are clusters. The weight and
    // label columns are not features (else the groups would not be this close).
    let common = ["--min-cluster-size", "6", "--min-samples", "2"];
    let (_, rows) = run(dir.path(), &[&common[..], &["--label-column", "y"]].concat());
    assert!(rows.iter().all(|r| r[0] == "-1"), "unweighted: no cluster");
    write_guided(&input, "2", None);
    let tree = dir.path().join("tree.csv");
    let args = [&common[..], &["--weight-column", "w", "--tree", tree.to_str().unwrap()]].concat();
    let (_, rows) = run(dir.path(), &args);
    let labels: Vec<i64> = (0..12).map(|i| label(&rows, i)).collect();
    assert!(labels.iter().all(|&l| l >= 0), "{labels:?}");
    assert!(labels[0] != labels[4] && labels[4] != labels[8] && labels[0] != labels[8]);
    let text = std::fs::read_to_string(&tree).unwrap();
    assert_eq!(text.lines().next(), Some("parent,child,lambda_val,child_size,child_weight"));
    assert!(text.lines().any(|l| l.ends_with(",4,8")), "a cluster row of 4 rows weighing 8:\n{text}");
    // Partial labels with weights: each labelled group stays a cluster.
    write_guided(&input, "2", Some("0"));
    let (_, rows) = run(
        dir.path(),
        &[&common[..], &["--weight-column", "w", "--label-column", "y", "--ss-algorithm", "bc_simple"]].concat(),
    );
    assert!(label(&rows, 0) >= 0 && label(&rows, 0) != label(&rows, 9));
    // One class across the three groups: with --allow-single-cluster the labels keep them together
    // (BCubed 1 against 1/2 split), where stability alone splits them.
    let one_class = std::fs::read_to_string(&input).unwrap().replace(",1\n", ",0\n");
    write_guided(&input, "2", None);
    let single = [&common[..], &["--weight-column", "w", "--allow-single-cluster"]].concat();
    let (_, rows) = run(dir.path(), &single);
    assert!(label(&rows, 0) != label(&rows, 9), "stability splits the groups");
    std::fs::write(&input, one_class).unwrap();
    let (_, rows) = run(dir.path(), &[&single[..], &["--label-column", "y"]].concat());
    assert!((0..12).all(|i| label(&rows, i) == 0), "the labels join them");

    let fail = |args: &[&str]| {
        let out = outflow()
            .args(["cluster", input.to_str().unwrap(), "-o", dir.path().join("bad.csv").to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(!dir.path().join("bad.csv").exists(), "{args:?}: no output");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = fail(&["--weight-column", "weight", "--label-column", "y"]);
    assert!(e.contains("no such column") && e.contains("a, w, b, y"), "{e}");
    assert!(fail(&["--weight-column", "w", "--algorithm", "kmeans", "--k", "2"]).contains("--algorithm hdbscan"));
    assert!(fail(&["--ss-algorithm", "bc"]).contains("--label-column"));
    write_guided(&input, "-1", Some("0"));
    let e = fail(&["--weight-column", "w", "--label-column", "y"]);
    assert!(e.contains("line 7") && e.contains("'w'") && e.contains("≥ 0"), "{e}");
    write_guided(&input, "2", Some("0.5"));
    let e = fail(&["--label-column", "y"]);
    assert!(e.contains("line 4") && e.contains("'y'"), "{e}");
    write_guided(&input, "2", Some("-3"));
    assert!(fail(&["--label-column", "y"]).contains("line 4"));
}

#[test]
fn sparse_distances_from_an_edge_list() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    // Two chains of 6 rows (0–5, 6–11), close inside, joined by one long edge; pair (1, 0) listed both ways.
    let mut s = String::from("i,j,d\n1,0,0.1\n0,1,0.1\n");
    for c in [0, 6] {
        for k in c + 1..c + 5 {
            s.push_str(&format!("{k},{},0.{}\n", k + 1, 1 + k % 3));
            s.push_str(&format!("{},{},0.3\n", k - 1, k + 1));
        }
    }
    s.push_str("6,7,0.1\n5,6,9\n");
    std::fs::write(&input, &s).unwrap();
    let common = ["--metric", "precomputed", "--sparse", "--min-cluster-size", "4", "--min-samples", "2"];
    let (h, rows) = run(dir.path(), &[&common[..], &["--exemplars"]].concat());
    assert_eq!(h, "label,probability,outlier_score,exemplar");
    assert_eq!(rows.len(), 12);
    let label = |i: usize| rows[i][0].parse::<i64>().unwrap();
    assert!(label(0) >= 0 && label(11) >= 0 && label(0) != label(11), "{rows:?}");
    let fail = |body: &str, extra: &[&str]| {
        std::fs::write(&input, body).unwrap();
        let out = outflow()
            .args(["cluster", input.to_str().unwrap(), "-o", dir.path().join("bad.csv").to_str().unwrap()])
            .args(common)
            .args(extra)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(fail("i,j,d\n0,1,1\n2,3,1\n", &[]).contains("connected components"));
    assert!(fail("i,j,d\n0,1,1\n1,2,1\n1,0,2\n", &[]).contains("line 4"));
    assert!(fail("i,j,d\n0,1.5,1\n", &[]).contains("line 2"));
    assert!(fail("i,j\n0,1\n", &[]).contains("three columns"));
    assert!(fail("i,j,d\n0,0,1\n0,1,1\n", &[]).contains("itself"));
    let out = outflow()
        .args(["cluster", input.to_str().unwrap(), "-o", dir.path().join("bad.csv").to_str().unwrap()])
        .args(["--metric", "precomputed", "--sparse", "--algorithm", "dbscan", "--eps", "1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--algorithm hdbscan --metric precomputed"));
}

#[test]
fn branches_of_a_star() {
    let dir = tempfile::tempdir().unwrap();
    // A star of three arms, 30 rows each, and its centre.
    let mut s = String::from("a,b\n0,0\n");
    for arm in 0..3 {
        let angle = arm as f64 * 2.0 * std::f64::consts::PI / 3.0;
        for k in 1..=30 {
            let t = 0.1 * k as f64;
            s.push_str(&format!("{},{}\n", t * angle.cos(), t * angle.sin()));
        }
    }
    std::fs::write(dir.path().join("x.csv"), s).unwrap();
    let args = ["--min-cluster-size", "20", "--min-samples", "2", "--allow-single-cluster", "--branches", "full"];
    let (h, rows) = run(dir.path(), &[&args[..], &["--min-branch-size", "10"]].concat());
    assert_eq!(h, "label,probability,outlier_score,flasc_label,branch_label,branch_probability,centrality");
    let flasc = |i: usize| rows[i][3].parse::<i64>().unwrap();
    // With allow_single_cluster and one cluster, every row is in it (hdbscan's rule for branches).
    assert!((0..rows.len()).all(|i| flasc(i) >= 0), "{rows:?}");
    assert!(flasc(5) != flasc(35) && flasc(35) != flasc(65) && flasc(5) != flasc(65), "three arms: {rows:?}");
    let out = outflow()
        .args(["cluster", dir.path().join("x.csv").to_str().unwrap(), "-o", dir.path().join("k.csv").to_str().unwrap()])
        .args(["--algorithm", "kmeans", "--k", "2", "--branches", "core"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--algorithm hdbscan"));
}

/// An output path in a directory that does not exist, or that is a directory, is refused before any
/// work, by the user's path (not a temporary file's).
#[test]
fn output_paths_that_cannot_be_written_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    write_data(&input);
    for (output, message) in [
        (dir.path().join("nowhere/out.csv"), "its directory"),
        (dir.path().to_path_buf(), "is a directory, not a file"),
    ] {
        let out = outflow()
            .args(["cluster", input.to_str().unwrap(), "--force", "-o", output.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains(output.to_str().unwrap()) && err.contains(message), "{err}");
        assert!(!err.contains(".out.csv.") && !err.contains("cannot read"), "{err}");
    }
}

/// k-means on fewer distinct points than k says so (as scikit-learn warns).
#[test]
fn kmeans_says_when_the_data_has_fewer_distinct_points_than_k() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("same.csv");
    std::fs::write(&input, "a,b\n".to_owned() + &"1,2\n".repeat(50)).unwrap();
    let out = outflow()
        .args(["cluster", input.to_str().unwrap(), "--algorithm", "kmeans", "--k", "2", "-o"])
        .arg(dir.path().join("out.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only 1 distinct clusters for k = 2"));
}
