//! `latent-lab eval` and `latent-lab sample`: what saved weights do.

use std::path::Path;

use latent_lab::compare::{decoder_angles, knn_by_count, KNN_LABELS};
use latent_lab::data::{InputShape, Values};
use latent_lab::model::{NoiseKind, NoiseSpec};
use latent_lab::pca::Pca;
use latent_lab::train::{check_in_use, evaluate, KnnAccuracy, PROBE_IMAGES};

use crate::args::{EvalArgs, SampleArgs, SplitArg};
use crate::shared::{self, emit, fail, EvalLine, Result};

pub async fn eval(a: EvalArgs) -> Result<()> {
    let (info, program, values) = shared::read_weights(&a.weights)?;
    let spec = info.spec.clone();
    let (data, path) = shared::load(&a.data, info.normalisation.as_ref())?;
    if data.shape() != info.shape {
        fail!(
            "{}: the model takes {} rows, {} holds {} rows",
            a.weights.display(),
            info.shape,
            path.display(),
            data.shape()
        );
    }
    let (set, name) = match a.split {
        SplitArg::Test => (&data.test, "test"),
        SplitArg::Train => (&data.train, "train"),
    };
    let normal;
    let (set, name) = if a.normal {
        normal = match set.with_label(0) {
            Some(rows) if !rows.is_empty() => rows,
            Some(_) => {
                fail!("--normal: the {name} split of {} has no rows labelled 0", path.display())
            }
            None => fail!("--normal: {} has no labels to tell normal rows by", path.display()),
        };
        (&normal, if name == "test" { "test (normal rows)" } else { "train (normal rows)" })
    } else {
        (set, name)
    };
    let (mut ex, _) = shared::executor(a.backend, program, &Values::default()).await?;
    let backend = ex.backend();
    ex.set_params(&values)?;
    let probe = set.len().min(PROBE_IMAGES);
    let labels = if set.has_labels() { &set.labels[..probe] } else { &[] };
    if let Err(e) = check_in_use(&mut ex, &values, &set.rows_f32(0..probe), labels).await {
        fail!("{}: {e}", a.weights.display());
    }
    let noise = match a.noise {
        None => None,
        Some(kind) => {
            let kind: NoiseKind = kind.into();
            let amount = a.noise_amount.unwrap_or(NoiseSpec::default().amount);
            let max = if kind == NoiseKind::Gaussian { 10.0 } else { 1.0 };
            if !(amount.is_finite() && amount >= 0.0 && amount <= max) {
                fail!(
                    "--noise-amount {amount}: expected a number from 0 to {max} for {} noise",
                    kind.name()
                );
            }
            Some(NoiseSpec { kind, amount })
        }
    };
    if a.knn {
        if spec.kind.is_conditional() {
            fail!("--knn: a conditional model's code is given the label; it is no feature of the digit alone");
        }
        if !set.has_labels() || !data.train.has_labels() {
            fail!("--knn: {} has no labels to classify by", path.display());
        }
    }
    let mut evaluation = evaluate(&mut ex, set, name, spec.seed, noise).await?;
    if a.pca || a.knn {
        let train = data.train.rows_f32(0..data.train.len());
        let d = info.shape.size();
        let rows = set.rows_f32(0..set.len());
        // One decomposition: the code's width for the baseline and the classifier, every
        // width for the curve that places the model on it.
        let all = Pca::fit(&train, d, if a.pca { d } else { spec.latent.min(d) })?;
        let pca = all.truncated(spec.latent);
        if a.pca {
            let curve = all.mse_by_width(&rows);
            evaluation.pca_mse_per_pixel = Some(pca.mse(&rows));
            evaluation.pca_equivalent_k =
                curve.iter().position(|&m| m <= evaluation.mse_per_pixel).map(|k| k + 1);
            evaluation.pca_mse_by_k = Some(curve[..spec.latent.min(d)].to_vec());
            if spec.is_linear(&info.shape) {
                let w = ex.param("decoder.0.weight").await?;
                let angles = decoder_angles(&w, d, &pca);
                evaluation.pca_angles_deg = Some(angles.iter().map(|a| a.to_degrees()).collect());
            }
        }
        if a.knn {
            evaluation.knn_accuracy =
                Some(knn_accuracy(&mut ex, &data.train, set, &rows, &pca).await?);
        }
    }
    // A figure that is not a number would print as null: say so instead.
    let figures = serde_json::to_value(&evaluation)?;
    if let Some((key, _)) = figures.as_object().into_iter().flatten().find(|(_, v)| v.is_null()) {
        fail!(
            "{}: the evaluation's `{key}` is not a finite number: the weights overflow on these \
             digits",
            a.weights.display()
        );
    }
    emit(serde_json::to_string(&EvalLine { event: None, eval: &evaluation, backend })?)
}

