//! Every WGSL entry point on its own, through its op's own plan (`src/ops/`): hand-computed
//! cases, and the GPU dispatch against the op's CPU function on random data.
//!
//! Shapes are chosen to divide neither the 64-wide matmul tiles nor the 16 × 16 / 256-wide
//! workgroups, and to span several workgroups in every grid dimension. Gradient ops add to
//! their outputs, so they start from random values: a kernel that wrote instead of adding
//! would fail.

mod common;

use std::sync::Arc;

use common::kernel::Case;
use common::{assert_close, randn};
use latent_lab::backend::GpuContext;
use latent_lab::data::{InputShape, Values};
use latent_lab::model::{
    Activation, LossKind, ModelSpec, NoiseKind, NoiseSpec, SparsityPenalty, SparsitySpec,
};
use latent_lab::ops::linear::Schedule;
use latent_lab::ops::*;
use latent_lab::rng;

// ---- helpers ----

/// Uniform values in [0, 1), e.g. pixel targets.
fn randu(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32).map(|i| rng::uniform(seed, 32, 0, i)).collect()
}

/// NaN everywhere: any element a kernel fails to write fails the comparison.
fn unwritten(n: usize) -> Vec<f32> {
    vec![f32::NAN; n]
}

fn spec() -> ModelSpec {
    ModelSpec::default()
}

// ---- linear.wgsl ----

/// Matmul tolerance: the GPU sums the K products in order k = 0, 1, … (as the CPU's
/// backward passes do) but the CPU's forward dot product keeps eight partial sums, and a GPU
/// may fuse multiply-adds; the error grows with K (terms are ~1 here).
fn matmul_abs(k: usize) -> f32 {
    1e-6 * k as f32
}

/// Every matmul schedule: workgroup-memory tiles (64 × 64 per workgroup), register blocks
/// (128 × 64), and register blocks read as vec4s (shapes in multiples of 4; others run the
/// plain blocks).
const SCHEDULES: [Schedule; 3] = Schedule::ALL;

/// The op on the GPU in both schedules against its CPU function, on `out`.
fn check_matmul(ctx: &GpuContext, case: &Case, op: Op, out: usize, k: usize, what: &str) {
    let expected = case.cpu(op.clone());
    for schedule in SCHEDULES {
        let gpu = case.gpu(ctx, op.clone(), schedule);
        let what = format!("{what} [{schedule:?}]");
        assert_close(gpu.get(out), expected.get(out), matmul_abs(k), 1e-5, &what);
    }
}

/// Every activation a layer can end in, and none (the logits).
const LAYER_ACTS: [Option<Activation>; 6] = [
    None,
    Some(Activation::Relu),
    Some(Activation::LeakyRelu),
    Some(Activation::Tanh),
    Some(Activation::Sigmoid),
    Some(Activation::Identity),
];

fn check_linear_forward(ctx: &GpuContext, rows: usize, i: usize, o: usize, f: Option<Activation>) {
    let mut c = Case::new(spec(), rows);
    let x = c.tensor(rows, i, randn(rows * i, 1));
    let w = c.tensor(o, i, randn(o * i, 2));
    let b = c.tensor(1, o, randn(o, 3));
    let y = c.tensor(rows, o, unwritten(rows * o));
    let op = LinearForward { x, w, b, y, f }.into();
    check_matmul(ctx, &c, op, y, i, &format!("linear_forward {f:?} y ({rows} × {i} → {o})"));
}

/// A layer's output y = f(·) of random pre-activations: the values f′ is read from (relu's
/// include exact zeros, where the mask is closed).
fn layer_output(f: Option<Activation>, n: usize, seed: u32) -> Vec<f32> {
    let pre = randn(n, seed);
    match f {
        Some(f) => pre.iter().map(|&v| latent_lab::ops::activation::activate(f, v)).collect(),
        None => pre,
    }
}

/// linear_backward in every schedule against its CPU function: dw (K = rows), db and, when
/// the layer's input has a gradient, dx (K = outputs), each added to random values; with
/// `x_f`, x is that activation's output and dx is multiplied by its f′.
fn check_linear_backward(
    ctx: &GpuContext,
    rows: usize,
    i: usize,
    o: usize,
    f: Option<Activation>,
    input_grad: bool,
    x_f: Option<Activation>,
) {
    let mut c = Case::new(spec(), rows);
    let x = c.tensor(rows, i, layer_output(x_f, rows * i, 6));
    let w = c.tensor(o, i, randn(o * i, 5));
    let y = c.tensor(rows, o, layer_output(f, rows * o, 4));
    let dy = c.tensor(rows, o, randn(rows * o, 7));
    let dw = c.tensor(o, i, randn(o * i, 8));
    let db = c.tensor(1, o, randn(o, 9));
    let dx = input_grad.then(|| c.tensor(rows, i, randn(rows * i, 10)));
    let op: Op = LinearBackward { x, w, y, dy, f, dw, db, dx, x_f }.into();
    let expected = c.cpu(op.clone());
    for schedule in SCHEDULES {
        let gpu = c.gpu(ctx, op.clone(), schedule);
        let what = |t: &str| {
            format!("linear_backward {f:?} {t} x_f {x_f:?} ({rows} × {i} → {o}) [{schedule:?}]")
        };
        assert_close(gpu.get(dw), expected.get(dw), matmul_abs(rows), 1e-5, &what("dw"));
        assert_close(gpu.get(db), expected.get(db), matmul_abs(rows), 1e-5, &what("db"));
        if let Some(dx) = dx {
            assert_close(gpu.get(dx), expected.get(dx), matmul_abs(o), 1e-5, &what("dx"));
        }
        for t in [x, w, y, dy] {
            assert_eq!(gpu.get(t), &c.values[t][..], "{}: an input changed", what(""));
        }
    }
}

