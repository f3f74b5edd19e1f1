// loss.wgsl — the reconstruction loss from the decoder's logits, and its gradient.
// reconstruction_loss: per row b, row_loss[b] = Σ_d loss(l, t) and
//   dlogits[b, d] += scale · ∂loss/∂l  (scale = 1/B: the gradient of the batch mean).
//   kind 0, BCE from logits in the stable form: max(l, 0) − l·t + log(1 + e^−|l|); ∂ = σ(l) − t
//   kind 1, MSE of the image σ(l): (σ(l) − t)²; ∂ = 2(σ(l) − t)·σ(l)·(1 − σ(l))
//   kind 2, MSE of the value l itself (standardised data): (l − t)²; ∂ = 2(l − t)
// Dispatch: ⌈B / 64⌉ workgroups of 64; one invocation per row walks its pixels. (A
// workgroup per row with a tree reduction needs barriers, which CPU-emulated devices run
// slowly; B·D is small enough that one invocation per row costs nothing on a GPU.)
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

@compute @workgroup_size(64)
fn reconstruction_loss(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.rows) {
        return;
    }
    var sum = 0.0;
    for (var d = 0u; d < params.cols; d++) {
        let k = row * params.cols + d;
        let l = logits[k];
        let t = targets[k];
        let s = 1.0 / (1.0 + exp(-l));
        var value: f32;
        var grad: f32;
        if (params.kind == 0u) {
            value = max(l, 0.0) - l * t + log(1.0 + exp(-abs(l)));
            grad = s - t;
        } else if (params.kind == 1u) {
            value = (s - t) * (s - t);
            grad = 2.0 * (s - t) * s * (1.0 - s);
        } else {
            value = (l - t) * (l - t);
            grad = 2.0 * (l - t);
        }
        sum += value;
        dlogits[k] += grad * params.scale;
    }
    row_loss[row] = sum;
}
