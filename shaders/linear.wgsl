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
//                                        none when the layer's input has no gradient
//     db[o]    += Σ_b g[b, o]           the last row: one invocation per output
//   Grid (⌈I / 64⌉, w_tiles + x_tiles + 1).
//
// Every product is C[M, N] = Σ_k A(m, k)·B(k, n) with A(m, k) = A[m·sam + k·sak] and
// B(k, n) = B[k·sbk + n·sbn]: the strides express each transpose.
//   forward  A = x (B × I),            B(k = i, n = o) = w[o, i]
//   weight   A(m = o, k = b) = g[b, o], B(k = b, n = i) = x[b, i]
//   input    A(m = b, k = o) = g[b, o], B(k = o, n = i) = w[o, i]
//
// Pipelines are compiled per activation: f is the override constant ACT, so the compiler
// folds f and f′ (and, for IDENTITY, drops the loads of y_in).
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
                    dx[row * p.n + col] += acc[i][j];
                }
            }
        }
    }
}

// ---- the register-blocked schedule with 16-byte loads ----
// linear_forward4 and linear_backward4: the same products, grids and bindings as the
// register-blocked entry points above, for layers whose inputs and outputs are both
// multiples of 4. Every operand is read four floats at a time, so a block of 8 × 4 outputs
// takes 12 loads per 4 steps of k instead of 48: CPU emulations (lavapipe, SwiftShader) pay
// per load instruction. The buffers are the same; only their WGSL types differ (x4 is x).
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

// Rows r0 … r0 + 7 (clamped to `count`), each times `stride`: two vectors of offsets.
fn rows8(r0: u32, count: u32, stride: u32) -> array<vec4<u32>, 2> {
    let last = vec4<u32>(count - 1u);
    let r = vec4<u32>(r0, r0 + 1u, r0 + 2u, r0 + 3u);
    return array<vec4<u32>, 2>(min(r, last) * stride, min(r + vec4<u32>(4u), last) * stride);
}

@compute @workgroup_size(16, 16)
fn linear_forward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    // Rows b0 … b0 + 7 of y, columns o0 … o0 + 3 (one vec4).
    let b0 = wid.y * 128u + lid.y * 8u;
    let o0 = wid.x * 64u + lid.x * 4u;
    let rows = dims.rows;
    if (b0 >= rows || o0 >= dims.outputs) {
        return;
    }
    let k4 = dims.inputs / 4u;
    let r = rows8(b0, rows, k4);
    let ra = r[0];
    let rb = r[1];
    let cw = vec4<u32>(o0, o0 + 1u, o0 + 2u, o0 + 3u) * k4;
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    for (var k = 0u; k < k4; k++) {
        // Columns: the four weight rows' k-th vec4; a row of x times it is four dots.
        let m = mat4x4<f32>(w4[cw.x + k], w4[cw.y + k], w4[cw.z + k], w4[cw.w + k]);
        c0 += x4[ra.x + k] * m;
        c1 += x4[ra.y + k] * m;
        c2 += x4[ra.z + k] * m;
        c3 += x4[ra.w + k] * m;
        c4 += x4[rb.x + k] * m;
        c5 += x4[rb.y + k] * m;
        c6 += x4[rb.z + k] * m;
        c7 += x4[rb.w + k] * m;
    }
    let bv = vec4<f32>(bias[o0], bias[o0 + 1u], bias[o0 + 2u], bias[o0 + 3u]);
    let o4 = dims.outputs / 4u;
    let col = o0 / 4u;
    let c = array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
    for (var i = 0u; i < 8u; i++) {
        if (b0 + i < rows) {
            y4[(b0 + i) * o4 + col] = activate4(ACT, dims.slope, c[i] + bv);
        }
    }
}

@compute @workgroup_size(16, 16)
fn linear_backward4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o4 = dims.outputs / 4u;
    let i4 = dims.inputs / 4u;
    let rows = dims.rows;
    if (wid.y >= dims.w_tiles + dims.x_tiles) {
        // db[o] += Σ_b g[b, o], four outputs per invocation.
        for (var j = wid.x * THREADS + lid.y * 16u + lid.x; j < o4; j += nwg.x * THREADS) {
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
    let i0 = wid.x * 64u + lid.x * 4u;
    if (i0 >= dims.inputs) {
        return;
    }
    let col = i0 / 4u;
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    if (wid.y < dims.w_tiles) {
        // dw rows o0 … o0 + 7: Σ_b g[b, o0 + r]·x[b, i0 … i0 + 3], g's eight outputs as two
        // vec4s of one row of dy.
        let o0 = wid.y * 128u + lid.y * 8u;
        if (o0 >= dims.outputs) {
            return;
        }
        let ga = o0 / 4u;
        let gb = min(ga + 1u, o4 - 1u);
        for (var b = 0u; b < rows; b++) {
            let g0 = grad4(b * o4 + ga);
            let g1 = grad4(b * o4 + gb);
            let xv = x4[b * i4 + col];
            c0 += g0.x * xv;
            c1 += g0.y * xv;
            c2 += g0.z * xv;
            c3 += g0.w * xv;
            c4 += g1.x * xv;
            c5 += g1.y * xv;
            c6 += g1.z * xv;
            c7 += g1.w * xv;
        }
        let c = array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
        for (var r = 0u; r < 8u; r++) {
            if (o0 + r < dims.outputs) {
                dw4[(o0 + r) * i4 + col] += c[r];
            }
        }
        return;
    }
    // dx rows b0 … b0 + 7: Σₒ g[b0 + r, o]·w[o, i0 … i0 + 3], four outputs o at a time: the
    // four weight rows' vec4s as the columns of a matrix, times g's vec4.
    let b0 = (wid.y - dims.w_tiles) * 128u + lid.y * 8u;
    if (b0 >= rows) {
        return;
    }
    let r = rows8(b0, rows, o4);
    let ra = r[0];
    let rb = r[1];
    for (var k = 0u; k < o4; k++) {
        let w0 = 4u * k * i4 + col;
        let m = mat4x4<f32>(w4[w0], w4[w0 + i4], w4[w0 + 2u * i4], w4[w0 + 3u * i4]);
        c0 += m * grad4(ra.x + k);
        c1 += m * grad4(ra.y + k);
        c2 += m * grad4(ra.z + k);
        c3 += m * grad4(ra.w + k);
        c4 += m * grad4(rb.x + k);
        c5 += m * grad4(rb.y + k);
        c6 += m * grad4(rb.z + k);
        c7 += m * grad4(rb.w + k);
    }
    let c = array<vec4<f32>, 8>(c0, c1, c2, c3, c4, c5, c6, c7);
    for (var i = 0u; i < 8u; i++) {
        if (b0 + i < rows) {
            dx4[(b0 + i) * i4 + col] += c[i];
        }
    }
}
