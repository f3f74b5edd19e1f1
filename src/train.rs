//! Training schedule helpers and evaluation on held-out digits.

use serde::Serialize;

use crate::backend::Executor;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::model::{ModelKind, ModelSpec, NoiseSpec, Output};
use crate::reference;
use crate::rng;
use crate::weights::WeightsError;

/// Steps needed to see every training image `epochs` times (the last batch may wrap into
/// the next epoch: minibatches are drawn from a per-epoch permutation).
pub fn steps_for_epochs(epochs: f64, images: usize, batch: usize) -> u32 {
    ((epochs * images as f64) / batch as f64).ceil().max(1.0) as u32
}

/// Quality on a set of rows (images, table rows, windows), per row or per value as named.
/// One row of [`Evaluation::knn_accuracy`]: the same classifier in three spaces.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KnnAccuracy {
    pub code: f64,
    pub pixels: f64,
    pub pca: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub split: String,
    pub samples: usize,
    /// Mean squared error of the reconstruction, per value (pixel, feature or point).
    pub mse_per_pixel: f64,
    /// Squared error of the reconstruction summed over a row's values, mean over rows.
    pub mse_per_row: f64,
    /// The MSE per value of PCA with as many components as the code, fitted on the training
    /// split: the linear baseline (set by `latent-lab eval --pca`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca_mse_per_pixel: Option<f64>,
    /// The same for PCA of every width from 1 to the code's (one decomposition): the curve
    /// the model's `mse_per_pixel` is placed on (`eval --pca`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca_mse_by_k: Option<Vec<f64>>,
    /// How many linear dimensions the code is worth: the fewest PCA components whose MSE on
    /// the same rows is no more than the model's (`eval --pca`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca_equivalent_k: Option<usize>,
    /// A linear model's (`ModelSpec::is_linear`) principal angles, in degrees, smallest
    /// first, between its decoder's subspace and PCA's of the code's width (`eval --pca`):
    /// all near 0 once it has learned what PCA finds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca_angles_deg: Option<Vec<f64>>,
    /// The encoder as a feature extractor (`latent-lab eval --knn`): the accuracy of a
    /// 1-nearest-neighbour classifier of the evaluated rows, trained on the first 10, 100 and
    /// 1,000 labelled training rows, in three spaces: the code (μ of a VAE), the raw values
    /// and PCA of the code's width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub knn_accuracy: Option<std::collections::BTreeMap<String, KnnAccuracy>>,
    /// Binary cross-entropy of the reconstruction, summed over pixels, mean over images
    /// (nats; images only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bce_per_image: Option<f64>,
    /// KL(q(z|x) ‖ N(0, I)) per row (VAE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kl: Option<f64>,
    /// The training loss per row with z sampled: BCE + KL for images (the negative ELBO in
    /// nats), squared error + KL for standardised rows (VAE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    /// The corruption `denoise_mse` was measured with, e.g. `gaussian 0.5`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<String>,
    /// MSE per pixel between the reconstruction of a corrupted image and the clean image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denoise_mse: Option<f64>,
    /// Mean of the sigmoid code over units and images (sparse AE; compare with ρ).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_code_activation: Option<f64>,
    /// Fraction of code units above ½ per image, averaged (sparse AE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_fraction: Option<f64>,
    /// Conditional models: the fraction of samples drawn with label k that a 1-nearest-
    /// neighbour classifier over the evaluated digits recognises as k.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cond_accuracy: Option<f64>,
    /// Mean over images of ‖∂code/∂x‖_F, the whole encoder's Jacobian (μ for a VAE): how
    /// much the code moves when the input is nudged (dense encoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jacobian_fro: Option<f64>,
}

/// First RNG step of evaluation's corruption draws: far from any training step, so test
/// digits never see the noise of a training minibatch.
const EVAL_NOISE_STEP: u32 = 0x8000_0000;

