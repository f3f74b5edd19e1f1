//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use latent_lab::data::Output;
use latent_lab::model::{Activation, ModelKind, ReconLoss};

#[derive(Parser, Debug)]
#[command(
    name = "latent-lab",
    version,
    about = "Autoencoders (AE, VAE) on MNIST, trained with WGSL compute shaders through wgpu \
             or on the CPU",
    after_help = "Data: the bundled digits (www/data/mnist-10k.bin, built by `make data`) unless \
                  --data names another bundled set (fashion, shuttle, bleeding, ecg), a \
                  directory of MNIST IDX files, a lab-data file or a CSV table."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train an AE or a VAE and save its weights as .safetensors
    Train(TrainArgs),
    /// Evaluate saved weights on the test (or train) split; prints one JSON line
    Eval(EvalArgs),
    /// Measure steady-state training throughput; prints one JSON line
    Bench(BenchArgs),
    /// Decode draws of z ~ N(0, I) with saved weights into a PNG grid
    Sample(SampleArgs),
    /// Train on normal rows only, then score the test rows; prints one JSON line of figures
    Anomaly(AnomalyArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Plain autoencoder (default loss mse)
    Ae,
    /// Variational autoencoder (default loss bce)
    Vae,
    /// Denoising autoencoder: corrupted input, clean target (see --noise)
    Dae,
    /// Sparse autoencoder: sigmoid code with a sparsity penalty (see --sparsity)
    Sparse,
    /// Contractive autoencoder: sigmoid code, penalised Jacobian (see --contraction)
    Contractive,
    /// Conditional VAE: encoder and decoder also see the digit's label (default loss bce)
    Cvae,
    /// Convolutional autoencoder: strided convolutions around the code (see --channels)
    #[value(name = "conv_ae")]
    ConvAe,
    /// Convolutional VAE (default loss bce)
    #[value(name = "conv_vae")]
    ConvVae,
    /// 1-D convolutional autoencoder for series windows (see --window, --channels)
    #[value(name = "conv1d_ae")]
    Conv1dAe,
    /// 1-D convolutional VAE for series windows
    #[value(name = "conv1d_vae")]
    Conv1dVae,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> Self {
        match m {
            ModelArg::Ae => ModelKind::Ae,
            ModelArg::Vae => ModelKind::Vae,
            ModelArg::Dae => ModelKind::Dae,
            ModelArg::Sparse => ModelKind::Sparse,
            ModelArg::Contractive => ModelKind::Contractive,
            ModelArg::Cvae => ModelKind::Cvae,
            ModelArg::ConvAe => ModelKind::ConvAe,
            ModelArg::ConvVae => ModelKind::ConvVae,
            ModelArg::Conv1dAe => ModelKind::Conv1dAe,
            ModelArg::Conv1dVae => ModelKind::Conv1dVae,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NoiseArg {
    Gaussian,
    Mask,
    #[value(name = "salt_pepper", alias = "salt-pepper")]
    SaltPepper,
}

impl From<NoiseArg> for latent_lab::model::NoiseKind {
    fn from(n: NoiseArg) -> Self {
        match n {
            NoiseArg::Gaussian => Self::Gaussian,
            NoiseArg::Mask => Self::Mask,
            NoiseArg::SaltPepper => Self::SaltPepper,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SparsityArg {
    Kl,
    L1,
}

impl From<SparsityArg> for latent_lab::model::SparsityPenalty {
    fn from(s: SparsityArg) -> Self {
        match s {
            SparsityArg::Kl => Self::Kl,
            SparsityArg::L1 => Self::L1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ActivationArg {
    Relu,
    #[value(name = "leaky_relu", alias = "leaky-relu")]
    LeakyRelu,
    Tanh,
    Sigmoid,
    /// No activation: with no hidden layer and the identity output (--output identity on
    /// images), a linear autoencoder
    Identity,
}

impl From<ActivationArg> for Activation {
    fn from(a: ActivationArg) -> Self {
        match a {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::LeakyRelu => Activation::LeakyRelu,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Sigmoid => Activation::Sigmoid,
            ActivationArg::Identity => Activation::Identity,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossArg {
    /// Binary cross-entropy per image
    Bce,
    /// Squared error per image
    Mse,
}

impl From<LossArg> for ReconLoss {
    fn from(l: LossArg) -> Self {
        match l {
            LossArg::Bce => ReconLoss::Bce,
            LossArg::Mse => ReconLoss::Mse,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    /// σ(logits): values in [0, 1] (images)
    Sigmoid,
    /// The logits themselves
    Identity,
}

impl From<OutputArg> for Output {
    fn from(o: OutputArg) -> Self {
        match o {
            OutputArg::Sigmoid => Output::Sigmoid,
            OutputArg::Identity => Output::Identity,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The GPU when it is real hardware, else the CPU executor (faster than an emulated GPU)
    Auto,
    /// WGSL compute shaders through wgpu (Vulkan, Metal, DX12), even on a software adapter
    Gpu,
    /// The CPU executor
    Cpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    Test,
    Train,
}

/// Encoder hidden widths, input side first (the decoder mirrors them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widths(pub Vec<usize>);

/// `512,256` → [512, 256]; `""` or `none` → no hidden layer. Range checks are the spec's.
fn parse_widths(s: &str) -> Result<Widths, String> {
    let s = s.trim();
    if s.is_empty() || s == "none" {
        return Ok(Widths(vec![]));
    }
    s.split(',')
        .map(|w| {
            w.trim().parse::<usize>().map_err(|_| {
                format!("`{}` is not a width: expected comma-separated integers like 512,256", w)
            })
        })
        .collect::<Result<_, _>>()
        .map(Widths)
}

fn parse_epochs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(e) if e.is_finite() && e > 0.0 && e <= 100_000.0 => Ok(e),
        Ok(_) => Err("must be a number of epochs above 0 (fractions allowed)".to_string()),
        Err(_) => Err("not a number".to_string()),
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to train
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Print JSON lines (one per metrics chunk, then eval and saved) instead of a progress bar
    #[arg(long)]
    pub json: bool,
    /// Weights file to write
    #[arg(long, value_name = "FILE.safetensors")]
    pub out: PathBuf,
}

/// The model and its training schedule, as `train` and `anomaly` take them.
#[derive(Args, Debug)]
pub struct ModelArgs {
    /// Model kind; required unless --spec gives it (then --model overrides the spec's kind)
    #[arg(long, value_enum, required_unless_present = "spec")]
    pub model: Option<ModelArg>,
    /// Start from this ModelSpec JSON file instead of the kind's defaults; flags override it
    #[arg(long, value_name = "FILE.json")]
    pub spec: Option<PathBuf>,
    /// Width of the code (AE) or of z (VAE)
    #[arg(long, value_name = "Z")]
    pub latent: Option<usize>,
    /// Encoder hidden widths, comma-separated, input side first (decoder mirrors them)
    #[arg(long, value_name = "W1,W2,…", value_parser = parse_widths)]
    pub hidden: Option<Widths>,
    /// Hidden-layer activation
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// Reconstruction loss (default: mse for ae, bce for vae)
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,
    /// Passes over the training set, may be fractional [default: 10]
    #[arg(long, value_name = "N", value_parser = parse_epochs, conflicts_with = "steps")]
    pub epochs: Option<f64>,
    /// Training steps (minibatches), instead of --epochs
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,
    /// Minibatch size
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,
    /// Adam learning rate
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub lr: Option<f32>,
    /// Weight of the KL term (VAE): 1 is the plain VAE, other values a β-VAE
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub beta: Option<f32>,
    /// Input corruption of a dae: gaussian (σ), mask or salt_pepper (fraction)
    #[arg(long, value_enum)]
    pub noise: Option<NoiseArg>,
    /// The noise's σ (gaussian) or fraction of pixels (mask, salt_pepper)
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub noise_amount: Option<f32>,
    /// Sparsity penalty of a sparse AE: kl (KL(ρ ‖ ρ̂) per code unit) or l1 (|code|)
    #[arg(long, value_enum)]
    pub sparsity: Option<SparsityArg>,
    /// ρ, the target mean activation of each code unit (kl penalty)
    #[arg(long, value_name = "RHO", allow_negative_numbers = true)]
    pub sparsity_target: Option<f32>,
    /// Weight of the sparsity penalty in the loss
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub sparsity_weight: Option<f32>,
    /// Output channels of a conv_ae's or conv_vae's convolutions (4 × 4, stride 2), e.g. 16,32
    #[arg(long, value_name = "C1,C2", value_parser = parse_widths)]
    pub channels: Option<Widths>,
    /// Weight λ of a contractive AE's penalty λ·‖∂code/∂h‖² (h: the code layer's input)
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub contraction: Option<f32>,
    /// Seed of initial weights, minibatch order and sampling noise
    #[arg(long, value_name = "S")]
    pub seed: Option<u32>,
    /// The decoder's output (default: the data's, sigmoid for images and identity for tables
    /// and series); identity on images, with --activation identity and --hidden '', makes a
    /// linear AE (trained with mse)
    #[arg(long, value_enum)]
    pub output: Option<OutputArg>,
}

/// Which data, and how a table or a series becomes rows.
#[derive(Args, Debug, Default)]
pub struct DataArgs {
    /// mnist, fashion, shuttle, bleeding or ecg (the bundled sets, built by `make data`), a
    /// directory of MNIST IDX files, a lab-data file or a CSV table [default: mnist]
    #[arg(long, value_name = "NAME|DIR|FILE")]
    pub data: Option<PathBuf>,
    /// The label column of a CSV table (whole numbers 0–9; 1 marks an anomaly)
    #[arg(long, value_name = "COLUMN")]
    pub label: Option<String>,
    /// Length of the windows a series is cut into
    #[arg(long, value_name = "STEPS")]
    pub window: Option<usize>,
    /// Steps from one window's start to the next
    #[arg(long, value_name = "STEPS")]
    pub stride: Option<usize>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Weights file saved by `latent-lab train` (or the web page)
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to run
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Which split to evaluate
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,
    /// Also reconstruct corrupted digits and report denoise_mse against the clean ones
    /// (a dae uses its training noise unless this is given)
    #[arg(long, value_enum)]
    pub noise: Option<NoiseArg>,
    /// The noise's σ (gaussian) or fraction of pixels (mask, salt_pepper)
    #[arg(long, value_name = "X", requires = "noise")]
    pub noise_amount: Option<f32>,
    /// Also fit PCA with as many components as the model's code on the training split and
    /// report its reconstruction error on the same rows (`pca_mse_per_pixel`): the linear
    /// baseline
    #[arg(long)]
    pub pca: bool,
    /// Also classify the evaluated rows by their nearest neighbour among the first 10, 100
    /// and 1,000 labelled training rows — in code space, in pixel space and in PCA space of
    /// the code's width — and report each accuracy (`knn_accuracy`)
    #[arg(long)]
    pub knn: bool,
    /// Evaluate only the rows labelled 0: the normal rows of an anomaly data set
    #[arg(long)]
    pub normal: bool,
}

/// Which classes are normal: a list of labels, or each class in turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NormalArg {
    Classes(Vec<u8>),
    Each,
}

/// `0,1` → [0, 1]; `each` → every class in turn.
fn parse_normal(s: &str) -> Result<NormalArg, String> {
    if s.trim() == "each" {
        return Ok(NormalArg::Each);
    }
    let mut classes = s
        .split(',')
        .map(|c| match c.trim().parse::<u8>() {
            Ok(k) if k <= 9 => Ok(k),
            _ => Err(format!(
                "`{}` is not a label: expected labels 0–9, comma-separated like 0,1, or `each`",
                c.trim()
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    classes.sort_unstable();
    classes.dedup();
    Ok(NormalArg::Classes(classes))
}

fn parse_contamination(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=latent_lab::anomaly::MAX_CONTAMINATION).contains(&x) => Ok(x),
        Ok(_) => Err(format!(
            "the share of anomalies in the training rows is a number from 0 to {}",
            latent_lab::anomaly::MAX_CONTAMINATION
        )),
        Err(_) => Err("not a number".to_string()),
    }
}

#[derive(Args, Debug)]
pub struct AnomalyArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// The normal classes (labels 0–9, comma-separated), or `each`: every class in turn, one
    /// line each and a line of means [default: 0, the normal rows of an anomaly set]
    #[arg(long, value_name = "K,…|each", value_parser = parse_normal)]
    pub normal: Option<NormalArg>,
    /// Another data set of the same shape whose rows are all anomalies (a bundled name or a
    /// file) [default for fashion without --normal: mnist, digits among clothes]
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "normal")]
    pub anomalies: Option<PathBuf>,
    /// The share of the training rows that are anomalies, mixed in at random (0 to 0.5)
    #[arg(long, value_name = "X", default_value_t = 0.0, value_parser = parse_contamination)]
    pub contamination: f64,
    /// Where to train
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Also write the trained detector's weights
    #[arg(long, value_name = "FILE.safetensors")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model kind; each has the README's quality setup as defaults
    /// (vae: hidden 400, latent 20, batch 128, bce; ae: hidden 512,256, latent 2, batch 256, mse)
    #[arg(long, value_enum, default_value_t = ModelArg::Vae)]
    pub model: ModelArg,
    /// Encoder hidden widths, comma-separated
    #[arg(long, value_name = "W1,W2,…", value_parser = parse_widths)]
    pub hidden: Option<Widths>,
    /// Width of the code (AE) or of z (VAE)
    #[arg(long, value_name = "Z")]
    pub latent: Option<usize>,
    /// Minibatch size
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,
    /// Where to run
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// Timed steps (after warm-up); by default as many as fit in about 2 seconds
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub steps: Option<u32>,
    /// Then time each op of the training step and print a table (the GPU's kernels by
    /// timestamp queries, where the device has them)
    #[arg(long)]
    pub profile: bool,
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Weights file saved by `latent-lab train` (or the web page)
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Number of samples
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub n: u32,
    /// PNG file to write
    #[arg(long, value_name = "FILE.png")]
    pub out: PathBuf,
    /// Seed of the z draws
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u32,
    /// The digit a conditional model (cvae) draws [default: 0, 1, …, 9 in turn]
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u8).range(0..=9))]
    pub label: Option<u8>,
    /// Upscale the grid by this integer factor
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub scale: u32,
    /// Where to run
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn normal_classes_parse() {
        assert_eq!(parse_normal("3, 1,3").unwrap(), NormalArg::Classes(vec![1, 3]));
        assert_eq!(parse_normal("each").unwrap(), NormalArg::Each);
        assert!(parse_normal("10").unwrap_err().contains("`10`"));
        assert!(parse_contamination("0.6").is_err());
        assert_eq!(parse_contamination("0.05").unwrap(), 0.05);
    }

    #[test]
    fn widths_parse() {
        assert_eq!(parse_widths("512,256").unwrap(), Widths(vec![512, 256]));
        assert_eq!(parse_widths(" 400 ").unwrap(), Widths(vec![400]));
        assert_eq!(parse_widths("none").unwrap(), Widths(vec![]));
        assert!(parse_widths("512,x").unwrap_err().contains("`x`"));
    }
}
