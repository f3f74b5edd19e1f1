//! `conv.wgsl` through the conv ops' own plans, against the ops' CPU functions (the tap
//! list of `src/ops/conv.rs`), on random data.
//!
//! Shapes divide neither the 256-wide workgroups nor each other (odd sizes, stride 2,
//! padding 1, output padding 1), span several workgroups, and include the MNIST encoder
//! 28 × 28 → 14 × 14 → 7 × 7 and its transpose back. The gradients add to what their
//! outputs hold, so those start from random values.

mod common;

use common::kernel::Case;
use common::{assert_close, randn};
use latent_lab::backend::GpuContext;
use latent_lab::model::{ConvShape, ModelSpec};
use latent_lab::ops::linear::Schedule;
use latent_lab::ops::{ConvBackwardBias, ConvBackwardInput, ConvBackwardWeight, ConvForward};

/// The one tolerance of this file: the GPU sums the same products as the reference in
/// another order, so the error grows with the number of terms per output (up to
/// B·H_out·W_out for the weight and bias gradients). `abs` is loosened by √terms, the
/// random-walk growth of f32 rounding over a sum of unit-sized products.
fn assert_matches(gpu: &[f32], reference: &[f32], terms: usize, what: &str) {
    let (mut max_abs, mut max_rel) = (0f32, 0f32);
    for (g, r) in gpu.iter().zip(reference) {
        max_abs = max_abs.max((g - r).abs());
        max_rel = max_rel.max((g - r).abs() / r.abs().max(1e-3));
    }
    eprintln!("{what}: max |gpu − ref| {max_abs:.2e}, max relative {max_rel:.2e} ({terms} terms)");
    assert_close(gpu, reference, 1e-5 * (terms as f32).sqrt(), 1e-4, what);
}

/// The forward op and its three gradients on one shape: conv2d, or conv_transpose2d with
/// `transpose`.
fn check(ctx: &GpuContext, s: &ConvShape, transpose: bool, what: &str) {
    let name = if transpose { "conv_transpose2d" } else { "conv2d" };
    let mut c = Case::new(ModelSpec::default(), s.batch);
    let seed = if transpose { 21 } else { 11 };
    let (x_cols, y_cols) = (s.x_len() / s.batch, s.y_len() / s.batch);
    // conv2d's weight is c_out × (c_in·k_h·k_w), conv_transpose2d's c_in × (c_out·k_h·k_w).
    let (first, second) = if transpose { (s.c_in, s.c_out) } else { (s.c_out, s.c_in) };
    let taps = s.taps();
    let x = c.tensor(s.batch, x_cols, randn(s.x_len(), seed));
    let w = c.tensor(first, second * taps, randn(s.w_len(), seed + 1));
    let b = c.tensor(1, s.c_out, randn(s.c_out, seed + 2));
    let dy = c.tensor(s.batch, y_cols, randn(s.y_len(), seed + 3));
    let y = c.tensor(s.batch, y_cols, vec![f32::NAN; s.y_len()]);
    let dx = c.tensor(s.batch, x_cols, randn(s.x_len(), seed + 4));
    let dw = c.tensor(first, second * taps, randn(s.w_len(), seed + 5));
    let db = c.tensor(1, s.c_out, randn(s.c_out, seed + 6));
    let shape = *s;
    let run = |op: latent_lab::ops::Op, out: usize, terms: usize, entry: &str| {
        let (gpu, cpu) = (c.gpu(ctx, op.clone(), Schedule::Blocked), c.cpu(op));
        assert_matches(gpu.get(out), cpu.get(out), terms, &format!("{what} {name}_{entry}"));
    };
    // Products per output: the forward sums c_in·taps (c_in of the op's input), the input
    // gradient c_out·taps, the weight and bias gradients every position of the strided side.
    let positions = if transpose { s.batch * s.in_h * s.in_w } else { s.batch * s.out_h * s.out_w };
    run(ConvForward { transpose, x, w, b, y, shape }.into(), y, s.c_in * taps, "forward");
    let op = ConvBackwardInput { transpose, dy, w, dx, shape }.into();
    run(op, dx, s.c_out * taps, "backward_input");
    run(
        ConvBackwardWeight { transpose, x, dy, dw, shape }.into(),
        dw,
        positions,
        "backward_weight",
    );
    let op = ConvBackwardBias { transpose, dy, db, shape }.into();
    run(op, db, s.batch * s.out_h * s.out_w, "backward_bias");
}

fn check_conv2d(ctx: &GpuContext, s: &ConvShape, what: &str) {
    check(ctx, s, false, what);
}

fn check_conv_transpose2d(ctx: &GpuContext, s: &ConvShape, what: &str) {
    check(ctx, s, true, what);
}

// ---- conv2d ----

#[test]
fn conv2d_should_match_reference_stride_2_padding_1_odd_sizes() {
    let Some(ctx) = common::gpu() else { return };
    // 13 × 11 → 7 × 6; y 630, x 1287 elements: 3 and 6 workgroups, neither a multiple of 256.
    let s = ConvShape::conv2d(3, [3, 5], [13, 11], 3, 2, 1);
    check_conv2d(ctx, &s, "k3 s2 p1 13×11");
    // Kernel 4 with stride 2 reads every input pixel twice.
    let s = ConvShape::conv2d(3, [3, 5], [13, 11], 4, 2, 1);
    check_conv2d(ctx, &s, "k4 s2 p1 13×11");
}