/// Reconstructs every image of `data` and measures the error. A VAE decodes a sampled
/// z = μ + σ·ε (ε from the counter-based RNG at `seed`), as its training loss does; an AE
/// decodes its code. With `noise` (a denoising AE's own noise unless given), each image is
/// also corrupted (the shared RNG at `seed`) and its reconstruction compared with the clean
/// image: `denoise_mse`.
pub async fn evaluate(
    ex: &mut Executor,
    data: &Dataset,
    split: &str,
    seed: u32,
    noise: Option<NoiseSpec>,
) -> Result<Evaluation> {
    const CHUNK: usize = 1024;
    let spec = ex.program().spec.clone();
    let noise = noise.or((spec.kind == ModelKind::Dae).then_some(spec.noise));
    let sparse = spec.kind == ModelKind::Sparse;
    let (mut se, mut bce, mut kl, mut dse, mut code_sum, mut active) =
        (0f64, 0f64, 0f64, 0f64, 0f64, 0f64);
    let params = ex.params().await?;
    let dense = !spec.kind.is_convolutional();
    let d = ex.program().input_size();
    let pixels = ex.program().shape.output() == Output::Sigmoid;
    // BCE is of σ(logits): not of a linear image model's logits.
    let sigmoid = spec.output_for(&ex.program().shape) == Output::Sigmoid;
    let mut jacobian = 0f64;
    let no_labels = vec![0; data.len()];
    let all_labels = if data.has_labels() { &data.labels } else { &no_labels };
    for (chunk, start) in (0..data.len()).step_by(CHUNK).enumerate() {
        let end = (start + CHUNK).min(data.len());
        let x = data.rows_f32(start..end);
        let labels = Some(&all_labels[start..end]);
        if let Some(n) = noise {
            let mut noisy = vec![0.0; x.len()];
            let step = EVAL_NOISE_STEP + chunk as u32;
            reference::corrupt_input(n.kind, n.amount, pixels, &x, &mut noisy, seed, step);
            let y = ex.reconstruct_labeled(&noisy, labels).await?;
            dse += y.iter().zip(&x).map(|(&p, &t)| ((p - t) as f64).powi(2)).sum::<f64>();
        }
        if dense {
            for (image, &label) in x.chunks_exact(d).zip(&all_labels[start..end]) {
                jacobian += encoder_jacobian_sq(&spec, &params, image, label).sqrt();
            }
        }
        let enc = ex.encode_labeled(&x, labels).await?;
        if sparse {
            code_sum += enc.mu.iter().map(|&c| c as f64).sum::<f64>();
            active += enc.mu.iter().filter(|&&c| c > 0.5).count() as f64 / enc.latent as f64;
        }
        let z = match &enc.logvar {
            None => enc.mu.clone(),
            Some(logvar) => {
                let mut z = enc.mu.clone();
                for (i, (zi, &lv)) in z.iter_mut().zip(logvar).enumerate() {
                    let eps =
                        rng::normal(seed, rng::stream::EVAL, 0, (start * enc.latent + i) as u32);
                    *zi += (0.5 * lv).exp() * eps;
                    kl += -0.5 * (1.0 + lv as f64 - (enc.mu[i] as f64).powi(2) - (lv as f64).exp());
                }
                z
            }
        };
        let y = ex.decode_labeled(&z, labels).await?;
        for (&p, &t) in y.iter().zip(&x) {
            let (p, t) = (p as f64, t as f64);
            se += (p - t) * (p - t);
            if sigmoid {
                // As PyTorch's binary_cross_entropy: logs clamped at −100.
                bce -= t * p.ln().max(-100.0) + (1.0 - t) * (1.0 - p).ln().max(-100.0);
            }
        }
    }
    let cond_accuracy = match spec.kind.is_conditional() {
        true => Some(conditional_accuracy(ex, data, seed).await?),
        false => None,
    };
    let n = data.len().max(1) as f64;
    let values = n * d as f64;
    let variational = spec.kind.is_variational();
    let recon = if sigmoid { bce } else { se };
    Ok(Evaluation {
        model: spec.kind.name().to_string(),
        split: split.to_string(),
        samples: data.len(),
        mse_per_pixel: se / values,
        mse_per_row: se / n,
        pca_mse_per_pixel: None,
        pca_mse_by_k: None,
        pca_equivalent_k: None,
        pca_angles_deg: None,
        knn_accuracy: None,
        bce_per_image: sigmoid.then_some(bce / n),
        kl: variational.then_some(kl / n),
        loss: variational.then_some((recon + kl) / n),
        noise: noise.map(|n| format!("{} {}", n.kind.name(), n.amount)),
        denoise_mse: noise.map(|_| dse / values),
        mean_code_activation: sparse.then(|| code_sum / (n * spec.latent as f64)),
        active_fraction: sparse.then_some(active / n),
        jacobian_fro: dense.then_some(jacobian / n),
        cond_accuracy,
    })
}

