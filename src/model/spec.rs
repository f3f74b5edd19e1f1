//! `ModelSpec`: which autoencoder to build, as plain data.
//!
//! A spec arrives as JSON (from the page, a URL, a file or the CLI), is validated once
//! and then fully determines the [`Program`](super::Program). Every field has a default,
//! so `{}` is a complete spec: a small 2-D VAE that makes a good first demo.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::{InputShape, Output};
use crate::error::SpecError;
use crate::limits::{group, quote, Budget, OverBudget};

/// Digit classes. `K` in the model code.
pub const NUM_CLASSES: usize = 10;

/// Largest layer width accepted (keeps every buffer far inside WebGPU's default limits).
pub const MAX_WIDTH: usize = 4096;
/// Largest latent size accepted.
pub const MAX_LATENT: usize = 256;
/// Classes of a conditional model's one-hot label (the ten digits).
pub const CLASSES: usize = 10;
/// Most convolutions in a convolutional encoder (each halves the side, e.g. 28, 14, 7).
pub const MAX_CONV_LAYERS: usize = 2;
/// Most channels of one convolution.
pub const MAX_CHANNELS: usize = 256;
/// Largest batch accepted.
pub const MAX_BATCH: usize = 1024;
/// Deepest encoder accepted.
pub const MAX_HIDDEN_LAYERS: usize = 6;
/// Longest spec text accepted (a real spec is a few hundred bytes).
pub const MAX_SPEC_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Plain autoencoder: encoder → code → decoder.
    Ae,
    /// Variational autoencoder: encoder → (μ, log σ²) → z = μ + σ·ε → decoder.
    Vae,
    /// Denoising autoencoder: the encoder sees a corrupted image (see [`NoiseSpec`]), the
    /// loss compares the output with the clean one.
    Dae,
    /// Sparse autoencoder: sigmoid code units with a sparsity penalty (see [`SparsitySpec`]).
    Sparse,
    /// Contractive autoencoder: sigmoid code units, and a penalty on the squared Frobenius
    /// norm of the code layer's Jacobian (see [`ContractiveSpec`]).
    Contractive,
    /// Conditional VAE: the one-hot label c joins the encoder's input, q(z | x, c), and the
    /// decoder's, p(x | z, c); sampling picks the digit.
    Cvae,
    /// Convolutional autoencoder: strided conv2d layers (see `channels`) before the dense
    /// code, transposed convolutions after it.
    ConvAe,
    /// Convolutional VAE: the conv_ae's layers around a VAE's μ, log σ² and z.
    ConvVae,
    /// 1-D convolutional autoencoder for series windows: strided conv1d layers (see
    /// `channels`) along the time steps before the dense code, transposed conv1d after it.
    #[serde(rename = "conv1d_ae")]
    Conv1dAe,
    /// 1-D convolutional VAE: the conv1d_ae's layers around a VAE's μ, log σ² and z.
    #[serde(rename = "conv1d_vae")]
    Conv1dVae,
}

impl ModelKind {
    /// Every kind, in the order the messages list them.
    pub const ALL: [ModelKind; 10] = [
        ModelKind::Ae,
        ModelKind::Vae,
        ModelKind::Dae,
        ModelKind::Sparse,
        ModelKind::Contractive,
        ModelKind::Cvae,
        ModelKind::ConvAe,
        ModelKind::ConvVae,
        ModelKind::Conv1dAe,
        ModelKind::Conv1dVae,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Ae => "ae",
            ModelKind::Vae => "vae",
            ModelKind::Dae => "dae",
            ModelKind::Sparse => "sparse",
            ModelKind::Contractive => "contractive",
            ModelKind::Cvae => "cvae",
            ModelKind::ConvAe => "conv_ae",
            ModelKind::ConvVae => "conv_vae",
            ModelKind::Conv1dAe => "conv1d_ae",
            ModelKind::Conv1dVae => "conv1d_vae",
        }
    }
    pub fn is_variational(self) -> bool {
        matches!(self, ModelKind::Vae | ModelKind::Cvae | ModelKind::ConvVae | ModelKind::Conv1dVae)
    }
    /// Whether convolutions (see `channels`) surround the dense layers.
    pub fn is_convolutional(self) -> bool {
        matches!(
            self,
            ModelKind::ConvAe | ModelKind::ConvVae | ModelKind::Conv1dAe | ModelKind::Conv1dVae
        )
    }
    /// Whether the convolutions are 1-D, along a series' time steps.
    pub fn is_conv1d(self) -> bool {
        matches!(self, ModelKind::Conv1dAe | ModelKind::Conv1dVae)
    }
    /// Whether encoder and decoder also see the one-hot label ([`CLASSES`] wide).
    pub fn is_conditional(self) -> bool {
        matches!(self, ModelKind::Cvae)
    }
    /// Whether the code passes through a sigmoid (units in (0, 1), as penalties assume).
    pub fn sigmoid_code(self) -> bool {
        matches!(self, ModelKind::Sparse | ModelKind::Contractive)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    /// None at all: with it an autoencoder of rows whose output is the identity (tables,
    /// series) is a linear map, which learns the subspace PCA finds.
    Identity,
}

impl Activation {
    pub const EVERY: [Activation; 5] = [
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Identity,
    ];

    /// Numeric code shared with `shaders/activate.wgsl`.
    pub fn code(self) -> u32 {
        match self {
            Activation::Relu => 0,
            Activation::LeakyRelu => 1,
            Activation::Tanh => 2,
            Activation::Sigmoid => 3,
            Activation::Identity => 4,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Identity => "identity",
        }
    }
}

