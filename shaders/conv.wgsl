// conv.wgsl — 2-D convolutions, NCHW, and their three gradients each.
//
// x: B × C_in × H_in × W_in (the forward op's input), y: B × C_out × H_out × W_out (its
// output), square kernel k, stride s, padding p. The strided side is x for conv2d and y for
// conv_transpose2d; every tap pairs a position on the other side with it by
//   strided = other·s − p + tap   (out of range: the tap reads zero).
//   conv2d_forward                    y  = conv(x, w) + bias      w: C_out × C_in × k × k
//   conv2d_backward_input             dx = Σ_{co, ky, kx} dy·w[co, ci]
//   conv2d_backward_weight            dw = Σ_{b, oy, ox} dy·x
//   conv2d_backward_bias              dbias[co] = Σ_{b, oy, ox} dy[b, co, oy, ox]
//   conv_transpose2d_forward          y  = convᵀ(x, w) + bias     w: C_in × C_out × k × k
//   conv_transpose2d_backward_input   dx = Σ_{co, ky, kx} dy·w[ci, co]
//   conv_transpose2d_backward_weight  dw = Σ_{b, iy, ix} x·dy
//   conv_transpose2d_backward_bias    dbias[co] = Σ_{b, oy, ox} dy[b, co, oy, ox]
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
    // Spatial sizes, height in the low 16 bits, width in the high 16.
    in_hw: u32,
    out_hw: u32,
    kernel: u32,
    stride: u32,
    padding: u32,
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

// Element i of a batch × channels × h × w tensor as (b, c, row, col).
fn unflatten(i: u32, channels: u32, h: u32, w: u32) -> vec4<u32> {
    let col = i % w;
    let row = (i / w) % h;
    let bc = i / (w * h);
    return vec4<u32>(bc / channels, bc % channels, row, col);
}

// The strided-side index other·s − p + tap, or `len` (out of range) where it falls outside.
fn strided(other: u32, tap: u32, len: u32) -> u32 {
    let padded = other * params.stride + tap;
    if (padded < params.padding || padded - params.padding >= len) {
        return len;
    }
    return padded - params.padding;
}

// The first tap t ≥ 0 with (pos + p − t) divisible by s; taps t, t + s, … all are.
fn first_tap(pos: u32) -> u32 {
    return (pos + params.padding) % params.stride;
}

// Index of w[first, second, ky, kx] in a weight stored first × seconds × k × k.
fn w_index(first: u32, second: u32, seconds: u32, ky: u32, kx: u32) -> u32 {
    let k = params.kernel;
    return ((first * seconds + second) * k + ky) * k + kx;
}

@compute @workgroup_size(256)
fn conv2d_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let k = params.kernel;
    let len = params.batch * params.c_out * oh * ow;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_out, oh, ow);
        var acc = bias[at.y];
        for (var ci = 0u; ci < params.c_in; ci++) {
            let plane = (at.x * params.c_in + ci) * ih;
            for (var ky = 0u; ky < k; ky++) {
                let iy = strided(at.z, ky, ih);
                if (iy == ih) {
                    continue;
                }
                for (var kx = 0u; kx < k; kx++) {
                    let ix = strided(at.w, kx, iw);
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
    let k = params.kernel;
    let s = params.stride;
    let len = params.batch * params.c_in * ih * iw;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_in, ih, iw);
        let ty = at.z + params.padding;
        let tx = at.w + params.padding;
        var acc = 0.0;
        for (var co = 0u; co < params.c_out; co++) {
            let plane = (at.x * params.c_out + co) * oh;
            // oy·s = iy + p − ky: only taps ky ≡ iy + p (mod s), with oy in range.
            for (var ky = first_tap(at.z); ky < k && ky <= ty; ky += s) {
                let oy = (ty - ky) / s;
                if (oy >= oh) {
                    continue;
                }
                for (var kx = first_tap(at.w); kx < k && kx <= tx; kx += s) {
                    let ox = (tx - kx) / s;
                    if (ox >= ow) {
                        continue;
                    }
                    acc += dy[(plane + oy) * ow + ox] * w[w_index(co, at.y, params.c_in, ky, kx)];
                }
            }
        }
        dx[i] = acc;
    }
}

