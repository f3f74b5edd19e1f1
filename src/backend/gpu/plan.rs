//! What each op dispatches: kernel, uniform words, workgroup grid and bindings.
//!
//! A plan depends on the op and on the number of rows it runs on, so the same function
//! serves the training step (B rows, planned once) and inference calls (any n ≤ capacity,
//! re-planned per call by rewriting a few uniform words).

use crate::model::{ConvShape, NoiseKind, Op, Output, Program, CLASSES, LEAKY_SLOPE};
use crate::shaders::Shader;

/// Uniform block of every kernel: eight 32-bit words (u32, or f32 bits).
pub const UNIFORM_WORDS: usize = 8;

/// Largest grid of the strided 1-D kernels; they loop over whatever is left.
const MAX_GROUPS: u32 = 4096;

/// The training rows resident on the GPU, as the gather sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainData {
    /// Rows held.
    pub rows: usize,
    /// Values per row.
    pub width: usize,
    /// f32 values (tables, series); else bytes, four to a word, each row padded to whole
    /// words.
    pub floats: bool,
}

impl TrainData {
    /// u32 words from one row to the next.
    pub fn stride_words(&self) -> usize {
        if self.floats {
            self.width
        } else {
            self.width.div_ceil(4)
        }
    }
}

/// A buffer bound to a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Tensor(usize),
    /// The training rows: bytes packed four to a u32, or f32 (see [`TrainData`]).
    Rows,
    /// The training labels, one u32 per row.
    Labels,
    /// The step counter.
    State,
    /// The metric accumulators.
    Metrics,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub shader: Shader,
    pub entry: &'static str,
    /// Value of the `TILED` override of `linear.wgsl` (matmul entry points only).
    pub tiled: Option<bool>,
    /// Words of the uniform at binding 0; `None` for a kernel without one.
    pub uniform: Option<[u32; UNIFORM_WORDS]>,
    pub groups: [u32; 3],
    pub bindings: Vec<(u32, Resource)>,
}

fn groups_1d(len: usize, size: usize) -> [u32; 3] {
    [(len.div_ceil(size) as u32).clamp(1, MAX_GROUPS), 1, 1]
}

fn words(values: &[u32]) -> Option<[u32; UNIFORM_WORDS]> {
    let mut out = [0; UNIFORM_WORDS];
    out[..values.len()].copy_from_slice(values);
    Some(out)
}

/// The matmul of `linear.wgsl`: C[M, N] = A(M × K)·B(K × N) with strides.
fn matmul(
    entry: &'static str,
    tiled: bool,
    m: usize,
    n: usize,
    k: usize,
    strides: [usize; 4],
    bindings: Vec<(u32, Resource)>,
) -> Plan {
    let [sam, sak, sbk, sbn] = strides.map(|s| s as u32);
    let use_bias = (entry == "linear_forward") as u32;
    Plan {
        shader: Shader::Linear,
        entry,
        tiled: Some(tiled),
        uniform: Some([m as u32, n as u32, k as u32, use_bias, sam, sak, sbk, sbn]),
        groups: [
            n.div_ceil(64).max(1) as u32,
            m.div_ceil(if tiled { 64 } else { 128 }).max(1) as u32,
            1,
        ],
        bindings,
    }
}

/// Uniform words of `conv.wgsl`: sizes, kernel, stride and padding with height in the low and
/// width in the high 16 bits.
pub fn conv_words(s: &ConvShape) -> [u32; UNIFORM_WORDS] {
    let hw = |h: usize, w: usize| {
        assert!(h < 1 << 16 && w < 1 << 16, "{h} × {w} does not fit 16 bits a side");
        h as u32 | (w as u32) << 16
    };
    [
        s.batch as u32,
        s.c_in as u32,
        s.c_out as u32,
        hw(s.in_h, s.in_w),
        hw(s.out_h, s.out_w),
        hw(s.kernel[0], s.kernel[1]),
        hw(s.stride[0], s.stride[1]),
        hw(s.padding[0], s.padding[1]),
    ]
}

/// A `conv.wgsl` dispatch: one invocation per output element, strided.
fn conv(
    entry: &'static str,
    shape: &ConvShape,
    outputs: usize,
    bindings: Vec<(u32, Resource)>,
) -> Plan {
    Plan {
        shader: Shader::Conv,
        entry,
        tiled: None,
        uniform: Some(conv_words(shape)),
        groups: groups_1d(outputs, 256),
        bindings,
    }
}

