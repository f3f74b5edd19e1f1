//! Every WGSL entry point on its own: hand-computed cases, and the GPU against the reference
//! function of the same name in `src/reference.rs` on random data.
//!
//! Uniform words, grids and bindings mirror `src/backend/gpu/plan.rs` exactly. Shapes are
//! chosen to divide neither the 64-wide matmul tiles nor the 16 × 16 / 256-wide workgroups,
//! and to span several workgroups in every grid dimension.

mod common;

use common::{assert_close, randn};
use latent_lab::backend::gpu::context::read_mapped_f32;
use latent_lab::backend::GpuContext;
use latent_lab::model::{Activation, LossKind, NoiseKind, SparsityPenalty, LEAKY_SLOPE};
use latent_lab::shaders::Shader;
use latent_lab::{reference, rng};
use pollster::block_on;

// ---- harness ----

/// Initial contents of one storage buffer, as 32-bit words (u32, or f32 bits).
enum BufferInit {
    /// Bound `var<storage, read>`: uploaded, never read back.
    Read(Vec<u32>),
    /// Bound `var<storage, read_write>`: uploaded, then read back after the dispatch.
    ReadWrite(Vec<u32>),
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn read(values: &[f32]) -> BufferInit {
    BufferInit::Read(bits(values))
}

fn read_write(values: &[f32]) -> BufferInit {
    BufferInit::ReadWrite(bits(values))
}

/// The step counter: a storage buffer whose first u32 is the step.
fn state(step: u32) -> BufferInit {
    BufferInit::Read(vec![step])
}

/// The read_write buffers after the dispatch, by binding.
struct Outputs(Vec<(u32, Vec<u32>)>);

impl Outputs {
    fn u32(&self, binding: u32) -> Vec<u32> {
        let found = self.0.iter().find(|(b, _)| *b == binding);
        found.unwrap_or_else(|| panic!("binding {binding} is not read_write")).1.clone()
    }

    fn f32(&self, binding: u32) -> Vec<f32> {
        self.u32(binding).into_iter().map(f32::from_bits).collect()
    }
}

/// One dispatch of `entry` with `uniform` at binding 0 (when given) and storage buffers
/// made from `buffers`; returns the read_write buffers read back.
fn run_kernel(
    ctx: &GpuContext,
    shader: Shader,
    entry: &'static str,
    uniform: Option<[u32; 8]>,
    groups: [u32; 3],
    buffers: &[(u32, BufferInit)],
) -> Outputs {
    run_kernel_with(ctx, shader, entry, None, uniform, groups, buffers)
}

/// `run_kernel` with the `TILED` override of `linear.wgsl` set.
fn run_kernel_with(
    ctx: &GpuContext,
    shader: Shader,
    entry: &'static str,
    tiled: Option<bool>,
    uniform: Option<[u32; 8]>,
    groups: [u32; 3],
    buffers: &[(u32, BufferInit)],
) -> Outputs {
    let device = &ctx.device;
    let pipeline = block_on(ctx.pipeline(shader, entry, tiled))
        .unwrap_or_else(|e| panic!("{entry}: pipeline: {e}"));
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let storage: Vec<(u32, wgpu::Buffer, Option<usize>)> = buffers
        .iter()
        .map(|(binding, init)| {
            let (words, out_len) = match init {
                BufferInit::Read(w) => (w, None),
                BufferInit::ReadWrite(w) => (w, Some(w.len())),
            };
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(entry),
                size: (words.len() as u64 * 4).max(16),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            ctx.queue.write_buffer(&buffer, 0, bytemuck::cast_slice(words));
            (*binding, buffer, out_len)
        })
        .collect();
    let uniform = uniform.map(|words| {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(entry),
            size: 32,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        ctx.queue.write_buffer(&buffer, 0, bytemuck::cast_slice(&words));
        buffer
    });
    let mut entries: Vec<wgpu::BindGroupEntry> = storage
        .iter()
        .map(|(binding, buffer, _)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: buffer.as_entire_binding(),
        })
        .collect();
    if let Some(u) = &uniform {
        entries.push(wgpu::BindGroupEntry { binding: 0, resource: u.as_entire_binding() });
    }
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(entry),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
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
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
    }
    let staged: Vec<(u32, wgpu::Buffer, usize)> = storage
        .iter()
        .filter_map(|(binding, buffer, out_len)| {
            let len = (*out_len)?;
            let staging = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(entry),
                size: buffer.size(),
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
            Some((*binding, staging, len))
        })
        .collect();
    ctx.queue.submit([encoder.finish()]);
    if let Some(e) = block_on(scope.pop()) {
        panic!("{entry}: {e}");
    }
    let outputs = staged
        .into_iter()
        .map(|(binding, staging, len)| {
            let rx = ctx.start_read(&staging);
            block_on(ctx.wait(rx, entry)).unwrap_or_else(|e| panic!("{entry}: readback: {e}"));
            let values = read_mapped_f32(&staging, len).expect("readback");
            (binding, values.into_iter().map(f32::to_bits).collect())
        })
        .collect();
    Outputs(outputs)
}

