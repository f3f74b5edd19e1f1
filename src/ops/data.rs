//! The minibatch gather from the resident data set, the label join of conditional models,
//! and the denoising corruption (`shaders/data.wgsl`).

use super::{bind, groups_1d, Cpu, Gradients, Kernel, Op, Plan, PlanCx, Resource};
use crate::data::{Output, Values};
use crate::model::{NoiseKind, TensorId, CLASSES};
use crate::rng;
use crate::shaders::Shader;

uniform! {
    /// `rows` of `width` values drawn from `count` resident rows `stride` words apart; the
    /// corruption reads `count` as its kind and `amount`; the column join reads `count` and
    /// `width` as the two parts' columns.
    pub struct Params for Shader::Data {
        rows: u32,
        count: u32,
        seed: u32,
        amount: f32,
        width: u32,
        stride: u32,
    }
}

bindings! {
    state = 1, images = 2, x = 3, clean = 4, noisy = 5, labels = 6, cond = 7, a = 8, c = 9,
    y = 10, dy = 11, da = 12, rows_f32 = 13,
}

/// x[b, :] = resident row `batch_index(seed, step, b)`: bytes / 255, or f32 values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GatherBatch {
    pub x: TensorId,
}

impl Kernel for GatherBatch {
    fn cpu(&self, cx: &mut Cpu) {
        let (d, rows, seed, step) = (cx.shape.size(), cx.rows, cx.spec.seed, *cx.step);
        let data = cx.data;
        let n = data.len() / d;
        cx.write(self.x, |_, x| match data {
            Values::Bytes(b) => gather_batch(b, d, x, rows, n, seed, step),
            Values::Floats(f) => gather_rows(f, d, x, rows, n, seed, step),
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (floats, width) = (cx.data.floats, cx.shape.size());
        let params = Params {
            rows: cx.rows as u32,
            count: cx.data.rows as u32,
            seed: cx.spec.seed,
            amount: 0.0,
            width: width as u32,
            stride: cx.data.stride_words() as u32,
        };
        let entry = if floats { "gather_rows" } else { "gather_batch" };
        let source = if floats { binding::rows_f32 } else { binding::images };
        let bindings = vec![
            (binding::state, Resource::State),
            (source, Resource::Rows),
            bind(binding::x, self.x),
        ];
        Plan::new(entry, params, groups_1d(cx.rows * width.div_ceil(GATHER_CHUNK), 256), bindings)
    }
}

/// Values of a row each invocation of the GPU's gathers writes (`CHUNK` in data.wgsl).
const GATHER_CHUNK: usize = 16;

/// cond[b, :] = one-hot of the label of the row [`GatherBatch`] picks for row b.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GatherLabels {
    pub cond: TensorId,
}

impl Kernel for GatherLabels {
    fn cpu(&self, cx: &mut Cpu) {
        let labels = cx.labels.expect("checked before training");
        let (rows, seed, step) = (cx.rows, cx.spec.seed, *cx.step);
        cx.write(self.cond, |_, cond| gather_labels(labels, cond, rows, seed, step));
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let params = Params {
            rows: cx.rows as u32,
            count: cx.data.rows as u32,
            seed: cx.spec.seed,
            ..Params::default()
        };
        let bindings = vec![
            (binding::state, Resource::State),
            (binding::labels, Resource::Labels),
            bind(binding::cond, self.cond),
        ];
        Plan::new("gather_labels", params, groups_1d(cx.rows * CLASSES, 256), bindings)
    }
}

/// y[b, :] = [a[b, :] | c[b, :]] (side by side).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConcatColumns {
    pub a: TensorId,
    pub c: TensorId,
    pub y: TensorId,
}

