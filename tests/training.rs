//! Whole programs: the GPU executor against the CPU executor, and training that learns.

mod common;

use common::{assert_close, gpu, synthetic_digits};
use latent_lab::compare::decoder_angles;
use latent_lab::data::{InputShape, Values, MNIST_SHAPE};
use latent_lab::model::{
    Activation, AdamSpec, ContractiveSpec, ModelKind, ModelSpec, NoiseKind, NoiseSpec, Program,
    ReconLoss, SparsityPenalty, SparsitySpec,
};
use latent_lab::ops::Op;
use latent_lab::pca::Pca;
use latent_lab::Executor;
use pollster::block_on;

fn small_vae() -> ModelSpec {
    // Widths that divide neither the 64-wide tiles nor the 256-wide workgroups.
    ModelSpec { hidden: vec![100], latent: 5, batch_size: 50, seed: 7, ..ModelSpec::default() }
}

/// Parameters after `steps` Adam steps on two executors. Adam divides each gradient by its
/// own running magnitude, so a weight whose gradient is at rounding level (≈1e-8: a pixel
/// that is almost never inked, a unit that is almost dead) takes a full-size step whose sign
/// rounding decides. Such weights may differ by Adam's largest move per step; everything
/// else — at least 99.9% of every tensor — must agree closely. A wrong kernel moves far more
/// than one weight in a thousand.
fn assert_params_close(got: &[f32], want: &[f32], spec: &ModelSpec, steps: u32, what: &str) {
    let (abs, rel) = (2e-4, 1e-2);
    let o = &spec.optimizer;
    let max_move = steps as f32 * o.lr * (1.0 - o.beta1) / (1.0 - o.beta2).sqrt();
    let off: Vec<usize> = (0..got.len())
        .filter(|&i| {
            let d = (got[i] - want[i]).abs();
            d.is_nan() || d > abs + rel * want[i].abs()
        })
        .collect();
    let allowed = got.len().div_ceil(1000);
    assert!(
        off.len() <= allowed,
        "{what}: {} of {} weights differ (abs {abs}, rel {rel}; at most {allowed} may), e.g. {}",
        off.len(),
        got.len(),
        off.iter()
            .take(5)
            .map(|&i| format!("[{i}] {} vs {}", got[i], want[i]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for &i in &off {
        let d = (got[i] - want[i]).abs();
        assert!(d <= max_move, "{what}: weight {i} differs by {d}, more than Adam can move it");
    }
}

/// Trains one step at a time, returning the per-step losses and the final parameters.
fn run(ex: &mut Executor, steps: u32) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<Vec<f32>>) {
    let (mut recon, mut kl, mut penalty) = (vec![], vec![], vec![]);
    for _ in 0..steps {
        block_on(ex.train(1)).unwrap();
    }
    for m in block_on(ex.finish()).unwrap() {
        recon.push(m.recon);
        kl.push(m.kl);
        penalty.push(m.penalty);
    }
    (recon, kl, penalty, block_on(ex.params()).unwrap())
}

/// The program with every folded activation derivative put back where the plain gradient
/// rule has it: each layer's backward op forms dy·f′(y) from its own output.
fn unfolded(p: &Program) -> Program {
    let mut plain = p.clone();
    let folded: Vec<(usize, Activation)> = p
        .train
        .iter()
        .filter_map(|o| match o {
            Op::LinearBackward(l) => l.x_f.map(|f| (l.x, f)),
            _ => None,
        })
        .collect();
    for op in &mut plain.train {
        if let Op::LinearBackward(l) = op {
            l.x_f = None;
            if let Some(&(_, f)) = folded.iter().find(|&&(x, _)| x == l.y) {
                assert!(l.f.is_none(), "a folded layer keeps no f′ of its own");
                l.f = Some(f);
            }
        }
    }
    plain
}

#[test]
fn folding_activation_derivatives_into_the_layer_above_trains_as_the_plain_rule() {
    let images = synthetic_digits(300, 1);
    let specs = [
        small_vae(),
        ModelSpec {
            kind: ModelKind::Ae,
            hidden: vec![48, 24],
            activation: Activation::Tanh,
            batch_size: 40,
            ..ModelSpec::default()
        },
        ModelSpec { hidden: vec![60], latent: 6, ..ModelSpec::of_kind(ModelKind::Sparse) },
    ];
    for spec in specs {
        let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
        let plain = unfolded(&program);
        assert_ne!(plain.train, program.train, "{}: something is folded", spec.kind.name());
        let (fr, _, _, fp) = run(&mut Executor::cpu(program, &images), 10);
        let (pr, _, _, pp) = run(&mut Executor::cpu(plain, &images), 10);
        let kind = spec.kind.name();
        assert_close(&fr, &pr, 1e-5, 1e-5, &format!("{kind}: loss per step"));
        for (k, (f, p)) in fp.iter().zip(&pp).enumerate() {
            assert_params_close(f, p, &spec, 10, &format!("{kind}: parameter {k}"));
        }
    }
}

#[test]
fn twenty_vae_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    gpu_matches_cpu(ctx, small_vae());
}

#[test]
fn twenty_denoising_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    for (kind, amount) in
        [(NoiseKind::Gaussian, 0.5), (NoiseKind::Mask, 0.3), (NoiseKind::SaltPepper, 0.2)]
    {
        let noise = NoiseSpec { kind, amount };
        gpu_matches_cpu(ctx, ModelSpec { kind: ModelKind::Dae, noise, ..small_vae() });
    }
}