#[test]
fn linear_forward_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // x = [[1, 2]], w = [[1, 0], [2, −1], [0.5, 0.5]], b = [0, −1, −2] → x·wᵀ + b = [1, −1, −0.5]
    let mut c = Case::new(spec(), 1);
    let x = c.tensor(1, 2, vec![1.0, 2.0]);
    let w = c.tensor(3, 2, vec![1.0, 0.0, 2.0, -1.0, 0.5, 0.5]);
    let b = c.tensor(1, 3, vec![0.0, -1.0, -2.0]);
    let y = c.tensor(1, 3, unwritten(3));
    let leaky = 0.01;
    for (f, want) in [
        (None, [1.0, -1.0, -0.5]),
        (Some(Activation::Relu), [1.0, 0.0, 0.0]),
        (Some(Activation::LeakyRelu), [1.0, -leaky, -0.5 * leaky]),
    ] {
        for schedule in SCHEDULES {
            let out = c.gpu(ctx, LinearForward { x, w, b, y, f }, schedule);
            let what = format!("linear_forward {f:?} by hand [{schedule:?}]");
            assert_close(out.get(y), &want, 1e-6, 0.0, &what);
        }
    }
}

#[test]
fn linear_backward_adds_to_what_the_gradients_hold_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // rows 2, inputs 2, outputs 3; every gradient starts at 10.
    let mut c = Case::new(spec(), 2);
    let x = c.tensor(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
    let w = c.tensor(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let dy = c.tensor(2, 3, vec![1.0, 0.0, -1.0, 2.0, 1.0, 0.0]);
    // A relu layer's output: the mask passes dy[0, 0], dy[0, 2] and dy[1, 1] only.
    let y = c.tensor(2, 3, vec![1.0, 0.0, 2.0, 0.0, 1.0, 0.0]);
    let dx = c.tensor(2, 2, vec![10.0; 4]);
    let dw = c.tensor(3, 2, vec![10.0; 6]);
    let db = c.tensor(1, 3, vec![10.0; 3]);
    let cases = [
        // g = dy: dx = 10 + g·w, dw = 10 + gᵀ·x, db = 10 + Σ_b g.
        (None, [6.0, 6.0, 15.0, 18.0], [17.0, 20.0, 13.0, 14.0, 9.0, 8.0], [13.0, 11.0, 9.0]),
        // g = [[1, 0, −1], [0, 1, 0]].
        (
            Some(Activation::Relu),
            [6.0, 6.0, 13.0, 14.0],
            [11.0, 12.0, 13.0, 14.0, 9.0, 8.0],
            [11.0, 11.0, 9.0],
        ),
    ];
    for (f, want_dx, want_dw, want_db) in cases {
        for schedule in SCHEDULES {
            let what = |name: &str| format!("{name} {f:?} by hand [{schedule:?}]");
            let op = LinearBackward { x, w, y, dy, f, dw, db, dx: Some(dx), x_f: None };
            let out = c.gpu(ctx, op, schedule);
            assert_close(out.get(dx), &want_dx, 0.0, 0.0, &what("dx"));
            assert_close(out.get(dw), &want_dw, 0.0, 0.0, &what("dw"));
            assert_close(out.get(db), &want_db, 0.0, 0.0, &what("db"));
            // The first layer: no input gradient, the same parameter gradients.
            let out = c.gpu(ctx, LinearBackward { dx: None, ..op }, schedule);
            assert_eq!(out.get(dx), &[10.0; 4], "{}", what("dx untouched"));
            assert_close(out.get(dw), &want_dw, 0.0, 0.0, &what("dw (first layer)"));
            assert_close(out.get(db), &want_db, 0.0, 0.0, &what("db (first layer)"));
        }
    }
    // x the output of a ReLU below, folded in: g·w = [[−4, −4], [5, 8]] is added where
    // x > 0 only; dw = 10 + gᵀ·x with this x.
    let x = c.tensor(2, 2, vec![1.0, 0.0, 0.0, 4.0]);
    let x_f = Some(Activation::Relu);
    let op = LinearBackward { x, w, y, dy, f: None, dw, db, dx: Some(dx), x_f };
    let (want_dx, want_dw) = ([6.0, 10.0, 10.0, 18.0], [11.0, 18.0, 10.0, 14.0, 9.0, 10.0]);
    assert_close(c.cpu(op).get(dx), &want_dx, 0.0, 0.0, "dx through a ReLU by hand (CPU)");
    for schedule in SCHEDULES {
        let what = |name: &str| format!("{name} through a ReLU by hand [{schedule:?}]");
        let out = c.gpu(ctx, op, schedule);
        assert_close(out.get(dx), &want_dx, 0.0, 0.0, &what("dx"));
        assert_close(out.get(dw), &want_dw, 0.0, 0.0, &what("dw"));
        assert_close(out.get(db), &[13.0, 11.0, 9.0], 0.0, 0.0, &what("db"));
    }
}

#[test]
fn linear_forward_should_match_reference_awkward_shapes() {
    let Some(ctx) = common::gpu() else { return };
    for f in LAYER_ACTS {
        check_linear_forward(ctx, 130, 131, 70, f); // grid 2 × 3, K = 131 = 8·16 + 3
    }
    check_linear_forward(ctx, 67, 200, 150, Some(Activation::Relu)); // grid 3 × 2, K = 12·16 + 8
}

/// Inputs and outputs in multiples of 4, so Blocked4 runs its vec4 entry points: rows that
/// end inside a block of 8, outputs that end half-way through one (68 = 8·8 + 4).
#[test]
fn linear_forward_and_backward_in_vec4s_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    for (k, f) in LAYER_ACTS.into_iter().enumerate() {
        check_linear_forward(ctx, 130, 132, 68, f);
        // Each activation below folded into dx once, under another layer's own.
        let x_f = LAYER_ACTS[(k + 1) % LAYER_ACTS.len()];
        check_linear_backward(ctx, 130, 132, 68, f, true, x_f);
    }
    check_linear_forward(ctx, 1, 4, 4, Some(Activation::Relu));
    check_linear_backward(ctx, 1, 4, 4, Some(Activation::Relu), true, Some(Activation::Relu));
    // The VAE's decoder layer (20 → 400) and a first layer (no dx), 300 outputs for the bias.
    check_linear_backward(ctx, 33, 20, 400, Some(Activation::Relu), true, None);
    check_linear_backward(ctx, 67, 200, 300, None, false, None);
}