/// The 1-D grid of the strided kernels: ⌈len / size⌉ workgroups, at most 4096 (plan.rs).
fn groups_1d(len: usize, size: usize) -> [u32; 3] {
    [(len.div_ceil(size) as u32).clamp(1, 4096), 1, 1]
}

/// Uniform words from the first few values, zero-padded to eight (plan.rs).
fn words(values: &[u32]) -> Option<[u32; 8]> {
    let mut out = [0; 8];
    out[..values.len()].copy_from_slice(values);
    Some(out)
}

/// Uniform values in [0, 1), e.g. pixel targets.
fn randu(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32).map(|i| rng::uniform(seed, 32, 0, i)).collect()
}

/// NaN everywhere: any element a kernel fails to write fails the comparison.
fn unwritten(n: usize) -> Vec<f32> {
    vec![f32::NAN; n]
}

// ---- linear.wgsl ----

/// The matmul C[M, N] = A(M × K)·B(K × N) as `plan::matmul` dispatches it, in both
/// schedules: workgroup-memory tiles (64 × 64 per workgroup) and register blocks (128 × 64).
fn matmul(
    ctx: &GpuContext,
    entry: &'static str,
    [m, n, k]: [usize; 3],
    strides: [usize; 4],
    buffers: &[(u32, BufferInit)],
) -> Vec<(&'static str, Outputs)> {
    let [sam, sak, sbk, sbn] = strides.map(|s| s as u32);
    let use_bias = (entry == "linear_forward") as u32;
    let uniform = [m as u32, n as u32, k as u32, use_bias, sam, sak, sbk, sbn];
    [(true, "tiled", 64), (false, "blocked", 128)]
        .into_iter()
        .map(|(tiled, name, rows_per_group)| {
            let groups =
                [n.div_ceil(64).max(1) as u32, m.div_ceil(rows_per_group).max(1) as u32, 1];
            let out = run_kernel_with(
                ctx,
                Shader::Linear,
                entry,
                Some(tiled),
                Some(uniform),
                groups,
                buffers,
            );
            (name, out)
        })
        .collect()
}

/// Matmul tolerance: the GPU sums the K products in order k = 0, 1, … (as the reference's
/// backward passes do) but the reference's forward dot product keeps eight partial sums,
/// and a GPU may fuse multiply-adds; the error grows with K (terms are ~1 here).
fn matmul_abs(k: usize) -> f32 {
    1e-6 * k as f32
}

fn check_linear_forward(ctx: &GpuContext, rows: usize, inputs: usize, outputs: usize) {
    let (i, o) = (inputs, outputs);
    let (x, w, b) = (randn(rows * i, 1), randn(o * i, 2), randn(o, 3));
    let outs = matmul(
        ctx,
        "linear_forward",
        [rows, o, i],
        [i, 1, 1, i],
        &[(1, read(&x)), (2, read(&w)), (3, read(&b)), (4, read_write(&unwritten(rows * o)))],
    );
    let mut y = vec![0.0; rows * o];
    reference::linear_forward(&x, &w, &b, &mut y, rows, i, o);
    let what = format!("linear_forward y ({rows} × {i} → {o})");
    for (schedule, out) in outs {
        assert_close(&out.f32(4), &y, matmul_abs(i), 1e-5, &format!("{what} [{schedule}]"));
    }
}

fn check_linear_backward_input(ctx: &GpuContext, rows: usize, inputs: usize, outputs: usize) {
    let (i, o) = (inputs, outputs);
    let (dy, w) = (randn(rows * o, 4), randn(o * i, 5));
    let outs = matmul(
        ctx,
        "linear_backward_input",
        [rows, i, o],
        [o, 1, i, 1],
        &[(1, read(&dy)), (2, read(&w)), (3, read(&w)), (4, read_write(&unwritten(rows * i)))],
    );
    let mut dx = vec![0.0; rows * i];
    reference::linear_backward_input(&dy, &w, &mut dx, rows, i, o);
    let what = format!("linear_backward_input dx ({rows} × {i} → {o})");
    for (schedule, out) in outs {
        assert_close(&out.f32(4), &dx, matmul_abs(o), 1e-5, &format!("{what} [{schedule}]"));
    }
}

fn check_linear_backward_weight(ctx: &GpuContext, rows: usize, inputs: usize, outputs: usize) {
    let (i, o) = (inputs, outputs);
    let (x, dy) = (randn(rows * i, 6), randn(rows * o, 7));
    let outs = matmul(
        ctx,
        "linear_backward_weight",
        [o, i, rows],
        [1, o, i, 1],
        &[(1, read(&dy)), (2, read(&x)), (3, read(&x)), (4, read_write(&unwritten(o * i)))],
    );
    let mut dw = vec![0.0; o * i];
    reference::linear_backward_weight(&x, &dy, &mut dw, rows, i, o);
    let what = format!("linear_backward_weight dw ({rows} × {i} → {o})");
    for (schedule, out) in outs {
        assert_close(&out.f32(4), &dw, matmul_abs(rows), 1e-5, &format!("{what} [{schedule}]"));
    }
}

