//! How many clusters? The elbow, silhouette and gap rules over k-means fits for a range of k, then two
//! internal indices of a labelling (here the true one): silhouette and DBCV.
//!
//! `cargo run -p outflow-validate --example choose_k`

use ndarray::Array2;
use outflow_cluster::Metric;
use outflow_validate::{TendencyParams, dbcv, k_table, silhouette_score};

/// xorshift64*: deterministic data without a dependency on `rand`.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal, by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(f64::MIN_POSITIVE);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// Three round blobs of 100 points and 8 scattered points, with their true labels (−1 for the scatter).
fn blobs() -> (Array2<f64>, Vec<i64>) {
    let centres = [[0.0, 0.0], [6.0, 0.0], [3.0, 6.0]];
    let mut rng = Rng(0x5EED);
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for (label, c) in (0..).zip(centres) {
        for _ in 0..100 {
            rows.push([c[0] + 0.5 * rng.normal(), c[1] + 0.5 * rng.normal()]);
            labels.push(label);
        }
    }
    for _ in 0..8 {
        rows.push([-4.0 + 14.0 * rng.uniform(), -4.0 + 14.0 * rng.uniform()]);
        labels.push(-1);
    }
    (Array2::from_shape_fn((rows.len(), 2), |(i, j)| rows[i][j]), labels)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, truth) = blobs();

    // k = 1 is included so the gap rule can also answer "no cluster structure".
    let params = TendencyParams { k_min: 1, k_max: 8, n_refs: 10, seed: 7, ..Default::default() };
    let table = k_table(x.view(), &params)?;
    println!("{:>3} {:>12} {:>10} {:>8} {:>8}", "k", "inertia", "silhouette", "gap", "s_k");
    for r in &table.rows {
        let sil = r.silhouette.map_or("-".to_owned(), |s| format!("{s:.4}"));
        println!("{:>3} {:>12.2} {:>10} {:>8.4} {:>8.4}", r.k, r.inertia, sil, r.gap, r.s_k);
    }
    // k-means must put the scattered points somewhere; a few clusters of their own can lift the silhouette
    // past the true k, which is why the rules are worth comparing.
    let show = |k: Option<usize>| k.map_or("none in range".to_owned(), |k| k.to_string());
    println!(
        "\nchosen k: elbow {}, silhouette {}, gap {}",
        show(table.k_elbow),
        show(table.k_silhouette),
        show(table.k_gap)
    );

    // Both indices leave noise (label -1) out of every cluster; DBCV also counts it against the score.
    let sil = silhouette_score(x.view(), &truth)?;
    let d = dbcv(x.view(), &truth, Metric::Euclidean)?;
    println!("\ntrue labels: silhouette {sil:.4}, DBCV {:.4} (coverage {:.3})", d.value, d.coverage);
    for c in &d.clusters {
        println!("  cluster {}: {} points, validity {:.4}", c.label, c.size, c.validity);
    }
    Ok(())
}