/// Slope of `leaky_relu` for negative inputs (PyTorch's default).
pub const LEAKY_SLOPE: f32 = 0.01;

/// Reconstruction loss. The decoder always outputs logits; the image is `sigmoid(logits)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconLoss {
    /// Binary cross-entropy, computed from the logits in the numerically stable form,
    /// summed over the pixels of an image (images only: values in [0, 1]).
    Bce,
    /// Squared error, summed over the values of a row: of `sigmoid(logits)` for images, of the
    /// logits themselves for standardised tables and series.
    Mse,
}

impl ReconLoss {
    pub const EVERY: [ReconLoss; 2] = [ReconLoss::Bce, ReconLoss::Mse];

    pub fn code(self) -> u32 {
        match self {
            ReconLoss::Bce => 0,
            ReconLoss::Mse => 1,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ReconLoss::Bce => "bce",
            ReconLoss::Mse => "mse",
        }
    }
}

/// How a denoising autoencoder corrupts its input. Drawn from the shared counter-based RNG,
/// so both executors corrupt identically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// x + σ·n, n ~ N(0, 1), clipped to [0, 1]; `amount` is σ.
    Gaussian,
    /// Each pixel set to 0 with probability `amount`.
    Mask,
    /// Each pixel set to 0 or 1 (equally likely) with probability `amount`.
    SaltPepper,
}

impl NoiseKind {
    pub const EVERY: [NoiseKind; 3] = [NoiseKind::Gaussian, NoiseKind::Mask, NoiseKind::SaltPepper];

    /// The name used in specs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            NoiseKind::Gaussian => "gaussian",
            NoiseKind::Mask => "mask",
            NoiseKind::SaltPepper => "salt_pepper",
        }
    }

    pub fn code(self) -> u32 {
        match self {
            NoiseKind::Gaussian => 0,
            NoiseKind::Mask => 1,
            NoiseKind::SaltPepper => 2,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseSpec {
    pub kind: NoiseKind,
    pub amount: f32,
}

impl Default for NoiseSpec {
    fn default() -> Self {
        NoiseSpec { kind: NoiseKind::Gaussian, amount: 0.5 }
    }
}

/// The sparsity penalty on the code of a sparse autoencoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SparsityPenalty {
    /// Σⱼ KL(ρ ‖ ρ̂ⱼ), ρ̂ⱼ the batch mean of code unit j (Ng's sparse autoencoder).
    Kl,
    /// Σⱼ |hⱼ| per image: the L1 norm of the code.
    L1,
}

impl SparsityPenalty {
    pub const EVERY: [SparsityPenalty; 2] = [SparsityPenalty::Kl, SparsityPenalty::L1];

    pub fn name(self) -> &'static str {
        match self {
            SparsityPenalty::Kl => "kl",
            SparsityPenalty::L1 => "l1",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SparsitySpec {
    pub penalty: SparsityPenalty,
    /// ρ, the target mean activation of each code unit (KL penalty).
    pub target: f32,
    /// Weight of the penalty in the loss.
    pub weight: f32,
}

impl Default for SparsitySpec {
    fn default() -> Self {
        SparsitySpec { penalty: SparsityPenalty::Kl, target: 0.05, weight: 3.0 }
    }
}

/// The contractive autoencoder's penalty (Rifai et al., 2011): `weight`·‖∂c/∂h‖²_F, mean over
/// images, where c = σ(W·h + b) is the code and h the code layer's input — the image itself
/// for an encoder without hidden layers, where the penalty is exactly the paper's; with
/// hidden layers, the last hidden layer's activations (the layers below are not penalised).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContractiveSpec {
    /// Weight λ of the penalty in the loss.
    pub weight: f32,
}

impl Default for ContractiveSpec {
    fn default() -> Self {
        ContractiveSpec { weight: 1.0 }
    }
}

/// Adam (Kingma & Ba, 2015) with bias correction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamSpec {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

impl Default for AdamSpec {
    fn default() -> Self {
        AdamSpec { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }
}

/// Which autoencoder to build and how to train it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSpec {
    pub kind: ModelKind,
    /// Encoder hidden widths, input side first, e.g. `[512, 256]`.
    pub hidden: Vec<usize>,
    /// Decoder hidden widths, code side first. `None` mirrors `hidden`.
    pub decoder_hidden: Option<Vec<usize>>,
    pub activation: Activation,
    /// Width of the code (AE) or of z (VAE). `Z` in the model code.
    pub latent: usize,
    pub loss: ReconLoss,
    /// Weight of the KL term (VAE only); 1 is the plain VAE, other values a β-VAE.
    pub beta: f32,
    /// Input corruption (`dae` only).
    pub noise: NoiseSpec,
    /// Code sparsity penalty (`sparse` only).
    pub sparsity: SparsitySpec,
    /// Jacobian penalty (`contractive` only).
    pub contractive: ContractiveSpec,
    /// Output channels of the encoder's convolutions (`conv_ae`, `conv_vae`): each a 4 × 4
    /// kernel with stride 2 and padding 1, halving the side (28 → 14 → 7); the decoder
    /// mirrors them with transposed convolutions. `hidden` then lists dense layers between
    /// the last feature map and the code.
    pub channels: Vec<usize>,
    pub optimizer: AdamSpec,
    pub batch_size: usize,
    /// Seed of the counter-based RNG: initial weights, minibatches, ε.
    pub seed: u32,
    /// The decoder's output, when not the data's own ([`InputShape::output`]): `identity` on
    /// images makes the image the logits themselves, trained with MSE, so that with
    /// `activation: identity` and no hidden layer the whole model is linear (and learns
    /// PCA's subspace). Left out of a spec that does not set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            kind: ModelKind::Vae,
            hidden: vec![400],
            decoder_hidden: None,
            activation: Activation::Relu,
            latent: 2,
            loss: ReconLoss::Bce,
            beta: 1.0,
            noise: NoiseSpec::default(),
            sparsity: SparsitySpec::default(),
            contractive: ContractiveSpec::default(),
            channels: vec![16, 32],
            optimizer: AdamSpec::default(),
            batch_size: 128,
            seed: 1,
            output: None,
        }
    }
}

