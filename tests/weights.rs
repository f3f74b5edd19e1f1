//! Weights files through the executors: exact round trips (and single parameters read
//! back), and bad files that change nothing.

mod common;

use common::{gpu, synthetic_digits};
use latent_lab::data::MNIST_SHAPE;
use latent_lab::model::{ModelSpec, Program};
use latent_lab::weights::{load_weights, match_tensors, save_weights, ModelInfo, Tensor};
use latent_lab::Executor;
use pollster::block_on;

fn tensors(program: &Program, values: Vec<Vec<f32>>) -> Vec<Tensor> {
    program
        .params
        .iter()
        .zip(values)
        .map(|(p, data)| Tensor { name: p.name.clone(), shape: p.shape.clone(), data })
        .collect()
}

/// Trains a little, saves, loads into a fresh executor: identical parameters, bit for bit,
/// and identical reconstructions.
fn round_trip(make: &dyn Fn(Program) -> Executor) {
    let images = synthetic_digits(200, 5);
    let spec = ModelSpec { hidden: vec![64], latent: 3, batch_size: 20, ..ModelSpec::default() };
    let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
    let mut a = make(program.clone());
    block_on(a.train(10)).unwrap();
    block_on(a.finish()).unwrap();
    let trained = block_on(a.params()).unwrap();
    let bytes = save_weights(&ModelInfo::digits(spec.clone()), &tensors(&program, trained.clone()));

    let (loaded_spec, loaded) = load_weights(&bytes).unwrap();
    assert_eq!(loaded_spec, ModelInfo::digits(spec.clone()));
    let program_b = Program::build(&loaded_spec.spec, &loaded_spec.shape).unwrap();
    let values = match_tensors(&program_b.param_shapes(), loaded).unwrap();
    let mut b = make(program_b);
    b.set_params(&values).unwrap();
    let back = block_on(b.params()).unwrap();
    for (x, y) in trained.iter().zip(&back) {
        assert!(x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()), "parameters changed");
    }
    // One parameter read alone is the same tensor as in the full read.
    for (p, all) in b.program().params.clone().iter().zip(&back) {
        assert_eq!(&block_on(b.param(&p.name)).unwrap(), all, "{}", p.name);
    }
    let err = block_on(b.param("encoder.9.weight")).unwrap_err();
    assert!(err.to_string().contains("no parameter encoder.9.weight"), "{err}");
    let x: Vec<f32> = images[..5 * 784].iter().map(|&p| p as f32 / 255.0).collect();
    assert_eq!(block_on(a.reconstruct(&x)).unwrap(), block_on(b.reconstruct(&x)).unwrap());
}

#[test]
fn save_load_round_trip_is_exact_on_the_cpu() {
    let images = synthetic_digits(200, 5);
    round_trip(&|p| Executor::cpu(p, &images));
}

#[test]
fn save_load_round_trip_is_exact_on_the_gpu() {
    let Some(ctx) = gpu() else { return };
    let images = synthetic_digits(200, 5);
    round_trip(&|p| block_on(Executor::gpu(ctx, p, &images)).unwrap());
}

#[test]
fn weights_of_another_model_are_refused_with_the_tensor_named() {
    let small = ModelSpec { hidden: vec![64], latent: 3, ..ModelSpec::default() };
    let other = ModelSpec { hidden: vec![64], latent: 4, ..ModelSpec::default() };
    let p_other = Program::build(&other, &MNIST_SHAPE).unwrap();
    // A file whose metadata claims `small` but holds `other`'s tensors: the spec does not
    // match the tensors.
    let bytes = save_weights(
        &ModelInfo::digits(small.clone()),
        &tensors(&p_other, p_other.initial_params()),
    );
    let (spec, loaded) = load_weights(&bytes).unwrap();
    let err =
        match_tensors(&Program::build(&spec.spec, &spec.shape).unwrap().param_shapes(), loaded)
            .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("encoder.1.weight") || msg.contains("decoder.0.weight"), "{msg}");
    assert!(msg.contains('6') || msg.contains('8'), "names the shapes: {msg}");
}

#[test]
fn set_params_with_wrong_lengths_errors_and_keeps_the_model() {
    let images = synthetic_digits(50, 6);
    let program =
        Program::build(&ModelSpec { hidden: vec![32], ..ModelSpec::default() }, &MNIST_SHAPE)
            .unwrap();
    let mut ex = Executor::cpu(program, &images);
    let before = block_on(ex.params()).unwrap();
    let mut bad = before.clone();
    bad[0].pop();
    let err = ex.set_params(&bad).unwrap_err().to_string();
    assert!(err.contains("encoder.0.weight"), "{err}");
    assert_eq!(block_on(ex.params()).unwrap(), before);
}