fn check_linear_backward_bias(ctx: &GpuContext, rows: usize, outputs: usize) {
    let dy = randn(rows * outputs, 8);
    let out = run_kernel(
        ctx,
        Shader::Linear,
        "linear_backward_bias",
        words(&[rows as u32, outputs as u32]),
        [outputs.div_ceil(64) as u32, 1, 1],
        &[(1, read(&dy)), (4, read_write(&unwritten(outputs)))],
    );
    let mut db = vec![0.0; outputs];
    reference::linear_backward_bias(&dy, &mut db, rows, outputs);
    // Same sequential order as the reference; only fused multiply-adds could differ.
    let what = format!("linear_backward_bias db ({rows} × {outputs})");
    assert_close(&out.f32(4), &db, 1e-5, 1e-6, &what);
}

#[test]
fn linear_forward_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // x = [[1, 2]], w = [[1, 0], [2, −1], [0.5, 0.5]], b = [0, 1, −1] → y = [[1, 1, 0.5]]
    let outs = matmul(
        ctx,
        "linear_forward",
        [1, 3, 2],
        [2, 1, 1, 2],
        &[
            (1, read(&[1.0, 2.0])),
            (2, read(&[1.0, 0.0, 2.0, -1.0, 0.5, 0.5])),
            (3, read(&[0.0, 1.0, -1.0])),
            (4, read_write(&unwritten(3))),
        ],
    );
    for (schedule, out) in outs {
        let what = format!("linear_forward by hand [{schedule}]");
        assert_close(&out.f32(4), &[1.0, 1.0, 0.5], 1e-6, 0.0, &what);
    }
}

#[test]
fn linear_forward_should_match_reference_awkward_shapes() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_forward(ctx, 130, 131, 70); // grid 2 × 3, K = 131 = 8·16 + 3
    check_linear_forward(ctx, 67, 200, 150); // grid 3 × 2, K = 200 = 12·16 + 8
}

#[test]
fn linear_forward_should_match_reference_short_k_single_row_and_column() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_forward(ctx, 1, 5, 70); // M = 1, K < 16
    check_linear_forward(ctx, 130, 5, 1); // N = 1, K < 16
    check_linear_forward(ctx, 1, 200, 150); // M = 1, several K tiles
}

#[test]
fn linear_backward_input_should_match_reference_awkward_shapes() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_backward_input(ctx, 130, 131, 70); // M 130, N 131, K 70
    check_linear_backward_input(ctx, 67, 200, 150); // M 67, N 200, K 150
}

#[test]
fn linear_backward_input_should_match_reference_short_k_single_row_and_column() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_backward_input(ctx, 1, 70, 5); // M = 1, K = outputs = 5
    check_linear_backward_input(ctx, 130, 1, 5); // N = inputs = 1, K = 5
    check_linear_backward_input(ctx, 130, 131, 1); // K = outputs = 1
}

#[test]
fn linear_backward_weight_should_match_reference_awkward_shapes() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_backward_weight(ctx, 130, 131, 70); // M 70, N 131, K = rows 130
    check_linear_backward_weight(ctx, 67, 200, 150); // M 150, N 200, K = rows 67
}

#[test]
fn linear_backward_weight_should_match_reference_short_k_single_row_and_column() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_backward_weight(ctx, 5, 131, 70); // K = rows = 5
    check_linear_backward_weight(ctx, 5, 1, 70); // N = inputs = 1
    check_linear_backward_weight(ctx, 130, 200, 1); // M = outputs = 1
}

#[test]
fn linear_backward_bias_should_match_reference_awkward_shapes() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_backward_bias(ctx, 130, 150); // 3 workgroups of 64
    check_linear_backward_bias(ctx, 67, 1);
    check_linear_backward_bias(ctx, 1, 70);
}

// ---- activation.wgsl ----

/// More than 4096 workgroups × 256 invocations, so every invocation loops at least twice.
const LONG: usize = 4096 * 256 + 4099;

const ACTIVATIONS: [Activation; 4] =
    [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid];

/// ReLU and leaky ReLU are a comparison and at most one correctly rounded multiply: exact.
/// tanh and the sigmoid go through the GPU's exp, which WGSL allows a few ulp of error.
fn activation_tolerance(f: Activation) -> (f32, f32) {
    match f {
        Activation::Relu | Activation::LeakyRelu => (0.0, 0.0),
        Activation::Tanh | Activation::Sigmoid => (2e-6, 1e-5),
    }
}

fn activation_uniform(f: Activation, len: usize) -> Option<[u32; 8]> {
    words(&[len as u32, f.code(), LEAKY_SLOPE.to_bits()])
}

#[test]
fn activation_forward_should_match_reference_all_activations() {
    let Some(ctx) = common::gpu() else { return };
    // Wide enough to saturate tanh and the sigmoid.
    let x: Vec<f32> = randn(LONG, 10).iter().map(|v| 4.0 * v).collect();
    for f in ACTIVATIONS {
        let out = run_kernel(
            ctx,
            Shader::Activation,
            "activation_forward",
            activation_uniform(f, LONG),
            groups_1d(LONG, 256),
            &[(1, read(&x)), (4, read_write(&unwritten(LONG)))],
        );
        let mut y = vec![0.0; LONG];
        reference::activation_forward(f, &x, &mut y);
        let (abs, rel) = activation_tolerance(f);
        assert_close(&out.f32(4), &y, abs, rel, &format!("activation_forward {}", f.name()));
    }
}

