//! The one seeded row sampler (the same seed picks the same rows in every crate) and the one standard
//! normal draw.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `m` distinct indices of `0..n`, ascending, drawn uniformly by `rand`'s `seq::index::sample` from
/// `ChaCha8Rng::seed_from_u64(seed)`; `m ≥ n` returns every index. Memory is O(m) for small samples of
/// large inputs. Same seed, same sample, on every platform and thread count.
///
/// ```
/// let s = outflow_core::sample_indices(10, 3, 42);
/// assert_eq!(s.len(), 3);
/// assert!(s.windows(2).all(|w| w[0] < w[1]) && s[2] < 10);
/// assert_eq!(s, outflow_core::sample_indices(10, 3, 42));
/// assert_eq!(outflow_core::sample_indices(3, 5, 1), vec![0, 1, 2]);
/// ```
pub fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = rand::seq::index::sample(&mut rng, n, m).into_vec();
    rows.sort_unstable();
    rows
}

/// One standard normal draw (Box–Muller, the cosine half) from `rng`: two uniform draws per value, so a
/// stream gives the same values on every platform.
///
/// ```
/// use rand::SeedableRng;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
/// let v: Vec<f64> = (0..20_000).map(|_| outflow_core::standard_normal(&mut rng)).collect();
/// let mean = v.iter().sum::<f64>() / v.len() as f64;
/// let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / v.len() as f64;
/// assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05);
/// ```
pub fn standard_normal<R: RngExt + ?Sized>(rng: &mut R) -> f64 {
    // 1 − u keeps the logarithm finite (u is in [0, 1)).
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
