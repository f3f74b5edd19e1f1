//! The reconstruction loss from the decoder's logits, and its gradient (`shaders/loss.wgsl`).

use super::{bind, groups_per, Cpu, Kernel, Plan, PlanCx};
use crate::model::{LossKind, TensorId};
use crate::ops::activation::sigmoid;
use crate::shaders::Shader;
use wide::f32x8;

uniform! {
    /// `rows` × `cols` values, the loss's [`LossKind::code`], and the gradient's scale 1/B.
    pub struct Params for Shader::Loss {
        rows: u32,
        cols: u32,
        kind: u32,
        scale: f32,
    }
}

bindings! { logits = 1, targets = 2, dlogits = 3, row_loss = 4 }

/// row_loss[b] = Σ_d loss(logits[b, d], target[b, d]), dlogits += ∂(mean_b row_loss)/∂logits.
/// A loss seeds the gradients, so it has no gradient rule of its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReconstructionLoss {
    pub loss: LossKind,
    pub logits: TensorId,
    pub target: TensorId,
    pub dlogits: TensorId,
    pub row_loss: TensorId,
}

impl Kernel for ReconstructionLoss {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, cols) = (cx.rows, cx.cols(self.logits));
        cx.write2(self.dlogits, self.row_loss, |cx, d, l| {
            reconstruction_loss(
                self.loss,
                cx.get(self.logits),
                cx.get(self.target),
                d,
                l,
                rows,
                cols,
            )
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let params = Params {
            rows: cx.rows as u32,
            cols: cx.cols(self.logits) as u32,
            kind: self.loss.code(),
            scale: 1.0 / cx.rows as f32,
        };
        let bindings = vec![
            bind(binding::logits, self.logits),
            bind(binding::targets, self.target),
            bind(binding::dlogits, self.dlogits),
            bind(binding::row_loss, self.row_loss),
        ];
        Plan::new("reconstruction_loss", params, groups_per(cx.rows, 64), bindings)
    }
}

// ---- the plain loops ----

/// Per-pixel loss and its derivative with respect to the logit l, for target t.
/// BCE from logits, stable form: max(l, 0) − l·t + log(1 + e^−|l|); d/dl = σ(l) − t.
/// MSE of the image σ(l): (σ(l) − t)²; d/dl = 2(σ(l) − t)·σ(l)(1 − σ(l)).
/// MSE of the value l itself (standardised data): (l − t)²; d/dl = 2(l − t).
pub fn pixel_loss(loss: LossKind, l: f32, t: f32) -> (f32, f32) {
    match loss {
        LossKind::Bce => {
            // One exponential serves both: e = e^−|l|, σ(l) = 1/(1 + e) for l ≥ 0, e/(1 + e) below.
            let e = (-l.abs()).exp();
            let s = if l >= 0.0 { 1.0 } else { e } / (1.0 + e);
            (l.max(0.0) - l * t + (1.0 + e).ln(), s - t)
        }
        LossKind::SigmoidMse => {
            let s = sigmoid(l);
            ((s - t) * (s - t), 2.0 * (s - t) * s * (1.0 - s))
        }
        LossKind::Mse => ((l - t) * (l - t), 2.0 * (l - t)),
    }
}

/// [`pixel_loss`] of 8 values at once: the same formulas, through `wide`'s vectorised `exp`
/// and `ln` (a libm call per value does not vectorise).
fn pixel_loss8(loss: LossKind, l: f32x8, t: f32x8) -> (f32x8, f32x8) {
    let one = f32x8::splat(1.0);
    match loss {
        LossKind::Bce => {
            let e = (-l.abs()).exp();
            let q = one / (one + e);
            let s = l.simd_ge(f32x8::ZERO).select(q, e * q);
            (l.max(f32x8::ZERO) - l * t + (one + e).ln(), s - t)
        }
        LossKind::SigmoidMse => {
            let s = one / (one + (-l).exp());
            let r = s - t;
            (r * r, f32x8::splat(2.0) * r * s * (one - s))
        }
        LossKind::Mse => {
            let r = l - t;
            (r * r, f32x8::splat(2.0) * r)
        }
    }
}