#[test]
fn activation_backward_should_match_reference_all_activations() {
    let Some(ctx) = common::gpu() else { return };
    let x: Vec<f32> = randn(LONG, 11).iter().map(|v| 4.0 * v).collect();
    let dy = randn(LONG, 12);
    for f in ACTIVATIONS {
        let mut y = vec![0.0; LONG];
        reference::activation_forward(f, &x, &mut y);
        let out = run_kernel(
            ctx,
            Shader::Activation,
            "activation_backward",
            activation_uniform(f, LONG),
            groups_1d(LONG, 256),
            &[(2, read(&y)), (3, read(&dy)), (4, read_write(&unwritten(LONG)))],
        );
        let mut dx = vec![0.0; LONG];
        reference::activation_backward(f, &y, &dy, &mut dx);
        // The same arithmetic on the same y; 1 − y² and y(1 − y) may be fused on the GPU.
        let (abs, rel) = match f {
            Activation::Relu | Activation::LeakyRelu => (0.0, 0.0),
            Activation::Tanh | Activation::Sigmoid => (1e-7, 1e-6),
        };
        assert_close(&out.f32(4), &dx, abs, rel, &format!("activation_backward {}", f.name()));
    }
}

// ---- loss.wgsl ----

/// Values in a digit: the width of the kernels' awkward-but-real rows.
const INPUT_SIZE: usize = 28 * 28;

fn reconstruction_loss_gpu(
    ctx: &GpuContext,
    loss: LossKind,
    logits: &[f32],
    target: &[f32],
    rows: usize,
    cols: usize,
) -> (Vec<f32>, Vec<f32>) {
    let scale = 1.0 / rows as f32;
    let out = run_kernel(
        ctx,
        Shader::Loss,
        "reconstruction_loss",
        words(&[rows as u32, cols as u32, loss.code(), scale.to_bits()]),
        [rows.div_ceil(64) as u32, 1, 1],
        &[
            (1, read(logits)),
            (2, read(target)),
            (3, read_write(&unwritten(rows * cols))),
            (4, read_write(&unwritten(rows))),
        ],
    );
    (out.f32(3), out.f32(4))
}

#[test]
fn reconstruction_loss_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // Every target 1, scale 1/2. BCE(0, 1) = ln 2 with ∂ = σ(0) − 1 = −½; far from 0 the
    // stable form gives BCE(−30, 1) = 30 (∂ −1) and BCE(30, 1) = 0 (∂ 0).
    let logits = [0.0, 0.0, 0.0, -30.0, 30.0, 0.0];
    let target = [1.0; 6];
    let ln2 = std::f32::consts::LN_2;
    let (dlogits, row_loss) = reconstruction_loss_gpu(ctx, LossKind::Bce, &logits, &target, 2, 3);
    // The GPU's exp and log: a few ulp.
    assert_close(&row_loss, &[3.0 * ln2, 30.0 + ln2], 1e-6, 1e-6, "bce row_loss by hand");
    let expected = [-0.25, -0.25, -0.25, -0.5, 0.0, -0.25];
    assert_close(&dlogits, &expected, 1e-6, 1e-6, "bce dlogits by hand");
    // MSE of σ(0) = ½ against 1: ¼, ∂ = 2(½ − 1)·½·½ = −¼, times the scale ½.
    let (dlogits, row_loss) =
        reconstruction_loss_gpu(ctx, LossKind::SigmoidMse, &[0.0; 2], &[1.0; 2], 1, 2);
    assert_close(&row_loss, &[0.5], 1e-6, 1e-6, "mse row_loss by hand");
    assert_close(&dlogits, &[-0.25; 2], 1e-6, 1e-6, "mse dlogits by hand");
    // MSE of the value itself (standardised data): (3 − 1)² + (−1 − 1)² = 8, ∂ = 2(l − t).
    let (dlogits, row_loss) =
        reconstruction_loss_gpu(ctx, LossKind::Mse, &[3.0, -1.0], &[1.0; 2], 1, 2);
    assert_close(&row_loss, &[8.0], 0.0, 0.0, "identity mse row_loss by hand");
    assert_close(&dlogits, &[4.0, -4.0], 0.0, 0.0, "identity mse dlogits by hand");
}

fn check_reconstruction_loss(ctx: &GpuContext, loss: LossKind) {
    let (rows, cols) = (37, INPUT_SIZE);
    let logits: Vec<f32> = randn(rows * cols, 13).iter().map(|v| 3.0 * v).collect();
    let target = randu(rows * cols, 14);
    let (dlogits, row_loss) = reconstruction_loss_gpu(ctx, loss, &logits, &target, rows, cols);
    let (mut d, mut r) = (vec![0.0; rows * cols], vec![0.0; rows]);
    reference::reconstruction_loss(loss, &logits, &target, &mut d, &mut r, rows, cols);
    // Per pixel: the GPU's exp/log (a few ulp). Per row: 784 terms summed as 64 strided
    // partial sums and a tree instead of left to right.
    let name = format!("{loss:?}");
    assert_close(&dlogits, &d, 1e-7, 1e-5, &format!("reconstruction_loss {name} dlogits"));
    assert_close(&row_loss, &r, 1e-4, 1e-5, &format!("reconstruction_loss {name} row_loss"));
}

