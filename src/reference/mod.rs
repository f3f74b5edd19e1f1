//! Reference kernels: plain Rust loops, one function per WGSL entry point, same names.
//!
//! They are the test oracle of every GPU kernel and the engine of the CPU executor (the
//! browser fallback), so they are written to be read first and to be reasonably fast
//! second: loops are ordered so the innermost one walks contiguous memory. Each lives in its
//! op's unit (`src/ops/<family>.rs`); this module gathers them under one name. Forward
//! kernels write their outputs; gradient kernels add to theirs.

pub use crate::ops::activation::{
    activate, activation_backward, activation_derivative, activation_forward, sigmoid,
};
pub use crate::ops::conv;
pub use crate::ops::data::{
    concat_columns, corrupt_input, gather_batch, gather_labels, gather_rows, split_columns_backward,
};
pub use crate::ops::linear::{
    linear_backward_bias, linear_backward_input, linear_backward_weight, linear_forward, Threads,
};
pub use crate::ops::loss::{pixel_loss, reconstruction_loss};
pub use crate::ops::optim::adam_update;
pub use crate::ops::penalty::{
    contractive_backward_code, contractive_backward_weight, contractive_penalty,
    contractive_unit_stats, sparsity_backward, sparsity_forward,
};
pub use crate::ops::reduce::accumulate_metric;
pub use crate::ops::vae::{kl_divergence, reparameterize_backward, reparameterize_forward};

#[cfg(test)]
mod tests {
    //! Hand-computed cases, and every backward against central finite differences in f64.
    use super::*;
    use crate::model::{Activation, LossKind, NoiseKind, SparsityPenalty};
    use crate::rng;

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn concatenation_by_hand() {
        let mut y = [0.0; 10];
        concat_columns(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[7.0, 8.0, 9.0, 10.0], &mut y, 2, 3, 2);
        assert_eq!(y, [1.0, 2.0, 3.0, 7.0, 8.0, 4.0, 5.0, 6.0, 9.0, 10.0]);
        let mut da = [0.0; 6];
        split_columns_backward(&y, &mut da, 2, 3, 5);
        assert_eq!(da, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn gathered_labels_are_the_gathered_images_labels() {
        // Image i is filled with the byte i; its label is i % 10.
        let n = 37;
        let images: Vec<u8> = (0..n).flat_map(|i| vec![i as u8; 784]).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let (rows, seed, step) = (8, 3, 5);
        let mut x = vec![0.0; rows * 784];
        let mut cond = vec![-1.0; rows * 10];
        gather_batch(&images, 784, &mut x, rows, n, seed, step);
        gather_labels(&labels, &mut cond, rows, seed, step);
        for b in 0..rows {
            let image = (x[b * 784] * 255.0).round() as usize;
            let row = &cond[b * 10..(b + 1) * 10];
            assert_eq!(row.iter().sum::<f32>(), 1.0);
            assert_eq!(row[image % 10], 1.0, "row {b}: image {image}, one-hot {row:?}");
        }
    }

    #[test]
    fn linear_forward_by_hand() {
        // x = [[1, 2]], w = [[1, 0], [2, -1], [0.5, 0.5]], b = [0, 1, -1]
        let mut y = [0.0; 3];
        linear_forward(
            &[1.0, 2.0],
            &[1.0, 0.0, 2.0, -1.0, 0.5, 0.5],
            &[0.0, 1.0, -1.0],
            &mut y,
            1,
            2,
            3,
        );
        assert_eq!(y, [1.0, 1.0, 0.5]);
    }

    #[test]
    fn linear_backward_by_hand() {
        let (x, w, dy) =
            ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 0.0, -1.0, 2.0, 1.0, 0.0]);
        // rows 2, inputs 2, outputs 3
        let mut dx = [0.0; 4];
        linear_backward_input(Threads::All, &dy, &w, &mut dx, 2, 2, 3);
        assert_eq!(dx, [1.0 - 5.0, 2.0 - 6.0, 2.0 + 3.0, 4.0 + 4.0]);
        let mut dw = [0.0; 6];
        linear_backward_weight(Threads::All, &x, &dy, &mut dw, 2, 2, 3);
        assert_eq!(dw, [1.0 + 6.0, 2.0 + 8.0, 3.0, 4.0, -1.0, -2.0]);
        let mut db = [0.0; 3];
        linear_backward_bias(&dy, &mut db, 2, 3);
        assert_eq!(db, [3.0, 1.0, -1.0]);
    }

