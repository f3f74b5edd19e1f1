//! 2-D convolutions, NCHW, batch-major: conv2d (PyTorch's `Conv2d`, weight
//! C_out × C_in × k_h × k_w) and conv_transpose2d (`ConvTranspose2d`, weight
//! C_in × C_out × k_h × k_w), each with its forward and three gradients (which add to their
//! outputs), named as the entry points of `shaders/conv.wgsl`. Kernel, stride and padding are per axis, so a 1-D convolution of a
//! series (C × L) is the 2-D one on a plane of height 1 with a 1 × k kernel
//! ([`ConvShape::conv1d`]): PyTorch's `Conv1d` with its weight viewed as C_out × C_in × 1 × k.
//!
//! On the CPU both ops are one conv2d seen from either side (see "the CPU functions" below):
//! im2col lays the taps out as a matrix, so the forward and every gradient are matrix
//! products, and the index arithmetic lives in one place (`im2col` and its adjoint). The GPU
//! kernels gather the same sums per output element instead, which makes this an independent
//! check of them.

use super::{bind, groups_1d, Cpu, Gradients, Kernel, Op, Plan, PlanCx};
use crate::model::TensorId;
use crate::shaders::Shader;

uniform! {
    /// Sizes per axis pack height in the low and width in the high 16 bits.
    pub struct Params for Shader::Conv {
        batch: u32,
        c_in: u32,
        c_out: u32,
        in_hw: u32,
        out_hw: u32,
        kernel_hw: u32,
        stride_hw: u32,
        padding_hw: u32,
    }
}

bindings! { x = 1, w = 2, bias = 3, dy = 4, y = 5, dx = 6, dw = 7, dbias = 8 }

impl Params {
    pub fn of(s: &ConvShape) -> Params {
        let hw = |h: usize, w: usize| {
            assert!(h < 1 << 16 && w < 1 << 16, "{h} × {w} does not fit 16 bits a side");
            h as u32 | (w as u32) << 16
        };
        Params {
            batch: s.batch as u32,
            c_in: s.c_in as u32,
            c_out: s.c_out as u32,
            in_hw: hw(s.in_h, s.in_w),
            out_hw: hw(s.out_h, s.out_w),
            kernel_hw: hw(s.kernel[0], s.kernel[1]),
            stride_hw: hw(s.stride[0], s.stride[1]),
            padding_hw: hw(s.padding[0], s.padding[1]),
        }
    }
}

/// The entry point of a conv op: `conv2d_<what>` or `conv_transpose2d_<what>`.
fn entry(transpose: bool, conv2d: &'static str, transposed: &'static str) -> &'static str {
    if transpose {
        transposed
    } else {
        conv2d
    }
}

/// A `conv.wgsl` dispatch on `cx.rows` rows: one invocation per output element, strided.
fn plan(
    cx: &PlanCx,
    entry: &'static str,
    shape: &ConvShape,
    outputs: impl Fn(&ConvShape) -> usize,
    bindings: Vec<(u32, super::Resource)>,
) -> Plan {
    let s = ConvShape { batch: cx.rows, ..*shape };
    Plan::new(entry, Params::of(&s), groups_1d(outputs(&s), 256), bindings)
}

/// y = conv2d(x, w) + bias (or conv_transpose2d with `transpose`), NCHW rows; the shape's
/// batch is the number of rows the op runs on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvForward {
    pub transpose: bool,
    pub x: TensorId,
    pub w: TensorId,
    pub b: TensorId,
    pub y: TensorId,
    pub shape: ConvShape,
}

impl Kernel for ConvForward {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let Self { transpose, x, w, b, y, shape } = *self;
        let dy = g.must(y, "a convolution's output");
        let mut ops = vec![
            ConvBackwardWeight { transpose, x, dy, dw: g.param(w), shape }.into(),
            ConvBackwardBias { transpose, dy, db: g.param(b), shape }.into(),
        ];
        if let Some(dx) = g.of(x) {
            ops.push(ConvBackwardInput { transpose, dy, w, dx, shape }.into());
        }
        ops
    }

    fn cpu(&self, cx: &mut Cpu) {
        let s = ConvShape { batch: cx.rows, ..self.shape };
        let f = if self.transpose { conv_transpose2d_forward } else { conv2d_forward };
        cx.write(self.y, |cx, y| {
            f(&cx.get(self.x)[..s.x_len()], cx.get(self.w), cx.get(self.b), &mut y[..s.y_len()], &s)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let e = entry(self.transpose, "conv2d_forward", "conv_transpose2d_forward");
        let bindings = vec![
            bind(binding::x, self.x),
            bind(binding::w, self.w),
            bind(binding::bias, self.b),
            bind(binding::y, self.y),
        ];
        plan(cx, e, &self.shape, ConvShape::y_len, bindings)
    }
}

/// dx += the gradient through the convolution's weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvBackwardInput {
    pub transpose: bool,
    pub dy: TensorId,
    pub w: TensorId,
    pub dx: TensorId,
    pub shape: ConvShape,
}