#[test]
fn reconstruction_loss_should_match_reference_bce() {
    let Some(ctx) = common::gpu() else { return };
    check_reconstruction_loss(ctx, LossKind::Bce);
}

#[test]
fn reconstruction_loss_should_match_reference_mse() {
    let Some(ctx) = common::gpu() else { return };
    check_reconstruction_loss(ctx, LossKind::SigmoidMse);
    check_reconstruction_loss(ctx, LossKind::Mse);
}

// ---- reduce.wgsl ----

#[test]
fn accumulate_metric_should_match_reference_adding_to_existing_slot() {
    let Some(ctx) = common::gpu() else { return };
    let len = 300;
    let values = randn(len, 15);
    let slot = 2;
    // Per-row values (scale 1) and one row of per-batch terms (scale B = 128).
    for scale in [1.0f32, 128.0] {
        let mut metrics = vec![1.5, -2.25, 7.0, 0.5];
        let out = run_kernel(
            ctx,
            Shader::Reduce,
            "accumulate_metric",
            words(&[len as u32, slot as u32, scale.to_bits()]),
            [1, 1, 1],
            &[(1, read(&values)), (2, read_write(&metrics))],
        );
        reference::accumulate_metric(&values, &mut metrics, slot, scale);
        // The reference sums with an iterator (which may reassociate); the other slots
        // must be untouched.
        assert_close(&out.f32(2), &metrics, 1e-5 * scale, 1e-6, "accumulate_metric");
    }
}

// ---- data.wgsl: corrupt_input ----

#[test]
fn corrupt_input_should_match_reference_every_kind() {
    let Some(ctx) = common::gpu() else { return };
    let len = 1_100_000; // more than 4096 × 256: the strided loop runs twice
    let x: Vec<f32> = (0..len as u32).map(|i| rng::uniform(4, 33, 0, i)).collect();
    let (seed, step) = (11u32, 6u32);
    // Code 3: Gaussian noise on standardised values, not clipped.
    for (kind, code, amount) in [
        (NoiseKind::Gaussian, 0, 0.4f32),
        (NoiseKind::Mask, 1, 0.3),
        (NoiseKind::SaltPepper, 2, 0.2),
        (NoiseKind::Gaussian, 3, 0.4),
    ] {
        let out = run_kernel(
            ctx,
            Shader::Data,
            "corrupt_input",
            words(&[len as u32, code, seed, amount.to_bits()]),
            groups_1d(len, 256),
            &[(1, state(step)), (4, read(&x)), (5, read_write(&unwritten(len)))],
        );
        let mut expected = vec![0.0; len];
        reference::corrupt_input(kind, amount, code != 3, &x, &mut expected, seed, step);
        // Mask and salt-and-pepper copy or replace values exactly; Gaussian noise goes
        // through log/cos (WGSL allows a few ulp, and cos 2⁻¹¹ absolute).
        let abs = if kind == NoiseKind::Gaussian { 5e-3 } else { 0.0 };
        assert_close(&out.f32(5), &expected, abs, 0.0, &format!("corrupt_input {kind:?}"));
    }
}

#[test]
fn gather_labels_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    let (n, rows, seed, step) = (1_000usize, 300usize, 9u32, 4u32); // rows·10 over 12 groups
    let labels: Vec<u8> = (0..n as u32).map(|i| (rng::uniform(7, 36, 0, i) * 10.0) as u8).collect();
    let out = run_kernel(
        ctx,
        Shader::Data,
        "gather_labels",
        words(&[rows as u32, n as u32, seed]),
        groups_1d(rows * 10, 256),
        &[
            (1, state(step)),
            (6, BufferInit::Read(labels.iter().map(|&l| u32::from(l)).collect())),
            (7, read_write(&unwritten(rows * 10))),
        ],
    );
    let mut expected = vec![0.0; rows * 10];
    reference::gather_labels(&labels, &mut expected, rows, seed, step);
    assert_close(&out.f32(7), &expected, 0.0, 0.0, "one-hot labels");
}

#[test]
fn concat_and_split_columns_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, ca, cc) = (300, 21, 10); // 9,300 outputs: 37 groups of 256
    let (a, c) = (randn(rows * ca, 20), randn(rows * cc, 21));
    let out = run_kernel(
        ctx,
        Shader::Data,
        "concat_columns",
        words(&[rows as u32, ca as u32, 0, cc as u32]),
        groups_1d(rows * (ca + cc), 256),
        &[(8, read(&a)), (9, read(&c)), (10, read_write(&unwritten(rows * (ca + cc))))],
    );
    let mut y = vec![0.0; rows * (ca + cc)];
    reference::concat_columns(&a, &c, &mut y, rows, ca, cc);
    assert_close(&out.f32(10), &y, 0.0, 0.0, "concat_columns");
    let dy = randn(rows * (ca + cc), 22);
    let out = run_kernel(
        ctx,
        Shader::Data,
        "split_columns_backward",
        words(&[rows as u32, ca as u32, 0, (ca + cc) as u32]),
        groups_1d(rows * ca, 256),
        &[(11, read(&dy)), (12, read_write(&unwritten(rows * ca)))],
    );
    let mut da = vec![0.0; rows * ca];
    reference::split_columns_backward(&dy, &mut da, rows, ca, ca + cc);
    assert_close(&out.f32(12), &da, 0.0, 0.0, "split_columns_backward");
}

