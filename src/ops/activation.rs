//! Elementwise activations and their gradients (`shaders/activation.wgsl`).

use super::{bind, groups_1d, Cpu, Gradients, Kernel, Op, Plan, PlanCx};
use crate::model::{Activation, TensorId, LEAKY_SLOPE};
use crate::shaders::Shader;

uniform! {
    /// `len` elements of activation `func` (0 relu, 1 leaky_relu, 2 tanh, 3 sigmoid).
    pub struct Params for Shader::Activation {
        len: u32,
        func: u32,
        slope: f32,
        _pad: u32,
    }
}

bindings! { x = 1, y = 2, dy = 3, out = 4 }

fn params(f: Activation, len: usize) -> Params {
    Params { len: len as u32, func: f.code(), slope: LEAKY_SLOPE, _pad: 0 }
}

/// y = f(x), elementwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationForward {
    pub f: Activation,
    pub x: TensorId,
    pub y: TensorId,
}

impl Kernel for ActivationForward {
    fn gradient(&self, g: &Gradients) -> Vec<Op> {
        match (g.of(self.x), g.of(self.y)) {
            (Some(dx), Some(dy)) => {
                vec![ActivationBackward { f: self.f, y: self.y, dy, dx }.into()]
            }
            _ => vec![],
        }
    }

    fn cpu(&self, cx: &mut Cpu) {
        let n = cx.rows * cx.cols(self.x);
        cx.write(self.y, |cx, y| activation_forward(self.f, &cx.get(self.x)[..n], &mut y[..n]));
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let len = cx.rows * cx.cols(self.x);
        let bindings = vec![bind(binding::x, self.x), bind(binding::out, self.y)];
        Plan::new("activation_forward", params(self.f, len), groups_1d(len, 256), bindings)
    }
}

/// dx += f′·dy, with f′ written in terms of y = f(x).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActivationBackward {
    pub f: Activation,
    pub y: TensorId,
    pub dy: TensorId,
    pub dx: TensorId,
}

impl Kernel for ActivationBackward {
    fn cpu(&self, cx: &mut Cpu) {
        let n = cx.rows * cx.cols(self.y);
        cx.write(self.dx, |cx, dx| {
            activation_backward(self.f, &cx.get(self.y)[..n], &cx.get(self.dy)[..n], &mut dx[..n])
        });
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let len = cx.rows * cx.cols(self.y);
        let bindings =
            vec![bind(binding::y, self.y), bind(binding::dy, self.dy), bind(binding::out, self.dx)];
        Plan::new("activation_backward", params(self.f, len), groups_1d(len, 256), bindings)
    }
}

// ---- the plain loops ----

/// f(x) for one activation.
pub fn activate(f: Activation, x: f32) -> f32 {
    match f {
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu => {
            if x > 0.0 {
                x
            } else {
                LEAKY_SLOPE * x
            }
        }
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => sigmoid(x),
        Activation::Identity => x,
    }
}

/// f′ written in terms of y = f(x), so the backward pass needs only the output.
pub fn activation_derivative(f: Activation, y: f32) -> f32 {
    match f {
        Activation::Relu => (y > 0.0) as u8 as f32,
        Activation::LeakyRelu => {
            if y > 0.0 {
                1.0
            } else {
                LEAKY_SLOPE
            }
        }
        Activation::Tanh => 1.0 - y * y,
        Activation::Sigmoid => y * (1.0 - y),
        Activation::Identity => 1.0,
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

pub fn activation_forward(f: Activation, x: &[f32], y: &mut [f32]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = activate(f, xi);
    }
}

/// dx += f′(y)·dy.
pub fn activation_backward(f: Activation, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    for ((dxi, &yi), &dyi) in dx.iter_mut().zip(y).zip(dy) {
        *dxi += activation_derivative(f, yi) * dyi;
    }
}
