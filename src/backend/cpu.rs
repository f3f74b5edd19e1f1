//! The CPU executor: runs a [`Program`] with each op's CPU function (`src/ops/`; the matrix
//! products through `matrixmultiply`, threaded natively, simd128 in wasm).
//! It is the oracle of the GPU executor and the browser's CPU engine (no WebGPU, or a software one).

use std::sync::Arc;

use crate::backend::{add_time, Metrics};
use crate::data::Values;
use crate::model::{metric, ModelSpec, Program};
use crate::ops::{Cpu, Op};

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
        let first = self.step;
        crate::ops::par::hot(|| {
            for _ in 0..steps {
                self.zero_gradients();
                self.run(List::Train, self.program.batch, &mut sums);
            }
        });
        self.pending.push(Metrics::from_sums(first, steps, self.program.batch, &sums));
    }

    /// Every gradient starts the step at zero; the backward ops add to it.
    fn zero_gradients(&mut self) {
        for &t in &self.program.gradients {
            crate::ops::par::zero(&mut self.tensors[t]);
        }
    }

    /// Runs `steps` training steps timing each op with `clock` (seconds): the seconds spent
    /// in each op kind, most first. The steps count as trained.
    pub fn train_profiled(
        &mut self,
        steps: u32,
        clock: &(dyn Fn() -> f64 + Sync),
    ) -> Vec<(&'static str, f64)> {
        let mut sums = [0f32; metric::COUNT];
        let mut seconds: Vec<(&'static str, f64)> = vec![];
        let first = self.step;
        crate::ops::par::hot(|| {
            for _ in 0..steps {
                let t = clock();
                self.zero_gradients();
                add_time(&mut seconds, "ZeroGradients", clock() - t);
                for k in 0..self.program.train.len() {
                    let t = clock();
                    self.run_range(List::Train, k..k + 1, self.program.batch, &mut sums);
                    add_time(&mut seconds, self.program.train[k].name(), clock() - t);
                }
            }
        });
        self.pending.push(Metrics::from_sums(first, steps, self.program.batch, &sums));
        seconds.sort_by(|a, b| b.1.total_cmp(&a.1));
        seconds
    }

    pub fn take_metrics(&mut self) -> Vec<Metrics> {
        std::mem::take(&mut self.pending)
    }

    /// Encoder outputs of up to `infer_rows` images.
    pub fn encode_chunk(&mut self, pixels: &[f32], cond: Option<&[f32]>) -> Vec<f32> {
        let rows = pixels.len() / self.program.input_size();
        self.tensors[self.program.infer_x][..pixels.len()].copy_from_slice(pixels);
        self.write_cond(cond);
        self.run_list(List::Encode, rows);
        let width = self.program.stats_width();
        self.tensors[self.program.infer_stats][..rows * width].to_vec()
    }

    /// Images decoded from up to `infer_rows` latent vectors.
    pub fn decode_chunk(&mut self, z: &[f32], cond: Option<&[f32]>) -> Vec<f32> {
        let rows = z.len() / self.program.spec.latent;
        self.tensors[self.program.infer_z][..z.len()].copy_from_slice(z);
        self.write_cond(cond);
        self.run_list(List::Decode, rows);
        self.tensors[self.program.infer_image][..rows * self.program.input_size()].to_vec()
    }

    fn write_cond(&mut self, cond: Option<&[f32]>) {
        if let (Some(t), Some(c)) = (self.program.infer_cond, cond) {
            self.tensors[t][..c.len()].copy_from_slice(c);
        }
    }

    fn run_list(&mut self, list: List, rows: usize) {
        self.run(list, rows, &mut [0f32; metric::COUNT]);
    }

    /// Runs one op list on `rows` rows: each op's own CPU function.
    fn run(&mut self, list: List, rows: usize, sums: &mut [f32; metric::COUNT]) {
        let len = list.of(&self.program).len();
        self.run_range(list, 0..len, rows, sums);
    }

    /// Runs the ops `range` of one list.
    fn run_range(
        &mut self,
        list: List,
        range: std::ops::Range<usize>,
        rows: usize,
        sums: &mut [f32; metric::COUNT],
    ) {
        let p = &self.program;
        let ops = list.of(p);
        let mut cx = Cpu {
            tensors: &mut self.tensors,
            descs: &p.tensors,
            spec: &p.spec,
            shape: p.shape,
            rows,
            step: &mut self.step,
            data: &self.rows,
            labels: self.labels.as_deref(),
            metrics: sums,
        };
        for op in &ops[range] {
            op.kernel().cpu(&mut cx);
        }
    }
}

#[derive(Clone, Copy)]
enum List {
    Train,
    Encode,
    Decode,
}

impl List {
    fn of(self, p: &Program) -> &[Op] {
        match self {
            List::Train => &p.train,
            List::Encode => &p.encode,
            List::Decode => &p.decode,
        }
    }
}