/// The plan of `op` on `rows` rows, with `data` resident. `tiled` picks the matmul schedule
/// (see `shaders/linear.wgsl`).
pub fn plan(program: &Program, op: &Op, rows: usize, data: TrainData, tiled: bool) -> Plan {
    let images = data.rows;
    use Resource::{Tensor as T, *};
    let cols = |t: usize| program.tensors[t].cols;
    let spec = &program.spec;
    match *op {
        Op::GatherBatch { x } => Plan {
            shader: Shader::Data,
            entry: if data.floats { "gather_rows" } else { "gather_batch" },
            tiled: None,
            uniform: words(&[
                rows as u32,
                images as u32,
                spec.seed,
                0,
                program.input_size() as u32,
                data.stride_words() as u32,
            ]),
            groups: groups_1d(rows * program.input_size(), 256),
            bindings: vec![(1, State), (if data.floats { 13 } else { 2 }, Rows), (3, T(x))],
        },
        Op::ConvForward { transpose, x, w, b, y, shape } => {
            let shape = ConvShape { batch: rows, ..shape };
            let entry = if transpose { "conv_transpose2d_forward" } else { "conv2d_forward" };
            conv(entry, &shape, shape.y_len(), vec![(1, T(x)), (2, T(w)), (3, T(b)), (5, T(y))])
        }
        Op::ConvBackwardInput { transpose, dy, w, dx, shape } => {
            let shape = ConvShape { batch: rows, ..shape };
            let entry =
                if transpose { "conv_transpose2d_backward_input" } else { "conv2d_backward_input" };
            conv(entry, &shape, shape.x_len(), vec![(2, T(w)), (4, T(dy)), (6, T(dx))])
        }
        Op::ConvBackwardWeight { transpose, x, dy, dw, shape } => {
            let shape = ConvShape { batch: rows, ..shape };
            let entry = if transpose {
                "conv_transpose2d_backward_weight"
            } else {
                "conv2d_backward_weight"
            };
            conv(entry, &shape, shape.w_len(), vec![(1, T(x)), (4, T(dy)), (7, T(dw))])
        }
        Op::ConvBackwardBias { transpose, dy, db, shape } => {
            let shape = ConvShape { batch: rows, ..shape };
            let entry =
                if transpose { "conv_transpose2d_backward_bias" } else { "conv2d_backward_bias" };
            conv(entry, &shape, shape.c_out, vec![(4, T(dy)), (8, T(db))])
        }
        Op::GatherLabels { cond } => Plan {
            shader: Shader::Data,
            entry: "gather_labels",
            tiled: None,
            uniform: words(&[rows as u32, images as u32, spec.seed]),
            groups: groups_1d(rows * CLASSES, 256),
            bindings: vec![(1, State), (6, Labels), (7, T(cond))],
        },
        Op::ConcatColumns { a, c, y } => Plan {
            shader: Shader::Data,
            entry: "concat_columns",
            tiled: None,
            uniform: words(&[rows as u32, cols(a) as u32, 0, cols(c) as u32]),
            groups: groups_1d(rows * cols(y), 256),
            bindings: vec![(8, T(a)), (9, T(c)), (10, T(y))],
        },
        Op::SplitColumnsBackward { dy, da } => Plan {
            shader: Shader::Data,
            entry: "split_columns_backward",
            tiled: None,
            uniform: words(&[rows as u32, cols(da) as u32, 0, cols(dy) as u32]),
            groups: groups_1d(rows * cols(da), 256),
            bindings: vec![(11, T(dy)), (12, T(da))],
        },
        Op::LinearForward { x, w, b, y } => {
            let (i, o) = (cols(x), cols(y));
            matmul(
                "linear_forward",
                tiled,
                rows,
                o,
                i,
                [i, 1, 1, i],
                vec![(1, T(x)), (2, T(w)), (3, T(b)), (4, T(y))],
            )
        }
        Op::LinearBackwardInput { dy, w, dx } => {
            let (i, o) = (cols(dx), cols(dy));
            matmul(
                "linear_backward_input",
                tiled,
                rows,
                i,
                o,
                [o, 1, i, 1],
                vec![(1, T(dy)), (2, T(w)), (3, T(w)), (4, T(dx))],
            )
        }
        Op::LinearBackwardWeight { x, dy, dw } => {
            let (i, o) = (cols(x), cols(dy));
            matmul(
                "linear_backward_weight",
                tiled,
                o,
                i,
                rows,
                [1, o, i, 1],
                vec![(1, T(dy)), (2, T(x)), (3, T(x)), (4, T(dw))],
            )
        }
        Op::LinearBackwardBias { dy, db } => Plan {
            shader: Shader::Linear,
            entry: "linear_backward_bias",
            tiled: None,
            uniform: words(&[rows as u32, cols(dy) as u32]),
            groups: [cols(dy).div_ceil(64) as u32, 1, 1],
            bindings: vec![(1, T(dy)), (4, T(db))],
        },
        Op::ActivationForward { f, x, y } => {
            let len = rows * cols(x);
            Plan {
                shader: Shader::Activation,
                entry: "activation_forward",
                tiled: None,
                uniform: words(&[len as u32, f.code(), LEAKY_SLOPE.to_bits()]),
                groups: groups_1d(len, 256),
                bindings: vec![(1, T(x)), (4, T(y))],
            }
        }
        Op::ActivationBackward { f, y, dy, dx } => {
            let len = rows * cols(y);
            Plan {
                shader: Shader::Activation,
                entry: "activation_backward",
                tiled: None,
                uniform: words(&[len as u32, f.code(), LEAKY_SLOPE.to_bits()]),
                groups: groups_1d(len, 256),
                bindings: vec![(2, T(y)), (3, T(dy)), (4, T(dx))],
            }
        }
        Op::ReparameterizeForward { stats, z } => Plan {
            shader: Shader::Vae,
            entry: "reparameterize_forward",
            tiled: None,
            uniform: words(&[rows as u32, spec.latent as u32, spec.seed, 0]),
            groups: groups_1d(rows * spec.latent, 256),
            bindings: vec![(1, State), (2, T(stats)), (3, T(z))],
        },
        Op::ReparameterizeBackward { stats, dz, dstats } => Plan {
            shader: Shader::Vae,
            entry: "reparameterize_backward",
            tiled: None,
            uniform: words(&[rows as u32, spec.latent as u32, spec.seed, 0]),
            groups: groups_1d(rows * spec.latent, 256),
            bindings: vec![(1, State), (2, T(stats)), (4, T(dz)), (5, T(dstats))],
        },
        Op::KlDivergence { stats, dstats, row_kl } => Plan {
            shader: Shader::Vae,
            entry: "kl_divergence",
            tiled: None,
            uniform: words(&[rows as u32, spec.latent as u32, spec.seed, spec.beta.to_bits()]),
            groups: [rows.div_ceil(64) as u32, 1, 1],
            bindings: vec![(2, T(stats)), (5, T(dstats)), (6, T(row_kl))],
        },
        Op::ReconstructionLoss { loss, logits, target, dlogits, row_loss } => Plan {
            shader: Shader::Loss,
            entry: "reconstruction_loss",
            tiled: None,
            uniform: words(&[
                rows as u32,
                cols(logits) as u32,
                loss.code(),
                (1.0 / rows as f32).to_bits(),
            ]),
            groups: [rows.div_ceil(64) as u32, 1, 1],
            bindings: vec![(1, T(logits)), (2, T(target)), (3, T(dlogits)), (4, T(row_loss))],
        },
        Op::AccumulateMetric { values, slot, per_batch } => Plan {
            shader: Shader::Reduce,
            entry: "accumulate_metric",
            tiled: None,
            uniform: if per_batch {
                words(&[cols(values) as u32, slot as u32, (rows as f32).to_bits()])
            } else {
                words(&[rows as u32, slot as u32, 1f32.to_bits()])
            },
            groups: [1, 1, 1],
            bindings: vec![(1, T(values)), (2, Metrics)],
        },
        Op::AdamUpdate { param } => {
            let p = &program.params[param];
            let o = &spec.optimizer;
            let len = program.tensors[p.value].len();
            Plan {
                shader: Shader::Optim,
                entry: "adam_update",
                tiled: None,
                uniform: words(&[
                    len as u32,
                    o.lr.to_bits(),
                    o.beta1.to_bits(),
                    o.beta2.to_bits(),
                    o.eps.to_bits(),
                ]),
                groups: groups_1d(len, 256),
                bindings: vec![
                    (1, State),
                    (2, T(p.value)),
                    (3, T(p.grad)),
                    (4, T(p.m)),
                    (5, T(p.v)),
                ],
            }
        }
        Op::CorruptInput { x, noisy } => {
            let len = rows * program.input_size();
            let n = spec.noise;
            // Code 3: Gaussian noise on standardised values, not clipped to [0, 1].
            let unclipped = program.shape.output() == Output::Identity;
            let code = if unclipped && n.kind == NoiseKind::Gaussian { 3 } else { n.kind.code() };
            Plan {
                shader: Shader::Data,
                entry: "corrupt_input",
                tiled: None,
                uniform: words(&[len as u32, code, spec.seed, n.amount.to_bits()]),
                groups: groups_1d(len, 256),
                bindings: vec![(1, State), (4, T(x)), (5, T(noisy))],
            }
        }
        Op::SparsityForward { code, rho_hat, unit_penalty } => {
            let sp = spec.sparsity;
            Plan {
                shader: Shader::Penalty,
                entry: "sparsity_forward",
                tiled: None,
                uniform: words(&sparsity_words(rows, cols(code), sp)),
                groups: [cols(code).div_ceil(64) as u32, 1, 1],
                bindings: vec![(1, T(code)), (2, T(rho_hat)), (4, T(unit_penalty))],
            }
        }
        Op::SparsityBackward { code, rho_hat, dcode } => Plan {
            shader: Shader::Penalty,
            entry: "sparsity_backward",
            tiled: None,
            uniform: words(&sparsity_words(rows, cols(code), spec.sparsity)),
            groups: groups_1d(rows * cols(code), 256),
            bindings: vec![(1, T(code)), (3, T(rho_hat)), (5, T(dcode))],
        },
        Op::ContractiveUnitStats { code, w, wnorm, mean_s2 } => Plan {
            shader: Shader::Penalty,
            entry: "contractive_unit_stats",
            tiled: None,
            uniform: words(&contractive_words(rows, cols(code), cols(w), spec)),
            groups: [cols(code).div_ceil(64) as u32, 1, 1],
            bindings: vec![(1, T(code)), (6, T(w)), (7, T(wnorm)), (8, T(mean_s2))],
        },
        Op::ContractivePenalty { code, wnorm, row_penalty } => Plan {
            shader: Shader::Penalty,
            entry: "contractive_penalty",
            tiled: None,
            uniform: words(&contractive_words(rows, cols(code), 0, spec)),
            groups: [rows.div_ceil(64) as u32, 1, 1],
            bindings: vec![(1, T(code)), (7, T(wnorm)), (9, T(row_penalty))],
        },
        Op::ContractiveBackwardCode { code, wnorm, dcode } => Plan {
            shader: Shader::Penalty,
            entry: "contractive_backward_code",
            tiled: None,
            uniform: words(&contractive_words(rows, cols(code), 0, spec)),
            groups: groups_1d(rows * cols(code), 256),
            bindings: vec![(1, T(code)), (5, T(dcode)), (7, T(wnorm))],
        },
        Op::ContractiveBackwardWeight { w, mean_s2, dw } => {
            let (units, inputs) = (program.tensors[w].rows, cols(w));
            Plan {
                shader: Shader::Penalty,
                entry: "contractive_backward_weight",
                tiled: None,
                uniform: words(&contractive_words(rows, units, inputs, spec)),
                groups: groups_1d(units * inputs, 256),
                bindings: vec![(6, T(w)), (8, T(mean_s2)), (10, T(dw))],
            }
        }
        Op::AdvanceStep => Plan {
            shader: Shader::Optim,
            entry: "advance_step",
            tiled: None,
            uniform: None,
            groups: [1, 1, 1],
            bindings: vec![(6, State)],
        },
    }
}

