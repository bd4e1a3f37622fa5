//! A named, portable random number generator: xoshiro256++ (Blackman and Vigna), seeded from a
//! `u64` through SplitMix64. The same seed draws the same numbers on every platform, 32-bit
//! wasm included (never `SmallRng`, whose algorithm differs by pointer width, nor a global or
//! thread RNG: core takes randomness as an argument).
//!
//! Floating-point draws use the `libm` crate's functions (a pure-Rust port of musl's libm)
//! rather than the platform's, so transcendental functions round identically everywhere.

/// Anything that produces uniformly random 64-bit words; implement it to use your own RNG.
pub trait RandomSource {
    /// The next uniformly distributed 64-bit word.
    fn next_u64(&mut self) -> u64;

    /// A uniform double in [0, 1) with 53 random bits.
    fn next_f64(&mut self) -> f64 {
        // (As i64: the value is below 2^53, and the signed conversion is one instruction.)
        (self.next_u64() >> 11) as i64 as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform double in (0, 1): never 0, so its logarithm is finite.
    fn next_open_f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as i64 as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (n > 0; 0 when n is 0), without modulo bias (Lemire's
    /// multiply-and-reject).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// xoshiro256++.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Xoshiro256PlusPlus {
    s: [u64; 4],
}

impl Xoshiro256PlusPlus {
    /// The generator seeded from `seed` by SplitMix64 (as rand_xoshiro's `seed_from_u64`).
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Xoshiro256PlusPlus {
            s: [next(), next(), next(), next()],
        }
    }
}

impl RandomSource for Xoshiro256PlusPlus {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let result = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        self.s = [s0, s1, s2 ^ t, s3.rotate_left(45)];
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values_from_an_independent_implementation() {
        // scripts: a Python transcription of the reference C code.
        let mut r = Xoshiro256PlusPlus::seed_from_u64(0);
        let got: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            vec![
                0x5317_5d61_490b_23df,
                0x61da_6f3d_c380_d507,
                0x5c0f_df91_ec9a_7bfc,
                0x02ee_bf8c_3bbe_5e1a
            ]
        );
        let mut r = Xoshiro256PlusPlus::seed_from_u64(42);
        let got: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            vec![
                0xd076_4d4f_4476_689f,
                0x519e_4174_576f_3791,
                0xfbe0_7cfb_0c24_ed8c,
                0xb37d_9f60_0cd8_35b8
            ]
        );
    }

    #[test]
    fn bounded_draws_are_in_range_and_unbiased() {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.below(3) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(r.below(0), 0);
        let x = r.next_open_f64();
        assert!(x > 0.0 && x < 1.0);
    }
}
