//! Penalties on a sigmoid code (B × Z): the sparse autoencoder's sparsity and the contractive
//! autoencoder's Jacobian norm (`shaders/penalty.wgsl`).
//!
//! Contractive (Rifai et al., 2011): for the code layer c = σ(W·h + b) (W: Z × H),
//! ∂cⱼ/∂hᵢ = sⱼ·W[j, i] with sⱼ = cⱼ(1 − cⱼ), so the squared Frobenius norm of its Jacobian
//! is, per row, ‖J‖² = Σⱼ sⱼ²·nⱼ with nⱼ = Σᵢ W[j, i]². The loss adds weight·mean_b ‖J_b‖².

use super::{bind, groups_1d, groups_per, Cpu, Gradients, Kernel, Op, Plan, PlanCx};
use crate::model::{ModelSpec, SparsityPenalty, TensorId};
use crate::shaders::Shader;

uniform! {
    /// `rows` × `units` of code; the sparsity's `kind` (0 KL, 1 L1) and target `rho`; the
    /// penalty's `weight`; the code layer's `inputs` (contractive).
    pub struct Params for Shader::Penalty {
        rows: u32,
        units: u32,
        kind: u32,
        rho: f32,
        weight: f32,
        inputs: u32,
    }
}

bindings! {
    code = 1, rho_hat_out = 2, rho_hat = 3, unit_penalty = 4, dcode = 5, w = 6, wnorm = 7,
    mean_s2 = 8, row_penalty = 9, dw = 10,
}

fn sparsity(rows: usize, units: usize, spec: &ModelSpec) -> Params {
    let sp = spec.sparsity;
    let kind = match sp.penalty {
        SparsityPenalty::Kl => 0,
        SparsityPenalty::L1 => 1,
    };
    Params {
        rows: rows as u32,
        units: units as u32,
        kind,
        rho: sp.target,
        weight: sp.weight,
        inputs: 0,
    }
}

fn contractive(rows: usize, units: usize, inputs: usize, spec: &ModelSpec) -> Params {
    Params {
        rows: rows as u32,
        units: units as u32,
        weight: spec.contractive.weight,
        inputs: inputs as u32,
        ..Params::default()
    }
}

/// Per code unit j: ρ̂ⱼ = mean_b |code[b, j]| and its penalty (KL(ρ ‖ ρ̂ⱼ) or ρ̂ⱼ itself), so
/// Σⱼ unit_penalty[j] is the batch's penalty per row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SparsityForward {
    pub code: TensorId,
    pub rho_hat: TensorId,
    pub unit_penalty: TensorId,
}

impl Kernel for SparsityForward {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let dcode = g.must(self.code, "the code");
        vec![SparsityBackward { code: self.code, rho_hat: self.rho_hat, dcode }.into()]
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (sp, rows, units) = (cx.spec.sparsity, cx.rows, cx.cols(self.code));
        cx.write2(self.rho_hat, self.unit_penalty, |cx, rho, unit| {
            sparsity_forward(sp.penalty, sp.target, cx.get(self.code), rho, unit, rows, units)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let units = cx.cols(self.code);
        let bindings = vec![
            bind(binding::code, self.code),
            bind(binding::rho_hat_out, self.rho_hat),
            bind(binding::unit_penalty, self.unit_penalty),
        ];
        let params = sparsity(cx.rows, units, cx.spec);
        Plan::new("sparsity_forward", params, groups_per(units, 64), bindings)
    }
}

/// dcode += weight/B·∂penalty/∂code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SparsityBackward {
    pub code: TensorId,
    pub rho_hat: TensorId,
    pub dcode: TensorId,
}

