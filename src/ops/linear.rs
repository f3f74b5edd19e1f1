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

// ---- the CPU functions: matrix products through `matrixmultiply` ----

/// c[m × n] (row-major) = A·B + c, where A(i, p) = a[i·ra + p·ca] and B(p, j) = b[p·rb + j·cb]:
/// every transpose is a choice of strides, as on the GPU. `matrixmultiply`'s packed
/// microkernels (AVX/FMA natively, on every core with its `threading` feature; simd128 in the
/// wasm build) do the work.
#[allow(clippy::too_many_arguments)] // the strides are the point
pub(super) fn gemm_acc(
    [m, n, k]: [usize; 3],
    a: &[f32],
    [ra, ca]: [usize; 2],
    b: &[f32],
    [rb, cb]: [usize; 2],
    c: &mut [f32],
) {
    if m == 0 || n == 0 {
        return;
    }
    // The last element each operand can reach must lie inside its slice: the call below
    // reads through raw pointers.
    let last = |r: usize, cs: usize, rows: usize, cols: usize| (rows - 1) * r + (cols - 1) * cs;
    assert!(k == 0 || (last(ra, ca, m, k) < a.len() && last(rb, cb, k, n) < b.len()));
    assert!(m * n <= c.len());
    // SAFETY: the asserts above keep every index the strides reach within the slices, and
    // `c` is borrowed mutably, so nothing else reads or writes it meanwhile.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            ra as isize,
            ca as isize,
            b.as_ptr(),
            rb as isize,
            cb as isize,
            1.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

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
    let y = &mut y[..rows * outputs];
    for row in y.chunks_exact_mut(outputs.max(1)) {
        row.copy_from_slice(&bias[..outputs]);
    }
    gemm_acc([rows, outputs, inputs], x, [inputs, 1], w, [1, inputs], y);
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
    gemm_acc([rows, inputs, outputs], dy, [outputs, 1], w, [inputs, 1], dx);
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
    gemm_acc([outputs, inputs, rows], dy, [1, outputs], x, [inputs, 1], dw);
}

/// dbias[o] += Σ_b dy[b, o].
pub fn linear_backward_bias(dy: &[f32], db: &mut [f32], rows: usize, outputs: usize) {
    for row in dy[..rows * outputs].chunks_exact(outputs.max(1)) {
        for (d, g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values in [−0.5, 0.5) from a small LCG: the same every run.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 9) as f32 / 8_388_608.0 - 0.5
            })
            .collect()
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "at {k}: {x} vs {y}");
        }
    }

    /// Each product against the triple loop of its definition, on shapes that are not
    /// multiples of the microkernel's tile, with something already in the output.
    #[test]
    fn the_products_match_their_definitions() {
        for (rows, inputs, outputs) in [(1, 1, 1), (3, 5, 7), (13, 37, 11), (70, 9, 130)] {
            let (x, w, bias) =
                (values(rows * inputs, 1), values(outputs * inputs, 2), values(outputs, 3));
            let dy = values(rows * outputs, 4);

            let mut y = values(rows * outputs, 5);
            linear_forward(&x, &w, &bias, &mut y, rows, inputs, outputs);
            let want: Vec<f32> = (0..rows * outputs)
                .map(|e| {
                    let (b, o) = (e / outputs, e % outputs);
                    bias[o]
                        + (0..inputs).map(|i| x[b * inputs + i] * w[o * inputs + i]).sum::<f32>()
                })
                .collect();
            close(&y, &want);

            let start = values(rows * inputs, 6);
            let mut dx = start.clone();
            linear_backward_input(&dy, &w, &mut dx, rows, inputs, outputs);
            let want: Vec<f32> = (0..rows * inputs)
                .map(|e| {
                    let (b, i) = (e / inputs, e % inputs);
                    start[e]
                        + (0..outputs).map(|o| dy[b * outputs + o] * w[o * inputs + i]).sum::<f32>()
                })
                .collect();
            close(&dx, &want);

            let start = values(outputs * inputs, 7);
            let mut dw = start.clone();
            linear_backward_weight(&x, &dy, &mut dw, rows, inputs, outputs);
            let want: Vec<f32> = (0..outputs * inputs)
                .map(|e| {
                    let (o, i) = (e / inputs, e % inputs);
                    start[e]
                        + (0..rows).map(|b| dy[b * outputs + o] * x[b * inputs + i]).sum::<f32>()
                })
                .collect();
            close(&dw, &want);

            let mut db = vec![1.0; outputs];
            linear_backward_bias(&dy, &mut db, rows, outputs);
            let want: Vec<f32> = (0..outputs)
                .map(|o| 1.0 + (0..rows).map(|b| dy[b * outputs + o]).sum::<f32>())
                .collect();
            close(&db, &want);
        }
    }
}
