//! Dense layers: y = x·Wᵀ + b and its three gradients (`shaders/linear.wgsl`).
//!
//! The GPU runs all three products with one matmul body; strides express each transpose.
//! W is stored [outputs, inputs], as in PyTorch.

use super::{bind, Cpu, Gradients, Kernel, Op, Plan, PlanCx};
use crate::model::TensorId;
use crate::shaders::Shader;

uniform! {
    /// C[M, N] = Σ_k A(m, k)·B(k, n) with A(m, k) = a[m·sam + k·sak], B(k, n) = b[k·sbk + n·sbn].
    pub struct Dims for Shader::Linear {
        m: u32,
        n: u32,
        k: u32,
        /// 0: c = A·B + bias (linear_forward); 1: c += A·B (the gradients).
        accumulate: u32,
        sam: u32,
        sak: u32,
        sbk: u32,
        sbn: u32,
    }
}

bindings! { a = 1, b = 2, bias = 3, c = 4 }

/// A matmul dispatch in the schedule `cx.tiled` picks: 64 × 64 outputs per workgroup (tiled)
/// or 128 × 64 (register blocks).
fn matmul(
    cx: &PlanCx,
    entry: &'static str,
    [m, n, k]: [usize; 3],
    strides: [usize; 4],
    bindings: Vec<(u32, super::Resource)>,
) -> Plan {
    let [sam, sak, sbk, sbn] = strides.map(|s| s as u32);
    let accumulate = (entry != "linear_forward") as u32;
    let dims = Dims { m: m as u32, n: n as u32, k: k as u32, accumulate, sam, sak, sbk, sbn };
    let groups = [
        n.div_ceil(64).max(1) as u32,
        m.div_ceil(if cx.tiled { 64 } else { 128 }).max(1) as u32,
        1,
    ];
    Plan { tiled: Some(cx.tiled), ..Plan::new(entry, dims, groups, bindings) }
}

/// y[b, o] = Σᵢ x[b, i]·w[o, i] + bias[o].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearForward {
    pub x: TensorId,
    pub w: TensorId,
    pub b: TensorId,
    pub y: TensorId,
}

impl Kernel for LinearForward {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let Self { x, w, b, y } = *self;
        let dy = g.must(y, "a linear output");
        let mut ops = vec![
            LinearBackwardWeight { x, dy, dw: g.param(w) }.into(),
            LinearBackwardBias { dy, db: g.param(b) }.into(),
        ];
        if let Some(dx) = g.of(x) {
            ops.push(LinearBackwardInput { dy, w, dx }.into());
        }
        ops
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (rows, i, o) = (cx.rows, cx.cols(self.x), cx.cols(self.y));
        cx.write(self.y, |cx, y| {
            linear_forward(cx.get(self.x), cx.get(self.w), cx.get(self.b), y, rows, i, o)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (i, o) = (cx.cols(self.x), cx.cols(self.y));
        let bindings = vec![
            bind(binding::a, self.x),
            bind(binding::b, self.w),
            bind(binding::bias, self.b),
            bind(binding::c, self.y),
        ];
        matmul(cx, "linear_forward", [cx.rows, o, i], [i, 1, 1, i], bindings)
    }
}

/// dx[b, i] += Σₒ dy[b, o]·w[o, i].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearBackwardInput {
    pub dy: TensorId,
    pub w: TensorId,
    pub dx: TensorId,
}

impl Kernel for LinearBackwardInput {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, i, o) = (cx.rows, cx.cols(self.dx), cx.cols(self.dy));
        cx.write(self.dx, |cx, dx| {
            linear_backward_input(cx.get(self.dy), cx.get(self.w), dx, rows, i, o)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (i, o) = (cx.cols(self.dx), cx.cols(self.dy));
        // Nothing is added at `bias`: any read-only buffer fills the slot.
        let bindings = vec![
            bind(binding::a, self.dy),
            bind(binding::b, self.w),
            bind(binding::bias, self.w),
            bind(binding::c, self.dx),
        ];
        matmul(cx, "linear_backward_input", [cx.rows, i, o], [o, 1, i, 1], bindings)
    }
}

/// dw[o, i] += Σ_b dy[b, o]·x[b, i].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearBackwardWeight {
    pub x: TensorId,
    pub dy: TensorId,
    pub dw: TensorId,
}

impl Kernel for LinearBackwardWeight {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, i, o) = (cx.rows, cx.cols(self.x), cx.cols(self.dy));
        cx.write(self.dw, |cx, dw| {
            linear_backward_weight(cx.get(self.x), cx.get(self.dy), dw, rows, i, o)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (i, o) = (cx.cols(self.x), cx.cols(self.dy));
        let bindings = vec![
            bind(binding::a, self.dy),
            bind(binding::b, self.x),
            bind(binding::bias, self.x),
            bind(binding::c, self.dw),
        ];
        matmul(cx, "linear_backward_weight", [o, i, cx.rows], [1, o, i, 1], bindings)
    }
}

/// dbias[o] += Σ_b dy[b, o].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearBackwardBias {
    pub dy: TensorId,
    pub db: TensorId,
}

impl Kernel for LinearBackwardBias {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, o) = (cx.rows, cx.cols(self.dy));
        cx.write(self.db, |cx, db| linear_backward_bias(cx.get(self.dy), db, rows, o));
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let o = cx.cols(self.dy);
        let dims = Dims { m: cx.rows as u32, n: o as u32, accumulate: 1, ..Dims::default() };
        let bindings = vec![bind(binding::a, self.dy), bind(binding::c, self.db)];
        Plan::new("linear_backward_bias", dims, super::groups_per(o, 64), bindings)
    }
}

// ---- the plain loops ----

/// y[b, o] = Σᵢ x[b, i]·w[o, i] + bias[o]. x: B × I, w: O × I, y: B × O.
pub fn linear_forward(
    x: &[f32],
    w: &[f32],
    bias: &[f32],
    y: &mut [f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    for b in 0..rows {
        let xr = &x[b * inputs..(b + 1) * inputs];
        for o in 0..outputs {
            let wr = &w[o * inputs..(o + 1) * inputs];
            y[b * outputs + o] = bias[o] + dot(xr, wr);
        }
    }
}

/// dx[b, i] += Σₒ dy[b, o]·w[o, i].
pub fn linear_backward_input(
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    for b in 0..rows {
        let dxr = &mut dx[b * inputs..(b + 1) * inputs];
        for o in 0..outputs {
            axpy(dy[b * outputs + o], &w[o * inputs..(o + 1) * inputs], dxr);
        }
    }
}

/// dw[o, i] += Σ_b dy[b, o]·x[b, i].
pub fn linear_backward_weight(
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    for b in 0..rows {
        let xr = &x[b * inputs..(b + 1) * inputs];
        for o in 0..outputs {
            axpy(dy[b * outputs + o], xr, &mut dw[o * inputs..(o + 1) * inputs]);
        }
    }
}

/// dbias[o] += Σ_b dy[b, o].
pub fn linear_backward_bias(dy: &[f32], db: &mut [f32], rows: usize, outputs: usize) {
    for b in 0..rows {
        for o in 0..outputs {
            db[o] += dy[b * outputs + o];
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums let the compiler vectorise without reassociating floats itself.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    if alpha == 0.0 {
        return; // ReLU makes many gradients exactly zero.
    }
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}
