// conv.wgsl — 2-D convolutions, NCHW, and their three gradients each.
//
// x: B × C_in × H_in × W_in (the forward op's input), y: B × C_out × H_out × W_out (its
// output), kernel k_h × k_w, stride (s_h, s_w), padding (p_h, p_w). The strided side is x for
// conv2d and y for conv_transpose2d; every tap pairs a position on the other side with it by
//   strided = other·s − p + tap   (per axis; out of range: the tap reads zero).
// A 1-D convolution (a series: C × L) is this with H = 1, k_h = 1, s_h = 1, p_h = 0.
//   conv2d_forward                    y  = conv(x, w) + bias      w: C_out × C_in × k_h × k_w
//   conv2d_backward_input             dx += Σ_{co, ky, kx} dy·w[co, ci]
//   conv2d_backward_weight            dw += Σ_{b, oy, ox} dy·x
//   conv2d_backward_bias              dbias[co] += Σ_{b, oy, ox} dy[b, co, oy, ox]
//   conv_transpose2d_forward          y  = convᵀ(x, w) + bias     w: C_in × C_out × k_h × k_w
//   conv_transpose2d_backward_input   dx += Σ_{co, ky, kx} dy·w[ci, co]
//   conv_transpose2d_backward_weight  dw += Σ_{b, iy, ix} x·dy
//   conv_transpose2d_backward_bias    dbias[co] += Σ_{b, oy, ox} dy[b, co, oy, ox]
// (the weights' layouts are PyTorch's Conv2d and ConvTranspose2d). H_out and W_out travel
// in the uniform, so conv_transpose2d's output_padding needs no word of its own.
//
// Each invocation computes one output element by gathering: no atomics, no workgroup
// memory, no barriers, which CPU-emulated devices (lavapipe, SwiftShader) run slowly. Where
// the stride decides which taps reach an element (conv2d_backward_input,
// conv_transpose2d_forward) the tap loop starts at the first tap that divides evenly and
// steps by s, so no iteration is wasted on taps that miss.
//
// Dispatch: up to 4096 workgroups of 256 in x; each invocation strides over its output.
// Bindings: 0 params · Input: 1 x, 2 w, 3 bias, 4 dy · Output: 5 y, 6 dx, 7 dw, 8 dbias.
//   *_forward: 1 2 3 → 5 · *_backward_input: 2 4 → 6 · *_backward_weight: 1 4 → 7 ·
//   *_backward_bias: 4 → 8.

