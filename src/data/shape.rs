//! What a model eats: the shape of one input row, the values of a data set's rows, and the
//! per-feature standardisation of tables and series.
//!
//! An [`InputShape`] comes with the data (the lab-data header, a CSV's columns, a series'
//! window) and goes into [`Program::build`](crate::Program::build), the weights file's
//! metadata and the page's `info()`. Nothing else in the engine knows how wide an input is.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The shape of one input row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputShape {
    /// An image of `channels` planes of `height × width` pixels in [0, 1], stored plane by
    /// plane, each row-major (NCHW rows).
    Image { channels: usize, height: usize, width: usize },
    /// A table row of `features` standardised numbers.
    Vector { features: usize },
    /// A window of `length` time steps of `channels` standardised signals, stored channel by
    /// channel (NCL rows).
    Series { channels: usize, length: usize },
}

/// What the decoder's last layer puts out, decided by the data (a spec may ask for the
/// identity on images: a linear autoencoder): the loss and the inference output follow from
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// Values in [0, 1] (pixels): the image is σ(logits); BCE or MSE of σ(logits).
    Sigmoid,
    /// Standardised values: the output is the logits themselves; MSE (a Gaussian likelihood).
    Identity,
}

impl Output {
    pub const EVERY: [Output; 2] = [Output::Sigmoid, Output::Identity];

    /// The name in a spec: `sigmoid`, `identity`.
    pub fn name(self) -> &'static str {
        match self {
            Output::Sigmoid => "sigmoid",
            Output::Identity => "identity",
        }
    }
}

impl InputShape {
    /// The shape of an MNIST digit (and of Fashion-MNIST): one 28 × 28 plane.
    pub const fn image(height: usize, width: usize) -> Self {
        InputShape::Image { channels: 1, height, width }
    }

    /// Values in one row.
    pub const fn size(&self) -> usize {
        match *self {
            InputShape::Image { channels, height, width } => channels * height * width,
            InputShape::Vector { features } => features,
            InputShape::Series { channels, length } => channels * length,
        }
    }

    pub fn output(&self) -> Output {
        match self {
            InputShape::Image { .. } => Output::Sigmoid,
            InputShape::Vector { .. } | InputShape::Series { .. } => Output::Identity,
        }
    }

    /// The planes a convolution sees: (channels, height, width). A series is one row of
    /// `length` per channel; a table row has no spatial layout.
    pub fn planes(&self) -> Option<(usize, usize, usize)> {
        match *self {
            InputShape::Image { channels, height, width } => Some((channels, height, width)),
            InputShape::Series { channels, length } => Some((channels, 1, length)),
            InputShape::Vector { .. } => None,
        }
    }

    /// The word for one row in messages: "image", "table row", "window".
    pub fn row_name(&self) -> &'static str {
        match self {
            InputShape::Image { .. } => "image",
            InputShape::Vector { .. } => "table row",
            InputShape::Series { .. } => "window",
        }
    }

    /// The word for one value of a row: "pixel", "feature", "point".
    pub fn value_name(&self) -> &'static str {
        match self {
            InputShape::Image { .. } => "pixel",
            InputShape::Vector { .. } => "feature",
            InputShape::Series { .. } => "point",
        }
    }

    /// A short description, e.g. `image 1×28×28`, `vector of 9`, `series 1×64`.
    pub fn describe(&self) -> String {
        match *self {
            InputShape::Image { channels, height, width } => {
                format!("image {channels}×{height}×{width}")
            }
            InputShape::Vector { features } => format!("vector of {features}"),
            InputShape::Series { channels, length } => format!("series {channels}×{length}"),
        }
    }

    /// Checks the sizes: every one positive and the row at most `max_size` values.
    pub fn validate(&self, max_size: usize) -> Result<(), String> {
        let dims: &[usize] = match self {
            InputShape::Image { channels, height, width } => &[*channels, *height, *width],
            InputShape::Vector { features } => &[*features],
            InputShape::Series { channels, length } => &[*channels, *length],
        };
        if dims.contains(&0) {
            return Err(format!("the input shape {} has a zero size", self.describe()));
        }
        let size = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        match size {
            Some(n) if n <= max_size => Ok(()),
            _ => Err(format!(
                "the input shape {} has more than {max_size} values in a row",
                self.describe()
            )),
        }
    }
}

