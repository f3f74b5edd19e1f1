// linear.wgsl — a dense layer y = f(x·Wᵀ + b) forward, and all of its gradients, each in
// one dispatch. B rows, I inputs, O outputs; W is stored [O, I], as in PyTorch; f is the
// layer's activation or IDENTITY (activate.wgsl).
//
// linear_forward: y[b, o] = f(Σᵢ x[b, i]·w[o, i] + bias[o]); the bias and f are the
//   product's epilogue, so the pre-activation is never stored.
//   Grid (⌈O / 64⌉, ⌈B / TM⌉).
// linear_backward: g[b, o] = dy[b, o]·f′(y[b, o]) (f′ in terms of the output y) is formed as
//   it is loaded — the pre-activation's gradient is never stored either — and feeds three
//   sums, each a range of workgroup rows of one dispatch:
//     dw[o, i] += Σ_b g[b, o]·x[b, i]   rows [0, w_tiles):              ⌈O / TM⌉ rows
//     dx[b, i] += Σₒ g[b, o]·w[o, i]    rows [w_tiles, w_tiles + x_tiles): ⌈B / TM⌉ rows,
//                                        none when the layer's input has no gradient; times
//                                        f_x′(x[b, i]) when x is the output of the
//                                        activation X_ACT below (folded in: the layer
//                                        below then reads its dy with ACT = IDENTITY)
//     db[o]    += Σ_b g[b, o]           the last row: one invocation per output
//   Grid (⌈I / 64⌉, w_tiles + x_tiles + 1).
//
// Every product is C[M, N] = Σ_k A(m, k)·B(k, n) with A(m, k) = A[m·sam + k·sak] and
// B(k, n) = B[k·sbk + n·sbn]: the strides express each transpose.
//   forward  A = x (B × I),            B(k = i, n = o) = w[o, i]
//   weight   A(m = o, k = b) = g[b, o], B(k = b, n = i) = x[b, i]
//   input    A(m = b, k = o) = g[b, o], B(k = o, n = i) = w[o, i]
//
// Pipelines are compiled per activation: f is the override constant ACT (and f_x is X_ACT),
// so the compiler folds f and f′ (and, for IDENTITY, drops the loads of y_in).
//
// Two schedules, chosen per device by the override constant TILED (TM is 64 or 128):
// - TILED = true (GPUs): workgroups of 16 × 16 invocations, each owning a 4 × 4 block of C,
//   so a workgroup covers 64 × 64. Per K-tile of 16 the workgroup stages a 16 × 64 slice of
//   A and of B in workgroup memory (8 KiB), so each value read from storage feeds 64
//   multiply-adds.
// - TILED = false (CPU-emulated devices: lavapipe, SwiftShader): no workgroup memory and no
//   barriers, which such devices emulate slowly; each invocation owns an 8 × 4 block of C
//   and reads A and B straight from storage, so a 16 × 16 workgroup covers 128 × 64.
//   Measured 3–10× faster than TILED on lavapipe.
//
// Bindings: 0 dims · Input: 1 x, 2 w, 3 bias, 5 dy, 6 y_in · Output: 4 y, 7 dw, 8 db, 9 dx.
// (linear_backward reads the layer's output as y_in; a layer without an activation binds dy
// there, and a layer whose input has no gradient binds a scratch tensor at dx.)
// Prepended: activate.wgsl.

override TILED: bool = true;
// f: an activation code, or IDENTITY.
override ACT: u32 = IDENTITY;
// linear_backward: f_x, the activation whose output x is, folded into dx; or IDENTITY.
override X_ACT: u32 = IDENTITY;

