//! The seeded sampler used wherever this crate draws rows.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `m` distinct indices of `0..n`, ascending: the first `m` positions of a Fisher–Yates shuffle of
/// `0..n` driven by `ChaCha8Rng::seed_from_u64(seed)` (position `i` swaps with a uniform position in
/// `i..n`). `m ≥ n` returns every index. Same seed, same sample, on every platform and thread count.
///
/// ```
/// let s = outflow_validate::sample_indices(10, 3, 42);
/// assert_eq!(s.len(), 3);
/// assert!(s.windows(2).all(|w| w[0] < w[1]) && s[2] < 10);
/// assert_eq!(s, outflow_validate::sample_indices(10, 3, 42));
/// ```
pub fn sample_indices(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in 0..m {
        let j = rng.random_range(i..n);
        perm.swap(i, j);
    }
    perm.truncate(m);
    perm.sort_unstable();
    perm
}