@compute @workgroup_size(256)
fn conv2d_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let k = params.kernel;
    let len = params.c_out * params.c_in * k * k;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        // dw[co, ci, ky, kx]: unflatten reads it as (co, ci, ky, kx).
        let at = unflatten(i, params.c_in, k, k);
        var acc = 0.0;
        for (var b = 0u; b < params.batch; b++) {
            let x_plane = (b * params.c_in + at.y) * ih;
            let dy_plane = (b * params.c_out + at.x) * oh;
            for (var oy = 0u; oy < oh; oy++) {
                let iy = strided(oy, at.z, ih);
                if (iy == ih) {
                    continue;
                }
                for (var ox = 0u; ox < ow; ox++) {
                    let ix = strided(ox, at.w, iw);
                    if (ix == iw) {
                        continue;
                    }
                    acc += dy[(dy_plane + oy) * ow + ox] * x[(x_plane + iy) * iw + ix];
                }
            }
        }
        dw[i] = acc;
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
        dbias[co] = acc;
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
    let k = params.kernel;
    let s = params.stride;
    let len = params.batch * params.c_out * oh * ow;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_out, oh, ow);
        let ty = at.z + params.padding;
        let tx = at.w + params.padding;
        var acc = bias[at.y];
        for (var ci = 0u; ci < params.c_in; ci++) {
            let plane = (at.x * params.c_in + ci) * ih;
            // iy·s = oy + p − ky: only taps ky ≡ oy + p (mod s), with iy in range.
            for (var ky = first_tap(at.z); ky < k && ky <= ty; ky += s) {
                let iy = (ty - ky) / s;
                if (iy >= ih) {
                    continue;
                }
                for (var kx = first_tap(at.w); kx < k && kx <= tx; kx += s) {
                    let ix = (tx - kx) / s;
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
    let k = params.kernel;
    let len = params.batch * params.c_in * ih * iw;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        let at = unflatten(i, params.c_in, ih, iw);
        var acc = 0.0;
        for (var co = 0u; co < params.c_out; co++) {
            let plane = (at.x * params.c_out + co) * oh;
            for (var ky = 0u; ky < k; ky++) {
                let oy = strided(at.z, ky, oh);
                if (oy == oh) {
                    continue;
                }
                for (var kx = 0u; kx < k; kx++) {
                    let ox = strided(at.w, kx, ow);
                    if (ox == ow) {
                        continue;
                    }
                    acc += dy[(plane + oy) * ow + ox] * w[w_index(at.y, co, params.c_out, ky, kx)];
                }
            }
        }
        dx[i] = acc;
    }
}

@compute @workgroup_size(256)
fn conv_transpose2d_backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let ih = in_h();
    let iw = in_w();
    let oh = out_h();
    let ow = out_w();
    let k = params.kernel;
    let len = params.c_in * params.c_out * k * k;
    for (var i = gid.x; i < len; i += nwg.x * WG) {
        // dw[ci, co, ky, kx]: unflatten reads it as (ci, co, ky, kx).
        let at = unflatten(i, params.c_out, k, k);
        var acc = 0.0;
        for (var b = 0u; b < params.batch; b++) {
            let x_plane = (b * params.c_in + at.x) * ih;
            let dy_plane = (b * params.c_out + at.y) * oh;
            for (var iy = 0u; iy < ih; iy++) {
                let oy = strided(iy, at.z, oh);
                if (oy == oh) {
                    continue;
                }
                for (var ix = 0u; ix < iw; ix++) {
                    let ox = strided(ix, at.w, ow);
                    if (ox == ow) {
                        continue;
                    }
                    acc += x[(x_plane + iy) * iw + ix] * dy[(dy_plane + oy) * ow + ox];
                }
            }
        }
        dw[i] = acc;
    }
}

@compute @workgroup_size(256)
fn conv_transpose2d_backward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    sum_output_planes(gid, nwg);
}
