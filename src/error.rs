//! Errors are values with advice: each variant says what went wrong and what to do.

use thiserror::Error;

pub use crate::data::DataError;
pub use crate::weights::WeightsError;

/// A spec that cannot be built. Names the field, the value and what is allowed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpecError {
    #[error("invalid model spec: `{field}`: {message}")]
    Parse { field: String, message: String },
    #[error("invalid model spec: `{field}` = {value}: must be {allowed}")]
    Invalid { field: String, value: String, allowed: String },
    /// A valid spec whose model costs more than this build's [`crate::limits::Budget`].
    #[error("model too large: {0}")]
    TooLarge(crate::limits::OverBudget),
    /// An input shape the engine cannot take.
    #[error("invalid input shape: {0}")]
    Shape(String),
}

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("no GPU adapter found ({0}); use the CPU backend, or install a Vulkan driver (e.g. mesa-vulkan-drivers for lavapipe)")]
    NoAdapter(String),
    #[error("could not open the GPU device: {0}")]
    RequestDevice(String),
    #[error("the GPU device was lost ({0}); the weights are kept, continue on the CPU backend")]
    DeviceLost(String),
    #[error("GPU error in `{label}`: {message}")]
    Gpu { label: String, message: String },
    #[error("shader `{kernel}` failed to compile: {message}")]
    Shader { kernel: String, message: String },
    #[error("training diverged at step {step}: the loss became {value}; lower the learning rate (optimizer.lr) and reset")]
    Diverged { step: u64, value: f32 },
    #[error("bad input: {0}")]
    Input(String),
    /// A request over this build's [`crate::limits::Budget`].
    #[error("request too large: {0}")]
    TooLarge(#[from] crate::limits::OverBudget),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