struct Dims {
    rows: u32,
    inputs: u32,
    outputs: u32,
    slope: f32,
    // linear_backward: workgroup rows of the weight product, and of the input product (0:
    // the layer's input has no gradient).
    w_tiles: u32,
    x_tiles: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
// Input
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> y_in: array<f32>;
// Output
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;
@group(0) @binding(8) var<storage, read_write> db: array<f32>;
@group(0) @binding(9) var<storage, read_write> dx: array<f32>;

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;
const THREADS: u32 = 256u;

// The products of linear_backward, by the operand B they read.
const WEIGHT: u32 = 0u;
const INPUT: u32 = 1u;

// One product's shape and strides.
struct Mat {
    m: u32,
    n: u32,
    k: u32,
    sam: u32,
    sak: u32,
    sbk: u32,
    sbn: u32,
    // linear_backward: WEIGHT or INPUT.
    which: u32,
}

var<workgroup> tile_a: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_b: array<f32, 1024>; // [TILE_K][TILE_N]

// ---- the operands ----

fn forward_mat() -> Mat {
    return Mat(dims.rows, dims.outputs, dims.inputs, dims.inputs, 1u, 1u, dims.inputs, 0u);
}

fn backward_mat(which: u32) -> Mat {
    let b = dims.rows;
    let i = dims.inputs;
    let o = dims.outputs;
    if (which == WEIGHT) {
        return Mat(o, i, b, 1u, o, i, 1u, WEIGHT);
    }
    return Mat(b, i, o, o, 1u, i, 1u, INPUT);
}

// g at a flat index of dy.
fn grad(e: u32) -> f32 {
    if (ACT == IDENTITY) {
        return dy[e];
    }
    return dy[e] * derivative(ACT, dims.slope, y_in[e]);
}

// What dx's sum is multiplied by at a flat index of x: f_x′(x).
fn x_scale(e: u32) -> f32 {
    if (X_ACT == IDENTITY) {
        return 1.0;
    }
    return derivative(X_ACT, dims.slope, x[e]);
}

// Operand B of a backward product at a flat index.
fn backward_b(which: u32, e: u32) -> f32 {
    if (which == WEIGHT) {
        return x[e];
    }
    return w[e];
}

fn in_a(p: Mat, m: u32, k: u32) -> bool {
    return m < p.m && k < p.k;
}

fn in_b(p: Mat, k: u32, n: u32) -> bool {
    return k < p.k && n < p.n;
}

// ---- the tiled schedule ----

// Where element e of a 16 × 64 tile is staged from: (row or column within the 64, k within
// the 16), walking the source's contiguous dimension with neighbouring invocations.
fn tile_slot(e: u32, k_contiguous: bool) -> vec2<u32> {
    if (k_contiguous) {
        return vec2<u32>(e / TILE_K, e % TILE_K);
    }
    return vec2<u32>(e % TILE_M, e / TILE_M);
}

// The multiply-adds of one staged K-tile into a 4 × 4 block.
fn tile_fma(lid: vec3<u32>, acc: ptr<function, array<vec4<f32>, 8>>) {
    for (var kk = 0u; kk < TILE_K; kk++) {
        let ai = kk * TILE_M + lid.y * 4u;
        let bi = kk * TILE_N + lid.x * 4u;
        let bv = vec4<f32>(tile_b[bi], tile_b[bi + 1u], tile_b[bi + 2u], tile_b[bi + 3u]);
        (*acc)[0] += tile_a[ai] * bv;
        (*acc)[1] += tile_a[ai + 1u] * bv;
        (*acc)[2] += tile_a[ai + 2u] * bv;
        (*acc)[3] += tile_a[ai + 3u] * bv;
    }
}

fn forward_tiled(p: Mat, row0: u32, col0: u32, lid: vec3<u32>) -> array<vec4<f32>, 8> {
    let t = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 8>;
    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        for (var i = 0u; i < 4u; i++) {
            let e = t + i * THREADS;
            let sa = tile_slot(e, p.sak == 1u);
            let am = row0 + sa.x;
            let ak = k0 + sa.y;
            tile_a[sa.y * TILE_M + sa.x] = select(0.0, x[am * p.sam + ak * p.sak], in_a(p, am, ak));
            let sb = tile_slot(e, p.sbk == 1u);
            let bk = k0 + sb.y;
            let bn = col0 + sb.x;
            tile_b[sb.y * TILE_N + sb.x] = select(0.0, w[bk * p.sbk + bn * p.sbn], in_b(p, bk, bn));
        }
        workgroupBarrier();
        tile_fma(lid, &acc);
        workgroupBarrier();
    }
    return acc;
}

fn backward_tiled(p: Mat, row0: u32, col0: u32, lid: vec3<u32>) -> array<vec4<f32>, 8> {
    let t = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 8>;
    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        for (var i = 0u; i < 4u; i++) {
            let e = t + i * THREADS;
            let sa = tile_slot(e, p.sak == 1u);
            let am = row0 + sa.x;
            let ak = k0 + sa.y;
            var va = 0.0;
            if (in_a(p, am, ak)) {
                va = grad(am * p.sam + ak * p.sak);
            }
            tile_a[sa.y * TILE_M + sa.x] = va;
            let sb = tile_slot(e, p.sbk == 1u);
            let bk = k0 + sb.y;
            let bn = col0 + sb.x;
            var vb = 0.0;
            if (in_b(p, bk, bn)) {
                vb = backward_b(p.which, bk * p.sbk + bn * p.sbn);
            }
            tile_b[sb.y * TILE_N + sb.x] = vb;
        }
        workgroupBarrier();
        tile_fma(lid, &acc);
        workgroupBarrier();
    }
    return acc;
}

