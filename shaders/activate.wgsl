// activate.wgsl — the activations by code, shared by the kernels that apply them (prepended
// to activation.wgsl and linear.wgsl). Codes as in `Activation::code`: 0 relu, 1 leaky_relu,
// 2 tanh, 3 sigmoid; IDENTITY (4) leaves a value as it is.

const IDENTITY: u32 = 4u;

fn activate(func: u32, slope: f32, v: f32) -> f32 {
    switch func {
        case 0u: { return max(v, 0.0); }
        case 1u: { return select(slope * v, v, v > 0.0); }
        case 2u: { return tanh(v); }
        case 3u: { return 1.0 / (1.0 + exp(-v)); }
        default: { return v; }
    }
}

// f′ written in terms of the output y = f(x), so a backward pass needs only the output.
fn derivative(func: u32, slope: f32, y: f32) -> f32 {
    switch func {
        case 0u: { return select(0.0, 1.0, y > 0.0); }
        case 1u: { return select(slope, 1.0, y > 0.0); }
        case 2u: { return 1.0 - y * y; }
        case 3u: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}

// The same on four values at once (linear.wgsl's vec4 entry points).
fn activate4(func: u32, slope: f32, v: vec4<f32>) -> vec4<f32> {
    switch func {
        case 0u: { return max(v, vec4<f32>(0.0)); }
        case 1u: { return select(slope * v, v, v > vec4<f32>(0.0)); }
        case 2u: { return tanh(v); }
        case 3u: { return 1.0 / (1.0 + exp(-v)); }
        default: { return v; }
    }
}

fn derivative4(func: u32, slope: f32, y: vec4<f32>) -> vec4<f32> {
    switch func {
        case 0u: { return select(vec4<f32>(0.0), vec4<f32>(1.0), y > vec4<f32>(0.0)); }
        case 1u: { return select(vec4<f32>(slope), vec4<f32>(1.0), y > vec4<f32>(0.0)); }
        case 2u: { return 1.0 - y * y; }
        case 3u: { return y * (1.0 - y); }
        default: { return vec4<f32>(1.0); }
    }
}
