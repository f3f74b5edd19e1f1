// reduce.wgsl — metrics accumulated on the GPU, so a step never waits for a readback.
// accumulate_metric: metrics[slot] += scale·Σᵢ values[i] over `len` values: per-row terms
// (len B, scale 1) or one row of per-batch terms (len Z, scale B, so that dividing by the
// images seen gives the mean). One invocation sums in order: no barriers, no atomics.
// Bindings: 0 params · Input: 1 values · Output: 2 metrics.

struct Params {
    len: u32,
    slot: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> values: array<f32>;
// Output
@group(0) @binding(2) var<storage, read_write> metrics: array<f32>;

@compute @workgroup_size(1)
fn accumulate_metric() {
    var sum = 0.0;
    for (var i = 0u; i < params.len; i++) {
        sum += values[i];
    }
    metrics[params.slot] += params.scale * sum;
}