// ---- the register-blocked schedule ----
// (forward_* and backward_* are near-copies on purpose: a binding a function reads counts as
// used by every entry point that calls it, so one shared body would make linear_forward bind
// dy and y_in too.)
// Each invocation: rows m0 … m0 + 7, columns n0 … n0 + 3, accumulated in registers.
// Out-of-range rows and columns read a clamped (valid) index and are never stored.

// The eight rows' offsets into A (clamped), as two vectors: registers, not an array, which
// some compilers (SwiftShader's) would keep in memory.
fn block_rows(p: Mat, m0: u32) -> array<vec4<u32>, 2> {
    let last = vec4<u32>(p.m - 1u);
    let r = vec4<u32>(m0, m0 + 1u, m0 + 2u, m0 + 3u);
    return array<vec4<u32>, 2>(min(r, last) * p.sam, min(r + vec4<u32>(4u), last) * p.sam);
}

fn block_cols(p: Mat, n0: u32) -> vec4<u32> {
    return min(vec4<u32>(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4<u32>(p.n - 1u)) * p.sbn;
}

fn forward_blocked(p: Mat, m0: u32, n0: u32) -> array<vec4<f32>, 8> {
    let rows = block_rows(p, m0);
    let oa = rows[0];
    let ob = rows[1];
    let cols = block_cols(p, n0);
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    for (var k = 0u; k < p.k; k++) {
        let kb = k * p.sbk;
        let ka = k * p.sak;
        let bv = vec4<f32>(w[kb + cols.x], w[kb + cols.y], w[kb + cols.z], w[kb + cols.w]);
        c0 += x[oa.x + ka] * bv;
        c1 += x[oa.y + ka] * bv;
        c2 += x[oa.z + ka] * bv;
        c3 += x[oa.w + ka] * bv;
        c4 += x[ob.x + ka] * bv;
        c5 += x[ob.y + ka] * bv;
        c6 += x[ob.z + ka] * bv;
        c7 += x[ob.w + ka] * bv;
    }
    return array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
}

fn backward_blocked(p: Mat, m0: u32, n0: u32) -> array<vec4<f32>, 8> {
    let rows = block_rows(p, m0);
    let oa = rows[0];
    let ob = rows[1];
    let cols = block_cols(p, n0);
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    for (var k = 0u; k < p.k; k++) {
        let kb = k * p.sbk;
        let ka = k * p.sak;
        var bv: vec4<f32>;
        if (p.which == WEIGHT) {
            bv = vec4<f32>(x[kb + cols.x], x[kb + cols.y], x[kb + cols.z], x[kb + cols.w]);
        } else {
            bv = vec4<f32>(w[kb + cols.x], w[kb + cols.y], w[kb + cols.z], w[kb + cols.w]);
        }
        c0 += grad(oa.x + ka) * bv;
        c1 += grad(oa.y + ka) * bv;
        c2 += grad(oa.z + ka) * bv;
        c3 += grad(oa.w + ka) * bv;
        c4 += grad(ob.x + ka) * bv;
        c5 += grad(ob.y + ka) * bv;
        c6 += grad(ob.z + ka) * bv;
        c7 += grad(ob.w + ka) * bv;
    }
    return array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
}

// ---- the entry points ----

// The block of C an invocation owns: its first row and column, and how many rows.
fn block_origin(tile: vec2<u32>, lid: vec3<u32>) -> vec3<u32> {
    if (TILED) {
        return vec3<u32>(tile.y * TILE_M + lid.y * 4u, tile.x * TILE_N + lid.x * 4u, 4u);
    }
    return vec3<u32>(tile.y * 128u + lid.y * 8u, tile.x * 64u + lid.x * 4u, 8u);
}

@compute @workgroup_size(16, 16)
fn linear_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = forward_mat();
    let o = block_origin(wid.xy, lid);
    var acc: array<vec4<f32>, 8>;
    if (TILED) {
        acc = forward_tiled(p, wid.y * TILE_M, wid.x * TILE_N, lid);
    } else if (o.x < p.m && o.y < p.n) {
        acc = forward_blocked(p, o.x, o.y);
    }
    for (var i = 0u; i < o.z; i++) {
        let row = o.x + i;
        for (var j = 0u; j < 4u; j++) {
            let col = o.y + j;
            if (row < p.m && col < p.n) {
                y[row * p.n + col] = activate(ACT, dims.slope, acc[i][j] + bias[col]);
            }
        }
    }
}