#[test]
fn linear_forward_should_match_reference_short_k_single_row_and_column() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_forward(ctx, 1, 5, 70, None); // M = 1, K < 16
    check_linear_forward(ctx, 130, 5, 1, Some(Activation::Tanh)); // N = 1, K < 16
    check_linear_forward(ctx, 1, 200, 150, Some(Activation::Sigmoid)); // M = 1, several K tiles
}

#[test]
fn linear_backward_should_match_reference_awkward_shapes() {
    let Some(ctx) = common::gpu() else { return };
    for (k, f) in LAYER_ACTS.into_iter().enumerate() {
        // dw: M 70, N 131, K = rows 130; dx: M 130, N 131, K 70.
        let x_f = LAYER_ACTS[(k + 1) % LAYER_ACTS.len()];
        check_linear_backward(ctx, 130, 131, 70, f, true, x_f);
    }
    // dw: M 150, N 200, K 67 (3 row tiles of 64); dx: M 67, N 200, K 150.
    check_linear_backward(ctx, 67, 200, 150, Some(Activation::Relu), true, None);
    check_linear_backward(ctx, 67, 200, 150, None, false, None);
}

#[test]
fn linear_backward_should_match_reference_short_k_single_row_and_column() {
    let Some(ctx) = common::gpu() else { return };
    check_linear_backward(ctx, 1, 70, 5, Some(Activation::Relu), true, None); // one row
    check_linear_backward(ctx, 5, 1, 70, None, true, None); // one input
    check_linear_backward(ctx, 130, 131, 1, Some(Activation::Tanh), true, None); // one output
                                                                                 // More outputs than one bias workgroup covers (256), few inputs (one grid column).
    check_linear_backward(ctx, 3, 2, 300, Some(Activation::Sigmoid), true, None);
}

// ---- activation.wgsl ----

/// More than 4096 workgroups × 256 invocations, so every invocation loops at least twice.
const LONG: usize = 4096 * 256 + 4099;

const ACTIVATIONS: [Activation; 5] = Activation::EVERY;