impl Kernel for SparsityBackward {
    fn cpu(&self, cx: &mut Cpu) {
        let (sp, rows, units) = (cx.spec.sparsity, cx.rows, cx.cols(self.code));
        cx.write(self.dcode, |cx, d| {
            let (code, rho) = (cx.get(self.code), cx.get(self.rho_hat));
            sparsity_backward(sp.penalty, sp.target, sp.weight, code, rho, d, rows, units)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let units = cx.cols(self.code);
        let bindings = vec![
            bind(binding::code, self.code),
            bind(binding::rho_hat, self.rho_hat),
            bind(binding::dcode, self.dcode),
        ];
        let params = sparsity(cx.rows, units, cx.spec);
        Plan::new("sparsity_backward", params, groups_1d(cx.rows * units, 256), bindings)
    }
}

/// Per code unit j of c = σ(W·h + b): wnorm[j] = Σᵢ W[j, i]², mean_s2[j] = mean_b (c(1 − c))².
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContractiveUnitStats {
    pub code: TensorId,
    pub w: TensorId,
    pub wnorm: TensorId,
    pub mean_s2: TensorId,
}

impl Kernel for ContractiveUnitStats {
    /// The penalty's direct dependence on W, through wnorm (the path through the code is
    /// [`ContractivePenalty`]'s).
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let dw = g.param(self.w);
        vec![ContractiveBackwardWeight { w: self.w, mean_s2: self.mean_s2, dw }.into()]
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (rows, units, inputs) = (cx.rows, cx.cols(self.code), cx.cols(self.w));
        cx.write2(self.wnorm, self.mean_s2, |cx, n, s2| {
            contractive_unit_stats(cx.get(self.code), cx.get(self.w), n, s2, rows, units, inputs)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (units, inputs) = (cx.cols(self.code), cx.cols(self.w));
        let bindings = vec![
            bind(binding::code, self.code),
            bind(binding::w, self.w),
            bind(binding::wnorm, self.wnorm),
            bind(binding::mean_s2, self.mean_s2),
        ];
        let params = contractive(cx.rows, units, inputs, cx.spec);
        Plan::new("contractive_unit_stats", params, groups_per(units, 64), bindings)
    }
}

/// row_penalty[b] = ‖∂c_b/∂h_b‖² = Σⱼ (c(1 − c))²·wnorm[j].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContractivePenalty {
    pub code: TensorId,
    pub wnorm: TensorId,
    pub row_penalty: TensorId,
}

impl Kernel for ContractivePenalty {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let dcode = g.must(self.code, "the code");
        vec![ContractiveBackwardCode { code: self.code, wnorm: self.wnorm, dcode }.into()]
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (rows, units) = (cx.rows, cx.cols(self.code));
        cx.write(self.row_penalty, |cx, p| {
            contractive_penalty(cx.get(self.code), cx.get(self.wnorm), p, rows, units)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let units = cx.cols(self.code);
        let bindings = vec![
            bind(binding::code, self.code),
            bind(binding::wnorm, self.wnorm),
            bind(binding::row_penalty, self.row_penalty),
        ];
        let params = contractive(cx.rows, units, 0, cx.spec);
        Plan::new("contractive_penalty", params, groups_per(cx.rows, 64), bindings)
    }
}

/// dcode += λ/B·∂Σ_b row_penalty/∂code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContractiveBackwardCode {
    pub code: TensorId,
    pub wnorm: TensorId,
    pub dcode: TensorId,
}

impl Kernel for ContractiveBackwardCode {
    fn cpu(&self, cx: &mut Cpu) {
        let (weight, rows, units) = (cx.spec.contractive.weight, cx.rows, cx.cols(self.code));
        cx.write(self.dcode, |cx, d| {
            contractive_backward_code(weight, cx.get(self.code), cx.get(self.wnorm), d, rows, units)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let units = cx.cols(self.code);
        let bindings = vec![
            bind(binding::code, self.code),
            bind(binding::dcode, self.dcode),
            bind(binding::wnorm, self.wnorm),
        ];
        let params = contractive(cx.rows, units, 0, cx.spec);
        Plan::new("contractive_backward_code", params, groups_1d(cx.rows * units, 256), bindings)
    }
}

/// dw += 2λ·mean_s2[j]·W[j, i]: the penalty's direct dependence on W.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContractiveBackwardWeight {
    pub w: TensorId,
    pub mean_s2: TensorId,
    pub dw: TensorId,
}

impl Kernel for ContractiveBackwardWeight {
    fn cpu(&self, cx: &mut Cpu) {
        let weight = cx.spec.contractive.weight;
        let (units, inputs) = (cx.descs[self.w].rows, cx.cols(self.w));
        cx.write(self.dw, |cx, d| {
            contractive_backward_weight(
                weight,
                cx.get(self.w),
                cx.get(self.mean_s2),
                d,
                units,
                inputs,
            )
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (units, inputs) = (cx.descs[self.w].rows, cx.cols(self.w));
        let bindings = vec![
            bind(binding::w, self.w),
            bind(binding::mean_s2, self.mean_s2),
            bind(binding::dw, self.dw),
        ];
        let params = contractive(cx.rows, units, inputs, cx.spec);
        let groups = groups_1d(units * inputs, 256);
        Plan::new("contractive_backward_weight", params, groups, bindings)
    }
}

// ---- the plain loops ----

/// Keeps ρ̂ away from 0 and 1, where KL(ρ ‖ ρ̂) and its gradient are infinite.
const RHO_CLAMP: f32 = 1e-6;
/// Per code unit j: rho_hat[j] = mean_b |code[b, j]| and its penalty: KL(ρ ‖ ρ̂ⱼ) =
/// ρ·ln(ρ/ρ̂) + (1 − ρ)·ln((1 − ρ)/(1 − ρ̂)), or for L1 the mean |code| itself.
pub fn sparsity_forward(
    penalty: SparsityPenalty,
    target: f32,
    code: &[f32],
    rho_hat: &mut [f32],
    unit_penalty: &mut [f32],
    rows: usize,
    units: usize,
) {
    for j in 0..units {
        let mean = (0..rows).map(|b| code[b * units + j].abs()).sum::<f32>() / rows as f32;
        rho_hat[j] = mean;
        unit_penalty[j] = match penalty {
            SparsityPenalty::Kl => {
                let r = mean.clamp(RHO_CLAMP, 1.0 - RHO_CLAMP);
                target * (target / r).ln() + (1.0 - target) * ((1.0 - target) / (1.0 - r)).ln()
            }
            SparsityPenalty::L1 => mean,
        };
    }
}

/// dcode += weight/B·∂(Σⱼ penalty)/∂code.
#[allow(clippy::too_many_arguments)]
pub fn sparsity_backward(
    penalty: SparsityPenalty,
    target: f32,
    weight: f32,
    code: &[f32],
    rho_hat: &[f32],
    dcode: &mut [f32],
    rows: usize,
    units: usize,
) {
    let scale = weight / rows as f32;
    for (drow, crow) in dcode.chunks_exact_mut(units).take(rows).zip(code.chunks_exact(units)) {
        for ((d, &c), &r) in drow.iter_mut().zip(crow).zip(rho_hat) {
            *d += scale
                * match penalty {
                    SparsityPenalty::Kl => {
                        let r = r.clamp(RHO_CLAMP, 1.0 - RHO_CLAMP);
                        -target / r + (1.0 - target) / (1.0 - r)
                    }
                    // WGSL's sign: 0 at 0 (f32::signum gives 1 there).
                    SparsityPenalty::L1 if c == 0.0 => 0.0,
                    SparsityPenalty::L1 => c.signum(),
                };
        }
    }
}

/// Per code unit j: wnorm[j] = Σᵢ W[j, i]² and mean_s2[j] = mean_b (c[b, j](1 − c[b, j]))².
pub fn contractive_unit_stats(
    code: &[f32],
    w: &[f32],
    wnorm: &mut [f32],
    mean_s2: &mut [f32],
    rows: usize,
    units: usize,
    inputs: usize,
) {
    for j in 0..units {
        wnorm[j] = w[j * inputs..(j + 1) * inputs].iter().map(|&v| v * v).sum();
        let sum: f32 = (0..rows)
            .map(|b| {
                let c = code[b * units + j];
                (c * (1.0 - c)).powi(2)
            })
            .sum();
        mean_s2[j] = sum / rows as f32;
    }
}

/// row_penalty[b] = Σⱼ (c[b, j](1 − c[b, j]))²·wnorm[j]: the code layer's ‖J‖² for row b.
pub fn contractive_penalty(
    code: &[f32],
    wnorm: &[f32],
    row_penalty: &mut [f32],
    rows: usize,
    units: usize,
) {
    for (b, out) in row_penalty.iter_mut().enumerate().take(rows) {
        *out = code[b * units..(b + 1) * units]
            .iter()
            .zip(wnorm)
            .map(|(&c, &n)| (c * (1.0 - c)).powi(2) * n)
            .sum();
    }
}

/// dcode[b, j] += weight/B·2·sⱼ·(1 − 2cⱼ)·wnorm[j]: the path through the code;
/// [`contractive_backward_weight`] adds the rest.
pub fn contractive_backward_code(
    weight: f32,
    code: &[f32],
    wnorm: &[f32],
    dcode: &mut [f32],
    rows: usize,
    units: usize,
) {
    let scale = 2.0 * weight / rows as f32;
    for (drow, crow) in dcode.chunks_exact_mut(units).take(rows).zip(code.chunks_exact(units)) {
        for ((d, &c), &n) in drow.iter_mut().zip(crow).zip(wnorm) {
            *d += scale * c * (1.0 - c) * (1.0 - 2.0 * c) * n;
        }
    }
}

/// dw[j, i] += 2·weight·mean_s2[j]·W[j, i]: the penalty's direct dependence on W.
pub fn contractive_backward_weight(
    weight: f32,
    w: &[f32],
    mean_s2: &[f32],
    dw: &mut [f32],
    units: usize,
    inputs: usize,
) {
    let rows = dw.chunks_exact_mut(inputs).zip(w.chunks_exact(inputs)).zip(mean_s2).take(units);
    for ((drow, wrow), &s2) in rows {
        let k = 2.0 * weight * s2;
        drow.iter_mut().zip(wrow).for_each(|(d, &v)| *d += k * v);
    }
}