struct Params {
    batch: u32,
    c_in: u32,
    c_out: u32,
    // Sizes per axis: height in the low 16 bits, width in the high 16.
    in_hw: u32,
    out_hw: u32,
    kernel_hw: u32,
    stride_hw: u32,
    padding_hw: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Input
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
// Output
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbias: array<f32>;

const WG: u32 = 256u;

fn in_h() -> u32 { return params.in_hw & 0xffffu; }
fn in_w() -> u32 { return params.in_hw >> 16u; }
fn out_h() -> u32 { return params.out_hw & 0xffffu; }
fn out_w() -> u32 { return params.out_hw >> 16u; }
fn low(v: u32) -> u32 { return v & 0xffffu; }
fn high(v: u32) -> u32 { return v >> 16u; }
// Kernel, stride and padding along y (rows) and x (columns).
fn k_h() -> u32 { return low(params.kernel_hw); }
fn k_w() -> u32 { return high(params.kernel_hw); }
fn s_y() -> vec2<u32> { return vec2<u32>(low(params.stride_hw), low(params.padding_hw)); }
fn s_x() -> vec2<u32> { return vec2<u32>(high(params.stride_hw), high(params.padding_hw)); }

// Element i of a batch × channels × h × w tensor as (b, c, row, col).
fn unflatten(i: u32, channels: u32, h: u32, w: u32) -> vec4<u32> {
    let col = i % w;
    let row = (i / w) % h;
    let bc = i / (w * h);
    return vec4<u32>(bc / channels, bc % channels, row, col);
}

// The strided-side index other·s − p + tap along an axis with sp = (s, p), or `len` (out of
// range) where it falls outside.
fn strided(other: u32, tap: u32, len: u32, sp: vec2<u32>) -> u32 {
    let padded = other * sp.x + tap;
    if (padded < sp.y || padded - sp.y >= len) {
        return len;
    }
    return padded - sp.y;
}

// The first tap t ≥ 0 with (pos + p − t) divisible by s; taps t, t + s, … all are.
fn first_tap(pos: u32, sp: vec2<u32>) -> u32 {
    return (pos + sp.y) % sp.x;
}

// Index of w[first, second, ky, kx] in a weight stored first × seconds × k_h × k_w.
fn w_index(first: u32, second: u32, seconds: u32, ky: u32, kx: u32) -> u32 {
    return ((first * seconds + second) * k_h() + ky) * k_w() + kx;
}

@compute @workgroup_size(256)
fn conv2d_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let sy = s_y();
    let sx = s_x();
    let len = params.batch * params.c_out * oh * ow;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_out, oh, ow);
        var acc = bias[at.y];
        for (var ci = 0u; ci < params.c_in; ci++) {
            let plane = (at.x * params.c_in + ci) * ih;
            for (var ky = 0u; ky < k_h(); ky++) {
                let iy = strided(at.z, ky, ih, sy);
                if (iy == ih) {
                    continue;
                }
                for (var kx = 0u; kx < k_w(); kx++) {
                    let ix = strided(at.w, kx, iw, sx);
                    if (ix == iw) {
                        continue;
                    }
                    acc += x[(plane + iy) * iw + ix] * w[w_index(at.y, ci, params.c_in, ky, kx)];
                }
            }
        }
        y[i] = acc;
    }
}

@compute @workgroup_size(256)
fn conv2d_backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let sy = s_y();
    let sx = s_x();
    let len = params.batch * params.c_in * ih * iw;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_in, ih, iw);
        let ty = at.z + sy.y;
        let tx = at.w + sx.y;
        var acc = 0.0;
        for (var co = 0u; co < params.c_out; co++) {
            let plane = (at.x * params.c_out + co) * oh;
            // oy·s = iy + p − ky: only taps ky ≡ iy + p (mod s), with oy in range.
            for (var ky = first_tap(at.z, sy); ky < k_h() && ky <= ty; ky += sy.x) {
                let oy = (ty - ky) / sy.x;
                if (oy >= oh) {
                    continue;
                }
                for (var kx = first_tap(at.w, sx); kx < k_w() && kx <= tx; kx += sx.x) {
                    let ox = (tx - kx) / sx.x;
                    if (ox >= ow) {
                        continue;
                    }
                    acc += dy[(plane + oy) * ow + ox] * w[w_index(co, at.y, params.c_in, ky, kx)];
                }
            }
        }
        dx[i] += acc;
    }
}

@compute @workgroup_size(256)
fn conv2d_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let sy = s_y();
    let sx = s_x();
    let len = params.c_out * params.c_in * k_h() * k_w();
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        // dw[co, ci, ky, kx]: unflatten reads it as (co, ci, ky, kx).
        let at = unflatten(i, params.c_in, k_h(), k_w());
        var acc = 0.0;
        for (var b = 0u; b < params.batch; b++) {
            let x_plane = (b * params.c_in + at.y) * ih;
            let dy_plane = (b * params.c_out + at.x) * oh;
            for (var oy = 0u; oy < oh; oy++) {
                let iy = strided(oy, at.z, ih, sy);
                if (iy == ih) {
                    continue;
                }
                for (var ox = 0u; ox < ow; ox++) {
                    let ix = strided(ox, at.w, iw, sx);
                    if (ix == iw) {
                        continue;
                    }
                    acc += dy[(dy_plane + oy) * ow + ox] * x[(x_plane + iy) * iw + ix];
                }
            }
        }
        dw[i] += acc;
    }
}

