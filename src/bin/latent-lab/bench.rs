//! `latent-lab bench`: steady-state training throughput.

use std::path::Path;
use std::time::{Duration, Instant};

use latent_lab::data::{Values, MNIST_SHAPE};
use latent_lab::model::{ModelKind, ModelSpec, Program};
use latent_lab::{Backend, Executor};

use crate::args::BenchArgs;
use crate::shared::{self, emit, fail, object, round, Result};
use crate::train::steps_per_submit;

/// Timed run length when `--steps` is not given.
const MIN_TIME: Duration = Duration::from_secs(2);
/// Longest submit wanted, for devices too slow for full-size submits.
const SUBMIT_TIME: Duration = Duration::from_millis(250);

/// The README's quality setups: the defaults of each kind.
pub fn quality_spec(kind: ModelKind) -> ModelSpec {
    let mut spec = ModelSpec::of_kind(kind);
    match kind {
        ModelKind::ConvAe | ModelKind::ConvVae => {
            spec.latent = 16;
            spec.batch_size = 128;
        }
        // Series kinds: the bench trains on digits, which they refuse with the reason.
        ModelKind::Conv1dAe | ModelKind::Conv1dVae => {}
        ModelKind::Vae | ModelKind::Cvae => {
            spec.hidden = vec![400];
            spec.latent = 20;
            spec.batch_size = 128;
            spec.loss = latent_lab::model::ReconLoss::Bce;
        }
        ModelKind::Ae | ModelKind::Dae | ModelKind::Sparse | ModelKind::Contractive => {
            spec.hidden = vec![512, 256];
            spec.latent = match kind {
                ModelKind::Sparse => 64,
                ModelKind::Contractive => 32,
                _ => 2,
            };
            spec.batch_size = 256;
            spec.loss = latent_lab::model::ReconLoss::Mse;
        }
    }
    spec
}

/// The bundled training digits if present, else random bytes: the speed is the same.
fn images() -> Values {
    if Path::new(shared::BUNDLED[0].1).is_file() {
        if let Ok((split, _)) = shared::load(&Default::default(), None) {
            return split.train.values;
        }
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..8192 * MNIST_SHAPE.size())
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    Values::from(bytes)
}

/// Trains `steps` steps in submits of `chunk`, checking the losses as they arrive.
async fn train(ex: &mut Executor, steps: u32, chunk: u32) -> Result<()> {
    let mut done = 0;
    while done < steps {
        let k = chunk.min(steps - done);
        ex.train(k).await?;
        done += k;
        check(&ex.poll_metrics()?)?;
    }
    Ok(())
}

fn check(metrics: &[latent_lab::Metrics]) -> Result<()> {
    if let Some(m) = metrics.iter().find(|m| !m.is_finite()) {
        fail!("the benchmark diverged at step {}", m.first_step + m.steps);
    }
    Ok(())
}

