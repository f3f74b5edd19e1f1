// penalty.wgsl — penalties on a sigmoid code (B × Z): the sparse autoencoder's sparsity
// and the contractive autoencoder's Jacobian norm.
//
// Sparsity:
// sparsity_forward: per unit j, rho_hat[j] = mean_b |code[b, j]| and unit_penalty[j] =
//   kind 0 (KL): ρ·ln(ρ/ρ̂) + (1 − ρ)·ln((1 − ρ)/(1 − ρ̂)), ρ̂ clamped to [1e-6, 1 − 1e-6];
//   kind 1 (L1): ρ̂ itself (the mean |code|).
// sparsity_backward: dcode[b, j] += weight/B · (KL: −ρ/ρ̂ + (1 − ρ)/(1 − ρ̂); L1: sign(code)).
// Dispatch: sparsity_forward ⌈Z / 64⌉ workgroups of 64, one invocation per unit looping over
// rows; sparsity_backward up to 4096 workgroups of 256 over B·Z (strided).
//
// Contractive (Rifai et al., 2011), for the code layer c = σ(W·h + b), W: Z × H:
// ‖∂c/∂h‖²_F = Σⱼ sⱼ²·nⱼ per row, sⱼ = cⱼ(1 − cⱼ), nⱼ = Σᵢ W[j, i]².
// contractive_unit_stats: wnorm[j] = nⱼ, mean_s2[j] = mean_b sⱼ² (one invocation per unit).
// contractive_penalty: row_penalty[b] = Σⱼ s²·wnorm[j] (one invocation per row).
// contractive_backward_code: dcode[b, j] += 2·weight/B·s·(1 − 2c)·wnorm[j] (strided, adds).
// contractive_backward_weight: dw[j, i] += 2·weight·mean_s2[j]·W[j, i] (strided, adds).
//
// Bindings: 0 params · Input: 1 code, 3 rho_hat, 6 w · Output: 2 rho_hat_out,
// 4 unit_penalty, 5 dcode, 9 row_penalty, 10 dw · Both: 7 wnorm, 8 mean_s2 (written by
// contractive_unit_stats, read by the rest).

struct Params {
    rows: u32,
    units: u32,
    kind: u32,
    rho: f32,
    weight: f32,
    inputs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> code: array<f32>;
@group(0) @binding(3) var<storage, read> rho_hat: array<f32>;
// Output
@group(0) @binding(2) var<storage, read_write> rho_hat_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> unit_penalty: array<f32>;
@group(0) @binding(5) var<storage, read_write> dcode: array<f32>;
@group(0) @binding(6) var<storage, read> w: array<f32>;
@group(0) @binding(7) var<storage, read_write> wnorm: array<f32>;
@group(0) @binding(8) var<storage, read_write> mean_s2: array<f32>;
@group(0) @binding(9) var<storage, read_write> row_penalty: array<f32>;
@group(0) @binding(10) var<storage, read_write> dw: array<f32>;

const RHO_CLAMP: f32 = 1e-6;

@compute @workgroup_size(64)
fn sparsity_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= params.units) {
        return;
    }
    var sum = 0.0;
    for (var b = 0u; b < params.rows; b++) {
        sum += abs(code[b * params.units + j]);
    }
    let mean = sum / f32(params.rows);
    rho_hat_out[j] = mean;
    if (params.kind == 0u) {
        let r = clamp(mean, RHO_CLAMP, 1.0 - RHO_CLAMP);
        let t = params.rho;
        unit_penalty[j] = t * log(t / r) + (1.0 - t) * log((1.0 - t) / (1.0 - r));
    } else {
        unit_penalty[j] = mean;
    }
}

@compute @workgroup_size(256)
fn sparsity_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let scale = params.weight / f32(params.rows);
    for (var k = gid.x; k < params.rows * params.units; k += nwg.x * 256u) {
        let j = k % params.units;
        var g: f32;
        if (params.kind == 0u) {
            let r = clamp(rho_hat[j], RHO_CLAMP, 1.0 - RHO_CLAMP);
            g = -params.rho / r + (1.0 - params.rho) / (1.0 - r);
        } else {
            g = sign(code[k]);
        }
        dcode[k] += scale * g;
    }
}

@compute @workgroup_size(64)
fn contractive_unit_stats(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= params.units) {
        return;
    }
    var n = 0.0;
    for (var i = 0u; i < params.inputs; i++) {
        let v = w[j * params.inputs + i];
        n += v * v;
    }
    wnorm[j] = n;
    var sum = 0.0;
    for (var b = 0u; b < params.rows; b++) {
        let c = code[b * params.units + j];
        let s = c * (1.0 - c);
        sum += s * s;
    }
    mean_s2[j] = sum / f32(params.rows);
}

@compute @workgroup_size(64)
fn contractive_penalty(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.x;
    if (b >= params.rows) {
        return;
    }
    var p = 0.0;
    for (var j = 0u; j < params.units; j++) {
        let c = code[b * params.units + j];
        let s = c * (1.0 - c);
        p += s * s * wnorm[j];
    }
    row_penalty[b] = p;
}

@compute @workgroup_size(256)
fn contractive_backward_code(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let scale = 2.0 * params.weight / f32(params.rows);
    for (var k = gid.x; k < params.rows * params.units; k += nwg.x * 256u) {
        let c = code[k];
        dcode[k] += scale * c * (1.0 - c) * (1.0 - 2.0 * c) * wnorm[k % params.units];
    }
}

@compute @workgroup_size(256)
fn contractive_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var k = gid.x; k < params.units * params.inputs; k += nwg.x * 256u) {
        dw[k] += 2.0 * params.weight * mean_s2[k / params.inputs] * w[k];
    }
}
