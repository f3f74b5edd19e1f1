//! Dense layers: y = f(x·Wᵀ + b) and its gradients (`shaders/linear.wgsl`).
//!
//! A layer is two ops, one dispatch each: [`LinearForward`] applies the bias and the
//! activation f as the product's epilogue, and [`LinearBackward`] forms the pre-activation's
//! gradient dy·f′(y) as it loads dy and computes dw, db and dx from it. The pre-activation
//! and its gradient are never stored. W is stored [outputs, inputs], as in PyTorch.
//!
//! Where a layer's input is the output of the layer below (x = f_x(…)), the program can fold
//! that layer's f′ into this one's dx ([`LinearBackward::x_f`]): dx then holds the gradient
//! of the pre-activation below, multiplied by f′(x) as it is stored, and the layer below
//! reads its dy as it is (see `Program::build`).

use super::{bind, Cpu, Gradients, Kernel, Op, Plan, PlanCx, Resource};
use crate::model::{Activation, TensorId, LEAKY_SLOPE};
use crate::ops::activation::{activate, activation_derivative};
use crate::shaders::Shader;

uniform! {
    /// A layer of `rows` × `inputs` → `outputs`; for `linear_backward`, the workgroup rows
    /// of its two products.
    pub struct Dims for Shader::Linear {
        rows: u32,
        inputs: u32,
        outputs: u32,
        slope: f32,
        w_tiles: u32,
        x_tiles: u32,
    }
}

/// How `linear.wgsl` computes a product (see the shader), chosen per device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// Workgroup-memory tiles (GPUs).
    Tiled,
    /// Register blocks read straight from storage, a float at a time.
    Blocked,
    /// Register blocks read 16 bytes at a time (CPU emulations of a GPU): the entry points
    /// `linear_forward4` and `linear_backward4`, for a layer whose inputs and outputs are
    /// multiples of 4; [`Schedule::Blocked`] for any other layer.
    Blocked4,
}

impl Schedule {
    pub const ALL: [Schedule; 3] = [Schedule::Tiled, Schedule::Blocked, Schedule::Blocked4];

    /// The schedule a layer of `inputs` → `outputs` runs in.
    fn for_layer(self, inputs: usize, outputs: usize) -> Schedule {
        match self {
            Schedule::Blocked4 if !inputs.is_multiple_of(4) || !outputs.is_multiple_of(4) => {
                Schedule::Blocked
            }
            s => s,
        }
    }

    /// The entry point of `base` ("linear_forward" or "linear_backward").
    fn entry(self, base: &'static str) -> &'static str {
        match (self, base) {
            (Schedule::Blocked4, "linear_forward") => "linear_forward4",
            (Schedule::Blocked4, _) => "linear_backward4",
            _ => base,
        }
    }
}

/// The override constants of `linear.wgsl`: its pipelines are compiled per schedule and per
/// activation, so the compiler sees f (and f′) as constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Matmul {
    /// The layer's schedule (after [`Schedule::for_layer`]).
    pub schedule: Schedule,
    /// The layer's activation code, or [`IDENTITY`].
    pub act: u32,
    /// The backward entry points: the code of [`LinearBackward::x_f`], or [`IDENTITY`]
    /// (the forward ones have no such constant).
    pub x_act: Option<u32>,
}

impl Matmul {
    /// The constants by their WGSL names (the vec4 entry points have no TILED).
    pub fn constants(self) -> Vec<(&'static str, f64)> {
        let mut constants = vec![("ACT", f64::from(self.act))];
        match self.schedule {
            Schedule::Tiled => constants.push(("TILED", 1.0)),
            Schedule::Blocked => constants.push(("TILED", 0.0)),
            Schedule::Blocked4 => {}
        }
        if let Some(x_act) = self.x_act {
            constants.push(("X_ACT", f64::from(x_act)));
        }
        constants
    }
}

bindings! {
    x = 1, w = 2, bias = 3, y = 4, dy = 5, y_in = 6, dw = 7, db = 8, dx = 9,
    // The same buffers as vec4 arrays (linear_forward4, linear_backward4).
    x4 = 1, w4 = 2, y4 = 4, dy4 = 5, y_in4 = 6, dw4 = 7, dx4 = 9,
}

/// The code of "no activation" in `shaders/activate.wgsl`.
pub const IDENTITY: u32 = 4;