#[test]
fn twenty_sparse_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    for penalty in [SparsityPenalty::Kl, SparsityPenalty::L1] {
        let sparsity = SparsitySpec { penalty, ..SparsitySpec::default() };
        gpu_matches_cpu(ctx, ModelSpec { kind: ModelKind::Sparse, sparsity, ..small_vae() });
    }
}

/// A label per image (synthetic: the index mod 10).
fn labels(images: &[u8]) -> Vec<u8> {
    (0..images.len() / 784).map(|i| (i % 10) as u8).collect()
}

fn gpu_matches_cpu(ctx: &latent_lab::backend::GpuContext, spec: ModelSpec) {
    let images = synthetic_digits(300, 1);
    let rows = Values::from(images.clone());
    gpu_matches_cpu_on(ctx, spec, MNIST_SHAPE, rows, &labels(&images));
}

/// Twenty steps of `spec` on rows of `shape` on both executors: the same losses and weights.
fn gpu_matches_cpu_on(
    ctx: &latent_lab::backend::GpuContext,
    spec: ModelSpec,
    shape: InputShape,
    rows: Values,
    labels: &[u8],
) {
    let program = Program::build(&spec, &shape).unwrap();
    let mut cpu = Executor::cpu_sharing(program.clone(), rows.clone());
    let mut gpu = block_on(Executor::gpu_rows(ctx, program, &rows)).unwrap();
    for ex in [&mut cpu, &mut gpu] {
        ex.set_train_labels(labels).unwrap();
    }
    let (cr, ck, cpen, cp) = run(&mut cpu, 20);
    let (gr, gk, gpen, gp) = run(&mut gpu, 20);
    let kind = spec.kind.name();
    assert_eq!(gr.len(), 20);
    // Same seed, same RNG: same minibatches and ε. What differs is float summation order
    // (tiles and tree reductions) and exp/log/cos, amplified a little by 20 Adam steps.
    assert_close(&gr, &cr, 1e-2, 1e-3, &format!("{kind}: reconstruction loss per step"));
    assert_close(&gk, &ck, 1e-3, 1e-2, &format!("{kind}: KL per step"));
    assert_close(&gpen, &cpen, 1e-4, 1e-3, &format!("{kind}: penalty per step"));
    for (k, (g, c)) in gp.iter().zip(&cp).enumerate() {
        assert_params_close(g, c, &spec, 20, &format!("{kind}: parameter {k} after 20 steps"));
    }
    assert_eq!(cpu.step(), 20);
    assert_eq!(gpu.step(), 20);
}