// ---- penalty.wgsl ----

#[test]
fn sparsity_should_match_reference_kl_and_l1() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, units) = (130, 70); // two workgroups of units, several of elements
    let code: Vec<f32> = (0..(rows * units) as u32).map(|i| rng::uniform(5, 34, 0, i)).collect();
    let prior = randn(rows * units, 16); // dcode already holds the decoder's gradient
    for (penalty, kind) in [(SparsityPenalty::Kl, 0u32), (SparsityPenalty::L1, 1)] {
        let (target, weight) = (0.07f32, 2.5f32);
        let uniform = words(&[rows as u32, units as u32, kind, target.to_bits(), weight.to_bits()]);
        let fwd = run_kernel(
            ctx,
            Shader::Penalty,
            "sparsity_forward",
            uniform,
            [units.div_ceil(64) as u32, 1, 1],
            &[
                (1, read(&code)),
                (2, read_write(&unwritten(units))),
                (4, read_write(&unwritten(units))),
            ],
        );
        let (mut rho, mut unit) = (vec![0.0; units], vec![0.0; units]);
        reference::sparsity_forward(penalty, target, &code, &mut rho, &mut unit, rows, units);
        // Sums of 130 terms in the same order; log differs by a few ulp.
        assert_close(&fwd.f32(2), &rho, 1e-6, 1e-5, "rho_hat");
        assert_close(&fwd.f32(4), &unit, 1e-5, 1e-4, "unit_penalty");
        let bwd = run_kernel(
            ctx,
            Shader::Penalty,
            "sparsity_backward",
            uniform,
            groups_1d(rows * units, 256),
            &[(1, read(&code)), (3, read(&rho)), (5, read_write(&prior))],
        );
        let mut d = prior.clone();
        reference::sparsity_backward(penalty, target, weight, &code, &rho, &mut d, rows, units);
        assert_close(&bwd.f32(5), &d, 1e-6, 1e-5, &format!("dcode {penalty:?}"));
    }
}

#[test]
fn contractive_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    // Units over two workgroups of 64, rows over three, weights over several strided grids.
    let (rows, units, inputs, weight) = (150, 70, 33, 0.8f32);
    let code: Vec<f32> = (0..(rows * units) as u32).map(|i| rng::uniform(6, 35, 0, i)).collect();
    let w = randn(units * inputs, 17);
    let uniform = words(&[rows as u32, units as u32, 0, 0, weight.to_bits(), inputs as u32]);
    let stats = run_kernel(
        ctx,
        Shader::Penalty,
        "contractive_unit_stats",
        uniform,
        [units.div_ceil(64) as u32, 1, 1],
        &[
            (1, read(&code)),
            (6, read(&w)),
            (7, read_write(&unwritten(units))),
            (8, read_write(&unwritten(units))),
        ],
    );
    let (mut wnorm, mut s2) = (vec![0.0; units], vec![0.0; units]);
    reference::contractive_unit_stats(&code, &w, &mut wnorm, &mut s2, rows, units, inputs);
    assert_close(&stats.f32(7), &wnorm, 1e-5, 1e-5, "wnorm");
    assert_close(&stats.f32(8), &s2, 1e-7, 1e-5, "mean_s2");
    let pen = run_kernel(
        ctx,
        Shader::Penalty,
        "contractive_penalty",
        uniform,
        [rows.div_ceil(64) as u32, 1, 1],
        &[(1, read(&code)), (7, read(&wnorm)), (9, read_write(&unwritten(rows)))],
    );
    let mut row_penalty = vec![0.0; rows];
    reference::contractive_penalty(&code, &wnorm, &mut row_penalty, rows, units);
    assert_close(&pen.f32(9), &row_penalty, 1e-5, 1e-5, "row_penalty");
    // Both backward kernels add to a gradient that already holds the earlier terms.
    let prior = randn(rows * units, 18);
    let bwd = run_kernel(
        ctx,
        Shader::Penalty,
        "contractive_backward_code",
        uniform,
        groups_1d(rows * units, 256),
        &[(1, read(&code)), (5, read_write(&prior)), (7, read(&wnorm))],
    );
    let mut dcode = prior.clone();
    reference::contractive_backward_code(weight, &code, &wnorm, &mut dcode, rows, units);
    assert_close(&bwd.f32(5), &dcode, 1e-6, 1e-5, "dcode");
    let prior = randn(units * inputs, 19);
    let bwd = run_kernel(
        ctx,
        Shader::Penalty,
        "contractive_backward_weight",
        uniform,
        groups_1d(units * inputs, 256),
        &[(6, read(&w)), (8, read(&s2)), (10, read_write(&prior))],
    );
    let mut dw = prior.clone();
    reference::contractive_backward_weight(weight, &w, &s2, &mut dw, units, inputs);
    assert_close(&bwd.f32(10), &dw, 1e-6, 1e-5, "dw");
}

