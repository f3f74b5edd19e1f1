//! The counter-based RNG, written identically in `shaders/rng.wgsl`.
//!
//! Every random number is a pure function of (seed, stream, counter, index): no state is
//! carried from one draw to the next, so the GPU and the CPU executor draw the very same ε,
//! the same minibatches and the same initial weights, in any order and in parallel.
//! The mixing function is the PCG-RXS-M-XS hash of Jarzynski & Olano (2020), nested once
//! per input word.

/// Streams keep unrelated uses of one seed apart.
pub mod stream {
    /// Initial weights: stream `INIT + parameter index`.
    pub const INIT: u32 = 0x1000;
    /// Minibatch permutation.
    pub const BATCH: u32 = 1;
    /// ε of the VAE reparameterisation during training.
    pub const EPS: u32 = 2;
    /// N(0, 1) latents of `sample`.
    pub const SAMPLE: u32 = 3;
    /// ε of evaluation runs.
    pub const EVAL: u32 = 4;
    /// Input corruption of the denoising autoencoder.
    pub const NOISE: u32 = 5;
}

#[inline]
pub fn pcg_hash(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// 32 random bits for (seed, stream, counter, index).
#[inline]
pub fn random_u32(seed: u32, stream: u32, counter: u32, index: u32) -> u32 {
    pcg_hash(index ^ pcg_hash(counter ^ pcg_hash(stream ^ pcg_hash(seed))))
}

/// Uniform in [0, 1), 24 bits of resolution (exact in f32).
#[inline]
pub fn uniform(seed: u32, stream: u32, counter: u32, index: u32) -> f32 {
    (random_u32(seed, stream, counter, index) >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Standard normal by Box–Muller from two uniforms (indices 2i and 2i + 1).
#[inline]
pub fn normal(seed: u32, stream: u32, counter: u32, index: u32) -> f32 {
    let i = index.wrapping_mul(2);
    // (0, 1]: never log(0).
    let u1 = ((random_u32(seed, stream, counter, i) >> 8) + 1) as f32 * (1.0 / 16_777_216.0);
    let u2 = uniform(seed, stream, counter, i.wrapping_add(1));
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// A bijection of `[0, n)` chosen by (seed, epoch): a 4-round Feistel network on the
/// smallest even number of bits covering `n`, with cycle-walking back into range.
/// Minibatches draw every training image once per epoch, in a fresh order each epoch.
pub fn permute(i: u32, n: u32, seed: u32, epoch: u32) -> u32 {
    debug_assert!(i < n);
    let bits = 32 - (n.max(2) - 1).leading_zeros();
    let half = bits.div_ceil(2);
    let mask = (1u32 << half) - 1;
    let mut x = i;
    loop {
        let mut left = x >> half;
        let mut right = x & mask;
        for round in 0..4u32 {
            let f = random_u32(seed, stream::BATCH, epoch, right ^ (round << 24)) & mask;
            let next = left ^ f;
            left = right;
            right = next;
        }
        x = (left << half) | right;
        if x < n {
            return x;
        }
    }
}

/// Index of the training image at row `row` of the minibatch of step `step`.
pub fn batch_index(seed: u32, step: u32, row: u32, batch: u32, n: u32) -> u32 {
    let position = step.wrapping_mul(batch).wrapping_add(row);
    permute(position % n, n, seed, position / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg_hash_matches_published_values() {
        // Computed with an independent Python transcription of the published hash.
        assert_eq!(pcg_hash(0), 129_708_002);
        assert_ne!(pcg_hash(1), pcg_hash(0));
    }

    #[test]
    fn permute_is_a_bijection_for_awkward_sizes() {
        for &n in &[1u32, 2, 3, 7, 100, 1000, 8000] {
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let j = permute(i, n, 42, 3) as usize;
                assert!(!seen[j], "n = {n}: {j} drawn twice");
                seen[j] = true;
            }
        }
    }

    #[test]
    fn permutation_changes_with_epoch() {
        let a: Vec<u32> = (0..100).map(|i| permute(i, 100, 1, 0)).collect();
        let b: Vec<u32> = (0..100).map(|i| permute(i, 100, 1, 1)).collect();
        assert_ne!(a, b);
        let identity: Vec<u32> = (0..100).collect();
        assert_ne!(a, identity);
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let n = 200_000u32;
        let (mut su, mut sn, mut sn2) = (0f64, 0f64, 0f64);
        for i in 0..n {
            let u = uniform(7, 0, 1, i);
            assert!((0.0..1.0).contains(&u));
            su += u as f64;
            let z = normal(7, 0, 1, i) as f64;
            sn += z;
            sn2 += z * z;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 0.005);
        assert!((sn / n).abs() < 0.01);
        assert!((sn2 / n - 1.0).abs() < 0.01);
    }
}
