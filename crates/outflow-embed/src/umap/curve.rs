//! The low-dimensional similarity curve `1 / (1 + a·d^(2b))` fitted to the offset exponential that
//! `min_dist` and `spread` describe (umap-learn's `find_ab_params`).

/// Samples of the target curve: 300 distances evenly spaced over `[0, 3·spread]`.
const SAMPLES: usize = 300;

/// `(a, b)` minimising the squared error between `1 / (1 + a·x^(2b))` and `1` below `min_dist`,
/// `exp(−(x − min_dist) / spread)` above it, over the samples. Levenberg–Marquardt from `(1, 1)`, as
/// SciPy's `curve_fit`; the least-squares minimum is what both reach.
pub fn find_ab_params(spread: f64, min_dist: f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..SAMPLES).map(|i| 3.0 * spread * i as f64 / (SAMPLES - 1) as f64).collect();
    let ys: Vec<f64> = xs.iter().map(|&x| if x < min_dist { 1.0 } else { (-(x - min_dist) / spread).exp() }).collect();
    // Residuals and Jacobian at (a, b).
    let eval = |a: f64, b: f64| {
        let mut cost = 0.0;
        let (mut jtj, mut jtr) = ([0.0f64; 3], [0.0f64; 2]);
        for (&x, &y) in xs.iter().zip(&ys) {
            let u = if x > 0.0 { x.powf(2.0 * b) } else { 0.0 };
            let f = 1.0 / (1.0 + a * u);
            let r = f - y;
            let df = -f * f;
            let ja = df * u;
            let jb = if x > 0.0 { df * a * u * 2.0 * x.ln() } else { 0.0 };
            cost += r * r;
            jtj[0] += ja * ja;
            jtj[1] += ja * jb;
            jtj[2] += jb * jb;
            jtr[0] += ja * r;
            jtr[1] += jb * r;
        }
        (cost, jtj, jtr)
    };
    let (mut a, mut b) = (1.0f64, 1.0f64);
    let (mut cost, mut jtj, mut jtr) = eval(a, b);
    let mut lambda = 1e-3;
    for _ in 0..500 {
        let (d0, d2) = (jtj[0] * (1.0 + lambda), jtj[2] * (1.0 + lambda));
        let det = d0 * d2 - jtj[1] * jtj[1];
        if det == 0.0 || !det.is_finite() {
            break;
        }
        let da = -(d2 * jtr[0] - jtj[1] * jtr[1]) / det;
        let db = -(d0 * jtr[1] - jtj[1] * jtr[0]) / det;
        let (na, nb) = (a + da, b + db);
        let (nc, njtj, njtr) = eval(na, nb);
        if nc.is_finite() && nc <= cost {
            let small = (da.abs() <= 1e-13 * (1.0 + a.abs())) && (db.abs() <= 1e-13 * (1.0 + b.abs()));
            (a, b, cost, jtj, jtr) = (na, nb, nc, njtj, njtr);
            lambda = (lambda / 10.0).max(1e-15);
            if small || cost == 0.0 {
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e15 {
                break;
            }
        }
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_umaps_well_known_curve() {
        // umap-learn's a, b for min_dist 0.1, spread 1 (printed in many of its examples).
        let (a, b) = find_ab_params(1.0, 0.1);
        assert!((a - 1.576_943_460_405_378_3).abs() < 1e-5, "a = {a}");
        assert!((b - 0.895_060_878_123_384_4).abs() < 1e-5, "b = {b}");
    }
}