// ---- vae.wgsl ----

const VAE_ROWS: usize = 37;
const VAE_LATENT: usize = 5;
const VAE_SEED: u32 = 11;
const VAE_STEP: u32 = 7;

/// Loosened: ε = √(−2 ln u₁)·cos(2πu₂) uses the GPU's cos, which WGSL only bounds to an
/// absolute error of 2⁻¹¹ on [−π, π]; times √(−2 ln u₁) ≲ 3.5, σ ≲ 2 and |dz| ≲ 3 that is a
/// few 1e-3. (lavapipe computes cos in full precision and stays within 1e-6.) Any indexing,
/// stream, step or σ = exp(½·log σ²) mistake is off by O(0.1) or more.
const REPARAM_ABS: f32 = 5e-3;

fn vae_uniform(rows: usize, beta: f32) -> Option<[u32; 8]> {
    words(&[rows as u32, VAE_LATENT as u32, VAE_SEED, beta.to_bits()])
}

/// μ and log σ² of moderate size, so σ = exp(½·log σ²) stays near 1.
fn vae_stats(rows: usize, seed: u32) -> Vec<f32> {
    randn(rows * 2 * VAE_LATENT, seed).iter().map(|v| 0.5 * v).collect()
}

#[test]
fn reparameterize_forward_should_match_reference_at_step_7() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, latent) = (VAE_ROWS, VAE_LATENT);
    let stats = vae_stats(rows, 16);
    let out = run_kernel(
        ctx,
        Shader::Vae,
        "reparameterize_forward",
        vae_uniform(rows, 0.0),
        groups_1d(rows * latent, 256),
        &[(1, state(VAE_STEP)), (2, read(&stats)), (3, read_write(&unwritten(rows * latent)))],
    );
    let mut z = vec![0.0; rows * latent];
    reference::reparameterize_forward(&stats, &mut z, rows, latent, VAE_SEED, VAE_STEP);
    assert_close(&out.f32(3), &z, REPARAM_ABS, 1e-5, "reparameterize_forward z");
}

#[test]
fn reparameterize_backward_should_match_reference_adding_to_dstats() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, latent) = (VAE_ROWS, VAE_LATENT);
    let stats = vae_stats(rows, 17);
    let dz = randn(rows * latent, 18);
    let mut dstats = randn(rows * 2 * latent, 19); // nonzero: the kernel adds to it
    let out = run_kernel(
        ctx,
        Shader::Vae,
        "reparameterize_backward",
        vae_uniform(rows, 0.0),
        groups_1d(rows * latent, 256),
        &[(1, state(VAE_STEP)), (2, read(&stats)), (4, read(&dz)), (5, read_write(&dstats))],
    );
    reference::reparameterize_backward(&stats, &dz, &mut dstats, rows, latent, VAE_SEED, VAE_STEP);
    assert_close(&out.f32(5), &dstats, REPARAM_ABS, 1e-5, "reparameterize_backward dstats");
}

fn kl_divergence_gpu(
    ctx: &GpuContext,
    stats: &[f32],
    rows: usize,
    latent: usize,
    beta: f32,
) -> (Vec<f32>, Vec<f32>) {
    let out = run_kernel(
        ctx,
        Shader::Vae,
        "kl_divergence",
        words(&[rows as u32, latent as u32, VAE_SEED, beta.to_bits()]),
        [rows.div_ceil(64) as u32, 1, 1],
        &[
            (2, read(stats)),
            (5, read_write(&unwritten(rows * 2 * latent))), // written, not added
            (6, read_write(&unwritten(rows))),
        ],
    );
    (out.f32(5), out.f32(6))
}

#[test]
fn kl_divergence_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // μ = 1, log σ² = 0: KL = ½μ² = ½.  μ = 0, log σ² = ln 2: KL = ½(2 − 1 − ln 2).
    // β/B = ½: dμ = ½μ, dlog σ² = ½·½(σ² − 1).
    let ln2 = std::f32::consts::LN_2;
    let (dstats, row_kl) = kl_divergence_gpu(ctx, &[1.0, 0.0, 0.0, ln2], 2, 1, 1.0);
    // exp(ln 2) on the GPU: a few ulp away from 2.
    assert_close(&row_kl, &[0.5, 0.5 * (1.0 - ln2)], 1e-6, 1e-5, "kl row_kl by hand");
    assert_close(&dstats, &[0.5, 0.0, 0.0, 0.25], 1e-6, 1e-5, "kl dstats by hand");
}

#[test]
fn kl_divergence_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    for rows in [VAE_ROWS, 130] {
        // 130 rows: three workgroups of 64, the last one partial.
        let stats = vae_stats(rows, 20);
        let beta = 0.7;
        let (dstats, row_kl) = kl_divergence_gpu(ctx, &stats, rows, VAE_LATENT, beta);
        let (mut d, mut kl) = (vec![0.0; rows * 2 * VAE_LATENT], vec![0.0; rows]);
        reference::kl_divergence(&stats, &mut d, &mut kl, rows, VAE_LATENT, beta);
        // σ² = exp(log σ²) on the GPU: a few ulp.
        assert_close(&dstats, &d, 1e-6, 1e-5, &format!("kl_divergence dstats ({rows} rows)"));
        assert_close(&row_kl, &kl, 1e-6, 1e-5, &format!("kl_divergence row_kl ({rows} rows)"));
    }
}

