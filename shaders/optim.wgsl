// optim.wgsl — Adam with bias correction, over every parameter at once.
// adam_update: m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²;
//              p −= lr·(m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε), t = step + 1,
// over the four parameter buffers (values, gradients, moments), which share one layout; the
// padding between parameters has g = m = v = 0 and stays 0.
// Four values at a time: the arena's length is a multiple of 64 (Arena::ALIGN), so the
// buffers are vec4 arrays, which CPU emulations (SwiftShader) index and bounds-check once per
// four values. Dispatch: up to 4096 workgroups of 256 (strided), at least ELEMENTS values
// per invocation, so that the two pows of the bias correction are paid once for several.
// Bindings: 0 params · Input: 1 state, 3 grad · Output: 2 param, 4 m, 5 v.

struct Params {
    len: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
}

struct State {
    step: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> state: State;
@group(0) @binding(3) var<storage, read> grad: array<vec4<f32>>;
// Output
@group(0) @binding(2) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> v: array<vec4<f32>>;

@compute @workgroup_size(256)
fn adam_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = f32(state.step + 1u);
    let c1 = 1.0 - pow(params.beta1, t);
    let c2 = 1.0 - pow(params.beta2, t);
    for (var i = gid.x; i < params.len / 4u; i += nwg.x * 256u) {
        let g = grad[i];
        let mi = params.beta1 * m[i] + (1.0 - params.beta1) * g;
        let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= params.lr * (mi / c1) / (sqrt(vi / c2) + params.eps);
    }
}
