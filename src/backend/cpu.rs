//! The CPU executor: runs a [`Program`] with the reference kernels of `src/reference.rs`.
//! It is the oracle of the GPU executor and the engine of the browser's no-WebGPU fallback.

use std::sync::Arc;

use crate::backend::Metrics;
use crate::data::{Output, Values};
use crate::model::ConvShape;
use crate::model::{metric, ModelSpec, Op, Program};
use crate::reference as r;
use crate::reference::conv as rc;

pub struct CpuExecutor {
    program: Program,
    tensors: Vec<Vec<f32>>,
    /// The training rows (n × D values), shared with other executors of the same data.
    rows: Values,
    /// One label per training image (conditional models).
    labels: Option<Vec<u8>>,
    step: u32,
    pending: Vec<Metrics>,
}

impl CpuExecutor {
    pub fn new(program: Program, train_images: &[u8]) -> Self {
        Self::with_rows(program, Values::Bytes(Arc::from(train_images)))
    }

    /// An executor that trains from `rows` without copying them (none: it only runs
    /// inference until it is given some).
    pub fn with_rows(program: Program, rows: Values) -> Self {
        let tensors = program.tensors.iter().map(|t| vec![0.0; t.len()]).collect();
        let mut ex = CpuExecutor { program, tensors, rows, labels: None, step: 0, pending: vec![] };
        let init = ex.program.initial_params();
        ex.set_params(&init);
        ex
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn step(&self) -> u32 {
        self.step
    }

    /// Swaps in a spec with the same architecture (checked by the caller).
    pub fn set_spec(&mut self, spec: ModelSpec) {
        self.program.spec = spec;
    }

    /// New training rows; their labels must be set again.
    pub fn set_train_rows(&mut self, rows: Values) {
        self.rows = rows;
        self.labels = None;
    }

    /// Labels of the training images, one per image (checked by the caller).
    pub fn set_train_labels(&mut self, labels: &[u8]) {
        self.labels = Some(labels.to_vec());
    }

    pub fn has_labels(&self) -> bool {
        self.labels.is_some()
    }

    pub fn train_rows(&self) -> usize {
        self.rows.len() / self.program.input_size()
    }

    /// Replaces the parameters and restarts the optimizer (moments zero, step 0).
    pub fn set_params(&mut self, values: &[Vec<f32>]) {
        for (p, v) in self.program.params.iter().zip(values) {
            self.tensors[p.value].copy_from_slice(v);
            self.tensors[p.m].fill(0.0);
            self.tensors[p.v].fill(0.0);
        }
        self.step = 0;
    }

    pub fn params(&self) -> Vec<Vec<f32>> {
        self.program.params.iter().map(|p| self.tensors[p.value].clone()).collect()
    }

    /// The `k`-th parameter in [`Program::params`] order.
    pub fn param(&self, k: usize) -> Vec<f32> {
        self.tensors[self.program.params[k].value].clone()
    }

    /// Runs `steps` training steps and queues their metrics.
    pub fn train(&mut self, steps: u32) {
        let mut sums = [0f32; metric::COUNT];
        let ops = std::mem::take(&mut self.program.train);
        let first = self.step;
        for _ in 0..steps {
            for op in &ops {
                self.run(op, self.program.batch, &mut sums);
            }
        }
        self.program.train = ops;
        self.pending.push(Metrics::from_sums(first, steps, self.program.batch, &sums));
    }

    pub fn take_metrics(&mut self) -> Vec<Metrics> {
        std::mem::take(&mut self.pending)
    }

    /// Encoder outputs of up to `infer_rows` images.
    pub fn encode_chunk(&mut self, pixels: &[f32], cond: Option<&[f32]>) -> Vec<f32> {
        let rows = pixels.len() / self.program.input_size();
        self.tensors[self.program.infer_x][..pixels.len()].copy_from_slice(pixels);
        self.write_cond(cond);
        self.run_list(ListKind::Encode, rows);
        let width = self.program.stats_width();
        self.tensors[self.program.infer_stats][..rows * width].to_vec()
    }

    /// Images decoded from up to `infer_rows` latent vectors.
    pub fn decode_chunk(&mut self, z: &[f32], cond: Option<&[f32]>) -> Vec<f32> {
        let rows = z.len() / self.program.spec.latent;
        self.tensors[self.program.infer_z][..z.len()].copy_from_slice(z);
        self.write_cond(cond);
        self.run_list(ListKind::Decode, rows);
        self.tensors[self.program.infer_image][..rows * self.program.input_size()].to_vec()
    }

    fn write_cond(&mut self, cond: Option<&[f32]>) {
        if let (Some(t), Some(c)) = (self.program.infer_cond, cond) {
            self.tensors[t][..c.len()].copy_from_slice(c);
        }
    }

    fn run_list(&mut self, kind: ListKind, rows: usize) {
        let ops = match kind {
            ListKind::Encode => std::mem::take(&mut self.program.encode),
            ListKind::Decode => std::mem::take(&mut self.program.decode),
        };
        let mut sums = [0f32; metric::COUNT];
        for op in &ops {
            self.run(op, rows, &mut sums);
        }
        match kind {
            ListKind::Encode => self.program.encode = ops,
            ListKind::Decode => self.program.decode = ops,
        }
    }

    fn run(&mut self, op: &Op, rows: usize, sums: &mut [f32; metric::COUNT]) {
        let spec = &self.program.spec;
        let seed = spec.seed;
        let cols = |t: usize| self.program.tensors[t].cols;
        // Take the written tensor out so the read ones can be borrowed alongside it.
        let t = &mut self.tensors;
        match *op {
            Op::GatherBatch { x } => {
                let d = self.program.input_size();
                let n = self.rows.len() / d;
                match &self.rows {
                    Values::Bytes(b) => r::gather_batch(b, d, &mut t[x], rows, n, seed, self.step),
                    Values::Floats(f) => r::gather_rows(f, d, &mut t[x], rows, n, seed, self.step),
                }
            }
            Op::LinearForward { x, w, b, y } => {
                let (i, o) = (cols(x), cols(y));
                let mut out = std::mem::take(&mut t[y]);
                r::linear_forward(&t[x], &t[w], &t[b], &mut out, rows, i, o);
                t[y] = out;
            }
            Op::LinearBackwardInput { dy, w, dx } => {
                let (i, o) = (cols(dx), cols(dy));
                let mut out = std::mem::take(&mut t[dx]);
                r::linear_backward_input(&t[dy], &t[w], &mut out, rows, i, o);
                t[dx] = out;
            }
            Op::LinearBackwardWeight { x, dy, dw } => {
                let (i, o) = (cols(x), cols(dy));
                let mut out = std::mem::take(&mut t[dw]);
                r::linear_backward_weight(&t[x], &t[dy], &mut out, rows, i, o);
                t[dw] = out;
            }
            Op::LinearBackwardBias { dy, db } => {
                let o = cols(dy);
                let mut out = std::mem::take(&mut t[db]);
                r::linear_backward_bias(&t[dy], &mut out, rows, o);
                t[db] = out;
            }
            Op::ActivationForward { f, x, y } => {
                let n = rows * cols(x);
                let mut out = std::mem::take(&mut t[y]);
                r::activation_forward(f, &t[x][..n], &mut out[..n]);
                t[y] = out;
            }
            Op::ActivationBackward { f, y, dy, dx } => {
                let n = rows * cols(y);
                let mut out = std::mem::take(&mut t[dx]);
                r::activation_backward(f, &t[y][..n], &t[dy][..n], &mut out[..n]);
                t[dx] = out;
            }
            Op::ReparameterizeForward { stats, z } => {
                let mut out = std::mem::take(&mut t[z]);
                r::reparameterize_forward(&t[stats], &mut out, rows, spec.latent, seed, self.step);
                t[z] = out;
            }
            Op::ReparameterizeBackward { stats, dz, dstats } => {
                let mut out = std::mem::take(&mut t[dstats]);
                r::reparameterize_backward(
                    &t[stats],
                    &t[dz],
                    &mut out,
                    rows,
                    spec.latent,
                    seed,
                    self.step,
                );
                t[dstats] = out;
            }
            Op::KlDivergence { stats, dstats, row_kl } => {
                let beta = spec.beta;
                let mut d = std::mem::take(&mut t[dstats]);
                let mut k = std::mem::take(&mut t[row_kl]);
                r::kl_divergence(&t[stats], &mut d, &mut k, rows, spec.latent, beta);
                t[dstats] = d;
                t[row_kl] = k;
            }
            Op::ReconstructionLoss { loss, logits, target, dlogits, row_loss } => {
                let mut d = std::mem::take(&mut t[dlogits]);
                let mut l = std::mem::take(&mut t[row_loss]);
                r::reconstruction_loss(
                    loss,
                    &t[logits],
                    &t[target],
                    &mut d,
                    &mut l,
                    rows,
                    cols(logits),
                );
                t[dlogits] = d;
                t[row_loss] = l;
            }
            Op::AccumulateMetric { values, slot, per_batch } => {
                if per_batch {
                    r::accumulate_metric(&t[values], sums, slot, rows as f32);
                } else {
                    r::accumulate_metric(&t[values][..rows], sums, slot, 1.0);
                }
            }
            Op::CorruptInput { x, noisy } => {
                let n = rows * self.program.input_size();
                let mut out = std::mem::take(&mut t[noisy]);
                let noise = spec.noise;
                r::corrupt_input(
                    noise.kind,
                    noise.amount,
                    self.program.shape.output() == Output::Sigmoid,
                    &t[x][..n],
                    &mut out[..n],
                    seed,
                    self.step,
                );
                t[noisy] = out;
            }
            Op::SparsityForward { code, rho_hat, unit_penalty } => {
                let sp = spec.sparsity;
                let (mut rho, mut unit) =
                    (std::mem::take(&mut t[rho_hat]), std::mem::take(&mut t[unit_penalty]));
                r::sparsity_forward(
                    sp.penalty,
                    sp.target,
                    &t[code],
                    &mut rho,
                    &mut unit,
                    rows,
                    cols(code),
                );
                (t[rho_hat], t[unit_penalty]) = (rho, unit);
            }
            Op::SparsityBackward { code, rho_hat, dcode } => {
                let sp = spec.sparsity;
                let mut d = std::mem::take(&mut t[dcode]);
                r::sparsity_backward(
                    sp.penalty,
                    sp.target,
                    sp.weight,
                    &t[code],
                    &t[rho_hat],
                    &mut d,
                    rows,
                    cols(code),
                );
                t[dcode] = d;
            }
            Op::ConvForward { transpose, x, w, b, y, shape } => {
                let shape = ConvShape { batch: rows, ..shape };
                let mut out = std::mem::take(&mut t[y]);
                let f = if transpose { rc::conv_transpose2d_forward } else { rc::conv2d_forward };
                f(&t[x][..shape.x_len()], &t[w], &t[b], &mut out[..shape.y_len()], &shape);
                t[y] = out;
            }
            Op::ConvBackwardInput { transpose, dy, w, dx, shape } => {
                let shape = ConvShape { batch: rows, ..shape };
                let mut out = std::mem::take(&mut t[dx]);
                let f = if transpose {
                    rc::conv_transpose2d_backward_input
                } else {
                    rc::conv2d_backward_input
                };
                f(&t[dy][..shape.y_len()], &t[w], &mut out[..shape.x_len()], &shape);
                t[dx] = out;
            }
            Op::ConvBackwardWeight { transpose, x, dy, dw, shape } => {
                let shape = ConvShape { batch: rows, ..shape };
                let mut out = std::mem::take(&mut t[dw]);
                let f = if transpose {
                    rc::conv_transpose2d_backward_weight
                } else {
                    rc::conv2d_backward_weight
                };
                f(&t[x][..shape.x_len()], &t[dy][..shape.y_len()], &mut out, &shape);
                t[dw] = out;
            }
            Op::ConvBackwardBias { transpose, dy, db, shape } => {
                let shape = ConvShape { batch: rows, ..shape };
                let mut out = std::mem::take(&mut t[db]);
                let f = if transpose {
                    rc::conv_transpose2d_backward_bias
                } else {
                    rc::conv2d_backward_bias
                };
                f(&t[dy][..shape.y_len()], &mut out, &shape);
                t[db] = out;
            }
            Op::GatherLabels { cond } => {
                let labels = self.labels.as_deref().expect("checked before training");
                r::gather_labels(labels, &mut t[cond], rows, seed, self.step);
            }
            Op::ConcatColumns { a, c, y } => {
                let mut out = std::mem::take(&mut t[y]);
                r::concat_columns(&t[a], &t[c], &mut out, rows, cols(a), cols(c));
                t[y] = out;
            }
            Op::SplitColumnsBackward { dy, da } => {
                let mut out = std::mem::take(&mut t[da]);
                r::split_columns_backward(&t[dy], &mut out, rows, cols(da), cols(dy));
                t[da] = out;
            }
            Op::ContractiveUnitStats { code, w, wnorm, mean_s2 } => {
                let (mut n, mut s2) =
                    (std::mem::take(&mut t[wnorm]), std::mem::take(&mut t[mean_s2]));
                r::contractive_unit_stats(
                    &t[code],
                    &t[w],
                    &mut n,
                    &mut s2,
                    rows,
                    cols(code),
                    cols(w),
                );
                (t[wnorm], t[mean_s2]) = (n, s2);
            }
            Op::ContractivePenalty { code, wnorm, row_penalty } => {
                let mut out = std::mem::take(&mut t[row_penalty]);
                r::contractive_penalty(&t[code], &t[wnorm], &mut out, rows, cols(code));
                t[row_penalty] = out;
            }
            Op::ContractiveBackwardCode { code, wnorm, dcode } => {
                let weight = spec.contractive.weight;
                let mut d = std::mem::take(&mut t[dcode]);
                r::contractive_backward_code(weight, &t[code], &t[wnorm], &mut d, rows, cols(code));
                t[dcode] = d;
            }
            Op::ContractiveBackwardWeight { w, mean_s2, dw } => {
                let weight = spec.contractive.weight;
                let (units, inputs) = (self.program.tensors[w].rows, cols(w));
                let mut d = std::mem::take(&mut t[dw]);
                r::contractive_backward_weight(weight, &t[w], &t[mean_s2], &mut d, units, inputs);
                t[dw] = d;
            }
            Op::AdamUpdate { param } => {
                let p = &self.program.params[param];
                let o = &spec.optimizer;
                let (mut value, mut m, mut v) = (
                    std::mem::take(&mut t[p.value]),
                    std::mem::take(&mut t[p.m]),
                    std::mem::take(&mut t[p.v]),
                );
                r::adam_update(
                    &mut value, &t[p.grad], &mut m, &mut v, o.lr, o.beta1, o.beta2, o.eps,
                    self.step,
                );
                (t[p.value], t[p.m], t[p.v]) = (value, m, v);
            }
            Op::AdvanceStep => self.step += 1,
        }
    }
}

enum ListKind {
    Encode,
    Decode,
}