// ---- optim.wgsl ----

#[test]
fn adam_update_should_match_reference_at_step_3() {
    let Some(ctx) = common::gpu() else { return };
    let (len, step) = (1000, 3);
    let (lr, beta1, beta2, eps) = (1e-3f32, 0.9f32, 0.999f32, 1e-8f32);
    let mut p = randn(len, 21);
    let g = randn(len, 22);
    let mut m: Vec<f32> = randn(len, 23).iter().map(|v| 0.1 * v).collect();
    let mut v: Vec<f32> = randn(len, 24).iter().map(|x| 0.01 * x * x).collect();
    let out = run_kernel(
        ctx,
        Shader::Optim,
        "adam_update",
        words(&[len as u32, lr.to_bits(), beta1.to_bits(), beta2.to_bits(), eps.to_bits()]),
        groups_1d(len, 256),
        &[
            (1, state(step)),
            (2, read_write(&p)),
            (3, read(&g)),
            (4, read_write(&m)),
            (5, read_write(&v)),
        ],
    );
    reference::adam_update(&mut p, &g, &mut m, &mut v, lr, beta1, beta2, eps, step);
    // m and v: the same few multiply-adds (perhaps fused on the GPU).
    assert_close(&out.f32(4), &m, 1e-8, 1e-6, "adam_update m");
    assert_close(&out.f32(5), &v, 1e-10, 1e-6, "adam_update v");
    // p: the GPU's pow (exp2 of log2, log2 with absolute error 2⁻²¹) leaves 1 − β₂⁴ ≈ 0.004
    // relatively off by up to ~3e-4; the step itself is only ~lr, so the absolute error
    // stays below 1e-6.
    assert_close(&out.f32(2), &p, 1e-6, 1e-6, "adam_update p");
}

#[test]
fn advance_step_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    for step in [0, 41] {
        let out = run_kernel(
            ctx,
            Shader::Optim,
            "advance_step",
            None,
            [1, 1, 1],
            &[(6, BufferInit::ReadWrite(vec![step]))],
        );
        assert_eq!(out.u32(6), [step + 1], "advance_step from {step}");
    }
}

// ---- data.wgsl ----

#[test]
fn gather_batch_should_match_reference_steps_0_1_2() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, count, seed) = (33, 50, 5);
    // A digit's 784 bytes (whole words) and a row of 30 (padded to 8 words): random bytes, so
    // every value 0..=255 appears in every byte lane of the packed words.
    for width in [INPUT_SIZE, 30] {
        let images: Vec<u8> =
            (0..count * width).map(|i| rng::random_u32(seed, 40, 0, i as u32) as u8).collect();
        let stride = width.div_ceil(4);
        let packed: Vec<u32> = images
            .chunks_exact(width)
            .flat_map(|row| {
                let mut padded = row.to_vec();
                padded.resize(stride * 4, 0);
                padded
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect::<Vec<_>>()
            })
            .collect();
        // Step 1 straddles the end of the first epoch (positions 33..66 of 50).
        for step in [0, 1, 2] {
            let out = run_kernel(
                ctx,
                Shader::Data,
                "gather_batch",
                words(&[rows as u32, count as u32, seed, 0, width as u32, stride as u32]),
                groups_1d(rows * width, 256),
                &[
                    (1, state(step)),
                    (2, BufferInit::Read(packed.clone())),
                    (3, read_write(&unwritten(rows * width))),
                ],
            );
            let mut x = vec![0.0; rows * width];
            reference::gather_batch(&images, width, &mut x, rows, count, seed, step);
            // Exact (zero tolerance): the same permutation in integers, and byte/255.
            let what = format!("gather_batch of rows of {width} at step {step}");
            assert_close(&out.f32(3), &x, 0.0, 0.0, &what);
        }
    }
}

#[test]
fn gather_rows_should_match_reference_over_several_workgroups() {
    let Some(ctx) = common::gpu() else { return };
    // 300 rows of 9 floats (a shuttle row's width): 2,700 values over 11 workgroups.
    let (rows, count, width, seed) = (300, 1000, 9, 8);
    let values = randn(count * width, 41);
    for step in [0, 3] {
        let out = run_kernel(
            ctx,
            Shader::Data,
            "gather_rows",
            words(&[rows as u32, count as u32, seed, 0, width as u32, width as u32]),
            groups_1d(rows * width, 256),
            &[(1, state(step)), (13, read(&values)), (3, read_write(&unwritten(rows * width)))],
        );
        let mut x = vec![0.0; rows * width];
        reference::gather_rows(&values, width, &mut x, rows, count, seed, step);
        assert_close(&out.f32(3), &x, 0.0, 0.0, &format!("gather_rows at step {step}"));
    }
}