impl Default for InputShape {
    fn default() -> Self {
        InputShape::image(28, 28)
    }
}

impl std::fmt::Display for InputShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The values of a data set's rows, one row after the other.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Pixels as bytes, value = byte / 255 (images).
    Bytes(Arc<[u8]>),
    /// Standardised numbers (tables and series).
    Floats(Arc<[f32]>),
}

impl Default for Values {
    fn default() -> Self {
        Values::Bytes(Arc::from(&[][..]))
    }
}

impl From<Vec<u8>> for Values {
    fn from(v: Vec<u8>) -> Self {
        Values::Bytes(Arc::from(v))
    }
}

impl From<&[u8]> for Values {
    fn from(v: &[u8]) -> Self {
        Values::Bytes(Arc::from(v))
    }
}

impl From<Vec<f32>> for Values {
    fn from(v: Vec<f32>) -> Self {
        Values::Floats(Arc::from(v))
    }
}

impl Values {
    /// Number of values (not rows).
    pub fn len(&self) -> usize {
        match self {
            Values::Bytes(b) => b.len(),
            Values::Floats(f) => f.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of image data; `None` for floats.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Values::Bytes(b) => Some(b),
            Values::Floats(_) => None,
        }
    }

    /// Values `range` (of values, not rows) as f32.
    pub fn f32_range(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        match self {
            Values::Bytes(b) => b[range].iter().map(|&p| f32::from(p) * (1.0 / 255.0)).collect(),
            Values::Floats(f) => f[range].to_vec(),
        }
    }

    /// A copy of values `range` (of values, not rows).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Values {
        match self {
            Values::Bytes(b) => Values::Bytes(Arc::from(&b[range])),
            Values::Floats(f) => Values::Floats(Arc::from(&f[range])),
        }
    }

    /// The name of the element type in messages and file headers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Values::Bytes(_) => "u8",
            Values::Floats(_) => "f32",
        }
    }
}

/// Per-feature standardisation, fitted on a training split: `(x − mean) / std`. For a table
/// there is one entry per feature, for a series one per channel. It is stored with the
/// weights, so that a saved model scores new rows exactly as it scored them in training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalisation {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// Deviations below this count as constant: the feature is centred, not scaled.
const MIN_STD: f64 = 1e-6;

impl Normalisation {
    /// Fits the mean and standard deviation of each of `groups` interleaved groups of
    /// `raw`: value `i` belongs to group `i % groups` (a table row's features, a series'
    /// channels at each time step).
    pub fn fit_groups(raw: &[f32], groups: usize) -> Self {
        let groups = groups.max(1);
        let mut sum = vec![0f64; groups];
        let mut count = vec![0f64; groups];
        for (i, &v) in raw.iter().enumerate() {
            sum[i % groups] += f64::from(v);
            count[i % groups] += 1.0;
        }
        let mean: Vec<f64> = sum.iter().zip(&count).map(|(s, &n)| s / n.max(1.0)).collect();
        let mut sq = vec![0f64; groups];
        for (i, &v) in raw.iter().enumerate() {
            sq[i % groups] += (f64::from(v) - mean[i % groups]).powi(2);
        }
        let std = sq
            .iter()
            .zip(&count)
            .map(|(s, &n)| {
                let sd = (s / n.max(1.0)).sqrt();
                if sd < MIN_STD {
                    1.0
                } else {
                    sd as f32
                }
            })
            .collect();
        Normalisation { mean: mean.iter().map(|&m| m as f32).collect(), std }
    }