impl ModelSpec {
    /// The default spec of a kind.
    pub fn of_kind(kind: ModelKind) -> Self {
        let mut spec = ModelSpec { kind, ..ModelSpec::default() };
        match kind {
            ModelKind::Ae | ModelKind::Dae => spec.loss = ReconLoss::Mse,
            ModelKind::Sparse => {
                spec.loss = ReconLoss::Mse;
                spec.latent = 64;
            }
            ModelKind::Contractive => {
                spec.loss = ReconLoss::Mse;
                spec.latent = 32;
            }
            ModelKind::Vae | ModelKind::Cvae => {}
            ModelKind::ConvAe => {
                spec.loss = ReconLoss::Mse;
                spec.hidden = vec![];
                spec.latent = 16;
            }
            ModelKind::ConvVae => spec.hidden = vec![],
            ModelKind::Conv1dAe => {
                spec.loss = ReconLoss::Mse;
                spec.hidden = vec![];
                spec.latent = 8;
            }
            ModelKind::Conv1dVae => {
                spec.loss = ReconLoss::Mse;
                spec.hidden = vec![];
                spec.latent = 4;
            }
        }
        spec
    }

    /// The default spec of a kind for rows of `shape`. Images keep [`ModelSpec::of_kind`]'s
    /// (the README's quality setups on 28 × 28 digits); a table row or a series window gets
    /// MSE (its values are standardised) and layers sized to it: one hidden layer of twice
    /// its width (32 to 256) and a code of half its width (2 to 16), or for the sparse AE an
    /// overcomplete code of twice its width (8 to 64).
    pub fn of_kind_for(kind: ModelKind, shape: &InputShape) -> Self {
        let mut spec = ModelSpec::of_kind(kind);
        if shape.output() == Output::Identity {
            spec.loss = ReconLoss::Mse;
            let n = shape.size();
            if !kind.is_convolutional() {
                spec.hidden = vec![(2 * n).clamp(32, 256)];
                spec.latent = match kind {
                    ModelKind::Sparse => (2 * n).clamp(8, 64),
                    _ => (n / 2).clamp(2, 16),
                };
            }
        }
        spec
    }

    /// Parses a spec for rows of `shape` that may leave fields out: the fields given, the
    /// others from [`ModelSpec::of_kind_for`] of its kind (VAE when none is given); nested
    /// objects (`noise`, `optimizer`, …) are merged field by field. For images every field
    /// left out has its [`ModelSpec::default`] value, exactly as [`ModelSpec::from_json`].
    pub fn from_json_for(text: &str, shape: &InputShape) -> Result<Self, SpecError> {
        let spec = ModelSpec::from_json(text)?;
        if shape.output() != Output::Identity {
            return Ok(spec);
        }
        let given: Value = serde_json::from_str(text).expect("from_json read it");
        let mut merged = serde_json::to_value(ModelSpec::of_kind_for(spec.kind, shape))
            .expect("a spec serialises");
        merge(&mut merged, &given);
        ModelSpec::from_value(&merged)
    }

    /// Whether `other` builds the same Program as `self` up to the live fields — β, the
    /// optimizer, the noise, the sparsity and contractive settings — which only enter uniform
    /// words, so a running model can change them between steps.
    pub fn same_architecture(&self, other: &ModelSpec) -> bool {
        let fixed = |s: &ModelSpec| ModelSpec {
            beta: 1.0,
            optimizer: AdamSpec::default(),
            noise: NoiseSpec::default(),
            sparsity: SparsitySpec::default(),
            contractive: ContractiveSpec::default(),
            ..s.clone()
        };
        fixed(self) == fixed(other)
    }

    /// What the decoder puts out for rows of `shape`: the spec's `output`, else the data's.
    pub fn output_for(&self, shape: &InputShape) -> Output {
        self.output.unwrap_or(shape.output())
    }

    /// Whether the whole model is one linear map each way: a plain AE with no hidden layer,
    /// no activation and the identity output on rows of `shape`. Its decoder's columns then
    /// span the subspace that PCA with as many components finds, once trained.
    pub fn is_linear(&self, shape: &InputShape) -> bool {
        self.kind == ModelKind::Ae
            && self.hidden.is_empty()
            && self.decoder_hidden.as_ref().is_none_or(|h| h.is_empty())
            && self.activation == Activation::Identity
            && self.output_for(shape) == Output::Identity
    }

    /// Weight of the kind's own penalty in the loss (sparsity or contraction; 0 for others).
    pub fn penalty_weight(&self) -> f32 {
        match self.kind {
            ModelKind::Sparse => self.sparsity.weight,
            ModelKind::Contractive => self.contractive.weight,
            _ => 0.0,
        }
    }

