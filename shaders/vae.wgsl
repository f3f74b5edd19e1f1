// vae.wgsl — the VAE's stochastic layer. `stats` is B × 2Z: [μ | log σ²] per row.
// reparameterize_forward: z = μ + exp(½·log σ²)·ε, ε = N(0, 1) at (seed, EPS, step, b·Z + j),
//   and the KL term in the same pass: row_kl[b] = −½·Σⱼ(1 + log σ² − μ² − σ²),
//   dstats += β/B·[μ | ½(σ² − 1)].
// reparameterize_backward: dμ += dz; dlog σ² += dz·ε·½·exp(½·log σ²)
// The step counter is read from `state`, so many steps can be recorded in one submit.
// Dispatch: reparameterize_forward: ⌈B / 64⌉ workgroups of 64, one invocation per row;
//           reparameterize_backward: up to 4096 workgroups of 256 over B·Z (strided).
// Bindings: 0 params · Input: 1 state, 2 stats, 4 dz · Output: 3 z, 5 dstats, 6 row_kl.
// Prepended: rng.wgsl.

struct Params {
    rows: u32,
    latent: u32,
    seed: u32,
    beta: f32,
}

struct State {
    step: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> state: State;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> dz: array<f32>;
// Output
@group(0) @binding(3) var<storage, read_write> z: array<f32>;
@group(0) @binding(5) var<storage, read_write> dstats: array<f32>;
@group(0) @binding(6) var<storage, read_write> row_kl: array<f32>;

@compute @workgroup_size(64)
fn reparameterize_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.x;
    if (b >= params.rows) {
        return;
    }
    let zl = params.latent;
    let scale = params.beta / f32(params.rows);
    var kl = 0.0;
    for (var j = 0u; j < zl; j++) {
        let mu = stats[b * 2u * zl + j];
        let logvar = stats[b * 2u * zl + zl + j];
        let v = exp(logvar);
        let eps = random_normal(params.seed, STREAM_EPS, state.step, b * zl + j);
        z[b * zl + j] = mu + exp(0.5 * logvar) * eps;
        kl += -0.5 * (1.0 + logvar - mu * mu - v);
        dstats[b * 2u * zl + j] += scale * mu;
        dstats[b * 2u * zl + zl + j] += scale * 0.5 * (v - 1.0);
    }
    row_kl[b] = kl;
}

@compute @workgroup_size(256)
fn reparameterize_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let zl = params.latent;
    for (var i = gid.x; i < params.rows * zl; i += nwg.x * 256u) {
        let b = i / zl;
        let j = i % zl;
        let logvar = stats[b * 2u * zl + zl + j];
        let eps = random_normal(params.seed, STREAM_EPS, state.step, i);
        let g = dz[i];
        dstats[b * 2u * zl + j] += g;
        dstats[b * 2u * zl + zl + j] += g * eps * 0.5 * exp(0.5 * logvar);
    }
}
