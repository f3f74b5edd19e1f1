//! `latent-lab train`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use latent_lab::data::InputShape;
use latent_lab::model::{ModelSpec, Program};
use latent_lab::train::{evaluate, steps_for_epochs, Evaluation};
use latent_lab::weights::{save_weights, ModelInfo, Tensor};
use latent_lab::{Backend, Executor, Metrics};

use crate::args::{ModelArgs, TrainArgs};
use crate::shared::{self, emit, fail, object, round, EvalLine, Result};

/// Default length of a run.
const DEFAULT_EPOCHS: f64 = 10.0;

/// Most steps per submit: the GPU gets long submits (few readbacks), the CPU short ones
/// (frequent progress).
pub fn steps_per_submit(backend: Backend) -> u32 {
    match backend {
        Backend::Gpu => 50,
        Backend::Cpu => 10,
    }
}

/// Steps per submit of a run of `total` steps: at most [`steps_per_submit`], and small enough
/// for about 20 progress reports however short the run.
fn submit_size(backend: Backend, total: u32) -> u32 {
    (total / 20).clamp(1, steps_per_submit(backend))
}

impl ModelArgs {
    /// Steps of the run: `--steps`, or `--epochs` (10 by default) over `rows` rows.
    pub fn steps_for(&self, rows: usize, batch: usize) -> u32 {
        match self.steps {
            Some(s) => s,
            None => steps_for_epochs(self.epochs.unwrap_or(DEFAULT_EPOCHS), rows, batch),
        }
    }
}

/// The spec: the kind's defaults or `--spec`, then the flags, then validation.
pub fn build_spec(a: &ModelArgs, shape: &InputShape) -> Result<ModelSpec> {
    let mut spec = match &a.spec {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => fail!("cannot read spec file {}: {e}", path.display()),
            };
            match ModelSpec::from_json(&text) {
                Ok(s) => s,
                Err(e) => fail!("{}: {e}", path.display()),
            }
        }
        None => ModelSpec::of_kind_for(
            a.model.expect("clap requires --model without --spec").into(),
            shape,
        ),
    };
    if let (Some(m), Some(_)) = (a.model, &a.spec) {
        spec.kind = m.into();
    }
    if let Some(z) = a.latent {
        spec.latent = z;
    }
    if let Some(h) = &a.hidden {
        spec.hidden = h.0.clone();
        spec.decoder_hidden = None;
    }
    if let Some(f) = a.activation {
        spec.activation = f.into();
    }
    if let Some(l) = a.loss {
        spec.loss = l.into();
    }
    if let Some(b) = a.batch {
        spec.batch_size = b;
    }
    if let Some(lr) = a.lr {
        spec.optimizer.lr = lr;
    }
    if let Some(beta) = a.beta {
        spec.beta = beta;
    }
    if let Some(n) = a.noise {
        spec.noise.kind = n.into();
    }
    if let Some(x) = a.noise_amount {
        spec.noise.amount = x;
    }
    if let Some(p) = a.sparsity {
        spec.sparsity.penalty = p.into();
    }
    if let Some(x) = a.sparsity_target {
        spec.sparsity.target = x;
    }
    if let Some(x) = a.sparsity_weight {
        spec.sparsity.weight = x;
    }
    if let Some(x) = a.contraction {
        spec.contractive.weight = x;
    }
    if let Some(c) = &a.channels {
        spec.channels = c.0.clone();
    }
    if let Some(seed) = a.seed {
        spec.seed = seed;
    }
    if let Some(o) = a.output {
        spec.output = Some(o.into());
    }
    spec.validate_for(shape).map_err(|e| {
        shared::spec_error(e, |field| match field {
            "loss" if a.loss.is_some() => Some("--loss"),
            "kind" => Some("--model"),
            "latent" if a.latent.is_some() => Some("--latent"),
            "hidden" if a.hidden.is_some() => Some("--hidden"),
            "batch_size" if a.batch.is_some() => Some("--batch"),
            "optimizer.lr" if a.lr.is_some() => Some("--lr"),
            "beta" if a.beta.is_some() => Some("--beta"),
            "noise.amount" if a.noise_amount.is_some() => Some("--noise-amount"),
            "sparsity.target" if a.sparsity_target.is_some() => Some("--sparsity-target"),
            "sparsity.weight" if a.sparsity_weight.is_some() => Some("--sparsity-weight"),
            "contractive.weight" if a.contraction.is_some() => Some("--contraction"),
            "channels" if a.channels.is_some() => Some("--channels"),
            "output" if a.output.is_some() => Some("--output"),
            _ => None,
        })
    })?;
    Ok(spec)
}