    /// Standardises values laid out with `groups` interleaved (a table row's features, a
    /// series' channels per time step). Computed in f64: values near f32's range (±3e38)
    /// would overflow `v − mean` in f32.
    pub fn apply(&self, raw: &[f32]) -> Vec<f32> {
        let n = self.mean.len().max(1);
        let z = |i: usize, v: f32| {
            (f64::from(v) - f64::from(self.mean[i % n])) / f64::from(self.std[i % n])
        };
        raw.iter().enumerate().map(|(i, &v)| z(i, v) as f32).collect()
    }

    /// Undoes [`Normalisation::apply`].
    pub fn invert(&self, standard: &[f32]) -> Vec<f32> {
        let n = self.mean.len().max(1);
        standard.iter().enumerate().map(|(i, &v)| v * self.std[i % n] + self.mean[i % n]).collect()
    }

    /// Checks that mean and deviation have `groups` finite entries, every deviation positive.
    pub fn validate(&self, groups: usize) -> Result<(), String> {
        if self.mean.len() != groups || self.std.len() != groups {
            return Err(format!(
                "the normalisation has {} means and {} deviations, the data {groups} features",
                self.mean.len(),
                self.std.len()
            ));
        }
        if let Some(v) = self.mean.iter().chain(&self.std).find(|v| !v.is_finite()) {
            return Err(format!("the normalisation holds {v}: every entry must be finite"));
        }
        if let Some(v) = self.std.iter().find(|&&v| v <= 0.0) {
            return Err(format!("the normalisation holds the deviation {v}: it must be positive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_size_describe_and_round_trip_as_json() {
        let shapes = [
            InputShape::image(28, 28),
            InputShape::Vector { features: 9 },
            InputShape::Series { channels: 2, length: 64 },
        ];
        let sizes = [784, 9, 128];
        for (s, n) in shapes.iter().zip(sizes) {
            assert_eq!(s.size(), n);
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(&serde_json::from_str::<InputShape>(&json).unwrap(), s, "{json}");
        }
        assert_eq!(serde_json::to_string(&shapes[1]).unwrap(), r#"{"type":"vector","features":9}"#);
        assert_eq!(shapes[0].output(), Output::Sigmoid);
        assert_eq!(shapes[2].output(), Output::Identity);
        assert_eq!(shapes[2].planes(), Some((2, 1, 64)));
        assert!(InputShape::Vector { features: 0 }.validate(10).unwrap_err().contains("zero"));
        assert!(InputShape::image(100, 100).validate(4096).unwrap_err().contains("more than"));
        assert!(
            serde_json::from_str::<InputShape>(r#"{"type":"vector","features":9,"x":1}"#).is_err()
        );
    }

    #[test]
    fn standardisation_centres_scales_and_inverts() {
        // Two features: the first varies, the second is constant (centred, not scaled).
        let raw = [1.0, 5.0, 3.0, 5.0, 5.0, 5.0];
        let n = Normalisation::fit_groups(&raw, 2);
        assert_eq!(n.mean, vec![3.0, 5.0]);
        assert!((n.std[0] - (8f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(n.std[1], 1.0);
        let z = n.apply(&raw);
        let mean0: f32 = z.iter().step_by(2).sum::<f32>() / 3.0;
        let var0: f32 = z.iter().step_by(2).map(|v| v * v).sum::<f32>() / 3.0;
        assert!(mean0.abs() < 1e-6 && (var0 - 1.0).abs() < 1e-5, "{mean0} {var0}");
        assert!(z.iter().skip(1).step_by(2).all(|&v| v == 0.0));
        for (a, b) in n.invert(&z).iter().zip(&raw) {
            assert!((a - b).abs() < 1e-5);
        }
        assert!(n.validate(3).is_err());
        // Values at the edge of f32's range standardise to finite numbers.
        let huge = [3e38, -3e38, 3e38, -3e38];
        let z = Normalisation::fit_groups(&huge, 1).apply(&huge);
        assert_eq!(z, [1.0, -1.0, 1.0, -1.0]);
        let bad = Normalisation { mean: vec![0.0], std: vec![0.0] };
        assert!(bad.validate(1).unwrap_err().contains("positive"));
    }
}