impl Kernel for ConcatColumns {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        match (g.of(self.a), g.of(self.y)) {
            (Some(da), Some(dy)) => vec![SplitColumnsBackward { dy, da }.into()],
            _ => vec![],
        }
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (rows, ca, cc) = (cx.rows, cx.cols(self.a), cx.cols(self.c));
        cx.write(self.y, |cx, y| concat_columns(cx.get(self.a), cx.get(self.c), y, rows, ca, cc));
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (ca, cc) = (cx.cols(self.a), cx.cols(self.c));
        let params = Params {
            rows: cx.rows as u32,
            count: ca as u32,
            width: cc as u32,
            ..Params::default()
        };
        let bindings =
            vec![bind(binding::a, self.a), bind(binding::c, self.c), bind(binding::y, self.y)];
        Plan::new("concat_columns", params, groups_1d(cx.rows * (ca + cc), 256), bindings)
    }
}

/// da[b, :] += dy[b, ..cols(a)]: the gradient of [`ConcatColumns`] for its left part.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SplitColumnsBackward {
    pub dy: TensorId,
    pub da: TensorId,
}

impl Kernel for SplitColumnsBackward {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, ca, cy) = (cx.rows, cx.cols(self.da), cx.cols(self.dy));
        cx.write(self.da, |cx, da| split_columns_backward(cx.get(self.dy), da, rows, ca, cy));
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (ca, cy) = (cx.cols(self.da), cx.cols(self.dy));
        let params = Params {
            rows: cx.rows as u32,
            count: ca as u32,
            width: cy as u32,
            ..Params::default()
        };
        let bindings = vec![bind(binding::dy, self.dy), bind(binding::da, self.da)];
        Plan::new("split_columns_backward", params, groups_1d(cx.rows * ca, 256), bindings)
    }
}

/// noisy = x corrupted as `spec.noise` says, from the RNG at (seed, NOISE, step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CorruptInput {
    pub x: TensorId,
    pub noisy: TensorId,
}