/// "784 → 512 → 256 → 2 → 256 → 512 → 784"-style summary of the layers.
fn architecture(spec: &ModelSpec, shape: &InputShape) -> String {
    let mut widths = vec![shape.size().to_string()];
    let conv = latent_lab::model::conv_layers(spec, shape);
    let maps = |c: usize, h: usize, w: usize| format!("{c}×{h}×{w}");
    widths.extend(conv.iter().map(|c| maps(c.c_out, c.out_h, c.out_w)));
    widths.extend(spec.hidden.iter().map(|w| w.to_string()));
    widths.push(if spec.kind.is_variational() {
        format!("2×{0} (μ, log σ²) → z {0}", spec.latent)
    } else {
        spec.latent.to_string()
    });
    widths.extend(spec.decoder_widths().iter().map(|w| w.to_string()));
    widths.extend(conv.iter().rev().skip(1).map(|c| maps(c.c_out, c.out_h, c.out_w)));
    widths.push(shape.size().to_string());
    widths.join(" → ")
}

/// Progress display: a bar on a terminal, JSON lines with `--json`, else a plain line now
/// and then on stderr.
struct Progress {
    json: bool,
    bar: Option<ProgressBar>,
    total: u32,
    batch: usize,
    images: usize,
    beta: f32,
    penalty_weight: f32,
    variational: bool,
    /// Step and time of the last report, for the throughput.
    last: (u32, Instant),
    /// Next step at which a plain line is printed.
    next_plain: u32,
    started: Instant,
}

