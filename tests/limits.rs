//! What the engine refuses, and what it no longer panics on: batch size 1 for every kind on
//! both executors, requests over the budget, non-finite inputs, models too large, weights
//! that overflow in use. Each case was a panic, a hang or a silent NaN once.

mod common;

use common::{gpu, synthetic_digits};
use latent_lab::data::MNIST_SHAPE;
use latent_lab::limits::Budget;
use latent_lab::model::{ModelKind, ModelSpec, Program};
use latent_lab::train::check_in_use;
use latent_lab::Executor;
use pollster::block_on;

fn tiny(kind: ModelKind) -> ModelSpec {
    ModelSpec { kind, hidden: vec![24], latent: 3, channels: vec![4], ..ModelSpec::of_kind(kind) }
}

/// Five steps of batch 1 on `ex`: finite losses, and the step counter moves.
fn five_steps_of_one(ex: &mut Executor, what: &str) -> Vec<f32> {
    block_on(ex.train(5)).unwrap_or_else(|e| panic!("{what}: {e}"));
    let metrics = block_on(ex.finish()).unwrap();
    let recon: Vec<f32> = metrics.iter().map(|m| m.recon).collect();
    assert!(metrics.iter().all(|m| m.is_finite()), "{what}: {metrics:?}");
    assert_eq!(ex.step(), 5, "{what}");
    recon
}

#[test]
fn batch_size_one_trains_every_kind_on_both_executors() {
    for kind in ModelKind::ALL {
        let (shape, rows, labels) = common::data_for(kind, 40, 5);
        let spec = ModelSpec { batch_size: 1, ..tiny(kind) };
        let program = Program::build(&spec, &shape).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        // Every activation of the step has its gradient (a batch of one row included).
        assert!(program.train.iter().any(|op| matches!(op, latent_lab::model::Op::AdamUpdate(_))));
        let mut cpu = Executor::cpu_sharing(program.clone(), rows.clone());
        cpu.set_train_labels(&labels).unwrap();
        let cpu_loss = five_steps_of_one(&mut cpu, &format!("{kind:?} on the CPU"));
        let Some(ctx) = gpu() else { continue };
        let mut gpu = block_on(Executor::gpu_rows(ctx, program, &rows)).unwrap();
        gpu.set_train_labels(&labels).unwrap();
        let gpu_loss = five_steps_of_one(&mut gpu, &format!("{kind:?} on the GPU"));
        common::assert_close(
            &gpu_loss,
            &cpu_loss,
            1e-2,
            1e-3,
            &format!("{kind:?}: batch-1 losses"),
        );
    }
}

#[test]
fn requests_over_the_budget_are_refused_before_anything_is_allocated() {
    let images = synthetic_digits(8, 1);
    let spec = tiny(ModelKind::Vae);
    let mut ex = Executor::cpu(Program::build(&spec, &MNIST_SHAPE).unwrap(), &images);
    let rows = Budget::HERE.request_rows + 1;
    let e = block_on(ex.decode(&vec![0.0; rows * spec.latent])).unwrap_err().to_string();
    assert!(
        e.contains("decode asks for 100,001 rows") && e.contains("100,000 rows per request"),
        "{e}"
    );
    let e = block_on(ex.sample(rows, 1)).unwrap_err().to_string();
    assert!(e.contains("sample asks for 100,001 rows"), "{e}");
    // 1.4 million rows of a 2-wide code: the request the page used to die on.
    let e = block_on(ex.decode(&vec![0.0; 2_800_000 / 2 * spec.latent])).unwrap_err().to_string();
    assert!(e.contains("1,400,000 rows") && e.contains("smaller requests"), "{e}");
    // At the limit it works.
    assert_eq!(block_on(ex.sample(Budget::HERE.request_rows, 1)).unwrap().len(), rows * 784 - 784);
}

