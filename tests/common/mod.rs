//! Shared test helpers: the GPU (or a visible skip), synthetic digits, one tolerance check.
#![allow(dead_code)]

use std::sync::OnceLock;

use latent_lab::backend::GpuContext;
use latent_lab::rng;

/// The shared GPU context, or `None` with a visible message where no adapter exists.
/// With `REQUIRE_GPU=1` a missing adapter fails the test instead.
pub fn gpu() -> Option<&'static GpuContext> {
    static CTX: OnceLock<Option<GpuContext>> = OnceLock::new();
    let ctx = CTX.get_or_init(|| match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => {
            eprintln!("GPU: {}", ctx.describe());
            Some(ctx)
        }
        Err(e) => {
            if std::env::var("REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("REQUIRE_GPU=1 but no GPU is available: {e}");
            }
            None
        }
    });
    if ctx.is_none() {
        eprintln!("SKIPPED: no GPU adapter (install mesa-vulkan-drivers for lavapipe; set REQUIRE_GPU=1 to fail instead)");
    }
    ctx.as_ref()
}

/// `n` synthetic 28 × 28 "digits": a few thick strokes between random points, as bytes.
/// Structured enough that an autoencoder has something to learn.
pub fn synthetic_digits(n: usize, seed: u32) -> Vec<u8> {
    let mut out = vec![0u8; n * 784];
    for k in 0..n {
        let img = &mut out[k * 784..(k + 1) * 784];
        let u = |i: u32| rng::uniform(seed, 9, k as u32, i);
        let strokes = 2 + (u(0) * 2.0) as u32;
        for s in 0..strokes {
            let (x0, y0) = (6.0 + 16.0 * u(10 * s + 1), 4.0 + 20.0 * u(10 * s + 2));
            let (x1, y1) = (6.0 + 16.0 * u(10 * s + 3), 4.0 + 20.0 * u(10 * s + 4));
            for t in 0..=40 {
                let f = t as f32 / 40.0;
                let (cx, cy) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
                for py in 0..28 {
                    for px in 0..28 {
                        let d2 = (px as f32 - cx).powi(2) + (py as f32 - cy).powi(2);
                        let v = (255.0 * (1.0 - d2 / 4.0)).clamp(0.0, 255.0) as u8;
                        let p = &mut img[py * 28 + px];
                        *p = (*p).max(v);
                    }
                }
            }
        }
    }
    out
}

/// `|actual − expected| ≤ abs + rel·|expected|` everywhere; prints the first mismatches.
#[track_caller]
// The negated `<=` is deliberate: a NaN on either side must count as a mismatch.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub fn assert_close(actual: &[f32], expected: &[f32], abs: f32, rel: f32, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    let bad: Vec<String> = actual
        .iter()
        .zip(expected)
        .enumerate()
        .filter(|(_, (&a, &e))| !((a - e).abs() <= abs + rel * e.abs()))
        .take(5)
        .map(|(i, (a, e))| format!("[{i}] got {a}, expected {e}"))
        .collect();
    assert!(bad.is_empty(), "{what}: mismatches (abs {abs}, rel {rel}):\n  {}", bad.join("\n  "));
}

/// Deterministic normal values for kernel inputs.
pub fn randn(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32).map(|i| rng::normal(seed, 31, 0, i)).collect()
}