#[test]
fn activation_forward_should_match_reference_all_activations() {
    let Some(ctx) = common::gpu() else { return };
    // Wide enough to saturate tanh and the sigmoid; one row of LONG values.
    let mut c = Case::new(spec(), 1);
    let x = c.tensor(1, LONG, randn(LONG, 10).iter().map(|v| 4.0 * v).collect());
    let y = c.tensor(1, LONG, unwritten(LONG));
    for f in ACTIVATIONS {
        let op = ActivationForward { f, x, y };
        let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
        // ReLU and leaky ReLU are a comparison and at most one correctly rounded multiply,
        // the identity a copy: exact. tanh and the sigmoid go through the GPU's exp (a few ulp).
        let (abs, rel) = match f {
            Activation::Relu | Activation::LeakyRelu | Activation::Identity => (0.0, 0.0),
            Activation::Tanh | Activation::Sigmoid => (2e-6, 1e-5),
        };
        let what = format!("activation_forward {}", f.name());
        assert_close(gpu.get(y), cpu.get(y), abs, rel, &what);
    }
}

#[test]
fn activation_backward_should_match_reference_all_activations() {
    let Some(ctx) = common::gpu() else { return };
    let x: Vec<f32> = randn(LONG, 11).iter().map(|v| 4.0 * v).collect();
    for f in ACTIVATIONS {
        let mut values = vec![0.0; LONG];
        reference_activation(f, &x, &mut values);
        let mut c = Case::new(spec(), 1);
        let y = c.tensor(1, LONG, values);
        let dy = c.tensor(1, LONG, randn(LONG, 12));
        let dx = c.tensor(1, LONG, randn(LONG, 13));
        let op = ActivationBackward { f, y, dy, dx };
        let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
        // The same arithmetic on the same y; 1 − y² and y(1 − y) may be fused on the GPU.
        let (abs, rel) = match f {
            Activation::Relu | Activation::LeakyRelu | Activation::Identity => (0.0, 0.0),
            Activation::Tanh | Activation::Sigmoid => (1e-6, 1e-6),
        };
        let what = format!("activation_backward {}", f.name());
        assert_close(gpu.get(dx), cpu.get(dx), abs, rel, &what);
    }
}

fn reference_activation(f: Activation, x: &[f32], y: &mut [f32]) {
    latent_lab::reference::activation_forward(f, x, y);
}

// ---- loss.wgsl ----

/// Values in a digit: the width of the kernels' awkward-but-real rows.
const INPUT_SIZE: usize = 28 * 28;

/// The loss op on `rows × cols` logits; its gradient starts at `prior`.
fn loss_case(
    loss: LossKind,
    logits: Vec<f32>,
    target: Vec<f32>,
    prior: Vec<f32>,
    rows: usize,
) -> (Case, ReconstructionLoss) {
    let cols = logits.len() / rows;
    let mut c = Case::new(spec(), rows);
    let logits = c.tensor(rows, cols, logits);
    let target = c.tensor(rows, cols, target);
    let dlogits = c.tensor(rows, cols, prior);
    let row_loss = c.tensor(rows, 1, unwritten(rows));
    (c, ReconstructionLoss { loss, logits, target, dlogits, row_loss })
}

#[test]
fn reconstruction_loss_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // Every target 1, scale 1/2. BCE(0, 1) = ln 2 with ∂ = σ(0) − 1 = −½; far from 0 the
    // stable form gives BCE(−30, 1) = 30 (∂ −1) and BCE(30, 1) = 0 (∂ 0).
    let logits = vec![0.0, 0.0, 0.0, -30.0, 30.0, 0.0];
    let ln2 = std::f32::consts::LN_2;
    let (c, op) = loss_case(LossKind::Bce, logits, vec![1.0; 6], vec![0.0; 6], 2);
    let out = c.gpu(ctx, op, Schedule::Blocked);
    // The GPU's exp and log: a few ulp.
    assert_close(out.get(op.row_loss), &[3.0 * ln2, 30.0 + ln2], 1e-6, 1e-6, "bce row_loss");
    let expected = [-0.25, -0.25, -0.25, -0.5, 0.0, -0.25];
    assert_close(out.get(op.dlogits), &expected, 1e-6, 1e-6, "bce dlogits by hand");
    // MSE of σ(0) = ½ against 1: ¼, ∂ = 2(½ − 1)·½·½ = −¼, scale ½ … here 1 row: −¼,
    // added to a gradient that holds 1.
    let (c, op) = loss_case(LossKind::SigmoidMse, vec![0.0; 2], vec![1.0; 2], vec![1.0; 2], 1);
    let out = c.gpu(ctx, op, Schedule::Blocked);
    assert_close(out.get(op.row_loss), &[0.5], 1e-6, 1e-6, "mse row_loss by hand");
    assert_close(out.get(op.dlogits), &[0.75; 2], 1e-6, 1e-6, "mse dlogits added by hand");
    // MSE of the value itself (standardised data): (3 − 1)² + (−1 − 1)² = 8, ∂ = 2(l − t).
    let (c, op) = loss_case(LossKind::Mse, vec![3.0, -1.0], vec![1.0; 2], vec![0.0; 2], 1);
    let out = c.gpu(ctx, op, Schedule::Blocked);
    assert_close(out.get(op.row_loss), &[8.0], 0.0, 0.0, "identity mse row_loss by hand");
    assert_close(out.get(op.dlogits), &[4.0, -4.0], 0.0, 0.0, "identity mse dlogits by hand");
}

