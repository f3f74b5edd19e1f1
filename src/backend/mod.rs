//! Two executors of one [`Program`]: the CPU reference and the WGSL GPU executor.
//!
//! [`Executor`] gives both the same API, so the trainer, the CLI and the web API never care
//! which one runs.

pub mod cpu;
pub mod gpu;

use std::sync::Arc;

use crate::data::Values;
use crate::error::{Error, Result};
use crate::limits::Budget;
use crate::model::{metric, ModelSpec, Program, CLASSES};
use crate::rng;

pub use cpu::CpuExecutor;
pub use gpu::{GpuContext, GpuDataset, GpuExecutor, KernelTimes};

/// Adds `t` seconds to the op `name`'s row of a profile.
fn add_time(seconds: &mut Vec<(&'static str, f64)>, name: &'static str, t: f64) {
    match seconds.iter_mut().find(|(n, _)| *n == name) {
        Some((_, s)) => *s += t,
        None => seconds.push((name, t)),
    }
}

/// Mean losses over a run of consecutive training steps.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Step counter before the first of these steps.
    pub first_step: u32,
    pub steps: u32,
    /// Reconstruction loss per row (summed over its values), mean over the steps' rows.
    pub recon: f32,
    /// KL divergence per image (0 for a plain AE).
    pub kl: f32,
    /// The kind's own penalty per image, unweighted: the sparse AE's sparsity, the
    /// contractive AE's ‖∂code/∂h‖²; else 0.
    pub penalty: f32,
}

impl Metrics {
    pub fn from_sums(first_step: u32, steps: u32, batch: usize, sums: &[f32]) -> Self {
        let n = (steps as usize * batch).max(1) as f32;
        Metrics {
            first_step,
            steps,
            recon: sums[metric::RECON] / n,
            kl: sums[metric::KL] / n,
            penalty: sums[metric::PENALTY] / n,
        }
    }
    pub fn is_finite(&self) -> bool {
        self.recon.is_finite() && self.kl.is_finite() && self.penalty.is_finite()
    }
}

/// Which executor runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Cpu,
    Gpu,
}

/// Encoder output of a batch of images.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub rows: usize,
    pub latent: usize,
    /// rows × Z: the code of an AE, μ of a VAE.
    pub mu: Vec<f32>,
    /// rows × Z: log σ² of a VAE; `None` for an AE.
    pub logvar: Option<Vec<f32>>,
}

pub enum Executor {
    Cpu(Box<CpuExecutor>),
    Gpu(Box<GpuExecutor>),
}

impl Executor {
    pub fn cpu(program: Program, train_images: &[u8]) -> Self {
        Executor::Cpu(Box::new(CpuExecutor::new(program, train_images)))
    }

    pub async fn gpu(ctx: &GpuContext, program: Program, train_images: &[u8]) -> Result<Self> {
        Ok(Executor::Gpu(Box::new(GpuExecutor::new(ctx, program, train_images).await?)))
    }

    /// The CPU executor over training rows shared with other executors (empty: none yet).
    pub fn cpu_sharing(program: Program, rows: Values) -> Self {
        Executor::Cpu(Box::new(CpuExecutor::with_rows(program, rows)))
    }

    /// The GPU executor over its own copy of training rows of any value type.
    pub async fn gpu_rows(ctx: &GpuContext, program: Program, rows: &Values) -> Result<Self> {
        let data = GpuDataset::upload(ctx, rows, program.input_size(), None)?;
        Ok(Executor::Gpu(Box::new(GpuExecutor::with_data(ctx, program, Some(data)).await?)))
    }

