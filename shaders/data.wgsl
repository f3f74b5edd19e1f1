// data.wgsl — the minibatch gather from the dataset resident on the GPU.
// gather_batch: x[b, :] = images[batch_index(seed, step, b)] / 255. The images are bytes,
// four to a u32 (little-endian), each row padded to `stride` whole words; `width` values a
// row. The index comes from the counter-based permutation of rng.wgsl, so every row is
// drawn once per epoch.
// gather_rows: the same draw from rows of `width` f32 values (`stride` = width).
// corrupt_input: noisy = x corrupted for the denoising autoencoder, element i drawn at
// (seed, NOISE, step, i): kind 0 gaussian clip(x + amount·n, 0, 1); 1 mask: 0 with
// probability amount; 2 salt and pepper: 0 or 1 (equally likely) with probability amount;
// 3 gaussian x + amount·n, not clipped (standardised values).
// (params: rows = element count, count = kind, amount.)
// gather_labels: cond[b, :] = one-hot(labels[batch_index(seed, step, b)]) over 10 classes,
// the labels of the images gather_batch picks (labels: one u32 per image).
// concat_columns: y[b, :] = [a[b, :] | c[b, :]] (params: rows, count = cols(a),
// width = cols(c)); split_columns_backward: da[b, :] += dy[b, ..cols(a)] (count = cols(a),
// width = cols(dy)).
// Dispatch: up to 4096 workgroups of 256 (strided), over B·⌈width / CHUNK⌉ chunks gathered, the
// corrupted elements, B·10 one-hot entries or the output's elements.
// Bindings: 0 params · Input: 1 state, 2 images, 13 rows (f32), 4 clean, 6 labels, 8 a,
// 9 c, 11 dy ·
// Output: 3 x, 5 noisy, 7 cond, 10 y, 12 da.
// Prepended: rng.wgsl.

struct Params {
    rows: u32,
    count: u32,
    seed: u32,
    amount: f32,
    width: u32,
    stride: u32,
}

struct State {
    step: u32,
}

// byte · (1/255) rather than byte / 255: a correctly rounded multiply by the f32 reciprocal,
// bit for bit what reference::gather_batch computes (WGSL division may be off by 2.5 ulp,
// and even a correctly rounded byte / 255 differs from it in the last bit for 126 bytes).
const INV_255: f32 = 1.0 / 255.0;

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> state: State;
@group(0) @binding(2) var<storage, read> images: array<u32>;
@group(0) @binding(13) var<storage, read> rows_f32: array<f32>;
@group(0) @binding(4) var<storage, read> clean: array<f32>;
// Output
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> noisy: array<f32>;
@group(0) @binding(6) var<storage, read> labels: array<u32>;
@group(0) @binding(7) var<storage, read_write> cond: array<f32>;
@group(0) @binding(8) var<storage, read> a: array<f32>;
@group(0) @binding(9) var<storage, read> c: array<f32>;
@group(0) @binding(10) var<storage, read_write> y: array<f32>;
@group(0) @binding(11) var<storage, read> dy: array<f32>;
@group(0) @binding(12) var<storage, read_write> da: array<f32>;

const CLASSES: u32 = 10u;

// Values of one row per invocation of the gathers: the row's index (a permutation of some
// twenty hashes) is drawn once for all of them. As GATHER_CHUNK in src/ops/data.rs.
const CHUNK: u32 = 16u;

@compute @workgroup_size(256)
fn gather_batch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let width = params.width;
    let chunks = (width + CHUNK - 1u) / CHUNK;
    for (var i = gid.x; i < params.rows * chunks; i += nwg.x * 256u) {
        let b = i / chunks;
        let d0 = (i % chunks) * CHUNK;
        let end = min(d0 + CHUNK, width);
        let index = batch_index(params.seed, state.step, b, params.rows, params.count);
        // d0 is a multiple of 4: the chunk starts on a word.
        let src = index * params.stride + d0 / 4u;
        for (var d = d0; d < end; d += 4u) {
            let word = images[src + (d - d0) / 4u];
            for (var t = 0u; t < min(4u, end - d); t++) {
                x[b * width + d + t] = f32((word >> (8u * t)) & 255u) * INV_255;
            }
        }
    }
}

@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let width = params.width;
    let chunks = (width + CHUNK - 1u) / CHUNK;
    for (var i = gid.x; i < params.rows * chunks; i += nwg.x * 256u) {
        let b = i / chunks;
        let d0 = (i % chunks) * CHUNK;
        let index = batch_index(params.seed, state.step, b, params.rows, params.count);
        for (var d = d0; d < min(d0 + CHUNK, width); d++) {
            x[b * width + d] = rows_f32[index * params.stride + d];
        }
    }
}

@compute @workgroup_size(256)
fn corrupt_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let amount = params.amount;
    for (var i = gid.x; i < params.rows; i += nwg.x * 256u) {
        let v = clean[i];
        switch params.count {
            case 0u: {
                noisy[i] = clamp(v + amount * random_normal(params.seed, STREAM_NOISE, state.step, i), 0.0, 1.0);
            }
            case 1u: {
                noisy[i] = select(v, 0.0, random_uniform(params.seed, STREAM_NOISE, state.step, i) < amount);
            }
            case 3u: {
                noisy[i] = v + amount * random_normal(params.seed, STREAM_NOISE, state.step, i);
            }
            default: {
                let u = random_uniform(params.seed, STREAM_NOISE, state.step, i);
                noisy[i] = select(select(v, 1.0, u < amount), 0.0, u < 0.5 * amount);
            }
        }
    }
}

@compute @workgroup_size(256)
fn gather_labels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var i = gid.x; i < params.rows * CLASSES; i += nwg.x * 256u) {
        let b = i / CLASSES;
        let index = batch_index(params.seed, state.step, b, params.rows, params.count);
        cond[i] = select(0.0, 1.0, labels[index] % CLASSES == i % CLASSES);
    }
}

@compute @workgroup_size(256)
fn concat_columns(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ca = params.count;
    let cc = params.width;
    let width = ca + cc;
    for (var i = gid.x; i < params.rows * width; i += nwg.x * 256u) {
        let b = i / width;
        let j = i % width;
        if (j < ca) {
            y[i] = a[b * ca + j];
        } else {
            y[i] = c[b * cc + j - ca];
        }
    }
}

@compute @workgroup_size(256)
fn split_columns_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ca = params.count;
    let cy = params.width;
    for (var i = gid.x; i < params.rows * ca; i += nwg.x * 256u) {
        da[i] += dy[(i / ca) * cy + i % ca];
    }
}