/// Uniform words of `penalty.wgsl`: rows, units, kind, ρ, weight.
/// Uniform words of the contractive entry points (the layout of penalty.wgsl's `Params`).
fn contractive_words(
    rows: usize,
    units: usize,
    inputs: usize,
    spec: &crate::model::ModelSpec,
) -> [u32; 6] {
    let weight = spec.contractive.weight.to_bits();
    [rows as u32, units as u32, 0, 0, weight, inputs as u32]
}

fn sparsity_words(rows: usize, units: usize, sp: crate::model::SparsitySpec) -> [u32; 5] {
    let kind = match sp.penalty {
        crate::model::SparsityPenalty::Kl => 0,
        crate::model::SparsityPenalty::L1 => 1,
    };
    [rows as u32, units as u32, kind, sp.target.to_bits(), sp.weight.to_bits()]
}

#[cfg(test)]
mod tests {
    //! Every plan against its kernel's WGSL, read by naga: the bindings a plan binds are
    //! exactly the ones its entry point uses, and its uniform fits the kernel's `Params`.
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::data::{InputShape, MNIST_SHAPE};
    use crate::model::{ModelKind, ModelSpec, ReconLoss};

    /// Per shader, per entry point: the binding numbers it uses and the size of its uniform.
    fn reflect(shader: Shader) -> HashMap<String, (BTreeSet<u32>, Option<u32>)> {
        let module = naga::front::wgsl::parse_str(shader.source()).expect("the shader parses");
        let info = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .expect("the shader validates");
        let mut out = HashMap::new();
        for (i, ep) in module.entry_points.iter().enumerate() {
            let uses = info.get_entry_point(i);
            let mut bindings = BTreeSet::new();
            let mut uniform = None;
            for (handle, var) in module.global_variables.iter() {
                let (Some(binding), false) = (&var.binding, uses[handle].is_empty()) else {
                    continue;
                };
                bindings.insert(binding.binding);
                if var.space == naga::AddressSpace::Uniform {
                    uniform = Some(module.types[var.ty].inner.size(module.to_ctx()));
                }
            }
            out.insert(ep.name.clone(), (bindings, uniform));
        }
        out
    }