@compute @workgroup_size(16, 16)
fn linear_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    if (wid.y >= dims.w_tiles + dims.x_tiles) {
        // db[o] += Σ_b g[b, o].
        let o_count = dims.outputs;
        let rows = dims.rows;
        for (var o = wid.x * THREADS + lid.y * 16u + lid.x; o < o_count; o += nwg.x * THREADS) {
            var sum = 0.0;
            for (var b = 0u; b < rows; b++) {
                sum += grad(b * o_count + o);
            }
            db[o] += sum;
        }
        return;
    }
    var which = WEIGHT;
    var tile = wid.xy;
    if (wid.y >= dims.w_tiles) {
        which = INPUT;
        tile.y -= dims.w_tiles;
    }
    let p = backward_mat(which);
    let o = block_origin(tile, lid);
    var acc: array<vec4<f32>, 8>;
    if (TILED) {
        acc = backward_tiled(p, tile.y * TILE_M, tile.x * TILE_N, lid);
    } else if (o.x < p.m && o.y < p.n) {
        acc = backward_blocked(p, o.x, o.y);
    }
    for (var i = 0u; i < o.z; i++) {
        let row = o.x + i;
        for (var j = 0u; j < 4u; j++) {
            let col = o.y + j;
            if (row < p.m && col < p.n) {
                if (which == WEIGHT) {
                    dw[row * p.n + col] += acc[i][j];
                } else {
                    dx[row * p.n + col] += acc[i][j] * x_scale(row * p.n + col);
                }
            }
        }
    }
}

// ---- the register-blocked schedule with 16-byte loads ----
// linear_forward4 and linear_backward4: the same products, grids and bindings as the
// register-blocked entry points above, for layers whose inputs and outputs are both
// multiples of 4. Every operand is read four floats at a time, and each invocation owns a
// taller block than above, so that each load feeds more multiply-adds:
// - linear_forward4: 32 rows × 8 outputs (two vec4s), workgroups of 8 × 2 covering 64 rows
//   × 64 outputs (TM = 64: a batch of 128 makes twice the workgroups of 128 rows, which
//   SwiftShader shares out among its threads more evenly); per 4 steps of k it loads 32
//   vec4s of x and 8 of w for 1,024 multiply-adds (the 8 × 4 block above: 48 scalar loads
//   for 128).
// - linear_backward4: 16 rows × 8 columns, workgroups of 8 × 8 (dw: 16 outputs × 8 inputs,
//   per 4 rows of the batch 16 vec4s of g and 8 of x; dx: 16 rows × 8 inputs, per 4
//   outputs 8 vec4s of w and 16 of g), 512 multiply-adds either way.
// A backward workgroup still covers 128 rows × 64 columns, so its grid is that of the
// schedule above. CPU emulations (SwiftShader, lavapipe) run each invocation's scalars as
// SIMD lanes across invocations and pay for every load as a gather of one value per lane;
// the accumulators are named variables (registers or spill slots), not an array, which
// SwiftShader would index through memory, and each update of one adds four products (a
// dot product of 4, or a matrix times a vector), not one. Measured on SwiftShader (VAE
// 784-400-20, batch 128): the 8 × 4 block 600–620 samples/s natively, 480–530 in Chromium;
// these blocks 700–900 and 600–660 while dw added one product per update; adding four,
// 790–900 in Chromium. The buffers are the same; only their WGSL types differ (x4 is x).
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;   // [B, I/4]
@group(0) @binding(2) var<storage, read> w4: array<vec4<f32>>;   // [O, I/4]
@group(0) @binding(5) var<storage, read> dy4: array<vec4<f32>>;  // [B, O/4]
@group(0) @binding(6) var<storage, read> y_in4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y4: array<vec4<f32>>;  // [B, O/4]
@group(0) @binding(7) var<storage, read_write> dw4: array<vec4<f32>>; // [O, I/4]
@group(0) @binding(9) var<storage, read_write> dx4: array<vec4<f32>>; // [B, I/4]

// g at vec4 index e of dy (four outputs of one row).
fn grad4(e: u32) -> vec4<f32> {
    if (ACT == IDENTITY) {
        return dy4[e];
    }
    return dy4[e] * derivative4(ACT, dims.slope, y_in4[e]);
}

// x_scale at vec4 index e of x.
fn x_scale4(e: u32) -> vec4<f32> {
    if (X_ACT == IDENTITY) {
        return vec4<f32>(1.0);
    }
    return derivative4(X_ACT, dims.slope, x4[e]);
}

// Columns c0 … c0 + 7 (clamped to `count`), each times `stride`: two vectors of offsets.
fn cols8(c0: u32, count: u32, stride: u32) -> array<vec4<u32>, 2> {
    let last = vec4<u32>(count - 1u);
    let c = vec4<u32>(c0, c0 + 1u, c0 + 2u, c0 + 3u);
    return array<vec4<u32>, 2>(min(c, last) * stride, min(c + vec4<u32>(4u), last) * stride);
}