    /// The GPU executor over a data set already on the GPU (`None`: none yet).
    pub async fn gpu_sharing(
        ctx: &GpuContext,
        program: Program,
        data: Option<GpuDataset>,
    ) -> Result<Self> {
        Ok(Executor::Gpu(Box::new(GpuExecutor::with_data(ctx, program, data).await?)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Executor::Cpu(_) => Backend::Cpu,
            Executor::Gpu(_) => Backend::Gpu,
        }
    }

    pub fn program(&self) -> &Program {
        match self {
            Executor::Cpu(e) => e.program(),
            Executor::Gpu(e) => e.program(),
        }
    }

    /// Changes the live fields of the spec (β, the optimizer, the noise, the sparsity
    /// settings) between steps, keeping weights, Adam moments and the step count. A spec
    /// with another architecture is refused and nothing changes.
    pub fn set_spec(&mut self, spec: ModelSpec) -> Result<()> {
        spec.validate_for(&self.program().shape)?;
        if !self.program().spec.same_architecture(&spec) {
            return Err(Error::Input(
                "only beta, optimizer, noise, sparsity and contraction can change while a model \
                 trains; reset to change the architecture"
                    .into(),
            ));
        }
        match self {
            Executor::Cpu(e) => e.set_spec(spec),
            Executor::Gpu(e) => e.set_spec(spec),
        }
        Ok(())
    }

    /// Steps trained so far (as recorded; the GPU may still be running them).
    pub fn step(&self) -> u32 {
        match self {
            Executor::Cpu(e) => e.step(),
            Executor::Gpu(e) => e.step(),
        }
    }

    /// Runs (CPU) or submits (GPU) `steps` training steps. On the GPU this returns as soon
    /// as the work is queued, unless the metrics ring is full.
    pub async fn train(&mut self, steps: u32) -> Result<()> {
        if self.train_rows() == 0 {
            return Err(Error::Input("there are no training rows to train on yet".into()));
        }
        if self.program().spec.kind.is_conditional() && !self.has_labels() {
            return Err(Error::Input(
                "a conditional model trains on labelled digits: set the training labels first"
                    .into(),
            ));
        }
        match self {
            Executor::Cpu(e) => {
                e.train(steps);
                Ok(())
            }
            Executor::Gpu(e) => e.train(steps).await,
        }
    }

    /// Metrics of finished steps, without waiting.
    pub fn poll_metrics(&mut self) -> Result<Vec<Metrics>> {
        match self {
            Executor::Cpu(e) => Ok(e.take_metrics()),
            Executor::Gpu(e) => e.poll_metrics(),
        }
    }

    /// Waits for every submitted step and returns the metrics not yet returned.
    pub async fn finish(&mut self) -> Result<Vec<Metrics>> {
        match self {
            Executor::Cpu(e) => Ok(e.take_metrics()),
            Executor::Gpu(e) => e.finish().await,
        }
    }

    /// New training images (bytes, value / 255).
    pub async fn set_train_images(&mut self, images: &[u8]) -> Result<()> {
        self.share_train_rows(Values::Bytes(Arc::from(images)), None).await
    }

    /// Training rows shared with other executors: the CPU's values and, on the GPU, the
    /// data set uploaded once for the context (`None`: uploaded here). Their labels must be
    /// set again.
    pub async fn share_train_rows(
        &mut self,
        rows: Values,
        on_gpu: Option<GpuDataset>,
    ) -> Result<()> {
        let d = self.program().input_size();
        if !rows.len().is_multiple_of(d) {
            return Err(Error::Input(format!(
                "{} training values are not whole rows of {d}",
                rows.len()
            )));
        }
        match (self, on_gpu) {
            (Executor::Cpu(e), _) => {
                e.set_train_rows(rows);
                Ok(())
            }
            (Executor::Gpu(e), Some(data)) => e.set_data(data).await,
            (Executor::Gpu(e), None) => e.set_train_rows(&rows).await,
        }
    }

    /// Training rows the executor holds.
    pub fn train_rows(&self) -> usize {
        match self {
            Executor::Cpu(e) => e.train_rows(),
            Executor::Gpu(e) => e.train_rows(),
        }
    }

    /// The label (0–9) of each training image, for conditional models; every other model
    /// ignores them.
    pub fn set_train_labels(&mut self, labels: &[u8]) -> Result<()> {
        let rows = self.train_rows();
        if labels.len() != rows {
            return Err(Error::Input(format!(
                "{} training labels for {rows} training rows",
                labels.len()
            )));
        }
        check_labels(labels)?;
        match self {
            Executor::Cpu(e) => e.set_train_labels(labels),
            Executor::Gpu(e) => e.set_train_labels(labels),
        }
        Ok(())
    }

    fn has_labels(&self) -> bool {
        match self {
            Executor::Cpu(e) => e.has_labels(),
            Executor::Gpu(e) => e.has_labels(),
        }
    }

    /// One-hot rows for an inference call of `rows` rows: `None` for an unconditional model,
    /// an error if a conditional one gets no labels or the wrong number.
    fn condition(&self, labels: Option<&[u8]>, rows: usize) -> Result<Option<Vec<f32>>> {
        if !self.program().spec.kind.is_conditional() {
            return Ok(None);
        }
        let labels = labels.ok_or_else(|| {
            Error::Input("a conditional model needs a label (0–9) for each row".into())
        })?;
        if labels.len() != rows {
            return Err(Error::Input(format!("{} labels for {rows} rows", labels.len())));
        }
        check_labels(labels)?;
        let mut cond = vec![0.0; rows * CLASSES];
        for (row, &l) in cond.chunks_exact_mut(CLASSES).zip(labels) {
            row[l as usize] = 1.0;
        }
        Ok(Some(cond))
    }

    /// Current parameter values, in [`Program::params`] order.
    pub async fn params(&mut self) -> Result<Vec<Vec<f32>>> {
        match self {
            Executor::Cpu(e) => Ok(e.params()),
            Executor::Gpu(e) => e.params().await,
        }
    }

    /// The current value of one parameter, by name (e.g. `encoder.conv.0.weight`); reads
    /// only that tensor back from the GPU.
    pub async fn param(&mut self, name: &str) -> Result<Vec<f32>> {
        let k = self
            .program()
            .params
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| Error::Input(format!("the model has no parameter {name}")))?;
        match self {
            Executor::Cpu(e) => Ok(e.param(k)),
            Executor::Gpu(e) => e.param(k).await,
        }
    }