/// One row's loss (returned) and `scale` × its gradient added to `d`: 8 values at a time,
/// the rest one by one.
fn one_row(loss: LossKind, l: &[f32], t: &[f32], d: &mut [f32], scale: f32) -> f32 {
    let whole = l.len() / 8 * 8;
    let mut sum8 = f32x8::ZERO;
    let lanes = |x: &[f32]| f32x8::new(x.try_into().expect("8 values"));
    for ((l, t), d) in
        l[..whole].chunks_exact(8).zip(t[..whole].chunks_exact(8)).zip(d.chunks_exact_mut(8))
    {
        let (value, grad) = pixel_loss8(loss, lanes(l), lanes(t));
        sum8 += value;
        d.copy_from_slice((lanes(d) + grad * f32x8::splat(scale)).as_array());
    }
    let mut sum = sum8.reduce_add();
    for ((&l, &t), d) in l[whole..].iter().zip(&t[whole..]).zip(&mut d[whole..]) {
        let (value, grad) = pixel_loss(loss, l, t);
        sum += value;
        *d += grad * scale;
    }
    sum
}

/// row_loss[b] = Σ_d loss(logits[b, d], target[b, d]) (written); dlogits += the gradient of
/// the batch mean.
pub fn reconstruction_loss(
    loss: LossKind,
    logits: &[f32],
    target: &[f32],
    dlogits: &mut [f32],
    row_loss: &mut [f32],
    rows: usize,
    cols: usize,
) {
    let scale = 1.0 / rows as f32;
    let n = rows * cols;
    // Two halves of the rows, at once where the batch is large (see `par`).
    let (half, cut) = (rows / 2, rows / 2 * cols);
    let (r0, r1) = row_loss[..rows].split_at_mut(half);
    let (l0, l1) = logits[..n].split_at(cut);
    let (t0, t1) = target[..n].split_at(cut);
    let (d0, d1) = dlogits[..n].split_at_mut(cut);
    super::par::both(
        n >= super::par::MIN_SPLIT,
        (r0, l0, t0, d0),
        (r1, l1, t1, d1),
        |(r, l, t, d)| {
            for (((row, l), t), d) in r
                .iter_mut()
                .zip(l.chunks_exact(cols))
                .zip(t.chunks_exact(cols))
                .zip(d.chunks_exact_mut(cols))
            {
                *row = one_row(loss, l, t, d, scale);
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_at_a_time_gives_each_value_its_own_loss() {
        // Rows of 21 (two groups of 8 and 5 one by one), the logits out to where σ saturates
        // and the exponentials overflow a naive form.
        let logits: Vec<f32> = (0..42)
            .map(|i| [-100.0, -20.0, -3.5, -0.25, 0.0, 0.7, 4.0, 25.0, 100.0][i % 9])
            .collect();
        let target: Vec<f32> = (0..42).map(|i| (i % 5) as f32 / 4.0).collect();
        for loss in [LossKind::Bce, LossKind::SigmoidMse, LossKind::Mse] {
            let (mut d, mut r) = (vec![0.5; 42], vec![0.0; 2]);
            reconstruction_loss(loss, &logits, &target, &mut d, &mut r, 2, 21);
            for (row, &got) in r.iter().enumerate() {
                let mut want = 0.0;
                for j in row * 21..(row + 1) * 21 {
                    let (value, grad) = pixel_loss(loss, logits[j], target[j]);
                    want += value;
                    let g = 0.5 + grad / 2.0;
                    assert!(
                        (d[j] - g).abs() <= 1e-6 * g.abs().max(1.0),
                        "{loss:?} d[{j}]: {} against {g}",
                        d[j]
                    );
                }
                assert!(
                    (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{loss:?} row {row}: {got} against {want}"
                );
            }
        }
    }
}