// Invocations in a workgroup of linear_backward4.
const THREADS4: u32 = 64u;

@compute @workgroup_size(8, 2)
fn linear_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    // Rows b0 … b0 + 31 of y (clamped: rows past the last are read but not stored), outputs
    // o0 … o0 + 7 (two vec4s; the second clamped, and not stored, past the last output).
    let b0 = wid.y * 64u + lid.y * 32u;
    let o0 = wid.x * 64u + lid.x * 8u;
    let rows = dims.rows;
    let outputs = dims.outputs;
    if (b0 >= rows || o0 >= outputs) {
        return;
    }
    let k4 = dims.inputs / 4u;
    let last = vec4<u32>(rows - 1u);
    let r0 = min(vec4<u32>(b0, b0 + 1u, b0 + 2u, b0 + 3u), last) * k4;
    let r1 = min(vec4<u32>(b0 + 4u, b0 + 5u, b0 + 6u, b0 + 7u), last) * k4;
    let r2 = min(vec4<u32>(b0 + 8u, b0 + 9u, b0 + 10u, b0 + 11u), last) * k4;
    let r3 = min(vec4<u32>(b0 + 12u, b0 + 13u, b0 + 14u, b0 + 15u), last) * k4;
    let r4 = min(vec4<u32>(b0 + 16u, b0 + 17u, b0 + 18u, b0 + 19u), last) * k4;
    let r5 = min(vec4<u32>(b0 + 20u, b0 + 21u, b0 + 22u, b0 + 23u), last) * k4;
    let r6 = min(vec4<u32>(b0 + 24u, b0 + 25u, b0 + 26u, b0 + 27u), last) * k4;
    let r7 = min(vec4<u32>(b0 + 28u, b0 + 29u, b0 + 30u, b0 + 31u), last) * k4;
    let cw = cols8(o0, outputs, k4);
    let wa = cw[0];
    let wb = cw[1];
    var c0 = vec4<f32>(0.0);
    var d0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var d1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var d2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var d3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var d4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var d5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var d6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    var d7 = vec4<f32>(0.0);
    var c8 = vec4<f32>(0.0);
    var d8 = vec4<f32>(0.0);
    var c9 = vec4<f32>(0.0);
    var d9 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0);
    var d10 = vec4<f32>(0.0);
    var c11 = vec4<f32>(0.0);
    var d11 = vec4<f32>(0.0);
    var c12 = vec4<f32>(0.0);
    var d12 = vec4<f32>(0.0);
    var c13 = vec4<f32>(0.0);
    var d13 = vec4<f32>(0.0);
    var c14 = vec4<f32>(0.0);
    var d14 = vec4<f32>(0.0);
    var c15 = vec4<f32>(0.0);
    var d15 = vec4<f32>(0.0);
    var c16 = vec4<f32>(0.0);
    var d16 = vec4<f32>(0.0);
    var c17 = vec4<f32>(0.0);
    var d17 = vec4<f32>(0.0);
    var c18 = vec4<f32>(0.0);
    var d18 = vec4<f32>(0.0);
    var c19 = vec4<f32>(0.0);
    var d19 = vec4<f32>(0.0);
    var c20 = vec4<f32>(0.0);
    var d20 = vec4<f32>(0.0);
    var c21 = vec4<f32>(0.0);
    var d21 = vec4<f32>(0.0);
    var c22 = vec4<f32>(0.0);
    var d22 = vec4<f32>(0.0);
    var c23 = vec4<f32>(0.0);
    var d23 = vec4<f32>(0.0);
    var c24 = vec4<f32>(0.0);
    var d24 = vec4<f32>(0.0);
    var c25 = vec4<f32>(0.0);
    var d25 = vec4<f32>(0.0);
    var c26 = vec4<f32>(0.0);
    var d26 = vec4<f32>(0.0);
    var c27 = vec4<f32>(0.0);
    var d27 = vec4<f32>(0.0);
    var c28 = vec4<f32>(0.0);
    var d28 = vec4<f32>(0.0);
    var c29 = vec4<f32>(0.0);
    var d29 = vec4<f32>(0.0);
    var c30 = vec4<f32>(0.0);
    var d30 = vec4<f32>(0.0);
    var c31 = vec4<f32>(0.0);
    var d31 = vec4<f32>(0.0);
    for (var k = 0u; k < k4; k++) {
        let ma = mat4x4<f32>(w4[wa.x + k], w4[wa.y + k], w4[wa.z + k], w4[wa.w + k]);
        let mb = mat4x4<f32>(w4[wb.x + k], w4[wb.y + k], w4[wb.z + k], w4[wb.w + k]);
        let a0 = x4[r0.x + k];
        c0 += a0 * ma;
        d0 += a0 * mb;
        let a1 = x4[r0.y + k];
        c1 += a1 * ma;
        d1 += a1 * mb;
        let a2 = x4[r0.z + k];
        c2 += a2 * ma;
        d2 += a2 * mb;
        let a3 = x4[r0.w + k];
        c3 += a3 * ma;
        d3 += a3 * mb;
        let a4 = x4[r1.x + k];
        c4 += a4 * ma;
        d4 += a4 * mb;
        let a5 = x4[r1.y + k];
        c5 += a5 * ma;
        d5 += a5 * mb;
        let a6 = x4[r1.z + k];
        c6 += a6 * ma;
        d6 += a6 * mb;
        let a7 = x4[r1.w + k];
        c7 += a7 * ma;
        d7 += a7 * mb;
        let a8 = x4[r2.x + k];
        c8 += a8 * ma;
        d8 += a8 * mb;
        let a9 = x4[r2.y + k];
        c9 += a9 * ma;
        d9 += a9 * mb;
        let a10 = x4[r2.z + k];
        c10 += a10 * ma;
        d10 += a10 * mb;
        let a11 = x4[r2.w + k];
        c11 += a11 * ma;
        d11 += a11 * mb;
        let a12 = x4[r3.x + k];
        c12 += a12 * ma;
        d12 += a12 * mb;
        let a13 = x4[r3.y + k];
        c13 += a13 * ma;
        d13 += a13 * mb;
        let a14 = x4[r3.z + k];
        c14 += a14 * ma;
        d14 += a14 * mb;
        let a15 = x4[r3.w + k];
        c15 += a15 * ma;
        d15 += a15 * mb;
        let a16 = x4[r4.x + k];
        c16 += a16 * ma;
        d16 += a16 * mb;
        let a17 = x4[r4.y + k];
        c17 += a17 * ma;
        d17 += a17 * mb;
        let a18 = x4[r4.z + k];
        c18 += a18 * ma;
        d18 += a18 * mb;
        let a19 = x4[r4.w + k];
        c19 += a19 * ma;
        d19 += a19 * mb;
        let a20 = x4[r5.x + k];
        c20 += a20 * ma;
        d20 += a20 * mb;
        let a21 = x4[r5.y + k];
        c21 += a21 * ma;
        d21 += a21 * mb;
        let a22 = x4[r5.z + k];
        c22 += a22 * ma;
        d22 += a22 * mb;
        let a23 = x4[r5.w + k];
        c23 += a23 * ma;
        d23 += a23 * mb;
        let a24 = x4[r6.x + k];
        c24 += a24 * ma;
        d24 += a24 * mb;
        let a25 = x4[r6.y + k];
        c25 += a25 * ma;
        d25 += a25 * mb;
        let a26 = x4[r6.z + k];
        c26 += a26 * ma;
        d26 += a26 * mb;
        let a27 = x4[r6.w + k];
        c27 += a27 * ma;
        d27 += a27 * mb;
        let a28 = x4[r7.x + k];
        c28 += a28 * ma;
        d28 += a28 * mb;
        let a29 = x4[r7.y + k];
        c29 += a29 * ma;
        d29 += a29 * mb;
        let a30 = x4[r7.z + k];
        c30 += a30 * ma;
        d30 += a30 * mb;
        let a31 = x4[r7.w + k];
        c31 += a31 * ma;
        d31 += a31 * mb;
    }
    let o4 = outputs / 4u;
    let col = o0 / 4u;
    let second = o0 + 4u < outputs;
    let ba = vec4<f32>(bias[o0], bias[o0 + 1u], bias[o0 + 2u], bias[o0 + 3u]);
    let o1 = min(o0 + 4u, outputs - 4u);
    let bb = vec4<f32>(bias[o1], bias[o1 + 1u], bias[o1 + 2u], bias[o1 + 3u]);
    let c = array<vec4<f32>, 32>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31);
    let d = array<vec4<f32>, 32>(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31);
    for (var i = 0u; i < 32u; i++) {
        if (b0 + i < rows) {
            y4[(b0 + i) * o4 + col] = activate4(ACT, dims.slope, c[i] + ba);
            if (second) {
                y4[(b0 + i) * o4 + col + 1u] = activate4(ACT, dims.slope, d[i] + bb);
            }
        }
    }
}