    /// Replaces every parameter and restarts the optimizer.
    pub fn set_params(&mut self, values: &[Vec<f32>]) -> Result<()> {
        let program = self.program();
        if values.len() != program.params.len() {
            return Err(Error::Input(format!(
                "expected {} parameter tensors, got {}",
                program.params.len(),
                values.len()
            )));
        }
        for (p, v) in program.params.iter().zip(values) {
            if v.len() != program.tensors[p.value].len() {
                return Err(Error::Input(format!(
                    "`{}` needs {} values, got {}",
                    p.name,
                    program.tensors[p.value].len(),
                    v.len()
                )));
            }
        }
        match self {
            Executor::Cpu(e) => {
                e.set_params(values);
                Ok(())
            }
            Executor::Gpu(e) => e.set_params(values),
        }
    }

    /// Encodes `pixels` (n × D: images in [0, 1], or standardised rows).
    pub async fn encode(&mut self, pixels: &[f32]) -> Result<Encoded> {
        self.encode_labeled(pixels, None).await
    }

    /// Encodes `pixels` with their labels (required by a conditional model).
    pub async fn encode_labeled(
        &mut self,
        pixels: &[f32],
        labels: Option<&[u8]>,
    ) -> Result<Encoded> {
        let d = self.program().input_size();
        check_input(pixels, d, "encode", "pixels")?;
        let cond = self.condition(labels, pixels.len() / d)?;
        let (width, latent) = (self.program().stats_width(), self.program().spec.latent);
        let cap = self.program().infer_rows;
        let mut stats = Vec::with_capacity(pixels.len() / d * width);
        for (k, chunk) in pixels.chunks(cap * d).enumerate() {
            let c = cond.as_deref().map(|c| chunk_of(c, k, cap * CLASSES));
            stats.extend(match self {
                Executor::Cpu(e) => e.encode_chunk(chunk, c),
                Executor::Gpu(e) => e.encode_chunk(chunk, c).await?,
            });
        }
        let rows = stats.len() / width;
        if width == latent {
            return Ok(Encoded { rows, latent, mu: stats, logvar: None });
        }
        let mut mu = Vec::with_capacity(rows * latent);
        let mut logvar = Vec::with_capacity(rows * latent);
        for row in stats.chunks(width) {
            mu.extend_from_slice(&row[..latent]);
            logvar.extend_from_slice(&row[latent..]);
        }
        Ok(Encoded { rows, latent, mu, logvar: Some(logvar) })
    }

