//! The optimizer: one Adam step over every parameter at once (`shaders/optim.wgsl`).
//!
//! On the GPU the values, gradients and moments of all the parameters are four buffers laid
//! out alike (the program's [`Arena`]), so the whole step is one dispatch over them.

use super::{groups_1d, Arena, Cpu, Kernel, Plan, PlanCx, Resource};
use crate::model::{Param, Role, TensorId};
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

bindings! { state = 1, param = 2, grad = 3, m = 4, v = 5 }

/// One Adam step on every parameter; t = step + 1.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamUpdate {
    /// Each parameter's value, gradient and moments: (value, grad, m, v).
    pub params: Vec<[TensorId; 4]>,
    /// The arena the GPU holds them in.
    pub arena: Arena,
}

impl AdamUpdate {
    /// The step over `params`, laid out in `arena`.
    pub fn of(params: &[Param], arena: &Arena) -> Self {
        let params = params.iter().map(|p| [p.value, p.grad, p.m, p.v]).collect();
        AdamUpdate { params, arena: arena.clone() }
    }
}

impl Kernel for AdamUpdate {
    fn cpu(&self, cx: &mut Cpu) {
        let o = cx.spec.optimizer;
        let step = *cx.step;
        for &[value, grad, m, v] in &self.params {
            let (mut p, mut mm, mut vv) = (cx.take(value), cx.take(m), cx.take(v));
            adam_update(
                &mut p,
                cx.get(grad),
                &mut mm,
                &mut vv,
                o.lr,
                o.beta1,
                o.beta2,
                o.eps,
                step,
            );
            cx.put(value, p);
            cx.put(m, mm);
            cx.put(v, vv);
        }
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let o = &cx.spec.optimizer;
        let len = self.arena.len;
        let params =
            Params { len: len as u32, lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps };
        let bindings = vec![
            (binding::state, Resource::State),
            (binding::param, Resource::Arena(Role::Param)),
            (binding::grad, Resource::Arena(Role::Grad)),
            (binding::m, Resource::Arena(Role::AdamM)),
            (binding::v, Resource::Arena(Role::AdamV)),
        ];
        debug_assert!(len.is_multiple_of(4), "the shader reads vec4s");
        Plan::new("adam_update", params, groups_1d(len.div_ceil(ELEMENTS), 256), bindings)
    }
}

/// Values each invocation of `adam_update` updates, at least (see optim.wgsl).
const ELEMENTS: usize = 8;

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