@compute @workgroup_size(8, 8)
fn linear_backward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o4 = dims.outputs / 4u;
    let i4 = dims.inputs / 4u;
    let rows = dims.rows;
    if (wid.y >= dims.w_tiles + dims.x_tiles) {
        // db[o] += Σ_b g[b, o], four outputs per invocation.
        for (var j = wid.x * THREADS4 + lid.y * 8u + lid.x; j < o4; j += nwg.x * THREADS4) {
            var sum = vec4<f32>(0.0);
            for (var b = 0u; b < rows; b++) {
                sum += grad4(b * o4 + j);
            }
            for (var t = 0u; t < 4u; t++) {
                db[4u * j + t] += sum[t];
            }
        }
        return;
    }
    // Columns i0 … i0 + 7 of dw or dx: two vec4s, the second clamped (and not stored) past
    // the last input.
    let i0 = wid.x * 64u + lid.x * 8u;
    if (i0 >= dims.inputs) {
        return;
    }
    let col = i0 / 4u;
    let col1 = min(col + 1u, i4 - 1u);
    let second = i0 + 4u < dims.inputs;
    var c0 = vec4<f32>(0.0);
    var d0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var d1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var d2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var d3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var d4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var d5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var d6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    var d7 = vec4<f32>(0.0);
    var c8 = vec4<f32>(0.0);
    var d8 = vec4<f32>(0.0);
    var c9 = vec4<f32>(0.0);
    var d9 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0);
    var d10 = vec4<f32>(0.0);
    var c11 = vec4<f32>(0.0);
    var d11 = vec4<f32>(0.0);
    var c12 = vec4<f32>(0.0);
    var d12 = vec4<f32>(0.0);
    var c13 = vec4<f32>(0.0);
    var d13 = vec4<f32>(0.0);
    var c14 = vec4<f32>(0.0);
    var d14 = vec4<f32>(0.0);
    var c15 = vec4<f32>(0.0);
    var d15 = vec4<f32>(0.0);
    if (wid.y < dims.w_tiles) {
        // dw rows o0 … o0 + 15: Σ_b g[b, o0 + r]·x[b, i0 … i0 + 7], four rows b of the
        // batch at a time. Their x vec4s are the columns of two matrices (xa, xb), and g's
        // 16 outputs over the four rows, transposed, give for each output r the vector
        // (g[b, r], …, g[b + 3, r]): so c_r += xa·that adds four products to each
        // accumulator at once (the outer product g.x·xa would add one). Rows past the last
        // read x as zero.
        let o0 = wid.y * 128u + lid.y * 16u;
        if (o0 >= dims.outputs) {
            return;
        }
        let g_last = o4 - 1u;
        let q0 = min(o0 / 4u, g_last);
        let q1 = min(o0 / 4u + 1u, g_last);
        let q2 = min(o0 / 4u + 2u, g_last);
        let q3 = min(o0 / 4u + 3u, g_last);
        let zero = vec4<f32>(0.0);
        for (var b = 0u; b < rows; b += 4u) {
            let in1 = b + 1u < rows;
            let in2 = b + 2u < rows;
            let in3 = b + 3u < rows;
            let n1 = min(b + 1u, rows - 1u);
            let n2 = min(b + 2u, rows - 1u);
            let n3 = min(b + 3u, rows - 1u);
            let e0 = b * i4;
            let e1 = n1 * i4;
            let e2 = n2 * i4;
            let e3 = n3 * i4;
            let xa = mat4x4<f32>(x4[e0 + col], select(zero, x4[e1 + col], in1), select(zero, x4[e2 + col], in2), select(zero, x4[e3 + col], in3));
            let xb = mat4x4<f32>(x4[e0 + col1], select(zero, x4[e1 + col1], in1), select(zero, x4[e2 + col1], in2), select(zero, x4[e3 + col1], in3));
            let f0 = b * o4;
            let f1 = n1 * o4;
            let f2 = n2 * o4;
            let f3 = n3 * o4;
            let t0 = transpose(mat4x4<f32>(grad4(f0 + q0), grad4(f1 + q0), grad4(f2 + q0), grad4(f3 + q0)));
            c0 += xa * t0[0];
            d0 += xb * t0[0];
            c1 += xa * t0[1];
            d1 += xb * t0[1];
            c2 += xa * t0[2];
            d2 += xb * t0[2];
            c3 += xa * t0[3];
            d3 += xb * t0[3];
            let t1 = transpose(mat4x4<f32>(grad4(f0 + q1), grad4(f1 + q1), grad4(f2 + q1), grad4(f3 + q1)));
            c4 += xa * t1[0];
            d4 += xb * t1[0];
            c5 += xa * t1[1];
            d5 += xb * t1[1];
            c6 += xa * t1[2];
            d6 += xb * t1[2];
            c7 += xa * t1[3];
            d7 += xb * t1[3];
            let t2 = transpose(mat4x4<f32>(grad4(f0 + q2), grad4(f1 + q2), grad4(f2 + q2), grad4(f3 + q2)));
            c8 += xa * t2[0];
            d8 += xb * t2[0];
            c9 += xa * t2[1];
            d9 += xb * t2[1];
            c10 += xa * t2[2];
            d10 += xb * t2[2];
            c11 += xa * t2[3];
            d11 += xb * t2[3];
            let t3 = transpose(mat4x4<f32>(grad4(f0 + q3), grad4(f1 + q3), grad4(f2 + q3), grad4(f3 + q3)));
            c12 += xa * t3[0];
            d12 += xb * t3[0];
            c13 += xa * t3[1];
            d13 += xb * t3[1];
            c14 += xa * t3[2];
            d14 += xb * t3[2];
            c15 += xa * t3[3];
            d15 += xb * t3[3];
        }
        let c = array<vec4<f32>, 16>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
        let d = array<vec4<f32>, 16>(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15);
        for (var r = 0u; r < 16u; r++) {
            if (o0 + r < dims.outputs) {
                dw4[(o0 + r) * i4 + col] += c[r];
                if (second) {
                    dw4[(o0 + r) * i4 + col + 1u] += d[r];
                }
            }
        }
        return;
    }
    // dx rows b0 … b0 + 15: Σₒ g[b0 + r, o]·w[o, i0 … i0 + 7], four outputs o at a time:
    // the four weight rows' vec4s as the columns of two matrices, times g's vec4.
    let b0 = (wid.y - dims.w_tiles) * 128u + lid.y * 16u;
    if (b0 >= rows) {
        return;
    }
    let last = vec4<u32>(rows - 1u);
    let r0 = min(vec4<u32>(b0, b0 + 1u, b0 + 2u, b0 + 3u), last) * o4;
    let r1 = min(vec4<u32>(b0 + 4u, b0 + 5u, b0 + 6u, b0 + 7u), last) * o4;
    let r2 = min(vec4<u32>(b0 + 8u, b0 + 9u, b0 + 10u, b0 + 11u), last) * o4;
    let r3 = min(vec4<u32>(b0 + 12u, b0 + 13u, b0 + 14u, b0 + 15u), last) * o4;
    for (var k = 0u; k < o4; k++) {
        let w0 = 4u * k * i4;
        let ma = mat4x4<f32>(w4[w0 + col], w4[w0 + i4 + col], w4[w0 + 2u * i4 + col], w4[w0 + 3u * i4 + col]);
        let mb = mat4x4<f32>(w4[w0 + col1], w4[w0 + i4 + col1], w4[w0 + 2u * i4 + col1], w4[w0 + 3u * i4 + col1]);
        let g0 = grad4(r0.x + k);
        c0 += ma * g0;
        d0 += mb * g0;
        let g1 = grad4(r0.y + k);
        c1 += ma * g1;
        d1 += mb * g1;
        let g2 = grad4(r0.z + k);
        c2 += ma * g2;
        d2 += mb * g2;
        let g3 = grad4(r0.w + k);
        c3 += ma * g3;
        d3 += mb * g3;
        let g4 = grad4(r1.x + k);
        c4 += ma * g4;
        d4 += mb * g4;
        let g5 = grad4(r1.y + k);
        c5 += ma * g5;
        d5 += mb * g5;
        let g6 = grad4(r1.z + k);
        c6 += ma * g6;
        d6 += mb * g6;
        let g7 = grad4(r1.w + k);
        c7 += ma * g7;
        d7 += mb * g7;
        let g8 = grad4(r2.x + k);
        c8 += ma * g8;
        d8 += mb * g8;
        let g9 = grad4(r2.y + k);
        c9 += ma * g9;
        d9 += mb * g9;
        let g10 = grad4(r2.z + k);
        c10 += ma * g10;
        d10 += mb * g10;
        let g11 = grad4(r2.w + k);
        c11 += ma * g11;
        d11 += mb * g11;
        let g12 = grad4(r3.x + k);
        c12 += ma * g12;
        d12 += mb * g12;
        let g13 = grad4(r3.y + k);
        c13 += ma * g13;
        d13 += mb * g13;
        let g14 = grad4(r3.z + k);
        c14 += ma * g14;
        d14 += mb * g14;
        let g15 = grad4(r3.w + k);
        c15 += ma * g15;
        d15 += mb * g15;
    }
    let c = array<vec4<f32>, 16>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15);
    let d = array<vec4<f32>, 16>(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15);
    for (var i = 0u; i < 16u; i++) {
        if (b0 + i < rows) {
            let e = (b0 + i) * i4 + col;
            dx4[e] += c[i] * x_scale4(e);
            if (second) {
                dx4[e + 1u] += d[i] * x_scale4(e + 1u);
            }
        }
    }
}

