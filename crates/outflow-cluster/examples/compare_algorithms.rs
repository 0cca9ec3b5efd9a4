//! Run every clustering algorithm of the crate on the same data through the one `Algorithm` enum, then
//! place new points with each fitted model.
//!
//! `cargo run -p outflow-cluster --example compare_algorithms`

use ndarray::{Array2, array};
use outflow_cluster::{Algorithm, ClusterModel, Fit};

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

/// Three round blobs of 100 points (standard deviation 0.5) and 8 points scattered around them.
fn blobs() -> Array2<f64> {
    let centres = [[0.0, 0.0], [6.0, 0.0], [3.0, 6.0]];
    let mut rng = Rng(0x5EED);
    let mut rows = Vec::new();
    for c in centres {
        for _ in 0..100 {
            rows.push([c[0] + 0.5 * rng.normal(), c[1] + 0.5 * rng.normal()]);
        }
    }
    for _ in 0..8 {
        rows.push([-4.0 + 14.0 * rng.uniform(), -4.0 + 14.0 * rng.uniform()]);
    }
    Array2::from_shape_fn((rows.len(), 2), |(i, j)| rows[i][j])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let x = blobs();
    // One point inside the second blob, one far from every blob.
    let new_points = array![[6.2, -0.1], [20.0, 20.0]];
    println!("{} points, 3 blobs of 100 + 8 scattered\n", x.nrows());
    println!("{:<8} {:>8} {:>6}  new points (label, membership)", "name", "clusters", "noise");

    for name in Algorithm::NAMES {
        let mut algorithm = Algorithm::by_name(name)?;
        // k-means and Ward have no sensible default for k; the density-based ones find it.
        if algorithm.required().contains(&"k") {
            algorithm.set("k", "3")?;
        }
        let model = algorithm.fit(x.view())?;
        let noise = model.labels().iter().filter(|&&l| l < 0).count();
        let placed = model.assign(new_points.view())?;
        let shown: Vec<String> = placed
            .iter()
            .map(|m| match m.outlier_score {
                // Only HDBSCAN grades how much of an outlier a point is (GLOSH).
                Some(glosh) => format!("({}, {:.2}, GLOSH {glosh:.2})", m.label, m.probability),
                None => format!("({}, {:.2})", m.label, m.probability),
            })
            .collect();
        println!("{:<8} {:>8} {:>6}  {}", model.name(), model.n_clusters(), noise, shown.join(" "));
        println!("         {}", model.describe());
    }
    // Cluster numbers are each algorithm's own. k-means and Ward put every point in a cluster; HDBSCAN and
    // DBSCAN call a point far from every cluster noise (-1).
    Ok(())
}