    #[test]
    fn activations_by_hand() {
        assert_eq!(activate(Activation::Relu, -2.0), 0.0);
        assert_eq!(activate(Activation::LeakyRelu, -2.0), -0.02);
        assert!(close(activate(Activation::Tanh, 0.5), 0.462_117_16, 1e-6));
        assert!(close(activate(Activation::Sigmoid, 0.0), 0.5, 1e-7));
        assert_eq!(activation_derivative(Activation::Sigmoid, 0.5), 0.25);
    }

    #[test]
    fn bce_from_logits_is_stable_and_correct() {
        // l = 0, t = 1: −log σ(0) = log 2.
        let (v, g) = pixel_loss(LossKind::Bce, 0.0, 1.0);
        assert!(close(v, std::f32::consts::LN_2, 1e-6) && close(g, -0.5, 1e-6));
        // Huge logits stay finite where the naive −t·log σ(l) overflows.
        let (v, _) = pixel_loss(LossKind::Bce, -200.0, 1.0);
        assert!(close(v, 200.0, 1e-6));
        let (v, g) = pixel_loss(LossKind::Bce, 200.0, 1.0);
        assert!(v.abs() < 1e-6 && g.abs() < 1e-6);
        let (v, g) = pixel_loss(LossKind::SigmoidMse, 0.0, 1.0);
        assert!(close(v, 0.25, 1e-6) && close(g, -0.25, 1e-6));
    }

    #[test]
    fn kl_by_hand() {
        // μ = 1, log σ² = 0: KL = ½·μ² = 0.5.  μ = 0, log σ² = ln 2: ½(2 − 1 − ln 2).
        let stats = [1.0, 0.0, 0.0, std::f32::consts::LN_2];
        let (mut d, mut kl) = ([0.0; 4], [0.0; 2]);
        kl_divergence(&stats, &mut d, &mut kl, 2, 1, 1.0);
        assert!(close(kl[0], 0.5, 1e-6));
        assert!(close(kl[1], 0.5 * (1.0 - std::f32::consts::LN_2), 1e-6));
        assert_eq!(d[0], 0.5); // β/B·μ
        assert!(close(d[3], 0.5 * 0.5 * (2.0 - 1.0), 1e-6));
    }

    #[test]
    fn reparameterisation_uses_half_log_variance() {
        // log σ² = ln 4 → σ = 2: z − μ must be 2ε, not 4ε.
        let stats = [3.0, 4f32.ln()];
        let mut z = [0.0];
        reparameterize_forward(&stats, &mut z, 1, 1, 9, 5);
        let eps = rng::normal(9, rng::stream::EPS, 5, 0);
        assert!(close(z[0], 3.0 + 2.0 * eps, 1e-6));
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // With bias correction the first step is lr·g/(|g| + ε) ≈ lr·sign(g).
        let (mut p, mut m, mut v) = ([1.0f32, 1.0], [0.0; 2], [0.0; 2]);
        adam_update(&mut p, &[0.5, -3.0], &mut m, &mut v, 0.1, 0.9, 0.999, 1e-8, 0);
        assert!(close(p[0], 0.9, 1e-5) && close(p[1], 1.1, 1e-5));
    }

    #[test]
    fn gather_batch_reads_permuted_images() {
        let n = 5;
        let images: Vec<u8> = (0..n * 784).map(|i| (i / 784 * 50) as u8).collect();
        let mut x = vec![0.0; 5 * 784];
        gather_batch(&images, 784, &mut x, 5, n, 3, 0);
        let mut firsts: Vec<u32> = (0..5).map(|b| (x[b * 784] * 255.0).round() as u32).collect();
        firsts.sort();
        assert_eq!(firsts, vec![0, 50, 100, 150, 200], "one epoch draws every image once");
        // Rows of floats are drawn in the same order, whole.
        let floats: Vec<f32> = (0..n * 3).map(|i| (i / 3 * 50) as f32 + (i % 3) as f32).collect();
        let mut y = vec![0.0; 5 * 3];
        gather_rows(&floats, 3, &mut y, 5, n, 3, 0);
        for b in 0..5 {
            assert_eq!(y[b * 3], (x[b * 784] * 255.0).round(), "row {b} is the same draw");
            assert_eq!(&y[b * 3 + 1..b * 3 + 3], &[y[b * 3] + 1.0, y[b * 3] + 2.0]);
        }
    }