#[test]
fn twenty_contractive_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    // With and without a hidden layer: the penalty sits on the code layer either way.
    for hidden in [vec![100], vec![]] {
        let contractive = ContractiveSpec { weight: 0.5 };
        let spec = ModelSpec { kind: ModelKind::Contractive, hidden, contractive, ..small_vae() };
        gpu_matches_cpu(ctx, spec);
    }
}

#[test]
fn twenty_conditional_vae_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    gpu_matches_cpu(ctx, ModelSpec { kind: ModelKind::Cvae, ..small_vae() });
}

#[test]
fn twenty_convolutional_steps_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    for (kind, channels) in [(ModelKind::ConvAe, vec![3, 5]), (ModelKind::ConvVae, vec![4])] {
        let spec = ModelSpec { kind, channels, hidden: vec![], batch_size: 20, ..small_vae() };
        gpu_matches_cpu(ctx, spec);
    }
}

#[test]
fn twenty_steps_on_standardised_rows_on_the_gpu_match_the_cpu() {
    let Some(ctx) = gpu() else { return };
    // Table rows of 13 features (f32 rows, no sigmoid, MSE of the values): a VAE, and a
    // denoiser whose Gaussian noise is not clipped to [0, 1]; and 1-D convolutions on
    // windows of two channels.
    let table = InputShape::Vector { features: 13 };
    let rows = Values::from(common::randn(300 * 13, 4));
    let labels: Vec<u8> = (0..300).map(|i| (i % 10) as u8).collect();
    let mse = ModelSpec { loss: ReconLoss::Mse, ..small_vae() };
    gpu_matches_cpu_on(ctx, mse.clone(), table, rows.clone(), &labels);
    let noise = NoiseSpec { kind: NoiseKind::Gaussian, amount: 0.7 };
    let dae = ModelSpec { kind: ModelKind::Dae, noise, ..mse.clone() };
    gpu_matches_cpu_on(ctx, dae, table, rows, &labels);
    let window = InputShape::Series { channels: 2, length: 24 };
    let windows = Values::from(common::synthetic_windows(300, 2, 24, 5));
    for kind in [ModelKind::Conv1dAe, ModelKind::Conv1dVae] {
        let spec = ModelSpec { kind, channels: vec![3, 5], hidden: vec![], ..mse.clone() };
        gpu_matches_cpu_on(ctx, spec, window, windows.clone(), &labels);
    }
}

#[test]
fn a_conditional_model_needs_labels() {
    let images = synthetic_digits(40, 6);
    let spec = ModelSpec { kind: ModelKind::Cvae, hidden: vec![16], batch_size: 8, ..small_vae() };
    let mut ex = Executor::cpu(Program::build(&spec, &MNIST_SHAPE).unwrap(), &images);
    let err = block_on(ex.train(1)).unwrap_err().to_string();
    assert!(err.contains("labels"), "{err}");
    assert!(ex.set_train_labels(&[1, 2, 3]).unwrap_err().to_string().contains("3 training labels"));
    assert!(ex.set_train_labels(&[10; 40]).unwrap_err().to_string().contains("label 10"));
    ex.set_train_labels(&labels(&images)).unwrap();
    block_on(ex.train(1)).unwrap();
    let z = vec![0.0; 2 * spec.latent];
    assert!(block_on(ex.decode(&z)).unwrap_err().to_string().contains("label"));
    // The label steers the decoder: the same z gives different digits.
    let y = block_on(ex.decode_labeled(&z, Some(&[3, 7]))).unwrap();
    assert_ne!(y[..784], y[784..]);
    let same = block_on(ex.decode_labeled(&z, Some(&[3, 3]))).unwrap();
    assert_eq!(same[..784], same[784..]);
}