#[test]
fn conv2d_should_match_reference_weight_gradient_over_several_workgroups() {
    let Some(ctx) = common::gpu() else { return };
    // dw: 7·6·9 = 378 elements (2 workgroups, a partial second); stride 1, padding 2 and a
    // stride-3 kernel that skips pixels.
    let s = ConvShape::conv2d(2, [6, 7], [9, 10], 3, 1, 2);
    check_conv2d(ctx, &s, "k3 s1 p2 9×10");
    let s = ConvShape::conv2d(2, [6, 7], [9, 10], 3, 3, 0);
    check_conv2d(ctx, &s, "k3 s3 p0 9×10");
}

#[test]
fn conv2d_should_match_reference_mnist_encoder() {
    let Some(ctx) = common::gpu() else { return };
    let e1 = ConvShape::conv2d(16, [1, 16], [28, 28], 4, 2, 1);
    let e2 = ConvShape::conv2d(16, [16, 32], [14, 14], 4, 2, 1);
    assert_eq!((e1.out_h, e1.out_w, e2.out_h, e2.out_w), (14, 14, 7, 7));
    check_conv2d(ctx, &e1, "mnist 28→14");
    check_conv2d(ctx, &e2, "mnist 14→7");
}

// ---- conv_transpose2d ----

#[test]
fn conv_transpose2d_should_match_reference_output_padding_1_odd_sizes() {
    let Some(ctx) = common::gpu() else { return };
    // 13 × 11 → 26 × 22: y 8580 elements, 34 workgroups with a partial last one.
    let s = ConvShape::conv_transpose2d(3, [3, 5], [13, 11], 3, 2, [1, 1]);
    check_conv_transpose2d(ctx, &s, "k3 s2 p1 op1 13×11");
    let s = ConvShape::conv_transpose2d(3, [3, 5], [13, 11], 4, 2, [1, 0]);
    check_conv_transpose2d(ctx, &s, "k4 s2 p1 13×11");
    // Stride 3 with a kernel of 2 leaves output pixels no tap reaches: y = bias there.
    let s = ConvShape::conv_transpose2d(2, [6, 7], [5, 4], 2, 3, [0, 2]);
    check_conv_transpose2d(ctx, &s, "k2 s3 op2 5×4");
}

#[test]
fn conv_transpose2d_should_match_reference_mnist_decoder() {
    let Some(ctx) = common::gpu() else { return };
    // The mirror of the encoder above: 7 × 7 → 14 × 14 → 28 × 28, same weight buffers.
    let d1 = ConvShape::conv2d(16, [16, 32], [14, 14], 4, 2, 1).transpose();
    let d2 = ConvShape::conv2d(16, [1, 16], [28, 28], 4, 2, 1).transpose();
    assert_eq!((d1.out_h, d1.out_w, d2.out_h, d2.out_w), (14, 14, 28, 28));
    check_conv_transpose2d(ctx, &d1, "mnist 7→14");
    check_conv_transpose2d(ctx, &d2, "mnist 14→28");
    // Kernel 3 needs output padding 1 to get back to 28.
    let d3 = ConvShape::conv_transpose2d(16, [8, 1], [14, 14], 3, 2, [1, 1]);
    assert_eq!((d3.out_h, d3.out_w), (28, 28));
    check_conv_transpose2d(ctx, &d3, "mnist k3 op1 14→28");
}

// ---- conv1d (the 2-D kernels on planes of height 1, 1 × k kernels) ----

#[test]
fn conv1d_should_match_reference_on_awkward_lengths_over_several_workgroups() {
    let Some(ctx) = common::gpu() else { return };
    // 5 windows × 3 channels × 333 steps → 5 × 7 × 166: y 5,810 and x 4,995 elements (23 and
    // 20 workgroups, a partial last one), dw 7·3·4 = 84.
    let s = ConvShape::conv1d(5, [3, 7], 333, 4, 2, 1);
    assert!(s.is_1d() && s.out_w == 166);
    check_conv2d(ctx, &s, "conv1d k4 s2 p1 L333");
    check_conv_transpose2d(ctx, &s.transpose(), "conv_transpose1d k4 s2 p1 L166→333");
    // A stride-3 kernel of 2 that skips steps, and padding 2 with stride 1.
    let s = ConvShape::conv1d(4, [2, 5], 301, 2, 3, 0);
    check_conv2d(ctx, &s, "conv1d k2 s3 p0 L301");
    check_conv_transpose2d(ctx, &s.transpose(), "conv_transpose1d k2 s3 p0");
    let s = ConvShape::conv1d(3, [4, 4], 257, 3, 1, 2);
    check_conv2d(ctx, &s, "conv1d k3 s1 p2 L257");
}

#[test]
fn conv1d_should_match_reference_on_the_conv1d_ae_encoder_and_decoder() {
    let Some(ctx) = common::gpu() else { return };
    // conv1d_ae on windows of 64 with channels [16, 32]: 64 → 32 → 16 and back.
    let e1 = ConvShape::conv1d(32, [1, 16], 64, 4, 2, 1);
    let e2 = ConvShape::conv1d(32, [16, 32], 32, 4, 2, 1);
    assert_eq!((e1.out_w, e2.out_w), (32, 16));
    check_conv2d(ctx, &e1, "conv1d_ae 64→32");
    check_conv2d(ctx, &e2, "conv1d_ae 32→16");
    check_conv_transpose2d(ctx, &e2.transpose(), "conv1d_ae 16→32");
    check_conv_transpose2d(ctx, &e1.transpose(), "conv1d_ae 32→64");
}
