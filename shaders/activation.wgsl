// activation.wgsl — elementwise activations and their gradients.
// activation_forward:  y = f(x)
// activation_backward: dx += f′·dy, with f′ written in terms of y = f(x) (see src/ops/activation.rs)
// f: 0 relu, 1 leaky_relu, 2 tanh, 3 sigmoid.
// Dispatch: up to 4096 workgroups of 256 in x; each invocation strides over the tensor.
// Bindings: 0 params · Input: 1 x, 2 y, 3 dy · Output: 4 out.
// Prepended: activate.wgsl.

struct Params {
    len: u32,
    func: u32,
    slope: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
// Output
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn activation_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var i = gid.x; i < params.len; i += nwg.x * 256u) {
        out[i] = activate(params.func, params.slope, x[i]);
    }
}

@compute @workgroup_size(256)
fn activation_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var i = gid.x; i < params.len; i += nwg.x * 256u) {
        out[i] += derivative(params.func, params.slope, y[i]) * dy[i];
    }
}