#[test]
fn non_finite_inputs_are_refused_with_where_they_are() {
    let images = synthetic_digits(8, 1);
    let spec = tiny(ModelKind::Vae);
    let mut ex = Executor::cpu(Program::build(&spec, &MNIST_SHAPE).unwrap(), &images);
    let mut pixels = vec![0.5; 2 * 784];
    pixels[784 + 3] = f32::NAN;
    let e = block_on(ex.reconstruct(&pixels)).unwrap_err().to_string();
    assert!(e.contains("pixels[787] (row 1) is NaN") && e.contains("finite"), "{e}");
    pixels[784 + 3] = f32::INFINITY;
    let e = block_on(ex.encode(&pixels)).unwrap_err().to_string();
    assert!(e.contains("is inf"), "{e}");
    let e = block_on(ex.decode(&[0.0, f32::NEG_INFINITY, 0.0])).unwrap_err().to_string();
    assert!(e.contains("z[1] (row 0) is -inf"), "{e}");
    let e = block_on(ex.decode(&[0.0; 4])).unwrap_err().to_string();
    assert!(e.contains("not a multiple of 3"), "{e}");
}

#[test]
fn models_too_large_are_refused_with_the_limit_and_the_way_under_it() {
    // 174 M parameters: over both budgets.
    let e =
        Program::build(&ModelSpec { hidden: vec![4096; 6], ..ModelSpec::default() }, &MNIST_SHAPE)
            .unwrap_err()
            .to_string();
    assert!(e.contains("174,269,204 parameters") && e.contains("64,000,000"), "{e}");
    // Few parameters, but activations past 2 GiB: 1024 rows of 256 × 14 × 14 feature maps.
    let conv = ModelSpec {
        channels: vec![256, 256],
        batch_size: 1024,
        ..ModelSpec::of_kind(ModelKind::ConvAe)
    };
    let e = Program::build(&conv, &MNIST_SHAPE).unwrap_err().to_string();
    assert!(e.contains("activations need 2.") && e.contains("2.00 GiB on the command line"), "{e}");
    assert!(e.contains("lower batch_size (now 1024)") && e.contains("fewer channels"), "{e}");
    assert!(Program::build(&ModelSpec { batch_size: 64, ..conv }, &MNIST_SHAPE).is_ok());
}

/// A model whose every weight is f32::MAX: finite, so the file reads, but it overflows.
fn overflowing(ex: &Executor) -> Vec<Vec<f32>> {
    ex.program()
        .params
        .iter()
        .map(|p| vec![f32::MAX; ex.program().tensors[p.value].len()])
        .collect()
}

#[test]
fn weights_that_overflow_in_use_are_refused_on_both_executors() {
    let images = synthetic_digits(20, 3);
    let x: Vec<f32> = images[..4 * 784].iter().map(|&p| p as f32 / 255.0).collect();
    for kind in [ModelKind::Vae, ModelKind::Ae, ModelKind::ConvAe, ModelKind::Cvae] {
        let program = Program::build(&tiny(kind), &MNIST_SHAPE).unwrap();
        let mut executors = vec![Executor::cpu(program.clone(), &images)];
        if let Some(ctx) = gpu() {
            executors.push(block_on(Executor::gpu(ctx, program.clone(), &images)).unwrap());
        }
        for mut ex in executors {
            // Good weights pass.
            let good = program.initial_params();
            block_on(check_in_use(&mut ex, &good, &x, &[1, 2, 3, 4]))
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            let bad = overflowing(&ex);
            ex.set_params(&bad).unwrap();
            let e =
                block_on(check_in_use(&mut ex, &bad, &x, &[1, 2, 3, 4])).unwrap_err().to_string();
            assert!(e.contains("overflow in use") && e.contains("a real image"), "{kind:?}: {e}");
            // Without real images, digits decoded from N(0, I) are the probe.
            let e = block_on(check_in_use(&mut ex, &bad, &[], &[])).unwrap_err().to_string();
            assert!(e.contains("overflow in use") && e.contains("N(0, I)"), "{kind:?}: {e}");
        }
    }
}