    // ---- finite differences ----

    /// Central differences of a scalar function of `x`, in f64.
    fn numeric_grad(x: &[f32], f: &dyn Fn(&[f32]) -> f64) -> Vec<f64> {
        let h = 1e-3f64;
        (0..x.len())
            .map(|i| {
                let mut xp = x.to_vec();
                let mut xm = x.to_vec();
                xp[i] = (x[i] as f64 + h) as f32;
                xm[i] = (x[i] as f64 - h) as f32;
                let hh = xp[i] as f64 - xm[i] as f64;
                (f(&xp) - f(&xm)) / hh
            })
            .collect()
    }

    fn assert_grad(analytic: &[f32], numeric: &[f64], what: &str) {
        for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
            assert!(
                (a as f64 - n).abs() <= 2e-3 + 2e-3 * n.abs(),
                "{what}[{i}]: analytic {a}, numeric {n}"
            );
        }
    }

    fn rand_vec(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32).map(|i| rng::normal(seed, 77, 0, i)).collect()
    }

    /// L = Σ c ⊙ y for fixed random c, so dL/dy = c.
    fn weighted_sum(y: &[f32], c: &[f32]) -> f64 {
        y.iter().zip(c).map(|(&a, &b)| a as f64 * b as f64).sum()
    }

    #[test]
    fn linear_backward_matches_finite_differences() {
        let (rows, inputs, outputs) = (3, 5, 4);
        let (x, w, b, c) = (rand_vec(15, 1), rand_vec(20, 2), rand_vec(4, 3), rand_vec(12, 4));
        let run = |x: &[f32], w: &[f32], b: &[f32]| {
            let mut y = vec![0.0; rows * outputs];
            linear_forward(x, w, b, &mut y, rows, inputs, outputs);
            weighted_sum(&y, &c)
        };
        let (mut dx, mut dw, mut db) = (vec![0.0; 15], vec![0.0; 20], vec![0.0; 4]);
        linear_backward_input(Threads::All, &c, &w, &mut dx, rows, inputs, outputs);
        linear_backward_weight(Threads::All, &x, &c, &mut dw, rows, inputs, outputs);
        linear_backward_bias(&c, &mut db, rows, outputs);
        assert_grad(&dx, &numeric_grad(&x, &|x| run(x, &w, &b)), "dx");
        assert_grad(&dw, &numeric_grad(&w, &|w| run(&x, w, &b)), "dw");
        assert_grad(&db, &numeric_grad(&b, &|b| run(&x, &w, b)), "db");
    }

    #[test]
    fn activation_backward_matches_finite_differences() {
        // Keep inputs away from ReLU's kink at 0.
        let x: Vec<f32> =
            rand_vec(16, 5).iter().map(|v| if v.abs() < 0.05 { 0.3 } else { *v }).collect();
        let c = rand_vec(16, 6);
        for f in Activation::EVERY {
            let mut y = vec![0.0; 16];
            activation_forward(f, &x, &mut y);
            let mut dx = vec![0.0; 16];
            activation_backward(f, &y, &c, &mut dx);
            let num = numeric_grad(&x, &|x| {
                let mut y = vec![0.0; 16];
                activation_forward(f, x, &mut y);
                weighted_sum(&y, &c)
            });
            assert_grad(&dx, &num, f.name());
        }
    }

    #[test]
    fn reconstruction_loss_backward_matches_finite_differences() {
        let (rows, cols) = (3, 7);
        let logits = rand_vec(21, 7);
        let target: Vec<f32> = (0..21u32).map(|i| rng::uniform(1, 8, 0, i)).collect();
        for loss in [LossKind::Bce, LossKind::SigmoidMse, LossKind::Mse] {
            let mean_loss = |l: &[f32]| {
                let (mut d, mut r) = (vec![0.0; 21], vec![0.0; rows]);
                reconstruction_loss(loss, l, &target, &mut d, &mut r, rows, cols);
                r.iter().map(|&v| v as f64).sum::<f64>() / rows as f64
            };
            let (mut d, mut r) = (vec![0.0; 21], vec![0.0; rows]);
            reconstruction_loss(loss, &logits, &target, &mut d, &mut r, rows, cols);
            assert_grad(&d, &numeric_grad(&logits, &mean_loss), &format!("{loss:?}"));
        }
    }

    #[test]
    fn vae_backward_matches_finite_differences() {
        // L = β·mean_b KL(stats) + Σ c ⊙ z(stats): both add to dstats.
        let (rows, latent, beta) = (2, 3, 1.5);
        let stats: Vec<f32> = rand_vec(12, 9).iter().map(|v| 0.5 * v).collect();
        let c = rand_vec(6, 10);
        let total = |s: &[f32]| {
            let (mut d, mut kl, mut z) = (vec![0.0; 12], vec![0.0; rows], vec![0.0; 6]);
            kl_divergence(s, &mut d, &mut kl, rows, latent, beta);
            reparameterize_forward(s, &mut z, rows, latent, 4, 2);
            beta as f64 * kl.iter().map(|&v| v as f64).sum::<f64>() / rows as f64
                + weighted_sum(&z, &c)
        };
        let (mut d, mut kl) = (vec![0.0; 12], vec![0.0; rows]);
        kl_divergence(&stats, &mut d, &mut kl, rows, latent, beta);
        reparameterize_backward(&stats, &c, &mut d, rows, latent, 4, 2);
        assert_grad(&d, &numeric_grad(&stats, &total), "dstats");
    }

    #[test]
    fn sparsity_backward_matches_finite_differences() {
        // L = weight·Σⱼ penalty(ρ̂ⱼ(code)) + Σ c ⊙ code … here only the penalty part.
        let (rows, units, target, weight) = (4, 3, 0.1, 2.0);
        let code: Vec<f32> = (0..12u32).map(|i| 0.05 + 0.9 * rng::uniform(3, 8, 0, i)).collect();
        for penalty in [SparsityPenalty::Kl, SparsityPenalty::L1] {
            let total = |c: &[f32]| {
                let (mut rho, mut unit) = (vec![0.0; units], vec![0.0; units]);
                sparsity_forward(penalty, target, c, &mut rho, &mut unit, rows, units);
                weight as f64 * unit.iter().map(|&v| v as f64).sum::<f64>()
            };
            let (mut rho, mut unit) = (vec![0.0; units], vec![0.0; units]);
            sparsity_forward(penalty, target, &code, &mut rho, &mut unit, rows, units);
            let mut d = vec![0.0; 12];
            sparsity_backward(penalty, target, weight, &code, &rho, &mut d, rows, units);
            assert_grad(&d, &numeric_grad(&code, &total), &format!("{penalty:?}"));
        }
    }

    /// The contractive penalty of a sigmoid layer c = σ(W·h + b): weight·mean_b ‖∂c/∂h‖².
    fn contractive_total(h: &[f32], w: &[f32], bias: &[f32], dims: [usize; 3], weight: f32) -> f64 {
        let [rows, inputs, units] = dims;
        let mut a = vec![0.0; rows * units];
        linear_forward(h, w, bias, &mut a, rows, inputs, units);
        let code: Vec<f32> = a.iter().map(|&v| sigmoid(v)).collect();
        let (mut wnorm, mut s2, mut pen) = (vec![0.0; units], vec![0.0; units], vec![0.0; rows]);
        contractive_unit_stats(&code, w, &mut wnorm, &mut s2, rows, units, inputs);
        contractive_penalty(&code, &wnorm, &mut pen, rows, units);
        weight as f64 * pen.iter().map(|&p| p as f64).sum::<f64>() / rows as f64
    }

    #[test]
    fn contractive_penalty_is_the_squared_jacobian_norm() {
        // One row: compare Σⱼ sⱼ²·nⱼ with ‖∂c/∂h‖² by central differences.
        let (inputs, units) = (5, 3);
        let (h, w, bias) = (rand_vec(inputs, 1), rand_vec(units * inputs, 2), rand_vec(units, 3));
        let code_of = |h: &[f32]| {
            let mut a = vec![0.0; units];
            linear_forward(h, &w, &bias, &mut a, 1, inputs, units);
            a.iter().map(|&v| sigmoid(v) as f64).collect::<Vec<_>>()
        };
        let mut fro = 0.0;
        for j in 0..units {
            fro += numeric_grad(&h, &|h| code_of(h)[j]).iter().map(|g| g * g).sum::<f64>();
        }
        let p = contractive_total(&h, &w, &bias, [1, inputs, units], 1.0);
        assert!((p - fro).abs() <= 1e-3 * fro, "penalty {p}, ‖J‖² by differences {fro}");
    }

    #[test]
    fn contractive_backward_matches_finite_differences() {
        let (rows, inputs, units, weight) = (3, 5, 4, 0.7);
        let (h, w, bias) =
            (rand_vec(rows * inputs, 4), rand_vec(units * inputs, 5), rand_vec(units, 6));
        let dims = [rows, inputs, units];
        // Analytic: the code path (dcode → sigmoid → linear) plus the direct W term.
        let mut a = vec![0.0; rows * units];
        linear_forward(&h, &w, &bias, &mut a, rows, inputs, units);
        let code: Vec<f32> = a.iter().map(|&v| sigmoid(v)).collect();
        let (mut wnorm, mut s2) = (vec![0.0; units], vec![0.0; units]);
        contractive_unit_stats(&code, &w, &mut wnorm, &mut s2, rows, units, inputs);
        let mut dcode = vec![0.0; rows * units];
        contractive_backward_code(weight, &code, &wnorm, &mut dcode, rows, units);
        let mut da = vec![0.0; rows * units];
        activation_backward(Activation::Sigmoid, &code, &dcode, &mut da);
        let (mut dw, mut dh) = (vec![0.0; units * inputs], vec![0.0; rows * inputs]);
        linear_backward_weight(Threads::All, &h, &da, &mut dw, rows, inputs, units);
        contractive_backward_weight(weight, &w, &s2, &mut dw, units, inputs);
        linear_backward_input(Threads::All, &da, &w, &mut dh, rows, inputs, units);
        let dw_num = numeric_grad(&w, &|w| contractive_total(&h, w, &bias, dims, weight));
        assert_grad(&dw, &dw_num, "dW");
        let dh_num = numeric_grad(&h, &|h| contractive_total(h, &w, &bias, dims, weight));
        assert_grad(&dh, &dh_num, "dh");
    }

    #[test]
    fn kl_sparsity_is_zero_at_the_target_and_positive_elsewhere() {
        let (mut rho, mut unit) = ([0.0; 2], [0.0; 2]);
        // Unit 0 averages exactly ρ = 0.25; unit 1 averages 0.75.
        sparsity_forward(
            SparsityPenalty::Kl,
            0.25,
            &[0.0, 1.0, 0.5, 0.5],
            &mut rho,
            &mut unit,
            2,
            2,
        );
        assert_eq!(rho, [0.25, 0.75]);
        assert!(unit[0].abs() < 1e-6 && unit[1] > 0.5, "{unit:?}");
    }

    #[test]
    fn corruption_follows_its_kind_and_amount() {
        let n = 20_000;
        let x = vec![0.5f32; n];
        let mut y = vec![0.0; n];
        corrupt_input(NoiseKind::Mask, 0.3, true, &x, &mut y, 1, 0);
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f32 / n as f32;
        assert!((zeros - 0.3).abs() < 0.02, "masked fraction {zeros}");
        assert!(y.iter().all(|&v| v == 0.0 || v == 0.5));
        corrupt_input(NoiseKind::SaltPepper, 0.2, true, &x, &mut y, 1, 0);
        let ones = y.iter().filter(|&&v| v == 1.0).count() as f32 / n as f32;
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f32 / n as f32;
        assert!((ones - 0.1).abs() < 0.01 && (zeros - 0.1).abs() < 0.01, "{ones} {zeros}");
        corrupt_input(NoiseKind::Gaussian, 0.2, true, &x, &mut y, 1, 0);
        let mean = y.iter().sum::<f32>() / n as f32;
        let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n as f32;
        assert!((mean - 0.5).abs() < 0.01 && (var.sqrt() - 0.2).abs() < 0.01, "{mean} {var}");
        assert!(y.iter().all(|v| (0.0..=1.0).contains(v)));
        // Another step, other noise: the same image is corrupted afresh every step.
        let mut z = vec![0.0; n];
        corrupt_input(NoiseKind::Gaussian, 0.2, true, &x, &mut z, 1, 1);
        assert_ne!(y, z);
        // Standardised values are not clipped: the same draws, without the clamp.
        let x = vec![0.9f32; n];
        corrupt_input(NoiseKind::Gaussian, 0.2, false, &x, &mut y, 1, 0);
        corrupt_input(NoiseKind::Gaussian, 0.2, true, &x, &mut z, 1, 0);
        assert!(y.iter().any(|&v| v > 1.0));
        assert!(y.iter().zip(&z).all(|(a, b)| a.clamp(0.0, 1.0) == *b));
    }
}