impl Progress {
    fn new(json: bool, total: u32, spec: &ModelSpec, images: usize) -> Progress {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(u64::from(total));
            let style = ProgressStyle::with_template(
                "{bar:32.cyan/blue} {pos:>6}/{len} steps  {msg}  [{elapsed}<{eta}]",
            )
            .expect("a valid template")
            .progress_chars("█▉▊▋▌▍▎▏ ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        let now = Instant::now();
        Progress {
            json,
            bar,
            total,
            batch: spec.batch_size,
            images,
            beta: spec.beta,
            penalty_weight: spec.penalty_weight(),
            variational: spec.kind.is_variational(),
            last: (0, now),
            next_plain: 0,
            started: now,
        }
    }

    fn epoch(&self, step: u32) -> f64 {
        step as f64 * self.batch as f64 / self.images as f64
    }

    /// Reports the metrics that arrived in one poll; fails on a non-finite loss.
    fn report(&mut self, chunks: &[Metrics], lr: f32) -> Result<()> {
        let Some(end) = chunks.last().map(|m| m.first_step + m.steps) else { return Ok(()) };
        let now = Instant::now();
        let seconds = now.duration_since(self.last.1).as_secs_f64().max(1e-9);
        let rate = f64::from(end - self.last.0) * self.batch as f64 / seconds;
        self.last = (end, now);
        for m in chunks {
            if !m.is_finite() {
                let value = if m.recon.is_finite() { m.kl } else { m.recon };
                fail!(
                    "training diverged at step {}: the loss became {value}; lower --lr (it was \
                     {lr}) and train again; no weights were written",
                    m.first_step + m.steps
                );
            }
            let step = m.first_step + m.steps;
            let loss = m.recon + self.beta * m.kl + self.penalty_weight * m.penalty;
            if self.json {
                emit(object! {
                    "step": step,
                    "epoch": round(self.epoch(step), 4),
                    "recon": shared::short(m.recon),
                    "kl": shared::short(m.kl),
                    "penalty": shared::short(m.penalty),
                    "loss": shared::short(loss),
                    "samples_per_s": round(rate, 1),
                })?;
            }
        }
        let m = chunks.last().expect("not empty");
        let kl = if self.variational { format!("  kl {:.2}", m.kl) } else { String::new() };
        let msg = format!(
            "epoch {:.2}  recon {:.2}{kl}  {:.0} samples/s",
            self.epoch(end),
            m.recon,
            rate
        );
        if let Some(bar) = &self.bar {
            bar.set_position(u64::from(end));
            bar.set_message(msg);
        } else if !self.json && (end >= self.next_plain || end == self.total) {
            eprintln!("step {end}/{}  {msg}", self.total);
            self.next_plain = end + (self.total / 10).max(1);
        }
        Ok(())
    }

    fn done(&self) -> Duration {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed()
    }
}

impl Drop for Progress {
    /// On an early return (an error), leaves the bar as it was, with the error on a new line.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

pub async fn run(a: TrainArgs) -> Result<()> {
    shared::check_output(&a.out)?;
    let (data, data_path) = shared::load(&a.data, None)?;
    let shape = data.shape();
    let spec = build_spec(&a.model, &shape)?;
    let program = Program::build(&spec, &shape)?;
    let images = data.train.len();
    if images == 0 {
        fail!("{}: the training split is empty", data_path.display());
    }
    let total = a.model.steps_for(images, spec.batch_size);
    let (mut ex, device) = shared::executor(a.backend, program, &data.train.values).await?;
    let backend = ex.backend();
    if data.train.has_labels() {
        ex.set_train_labels(&data.train.labels)?;
    } else if spec.kind.is_conditional() {
        fail!("{}: a cvae needs labels, and this data has none", data_path.display());
    }
    let epochs = f64::from(total) * spec.batch_size as f64 / images as f64;

    if a.json {
        emit(object! {
            "event": "start",
            "spec": serde_json::from_str::<serde_json::Value>(&spec.to_json())?,
            "params": spec.parameter_count(&shape),
            "shape": shape,
            "backend": backend,
            "adapter": device.name,
            "backend_reason": device.why,
            "data": data_path.display().to_string(),
            "train_samples": images,
            "test_samples": data.test.len(),
            "steps": total,
            "epochs": round(epochs, 4),
        })?;
    } else {
        emit(format_args!(
            "{} {}  ({} params, {}, {} loss, batch {}, lr {}{})",
            spec.kind.name(),
            architecture(&spec, &shape),
            spec.parameter_count(&shape),
            spec.activation.name(),
            spec.loss.name(),
            spec.batch_size,
            spec.optimizer.lr,
            if spec.kind.is_variational() { format!(", beta {}", spec.beta) } else { "".into() },
        ))?;
        emit(format_args!(
            "data {} ({}): {} train, {} test rows; {} steps = {:.2} epochs on {}",
            data_path.display(),
            shape,
            images,
            data.test.len(),
            total,
            epochs,
            device.line(),
        ))?;
    }

    let mut progress = Progress::new(a.json, total, &spec, images);
    let lr = spec.optimizer.lr;
    let chunk = submit_size(backend, total);
    let mut submitted = 0;
    while submitted < total {
        let steps = chunk.min(total - submitted);
        ex.train(steps).await?;
        submitted += steps;
        let metrics = ex.poll_metrics()?;
        progress.report(&metrics, lr)?;
    }
    let metrics = ex.finish().await?;
    progress.report(&metrics, lr)?;
    let elapsed = progress.done();

    let params = ex.params().await?;
    if let Some((k, _)) = params.iter().enumerate().find(|(_, v)| v.iter().any(|x| !x.is_finite()))
    {
        fail!(
            "training diverged: parameter `{}` is not finite after step {total}; lower --lr (it \
             was {lr}) and train again; no weights were written",
            ex.program().params[k].name
        );
    }
    if !a.json {
        emit(format_args!(
            "trained {total} steps in {:.1} s ({:.0} samples/s)",
            elapsed.as_secs_f64(),
            f64::from(total) * spec.batch_size as f64 / elapsed.as_secs_f64().max(1e-9)
        ))?;
    }

    if !data.test.is_empty() {
        let eval = evaluate(&mut ex, &data.test, "test", spec.seed, None).await?;
        report_eval(&eval, backend, a.json)?;
    }

    let tensors = tensors(&ex, params);
    let info = ModelInfo { spec: spec.clone(), shape, normalisation: data.normalisation.clone() };
    let bytes = save_weights(&info, &tensors);
    shared::write_atomic(&a.out, &bytes)?;
    if a.json {
        emit(object! {
            "event": "saved",
            "path": a.out.display().to_string(),
            "bytes": bytes.len(),
        })?;
    } else {
        emit(format_args!(
            "saved {} ({}, {} tensors)",
            a.out.display(),
            shared::human_bytes(bytes.len()),
            tensors.len()
        ))?;
    }
    Ok(())
}

/// The parameters as named tensors, as the weights file stores them.
fn tensors(ex: &Executor, params: Vec<Vec<f32>>) -> Vec<Tensor> {
    ex.program()
        .params
        .iter()
        .zip(params)
        .map(|(p, data)| Tensor { name: p.name.clone(), shape: p.shape.clone(), data })
        .collect()
}

fn report_eval(e: &Evaluation, backend: Backend, json: bool) -> Result<()> {
    if json {
        return emit(serde_json::to_string(&EvalLine { event: Some("eval"), eval: e, backend })?);
    }
    let mut line = match e.bce_per_image {
        Some(bce) => format!(
            "{} ({} images): bce {bce:.2} nats/image, mse {:.5}/pixel",
            e.split, e.samples, e.mse_per_pixel
        ),
        None => format!(
            "{} ({} rows): squared error {:.4}/row, mse {:.5}/value",
            e.split, e.samples, e.mse_per_row, e.mse_per_pixel
        ),
    };
    if let (Some(kl), Some(loss)) = (e.kl, e.loss) {
        let what = if e.bce_per_image.is_some() { "−ELBO" } else { "squared error + kl" };
        line += &format!(", kl {kl:.2}, loss ({what}) {loss:.2}");
    }
    emit(line)
}