/// Real images [`check_in_use`] runs through a model.
pub const PROBE_IMAGES: usize = 16;

/// Refuses weights that are finite but overflow in use (values of 1e5 through a few layers,
/// say): encodes up to [`PROBE_IMAGES`] `images` (with their `labels` for a conditional
/// model) and decodes their codes, and requires every code, σ² of a VAE, output and (for a
/// dense encoder, from `params`) the encoder's Jacobian to be finite. Without images it
/// probes with digits decoded from N(0, I) — the decoder's sigmoid hides an overflow of its
/// own, the encoder reading them does not. Run when weights are loaded, before the model
/// replaces the current one, so that figures and pictures are never computed from NaN.
pub async fn check_in_use(
    ex: &mut Executor,
    params: &[Vec<f32>],
    images: &[f32],
    labels: &[u8],
) -> Result<()> {
    let spec = ex.program().spec.clone();
    let overflow = |what: &str, value: f32| {
        Err(Error::Weights(WeightsError::Overflow { what: what.to_string(), value }))
    };
    let first_bad = |v: &[f32]| v.iter().copied().find(|x| !x.is_finite());
    let digits: Vec<u8> = (0..PROBE_IMAGES).map(|i| (i % crate::model::CLASSES) as u8).collect();
    let d = ex.program().input_size();
    let real = format!("a real {}", ex.program().shape.row_name());
    let (images, labels, what) = if images.len() >= d {
        (images.to_vec(), labels, real.as_str())
    } else {
        let draws = 4;
        let labels = &digits[..draws];
        let cond = spec.kind.is_conditional().then_some(labels);
        let samples = ex.sample_labeled(draws, 0, cond).await?;
        if let Some(v) = first_bad(&samples) {
            return overflow("a sample decoded from N(0, I)", v);
        }
        (samples, labels, "a sample decoded from N(0, I)")
    };
    let mut rows = (images.len() / d).min(PROBE_IMAGES);
    if !labels.is_empty() {
        rows = rows.min(labels.len());
    }
    let x = &images[..rows * d];
    let labels = (!labels.is_empty()).then(|| &labels[..rows]);
    let enc = ex.encode_labeled(x, labels).await?;
    if let Some(v) = first_bad(&enc.mu) {
        return overflow(&format!("the code of {what}"), v);
    }
    if let Some(logvar) = &enc.logvar {
        let variance: Vec<f32> = logvar.iter().map(|&lv| lv.exp()).collect();
        if let Some(v) = first_bad(&variance) {
            return overflow(&format!("σ² = exp(log σ²) of {what}"), v);
        }
    }
    if let Some(v) = first_bad(&ex.decode_labeled(&enc.mu, labels).await?) {
        return overflow(&format!("the reconstruction of {what}"), v);
    }
    if !spec.kind.is_convolutional() {
        let j = encoder_jacobian_sq(&spec, params, &x[..d], labels.map_or(0, |l| l[0]));
        if !j.is_finite() {
            return overflow(&format!("the encoder's Jacobian ‖∂code/∂x‖² on {what}"), j as f32);
        }
    }
    Ok(())
}

/// Samples per digit for `cond_accuracy`.
const SAMPLES_PER_CLASS: usize = 100;

