//! `conv.wgsl` against the reference functions of the same names in
//! `src/reference/conv.rs`, on random data.
//!
//! Shapes divide neither the 256-wide workgroups nor each other (odd sizes, stride 2,
//! padding 1, output padding 1), span several workgroups, and include the MNIST encoder
//! 28 × 28 → 14 × 14 → 7 × 7 and its transpose back.

mod common;

use common::{assert_close, randn};
use latent_lab::backend::gpu::context::read_mapped_f32;
use latent_lab::backend::gpu::plan::conv_words;
use latent_lab::backend::GpuContext;
use latent_lab::reference::conv::{self as r, ConvShape};
use latent_lab::shaders::Shader;
use pollster::block_on;

// ---- harness ----

/// Largest grid of the strided 1-D kernels; they loop over whatever is left.
const MAX_GROUPS: u32 = 4096;

/// Bindings of `conv.wgsl`.
const X: u32 = 1;
const W: u32 = 2;
const BIAS: u32 = 3;
const DY: u32 = 4;
const Y: u32 = 5;
const DX: u32 = 6;
const DW: u32 = 7;
const DBIAS: u32 = 8;

/// One dispatch of `entry` over an output of `out_len` elements, with the shape's uniform at
/// binding 0, `inputs` bound read-only and `output` (filled with NaN, so an element the
/// kernel misses fails the comparison) bound read_write and read back.
fn run_conv(
    ctx: &GpuContext,
    entry: &'static str,
    s: &ConvShape,
    inputs: &[(u32, &[f32])],
    (output, out_len): (u32, usize),
) -> Vec<f32> {
    let device = &ctx.device;
    let pipeline = block_on(ctx.pipeline(Shader::Conv, entry, None))
        .unwrap_or_else(|e| panic!("{entry}: pipeline: {e}"));
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let buffer = |words: &[u32], usage: wgpu::BufferUsages| {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(entry),
            size: (words.len() as u64 * 4).max(16),
            usage: usage | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue.write_buffer(&buffer, 0, bytemuck::cast_slice(words));
        buffer
    };
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    let uniform = buffer(&conv_words(s), wgpu::BufferUsages::UNIFORM);
    let storage = wgpu::BufferUsages::STORAGE;
    let mut bound: Vec<(u32, wgpu::Buffer)> =
        inputs.iter().map(|&(binding, v)| (binding, buffer(&bits(v), storage))).collect();
    let out = buffer(&bits(&vec![f32::NAN; out_len]), storage | wgpu::BufferUsages::COPY_SRC);
    bound.push((output, out));
    let mut entries =
        vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
    entries.extend(bound.iter().map(|(binding, b)| wgpu::BindGroupEntry {
        binding: *binding,
        resource: b.as_entire_binding(),
    }));
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(entry),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let groups = (out_len.div_ceil(256) as u32).clamp(1, MAX_GROUPS);
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(entry),
        size: (out_len as u64 * 4).max(16),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder =
        device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(entry) });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(entry),
            ..Default::default()
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups, 1, 1);
    }
    let out = &bound.last().expect("the output is bound").1;
    encoder.copy_buffer_to_buffer(out, 0, &staging, 0, staging.size());
    ctx.queue.submit([encoder.finish()]);
    if let Some(e) = block_on(scope.pop()) {
        panic!("{entry}: {e}");
    }
    let rx = ctx.start_read(&staging);
    block_on(ctx.wait(rx, entry)).unwrap_or_else(|e| panic!("{entry}: readback: {e}"));
    read_mapped_f32(&staging, out_len).expect("readback")
}

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

/// Random x, w, bias, dy for a shape, fixed per seed.
struct Data {
    x: Vec<f32>,
    w: Vec<f32>,
    bias: Vec<f32>,
    dy: Vec<f32>,
}

fn data(s: &ConvShape, seed: u32) -> Data {
    Data {
        x: randn(s.x_len(), seed),
        w: randn(s.w_len(), seed + 1),
        bias: randn(s.c_out, seed + 2),
        dy: randn(s.y_len(), seed + 3),
    }
}

