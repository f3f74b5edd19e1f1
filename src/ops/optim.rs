//! The optimizer: Adam per parameter, and the step counter (`shaders/optim.wgsl`).

use super::{bind, groups_1d, Cpu, Kernel, Plan, PlanCx, Resource};
use crate::model::{Param, TensorId};
use crate::shaders::Shader;

uniform! {
    /// `len` values and Adam's settings.
    pub struct Params for Shader::Optim {
        len: u32,
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
    }
}

bindings! { state = 1, param = 2, grad = 3, m = 4, v = 5, state_rw = 6 }

/// One Adam step on a parameter; t = step + 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamUpdate {
    pub value: TensorId,
    pub grad: TensorId,
    pub m: TensorId,
    pub v: TensorId,
}

impl AdamUpdate {
    pub fn of(p: &Param) -> Self {
        AdamUpdate { value: p.value, grad: p.grad, m: p.m, v: p.v }
    }
}

impl Kernel for AdamUpdate {
    fn cpu(&self, cx: &mut Cpu) {
        let o = cx.spec.optimizer;
        let step = *cx.step;
        let (mut value, mut m, mut v) = (cx.take(self.value), cx.take(self.m), cx.take(self.v));
        let g = cx.get(self.grad);
        adam_update(&mut value, g, &mut m, &mut v, o.lr, o.beta1, o.beta2, o.eps, step);
        cx.put(self.value, value);
        cx.put(self.m, m);
        cx.put(self.v, v);
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let o = &cx.spec.optimizer;
        let len = cx.descs[self.value].len();
        let params =
            Params { len: len as u32, lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps };
        let bindings = vec![
            (binding::state, Resource::State),
            bind(binding::param, self.value),
            bind(binding::grad, self.grad),
            bind(binding::m, self.m),
            bind(binding::v, self.v),
        ];
        Plan::new("adam_update", params, groups_1d(len, 256), bindings)
    }
}

/// step += 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdvanceStep;

impl Kernel for AdvanceStep {
    fn cpu(&self, cx: &mut Cpu) {
        *cx.step += 1;
    }

    fn plan(&self, _cx: &PlanCx) -> Plan {
        Plan {
            shader: Shader::Optim,
            entry: "advance_step",
            tiled: None,
            uniform: None,
            groups: [1, 1, 1],
            bindings: vec![(binding::state_rw, Resource::State)],
        }
    }
}

/// One Adam step with bias correction, t = step + 1.
#[allow(clippy::too_many_arguments)]
pub fn adam_update(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    step: u32,
) {
    let t = (step + 1) as f32;
    let c1 = 1.0 - beta1.powf(t);
    let c2 = 1.0 - beta2.powf(t);
    let n = p.len();
    let half = n / 2;
    let (p0, p1) = p.split_at_mut(half);
    let (m0, m1) = m[..n].split_at_mut(half);
    let (v0, v1) = v[..n].split_at_mut(half);
    let (g0, g1) = g[..n].split_at(half);
    super::par::both(
        n >= super::par::MIN_SPLIT,
        (p0, g0, m0, v0),
        (p1, g1, m1, v1),
        |(p, g, m, v)| {
            // Zipped slices of one length: no bounds checks, so the loop runs in SIMD lanes.
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                let m_hat = *m / c1;
                let v_hat = *v / c2;
                *p -= lr * m_hat / (v_hat.sqrt() + eps);
            }
        },
    );
}
