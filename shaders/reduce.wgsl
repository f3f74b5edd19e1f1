// reduce.wgsl — metrics accumulated on the GPU, so a step never waits for a readback.
// accumulate_metric: metrics[slot] += Σ_b values[b]. One workgroup of 256: strided partial
// sums, then a tree reduction; invocation 0 adds the total (no atomics needed).
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

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn accumulate_metric(@builtin(local_invocation_index) lid: u32) {
    var sum = 0.0;
    for (var i = lid; i < params.rows; i += 256u) {
        sum += values[i];
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var width = 128u; width > 0u; width >>= 1u) {
        if (lid < width) {
            partial[lid] += partial[lid + width];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        metrics[params.slot] += partial[0];
    }
}
