//! Shared test helpers: the GPU (or a visible skip), synthetic digits, one tolerance check.
#![allow(dead_code)]

use std::sync::OnceLock;

use latent_lab::backend::GpuContext;
use latent_lab::data::{InputShape, Values, MNIST_SHAPE};
use latent_lab::model::ModelKind;
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

/// `n` windows of a synthetic standardised series, `channels` × `length` each (NCL): sums of
/// two sines whose phase and period vary per window, with a little noise. Structured enough
/// that a 1-D convolutional autoencoder has something to learn.
pub fn synthetic_windows(n: usize, channels: usize, length: usize, seed: u32) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * channels * length);
    for k in 0..n {
        let u = |i: u32| rng::uniform(seed, 12, k as u32, i);
        let (phase, period) = (6.3 * u(0), 8.0 + 8.0 * u(1));
        for c in 0..channels {
            for t in 0..length {
                let x = t as f32 * std::f32::consts::TAU / period + phase + c as f32;
                let noise = 0.1 * rng::normal(seed, 13, k as u32, (c * length + t) as u32);
                out.push(x.sin() + 0.5 * (2.0 * x).cos() + noise);
            }
        }
    }
    out
}

/// The series windows the 1-D kinds train on in tests: one channel of 32 steps.
pub const WINDOW: InputShape = InputShape::Series { channels: 1, length: 32 };

/// The shape a kind's tests train it on, and `n` rows of data of that shape with a label
/// each (0–9): digits for the image kinds, windows for the 1-D kinds.
pub fn data_for(kind: ModelKind, n: usize, seed: u32) -> (InputShape, Values, Vec<u8>) {
    let labels = (0..n).map(|i| (i % 10) as u8).collect();
    if kind.is_conv1d() {
        let InputShape::Series { channels, length } = WINDOW else { unreachable!() };
        (WINDOW, Values::from(synthetic_windows(n, channels, length, seed)), labels)
    } else {
        (MNIST_SHAPE, Values::from(synthetic_digits(n, seed)), labels)
    }
}

pub mod kernel;