fn act_code(f: Option<Activation>) -> u32 {
    f.map_or(IDENTITY, Activation::code)
}

/// Rows of C one workgroup covers in `schedule`, forward or backward (see the shader): the
/// vec4 forward covers 64, so that a batch of 128 makes two rows of workgroups, which CPU
/// emulations share out among their threads more evenly than one.
fn tile_rows(schedule: Schedule, forward: bool) -> usize {
    match schedule {
        Schedule::Tiled => 64,
        Schedule::Blocked4 if forward => 64,
        Schedule::Blocked | Schedule::Blocked4 => 128,
    }
}

/// y[b, o] = f(Σᵢ x[b, i]·w[o, i] + bias[o]), f the layer's activation (none: the logits).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearForward {
    pub x: TensorId,
    pub w: TensorId,
    pub b: TensorId,
    pub y: TensorId,
    pub f: Option<Activation>,
}

impl Kernel for LinearForward {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let Self { x, w, b, y, f } = *self;
        let (dy, dw, db, dx) = (g.must(y, "a linear output"), g.param(w), g.param(b), g.of(x));
        vec![LinearBackward { x, w, y, dy, f, dw, db, dx, x_f: None }.into()]
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (rows, i, o) = (cx.rows, cx.cols(self.x), cx.cols(self.y));
        cx.write(self.y, |cx, y| {
            linear_forward(cx.get(self.x), cx.get(self.w), cx.get(self.b), y, rows, i, o);
            if let Some(f) = self.f {
                let y = &mut y[..rows * o];
                // In place: each value is read, then written.
                for v in y.iter_mut() {
                    *v = activate(f, *v);
                }
            }
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (i, o) = (cx.cols(self.x), cx.cols(self.y));
        let dims = Dims {
            rows: cx.rows as u32,
            inputs: i as u32,
            outputs: o as u32,
            slope: LEAKY_SLOPE,
            ..Dims::default()
        };
        let bindings = vec![
            bind(binding::x, self.x),
            bind(binding::w, self.w),
            bind(binding::bias, self.b),
            bind(binding::y, self.y),
        ];
        let schedule = cx.matmul.for_layer(i, o);
        let groups = [
            o.div_ceil(64).max(1) as u32,
            cx.rows.div_ceil(tile_rows(schedule, true)).max(1) as u32,
            1,
        ];
        let matmul = Some(Matmul { schedule, act: act_code(self.f), x_act: None });
        Plan { matmul, ..Plan::new(schedule.entry("linear_forward"), dims, groups, bindings) }
    }
}

/// The gradients of a [`LinearForward`], with g = dy·f′(y) (f′ in terms of the output y):
/// dw[o, i] += Σ_b g[b, o]·x[b, i]; db[o] += Σ_b g[b, o]; dx[b, i] += Σₒ g[b, o]·w[o, i]
/// when the layer's input has a gradient, times f_x′(x[b, i]) when [`Self::x_f`] is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearBackward {
    pub x: TensorId,
    pub w: TensorId,
    /// The layer's output: f′ is read from it.
    pub y: TensorId,
    pub dy: TensorId,
    pub f: Option<Activation>,
    pub dw: TensorId,
    pub db: TensorId,
    pub dx: Option<TensorId>,
    /// The activation whose output x is, folded in: dx[b, i] += (Σₒ g[b, o]·w[o, i])·
    /// f_x′(x[b, i]), the gradient of the pre-activation below, so that the layer below
    /// reads its g straight from dy (its `f` is then `None`). Set by the program builder
    /// only where every op that touches dx, besides the layer below, is a layer above it
    /// folding the same f_x.
    pub x_f: Option<Activation>,
}

