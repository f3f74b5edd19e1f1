//! The metric sums a training step reports (`shaders/reduce.wgsl`).

use super::{bind, Cpu, Kernel, Plan, PlanCx, Resource};
use crate::model::TensorId;
use crate::shaders::Shader;

uniform! {
    /// metrics[slot] += scale·Σ values[..len].
    pub struct Params for Shader::Reduce {
        len: u32,
        slot: u32,
        scale: f32,
    }
}

bindings! { values = 1, metrics = 2 }

/// metrics[slot] += Σ_b values[b]; with `per_batch`, values is one row of per-batch terms
/// and metrics[slot] += B·Σ values (so that dividing by the rows gives the mean).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccumulateMetric {
    pub values: TensorId,
    pub slot: usize,
    pub per_batch: bool,
}

impl AccumulateMetric {
    /// (values summed, scale) on `rows` rows.
    fn terms(&self, rows: usize, cols: usize) -> (usize, f32) {
        if self.per_batch {
            (cols, rows as f32)
        } else {
            (rows, 1.0)
        }
    }
}

impl Kernel for AccumulateMetric {
    fn cpu(&self, cx: &mut Cpu) {
        let (len, scale) = self.terms(cx.rows, cx.cols(self.values));
        accumulate_metric(&cx.tensors[self.values][..len], cx.metrics, self.slot, scale);
    }

    fn plan(&self, cx: &PlanCx) -> Plan {
        let (len, scale) = self.terms(cx.rows, cx.cols(self.values));
        let params = Params { len: len as u32, slot: self.slot as u32, scale };
        let bindings =
            vec![bind(binding::values, self.values), (binding::metrics, Resource::Metrics)];
        Plan::new("accumulate_metric", params, [1, 1, 1], bindings)
    }
}

/// metrics[slot] += scale·Σ values (scale 1 for per-row values, B for per-batch terms).
pub fn accumulate_metric(values: &[f32], metrics: &mut [f32], slot: usize, scale: f32) {
    metrics[slot] += scale * values.iter().sum::<f32>();
}