    /// Decodes latent vectors (n × Z) to rows (n × D: images in [0, 1], or standardised).
    pub async fn decode(&mut self, z: &[f32]) -> Result<Vec<f32>> {
        self.decode_labeled(z, None).await
    }

    /// Decodes latent vectors with labels (required by a conditional model).
    pub async fn decode_labeled(&mut self, z: &[f32], labels: Option<&[u8]>) -> Result<Vec<f32>> {
        let latent = self.program().spec.latent;
        check_input(z, latent, "decode", "z")?;
        let cond = self.condition(labels, z.len() / latent)?;
        let cap = self.program().infer_rows;
        let mut out = Vec::with_capacity(z.len() / latent * self.program().input_size());
        for (k, chunk) in z.chunks(cap * latent).enumerate() {
            let c = cond.as_deref().map(|c| chunk_of(c, k, cap * CLASSES));
            out.extend(match self {
                Executor::Cpu(e) => e.decode_chunk(chunk, c),
                Executor::Gpu(e) => e.decode_chunk(chunk, c).await?,
            });
        }
        Ok(out)
    }

    /// Decodes the code (AE) or the mean μ (VAE) of each image: deterministic.
    pub async fn reconstruct(&mut self, pixels: &[f32]) -> Result<Vec<f32>> {
        self.reconstruct_labeled(pixels, None).await
    }

    /// [`Executor::reconstruct`] with labels (required by a conditional model).
    pub async fn reconstruct_labeled(
        &mut self,
        pixels: &[f32],
        labels: Option<&[u8]>,
    ) -> Result<Vec<f32>> {
        check_input(pixels, self.program().input_size(), "reconstruct", "pixels")?;
        let enc = self.encode_labeled(pixels, labels).await?;
        self.decode_labeled(&enc.mu, labels).await
    }

    /// `n` images decoded from z ~ N(0, 1), drawn from the counter-based RNG at `seed`.
    pub async fn sample(&mut self, n: usize, seed: u32) -> Result<Vec<f32>> {
        self.sample_labeled(n, seed, None).await
    }

    /// [`Executor::sample`] with a label per sample (required by a conditional model).
    pub async fn sample_labeled(
        &mut self,
        n: usize,
        seed: u32,
        labels: Option<&[u8]>,
    ) -> Result<Vec<f32>> {
        Budget::HERE.check_rows("sample", n)?;
        let z = standard_normal(n * self.program().spec.latent, seed, rng::stream::SAMPLE);
        self.decode_labeled(&z, labels).await
    }
}

/// The `k`-th chunk of `len` values of `v` (the last may be shorter).
fn chunk_of(v: &[f32], k: usize, len: usize) -> &[f32] {
    &v[k * len..((k + 1) * len).min(v.len())]
}

fn check_labels(labels: &[u8]) -> Result<()> {
    match labels.iter().find(|&&l| l as usize >= CLASSES) {
        Some(l) => Err(Error::Input(format!("label {l}: expected a digit from 0 to 9"))),
        None => Ok(()),
    }
}

/// `len` draws of N(0, 1) from (seed, stream).
pub fn standard_normal(len: usize, seed: u32, stream: u32) -> Vec<f32> {
    (0..len as u32).map(|i| rng::normal(seed, stream, 0, i)).collect()
}

/// Checks the input of an inference request before anything is allocated for it: whole
/// rows of `width` values, no more rows than the budget allows, every value finite.
fn check_input(values: &[f32], width: usize, request: &str, what: &str) -> Result<()> {
    if !values.len().is_multiple_of(width) {
        return Err(Error::Input(format!(
            "{what} has {} values, not a multiple of {width} (one row is {width} values)",
            values.len()
        )));
    }
    Budget::HERE.check_rows(request, values.len() / width)?;
    check_finite(values, width, what)
}

/// Refuses a NaN or an infinity among `values` (rows of `width`), saying where it is.
pub fn check_finite(values: &[f32], width: usize, what: &str) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::Input(format!(
            "{what}[{i}] (row {}) is {}: every value must be a finite number",
            i / width.max(1),
            values[i]
        ))),
    }
}
