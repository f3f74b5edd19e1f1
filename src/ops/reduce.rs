//! The end of a training step: its metric sums and the step counter (`shaders/reduce.wgsl`).

use super::{bind, Cpu, Kernel, Plan, PlanCx, Resource};
use crate::model::{metric, TensorId};
use crate::shaders::Shader;

uniform! {
    /// metrics[s] += scale_s·Σ values_s[..len_s] for the slots s = 0, 1, 2 (len 0: none).
    pub struct Params for Shader::Reduce {
        len0: u32,
        len1: u32,
        len2: u32,
        scale0: f32,
        scale1: f32,
        scale2: f32,
    }
}

bindings! { values0 = 1, values1 = 2, values2 = 3, metrics = 4, state = 5 }

/// What one metric slot sums: per-row terms (B values), or with `per_batch` one row of
/// per-batch terms, scaled by B (so that dividing by the rows seen gives the mean).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricSum {
    pub values: TensorId,
    pub per_batch: bool,
}

impl MetricSum {
    /// (values summed, scale) on `rows` rows.
    fn terms(&self, rows: usize, cols: usize) -> (usize, f32) {
        if self.per_batch {
            (cols, rows as f32)
        } else {
            (rows, 1.0)
        }
    }
}

/// The last op of every training step: adds the step's metric terms to the sums, one per
/// slot of [`metric`] (`None`: the kind has no such term), then step += 1, so the next
/// step's noise, minibatch and Adam t differ without any write from the CPU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinishStep {
    pub sums: [Option<MetricSum>; metric::COUNT],
}

impl Kernel for FinishStep {
    fn cpu(&self, cx: &mut Cpu) {
        for (slot, sum) in self.sums.iter().enumerate() {
            if let Some(s) = sum {
                let (len, scale) = s.terms(cx.rows, cx.cols(s.values));
                accumulate_metric(&cx.tensors[s.values][..len], cx.metrics, slot, scale);
            }
        }
        *cx.step += 1;
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let terms = self.sums.map(|s| s.map(|s| s.terms(cx.rows, cx.cols(s.values))));
        let len = |k: usize| terms[k].map_or(0, |t| t.0 as u32);
        let scale = |k: usize| terms[k].map_or(0.0, |t| t.1);
        let params = Params {
            len0: len(0),
            len1: len(1),
            len2: len(2),
            scale0: scale(0),
            scale1: scale(1),
            scale2: scale(2),
        };
        // A slot without terms (len 0) reads nothing: the scratch buffer fills its binding.
        let mut bindings =
            vec![(binding::metrics, Resource::Metrics), (binding::state, Resource::State)];
        for (k, b) in [binding::values0, binding::values1, binding::values2].into_iter().enumerate()
        {
            bindings.push(match self.sums[k] {
                Some(s) => bind(b, s.values),
                None => (b, Resource::Scratch),
            });
        }
        Plan::new("finish_step", params, [1, 1, 1], bindings)
    }
}

/// metrics[slot] += scale·Σ values (scale 1 for per-row values, B for per-batch terms).
pub fn accumulate_metric(values: &[f32], metrics: &mut [f32], slot: usize, scale: f32) {
    metrics[slot] += scale * values.iter().sum::<f32>();
}