impl Kernel for LinearBackward {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, i, o) = (cx.rows, cx.cols(self.x), cx.cols(self.dy));
        let (mut dw, mut db) = (cx.take(self.dw), cx.take(self.db));
        let mut dx = self.dx.map(|t| cx.take(t));
        let (x, w, y, dy) = (cx.get(self.x), cx.get(self.w), cx.get(self.y), cx.get(self.dy));
        with_pre_grad(self.f, &y[..rows * o], &dy[..rows * o], |g| {
            let dx = dx.as_deref_mut();
            linear_backward(g, x, w, self.x_f, &mut dw, &mut db, dx, rows, i, o);
        });
        cx.put(self.dw, dw);
        cx.put(self.db, db);
        if let (Some(t), Some(v)) = (self.dx, dx) {
            cx.put(t, v);
        }
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (i, o) = (cx.cols(self.x), cx.cols(self.dy));
        let schedule = cx.matmul.for_layer(i, o);
        let tm = tile_rows(schedule, false);
        let w_tiles = o.div_ceil(tm).max(1);
        let x_tiles = if self.dx.is_some() { cx.rows.div_ceil(tm).max(1) } else { 0 };
        let dims = Dims {
            rows: cx.rows as u32,
            inputs: i as u32,
            outputs: o as u32,
            slope: LEAKY_SLOPE,
            w_tiles: w_tiles as u32,
            x_tiles: x_tiles as u32,
        };
        // Without an activation f′ is never read: dy fills the slot.
        let y_in = if self.f.is_some() { self.y } else { self.dy };
        let dx = match self.dx {
            Some(t) => Resource::Tensor(t),
            None => Resource::Scratch,
        };
        let bindings = vec![
            bind(binding::x, self.x),
            bind(binding::w, self.w),
            bind(binding::dy, self.dy),
            bind(binding::y_in, y_in),
            bind(binding::dw, self.dw),
            bind(binding::db, self.db),
            (binding::dx, dx),
        ];
        let groups = [i.div_ceil(64).max(1) as u32, (w_tiles + x_tiles + 1) as u32, 1];
        let matmul =
            Some(Matmul { schedule, act: act_code(self.f), x_act: Some(act_code(self.x_f)) });
        Plan { matmul, ..Plan::new(schedule.entry("linear_backward"), dims, groups, bindings) }
    }
}

std::thread_local! {
    /// The pre-activation's gradient of [`LinearBackward`]'s CPU function, kept between calls
    /// so that a training step allocates nothing.
    static PRE_GRAD: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The product g·W of [`linear_backward_input_through`], likewise.
    static PRODUCT: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `run` with g = dy·f′(y): dy itself when there is no activation.
fn with_pre_grad(f: Option<Activation>, y: &[f32], dy: &[f32], run: impl FnOnce(&[f32])) {
    let Some(f) = f else { return run(dy) };
    PRE_GRAD.with(|g| {
        let mut g = g.borrow_mut();
        g.clear();
        g.extend(y.iter().zip(dy).map(|(&y, &d)| activation_derivative(f, y) * d));
        run(&g);
    });
}

// ---- the CPU functions: matrix products through `matrixmultiply` (or `gemm`) ----

/// Whether the products go through `gemm`'s AVX-512 kernels: natively on a CPU that has
/// them, where they outrun `matrixmultiply`'s AVX2 ones (201 against 159 GFLOP/s on an AE
/// step's products with 2 threads). Elsewhere `matrixmultiply` is the faster of the two.
#[cfg(not(target_arch = "wasm32"))]
fn wide_simd() -> bool {
    static WIDE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WIDE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        let wide = std::is_x86_feature_detected!("avx512f")
            && std::env::var_os("LATENT_LAB_NO_AVX512").is_none();
        #[cfg(not(target_arch = "x86_64"))]
        let wide = false;
        wide
    })
}

/// c[m × n] (row-major) = A·B + c, where A(i, p) = a[i·ra + p·ca] and B(p, j) = b[p·rb + j·cb]:
/// every transpose is a choice of strides, as on the GPU. `matrixmultiply`'s packed
/// microkernels (AVX/FMA natively, on every core with its `threading` feature; simd128 in the
/// wasm build) do the work, or natively on a CPU with AVX-512 `gemm`'s.
#[allow(clippy::too_many_arguments)] // the strides are the point
pub(super) fn gemm_acc(
    mnk: [usize; 3],
    a: &[f32],
    sa: [usize; 2],
    b: &[f32],
    sb: [usize; 2],
    c: &mut [f32],
) {
    gemm_in(Threads::All, mnk, a, sa, b, sb, c)
}

/// Which threads a backward product may use: every core, or the calling thread alone (when
/// the other product of the layer runs beside it on the other core).
#[derive(Clone, Copy, Debug)]
pub enum Threads {
    All,
    One,
}

