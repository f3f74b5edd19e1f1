// loss.wgsl — the reconstruction loss from the decoder's logits, and its gradient.
// reconstruction_loss: per row b, row_loss[b] = Σ_d loss(l, t) and
//   dlogits[b, d] = scale · ∂loss/∂l  (scale = 1/B: the gradient of the batch mean).
//   kind 0, BCE from logits in the stable form: max(l, 0) − l·t + log(1 + e^−|l|); ∂ = σ(l) − t
//   kind 1, MSE of the image σ(l): (σ(l) − t)²; ∂ = 2(σ(l) − t)·σ(l)·(1 − σ(l))
// Dispatch: one workgroup of 64 per row (B workgroups); a tree reduction sums the row.
// Bindings: 0 params · Input: 1 logits, 2 targets · Output: 3 dlogits, 4 row_loss.

struct Params {
    rows: u32,
    cols: u32,
    kind: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
// Output
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn reconstruction_loss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = wid.x;
    var sum = 0.0;
    for (var d = lid; d < params.cols; d += 64u) {
        let k = row * params.cols + d;
        let l = logits[k];
        let t = targets[k];
        let s = 1.0 / (1.0 + exp(-l));
        var value: f32;
        var grad: f32;
        if (params.kind == 0u) {
            value = max(l, 0.0) - l * t + log(1.0 + exp(-abs(l)));
            grad = s - t;
        } else {
            value = (s - t) * (s - t);
            grad = 2.0 * (s - t) * s * (1.0 - s);
        }
        sum += value;
        dlogits[k] = grad * params.scale;
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var width = 32u; width > 0u; width >>= 1u) {
        if (lid < width) {
            partial[lid] += partial[lid + width];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        row_loss[row] = partial[0];
    }
}
