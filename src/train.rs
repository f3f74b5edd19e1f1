//! Training schedule helpers and evaluation on held-out digits.

use serde::Serialize;

use crate::backend::Executor;
use crate::data::Dataset;
use crate::error::Result;
use crate::rng;

/// Steps needed to see every training image `epochs` times (the last batch may wrap into
/// the next epoch: minibatches are drawn from a per-epoch permutation).
pub fn steps_for_epochs(epochs: f64, images: usize, batch: usize) -> u32 {
    ((epochs * images as f64) / batch as f64).ceil().max(1.0) as u32
}

/// Quality on a set of images, per image or per pixel as named.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub split: String,
    pub samples: usize,
    /// Mean squared error of the reconstruction, per pixel.
    pub mse_per_pixel: f64,
    /// Binary cross-entropy of the reconstruction, summed over pixels, mean over images (nats).
    pub bce_per_image: f64,
    /// KL(q(z|x) ‖ N(0, I)) per image (VAE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kl: Option<f64>,
    /// BCE + KL per image: the negative ELBO in nats (VAE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
}

/// Reconstructs every image of `data` and measures the error. A VAE decodes a sampled
/// z = μ + σ·ε (ε from the counter-based RNG at `seed`), as its training loss does; an AE
/// decodes its code.
pub async fn evaluate(
    ex: &mut Executor,
    data: &Dataset,
    split: &str,
    seed: u32,
) -> Result<Evaluation> {
    const CHUNK: usize = 1024;
    let spec = ex.program().spec.clone();
    let (mut se, mut bce, mut kl) = (0f64, 0f64, 0f64);
    for start in (0..data.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(data.len());
        let x = data.images_f32(start..end);
        let enc = ex.encode(&x).await?;
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
        let y = ex.decode(&z).await?;
        for (&p, &t) in y.iter().zip(&x) {
            let (p, t) = (p as f64, t as f64);
            se += (p - t) * (p - t);
            // As PyTorch's binary_cross_entropy: logs clamped at −100.
            bce -= t * p.ln().max(-100.0) + (1.0 - t) * (1.0 - p).ln().max(-100.0);
        }
    }
    let n = data.len().max(1) as f64;
    let variational = spec.kind.is_variational();
    Ok(Evaluation {
        model: spec.kind.name().to_string(),
        split: split.to_string(),
        samples: data.len(),
        mse_per_pixel: se / (n * crate::model::INPUT_SIZE as f64),
        bce_per_image: bce / n,
        kl: variational.then_some(kl / n),
        loss: variational.then_some((bce + kl) / n),
    })
}
