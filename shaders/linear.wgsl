// linear.wgsl — dense layers: y = x·Wᵀ + b and its three gradients, as one tiled matmul.
//
// C[M, N] = Σ_k A(m, k)·B(k, n) (+ bias[n]), where A(m, k) = a[m·sam + k·sak] and
// B(k, n) = b[k·sbk + n·sbn]. The strides express each transpose, so the three products
// share one body (W is stored [outputs, inputs], as in PyTorch):
//   linear_forward          A = x (B × I),            B(k = i, n = o) = w[o, i],  + bias
//   linear_backward_input   A = dy (B × O),           B(k = o, n = i) = w[o, i]
//   linear_backward_weight  A(m = o, k = b) = dy[b, o], B(k = b, n = i) = x[b, i]
// Dispatch: (⌈N / 64⌉, ⌈M / 64⌉) workgroups of 16 × 16 invocations; each invocation owns a
// 4 × 4 block of C. Per K-tile of 16, the workgroup stages a 16 × 64 slice of A and of B in
// workgroup memory (8 KiB in all), so each value read from storage feeds 64 multiply-adds.
//
// linear_backward_bias: dbias[n] = Σ_m a[m·N + n]; one invocation per column, ⌈N / 64⌉
// workgroups of 64.
//
// Bindings: 0 dims · Input: 1 a, 2 b, 3 bias · Output: 4 c.

struct Dims {
    m: u32,
    n: u32,
    k: u32,
    // 1: add bias[n] (linear_forward). The gradients bind any read-only buffer at 3.
    use_bias: u32,
    sam: u32,
    sak: u32,
    sbk: u32,
    sbn: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
// Input
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
// Output
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;

var<workgroup> tile_a: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_b: array<f32, 1024>; // [TILE_K][TILE_N]

fn load_a(m: u32, k: u32) -> f32 {
    if (m < dims.m && k < dims.k) {
        return a[m * dims.sam + k * dims.sak];
    }
    return 0.0;
}

fn load_b(k: u32, n: u32) -> f32 {
    if (k < dims.k && n < dims.n) {
        return b[k * dims.sbk + n * dims.sbn];
    }
    return 0.0;
}

fn matmul(wid: vec3<u32>, lid: vec3<u32>) {
    let t = lid.y * 16u + lid.x;
    let row0 = wid.y * TILE_M;
    let col0 = wid.x * TILE_N;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < dims.k; k0 += TILE_K) {
        // Stage the tiles; walk the contiguous dimension of each source with neighbouring
        // invocations.
        for (var i = 0u; i < 4u; i++) {
            let e = t + i * THREADS;
            var mm: u32;
            var kk: u32;
            if (dims.sak == 1u) {
                kk = e % TILE_K;
                mm = e / TILE_K;
            } else {
                mm = e % TILE_M;
                kk = e / TILE_M;
            }
            tile_a[kk * TILE_M + mm] = load_a(row0 + mm, k0 + kk);
            var nn: u32;
            var kb: u32;
            if (dims.sbk == 1u) {
                kb = e % TILE_K;
                nn = e / TILE_K;
            } else {
                nn = e % TILE_N;
                kb = e / TILE_N;
            }
            tile_b[kb * TILE_N + nn] = load_b(k0 + kb, col0 + nn);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            let ai = kk * TILE_M + lid.y * 4u;
            let bi = kk * TILE_N + lid.x * 4u;
            let bv = vec4<f32>(tile_b[bi], tile_b[bi + 1u], tile_b[bi + 2u], tile_b[bi + 3u]);
            acc0 += tile_a[ai] * bv;
            acc1 += tile_a[ai + 1u] * bv;
            acc2 += tile_a[ai + 2u] * bv;
            acc3 += tile_a[ai + 3u] * bv;
        }
        workgroupBarrier();
    }
    let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + lid.y * 4u + i;
        if (row >= dims.m) {
            break;
        }
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x * 4u + j;
            if (col < dims.n) {
                var v = accs[i][j];
                if (dims.use_bias == 1u) {
                    v += bias[col];
                }
                c[row * dims.n + col] = v;
            }
        }
    }
}

@compute @workgroup_size(16, 16)
fn linear_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    matmul(wid, lid);
}

@compute @workgroup_size(16, 16)
fn linear_backward_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    matmul(wid, lid);
}

@compute @workgroup_size(16, 16)
fn linear_backward_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    matmul(wid, lid);
}

@compute @workgroup_size(64)
fn linear_backward_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    if (col >= dims.n) {
        return;
    }
    var sum = 0.0;
    for (var row = 0u; row < dims.m; row++) {
        sum += a[row * dims.n + col];
    }
    c[col] = sum;
}