fn check_reconstruction_loss(ctx: &GpuContext, loss: LossKind) {
    let (rows, cols) = (37, INPUT_SIZE);
    let logits: Vec<f32> = randn(rows * cols, 13).iter().map(|v| 3.0 * v).collect();
    let prior = randn(rows * cols, 15);
    let (c, op) = loss_case(loss, logits, randu(rows * cols, 14), prior, rows);
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    // Per pixel: the GPU's exp/log (a few ulp). Per row: 784 terms summed as the same
    // sequence, with the GPU's exp/log in each.
    let name = format!("{loss:?}");
    let d = format!("reconstruction_loss {name} dlogits");
    assert_close(gpu.get(op.dlogits), cpu.get(op.dlogits), 1e-6, 1e-5, &d);
    let r = format!("reconstruction_loss {name} row_loss");
    assert_close(gpu.get(op.row_loss), cpu.get(op.row_loss), 1e-4, 1e-5, &r);
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
fn finish_step_sums_each_slot_and_advances_the_step() {
    let Some(ctx) = common::gpu() else { return };
    let rows = 300;
    let mut c = Case::new(spec(), rows);
    c.metrics = vec![1.5, -2.25, 7.0];
    c.step = 41;
    // Per-row terms in slots 0 and 1 (scale 1); one row of 300 per-batch terms in slot 2
    // (scale B = 300).
    let recon = c.tensor(rows, 1, randn(rows, 15));
    let kl = c.tensor(rows, 1, randn(rows, 16));
    let unit = c.tensor(1, 300, randn(300, 17));
    let sum = |values, per_batch| Some(MetricSum { values, per_batch });
    let all = FinishStep { sums: [sum(recon, false), sum(kl, false), sum(unit, true)] };
    let (gpu, cpu) = (c.gpu(ctx, all, Schedule::Blocked), c.cpu(all));
    assert_eq!((gpu.step, cpu.step), (42, 42), "the step advances");
    // The CPU sums with an iterator (which may reassociate).
    assert_close(&gpu.metrics, &cpu.metrics, 1e-5 * 300.0, 1e-6, "finish_step metrics");
    let added = |k: usize| (gpu.metrics[k] - c.metrics[k]).abs() > 1e-3;
    assert!((0..3).all(added), "every slot got its terms: {:?}", gpu.metrics);
    // A kind without a KL term or a penalty leaves those slots as they were.
    let plain = FinishStep { sums: [sum(recon, false), None, None] };
    let gpu = c.gpu(ctx, plain, Schedule::Blocked);
    assert_eq!(gpu.metrics[1..], [-2.25, 7.0], "the empty slots are untouched");
    assert_close(&gpu.metrics[..1], &c.cpu(plain).metrics[..1], 1e-4, 1e-6, "slot 0 alone");
    assert_eq!(gpu.step, 42);
}

// ---- data.wgsl ----

#[test]
fn corrupt_input_should_match_reference_every_kind() {
    let Some(ctx) = common::gpu() else { return };
    let len = 1_100_000; // more than 4096 × 256: the strided loop runs twice
    let x: Vec<f32> = (0..len as u32).map(|i| rng::uniform(4, 33, 0, i)).collect();
    // Pixels (clipped Gaussian noise) and standardised values (not clipped): one row each.
    let pixels = InputShape::Image { channels: 1, height: 1, width: len };
    let values = InputShape::Vector { features: len };
    for (kind, amount, shape) in [
        (NoiseKind::Gaussian, 0.4f32, pixels),
        (NoiseKind::Mask, 0.3, pixels),
        (NoiseKind::SaltPepper, 0.2, pixels),
        (NoiseKind::Gaussian, 0.4, values),
    ] {
        let spec = ModelSpec { seed: 11, noise: NoiseSpec { kind, amount }, ..spec() };
        let mut c = Case::new(spec, 1);
        c.shape = shape;
        c.step = 6;
        let clean = c.tensor(1, len, x.clone());
        let noisy = c.tensor(1, len, unwritten(len));
        let op = CorruptInput { x: clean, noisy };
        let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
        // Mask and salt-and-pepper copy or replace values exactly; Gaussian noise goes
        // through log/cos (WGSL allows a few ulp, and cos 2⁻¹¹ absolute).
        let abs = if kind == NoiseKind::Gaussian { 5e-3 } else { 0.0 };
        let what = format!("corrupt_input {kind:?} on {}", shape.row_name());
        assert_close(gpu.get(noisy), cpu.get(noisy), abs, 0.0, &what);
        let unclipped = gpu.get(noisy).iter().any(|v| !(0.0..=1.0).contains(v));
        assert_eq!(unclipped, shape == values && kind == NoiseKind::Gaussian, "{what}: clipping");
    }
}

#[test]
fn gather_labels_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    let (n, rows) = (1_000usize, 300usize); // rows·10 over 12 groups
    let mut c = Case::new(ModelSpec { seed: 9, ..spec() }, rows);
    c.step = 4;
    c.data = Values::Bytes(Arc::from(vec![0u8; n]));
    c.labels = Some((0..n as u32).map(|i| (rng::uniform(7, 36, 0, i) * 10.0) as u8).collect());
    let cond = c.tensor(rows, 10, unwritten(rows * 10));
    let op = GatherLabels { cond };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(cond), cpu.get(cond), 0.0, 0.0, "one-hot labels");
    assert!(gpu.get(cond).chunks(10).all(|r| r.iter().sum::<f32>() == 1.0), "one-hot rows");
}