#[test]
fn the_encoder_jacobian_matches_finite_differences() {
    let images = synthetic_digits(10, 5);
    let x: Vec<f32> = images[..784].iter().map(|&p| p as f32 / 255.0).collect();
    for (kind, hidden) in [
        (ModelKind::Ae, vec![30, 20]),
        (ModelKind::Vae, vec![25]),
        (ModelKind::Contractive, vec![]),
        (ModelKind::Sparse, vec![16]),
    ] {
        let spec = ModelSpec { kind, hidden, latent: 3, ..ModelSpec::default() };
        let mut ex = Executor::cpu(Program::build(&spec, &MNIST_SHAPE).unwrap(), &images);
        let params = block_on(ex.params()).unwrap();
        let exact = latent_lab::train::encoder_jacobian_sq(&spec, &params, &x, 0);
        // Central differences of the code (μ for the VAE), one pixel at a time.
        let h = 1e-2f32;
        let mut batch = vec![];
        for i in 0..784 {
            for sign in [1.0, -1.0] {
                let mut xi = x.clone();
                xi[i] += sign * h;
                batch.extend(xi);
            }
        }
        let code = block_on(ex.encode(&batch)).unwrap().mu;
        let numeric: f64 = (0..784)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| {
                let d =
                    (code[(2 * i) * 3 + j] - code[(2 * i + 1) * 3 + j]) as f64 / (2.0 * h as f64);
                d * d
            })
            .sum();
        assert!(
            (exact - numeric).abs() <= 1e-2 * numeric,
            "{kind:?}: ‖J‖² exact {exact}, by differences {numeric}"
        );
    }
}

#[test]
fn live_beta_and_learning_rate_change_training_the_same_way_on_both_executors() {
    let Some(ctx) = gpu() else { return };
    let images = synthetic_digits(300, 4);
    let spec = small_vae();
    let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
    let mut cpu = Executor::cpu(program.clone(), &images);
    let mut gpu = block_on(Executor::gpu(ctx, program.clone(), &images)).unwrap();
    let mut unchanged = Executor::cpu(program, &images);
    let live = ModelSpec { beta: 4.0, optimizer: AdamSpec { lr: 3e-3, ..spec.optimizer }, ..spec };
    for ex in [&mut cpu, &mut gpu, &mut unchanged] {
        block_on(ex.train(5)).unwrap();
        block_on(ex.finish()).unwrap();
    }
    cpu.set_spec(live.clone()).unwrap();
    gpu.set_spec(live.clone()).unwrap();
    unchanged.set_spec(ModelSpec { beta: 1.0, ..live.clone() }).unwrap();
    let (cr, ck, _, cp) = run(&mut cpu, 10);
    let (gr, gk, _, gp) = run(&mut gpu, 10);
    let (_, uk, _, _) = run(&mut unchanged, 10);
    assert_eq!((cpu.step(), gpu.step()), (15, 15), "the step count goes on");
    assert_close(&gr, &cr, 1e-2, 1e-3, "reconstruction loss after the change");
    assert_close(&gk, &ck, 1e-3, 1e-2, "KL after the change");
    for (k, (g, c)) in gp.iter().zip(&cp).enumerate() {
        assert_params_close(g, c, &live, 15, &format!("parameter {k} after the change"));
    }
    // β = 4 pulls the posterior to the prior: the KL falls below the β = 1 run's.
    assert!(ck[9] < 0.8 * uk[9], "KL with β = 4: {}, with β = 1: {}", ck[9], uk[9]);

    // Anything but the live fields needs a reset; the model is kept.
    let wider = ModelSpec { latent: 6, ..live.clone() };
    let err = gpu.set_spec(wider).unwrap_err().to_string();
    assert!(err.contains("reset"), "{err}");
    assert!(cpu.set_spec(ModelSpec { beta: -1.0, ..live.clone() }).is_err());
    assert_eq!(gpu.program().spec, live);
}

fn loss_falls(ex: &mut Executor, steps: u32) -> (f32, f32) {
    block_on(ex.train(5)).unwrap();
    let first = block_on(ex.finish()).unwrap()[0].recon;
    block_on(ex.train(steps)).unwrap();
    block_on(ex.train(5)).unwrap();
    let metrics = block_on(ex.finish()).unwrap();
    (first, metrics.last().unwrap().recon)
}

