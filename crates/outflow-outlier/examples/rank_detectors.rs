//! Fit every outlier detector of the crate on the same synthetic data with planted outliers, and rank
//! them by ROC-AUC and average precision against the known answer.
//!
//! `cargo run -p outflow-outlier --example rank_detectors`

use ndarray::Array2;
use outflow_outlier::{Algorithm, Fit, OutlierModel, metrics};

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

/// 490 inliers in two 4-D clusters where features 2 and 3 follow features 0 and 1, and 10 outliers
/// (2 %): half far from everything, half with ordinary values that break the pattern. The label says
/// which rows are outliers.
fn data() -> (Array2<f64>, Vec<bool>) {
    let mut rng = Rng(2024);
    let mut x = Array2::zeros((500, 4));
    let mut y = vec![false; 500];
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        let centre = if i % 3 == 0 { 4.0 } else { 0.0 };
        let (a, b) = (rng.normal(), rng.normal());
        row[0] = centre + a;
        row[1] = centre + b;
        row[2] = centre + a + b + 0.2 * rng.normal();
        row[3] = centre + a - b + 0.2 * rng.normal();
        if i >= 495 {
            row.iter_mut().for_each(|v| *v = -8.0 + 20.0 * rng.uniform());
        } else if i >= 490 {
            // Each value is typical on its own; only the combination is odd.
            row[2] = centre + a - b;
            row[3] = centre + a + b;
        }
        y[i] = i >= 490;
    }
    (x, y)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, y) = data();
    println!("{} rows × {} features, {} planted outliers\n", x.nrows(), x.ncols(), y.iter().filter(|&&o| o).count());

    let mut ranked = Vec::new();
    for name in Algorithm::NAMES {
        // Presets take a seed for the randomised detectors (Isolation Forest, CBLOF, GMM, fusion).
        let detector = Algorithm::preset(name, 7)?;
        // Every preset fits on a plain matrix (GLOSH and cluster rarity run their own HDBSCAN); a fit
        // that fails on some data is reported and left out of the ranking.
        let model = match detector.fit(x.view()) {
            Ok(m) => m,
            Err(e) => {
                println!("skipped {name}: {e}");
                continue;
            }
        };
        let scores = model.training_scores();
        ranked.push((name, metrics::roc_auc(&y, scores)?, metrics::average_precision(&y, scores)?));
    }
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.total_cmp(&a.2)));

    println!("{:<20} {:>8} {:>8}", "detector", "ROC-AUC", "AP");
    for (name, auc, ap) in &ranked {
        println!("{name:<20} {auc:>8.4} {ap:>8.4}");
    }
    Ok(())
}