#[test]
fn concat_and_split_columns_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, ca, cc) = (300, 21, 10); // 9,300 outputs: 37 groups of 256
    let mut c = Case::new(spec(), rows);
    let a = c.tensor(rows, ca, randn(rows * ca, 20));
    let cond = c.tensor(rows, cc, randn(rows * cc, 21));
    let y = c.tensor(rows, ca + cc, unwritten(rows * (ca + cc)));
    let op = ConcatColumns { a, c: cond, y };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(y), cpu.get(y), 0.0, 0.0, "concat_columns");
    assert_eq!(&gpu.get(y)[ca..ca + cc], &c.values[cond][..cc], "row 0's right part");
    let dy = c.tensor(rows, ca + cc, randn(rows * (ca + cc), 22));
    let da = c.tensor(rows, ca, randn(rows * ca, 23));
    let op = SplitColumnsBackward { dy, da };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(da), cpu.get(da), 0.0, 0.0, "split_columns_backward");
}

// ---- penalty.wgsl ----

#[test]
fn sparsity_should_match_reference_kl_and_l1() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, units) = (130, 70); // two workgroups of units, several of elements
    let code_values: Vec<f32> =
        (0..(rows * units) as u32).map(|i| rng::uniform(5, 34, 0, i)).collect();
    for penalty in [SparsityPenalty::Kl, SparsityPenalty::L1] {
        let sparsity = SparsitySpec { penalty, target: 0.07, weight: 2.5 };
        let mut c = Case::new(ModelSpec { sparsity, ..spec() }, rows);
        let code = c.tensor(rows, units, code_values.clone());
        let rho_hat = c.tensor(1, units, unwritten(units));
        let unit_penalty = c.tensor(1, units, unwritten(units));
        let op = SparsityForward { code, rho_hat, unit_penalty };
        let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
        // Sums of 130 terms in the same order; log differs by a few ulp.
        assert_close(gpu.get(rho_hat), cpu.get(rho_hat), 1e-6, 1e-5, "rho_hat");
        assert_close(gpu.get(unit_penalty), cpu.get(unit_penalty), 1e-5, 1e-4, "unit_penalty");
        c.values[rho_hat] = cpu.get(rho_hat).to_vec();
        let dcode = c.tensor(rows, units, randn(rows * units, 16));
        let op = SparsityBackward { code, rho_hat, dcode };
        let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
        assert_close(gpu.get(dcode), cpu.get(dcode), 1e-6, 1e-5, &format!("dcode {penalty:?}"));
    }
}

#[test]
fn contractive_should_match_reference() {
    let Some(ctx) = common::gpu() else { return };
    // Units over two workgroups of 64, rows over three, weights over several strided grids.
    let (rows, units, inputs) = (150, 70, 33);
    let mut s = spec();
    s.contractive.weight = 0.8;
    let mut c = Case::new(s, rows);
    let code_values = (0..(rows * units) as u32).map(|i| rng::uniform(6, 35, 0, i)).collect();
    let code = c.tensor(rows, units, code_values);
    let w = c.tensor(units, inputs, randn(units * inputs, 17));
    let wnorm = c.tensor(1, units, unwritten(units));
    let mean_s2 = c.tensor(1, units, unwritten(units));
    let op = ContractiveUnitStats { code, w, wnorm, mean_s2 };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(wnorm), cpu.get(wnorm), 1e-5, 1e-5, "wnorm");
    assert_close(gpu.get(mean_s2), cpu.get(mean_s2), 1e-7, 1e-5, "mean_s2");
    c.values[wnorm] = cpu.get(wnorm).to_vec();
    c.values[mean_s2] = cpu.get(mean_s2).to_vec();
    let row_penalty = c.tensor(rows, 1, unwritten(rows));
    let op = ContractivePenalty { code, wnorm, row_penalty };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(row_penalty), cpu.get(row_penalty), 1e-5, 1e-5, "row_penalty");
    let dcode = c.tensor(rows, units, randn(rows * units, 18));
    let op = ContractiveBackwardCode { code, wnorm, dcode };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(dcode), cpu.get(dcode), 1e-6, 1e-5, "dcode");
    let dw = c.tensor(units, inputs, randn(units * inputs, 19));
    let op = ContractiveBackwardWeight { w, mean_s2, dw };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(dw), cpu.get(dw), 1e-6, 1e-5, "dw");
}