/// A small model of each kind for the loss-falls runs, on its kind's data.
fn learner(kind: ModelKind) -> (ModelSpec, InputShape, Values, Vec<u8>) {
    let (shape, rows, labels) = common::data_for(kind, 400, 2);
    let spec = ModelSpec {
        kind,
        hidden: vec![128],
        latent: 8,
        batch_size: 32,
        channels: vec![4, 8],
        // Standardised windows are reconstructed with MSE (BCE needs values in [0, 1]), and
        // a 1-D VAE trades a window's 32 values against its KL term with β ¼: at β 1 the
        // KL holds the reconstruction at about 0.65× its start within this short run.
        loss: if kind.is_conv1d() { ReconLoss::Mse } else { ModelSpec::default().loss },
        beta: if kind.is_conv1d() { 0.25 } else { 1.0 },
        ..ModelSpec::default()
    };
    (spec, shape, rows, labels)
}

#[test]
fn a_short_run_lowers_the_loss_on_the_cpu_for_every_kind() {
    for kind in ModelKind::ALL {
        let (spec, shape, rows, labels) = learner(kind);
        let mut ex = Executor::cpu_sharing(Program::build(&spec, &shape).unwrap(), rows);
        ex.set_train_labels(&labels).unwrap();
        let (first, last) = loss_falls(&mut ex, 150);
        assert!(last < 0.6 * first, "{kind:?}: loss {first} → {last}");
    }
}

#[test]
fn a_short_run_lowers_the_loss_on_the_gpu_for_every_kind() {
    let Some(ctx) = gpu() else { return };
    for kind in ModelKind::ALL {
        let (spec, shape, rows, labels) = learner(kind);
        let program = Program::build(&spec, &shape).unwrap();
        let mut ex = block_on(Executor::gpu_rows(ctx, program, &rows)).unwrap();
        ex.set_train_labels(&labels).unwrap();
        // Lavapipe runs a dense or 2-D convolutional step in 35–120 ms: 100 steps show the
        // fall there (the CPU run above takes 150); the windows' 1-D models are cheap and
        // take the CPU's 150 (a VAE on them falls more slowly).
        let steps = if kind.is_conv1d() { 150 } else { 100 };
        let (first, last) = loss_falls(&mut ex, steps);
        assert!(last < 0.6 * first, "{kind:?}: loss {first} → {last}");
    }
}

