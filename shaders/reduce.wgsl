// reduce.wgsl — metrics accumulated on the GPU, so a step never waits for a readback.
// accumulate_metric: metrics[slot] += Σ_b values[b]. One invocation sums the B row values
// (B ≤ 1024) in order: no barriers, no atomics.
// Bindings: 0 params · Input: 1 values · Output: 2 metrics.

struct Params {
    rows: u32,
    slot: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> values: array<f32>;
// Output
@group(0) @binding(2) var<storage, read_write> metrics: array<f32>;

@compute @workgroup_size(1)
fn accumulate_metric() {
    var sum = 0.0;
    for (var i = 0u; i < params.rows; i++) {
        sum += values[i];
    }
    metrics[params.slot] += sum;
}
