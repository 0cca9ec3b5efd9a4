//! Helpers shared by the parity tests (each test uses some of them).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;
use outflow_cluster::CondensedTree;
use serde::de::DeserializeOwned;

/// Whether a condensed tree has the cluster rows (λ, size; sorted, λ rounded to 9 decimals) a reference
/// recorded: tied edges can make Outflow's tree differ from hdbscan's by a bridge point.
pub fn same_cluster_rows(ct: &CondensedTree, theirs: &[(f64, usize)]) -> bool {
    let mut rows: Vec<(f64, usize)> = (0..ct.len())
        .filter(|&i| ct.child_size[i] > 1)
        .map(|i| ((ct.lambda_val[i] * 1e9).round() / 1e9, ct.child_size[i]))
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows.len() == theirs.len() && rows.iter().zip(theirs).all(|(a, b)| (a.0 - b.0).abs() <= 1e-9 * b.0 && a.1 == b.1)
}

/// Every JSON fixture in `tests/fixtures/<dir>` (sorted by name); fails with fewer than `at_least`.
pub fn fixtures<T: DeserializeOwned>(dir: &str, at_least: usize) -> Vec<T> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("fixture directory").map(|e| e.unwrap().path()).collect();
    paths.sort();
    let v: Vec<T> = paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    assert!(v.len() >= at_least, "fixtures missing in {}", dir.display());
    v
}

/// Rows of a fixture → a matrix.
pub fn matrix(rows: &[Vec<f64>]) -> Array2<f64> {
    let d = rows[0].len();
    Array2::from_shape_vec((rows.len(), d), rows.iter().flatten().copied().collect()).unwrap()
}

/// Whether two labelings are the same partition: noise on the same points, clusters matched one to one.
pub fn same_partition(a: &[i64], b: &[i64]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{} labels against {}", a.len(), b.len()));
    }
    let (mut ab, mut ba) = (HashMap::new(), HashMap::new());
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        if (x < 0) != (y < 0) {
            return Err(format!("point {i}: {x} against {y} (noise differs)"));
        }
        if x < 0 {
            continue;
        }
        if *ab.entry(x).or_insert(y) != y || *ba.entry(y).or_insert(x) != x {
            return Err(format!("point {i}: cluster {x} against {y} (clusters not matched one to one)"));
        }
    }
    Ok(())
}

/// Adjusted Rand index, noise counted as one more label.
pub fn ari(a: &[i64], b: &[i64]) -> f64 {
    let mut table: HashMap<(i64, i64), f64> = HashMap::new();
    let (mut ra, mut rb): (HashMap<i64, f64>, HashMap<i64, f64>) = (HashMap::new(), HashMap::new());
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1.0;
        *ra.entry(x).or_default() += 1.0;
        *rb.entry(y).or_default() += 1.0;
    }
    let pairs = |v: f64| v * (v - 1.0) / 2.0;
    let index: f64 = table.values().copied().map(pairs).sum();
    let (sa, sb): (f64, f64) = (ra.values().copied().map(pairs).sum(), rb.values().copied().map(pairs).sum());
    let expected = sa * sb / pairs(a.len() as f64);
    let max = (sa + sb) / 2.0;
    if max == expected { 1.0 } else { (index - expected) / (max - expected) }
}

/// Ranks with ties averaged (1-based).
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        // A constant side: perfect only when both are constant.
        return if saa == sbb { 1.0 } else { 0.0 };
    }
    sab / (saa * sbb).sqrt()
}

/// Spearman's rank correlation (Pearson on average ranks).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}