#[test]
fn inference_on_the_gpu_matches_the_cpu() {
    let Some(ctx) = gpu() else { return };
    let images = synthetic_digits(300, 3);
    let program = Program::build(&small_vae(), &MNIST_SHAPE).unwrap();
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

/// The page's engine shares one copy of the training data among its models: two GPU executors
/// over one upload (and a CPU executor over the same bytes) train exactly as an executor with
/// its own copy; an executor without data refuses to train until it is given some.
#[test]
fn executors_that_share_the_training_data_train_as_with_their_own() {
    use latent_lab::backend::GpuDataset;
    use std::sync::Arc;
    let spec = ModelSpec { kind: ModelKind::Cvae, ..small_vae() };
    let images = synthetic_digits(300, 3);
    let labels = labels(&images);
    let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
    let mut own = Executor::cpu(program.clone(), &images);
    own.set_train_labels(&labels).unwrap();
    let shared = Values::Bytes(Arc::from(&images[..]));
    let mut sharing = Executor::cpu_sharing(program.clone(), shared.clone());
    sharing.set_train_labels(&labels).unwrap();
    let (own_recon, .., own_params) = run(&mut own, 5);
    let (recon, .., params) = run(&mut sharing, 5);
    assert_eq!(recon, own_recon, "CPU: losses over shared bytes");
    assert_eq!(params, own_params, "CPU: parameters over shared bytes");

    // No data yet: inference works, training is refused; given the data, it trains as above.
    let mut later = Executor::cpu_sharing(program.clone(), Values::default());
    let err = block_on(later.train(1)).unwrap_err().to_string();
    assert!(err.contains("no training rows"), "{err}");
    assert_eq!(block_on(later.decode_labeled(&[0.0; 5], Some(&[3]))).unwrap().len(), 784);
    block_on(later.share_train_rows(shared.clone(), None)).unwrap();
    later.set_train_labels(&labels).unwrap();
    assert_eq!(run(&mut later, 5).0, own_recon, "CPU: data given after opening");

    let Some(ctx) = gpu() else { return };
    let data = GpuDataset::upload(ctx, &shared, 784, Some(&labels)).unwrap();
    let mut one = block_on(Executor::gpu(ctx, program.clone(), &images)).unwrap();
    one.set_train_labels(&labels).unwrap();
    let mut a = block_on(Executor::gpu_sharing(ctx, program.clone(), Some(data.clone()))).unwrap();
    let mut b = block_on(Executor::gpu_sharing(ctx, program.clone(), None)).unwrap();
    assert!(block_on(b.train(1)).is_err(), "a GPU executor without data must not train");
    block_on(b.share_train_rows(shared, Some(data))).unwrap();
    let (r1, .., p1) = run(&mut one, 5);
    let (ra, .., pa) = run(&mut a, 5);
    let (rb, .., pb) = run(&mut b, 5);
    assert_eq!(ra, r1, "GPU: losses over a shared upload");
    assert_eq!(rb, r1, "GPU: losses over a shared upload given after opening");
    assert_eq!(pa, p1, "GPU: parameters over a shared upload");
    assert_eq!(pb, p1, "GPU: parameters (data given later)");
}

#[test]
fn a_linear_autoencoder_learns_the_subspace_pca_finds() {
    // Rows of 6 values that vary mostly in a plane (two factors mixed in, with little noise
    // off it): an AE with no activation and no hidden layer, trained with MSE on the values
    // (a table's output is the identity), is linear, and its decoder's columns come to span
    // PCA's first two components. The principal angles between the two planes measure it.
    let (n, d) = (600, 6);
    let mix = [[1.0, 0.5], [0.3, -1.2], [-0.8, 0.4], [0.2, 0.9], [1.1, 0.0], [-0.4, -0.7]];
    let mut values = Vec::with_capacity(n * d);
    for i in 0..n {
        let f = common::randn(2, 100 + i as u32);
        let (a, b) = (f[0] * 2.0, f[1]);
        let noise = common::randn(d, 9000 + i as u32);
        values.extend((0..d).map(|j| mix[j][0] * a + mix[j][1] * b + 0.05 * noise[j]));
    }
    let pca = Pca::fit(&values, d, 2).unwrap();
    let shape = InputShape::Vector { features: d };
    let spec = ModelSpec {
        kind: ModelKind::Ae,
        hidden: vec![],
        activation: Activation::Identity,
        latent: 2,
        loss: ReconLoss::Mse,
        batch_size: 32,
        optimizer: AdamSpec { lr: 0.01, ..AdamSpec::default() },
        ..ModelSpec::default()
    };
    let mut ex =
        Executor::cpu_sharing(Program::build(&spec, &shape).unwrap(), Values::from(values));
    let angles = |ex: &mut Executor| {
        // decoder.0.weight is d × 2 (outputs × inputs): its two columns span the decoder's plane.
        let w = block_on(ex.param("decoder.0.weight")).unwrap();
        decoder_angles(&w, d, &pca)
    };
    let before = angles(&mut ex);
    block_on(ex.train(1500)).unwrap();
    block_on(ex.finish()).unwrap();
    let after = angles(&mut ex);
    let largest = after.iter().copied().fold(0.0, f64::max).to_degrees();
    assert!(
        largest < 2.0,
        "largest principal angle after 1,500 steps: {largest:.2}° (from {before:?} rad)"
    );
    assert!(
        before.iter().copied().fold(0.0, f64::max).to_degrees() > 10.0,
        "a fresh decoder's plane is not PCA's: {before:?}"
    );
}
