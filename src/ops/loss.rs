//! The reconstruction loss from the decoder's logits, and its gradient (`shaders/loss.wgsl`).

use super::{bind, groups_per, Cpu, Kernel, Plan, PlanCx};
use crate::model::{LossKind, TensorId};
use crate::ops::activation::sigmoid;
use crate::shaders::Shader;

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
    let s = sigmoid(l);
    match loss {
        LossKind::Bce => (l.max(0.0) - l * t + (-l.abs()).exp().ln_1p(), s - t),
        LossKind::SigmoidMse => ((s - t) * (s - t), 2.0 * (s - t) * s * (1.0 - s)),
        LossKind::Mse => ((l - t) * (l - t), 2.0 * (l - t)),
    }
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
    for (b, row) in row_loss.iter_mut().enumerate().take(rows) {
        let mut sum = 0.0;
        for d in 0..cols {
            let k = b * cols + d;
            let (value, grad) = pixel_loss(loss, logits[k], target[k]);
            sum += value;
            dlogits[k] += grad * scale;
        }
        *row = sum;
    }
}