// ---- vae.wgsl ----

const VAE_ROWS: usize = 37;
const VAE_LATENT: usize = 5;

/// Loosened: ε = √(−2 ln u₁)·cos(2πu₂) uses the GPU's cos, which WGSL only bounds to an
/// absolute error of 2⁻¹¹ on [−π, π]; times √(−2 ln u₁) ≲ 3.5, σ ≲ 2 and |dz| ≲ 3 that is a
/// few 1e-3. (lavapipe computes cos in full precision and stays within 1e-6.) Any indexing,
/// stream, step or σ = exp(½·log σ²) mistake is off by O(0.1) or more.
const REPARAM_ABS: f32 = 5e-3;

/// A VAE case at step 7 with μ and log σ² of moderate size, so σ stays near 1.
fn vae_case(rows: usize, beta: f32, seed: u32) -> (Case, usize) {
    let spec = ModelSpec { latent: VAE_LATENT, seed: 11, beta, ..spec() };
    let mut c = Case::new(spec, rows);
    c.step = 7;
    let stats = randn(rows * 2 * VAE_LATENT, seed).iter().map(|v| 0.5 * v).collect();
    let stats = c.tensor(rows, 2 * VAE_LATENT, stats);
    (c, stats)
}

/// The tensors reparameterize_forward writes, on `rows` rows of `c`: z (unwritten), dstats
/// (random: the KL gradient is added), row_kl (unwritten).
fn reparam_outputs(c: &mut Case, rows: usize, seed: u32) -> (usize, usize, usize) {
    let z = c.tensor(rows, VAE_LATENT, unwritten(rows * VAE_LATENT));
    let dstats = c.tensor(rows, 2 * VAE_LATENT, randn(rows * 2 * VAE_LATENT, seed));
    let row_kl = c.tensor(rows, 1, unwritten(rows));
    (z, dstats, row_kl)
}

#[test]
fn reparameterize_forward_should_match_reference_at_step_7() {
    let Some(ctx) = common::gpu() else { return };
    for rows in [VAE_ROWS, 130] {
        // 130 rows: three workgroups of 64, the last one partial.
        let (mut c, stats) = vae_case(rows, 0.7, 16);
        let (z, dstats, row_kl) = reparam_outputs(&mut c, rows, 21);
        let op = ReparameterizeForward { stats, z, dstats, row_kl };
        let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
        let what = |t: &str| format!("reparameterize_forward {t} ({rows} rows)");
        assert_close(gpu.get(z), cpu.get(z), REPARAM_ABS, 1e-5, &what("z"));
        // σ² = exp(log σ²) on the GPU: a few ulp.
        assert_close(gpu.get(dstats), cpu.get(dstats), 1e-6, 1e-5, &what("dstats"));
        assert_close(gpu.get(row_kl), cpu.get(row_kl), 1e-6, 1e-5, &what("row_kl"));
        // Another step draws other noise.
        c.step = 8;
        assert_ne!(c.cpu(op).get(z), cpu.get(z), "the noise follows the step");
    }
}

#[test]
fn reparameterize_forward_kl_by_hand() {
    let Some(ctx) = common::gpu() else { return };
    // μ = 1, log σ² = 0: KL = ½μ² = ½.  μ = 0, log σ² = ln 2: KL = ½(2 − 1 − ln 2).
    // β/B = ½: dμ += ½μ, dlog σ² += ½·½(σ² − 1), onto a gradient holding 1.
    let ln2 = std::f32::consts::LN_2;
    let mut c = Case::new(ModelSpec { latent: 1, beta: 1.0, ..spec() }, 2);
    let stats = c.tensor(2, 2, vec![1.0, 0.0, 0.0, ln2]);
    let z = c.tensor(2, 1, unwritten(2));
    let dstats = c.tensor(2, 2, vec![1.0; 4]);
    let row_kl = c.tensor(2, 1, unwritten(2));
    let out = c.gpu(ctx, ReparameterizeForward { stats, z, dstats, row_kl }, Schedule::Blocked);
    // exp(ln 2) on the GPU: a few ulp away from 2.
    let kl = [0.5, 0.5 * (1.0 - ln2)];
    assert_close(out.get(row_kl), &kl, 1e-6, 1e-5, "kl row_kl by hand");
    assert_close(out.get(dstats), &[1.5, 1.0, 1.0, 1.25], 1e-6, 1e-5, "kl dstats by hand");
    // z = μ + σ·ε: row 0 has σ = 1 around μ = 1, row 1 σ = √2 around 0; ε is finite.
    assert!(out.get(z).iter().all(|v| v.is_finite()), "z written: {:?}", out.get(z));
}