    /// Parses and validates a JSON spec: one JSON object and nothing after it. Errors name
    /// the offending field, what it must be and what it is (long values cut short).
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let whole = |message: String| SpecError::Parse { field: "spec".into(), message };
        if text.len() > MAX_SPEC_BYTES {
            return Err(whole(format!(
                "the text is {} bytes long; a spec is a JSON object of at most {} bytes",
                group(text.len()),
                group(MAX_SPEC_BYTES)
            )));
        }
        // `from_str` reads one value and refuses anything but whitespace after it.
        let value: Value = serde_json::from_str(text)
            .map_err(|e| whole(format!("not valid JSON ({e}); a spec is a JSON object")))?;
        Self::from_value(&value)
    }

    /// Parses and validates a spec already read as JSON (see [`ModelSpec::from_json`]).
    pub fn from_value(value: &Value) -> Result<Self, SpecError> {
        let Value::Object(fields) = value else {
            return Err(SpecError::Parse {
                field: "spec".into(),
                message: format!(
                    "must be a JSON object such as {{\"kind\": \"vae\", \"latent\": 2}}, got {}",
                    show(value)
                ),
            });
        };
        // Every field, `output` too (left out of a spec that does not set it).
        let all = ModelSpec { output: Some(Output::Identity), ..ModelSpec::default() };
        let defaults = serde_json::to_value(all).expect("a spec serialises");
        check_fields("", fields, &defaults)?;
        let spec: ModelSpec = serde_path_to_error::deserialize(value).map_err(|e| {
            let field = e.path().to_string();
            let got = e.path().iter().try_fold(value, |v, seg| match seg {
                serde_path_to_error::Segment::Seq { index } => v.get(index),
                serde_path_to_error::Segment::Map { key } => v.get(key),
                _ => None,
            });
            let message = match (expected(&field), got) {
                (Some(want), Some(got)) => format!("must be {want}; got {}", show(got)),
                _ => quote(&e.into_inner().to_string()),
            };
            SpecError::Parse { field, message }
        })?;
        spec.validate()?;
        Ok(spec)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ModelSpec always serialises")
    }

    /// Decoder hidden widths, code side first.
    pub fn decoder_widths(&self) -> Vec<usize> {
        match &self.decoder_hidden {
            Some(d) => d.clone(),
            None => self.hidden.iter().rev().copied().collect(),
        }
    }

    /// Checks every field; the error names the field, the value and what is allowed.
    pub fn validate(&self) -> Result<(), SpecError> {
        fn bad(field: &str, value: impl ToString, allowed: &str) -> SpecError {
            SpecError::Invalid {
                field: field.to_string(),
                value: quote(&value.to_string()),
                allowed: allowed.to_string(),
            }
        }
        let widths = |field: &str, list: &[usize]| -> Result<(), SpecError> {
            if list.len() > MAX_HIDDEN_LAYERS {
                return Err(bad(
                    field,
                    format!("{list:?}"),
                    &format!("at most {MAX_HIDDEN_LAYERS} layers"),
                ));
            }
            for (i, &w) in list.iter().enumerate() {
                if w == 0 || w > MAX_WIDTH {
                    return Err(bad(
                        &format!("{field}[{i}]"),
                        w,
                        &format!("a width from 1 to {MAX_WIDTH}"),
                    ));
                }
            }
            Ok(())
        };
        widths("hidden", &self.hidden)?;
        if let Some(d) = &self.decoder_hidden {
            widths("decoder_hidden", d)?;
        }
        if self.latent == 0 || self.latent > MAX_LATENT {
            return Err(bad("latent", self.latent, &format!("an integer from 1 to {MAX_LATENT}")));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0 && self.beta <= 1000.0) {
            return Err(bad("beta", self.beta, "a number from 0 to 1000"));
        }
        let n = &self.noise;
        let noise_max = if n.kind == NoiseKind::Gaussian { 10.0 } else { 1.0 };
        if !(n.amount.is_finite() && n.amount >= 0.0 && n.amount <= noise_max) {
            let allowed = format!("a number from 0 to {noise_max} for {:?} noise", n.kind);
            return Err(bad("noise.amount", n.amount, &allowed));
        }
        let sp = &self.sparsity;
        if !(sp.target.is_finite() && sp.target > 0.0 && sp.target < 1.0) {
            return Err(bad("sparsity.target", sp.target, "a number in (0, 1)"));
        }
        if self.channels.is_empty()
            || self.channels.len() > MAX_CONV_LAYERS
            || self.channels.iter().any(|&c| c == 0 || c > MAX_CHANNELS)
        {
            return Err(bad(
                "channels",
                format!("{:?}", self.channels),
                &format!(
                    "1 or {MAX_CONV_LAYERS} channel counts, each from 1 to {MAX_CHANNELS} \
                     (each halves the side)"
                ),
            ));
        }
        let cw = self.contractive.weight;
        if !(cw.is_finite() && (0.0..=1000.0).contains(&cw)) {
            return Err(bad("contractive.weight", cw, "a number from 0 to 1000"));
        }
        if !(sp.weight.is_finite() && sp.weight >= 0.0 && sp.weight <= 1000.0) {
            return Err(bad("sparsity.weight", sp.weight, "a number from 0 to 1000"));
        }
        let o = &self.optimizer;
        if !(o.lr.is_finite() && o.lr > 0.0 && o.lr <= 1.0) {
            return Err(bad("optimizer.lr", o.lr, "a number in (0, 1]"));
        }
        if !(o.beta1.is_finite() && (0.0..1.0).contains(&o.beta1)) {
            return Err(bad("optimizer.beta1", o.beta1, "a number in [0, 1)"));
        }
        if !(o.beta2.is_finite() && (0.0..1.0).contains(&o.beta2)) {
            return Err(bad("optimizer.beta2", o.beta2, "a number in [0, 1)"));
        }
        if !(o.eps.is_finite() && o.eps > 0.0 && o.eps <= 1.0) {
            return Err(bad("optimizer.eps", o.eps, "a number in (0, 1]"));
        }
        if self.batch_size == 0 || self.batch_size > MAX_BATCH {
            return Err(bad(
                "batch_size",
                self.batch_size,
                &format!("an integer from 1 to {MAX_BATCH}"),
            ));
        }
        Ok(())
    }

    /// [`ModelSpec::validate`], then what depends on the data: the shape itself, the loss
    /// for its output, the noise for its values, convolutions for its planes, and the
    /// parameters for the budget.
    pub fn validate_for(&self, shape: &InputShape) -> Result<(), SpecError> {
        self.validate()?;
        let unfit = |field: &str, value: &str, allowed: String| SpecError::Invalid {
            field: field.into(),
            value: quote(value),
            allowed,
        };
        shape.validate(crate::limits::MAX_INPUT).map_err(SpecError::Shape)?;
        let identity = shape.output() == Output::Identity;
        if identity && self.output == Some(Output::Sigmoid) {
            return Err(unfit(
                "output",
                "sigmoid",
                format!(
                    "identity for a {} (its values are standardised, not in [0, 1])",
                    shape.row_name()
                ),
            ));
        }
        if identity && self.loss == ReconLoss::Bce {
            return Err(unfit(
                "loss",
                "bce",
                format!(
                    "mse for a {} (bce needs values in [0, 1], as pixels are; tables and series \
                     are standardised)",
                    shape.row_name()
                ),
            ));
        }
        if self.output_for(shape) == Output::Identity && self.loss == ReconLoss::Bce {
            return Err(unfit(
                "loss",
                "bce",
                "mse with output identity (bce is of σ(logits), the sigmoid output)".into(),
            ));
        }
        if identity && self.kind == ModelKind::Dae && self.noise.kind == NoiseKind::SaltPepper {
            return Err(unfit(
                "noise.kind",
                "salt_pepper",
                format!(
                    "gaussian or mask for a {} (salt and pepper sets pixels to 0 or 1)",
                    shape.row_name()
                ),
            ));
        }
        if self.kind.is_convolutional() {
            let step = 1 << self.channels.len();
            let layers = self.channels.len();
            let halves = |sides: &[usize]| sides.iter().all(|&n| n >= step && n % step == 0);
            let fits = match (*shape, self.kind.is_conv1d()) {
                (InputShape::Image { height, width, .. }, false) => {
                    halves(&[height, width]).then_some(()).ok_or(format!("{height} × {width}"))
                }
                (InputShape::Series { length, .. }, true) => {
                    halves(&[length]).then_some(()).ok_or(format!("windows of {length}"))
                }
                _ => {
                    let (what, other) = if self.kind.is_conv1d() {
                        ("series windows", "conv_ae or a dense kind")
                    } else {
                        ("images", "conv1d_ae or a dense kind")
                    };
                    return Err(unfit(
                        "kind",
                        self.kind.name(),
                        format!(
                            "{other} for a {}: {} convolves {what}",
                            shape.row_name(),
                            self.kind.name()
                        ),
                    ));
                }
            };
            if let Err(sides) = fits {
                return Err(unfit(
                    "channels",
                    &format!("{:?}", self.channels),
                    format!(
                        "as many layers as halve {sides} evenly ({layers} layers need sides \
                         divisible by {step})"
                    ),
                ));
            }
        }
        self.check_parameters(shape, &Budget::HERE)
    }

    /// Refuses a model with more trainable parameters than `budget` allows.
    pub fn check_parameters(&self, shape: &InputShape, budget: &Budget) -> Result<(), SpecError> {
        let n = self.parameter_count(shape);
        if n <= budget.parameters {
            return Ok(());
        }
        let shrink = if self.kind.is_convolutional() {
            "use fewer channels or narrower dense layers"
        } else {
            "use fewer or narrower hidden layers (e.g. hidden [512, 256])"
        };
        Err(SpecError::TooLarge(OverBudget {
            what: format!("the model has {} parameters", group(n)),
            limit: format!("{} parameters {}", group(budget.parameters), budget.place),
            advice: budget.model_advice(n <= Budget::NATIVE.parameters, shrink),
        }))
    }

    /// Number of trainable parameters on inputs of `shape`.
    pub fn parameter_count(&self, shape: &InputShape) -> usize {
        let dense: usize = crate::model::layer_shapes(self, shape)
            .iter()
            .map(|l| l.inputs * l.outputs + l.outputs)
            .sum();
        let conv: usize = crate::model::conv_layers(self, shape)
            .iter()
            .map(|c| c.w_len() + c.c_out + c.w_len() + c.c_in) // encoder conv + decoder convᵀ
            .sum();
        dense + conv
    }
}

