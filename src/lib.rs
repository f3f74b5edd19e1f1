//! Latent Lab: autoencoders that train and run on the GPU with WGSL compute shaders through
//! wgpu — natively (Vulkan, Metal, DX12) and in the browser (WebGPU) — and the same models
//! on the CPU with reference kernels.
//!
//! The layers, top to bottom: [`web`] (the wasm API), [`train`] (trainer and evaluation),
//! [`model`] (ModelSpec → Program), [`backend`] (the CPU and GPU executors), [`ops`] (each
//! op's gradient rule, CPU function and GPU plan; [`reference`] gathers the CPU functions)
//! and `shaders/` (WGSL kernels). Side modules: [`data`], [`weights`], [`rng`],
//! [`inspect`] (a model's insides for the page's views), [`pca`] (the linear baseline),
//! [`anomaly`] (scores, curves and splits for anomaly detection).

pub mod anomaly;
pub mod backend;
pub mod compare;
pub mod data;
pub mod error;
pub mod inspect;
pub mod knn;
pub mod limits;
pub mod model;
pub mod ops;
pub mod pca;
pub mod projection;
pub mod reference;
pub mod rng;
pub mod shaders;
pub mod train;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use backend::{Backend, Encoded, Executor, Metrics};
pub use error::{Error, Result};
pub use model::{ModelKind, ModelSpec, Program};
