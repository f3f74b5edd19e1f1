//! Whole programs: the GPU executor against the CPU executor, and training that learns.

mod common;

use common::{assert_close, gpu, synthetic_digits};
use latent_lab::model::{ModelKind, ModelSpec, Program};
use latent_lab::Executor;
use pollster::block_on;

fn small_vae() -> ModelSpec {
    // Widths that divide neither the 64-wide tiles nor the 256-wide workgroups.
    ModelSpec { hidden: vec![100], latent: 5, batch_size: 50, seed: 7, ..ModelSpec::default() }
}

/// Trains one step at a time, returning the per-step losses and the final parameters.
fn run(ex: &mut Executor, steps: u32) -> (Vec<f32>, Vec<f32>, Vec<Vec<f32>>) {
    let (mut recon, mut kl) = (vec![], vec![]);
    for _ in 0..steps {
        block_on(ex.train(1)).unwrap();
    }
    for m in block_on(ex.finish()).unwrap() {
        recon.push(m.recon);
        kl.push(m.kl);
    }
    (recon, kl, block_on(ex.params()).unwrap())
}

#[test]
fn twenty_vae_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    let images = synthetic_digits(300, 1);
    let program = Program::build(&small_vae()).unwrap();
    let mut cpu = Executor::cpu(program.clone(), &images);
    let mut gpu = block_on(Executor::gpu(ctx, program, &images)).unwrap();
    let (cr, ck, cp) = run(&mut cpu, 20);
    let (gr, gk, gp) = run(&mut gpu, 20);
    assert_eq!(gr.len(), 20);
    // Same seed, same RNG: same minibatches and ε. What differs is float summation order
    // (tiles and tree reductions) and exp/log/cos, amplified a little by 20 Adam steps.
    assert_close(&gr, &cr, 1e-2, 1e-3, "reconstruction loss per step");
    assert_close(&gk, &ck, 1e-3, 1e-2, "KL per step");
    for (k, (g, c)) in gp.iter().zip(&cp).enumerate() {
        assert_close(g, c, 2e-4, 1e-2, &format!("parameter {k} after 20 steps"));
    }
    assert_eq!(cpu.step(), 20);
    assert_eq!(gpu.step(), 20);
}

fn loss_falls(ex: &mut Executor, steps: u32) -> (f32, f32) {
    block_on(ex.train(5)).unwrap();
    let first = block_on(ex.finish()).unwrap()[0].recon;
    block_on(ex.train(steps)).unwrap();
    block_on(ex.train(5)).unwrap();
    let metrics = block_on(ex.finish()).unwrap();
    (first, metrics.last().unwrap().recon)
}

#[test]
fn a_short_run_lowers_the_loss_on_the_cpu() {
    let images = synthetic_digits(400, 2);
    for kind in [ModelKind::Ae, ModelKind::Vae] {
        let spec = ModelSpec {
            kind,
            hidden: vec![128],
            latent: 8,
            batch_size: 32,
            ..ModelSpec::default()
        };
        let mut ex = Executor::cpu(Program::build(&spec).unwrap(), &images);
        let (first, last) = loss_falls(&mut ex, 150);
        assert!(last < 0.6 * first, "{kind:?}: loss {first} → {last}");
    }
}

#[test]
fn a_short_run_lowers_the_loss_on_the_gpu() {
    let Some(ctx) = gpu() else { return };
    let images = synthetic_digits(400, 2);
    for kind in [ModelKind::Ae, ModelKind::Vae] {
        let spec = ModelSpec {
            kind,
            hidden: vec![128],
            latent: 8,
            batch_size: 32,
            ..ModelSpec::default()
        };
        let mut ex = block_on(Executor::gpu(ctx, Program::build(&spec).unwrap(), &images)).unwrap();
        let (first, last) = loss_falls(&mut ex, 150);
        assert!(last < 0.6 * first, "{kind:?}: loss {first} → {last}");
    }
}

#[test]
fn inference_on_the_gpu_matches_the_cpu() {
    let Some(ctx) = gpu() else { return };
    let images = synthetic_digits(300, 3);
    let program = Program::build(&small_vae()).unwrap();
    let mut cpu = Executor::cpu(program.clone(), &images);
    let mut gpu = block_on(Executor::gpu(ctx, program, &images)).unwrap();
    // More rows than one inference call holds (256), and a ragged last chunk.
    let x: Vec<f32> = images[..300 * 784].iter().map(|&p| p as f32 / 255.0).collect();
    let (ec, eg) = (block_on(cpu.encode(&x)).unwrap(), block_on(gpu.encode(&x)).unwrap());
    assert_eq!(eg.rows, 300);
    assert_close(&eg.mu, &ec.mu, 1e-4, 1e-3, "μ");
    assert_close(eg.logvar.as_ref().unwrap(), ec.logvar.as_ref().unwrap(), 1e-4, 1e-3, "log σ²");
    let (rc, rg) = (block_on(cpu.reconstruct(&x)).unwrap(), block_on(gpu.reconstruct(&x)).unwrap());
    assert_close(&rg, &rc, 1e-4, 1e-3, "reconstruction");
    let (sc, sg) = (block_on(cpu.sample(10, 4)).unwrap(), block_on(gpu.sample(10, 4)).unwrap());
    assert_close(&sg, &sc, 1e-4, 1e-3, "samples");
    assert!(sg.iter().all(|v| (0.0..=1.0).contains(v)));
}