// dbias[co] = Σ_{b, oy, ox} dy[b, co, oy, ox], shared by both bias gradients.
fn sum_output_planes(gid: vec3<u32>, nwg: vec3<u32>) {
    let plane = out_h() * out_w();
    for (var co = gid.x; co < params.c_out; co += nwg.x * WG) {
        var acc = 0.0;
        for (var b = 0u; b < params.batch; b++) {
            let start = (b * params.c_out + co) * plane;
            for (var j = 0u; j < plane; j++) {
                acc += dy[start + j];
            }
        }
        dbias[co] += acc;
    }
}

@compute @workgroup_size(256)
fn conv2d_backward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    sum_output_planes(gid, nwg);
}

@compute @workgroup_size(256)
fn conv_transpose2d_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let sy = s_y();
    let sx = s_x();
    let len = params.batch * params.c_out * oh * ow;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_out, oh, ow);
        let ty = at.z + sy.y;
        let tx = at.w + sx.y;
        var acc = bias[at.y];
        for (var ci = 0u; ci < params.c_in; ci++) {
            let plane = (at.x * params.c_in + ci) * ih;
            // iy·s = oy + p − ky: only taps ky ≡ oy + p (mod s), with iy in range.
            for (var ky = first_tap(at.z, sy); ky < k_h() && ky <= ty; ky += sy.x) {
                let iy = (ty - ky) / sy.x;
                if (iy >= ih) {
                    continue;
                }
                for (var kx = first_tap(at.w, sx); kx < k_w() && kx <= tx; kx += sx.x) {
                    let ix = (tx - kx) / sx.x;
                    if (ix >= iw) {
                        continue;
                    }
                    acc += x[(plane + iy) * iw + ix] * w[w_index(ci, at.y, params.c_out, ky, kx)];
                }
            }
        }
        y[i] = acc;
    }
}

@compute @workgroup_size(256)
fn conv_transpose2d_backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let sy = s_y();
    let sx = s_x();
    let len = params.batch * params.c_in * ih * iw;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_in, ih, iw);
        var acc = 0.0;
        for (var co = 0u; co < params.c_out; co++) {
            let plane = (at.x * params.c_out + co) * oh;
            for (var ky = 0u; ky < k_h(); ky++) {
                let oy = strided(at.z, ky, oh, sy);
                if (oy == oh) {
                    continue;
                }
                for (var kx = 0u; kx < k_w(); kx++) {
                    let ox = strided(at.w, kx, ow, sx);
                    if (ox == ow) {
                        continue;
                    }
                    acc += dy[(plane + oy) * ow + ox] * w[w_index(at.y, co, params.c_out, ky, kx)];
                }
            }
        }
        dx[i] += acc;
    }
}

@compute @workgroup_size(256)
fn conv_transpose2d_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let sy = s_y();
    let sx = s_x();
    let len = params.c_in * params.c_out * k_h() * k_w();
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        // dw[ci, co, ky, kx]: unflatten reads it as (ci, co, ky, kx).
        let at = unflatten(i, params.c_out, k_h(), k_w());
        var acc = 0.0;
        for (var b = 0u; b < params.batch; b++) {
            let x_plane = (b * params.c_in + at.x) * ih;
            let dy_plane = (b * params.c_out + at.y) * oh;
            for (var iy = 0u; iy < ih; iy++) {
                let oy = strided(iy, at.z, oh, sy);
                if (oy == oh) {
                    continue;
                }
                for (var ix = 0u; ix < iw; ix++) {
                    let ox = strided(ix, at.w, ow, sx);
                    if (ox == ow) {
                        continue;
                    }
                    acc += x[(x_plane + iy) * iw + ix] * dy[(dy_plane + oy) * ow + ox];
                }
            }
        }
        dw[i] += acc;
    }
}

@compute @workgroup_size(256)
fn conv_transpose2d_backward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    sum_output_planes(gid, nwg);
}