/// [`Evaluation::knn_accuracy`](latent_lab::train::Evaluation): 1-NN accuracy on `set`
/// (its values `rows`) from the first 10, 100 and 1,000 rows of `train`, on the codes, the
/// values and the PCA coordinates.
async fn knn_accuracy(
    ex: &mut latent_lab::Executor,
    train: &latent_lab::data::Dataset,
    set: &latent_lab::data::Dataset,
    rows: &[f32],
    pca: &Pca,
) -> Result<std::collections::BTreeMap<String, KnnAccuracy>> {
    let d = pca.width();
    let most = train.len().min(KNN_LABELS[2]);
    let counts: Vec<usize> = KNN_LABELS.into_iter().filter(|&n| n <= most).collect();
    let labelled = train.rows_f32(0..most);
    let k = pca.components.len();
    let by = |known: &[f32], queries: &[f32], width: usize| {
        knn_by_count(known, &train.labels, queries, &set.labels, width, &counts)
    };
    let code = by(&ex.encode(&labelled).await?.mu, &ex.encode(rows).await?.mu, k)?;
    let pixels = by(&labelled, rows, d)?;
    let pca = by(&pca.encode(&labelled), &pca.encode(rows), k)?;
    let mut out = std::collections::BTreeMap::new();
    for (i, n) in counts.into_iter().enumerate() {
        out.insert(n.to_string(), KnnAccuracy { code: code[i], pixels: pixels[i], pca: pca[i] });
    }
    Ok(out)
}

/// Gap between tiles, in pixels before scaling.
const GAP: usize = 2;

pub async fn sample(a: SampleArgs) -> Result<()> {
    let (info, program, values) = shared::read_weights(&a.weights)?;
    shared::check_output(&a.out)?;
    let InputShape::Image { channels: 1, height, width } = info.shape else {
        fail!(
            "{}: a sample grid is of greyscale images; this model makes {} rows",
            a.weights.display(),
            info.shape
        );
    };
    let (mut ex, _) = shared::executor(a.backend, program, &Values::default()).await?;
    ex.set_params(&values)?;
    if let Err(e) = check_in_use(&mut ex, &values, &[], &[]).await {
        fail!("{}: {e}", a.weights.display());
    }
    let n = a.n as usize;
    // A conditional model draws the digit `--label`, or 0–9 in turn.
    let labels: Vec<u8> = (0..n).map(|i| a.label.unwrap_or((i % 10) as u8)).collect();
    let images = ex.sample_labeled(n, a.seed, Some(&labels)).await?;
    let (width, height, pixels) = grid(&images, [height, width], n, a.scale as usize);
    write_png(&a.out, width, height, &pixels)?;
    emit(format_args!("wrote {} ({n} samples, {width}x{height} pixels)", a.out.display()))
}

/// Lays `n` images of `[height, width]` (values in [0, 1]) out in a grid of ⌈√n⌉ columns
/// with a black gap, white ink on black as in MNIST, each pixel repeated `scale` × `scale`
/// times. Returns (width, height, grey bytes).
fn grid(images: &[f32], [ih, iw]: [usize; 2], n: usize, scale: usize) -> (u32, u32, Vec<u8>) {
    let cols = (1..=n).find(|c| c * c >= n).unwrap_or(1);
    let rows = n.div_ceil(cols);
    let span = |k: usize, side: usize| k * side + k.saturating_sub(1) * GAP;
    let (w, h) = (span(cols, iw) * scale, span(rows, ih) * scale);
    let mut out = vec![0u8; w * h];
    for (k, image) in images.chunks(ih * iw).take(n).enumerate() {
        let (x0, y0) = ((k % cols) * (iw + GAP), (k / cols) * (ih + GAP));
        for (i, &v) in image.iter().enumerate() {
            let grey = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            let (x, y) = ((x0 + i % iw) * scale, (y0 + i / iw) * scale);
            for dy in 0..scale {
                let row = (y + dy) * w;
                out[row + x..row + x + scale].fill(grey);
            }
        }
    }
    (w as u32, h as u32, out)
}

fn write_png(path: &Path, width: u32, height: u32, pixels: &[u8]) -> Result<()> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let encoded = encoder
            .write_header()
            .and_then(|mut w| w.write_image_data(pixels).and_then(|_| w.finish()));
        if let Err(e) = encoded {
            fail!("cannot encode the PNG: {e}");
        }
    }
    shared::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_size_and_placement() {
        let mut images = vec![0f32; 5 * 784];
        images[4 * 784] = 1.0; // top-left pixel of the 5th image: column 1, row 1
        let (w, h, px) = grid(&images, [28, 28], 5, 2);
        // 3 columns, 2 rows: (3·28 + 2·2)·2 by (2·28 + 2)·2.
        assert_eq!((w, h), (176, 116));
        let (x, y) = (30 * 2, 30 * 2);
        assert_eq!(px[y * 176 + x], 255);
        assert_eq!(px[(y + 1) * 176 + x + 1], 255);
        assert_eq!(px.iter().filter(|&&p| p == 255).count(), 4);
    }
}