/// The fraction of digits decoded from z ~ N(0, I) with label k that a 1-nearest-neighbour
/// classifier (Euclidean, over `data`'s labelled digits) calls k, over 100 draws per digit.
async fn conditional_accuracy(ex: &mut Executor, data: &Dataset, seed: u32) -> Result<f64> {
    let n = SAMPLES_PER_CLASS * crate::model::CLASSES;
    let labels: Vec<u8> = (0..n).map(|i| (i / SAMPLES_PER_CLASS) as u8).collect();
    let samples = ex.sample_labeled(n, seed, Some(&labels)).await?;
    let d = ex.program().input_size();
    let reference = data.rows_f32(0..data.len());
    let norms: Vec<f32> =
        reference.chunks_exact(d).map(|r| r.iter().map(|v| v * v).sum()).collect();
    let mut correct = 0;
    for (sample, &label) in samples.chunks_exact(d).zip(&labels) {
        // ‖s − r‖² = ‖s‖² − 2 s·r + ‖r‖²; ‖s‖² is the same for every r.
        let nearest = reference
            .chunks_exact(d)
            .zip(&norms)
            .map(|(r, &rn)| rn - 2.0 * r.iter().zip(sample).map(|(a, b)| a * b).sum::<f32>())
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        if nearest.is_some_and(|i| data.labels.get(i) == Some(&label)) {
            correct += 1;
        }
    }
    Ok(correct as f64 / n as f64)
}

/// ‖∂code/∂x‖²_F of one image for a dense encoder with `params` in [`Program`] order
/// (encoder layers first): the code is the sigmoid code of a sparse or contractive AE, μ of a
/// VAE, the linear code otherwise. A conditional encoder also sees `label` (one-hot; the
/// Jacobian is with respect to the pixels only); other encoders ignore it. Computed exactly by the chain rule, J = D_L·W_L·…·D_1·W_1
/// with D the activations' derivatives, accumulated from the code side.
///
/// [`Program`]: crate::model::Program
pub fn encoder_jacobian_sq(spec: &ModelSpec, params: &[Vec<f32>], x: &[f32], label: u8) -> f64 {
    let layers = spec.hidden.len() + 1;
    let z = spec.latent;
    // Forward, keeping each hidden layer's activation derivative.
    let mut a = x.to_vec();
    if spec.kind.is_conditional() {
        let mut one_hot = [0.0; crate::model::CLASSES];
        one_hot[label as usize % crate::model::CLASSES] = 1.0;
        a.extend(one_hot);
    }
    let mut derivs = Vec::with_capacity(layers);
    for l in 0..layers {
        let (w, b) = (&params[2 * l], &params[2 * l + 1]);
        let (inputs, outputs) = (a.len(), b.len());
        let mut y = vec![0.0; outputs];
        reference::linear_forward(&a, w, b, &mut y, 1, inputs, outputs);
        if l + 1 < layers {
            y.iter_mut().for_each(|v| *v = reference::activate(spec.activation, *v));
            derivs.push(
                y.iter().map(|&v| reference::activation_derivative(spec.activation, v)).collect(),
            );
        } else {
            let code_deriv: Vec<f32> = if spec.kind.sigmoid_code() {
                y[..z]
                    .iter()
                    .map(|&v| reference::sigmoid(v) * (1.0 - reference::sigmoid(v)))
                    .collect()
            } else {
                vec![1.0; z]
            };
            derivs.push(code_deriv);
        }
        a = y;
    }
    // Backward: R = D_code·W_L (Z × H), then R ← (R·D_l)·W_l down to the input.
    let w_last = &params[2 * (layers - 1)];
    let width = w_last.len() / params[2 * (layers - 1) + 1].len();
    let mut r: Vec<f32> = (0..z)
        .flat_map(|j| w_last[j * width..(j + 1) * width].iter().map(move |&v| (j, v)))
        .map(|(j, v)| derivs[layers - 1][j] * v)
        .collect();
    let mut cols = width;
    for l in (0..layers - 1).rev() {
        let w = &params[2 * l];
        let inputs = w.len() / cols;
        let mut next = vec![0.0f32; z * inputs];
        for j in 0..z {
            let out = &mut next[j * inputs..(j + 1) * inputs];
            for k in 0..cols {
                let coef = r[j * cols + k] * derivs[l][k];
                if coef != 0.0 {
                    for (o, &wv) in out.iter_mut().zip(&w[k * inputs..(k + 1) * inputs]) {
                        *o += coef * wv;
                    }
                }
            }
        }
        r = next;
        cols = inputs;
    }
    // Columns past the input's are the label's.
    r.chunks_exact(cols).flat_map(|row| &row[..x.len()]).map(|&v| (v as f64) * (v as f64)).sum()
}