/// The four conv2d kernels on one shape.
fn check_conv2d(ctx: &GpuContext, s: &ConvShape, what: &str) {
    let d = data(s, 11);
    let k2 = s.taps();
    let mut want = vec![0.0; s.y_len()];
    r::conv2d_forward(&d.x, &d.w, &d.bias, &mut want, s);
    let got = run_conv(
        ctx,
        "conv2d_forward",
        s,
        &[(X, &d.x), (W, &d.w), (BIAS, &d.bias)],
        (Y, s.y_len()),
    );
    assert_matches(&got, &want, s.c_in * k2, &format!("{what} conv2d_forward"));

    let mut want = vec![0.0; s.x_len()];
    r::conv2d_backward_input(&d.dy, &d.w, &mut want, s);
    let got = run_conv(ctx, "conv2d_backward_input", s, &[(W, &d.w), (DY, &d.dy)], (DX, s.x_len()));
    assert_matches(&got, &want, s.c_out * k2, &format!("{what} conv2d_backward_input"));

    let mut want = vec![0.0; s.w_len()];
    r::conv2d_backward_weight(&d.x, &d.dy, &mut want, s);
    let got =
        run_conv(ctx, "conv2d_backward_weight", s, &[(X, &d.x), (DY, &d.dy)], (DW, s.w_len()));
    let terms = s.batch * s.out_h * s.out_w;
    assert_matches(&got, &want, terms, &format!("{what} conv2d_backward_weight"));

    let mut want = vec![0.0; s.c_out];
    r::conv2d_backward_bias(&d.dy, &mut want, s);
    let got = run_conv(ctx, "conv2d_backward_bias", s, &[(DY, &d.dy)], (DBIAS, s.c_out));
    assert_matches(&got, &want, terms, &format!("{what} conv2d_backward_bias"));
}

/// The four conv_transpose2d kernels on one shape.
fn check_conv_transpose2d(ctx: &GpuContext, s: &ConvShape, what: &str) {
    let d = data(s, 21);
    let k2 = s.taps();
    let mut want = vec![0.0; s.y_len()];
    r::conv_transpose2d_forward(&d.x, &d.w, &d.bias, &mut want, s);
    let inputs = [(X, &d.x[..]), (W, &d.w[..]), (BIAS, &d.bias[..])];
    let got = run_conv(ctx, "conv_transpose2d_forward", s, &inputs, (Y, s.y_len()));
    assert_matches(&got, &want, s.c_in * k2, &format!("{what} conv_transpose2d_forward"));

    let mut want = vec![0.0; s.x_len()];
    r::conv_transpose2d_backward_input(&d.dy, &d.w, &mut want, s);
    let inputs = [(W, &d.w[..]), (DY, &d.dy[..])];
    let got = run_conv(ctx, "conv_transpose2d_backward_input", s, &inputs, (DX, s.x_len()));
    assert_matches(&got, &want, s.c_out * k2, &format!("{what} conv_transpose2d_backward_input"));

    let mut want = vec![0.0; s.w_len()];
    r::conv_transpose2d_backward_weight(&d.x, &d.dy, &mut want, s);
    let inputs = [(X, &d.x[..]), (DY, &d.dy[..])];
    let got = run_conv(ctx, "conv_transpose2d_backward_weight", s, &inputs, (DW, s.w_len()));
    let terms = s.batch * s.in_h * s.in_w;
    assert_matches(&got, &want, terms, &format!("{what} conv_transpose2d_backward_weight"));

    let mut want = vec![0.0; s.c_out];
    r::conv_transpose2d_backward_bias(&d.dy, &mut want, s);
    let got = run_conv(ctx, "conv_transpose2d_backward_bias", s, &[(DY, &d.dy)], (DBIAS, s.c_out));
    let terms = s.batch * s.out_h * s.out_w;
    assert_matches(&got, &want, terms, &format!("{what} conv_transpose2d_backward_bias"));
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