/// Whether the two products of a layer's backward op (dw and dx, of `macs` multiply-adds
/// each) run side by side, each on one thread, rather than in turn on every core: natively
/// with `gemm`'s kernels, from a million multiply-adds. Each product then packs its operands
/// once instead of on both cores, and the cores never wait on each other in between.
fn side_by_side(macs: usize) -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    return wide_simd() && macs >= 1 << 20 && super::par::cores() > 1;
    #[cfg(target_arch = "wasm32")]
    {
        let _ = macs;
        false
    }
}

/// [`gemm_acc`] on `threads`. `matrixmultiply` ignores [`Threads::One`]: only `gemm`'s
/// products run side by side (see [`side_by_side`]).
#[allow(clippy::too_many_arguments)]
fn gemm_in(
    threads: Threads,
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
    #[cfg(not(target_arch = "wasm32"))]
    if wide_simd() {
        return gemm_wide(threads, [m, n, k], a, [ra, ca], b, [rb, cb], c);
    }
    let _ = threads;
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

/// [`gemm_acc`] through `gemm`'s kernels, a large product in two halves of C (its rows, or
/// its columns when it has fewer rows) through [`par::both`](super::par::both), each half
/// single-threaded: gemm's own threading cost more, between the products of a step, than
/// the products gained from it.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::too_many_arguments)]
fn gemm_wide(
    threads: Threads,
    [m, n, k]: [usize; 3],
    a: &[f32],
    [ra, ca]: [usize; 2],
    b: &[f32],
    [rb, cb]: [usize; 2],
    c: &mut [f32],
) {
    // C's address as a number, so that the two threads can share it: each writes through it
    // only to its own part, C[r0.., c0..] of `rows` × `cols`.
    let whole = c.as_mut_ptr() as usize;
    let part = |(r0, rows, c0, cols): (usize, usize, usize, usize)| {
        // SAFETY: gemm_acc's asserts keep every index the strides reach within `a`, `b` and
        // `c` (a part reaches no further than the whole product); `c` stays borrowed mutably
        // until both parts return, and they write disjoint elements of it (rows r0.. or
        // columns c0..). gemm computes dst = 1·dst + 1·lhs·rhs, strides in (column, row) order.
        unsafe {
            gemm::gemm(
                rows,
                cols,
                k,
                (whole as *mut f32).add(r0 * n + c0),
                1,
                n as isize,
                true,
                a.as_ptr().add(r0 * ra),
                ca as isize,
                ra as isize,
                b.as_ptr().add(c0 * cb),
                cb as isize,
                rb as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    };
    // Two threads pay off from about a million multiply-adds.
    if matches!(threads, Threads::One) || m * n * k < 1 << 20 || m.max(n) < 2 {
        part((0, m, 0, n));
    } else if m >= n {
        let mid = m / 2;
        super::par::both(true, (0, mid, 0, n), (mid, m - mid, 0, n), part);
    } else {
        let mid = n / 2;
        super::par::both(true, (0, m, 0, mid), (0, m, mid, n - mid), part);
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

/// [`LinearBackward`]'s products from g (dy·f′(y)): dw[o, i] += Σ_b g[b, o]·x[b, i] and
/// db[o] += Σ_b g[b, o]; dx[b, i] += Σₒ g[b, o]·w[o, i] where x has a gradient, times
/// f_x′(x[b, i]) where `x_f` is set.
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(
    g: &[f32],
    x: &[f32],
    w: &[f32],
    x_f: Option<Activation>,
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    let (i, o) = (inputs, outputs);
    let input = |dx: &mut [f32], threads| match x_f {
        None => linear_backward_input(threads, g, w, dx, rows, i, o),
        Some(f) => linear_backward_input_through(threads, f, g, w, x, dx, rows, i, o),
    };
    let mut weight = |threads| {
        linear_backward_weight(threads, x, g, dw, rows, i, o);
        linear_backward_bias(g, db, rows, o);
    };
    match dx {
        // dw and dx have the same size: one on each core outruns each in turn across both.
        Some(dx) if side_by_side(rows * i * o) => {
            super::par::join(|| weight(Threads::One), || input(dx, Threads::One))
        }
        Some(dx) => {
            weight(Threads::All);
            input(dx, Threads::All);
        }
        None => weight(Threads::All),
    }
}

/// dx[b, i] += Σₒ dy[b, o]·w[o, i].
#[allow(clippy::too_many_arguments)]
pub fn linear_backward_input(
    threads: Threads,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    gemm_in(threads, [rows, inputs, outputs], dy, [outputs, 1], w, [inputs, 1], dx);
}

/// dx[b, i] += (Σₒ dy[b, o]·w[o, i])·f′(x[b, i]), x being f's output: the gradient of the
/// pre-activation that x came from.
#[allow(clippy::too_many_arguments)]
fn linear_backward_input_through(
    threads: Threads,
    f: Activation,
    dy: &[f32],
    w: &[f32],
    x: &[f32],
    dx: &mut [f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    PRODUCT.with(|p| {
        let mut p = p.borrow_mut();
        p.clear();
        p.resize(rows * inputs, 0.0);
        linear_backward_input(threads, dy, w, &mut p, rows, inputs, outputs);
        for ((d, &s), &x) in dx[..rows * inputs].iter_mut().zip(p.iter()).zip(x) {
            *d += s * activation_derivative(f, x);
        }
    });
}

/// dw[o, i] += Σ_b dy[b, o]·x[b, i].
#[allow(clippy::too_many_arguments)]
pub fn linear_backward_weight(
    threads: Threads,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) {
    gemm_in(threads, [outputs, inputs, rows], dy, [1, outputs], x, [inputs, 1], dw);
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
        // The last two are large enough to be split across two threads (by rows of the
        // product, or by its columns when it has fewer rows), or for dw and dx to run side
        // by side.
        let shapes =
            [(1, 1, 1), (3, 5, 7), (13, 37, 11), (70, 9, 130), (128, 200, 96), (300, 64, 80)];
        for (rows, inputs, outputs) in shapes {
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

            let dx_start = values(rows * inputs, 6);
            let mut dx = dx_start.clone();
            linear_backward_input(Threads::All, &dy, &w, &mut dx, rows, inputs, outputs);
            let want: Vec<f32> = (0..rows * inputs)
                .map(|e| {
                    let (b, i) = (e / inputs, e % inputs);
                    dx_start[e]
                        + (0..outputs).map(|o| dy[b * outputs + o] * w[o * inputs + i]).sum::<f32>()
                })
                .collect();
            close(&dx, &want);
            // Through a ReLU below: the product where x > 0, nothing added where x = 0.
            let relu: Vec<f32> = x.iter().map(|&v| v.max(0.0)).collect();
            let mut through = dx_start.clone();
            linear_backward_input_through(
                Threads::All,
                Activation::Relu,
                &dy,
                &w,
                &relu,
                &mut through,
                rows,
                inputs,
                outputs,
            );
            let masked: Vec<f32> = (0..rows * inputs)
                .map(|e| if relu[e] > 0.0 { want[e] } else { dx_start[e] })
                .collect();
            close(&through, &masked);

            // dw's definition for the layer input x, over what dw held.
            let dw_start = values(outputs * inputs, 7);
            let dw_of = |x: &[f32]| -> Vec<f32> {
                (0..outputs * inputs)
                    .map(|e| {
                        let (o, i) = (e / inputs, e % inputs);
                        dw_start[e]
                            + (0..rows)
                                .map(|b| dy[b * outputs + o] * x[b * inputs + i])
                                .sum::<f32>()
                    })
                    .collect()
            };
            let mut dw = dw_start.clone();
            linear_backward_weight(Threads::All, &x, &dy, &mut dw, rows, inputs, outputs);
            close(&dw, &dw_of(&x));

            let mut db = vec![1.0; outputs];
            linear_backward_bias(&dy, &mut db, rows, outputs);
            let want_db: Vec<f32> = (0..outputs)
                .map(|o| 1.0 + (0..rows).map(|b| dy[b * outputs + o]).sum::<f32>())
                .collect();
            close(&db, &want_db);

            // The whole backward op of a layer whose input came out of a ReLU: the three
            // products, dw and dx side by side on the last two shapes where the CPU has
            // AVX-512.
            let (mut dw, mut db, mut dx) = (dw_start.clone(), vec![1.0; outputs], dx_start);
            let (x_f, dx_some) = (Some(Activation::Relu), Some(dx.as_mut_slice()));
            linear_backward(&dy, &relu, &w, x_f, &mut dw, &mut db, dx_some, rows, inputs, outputs);
            close(&dw, &dw_of(&relu));
            close(&db, &want_db);
            close(&dx, &masked);
        }
    }
}