#[test]
fn reparameterize_backward_should_match_reference_adding_to_dstats() {
    let Some(ctx) = common::gpu() else { return };
    let (mut c, stats) = vae_case(VAE_ROWS, 1.0, 17);
    let dz = c.tensor(VAE_ROWS, VAE_LATENT, randn(VAE_ROWS * VAE_LATENT, 18));
    let dstats = c.tensor(VAE_ROWS, 2 * VAE_LATENT, randn(VAE_ROWS * 2 * VAE_LATENT, 19));
    let op = ReparameterizeBackward { stats, dz, dstats };
    let (gpu, cpu) = (c.gpu(ctx, op, Schedule::Blocked), c.cpu(op));
    assert_close(gpu.get(dstats), cpu.get(dstats), REPARAM_ABS, 1e-5, "dstats");
}

// ---- optim.wgsl ----

#[test]
fn adam_update_should_match_reference_at_step_3() {
    let Some(ctx) = common::gpu() else { return };
    let mut c = Case::new(spec(), 1);
    c.step = 3;
    // Two parameters in one dispatch, neither a multiple of the arena's alignment.
    let mut params = vec![];
    for (k, len) in [(0u32, 1000), (1, 37)] {
        let value = c.tensor(1, len, randn(len, 21 + 10 * k));
        let grad = c.tensor(1, len, randn(len, 22 + 10 * k));
        let m = c.tensor(1, len, randn(len, 23 + 10 * k).iter().map(|v| 0.1 * v).collect());
        let v = c.tensor(1, len, randn(len, 24 + 10 * k).iter().map(|x| 0.01 * x * x).collect());
        params.push([value, grad, m, v]);
    }
    let arena = Arena::of([1000, 37]);
    assert_eq!(arena.offsets, [0, 1024], "each parameter starts on a 256-byte boundary");
    let op: Op = AdamUpdate { params: params.clone(), arena }.into();
    let (gpu, cpu) = (c.gpu(ctx, op.clone(), Schedule::Blocked), c.cpu(op));
    for [value, _, m, v] in params {
        // m and v: the same few multiply-adds (perhaps fused on the GPU).
        assert_close(gpu.get(m), cpu.get(m), 1e-8, 1e-6, "adam_update m");
        assert_close(gpu.get(v), cpu.get(v), 1e-10, 1e-6, "adam_update v");
        // p: the GPU's pow (exp2 of log2, log2 with absolute error 2⁻²¹) leaves 1 − β₂⁴ ≈
        // 0.004 relatively off by up to ~3e-4; the step itself is only ~lr, so the absolute
        // error stays below 1e-6.
        assert_close(gpu.get(value), cpu.get(value), 1e-6, 1e-6, "adam_update p");
        assert_ne!(gpu.get(value), &c.values[value][..], "the parameter moved");
    }
}

#[test]
fn gather_batch_should_match_reference_steps_0_1_2() {
    let Some(ctx) = common::gpu() else { return };
    let (rows, count) = (33, 50);
    // A digit's 784 bytes (whole words) and a row of 30 (padded to 8 words): random bytes, so
    // every value 0..=255 appears in every byte lane of the packed words.
    for width in [INPUT_SIZE, 30] {
        let images: Vec<u8> =
            (0..count * width).map(|i| rng::random_u32(5, 40, 0, i as u32) as u8).collect();
        let mut c = Case::new(ModelSpec { seed: 5, ..spec() }, rows);
        c.shape = InputShape::Image { channels: 1, height: 1, width };
        c.data = Values::Bytes(Arc::from(images));
        let x = c.tensor(rows, width, unwritten(rows * width));
        // Step 1 straddles the end of the first epoch (positions 33..66 of 50).
        for step in [0, 1, 2] {
            c.step = step;
            let (gpu, cpu) =
                (c.gpu(ctx, GatherBatch { x }, Schedule::Blocked), c.cpu(GatherBatch { x }));
            // Exact (zero tolerance): the same permutation in integers, and byte/255.
            let what = format!("gather_batch of rows of {width} at step {step}");
            assert_close(gpu.get(x), cpu.get(x), 0.0, 0.0, &what);
        }
    }
}

#[test]
fn gather_rows_should_match_reference_over_several_workgroups() {
    let Some(ctx) = common::gpu() else { return };
    // 300 rows of 9 floats (a shuttle row's width): 2,700 values over 11 workgroups.
    let (rows, count, width) = (300, 1000, 9);
    let mut c = Case::new(ModelSpec { seed: 8, ..spec() }, rows);
    c.shape = InputShape::Vector { features: width };
    c.data = Values::Floats(Arc::from(randn(count * width, 41)));
    let x = c.tensor(rows, width, unwritten(rows * width));
    for step in [0, 3] {
        c.step = step;
        let (gpu, cpu) =
            (c.gpu(ctx, GatherBatch { x }, Schedule::Blocked), c.cpu(GatherBatch { x }));
        assert_close(gpu.get(x), cpu.get(x), 0.0, 0.0, &format!("gather_rows at step {step}"));
    }
}
