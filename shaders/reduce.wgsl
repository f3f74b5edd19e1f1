// reduce.wgsl — the end of a training step: its metrics, accumulated on the GPU so that a
// step never waits for a readback, and the step counter.
// finish_step: metrics[s] += scale_s·Σᵢ values_s[i] over len_s values, for the slots s = 0
// (reconstruction), 1 (KL), 2 (penalty): per-row terms (len B, scale 1) or one row of
// per-batch terms (len Z, scale B, so that dividing by the images seen gives the mean); then
// step += 1. One invocation sums in order: no barriers, no atomics.
// Bindings: 0 params · Input: 1 values0, 2 values1, 3 values2 · Output: 4 metrics, 5 state.

struct Params {
    len0: u32,
    len1: u32,
    len2: u32,
    scale0: f32,
    scale1: f32,
    scale2: f32,
}

struct State {
    step: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> values0: array<f32>;
@group(0) @binding(2) var<storage, read> values1: array<f32>;
@group(0) @binding(3) var<storage, read> values2: array<f32>;
// Output
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: State;

@compute @workgroup_size(1)
fn finish_step() {
    var s0 = 0.0;
    for (var i = 0u; i < params.len0; i++) {
        s0 += values0[i];
    }
    var s1 = 0.0;
    for (var i = 0u; i < params.len1; i++) {
        s1 += values1[i];
    }
    var s2 = 0.0;
    for (var i = 0u; i < params.len2; i++) {
        s2 += values2[i];
    }
    metrics[0] += params.scale0 * s0;
    metrics[1] += params.scale1 * s1;
    metrics[2] += params.scale2 * s2;
    state.step += 1u;
}