    fn programs() -> Vec<Program> {
        let table = InputShape::Vector { features: 9 };
        let window = InputShape::Series { channels: 2, length: 32 };
        let mut out = vec![];
        for kind in ModelKind::ALL {
            let mut spec = ModelSpec { channels: vec![3, 4], ..ModelSpec::of_kind(kind) };
            let shape = if kind.is_conv1d() { window } else { MNIST_SHAPE };
            out.push(Program::build(&spec, &shape).unwrap());
            if !kind.is_convolutional() {
                spec.loss = ReconLoss::Mse;
                out.push(Program::build(&spec, &table).unwrap());
            }
        }
        out
    }

    #[test]
    fn every_plan_binds_what_its_entry_point_uses_and_fits_its_uniform() {
        let reflected: HashMap<Shader, _> = Shader::ALL.iter().map(|&s| (s, reflect(s))).collect();
        let mut checked = BTreeSet::new();
        for program in programs() {
            let lists =
                [(&program.train, program.batch), (&program.encode, 7), (&program.decode, 7)];
            for floats in [false, true] {
                let data = TrainData { rows: 100, width: program.input_size(), floats };
                for (ops, rows) in lists {
                    for op in ops {
                        let p = plan(&program, op, rows, data, false);
                        let (uses, uniform) = &reflected[&p.shader][p.entry];
                        let mut bound: BTreeSet<u32> = p.bindings.iter().map(|b| b.0).collect();
                        assert_eq!(bound.len(), p.bindings.len(), "{}: a binding twice", p.entry);
                        if p.uniform.is_some() {
                            bound.insert(0);
                        }
                        assert_eq!(&bound, uses, "{}::{}: bound vs used", p.shader.name(), p.entry);
                        if let Some(size) = uniform {
                            assert!(
                                *size as usize <= UNIFORM_WORDS * 4,
                                "{}: Params of {size} bytes",
                                p.entry
                            );
                        }
                        checked.insert(p.entry);
                    }
                }
            }
        }
        // Every entry point of every shader was reached by some program's plan.
        for shader in Shader::ALL {
            for entry in reflected[&shader].keys() {
                assert!(
                    checked.contains(entry.as_str()),
                    "no plan runs {}::{entry}",
                    shader.name()
                );
            }
        }
    }
}
