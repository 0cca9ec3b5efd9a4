//! The simulator's random numbers: a small seeded generator (xorshift64*) and the few distributions the
//! traffic needs. Written here rather than taken from `rand` so that a seed gives the same log on every
//! platform and every version of a dependency: the simulated logs are test data.

/// A seeded generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform(0.0, 1.0) < p
    }

    /// A standard normal draw (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(0.0, 1.0); // in (0, 1]: the logarithm stays finite
        let v = self.uniform(0.0, 1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// A log-normal draw with the given median and log-scale spread, clamped to `[lo, hi]`: the sizes and
    /// durations of network traffic are heavy-tailed, and a clamp keeps one draw from leaving what a
    /// real network carries.
    pub fn lognormal(&mut self, median: f64, sigma: f64, lo: f64, hi: f64) -> f64 {
        (median * (sigma * self.normal()).exp()).clamp(lo, hi)
    }

    /// An exponential draw with the given mean (waiting times of a Poisson process).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform(0.0, 1.0)).ln()
    }

    /// An index drawn with probability proportional to the weights' increments (`cumulative` is
    /// non-decreasing and its last value positive).
    pub fn pick(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.uniform(0.0, total);
        cumulative.partition_point(|&c| c <= x).min(cumulative.len().saturating_sub(1))
    }

    /// A public (not private, not reserved) IPv4 address.
    pub fn public_ip(&mut self) -> String {
        loop {
            let a = self.int(11, 223);
            if [100, 127, 169, 172, 192].contains(&a) {
                continue;
            }
            return format!("{a}.{}.{}.{}", self.int(0, 255), self.int(0, 255), self.int(1, 254));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_stream() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut r = Rng::new(3);
        let cumulative = [1.0, 1.0, 3.0];
        let mut seen = [0usize; 3];
        for _ in 0..10_000 {
            let u = r.uniform(2.0, 5.0);
            assert!((2.0..5.0).contains(&u));
            assert!((4..=9).contains(&r.int(4, 9)));
            assert!((10.0..=20.0).contains(&r.lognormal(15.0, 3.0, 10.0, 20.0)));
            assert!(r.exponential(2.0) >= 0.0);
            seen[r.pick(&cumulative)] += 1;
        }
        // The middle weight is zero; the last is twice the first.
        assert_eq!(seen[1], 0);
        let ratio = seen[2] as f64 / seen[0] as f64;
        assert!((1.8..2.2).contains(&ratio), "{ratio}");
    }

    #[test]
    fn normal_draws_have_unit_spread() {
        let mut r = Rng::new(11);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }
}
