//! The VAE's stochastic layer (`shaders/vae.wgsl`). `stats` is B × 2Z: [μ | log σ²] per row.

use super::{bind, groups_1d, groups_per, Cpu, Gradients, Kernel, Op, Plan, PlanCx, Resource};
use crate::model::TensorId;
use crate::rng;
use crate::shaders::Shader;

uniform! {
    /// `rows` × `latent`, the RNG's seed, and β (read by the KL term only).
    pub struct Params for Shader::Vae {
        rows: u32,
        latent: u32,
        seed: u32,
        beta: f32,
    }
}

bindings! { state = 1, stats = 2, z = 3, dz = 4, dstats = 5, row_kl = 6 }

fn params(cx: &PlanCx) -> Params {
    let s = cx.spec;
    Params { rows: cx.rows as u32, latent: s.latent as u32, seed: s.seed, beta: s.beta }
}

/// z = μ + exp(½·log σ²)·ε, ε ~ N(0, 1) drawn from (seed, step); and the KL term in the
/// same pass: row_kl[b] = −½·Σⱼ(1 + log σ² − μ² − σ²), dstats += β/B·[μ | ½(σ² − 1)], with
/// β = `spec.beta` (live: changing it needs no rebuild).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReparameterizeForward {
    pub stats: TensorId,
    pub z: TensorId,
    pub dstats: TensorId,
    pub row_kl: TensorId,
}

impl Kernel for ReparameterizeForward {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        let dz = g.must(self.z, "z");
        vec![ReparameterizeBackward { stats: self.stats, dz, dstats: self.dstats }.into()]
    }

    fn cpu(&self, cx: &mut Cpu) {
        let (rows, latent, seed, step) = (cx.rows, cx.spec.latent, cx.spec.seed, *cx.step);
        let beta = cx.spec.beta;
        cx.write(self.z, |cx, z| {
            reparameterize_forward(cx.get(self.stats), z, rows, latent, seed, step)
        });
        cx.write2(self.dstats, self.row_kl, |cx, d, kl| {
            kl_divergence(cx.get(self.stats), d, kl, rows, latent, beta)
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let bindings = vec![
            (binding::state, Resource::State),
            bind(binding::stats, self.stats),
            bind(binding::z, self.z),
            bind(binding::dstats, self.dstats),
            bind(binding::row_kl, self.row_kl),
        ];
        Plan::new("reparameterize_forward", params(cx), groups_per(cx.rows, 64), bindings)
    }
}

/// dstats += [dz | dz·ε·½·exp(½·log σ²)].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReparameterizeBackward {
    pub stats: TensorId,
    pub dz: TensorId,
    pub dstats: TensorId,
}

impl Kernel for ReparameterizeBackward {
    fn cpu(&self, cx: &mut Cpu) {
        let (rows, latent, seed, step) = (cx.rows, cx.spec.latent, cx.spec.seed, *cx.step);
        cx.write(self.dstats, |cx, d| {
            reparameterize_backward(
                cx.get(self.stats),
                cx.get(self.dz),
                d,
                rows,
                latent,
                seed,
                step,
            )
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let bindings = vec![
            (binding::state, Resource::State),
            bind(binding::stats, self.stats),
            bind(binding::dz, self.dz),
            bind(binding::dstats, self.dstats),
        ];
        let groups = groups_1d(cx.rows * cx.spec.latent, 256);
        Plan::new("reparameterize_backward", params(cx), groups, bindings)
    }
}

// ---- the plain loops ----

/// z = μ + exp(½·log σ²)·ε with ε = N(0, 1) drawn at (seed, EPS stream, step, b·Z + j).
pub fn reparameterize_forward(
    stats: &[f32],
    z: &mut [f32],
    rows: usize,
    latent: usize,
    seed: u32,
    step: u32,
) {
    for b in 0..rows {
        for j in 0..latent {
            let (mu, logvar) = (stats[b * 2 * latent + j], stats[b * 2 * latent + latent + j]);
            let eps = rng::normal(seed, rng::stream::EPS, step, (b * latent + j) as u32);
            z[b * latent + j] = mu + (0.5 * logvar).exp() * eps;
        }
    }
}

/// dμ += dz; dlog σ² += dz·ε·½·exp(½·log σ²).
pub fn reparameterize_backward(
    stats: &[f32],
    dz: &[f32],
    dstats: &mut [f32],
    rows: usize,
    latent: usize,
    seed: u32,
    step: u32,
) {
    for b in 0..rows {
        for j in 0..latent {
            let logvar = stats[b * 2 * latent + latent + j];
            let eps = rng::normal(seed, rng::stream::EPS, step, (b * latent + j) as u32);
            let g = dz[b * latent + j];
            dstats[b * 2 * latent + j] += g;
            dstats[b * 2 * latent + latent + j] += g * eps * 0.5 * (0.5 * logvar).exp();
        }
    }
}

/// KL(N(μ, σ²) ‖ N(0, 1)) per row (written), and its gradient scaled by β/B (added).
pub fn kl_divergence(
    stats: &[f32],
    dstats: &mut [f32],
    row_kl: &mut [f32],
    rows: usize,
    latent: usize,
    beta: f32,
) {
    let scale = beta / rows as f32;
    for b in 0..rows {
        let mut kl = 0.0;
        for j in 0..latent {
            let (mu, logvar) = (stats[b * 2 * latent + j], stats[b * 2 * latent + latent + j]);
            let var = logvar.exp();
            kl += -0.5 * (1.0 + logvar - mu * mu - var);
            dstats[b * 2 * latent + j] += scale * mu;
            dstats[b * 2 * latent + latent + j] += scale * 0.5 * (var - 1.0);
        }
        row_kl[b] = kl;
    }
}
