//! Getting a device, compiling kernels once, capturing errors, reading buffers back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::ops::linear::{Matmul, Schedule};
use crate::shaders::Shader;

/// Compiled pipelines by (kernel family, entry point, `linear.wgsl`'s override constants).
type PipelineCache = HashMap<(Shader, &'static str, Option<Matmul>), wgpu::ComputePipeline>;

/// A device and everything shared by the executors built on it.
#[derive(Clone)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter_info: wgpu::AdapterInfo,
    lost: Arc<Mutex<Option<String>>>,
    errors: Arc<Mutex<Vec<String>>>,
    pipelines: Arc<Mutex<PipelineCache>>,
    /// Matmul schedule: workgroup-memory tiles on GPUs, register blocks on CPU emulations.
    pub matmul: Schedule,
    /// Whether the device writes timestamps at compute-pass boundaries (`bench --profile`).
    pub timestamps: bool,
}

impl GpuContext {
    /// Opens the first adapter wgpu offers (a software adapter such as lavapipe or
    /// SwiftShader included) with WebGPU's default limits. Natively only the primary
    /// backends (Vulkan, Metal, DX12) are asked — OpenGL lacks compute features the kernels
    /// rely on — unless `WGPU_BACKEND` names others.
    pub async fn new() -> Result<GpuContext> {
        #[allow(unused_mut)]
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        #[cfg(not(target_arch = "wasm32"))]
        {
            desc.backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
        }
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoAdapter(e.to_string()))?;
        Self::from_adapter(&adapter).await
    }

    pub async fn from_adapter(adapter: &wgpu::Adapter) -> Result<GpuContext> {
        let adapter_info = adapter.get_info();
        // WebGPU's defaults, but as much storage per binding as the adapter allows: the full
        // MNIST training set is 47 MB of bytes.
        let supported = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: supported.max_storage_buffer_binding_size.min(1 << 30),
            max_buffer_size: supported.max_buffer_size.min(1 << 30),
            ..wgpu::Limits::default()
        };
        // Timestamps, where the adapter has them, only time kernels for `bench --profile`.
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let required_features =
            if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("latent-lab"),
                required_features,
                required_limits,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::RequestDevice(e.to_string()))?;
        let lost = Arc::new(Mutex::new(None));
        let errors = Arc::new(Mutex::new(vec![]));
        {
            let lost = lost.clone();
            device.set_device_lost_callback(move |reason, message| {
                *lost.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(format!("{reason:?}: {message}"));
            });
            let errors = errors.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                errors.lock().unwrap_or_else(|p| p.into_inner()).push(e.to_string());
            }));
        }
        let matmul = schedule_for(&adapter_info);
        Ok(GpuContext {
            device,
            queue,
            adapter_info,
            lost,
            errors,
            pipelines: Default::default(),
            matmul,
            timestamps,
        })
    }

    /// Whether the adapter is a software renderer ([`is_software`]).
    pub fn is_software(&self) -> bool {
        is_software(&self.adapter_info)
    }

    /// "adapter name (backend)", for badges and logs.
    pub fn describe(&self) -> String {
        let i = &self.adapter_info;
        format!("{} ({:?})", i.name, i.backend)
    }

    /// Fails with the first error the device reported since the last check, if any.
    pub fn check(&self, what: &str) -> Result<()> {
        if let Some(reason) = self.lost.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(Error::DeviceLost(reason));
        }
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(first) = errors.first().cloned() {
            errors.clear();
            return Err(Error::Gpu { label: what.to_string(), message: first });
        }
        Ok(())
    }

    /// The compute pipeline of one entry point, compiled once per context. A shader that
    /// fails to compile is reported with its file and entry point.
    /// `matmul` sets the override constants of `linear.wgsl`'s entry points.
    pub async fn pipeline(
        &self,
        shader: Shader,
        entry: &'static str,
        matmul: Option<Matmul>,
    ) -> Result<wgpu::ComputePipeline> {
        let key = (shader, entry, matmul);
        if let Some(p) = self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(p.clone());
        }
        let constants = matmul.map(|m| m.constants()).unwrap_or_default();
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(shader.name()),
            source: wgpu::ShaderSource::Wgsl(shader.source().into()),
        });
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                ..Default::default()
            },
            cache: None,
        });
        if let Some(e) = scope.pop().await {
            return Err(Error::Shader {
                kernel: format!("{}::{entry}", shader.name()),
                message: e.to_string(),
            });
        }
        self.pipelines.lock().unwrap_or_else(|p| p.into_inner()).insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Starts mapping `buffer` for reading; the receiver fires when the data is ready.
    /// With [`GpuContext::wait`] and [`GpuContext::poll`], the only place that maps or polls.
    pub fn start_read(&self, buffer: &wgpu::Buffer) -> futures_channel::oneshot::Receiver<bool> {
        let (tx, rx) = futures_channel::oneshot::channel();
        buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r.is_ok());
        });
        rx
    }

    /// Lets finished map callbacks fire without blocking (a no-op on the web, where the
    /// browser's event loop runs them).
    pub fn poll(&self) {
        let _ = self.device.poll(wgpu::PollType::Poll);
    }

    /// Waits for a read started by [`GpuContext::start_read`].
    pub async fn wait(
        &self,
        rx: futures_channel::oneshot::Receiver<bool>,
        what: &str,
    ) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu { label: what.to_string(), message: e.to_string() })?;
        match rx.await {
            Ok(true) => self.check(what),
            _ => {
                self.check(what)?;
                Err(Error::Gpu {
                    label: what.to_string(),
                    message: "mapping the buffer for reading failed".into(),
                })
            }
        }
    }
}

/// Workgroup-memory tiles pay off on real GPUs; CPU emulations of a GPU (lavapipe,
/// SwiftShader) run barriers slowly and do better with register blocks, read 16 bytes at a
/// time where the shapes allow. The environment variable
/// `LATENT_LAB_MATMUL=tiled|blocked|blocked4` overrides the choice (for benchmarks).
fn schedule_for(info: &wgpu::AdapterInfo) -> Schedule {
    match std::env::var("LATENT_LAB_MATMUL").as_deref() {
        Ok("tiled") => return Schedule::Tiled,
        Ok("blocked") => return Schedule::Blocked,
        Ok("blocked4") => return Schedule::Blocked4,
        _ => {}
    }
    if is_software(info) {
        Schedule::Blocked4
    } else {
        Schedule::Tiled
    }
}

/// Whether an adapter is a GPU emulated on the CPU (lavapipe, SwiftShader, WARP): wgpu's
/// [`wgpu::DeviceType::Cpu`] (in a browser, `GPUAdapterInfo.isFallbackAdapter`), or a
/// software renderer's name where a driver reports another type. On such an adapter the
/// CPU executor trains faster than the WGSL one.
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let names = format!("{} {} {}", info.name, info.driver, info.driver_info).to_lowercase();
    let emulated = ["llvmpipe", "lavapipe", "swiftshader", "warp", "software", "basic render"];
    info.device_type == wgpu::DeviceType::Cpu || emulated.iter().any(|e| names.contains(e))
}

/// Copies the contents of a mapped buffer out as f32 and unmaps it.
pub fn read_mapped_f32(buffer: &wgpu::Buffer, len: usize) -> Result<Vec<f32>> {
    let out = {
        let view = buffer
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Gpu { label: "readback".into(), message: e.to_string() })?;
        bytemuck::cast_slice::<u8, f32>(&view[..len * 4]).to_vec()
    };
    buffer.unmap();
    Ok(out)
}
