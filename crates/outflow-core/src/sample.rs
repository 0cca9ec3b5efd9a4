//! The one seeded row sampler: the same seed picks the same rows in every crate.

use rand::SeedableRng;
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
