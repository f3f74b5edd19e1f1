//! The GPU executor: runs a [`Program`](crate::model::Program) with the WGSL kernels.
//!
//! - [`context`]: adapter, device, the pipeline cache, error capture, readback.
//! - [`executor`]: buffers and bind groups made once; steps recorded into one submit.

pub mod context;
pub mod executor;

pub use context::GpuContext;
pub use executor::{GpuDataset, GpuExecutor, KernelTimes};
