//! Times `outflow_validate::silhouette` on raw little-endian files, for benches/scripts/validate_vs_sklearn.sh.
//!
//! ```text
//! silhouette_tool DATA.f64 LABELS.i64 ROWS COLS [REPEAT]
//! ```
//! Prints one JSON line: the score, the best wall time in seconds over REPEAT runs, and the thread count.

use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        eprintln!("usage: silhouette_tool DATA.f64 LABELS.i64 ROWS COLS [REPEAT]");
        std::process::exit(2);
    }
    let (n, d): (usize, usize) = (a[3].parse().expect("ROWS"), a[4].parse().expect("COLS"));
    let repeat: usize = a.get(5).map_or(3, |s| s.parse().expect("REPEAT"));
    let raw = std::fs::read(&a[1]).expect("DATA");
    let x: Vec<f64> = raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect();
    let raw = std::fs::read(&a[2]).expect("LABELS");
    let y: Vec<i64> = raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect();
    assert_eq!((x.len(), y.len()), (n * d, n), "file sizes do not match ROWS × COLS");
    let x = ndarray::Array2::from_shape_vec((n, d), x).unwrap();
    let mut best = f64::INFINITY;
    let mut score = 0.0;
    for _ in 0..repeat {
        let t = Instant::now();
        score = outflow_validate::silhouette_score(x.view(), &y).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{{\"score\": {score:?}, \"seconds\": {best}, \"threads\": {}}}", rayon::current_num_threads());
}
