//! `outflow embed` end to end: one output row per input row, groups kept apart, determinism, refusals.

use std::path::Path;
use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

/// Two groups of 60 rows in 4 dimensions, far apart.
fn write_data(path: &Path) {
    let mut s = String::from("a,b,c,d\n");
    for i in 0..120 {
        let g = if i < 60 { 0.0 } else { 20.0 };
        let v = |k: usize| ((i * 7 + k * 13) % 17) as f64 / 17.0;
        s.push_str(&format!("{},{},{},{}\n", g + v(0), v(1), g + v(2), v(3)));
    }
    std::fs::write(path, s).unwrap();
}

fn embed(dir: &Path, args: &[&str]) -> std::process::Output {
    outflow()
        .args(["embed", dir.join("x.csv").to_str().unwrap(), "-o", dir.join("map.csv").to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

fn read(path: &Path) -> (String, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    (header, lines.map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect())
}

#[test]
fn a_map_per_row_with_the_groups_apart() {
    let dir = tempfile::tempdir().unwrap();
    write_data(&dir.path().join("x.csv"));
    let out = embed(dir.path(), &["--perplexity", "15", "--trustworthiness", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trustworthiness at 5 neighbours"));
    let (header, rows) = read(&dir.path().join("map.csv"));
    assert_eq!(header, "x0,x1");
    assert_eq!(rows.len(), 120);
    let centre = |r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        let rows = &rows[r];
        [rows.iter().map(|v| v[0]).sum::<f64>() / n, rows.iter().map(|v| v[1]).sum::<f64>() / n]
    };
    let (a, b) = (centre(0..60), centre(60..120));
    let radius = rows[..60].iter().map(|v| (v[0] - a[0]).hypot(v[1] - a[1])).fold(0.0, f64::max);
    assert!((a[0] - b[0]).hypot(a[1] - b[1]) > radius, "the groups overlap");

    // Same input, same map; an existing output needs --force; three dimensions give three columns.
    let first = std::fs::read(dir.path().join("map.csv")).unwrap();
    assert!(!embed(dir.path(), &["--perplexity", "15"]).status.success());
    assert!(embed(dir.path(), &["--perplexity", "15", "--force"]).status.success());
    assert_eq!(std::fs::read(dir.path().join("map.csv")).unwrap(), first);
    assert!(embed(dir.path(), &["--perplexity", "15", "--force", "--n-components", "3"]).status.success());
    assert_eq!(read(&dir.path().join("map.csv")).0, "x0,x1,x2");
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    write_data(&dir.path().join("x.csv"));
    for (args, needle) in [
        (&["--perplexity", "500"][..], "perplexity"),
        (&["--n-components", "4"][..], "n_components"),
        (&["--learning-rate", "fast"][..], "learning-rate"),
        (&["--max-iter", "10"][..], "max_iter"),
        (&["--method", "pca"][..], "method"),
    ] {
        let out = embed(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{args:?}: {err}");
        assert!(!dir.path().join("map.csv").exists(), "{args:?} wrote an output");
    }
    std::fs::write(dir.path().join("x.csv"), "a,b\n1,2\n3,inf\n4,5\n").unwrap();
    let out = embed(dir.path(), &["--perplexity", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("x.csv") && err.contains("row 1"), "{err}");
}

#[test]
fn umap_maps_keep_the_groups_apart_and_refuse_bad_parameters() {
    let dir = tempfile::tempdir().unwrap();
    // Two groups of 60 distinct rows (UMAP splits a lattice of repeated rows into many small pieces,
    // umap-learn as well).
    let mut s = String::from("a,b,c,d\n");
    for i in 0..120u64 {
        let g = if i < 60 { 0.0 } else { 20.0 };
        let v = |k: u64| ((i * 2654435761 + k * 40503) % 10007) as f64 / 10007.0;
        s.push_str(&format!("{},{},{},{}\n", g + v(0), v(1), g + v(2), v(3)));
    }
    std::fs::write(dir.path().join("x.csv"), s).unwrap();
    let out = embed(dir.path(), &["--method", "umap", "--seed", "3", "--trustworthiness", "5"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.contains("UMAP to 2 dimensions"), "{err}");
    let (header, rows) = read(&dir.path().join("map.csv"));
    assert_eq!((header.as_str(), rows.len()), ("x0,x1", 120));
    // Rows sit nearer their own group's centre than the other's.
    let centre = |r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        [rows[r.clone()].iter().map(|v| v[0]).sum::<f64>() / n, rows[r].iter().map(|v| v[1]).sum::<f64>() / n]
    };
    let (a, b) = (centre(0..60), centre(60..120));
    let wrong: Vec<usize> = (0..120)
        .filter(|&i| {
            let v = &rows[i];
            let (da, db) = ((v[0] - a[0]).hypot(v[1] - a[1]), (v[0] - b[0]).hypot(v[1] - b[1]));
            (da < db) != (i < 60)
        })
        .collect();
    assert!(wrong.is_empty(), "rows on the other group's side: {wrong:?}");
    let first = std::fs::read(dir.path().join("map.csv")).unwrap();
    assert!(embed(dir.path(), &["--method", "umap", "--seed", "3", "--force", "--threads", "1"]).status.success());
    assert_eq!(std::fs::read(dir.path().join("map.csv")).unwrap(), first, "same seed, other thread count");
    std::fs::remove_file(dir.path().join("map.csv")).unwrap();
    for (args, needle) in [
        (&["--method", "umap", "--n-neighbors", "120"][..], "n_neighbors"),
        (&["--method", "umap", "--min-dist", "3"][..], "min_dist"),
        (&["--method", "umap", "--metric", "nope"][..], "metric"),
        (&["--method", "umap", "--learning-rate", "auto"][..], "learning-rate"),
        (&["--init", "spectral"][..], "spectral"),
    ] {
        let out = embed(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{args:?}: {err}");
        assert!(!dir.path().join("map.csv").exists(), "{args:?} wrote an output");
    }
}