impl Kernel for ConvBackwardInput {
    fn cpu(&self, cx: &mut Cpu) {
        let s = ConvShape { batch: cx.rows, ..self.shape };
        let f =
            if self.transpose { conv_transpose2d_backward_input } else { conv2d_backward_input };
        cx.write(self.dx, |cx, dx| {
            f(&cx.get(self.dy)[..s.y_len()], cx.get(self.w), &mut dx[..s.x_len()], &s)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let e = entry(self.transpose, "conv2d_backward_input", "conv_transpose2d_backward_input");
        let bindings =
            vec![bind(binding::w, self.w), bind(binding::dy, self.dy), bind(binding::dx, self.dx)];
        plan(cx, e, &self.shape, ConvShape::x_len, bindings)
    }
}

/// dw += Σ over the batch and positions of dy·x.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvBackwardWeight {
    pub transpose: bool,
    pub x: TensorId,
    pub dy: TensorId,
    pub dw: TensorId,
    pub shape: ConvShape,
}

impl Kernel for ConvBackwardWeight {
    fn cpu(&self, cx: &mut Cpu) {
        let s = ConvShape { batch: cx.rows, ..self.shape };
        let f =
            if self.transpose { conv_transpose2d_backward_weight } else { conv2d_backward_weight };
        cx.write(self.dw, |cx, dw| {
            f(&cx.get(self.x)[..s.x_len()], &cx.get(self.dy)[..s.y_len()], dw, &s)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let e = entry(self.transpose, "conv2d_backward_weight", "conv_transpose2d_backward_weight");
        let bindings =
            vec![bind(binding::x, self.x), bind(binding::dy, self.dy), bind(binding::dw, self.dw)];
        plan(cx, e, &self.shape, ConvShape::w_len, bindings)
    }
}

/// dbias[c] += Σ of dy over the batch and the plane of channel c.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvBackwardBias {
    pub transpose: bool,
    pub dy: TensorId,
    pub db: TensorId,
    pub shape: ConvShape,
}

impl Kernel for ConvBackwardBias {
    fn cpu(&self, cx: &mut Cpu) {
        let s = ConvShape { batch: cx.rows, ..self.shape };
        let f = if self.transpose { conv_transpose2d_backward_bias } else { conv2d_backward_bias };
        cx.write(self.db, |cx, db| f(&cx.get(self.dy)[..s.y_len()], db, &s));
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let e = entry(self.transpose, "conv2d_backward_bias", "conv_transpose2d_backward_bias");
        let bindings = vec![bind(binding::dy, self.dy), bind(binding::dbias, self.db)];
        plan(cx, e, &self.shape, |s| s.c_out, bindings)
    }
}

// ---- the plain loops ----

/// Shape of one convolution, from its forward op's point of view: x is the input
/// (batch × c_in × in_h × in_w), y the output (batch × c_out × out_h × out_w).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub batch: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_h: usize,
    pub out_w: usize,
    /// Kernel [k_h, k_w].
    pub kernel: [usize; 2],
    /// Stride [s_h, s_w].
    pub stride: [usize; 2],
    /// Zero padding [p_h, p_w] on both sides of each axis.
    pub padding: [usize; 2],
}

impl ConvShape {
    /// conv2d of `[c_in, c_out]` channels on `[h, w]` images with a square kernel:
    /// out = (in + 2p − k)/s + 1.
    pub fn conv2d(
        batch: usize,
        channels: [usize; 2],
        size: [usize; 2],
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> ConvShape {
        Self::conv2d_axes(batch, channels, size, [kernel; 2], [stride; 2], [padding; 2])
    }

    /// conv1d of `[c_in, c_out]` channels on series of `length` steps: the conv2d of a plane
    /// of height 1 with a 1 × `kernel` kernel, striding and padding along the steps only.
    pub fn conv1d(
        batch: usize,
        channels: [usize; 2],
        length: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> ConvShape {
        Self::conv2d_axes(batch, channels, [1, length], [1, kernel], [1, stride], [0, padding])
    }

    /// conv2d with kernel, stride and padding given per axis `[h, w]`.
    pub fn conv2d_axes(
        batch: usize,
        [c_in, c_out]: [usize; 2],
        [in_h, in_w]: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> ConvShape {
        for a in 0..2 {
            assert!(stride[a] > 0 && kernel[a] > 0, "conv2d: kernel and stride must be positive");
        }
        assert!(
            in_h + 2 * padding[0] >= kernel[0] && in_w + 2 * padding[1] >= kernel[1],
            "conv2d: kernel {kernel:?} is larger than the padded {in_h} × {in_w} input"
        );
        let out = |len: usize, a: usize| (len + 2 * padding[a] - kernel[a]) / stride[a] + 1;
        ConvShape {
            batch,
            c_in,
            c_out,
            in_h,
            in_w,
            out_h: out(in_h, 0),
            out_w: out(in_w, 1),
            kernel,
            stride,
            padding,
        }
    }

    /// Whether this is a 1-D convolution: planes of height 1 and a kernel of height 1.
    pub fn is_1d(&self) -> bool {
        self.in_h == 1 && self.out_h == 1 && self.kernel[0] == 1
    }

    /// conv_transpose2d: out = (in − 1)·s − 2p + k + output_padding.
    pub fn conv_transpose2d(
        batch: usize,
        [c_in, c_out]: [usize; 2],
        [in_h, in_w]: [usize; 2],
        kernel: usize,
        stride: usize,
        [padding, output_padding]: [usize; 2],
    ) -> ConvShape {
        assert!(stride > 0 && kernel > 0, "conv_transpose2d: kernel and stride must be positive");
        assert!(output_padding < stride, "conv_transpose2d: output_padding must be < stride");
        let out = |len: usize| {
            ((len - 1) * stride + kernel + output_padding)
                .checked_sub(2 * padding)
                .filter(|&n| n > 0)
        };
        let (Some(out_h), Some(out_w)) = (out(in_h), out(in_w)) else {
            panic!("conv_transpose2d: padding {padding} leaves no output of {in_h} × {in_w}");
        };
        let (kernel, stride, padding) = ([kernel; 2], [stride; 2], [padding; 2]);
        ConvShape { batch, c_in, c_out, in_h, in_w, out_h, out_w, kernel, stride, padding }
    }

    /// The op that runs this one backwards: the conv_transpose2d shape of a conv2d (and back),
    /// with the same weight buffer. Its output padding is whatever restores this op's input
    /// size, per axis — the decoder that mirrors an encoder layer.
    pub fn transpose(&self) -> ConvShape {
        ConvShape {
            c_in: self.c_out,
            c_out: self.c_in,
            in_h: self.out_h,
            in_w: self.out_w,
            out_h: self.in_h,
            out_w: self.in_w,
            ..*self
        }
    }

    pub fn x_len(&self) -> usize {
        self.batch * self.c_in * self.in_h * self.in_w
    }

    pub fn y_len(&self) -> usize {
        self.batch * self.c_out * self.out_h * self.out_w
    }

    /// Weights of either layout: c_out × c_in × k_h × k_w or c_in × c_out × k_h × k_w.
    pub fn w_len(&self) -> usize {
        self.c_out * self.c_in * self.kernel[0] * self.kernel[1]
    }

    /// Taps of one kernel plane: k_h · k_w.
    pub fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
}

/// Index on the strided side reached from position `other` through tap `t` along axis `a`:
/// other·s − p + t, or `None` where that falls outside `0..len` (zero padding).
fn strided(other: usize, t: usize, s: &ConvShape, a: usize, len: usize) -> Option<usize> {
    (other * s.stride[a] + t).checked_sub(s.padding[a]).filter(|&i| i < len)
}

// ---- the CPU functions: im2col and matrix products ----
//
// Every one of the eight functions is a conv2d seen from one side. The *view* of an op is
// the conv2d that reads an "image" I (view.c_in planes of in_h × in_w) through its taps and
// answers with a "response" R (view.c_out planes of out_h × out_w), its weight W being
// view.c_out × (view.c_in · taps) — the layout both ops store. A conv2d is its own view
// (I = x, R = y); a conv_transpose2d is the view with the sides swapped (I = y, R = x): it
// writes y at x·s − p + k exactly where its view reads. Per image, with cols = im2col(I)
// ((c_in · taps) × positions):
//   R += W·cols,   dW += R'·colsᵀ,   dI += col2im(Wᵀ·R').
// The products run through `matrixmultiply` (see `linear.rs`).

/// The conv2d that `s` is, seen from its image side (see above).
fn view(s: &ConvShape, transposed: bool) -> ConvShape {
    if transposed {
        ConvShape {
            c_in: s.c_out,
            c_out: s.c_in,
            in_h: s.out_h,
            in_w: s.out_w,
            out_h: s.in_h,
            out_w: s.in_w,
            ..*s
        }
    } else {
        *s
    }
}

/// cols[(ci, ky, kx), (oy, ox)] = image[ci, oy·s − p + ky, ox·s − p + kx], 0 in the padding.
fn im2col(v: &ConvShape, image: &[f32], cols: &mut [f32]) {
    let [kh, kw] = v.kernel;
    let positions = v.out_h * v.out_w;
    for ci in 0..v.c_in {
        let plane = &image[ci * v.in_h * v.in_w..][..v.in_h * v.in_w];
        for ky in 0..kh {
            for kx in 0..kw {
                let row = &mut cols[((ci * kh + ky) * kw + kx) * positions..][..positions];
                for oy in 0..v.out_h {
                    let out = &mut row[oy * v.out_w..][..v.out_w];
                    let Some(iy) = strided(oy, ky, v, 0, v.in_h) else {
                        out.fill(0.0);
                        continue;
                    };
                    for (ox, o) in out.iter_mut().enumerate() {
                        *o =
                            strided(ox, kx, v, 1, v.in_w).map_or(0.0, |ix| plane[iy * v.in_w + ix]);
                    }
                }
            }
        }
    }
}

/// image[ci, oy·s − p + ky, ox·s − p + kx] += cols[(ci, ky, kx), (oy, ox)]: im2col's adjoint.
fn col2im(v: &ConvShape, cols: &[f32], image: &mut [f32]) {
    let [kh, kw] = v.kernel;
    let positions = v.out_h * v.out_w;
    for ci in 0..v.c_in {
        let plane = &mut image[ci * v.in_h * v.in_w..][..v.in_h * v.in_w];
        for ky in 0..kh {
            for kx in 0..kw {
                let row = &cols[((ci * kh + ky) * kw + kx) * positions..][..positions];
                for oy in 0..v.out_h {
                    let Some(iy) = strided(oy, ky, v, 0, v.in_h) else { continue };
                    for (ox, &c) in row[oy * v.out_w..][..v.out_w].iter().enumerate() {
                        if let Some(ix) = strided(ox, kx, v, 1, v.in_w) {
                            plane[iy * v.in_w + ix] += c;
                        }
                    }
                }
            }
        }
    }
}

std::thread_local! {
    /// The im2col buffer, kept between calls so that a training step allocates nothing.
    static COLS: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with a scratch buffer of `len` values (contents unspecified).
fn with_cols(len: usize, f: impl FnOnce(&mut [f32])) {
    COLS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < len {
            c.resize(len, 0.0);
        }
        f(&mut c[..len]);
    });
}

/// Per image of the batch: (its image slice, its response slice) lengths in the view.
fn sizes(v: &ConvShape) -> (usize, usize, usize) {
    let rows = v.c_in * v.taps();
    (v.c_in * v.in_h * v.in_w, v.c_out * v.out_h * v.out_w, rows * v.out_h * v.out_w)
}

/// The batch in two halves (`v` sized to each), with their image and response slices: the
/// halves run at once natively when there is enough work (see `par`).
fn halves(v: &ConvShape) -> (ConvShape, ConvShape, bool) {
    let first = v.batch / 2;
    let (ilen, rlen, clen) = sizes(v);
    let work = v.batch * (clen * v.c_out + ilen + rlen);
    (
        ConvShape { batch: first, ..*v },
        ConvShape { batch: v.batch - first, ..*v },
        work >= super::par::MIN_SPLIT,
    )
}

/// R += W·im2col(I), image by image.
fn respond(v: &ConvShape, image: &[f32], w: &[f32], response: &mut [f32]) {
    let (a, b, split) = halves(v);
    let (ilen, rlen, _) = sizes(v);
    let (i0, i1) = image[..v.batch * ilen].split_at(a.batch * ilen);
    let (r0, r1) = response[..v.batch * rlen].split_at_mut(a.batch * rlen);
    super::par::both(split, (a, i0, r0), (b, i1, r1), |(v, image, response)| {
        let (k, n, clen) = (v.c_in * v.taps(), v.out_h * v.out_w, sizes(&v).2);
        with_cols(clen, |cols| {
            for (image, r) in image.chunks_exact(ilen).zip(response.chunks_exact_mut(rlen)) {
                im2col(&v, image, cols);
                super::linear::gemm_acc([v.c_out, n, k], w, [k, 1], cols, [n, 1], r);
            }
        });
    });
}

/// I += col2im(Wᵀ·R), image by image.
fn spread(v: &ConvShape, response: &[f32], w: &[f32], image: &mut [f32]) {
    let (a, b, split) = halves(v);
    let (ilen, rlen, _) = sizes(v);
    let (i0, i1) = image[..v.batch * ilen].split_at_mut(a.batch * ilen);
    let (r0, r1) = response[..v.batch * rlen].split_at(a.batch * rlen);
    super::par::both(split, (a, i0, r0), (b, i1, r1), |(v, image, response)| {
        let (m, n, clen) = (v.c_in * v.taps(), v.out_h * v.out_w, sizes(&v).2);
        with_cols(clen, |cols| {
            for (image, r) in image.chunks_exact_mut(ilen).zip(response.chunks_exact(rlen)) {
                cols.fill(0.0);
                super::linear::gemm_acc([m, n, v.c_out], w, [1, m], r, [n, 1], cols);
                col2im(&v, cols, image);
            }
        });
    });
}

/// dW += R·im2col(I)ᵀ, image by image; the second half of the batch adds into its own
/// copy, added to dW at the end.
fn correlate(v: &ConvShape, image: &[f32], response: &[f32], dw: &mut [f32]) {
    let (a, b, split) = halves(v);
    let (ilen, rlen, _) = sizes(v);
    let (i0, i1) = image[..v.batch * ilen].split_at(a.batch * ilen);
    let (r0, r1) = response[..v.batch * rlen].split_at(a.batch * rlen);
    let dw = &mut dw[..v.w_len()];
    let mut other = vec![0.0; dw.len()];
    let halves = ((a, i0, r0, &mut *dw), (b, i1, r1, &mut other[..]));
    super::par::both(split, halves.0, halves.1, |(v, image, response, dw)| {
        let (n, k, clen) = (v.c_in * v.taps(), v.out_h * v.out_w, sizes(&v).2);
        with_cols(clen, |cols| {
            for (image, r) in image.chunks_exact(ilen).zip(response.chunks_exact(rlen)) {
                im2col(&v, image, cols);
                super::linear::gemm_acc([v.c_out, n, k], r, [k, 1], cols, [1, k], dw);
            }
        });
    });
    for (d, o) in dw.iter_mut().zip(&other) {
        *d += o;
    }
}

/// y = bias broadcast over each output plane, then every tap added.
fn forward(x: &[f32], w: &[f32], bias: &[f32], y: &mut [f32], s: &ConvShape, transposed: bool) {
    let plane = s.out_h * s.out_w;
    for (i, chunk) in y[..s.y_len()].chunks_exact_mut(plane).enumerate() {
        chunk.fill(bias[i % s.c_out]);
    }
    let v = view(s, transposed);
    if transposed {
        spread(&v, x, w, y);
    } else {
        respond(&v, x, w, y);
    }
}

fn backward_input(dy: &[f32], w: &[f32], dx: &mut [f32], s: &ConvShape, transposed: bool) {
    let v = view(s, transposed);
    if transposed {
        respond(&v, dy, w, dx);
    } else {
        spread(&v, dy, w, dx);
    }
}

fn backward_weight(x: &[f32], dy: &[f32], dw: &mut [f32], s: &ConvShape, transposed: bool) {
    let v = view(s, transposed);
    if transposed {
        correlate(&v, dy, x, dw);
    } else {
        correlate(&v, x, dy, dw);
    }
}

/// dbias[co] += Σ_{b, oy, ox} dy[b, co, oy, ox]; the same for both ops.
fn backward_bias(dy: &[f32], dbias: &mut [f32], s: &ConvShape) {
    let plane = s.out_h * s.out_w;
    for (i, chunk) in dy[..s.y_len()].chunks_exact(plane).enumerate() {
        dbias[i % s.c_out] += chunk.iter().sum::<f32>();
    }
}

/// y[b, co, oy, ox] = bias[co]
///     + Σ_{ci, ky, kx} x[b, ci, oy·s − p + ky, ox·s − p + kx]·w[co, ci, ky, kx].
pub fn conv2d_forward(x: &[f32], w: &[f32], bias: &[f32], y: &mut [f32], s: &ConvShape) {
    forward(x, w, bias, y, s, false);
}

/// dx[b, ci, iy, ix] += Σ over the taps that read x[b, ci, iy, ix] of dy·w.
pub fn conv2d_backward_input(dy: &[f32], w: &[f32], dx: &mut [f32], s: &ConvShape) {
    backward_input(dy, w, dx, s, false);
}

/// dw[co, ci, ky, kx] += Σ_{b, oy, ox} dy[b, co, oy, ox]·x[b, ci, oy·s − p + ky, ox·s − p + kx].
pub fn conv2d_backward_weight(x: &[f32], dy: &[f32], dw: &mut [f32], s: &ConvShape) {
    backward_weight(x, dy, dw, s, false);
}

/// dbias[co] += Σ_{b, oy, ox} dy[b, co, oy, ox].
pub fn conv2d_backward_bias(dy: &[f32], dbias: &mut [f32], s: &ConvShape) {
    backward_bias(dy, dbias, s);
}

/// y[b, co, iy·s − p + ky, ix·s − p + kx] += x[b, ci, iy, ix]·w[ci, co, ky, kx], over a
/// bias-filled y: every input pixel stamps the kernel, scaled, onto the output.
pub fn conv_transpose2d_forward(x: &[f32], w: &[f32], bias: &[f32], y: &mut [f32], s: &ConvShape) {
    forward(x, w, bias, y, s, true);
}

/// dx[b, ci, iy, ix] += Σ_{co, ky, kx} dy[b, co, iy·s − p + ky, ix·s − p + kx]·w[ci, co, ky, kx].
pub fn conv_transpose2d_backward_input(dy: &[f32], w: &[f32], dx: &mut [f32], s: &ConvShape) {
    backward_input(dy, w, dx, s, true);
}

/// dw[ci, co, ky, kx] += Σ_{b, iy, ix} x[b, ci, iy, ix]·dy[b, co, iy·s − p + ky, ix·s − p + kx].
pub fn conv_transpose2d_backward_weight(x: &[f32], dy: &[f32], dw: &mut [f32], s: &ConvShape) {
    backward_weight(x, dy, dw, s, true);
}

/// dbias[co] += Σ_{b, oy, ox} dy[b, co, oy, ox].
pub fn conv_transpose2d_backward_bias(dy: &[f32], dbias: &mut [f32], s: &ConvShape) {
    backward_bias(dy, dbias, s);
}

#[cfg(test)]
mod tests {
    //! Hand-computed cases, every backward against central finite differences in f64, and
    //! conv_transpose2d as the adjoint of conv2d.
    use super::*;
    use crate::rng;

    // x = 1 2 3    w = 1 2    bias = 1
    //     4 5 6        3 4
    //     7 8 9
    const X3: [f32; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    const W2: [f32; 4] = [1.0, 2.0, 3.0, 4.0];

    fn conv2d(x: &[f32], w: &[f32], bias: &[f32], s: &ConvShape) -> Vec<f32> {
        let mut y = vec![f32::NAN; s.y_len()];
        conv2d_forward(x, w, bias, &mut y, s);
        y
    }

    fn conv_transpose2d(x: &[f32], w: &[f32], bias: &[f32], s: &ConvShape) -> Vec<f32> {
        let mut y = vec![f32::NAN; s.y_len()];
        conv_transpose2d_forward(x, w, bias, &mut y, s);
        y
    }

    #[test]
    fn conv2d_forward_by_hand() {
        // Stride 1, padding 0: 2 × 2 out, y[oy, ox] = 1 + Σ x[oy + ky, ox + kx]·w[ky, kx].
        //   y00 = 1 + 1·1 + 2·2 + 4·3 + 5·4 = 38    y01 = 1 + 2 + 6 + 15 + 24 = 48
        //   y10 = 1 + 4 + 10 + 21 + 32 = 68         y11 = 1 + 5 + 12 + 24 + 36 = 78
        let s = ConvShape::conv2d(1, [1, 1], [3, 3], 2, 1, 0);
        assert_eq!(conv2d(&X3, &W2, &[1.0], &s), [38.0, 48.0, 68.0, 78.0]);
        // Stride 2, padding 1: (3 + 2 − 2)/2 + 1 = 2; y[oy, ox] reads rows 2·oy − 1 + {0, 1}.
        //   y00: only x00·w11 = 4 → 5            y01: x01·w10 + x02·w11 = 6 + 12 → 19
        //   y10: x10·w01 + x20·w11 = 8 + 28 → 37  y11: 5 + 12 + 24 + 36 → 78
        let s = ConvShape::conv2d(1, [1, 1], [3, 3], 2, 2, 1);
        assert_eq!(conv2d(&X3, &W2, &[1.0], &s), [5.0, 19.0, 37.0, 78.0]);
    }

    #[test]
    fn conv_transpose2d_forward_by_hand() {
        // x = 1 2, w = 1 2: each x[iy, ix] stamps x·w at (iy·s − p, ix·s − p).
        //     3 4      3 4
        let x = [1.0, 2.0, 3.0, 4.0];
        // Stride 2, padding 0: (2 − 1)·2 + 2 = 4, stamps side by side.
        let s = ConvShape::conv_transpose2d(1, [1, 1], [2, 2], 2, 2, [0, 0]);
        #[rustfmt::skip]
        let full = [
            1.0, 2.0, 2.0, 4.0,
            3.0, 4.0, 6.0, 8.0,
            3.0, 6.0, 4.0, 8.0,
            9.0, 12.0, 12.0, 16.0,
        ];
        assert_eq!(conv_transpose2d(&x, &W2, &[0.0], &s), full);
        // Stride 1: 3 × 3, stamps overlapping; the centre gets all four:
        //   y11 = x00·w11 + x01·w10 + x10·w01 + x11·w00 = 4 + 6 + 6 + 4 = 20.
        let s = ConvShape::conv_transpose2d(1, [1, 1], [2, 2], 2, 1, [0, 0]);
        let y = conv_transpose2d(&x, &W2, &[0.5], &s);
        assert_eq!(y, [1.0, 4.0, 4.0, 6.0, 20.0, 16.0, 9.0, 24.0, 16.0].map(|v| v + 0.5));
        // Stride 2, padding 1, output_padding 1: (2 − 1)·2 − 2 + 2 + 1 = 3; padding drops the
        // first row and column of the stride-2 result above, output_padding keeps its last.
        let s = ConvShape::conv_transpose2d(1, [1, 1], [2, 2], 2, 2, [1, 1]);
        let y = conv_transpose2d(&x, &W2, &[0.0], &s);
        assert_eq!(y, [4.0, 6.0, 8.0, 6.0, 4.0, 8.0, 12.0, 12.0, 16.0]);
    }

    #[test]
    fn shapes_follow_the_pytorch_formulas() {
        // The MNIST encoder, 28 → 14 → 7, and its mirror back.
        let e1 = ConvShape::conv2d(1, [1, 16], [28, 28], 4, 2, 1);
        let e2 = ConvShape::conv2d(1, [16, 32], [14, 14], 4, 2, 1);
        assert_eq!((e1.out_h, e2.out_h), (14, 7));
        let d = ConvShape::conv_transpose2d(1, [32, 16], [7, 7], 4, 2, [1, 0]);
        assert_eq!(d, e2.transpose());
        // Kernel 3 loses a pixel that output_padding gives back: 28 → 14, 14 → 28.
        let e = ConvShape::conv2d(1, [1, 8], [28, 27], 3, 2, 1);
        assert_eq!((e.out_h, e.out_w), (14, 14));
        let d = ConvShape::conv_transpose2d(1, [8, 1], [14, 14], 3, 2, [1, 1]);
        assert_eq!((d.out_h, d.out_w), (28, 28));
        assert_eq!((e.transpose().out_h, e.transpose().out_w), (28, 27));
    }

    // ---- finite differences ----

    fn rand_vec(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32).map(|i| rng::normal(seed, 78, 0, i)).collect()
    }

    /// Central differences of a scalar function of `v`, in f64. Every loss here is linear in
    /// each argument, so a large step has no truncation error and keeps f32 rounding small.
    fn numeric_grad(v: &[f32], f: &dyn Fn(&[f32]) -> f64) -> Vec<f64> {
        let h = 0.0625f32;
        (0..v.len())
            .map(|i| {
                let (mut vp, mut vm) = (v.to_vec(), v.to_vec());
                vp[i] += h;
                vm[i] -= h;
                (f(&vp) - f(&vm)) / (vp[i] as f64 - vm[i] as f64)
            })
            .collect()
    }

    fn assert_grad(analytic: &[f32], numeric: &[f64], what: &str) {
        assert_eq!(analytic.len(), numeric.len(), "{what}: lengths differ");
        for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
            assert!(
                (a as f64 - n).abs() <= 1e-3 + 1e-3 * n.abs(),
                "{what}[{i}]: analytic {a}, numeric {n}"
            );
        }
    }

    /// L = Σ c ⊙ y for fixed random c, so dL/dy = c.
    fn weighted_sum(y: &[f32], c: &[f32]) -> f64 {
        y.iter().zip(c).map(|(&a, &b)| a as f64 * b as f64).sum()
    }

    type Forward = fn(&[f32], &[f32], &[f32], &mut [f32], &ConvShape);
    type Input = fn(&[f32], &[f32], &mut [f32], &ConvShape);
    type Weight = fn(&[f32], &[f32], &mut [f32], &ConvShape);
    type Bias = fn(&[f32], &mut [f32], &ConvShape);

    fn check_backward(s: &ConvShape, ops: (Forward, Input, Weight, Bias), what: &str) {
        let (forward, backward_input, backward_weight, backward_bias) = ops;
        let (x, w) = (rand_vec(s.x_len(), 1), rand_vec(s.w_len(), 2));
        let (bias, c) = (rand_vec(s.c_out, 3), rand_vec(s.y_len(), 4));
        let loss = |x: &[f32], w: &[f32], bias: &[f32]| {
            let mut y = vec![f32::NAN; s.y_len()];
            forward(x, w, bias, &mut y, s);
            weighted_sum(&y, &c)
        };
        // The gradients add to what they hold: they start at zero, as in a training step.
        let mut dx = vec![0.0; s.x_len()];
        let mut dw = vec![0.0; s.w_len()];
        let mut db = vec![0.0; s.c_out];
        backward_input(&c, &w, &mut dx, s);
        backward_weight(&x, &c, &mut dw, s);
        backward_bias(&c, &mut db, s);
        assert_grad(&dx, &numeric_grad(&x, &|x| loss(x, &w, &bias)), &format!("{what} dx"));
        assert_grad(&dw, &numeric_grad(&w, &|w| loss(&x, w, &bias)), &format!("{what} dw"));
        assert_grad(&db, &numeric_grad(&bias, &|b| loss(&x, &w, b)), &format!("{what} dbias"));
    }

    #[test]
    fn conv2d_backward_matches_finite_differences() {
        // Odd sizes, more output than input channels, strides that leave pixels unread.
        for (k, stride, padding) in [(3, 2, 1), (4, 2, 1), (2, 3, 0), (3, 1, 2)] {
            let s = ConvShape::conv2d(2, [2, 3], [7, 5], k, stride, padding);
            let ops: (Forward, Input, Weight, Bias) = (
                conv2d_forward,
                conv2d_backward_input,
                conv2d_backward_weight,
                conv2d_backward_bias,
            );
            check_backward(&s, ops, &format!("conv2d k{k} s{stride} p{padding}"));
        }
    }

    #[test]
    fn conv_transpose2d_backward_matches_finite_differences() {
        for (k, stride, padding, output_padding) in [(3, 2, 1, 1), (4, 2, 1, 0), (2, 3, 1, 2)] {
            let s = ConvShape::conv_transpose2d(
                2,
                [2, 3],
                [7, 5],
                k,
                stride,
                [padding, output_padding],
            );
            let ops: (Forward, Input, Weight, Bias) = (
                conv_transpose2d_forward,
                conv_transpose2d_backward_input,
                conv_transpose2d_backward_weight,
                conv_transpose2d_backward_bias,
            );
            check_backward(
                &s,
                ops,
                &format!("conv_transpose2d k{k} s{stride} p{padding} op{output_padding}"),
            );
        }
    }

    #[test]
    fn conv1d_by_hand() {
        // x = 1 2 3 4 5 (one channel), w = 1 2 3, stride 2, padding 1: taps at −1..1, 1..3,
        // 3..5 of the zero-padded series.
        let s = ConvShape::conv1d(1, [1, 1], 5, 3, 2, 1);
        assert!(s.is_1d());
        assert_eq!((s.in_h, s.in_w, s.out_h, s.out_w), (1, 5, 1, 3));
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = conv2d(&x, &[1.0, 2.0, 3.0], &[0.5], &s);
        // 0·1 + 1·2 + 2·3, 2·1 + 3·2 + 4·3, 4·1 + 5·2 + 0·3, plus the bias.
        assert_eq!(y, [8.5, 20.5, 14.5]);
        // Its transpose stamps each input step's kernel back at 2i − 1 (output padding 0
        // restores the length: (3 − 1)·2 − 2 + 3 = 5): step 0 puts w[1], w[2] at 0 and 1 (w[0]
        // falls off the left), step 2 puts w[0], w[1] at 3 and 4 (w[2] falls off the right).
        let t = s.transpose();
        assert_eq!((t.out_h, t.out_w), (1, 5));
        let back = conv_transpose2d(&[1.0, 0.0, 1.0], &[1.0, 2.0, 3.0], &[0.0], &t);
        assert_eq!(back, [2.0, 3.0, 0.0, 1.0, 2.0]);
        // Two channels in, one out: the weight is c_out × c_in × 1 × k.
        let s = ConvShape::conv1d(1, [2, 1], 3, 2, 1, 0);
        let y = conv2d(&[1.0, 2.0, 3.0, 10.0, 20.0, 30.0], &[1.0, 1.0, 0.0, 1.0], &[0.0], &s);
        assert_eq!(y, [1.0 + 2.0 + 20.0, 2.0 + 3.0 + 30.0]);
    }

    #[test]
    fn conv1d_backward_matches_finite_differences() {
        // Series of odd length; stride 2 with kernel 4 (the conv1d_ae's), and a stride-3 kernel
        // that skips steps; the transposed layers of the decoder.
        for (length, k, stride, padding) in [(9, 4, 2, 1), (10, 2, 3, 0), (7, 3, 1, 2)] {
            let s = ConvShape::conv1d(2, [2, 3], length, k, stride, padding);
            let ops: (Forward, Input, Weight, Bias) = (
                conv2d_forward,
                conv2d_backward_input,
                conv2d_backward_weight,
                conv2d_backward_bias,
            );
            check_backward(&s, ops, &format!("conv1d L{length} k{k} s{stride} p{padding}"));
            let ops: (Forward, Input, Weight, Bias) = (
                conv_transpose2d_forward,
                conv_transpose2d_backward_input,
                conv_transpose2d_backward_weight,
                conv_transpose2d_backward_bias,
            );
            let t = s.transpose();
            check_backward(&t, ops, &format!("conv_transpose1d L{length} k{k} s{stride}"));
        }
    }

    #[test]
    fn conv_transpose2d_is_the_adjoint_of_conv2d() {
        // ⟨conv2d(x), u⟩ = ⟨x, conv_transpose2d(u)⟩ with one weight buffer and no bias; 8 × 7
        // needs a different output padding per axis (1 and 0) to come back to size.
        for (k, stride, padding) in [(3, 2, 1), (4, 2, 1), (3, 1, 1)] {
            let s = ConvShape::conv2d(2, [3, 4], [8, 7], k, stride, padding);
            let t = s.transpose();
            let (x, w, u) =
                (rand_vec(s.x_len(), 5), rand_vec(s.w_len(), 6), rand_vec(s.y_len(), 7));
            let y = conv2d(&x, &w, &vec![0.0; s.c_out], &s);
            let v = conv_transpose2d(&u, &w, &vec![0.0; t.c_out], &t);
            assert_eq!(v.len(), x.len());
            let (lhs, rhs) = (weighted_sum(&y, &u), weighted_sum(&x, &v));
            assert!(
                (lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()),
                "k{k} s{stride} p{padding}: ⟨conv2d(x), u⟩ {lhs}, ⟨x, convᵀ(u)⟩ {rhs}"
            );
            // The same identity, kernel by kernel: conv2d's input gradient is the transpose.
            let mut dx = vec![0.0; s.x_len()];
            conv2d_backward_input(&u, &w, &mut dx, &s);
            for (a, b) in dx.iter().zip(&v) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }
}
