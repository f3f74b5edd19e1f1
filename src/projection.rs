//! t-SNE of wide codes, for the latent map: a code of more than two numbers laid out in a
//! plane so that each code's nearest neighbours stay near (bhtsne's Barnes-Hut t-SNE). The
//! page's other nonlinear layout, UMAP, runs in JavaScript (umap-js, in the engine's worker).

use crate::error::{Error, Result};

/// The most rows one layout takes (the latent map shows 2,000).
pub const MAX_ROWS: usize = 10_000;

/// t-SNE's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TsneSettings {
    /// The effective number of neighbours each point's affinities spread over (5 to 50).
    pub perplexity: f32,
    /// Gradient steps (the first 250 with early exaggeration).
    pub epochs: usize,
    /// Barnes-Hut's accuracy: 0.5 is the usual; smaller is slower and closer to exact.
    pub theta: f32,
    /// The seed of the starting layout.
    pub seed: u32,
}

impl Default for TsneSettings {
    fn default() -> Self {
        TsneSettings { perplexity: 30.0, epochs: 1000, theta: 0.5, seed: 1 }
    }
}

/// t-SNE of `codes` (n × `width`): n × 2 coordinates. `progress(epoch, layout)` is called
/// after every epoch with the layout so far. One seed gives one layout on one thread (the
/// page's wasm); natively rayon's threads sum in varying order, and layouts vary a little.
pub fn tsne(
    codes: &[f32],
    width: usize,
    settings: TsneSettings,
    mut progress: impl FnMut(usize, &[f32]),
) -> Result<Vec<f32>> {
    let n = codes.len().checked_div(width).unwrap_or(0);
    if width == 0 || !codes.len().is_multiple_of(width) || n < 4 {
        return Err(Error::Input(format!(
            "t-SNE needs at least 4 whole rows of {width} numbers, got {} numbers",
            codes.len()
        )));
    }
    if n > MAX_ROWS {
        return Err(Error::Input(format!("t-SNE lays out at most {MAX_ROWS} rows, got {n}")));
    }
    let TsneSettings { perplexity, epochs, theta, seed } = settings;
    // bhtsne needs 3 × perplexity neighbours per point.
    let most = ((n - 1) as f32 / 3.0).floor();
    if !((2.0..=50.0).contains(&perplexity) && perplexity <= most) {
        return Err(Error::Input(format!(
            "t-SNE's perplexity must be from 2 to {} for {n} rows, got {perplexity}",
            most.min(50.0)
        )));
    }
    if !(250..=5000).contains(&epochs) {
        return Err(Error::Input(format!("t-SNE's epochs must be from 250 to 5000, got {epochs}")));
    }
    if !(theta > 0.0 && theta <= 1.0) {
        return Err(Error::Input(format!("t-SNE's theta must be in (0, 1], got {theta}")));
    }
    if let Some(bad) = codes.iter().find(|v| !v.is_finite()) {
        return Err(Error::Input(format!("t-SNE of codes that hold {bad}")));
    }
    let rows: Vec<&[f32]> = codes.chunks_exact(width).collect();
    // A small seeded Gaussian start, as the t-SNE paper's.
    let start: Vec<f32> =
        (0..2 * n).map(|i| 1e-4 * crate::rng::normal(seed, 9, 0, i as u32)).collect();
    let mut t = bhtsne::tSNE::<f32, &[f32], 2>::new(&rows);
    t.perplexity(perplexity).epochs(epochs).initial_embedding(start);
    t.epoch_callback(move |epoch, layout| progress(epoch, layout));
    t.barnes_hut(theta, |a, b| {
        a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt()
    });
    let layout = t.embedding();
    if layout.iter().any(|v| !v.is_finite()) {
        return Err(Error::Input("t-SNE diverged (a coordinate is not a finite number)".into()));
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_clusters_apart_and_reports_its_progress() {
        // Three clusters of 40 points in 10-D, far apart.
        let (n, d) = (120, 10);
        let codes: Vec<f32> = (0..n * d)
            .map(|i| {
                8.0 * ((i / d) % 3 == i % d % 3) as u8 as f32
                    + crate::rng::normal(3, 1, 0, i as u32)
            })
            .collect();
        let mut epochs = vec![];
        let settings = TsneSettings { perplexity: 10.0, epochs: 300, ..Default::default() };
        let xy = tsne(&codes, d, settings, |e, layout| {
            assert_eq!(layout.len(), 2 * n);
            epochs.push(e);
        })
        .unwrap();
        assert_eq!(xy.len(), 2 * n);
        assert!(epochs.len() >= 299 && epochs.windows(2).all(|w| w[1] > w[0]), "{epochs:?}");
        // Every point's nearest other point in the plane is of its own cluster.
        for i in 0..n {
            let nearest = (0..n)
                .filter(|&j| j != i)
                .min_by(|&a, &b| {
                    let d = |j: usize| {
                        (xy[2 * i] - xy[2 * j]).powi(2) + (xy[2 * i + 1] - xy[2 * j + 1]).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            assert_eq!(nearest % 3, i % 3, "point {i}");
        }
    }

    #[test]
    fn refuses_settings_it_cannot_use() {
        let codes = vec![0.5f32; 30 * 4];
        let with = |s: TsneSettings| tsne(&codes, 4, s, |_, _| {}).unwrap_err().to_string();
        assert!(with(TsneSettings { perplexity: 30.0, ..Default::default() })
            .contains("perplexity must be from 2 to 9"));
        assert!(with(TsneSettings { perplexity: 5.0, epochs: 10, ..Default::default() })
            .contains("epochs"));
        assert!(tsne(&codes[..7], 4, TsneSettings::default(), |_, _| {}).is_err());
        let mut bad = codes.clone();
        bad[3] = f32::NAN;
        assert!(tsne(&bad, 4, TsneSettings { perplexity: 5.0, ..Default::default() }, |_, _| {})
            .is_err());
    }
}