impl Kernel for CorruptInput {
    fn cpu(&self, cx: &mut Cpu) {
        let n = cx.rows * cx.shape.size();
        let (noise, seed, step) = (cx.spec.noise, cx.spec.seed, *cx.step);
        let clip = cx.shape.output() == Output::Sigmoid;
        cx.write(self.noisy, |cx, out| {
            let x = &cx.get(self.x)[..n];
            corrupt_input(noise.kind, noise.amount, clip, x, &mut out[..n], seed, step)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let len = cx.rows * cx.shape.size();
        let n = cx.spec.noise;
        // Kind 3: Gaussian noise on standardised values, not clipped to [0, 1].
        let unclipped = cx.shape.output() == Output::Identity;
        let kind = if unclipped && n.kind == NoiseKind::Gaussian { 3 } else { n.kind.code() };
        let params = Params {
            rows: len as u32,
            count: kind,
            seed: cx.spec.seed,
            amount: n.amount,
            ..Params::default()
        };
        let bindings = vec![
            (binding::state, Resource::State),
            bind(binding::clean, self.x),
            bind(binding::noisy, self.noisy),
        ];
        Plan::new("corrupt_input", params, groups_1d(len, 256), bindings)
    }
}

// ---- the plain loops ----

/// x[b, :] = value(src row `batch_index(seed, step, b)`), rows of `d` values: the draw both
/// gathers share.
#[allow(clippy::too_many_arguments)] // the rows, their draw and how a value reads
fn gather<T: Copy + Sync>(
    src: &[T],
    d: usize,
    x: &mut [f32],
    rows: usize,
    n: usize,
    seed: u32,
    step: u32,
    value: impl Fn(T) -> f32 + Sync,
) {
    // Two halves of the rows, at once where the batch is large (see `par`).
    let half = rows / 2;
    let (x0, x1) = x[..rows * d].split_at_mut(half * d);
    super::par::both(rows * d >= super::par::MIN_SPLIT, (x0, 0), (x1, half), |(x, first)| {
        for (k, row) in x.chunks_exact_mut(d.max(1)).enumerate() {
            let b = (first + k) as u32;
            let idx = rng::batch_index(seed, step, b, rows as u32, n as u32) as usize;
            for (xi, &v) in row.iter_mut().zip(&src[idx * d..(idx + 1) * d]) {
                *xi = value(v);
            }
        }
    });
}

/// x[b, :] = image `batch_index(seed, step, b)` / 255. `images` holds n × `d` bytes.
pub fn gather_batch(
    images: &[u8],
    d: usize,
    x: &mut [f32],
    rows: usize,
    n: usize,
    seed: u32,
    step: u32,
) {
    gather(images, d, x, rows, n, seed, step, |p| p as f32 * (1.0 / 255.0));
}

/// x[b, :] = rows[batch_index(seed, step, b)]: [`gather_batch`] of rows of `d` floats.
pub fn gather_rows(
    values: &[f32],
    d: usize,
    x: &mut [f32],
    rows: usize,
    n: usize,
    seed: u32,
    step: u32,
) {
    gather(values, d, x, rows, n, seed, step, |v| v);
}

/// cond[b, :] = one-hot of labels[batch_index(seed, step, b)]: the labels of the images
/// [`gather_batch`] picks.
pub fn gather_labels(labels: &[u8], cond: &mut [f32], rows: usize, seed: u32, step: u32) {
    let n = labels.len() as u32;
    for (b, row) in cond.chunks_exact_mut(CLASSES).take(rows).enumerate() {
        let idx = rng::batch_index(seed, step, b as u32, rows as u32, n) as usize;
        row.fill(0.0);
        row[labels[idx] as usize % CLASSES] = 1.0;
    }
}

/// y[b, :] = [a[b, :] | c[b, :]]. a: B × A, c: B × C, y: B × (A + C).
pub fn concat_columns(a: &[f32], c: &[f32], y: &mut [f32], rows: usize, ca: usize, cc: usize) {
    for b in 0..rows {
        let row = &mut y[b * (ca + cc)..(b + 1) * (ca + cc)];
        row[..ca].copy_from_slice(&a[b * ca..(b + 1) * ca]);
        row[ca..].copy_from_slice(&c[b * cc..(b + 1) * cc]);
    }
}

/// da[b, :] += dy[b, ..A]: the part of a concatenation's gradient that flows to its left input.
pub fn split_columns_backward(dy: &[f32], da: &mut [f32], rows: usize, ca: usize, cy: usize) {
    for b in 0..rows {
        let src = &dy[b * cy..b * cy + ca];
        da[b * ca..(b + 1) * ca].iter_mut().zip(src).for_each(|(d, &g)| *d += g);
    }
}

/// The denoising autoencoder's corruption of x, element i drawn at (seed, NOISE, step, i).
/// Gaussian noise is clipped to [0, 1] for pixels (`clip`), not for standardised values.
#[allow(clippy::too_many_arguments)] // the noise, its data and its draw
pub fn corrupt_input(
    kind: NoiseKind,
    amount: f32,
    clip: bool,
    x: &[f32],
    noisy: &mut [f32],
    seed: u32,
    step: u32,
) {
    for (i, (n, &v)) in noisy.iter_mut().zip(x).enumerate() {
        let i = i as u32;
        *n = match kind {
            NoiseKind::Gaussian => {
                let n = v + amount * rng::normal(seed, rng::stream::NOISE, step, i);
                if clip {
                    n.clamp(0.0, 1.0)
                } else {
                    n
                }
            }
            NoiseKind::Mask => {
                if rng::uniform(seed, rng::stream::NOISE, step, i) < amount {
                    0.0
                } else {
                    v
                }
            }
            NoiseKind::SaltPepper => {
                let u = rng::uniform(seed, rng::stream::NOISE, step, i);
                if u < 0.5 * amount {
                    0.0
                } else if u < amount {
                    1.0
                } else {
                    v
                }
            }
        };
    }
}