/// Refuses a field that the spec (or one of its nested settings) does not have, naming the
/// fields it does have; `defaults` is the default spec as JSON, which lists every field.
/// `over`'s fields written onto `base`, objects merged field by field.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn check_fields(
    prefix: &str,
    fields: &serde_json::Map<String, Value>,
    defaults: &Value,
) -> Result<(), SpecError> {
    let Value::Object(known) = defaults else { return Ok(()) };
    for (key, value) in fields {
        let field = format!("{prefix}{key}");
        match known.get(key) {
            None => {
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                return Err(SpecError::Parse {
                    field: quote(&field),
                    message: format!("no such field; the fields are {}", names.join(", ")),
                });
            }
            Some(default @ Value::Object(_)) => {
                if let Value::Object(inner) = value {
                    check_fields(&format!("{field}."), inner, default)?;
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// What a field of the spec must be, for parse errors (`hidden[2]` is looked up as
/// `hidden[]`).
fn expected(field: &str) -> Option<String> {
    fn one_of<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
        let names: Vec<String> = all.iter().map(|&x| format!("\"{}\"", name(x))).collect();
        format!("one of {}", names.join(", "))
    }
    let mut base = String::new();
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                base.push_str("[]");
                in_index = true;
            }
            ']' => in_index = false,
            _ if !in_index => base.push(c),
            _ => {}
        }
    }
    let number = |range: &str| format!("a number {range}");
    Some(match base.as_str() {
        "kind" => one_of(&ModelKind::ALL, ModelKind::name),
        "activation" => one_of(&Activation::EVERY, Activation::name),
        "loss" => one_of(&ReconLoss::EVERY, ReconLoss::name),
        "output" => one_of(&Output::EVERY, Output::name),
        "noise.kind" => one_of(&NoiseKind::EVERY, NoiseKind::name),
        "sparsity.penalty" => one_of(&SparsityPenalty::EVERY, SparsityPenalty::name),
        "hidden" => "a list of layer widths such as [512, 256]".into(),
        "decoder_hidden" => "a list of layer widths, or null to mirror `hidden`".into(),
        "hidden[]" | "decoder_hidden[]" => format!("a whole number from 1 to {MAX_WIDTH}"),
        "channels" => "a list of channel counts such as [16, 32]".into(),
        "channels[]" => format!("a whole number from 1 to {MAX_CHANNELS}"),
        "latent" => format!("a whole number from 1 to {MAX_LATENT}"),
        "batch_size" => format!("a whole number from 1 to {MAX_BATCH}"),
        "seed" => "a whole number from 0 to 4294967295".into(),
        "beta" | "sparsity.weight" | "contractive.weight" => number("from 0 to 1000"),
        "noise.amount" => number("from 0 to 10"),
        "sparsity.target" => number("in (0, 1)"),
        "optimizer.lr" | "optimizer.eps" => number("in (0, 1]"),
        "optimizer.beta1" | "optimizer.beta2" => number("in [0, 1)"),
        "noise" => "an object such as {\"kind\": \"gaussian\", \"amount\": 0.5}".into(),
        "sparsity" => {
            "an object such as {\"penalty\": \"kl\", \"target\": 0.05, \"weight\": 3}".into()
        }
        "contractive" => "an object such as {\"weight\": 1}".into(),
        "optimizer" => "an object such as {\"lr\": 0.001}".into(),
        _ => return None,
    })
}

/// A JSON value as an error message shows it: its text, cut short if long.
fn show(v: &Value) -> String {
    let kind = match v {
        Value::Null => return "null".into(),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => "",
        Value::Array(_) => "the list ",
        Value::Object(_) => "the object ",
    };
    format!("{kind}{}", quote(&v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_the_default_demo_model() {
        let spec = ModelSpec::from_json("{}").unwrap();
        assert_eq!(spec, ModelSpec::default());
        assert_eq!(spec.kind, ModelKind::Vae);
    }

    #[test]
    fn a_partial_spec_for_a_table_or_a_series_fills_in_defaults_sized_to_it() {
        let table = InputShape::Vector { features: 9 };
        let spec = ModelSpec::from_json_for(r#"{"kind": "ae", "noise": {"amount": 0.2}}"#, &table)
            .unwrap();
        assert_eq!(
            (spec.kind, spec.loss, &spec.hidden[..], spec.latent),
            (ModelKind::Ae, ReconLoss::Mse, &[32][..], 4)
        );
        assert_eq!(spec.noise, NoiseSpec { amount: 0.2, ..NoiseSpec::default() });
        spec.validate_for(&table).unwrap();
        // Given fields win; the result builds for the shape.
        let spec = ModelSpec::from_json_for(r#"{"kind": "vae", "latent": 3}"#, &table).unwrap();
        assert_eq!((spec.latent, spec.loss), (3, ReconLoss::Mse));
        let series = InputShape::Series { channels: 1, length: 64 };
        let spec = ModelSpec::from_json_for(r#"{"kind": "conv1d_ae"}"#, &series).unwrap();
        assert_eq!(spec, ModelSpec::of_kind_for(ModelKind::Conv1dAe, &series));
        spec.validate_for(&series).unwrap();
        for kind in ModelKind::ALL.into_iter().filter(|k| !k.is_convolutional() || k.is_conv1d()) {
            ModelSpec::of_kind_for(kind, &series).validate_for(&series).unwrap();
        }
        // Images: the plain defaults, as from_json.
        let digits = crate::data::MNIST_SHAPE;
        let text = r#"{"kind": "ae", "latent": 2}"#;
        assert_eq!(
            ModelSpec::from_json_for(text, &digits).unwrap(),
            ModelSpec::from_json(text).unwrap()
        );
        // A bad field is named, as from_json names it.
        let err = ModelSpec::from_json_for(r#"{"kind": "ae", "latnet": 2}"#, &table).unwrap_err();
        assert!(err.to_string().contains("latnet"), "{err}");
    }

    #[test]
    fn round_trips_through_json() {
        let spec = ModelSpec {
            kind: ModelKind::Ae,
            hidden: vec![512, 256],
            decoder_hidden: Some(vec![128]),
            activation: Activation::LeakyRelu,
            latent: 7,
            loss: ReconLoss::Mse,
            beta: 0.5,
            noise: NoiseSpec { kind: NoiseKind::SaltPepper, amount: 0.2 },
            sparsity: SparsitySpec { penalty: SparsityPenalty::L1, target: 0.1, weight: 0.5 },
            contractive: ContractiveSpec { weight: 0.25 },
            channels: vec![8],
            optimizer: AdamSpec { lr: 3e-4, beta1: 0.8, beta2: 0.99, eps: 1e-6 },
            batch_size: 64,
            seed: 99,
            output: Some(Output::Identity),
        };
        assert_eq!(ModelSpec::from_json(&spec.to_json()).unwrap(), spec);
        // A spec that leaves the output to the data says nothing of it.
        assert!(!ModelSpec::default().to_json().contains("output"));
    }

    #[test]
    fn the_output_is_the_datas_unless_a_spec_asks_for_the_identity() {
        let image = InputShape::image(28, 28);
        let table = InputShape::Vector { features: 9 };
        let linear = ModelSpec::from_json(
            r#"{"kind": "ae", "hidden": [], "activation": "identity", "output": "identity",
                "loss": "mse"}"#,
        )
        .unwrap();
        assert_eq!(linear.output_for(&image), Output::Identity);
        assert!(linear.is_linear(&image) && linear.is_linear(&table));
        assert_eq!(ModelSpec::default().output_for(&image), Output::Sigmoid);
        // A table's output is the identity already; each bend makes a model nonlinear.
        let plain = ModelSpec { output: None, ..linear.clone() };
        assert!(plain.is_linear(&table) && !plain.is_linear(&image));
        for bent in [
            ModelSpec { hidden: vec![8], ..linear.clone() },
            ModelSpec { decoder_hidden: Some(vec![8]), ..linear.clone() },
            ModelSpec { activation: Activation::Relu, ..linear.clone() },
            ModelSpec { kind: ModelKind::Dae, ..linear.clone() },
        ] {
            assert!(!bent.is_linear(&image), "{bent:?}");
        }
        // What cannot be: a sigmoid of standardised values, BCE of an identity output.
        let sigmoid = ModelSpec { output: Some(Output::Sigmoid), ..plain.clone() };
        let e = sigmoid.validate_for(&table).unwrap_err().to_string();
        assert!(e.contains("output") && e.contains("standardised"), "{e}");
        let bce = ModelSpec { loss: ReconLoss::Bce, ..linear.clone() };
        let e = bce.validate_for(&image).unwrap_err().to_string();
        assert!(e.contains("loss") && e.contains("output identity"), "{e}");
        let e = ModelSpec::from_json(r#"{"output": "linear"}"#).unwrap_err().to_string();
        assert!(e.contains("output") && e.contains("\"identity\""), "{e}");
    }

    #[test]
    fn decoder_mirrors_the_encoder_unless_given() {
        let spec = ModelSpec { hidden: vec![512, 256], ..ModelSpec::default() };
        assert_eq!(spec.decoder_widths(), vec![256, 512]);
    }

    #[test]
    fn errors_name_field_value_and_what_is_allowed() {
        let e = ModelSpec::from_json(r#"{"latent": 0}"#).unwrap_err().to_string();
        assert!(e.contains("latent") && e.contains('0') && e.contains("1 to 256"), "{e}");

        let e = ModelSpec::from_json(r#"{"kind": "gan"}"#).unwrap_err().to_string();
        assert!(e.contains("kind") && e.contains("gan") && e.contains("vae"), "{e}");

        let e = ModelSpec::from_json(r#"{"hidden": [512, 0]}"#).unwrap_err().to_string();
        assert!(e.contains("hidden[1]"), "{e}");

        let e = ModelSpec::from_json(r#"{"optimizer": {"lr": -1}}"#).unwrap_err().to_string();
        assert!(e.contains("optimizer.lr") && e.contains("-1"), "{e}");

        let e = ModelSpec::from_json(r#"{"activation": "swish"}"#).unwrap_err().to_string();
        assert!(e.contains("activation") && e.contains("leaky_relu"), "{e}");

        let e = ModelSpec::from_json(r#"{"latnet": 3}"#).unwrap_err().to_string();
        assert!(e.contains("latnet") && e.contains("latent"), "{e}");

        let e = ModelSpec::from_json(r#"{"noise": {"kind": "mask", "amount": 1.5}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("noise.amount") && e.contains("1.5"), "{e}");

        let e = ModelSpec::from_json(r#"{"contractive": {"weight": -1}}"#).unwrap_err().to_string();
        assert!(e.contains("contractive.weight") && e.contains("-1"), "{e}");
        let e = ModelSpec::from_json(r#"{"sparsity": {"target": 0}}"#).unwrap_err().to_string();
        assert!(e.contains("sparsity.target"), "{e}");

        let e = ModelSpec::from_json(r#"{"batch_size": 5000}"#).unwrap_err().to_string();
        assert!(e.contains("batch_size") && e.contains("5000"), "{e}");

        let e = ModelSpec::from_json("[1, 2").unwrap_err().to_string();
        assert!(e.contains("spec"), "{e}");
    }

    #[test]
    fn one_json_object_and_nothing_after_it() {
        let e = ModelSpec::from_json(r#"{"latent": 3} garbage"#).unwrap_err().to_string();
        assert!(e.contains("not valid JSON") && e.contains("trailing"), "{e}");
        for text in ["[]", "3", "\"vae\"", "null", "true"] {
            let e = ModelSpec::from_json(text).unwrap_err().to_string();
            assert!(e.contains("must be a JSON object"), "{text}: {e}");
        }
        let e = ModelSpec::from_json("[]").unwrap_err().to_string();
        assert!(e.contains("got the list []"), "{e}");
        // Whitespace around the object is fine.
        assert_eq!(ModelSpec::from_json(" {\"latent\": 3}\n").unwrap().latent, 3);
    }

    #[test]
    fn parse_errors_say_what_was_expected_and_what_came() {
        let e = ModelSpec::from_json(r#"{"kind": 3}"#).unwrap_err().to_string();
        assert!(
            e.contains("`kind`") && e.contains("one of \"ae\", \"vae\"") && e.contains("got 3"),
            "{e}"
        );
        assert!(e.contains("\"conv_vae\""), "every kind is listed: {e}");
        let e = ModelSpec::from_json(r#"{"hidden": [512, "a"]}"#).unwrap_err().to_string();
        assert!(
            e.contains("`hidden[1]`") && e.contains("whole number") && e.contains("got \"a\""),
            "{e}"
        );
        let e = ModelSpec::from_json(r#"{"latent": 2.5}"#).unwrap_err().to_string();
        assert!(e.contains("`latent`") && e.contains("got 2.5"), "{e}");
        let e = ModelSpec::from_json(r#"{"noise": {"kind": "pink"}}"#).unwrap_err().to_string();
        assert!(
            e.contains("`noise.kind`") && e.contains("\"salt_pepper\"") && e.contains("pink"),
            "{e}"
        );
        let e = ModelSpec::from_json(r#"{"optimizer": 3}"#).unwrap_err().to_string();
        assert!(e.contains("`optimizer`") && e.contains("an object"), "{e}");
        let e = ModelSpec::from_json(r#"{"noise": {"amont": 1}}"#).unwrap_err().to_string();
        assert!(e.contains("noise.amont") && e.contains("amount"), "{e}");
    }

    #[test]
    fn hostile_values_are_quoted_short() {
        let long = "x".repeat(10_000_000);
        // Past the size limit: refused before it is parsed.
        let e = ModelSpec::from_json(&format!(r#"{{"kind": "{long}"}}"#)).unwrap_err().to_string();
        assert!(e.len() < 200 && e.contains("at most 65,536 bytes"), "{}", &e[..e.len().min(300)]);
        // Under it, the value is cut in the message.
        let long = "x".repeat(60_000);
        for text in [
            format!(r#"{{"kind": "{long}"}}"#),
            format!(r#"{{"{long}": 1}}"#),
            format!(r#"{{"noise": {{"{long}": 1}}}}"#),
            format!(r#"{{"hidden": [{}]}}"#, vec!["1"; 20_000].join(",")),
            format!(r#"{{"channels": "{long}"}}"#),
        ] {
            let e = ModelSpec::from_json(&text).unwrap_err().to_string();
            assert!(e.len() < 400, "{} bytes: {}", e.len(), &e[..300]);
            assert!(e.contains("characters)"), "the message says how long the value was: {e}");
        }
    }

    #[test]
    fn every_listed_name_is_the_one_serde_reads() {
        for k in ModelKind::ALL {
            let spec = ModelSpec::from_json(&format!(r#"{{"kind": "{}"}}"#, k.name())).unwrap();
            assert_eq!(spec.kind, k);
        }
        for a in Activation::EVERY {
            let json = format!(r#"{{"activation": "{}"}}"#, a.name());
            assert_eq!(ModelSpec::from_json(&json).unwrap().activation, a);
        }
        for l in ReconLoss::EVERY {
            assert_eq!(
                ModelSpec::from_json(&format!(r#"{{"loss": "{}"}}"#, l.name())).unwrap().loss,
                l
            );
        }
        for n in NoiseKind::EVERY {
            let json = format!(r#"{{"noise": {{"kind": "{}"}}}}"#, n.name());
            assert_eq!(ModelSpec::from_json(&json).unwrap().noise.kind, n);
        }
        for p in SparsityPenalty::EVERY {
            let json = format!(r#"{{"sparsity": {{"penalty": "{}"}}}}"#, p.name());
            assert_eq!(ModelSpec::from_json(&json).unwrap().sparsity.penalty, p);
        }
        for o in Output::EVERY {
            let json = format!(r#"{{"output": "{}"}}"#, o.name());
            assert_eq!(ModelSpec::from_json(&json).unwrap().output, Some(o));
        }
    }

    #[test]
    fn the_parameter_budget_names_limit_value_and_advice() {
        let huge = ModelSpec { hidden: vec![4096; 6], ..ModelSpec::default() };
        let e = huge
            .check_parameters(&InputShape::default(), &Budget::BROWSER)
            .unwrap_err()
            .to_string();
        assert!(e.contains("174,269,204 parameters") && e.contains("4,000,000"), "{e}");
        assert!(e.contains("in the browser") && e.contains("narrower"), "{e}");
        assert!(!e.contains("command line"), "the CLI does not take it either: {e}");
        let e =
            huge.check_parameters(&InputShape::default(), &Budget::NATIVE).unwrap_err().to_string();
        assert!(e.contains("64,000,000") && e.contains("on the command line"), "{e}");
        // Too large for the page, fine for the CLI: the page's message says so.
        let wide = ModelSpec { hidden: vec![2048, 2048], ..ModelSpec::default() };
        let e = wide
            .check_parameters(&InputShape::default(), &Budget::BROWSER)
            .unwrap_err()
            .to_string();
        assert!(e.contains("on the command line, which takes it"), "{e}");
        assert!(wide.check_parameters(&InputShape::default(), &Budget::NATIVE).is_ok());
        // The shipped models are far inside the page's budget.
        assert!(ModelSpec::default()
            .check_parameters(&InputShape::default(), &Budget::BROWSER)
            .is_ok());
    }
}