pub async fn run(a: BenchArgs) -> Result<()> {
    let mut spec = quality_spec(a.model.into());
    if let Some(h) = &a.hidden {
        spec.hidden = h.0.clone();
    }
    if let Some(z) = a.latent {
        spec.latent = z;
    }
    if let Some(b) = a.batch {
        spec.batch_size = b;
    }
    spec.validate_for(&MNIST_SHAPE).map_err(|e| {
        shared::spec_error(e, |field| match field {
            "latent" => Some("--latent"),
            "hidden" => Some("--hidden"),
            "batch_size" => Some("--batch"),
            _ => None,
        })
    })?;
    let program = Program::build(&spec, &MNIST_SHAPE)?;
    let images = images();
    let (mut ex, device) = shared::executor(a.backend, program, &images).await?;
    let backend = ex.backend();
    let labels: Vec<u8> = (0..images.len() / MNIST_SHAPE.size()).map(|i| (i % 10) as u8).collect();
    ex.set_train_labels(&labels)?;
    // Warm-up: first dispatches, caches, page faults. Then a few steps timed to size the
    // submits: at most `steps_per_submit`, and short enough (~0.25 s) that a slow device
    // (a software rasteriser) still finishes in seconds.
    train(&mut ex, 1, 1).await?;
    check(&ex.finish().await?)?;
    let probe = 2;
    let t = Instant::now();
    train(&mut ex, probe, probe).await?;
    check(&ex.finish().await?)?;
    let per_step = t.elapsed().as_secs_f64() / f64::from(probe);
    let fit = (SUBMIT_TIME.as_secs_f64() / per_step.max(1e-9)).floor().min(1e6) as u32;
    let chunk = fit.clamp(1, steps_per_submit(backend));
    if backend == Backend::Gpu {
        // Two submits of the final size: a full queue, as in the timed run.
        train(&mut ex, 2 * chunk, chunk).await?;
        check(&ex.finish().await?)?;
    }

    // Whole submits, the clock stopped only once the GPU has finished them.
    let start = Instant::now();
    let mut steps = 0;
    loop {
        let k = match a.steps {
            Some(n) => chunk.min(n - steps),
            None => chunk,
        };
        if k == 0 {
            break;
        }
        train(&mut ex, k, chunk).await?;
        steps += k;
        if a.steps.is_none() && start.elapsed() >= MIN_TIME {
            break;
        }
    }
    check(&ex.finish().await?)?;
    let seconds = start.elapsed().as_secs_f64().max(1e-9);

    let (dispatches, clears) = match &ex {
        Executor::Gpu(gpu) => {
            let (d, c) = gpu.commands_per_step();
            (Some(d), Some(c))
        }
        Executor::Cpu(_) => (None, None),
    };
    emit(object! {
        "model": spec.kind.name(),
        "backend": backend,
        "adapter": device.name,
        "backend_reason": device.why,
        "hidden": spec.hidden,
        "latent": spec.latent,
        "batch": spec.batch_size,
        "steps": steps,
        "samples_per_s": round(f64::from(steps) * spec.batch_size as f64 / seconds, 1),
        "ms_per_step": round(seconds * 1000.0 / f64::from(steps), 3),
        "dispatches_per_step": dispatches,
        "clears_per_step": clears,
    })?;
    if a.profile {
        profile(&mut ex, steps.min(PROFILE_STEPS)).await?;
    }
    Ok(())
}

/// Most steps `--profile` times.
const PROFILE_STEPS: u32 = 50;

/// Times each op of `steps` training steps and prints the table: op, ms per step, share.
/// The CPU executor's ops are timed by the clock; the GPU's by timestamp queries, each
/// dispatch in a pass of its own, with a `(between)` row for the rest of the GPU's time
/// from the first kernel's start to the last one's end: clears, barriers, pass boundaries.
async fn profile(ex: &mut Executor, steps: u32) -> Result<()> {
    let (rows, total, steps) = match ex {
        Executor::Cpu(cpu) => {
            let start = Instant::now();
            let clock = || start.elapsed().as_secs_f64();
            let times = cpu.train_profiled(steps, &clock);
            check(&cpu.take_metrics())?;
            let total: f64 = times.iter().map(|t| t.1).sum();
            (times, total, steps)
        }
        Executor::Gpu(gpu) => {
            if !gpu.context().timestamps {
                fail!(
                    "--profile on the GPU needs timestamp queries, which {} lacks (pass \
                     --backend cpu to profile the CPU executor)",
                    gpu.context().describe()
                );
            }
            let t = gpu.train_profiled(steps).await?;
            check(&gpu.finish().await?)?;
            let rows = t.rows();
            let total = rows.iter().map(|r| r.1).sum();
            (rows, total, t.steps)
        }
    };
    emit(format_args!("{:<28} {:>10} {:>7}", "op", "ms/step", "share"))?;
    for (name, t) in &rows {
        let ms = t * 1000.0 / f64::from(steps);
        emit(format_args!("{name:<28} {ms:>10.3} {:>6.1}%", 100.0 * t / total.max(1e-12)))?;
    }
    emit(format_args!("{:<28} {:>10.3}", "total", total * 1000.0 / f64::from(steps)))
}
