//! Buffers, bind groups and command recording for one Program on one device.
//!
//! Everything is allocated when the executor is built: the dataset, activations, one uniform
//! buffer and one bind group per op, and four buffers for all the parameters — values,
//! gradients and Adam's two moments, each laid out by the program's [`Arena`], so that the
//! optimizer is one dispatch and the gradients one clear. A training step then only records
//! dispatches into a compute pass; many steps share one submit, the step counter advances
//! on the GPU, and the losses accumulate in a GPU buffer that is copied into a small ring of
//! staging buffers and read back asynchronously.

use std::collections::VecDeque;

use super::context::{read_mapped_f32, GpuContext};
use crate::backend::{add_time, Metrics};
use crate::data::Values;
use crate::error::{Error, Result};
use crate::model::{metric, ModelSpec, Op, Program, Role};
use crate::ops::{Arena, Plan, Resource, TrainData, UNIFORM_BYTES};

/// Staging buffers for metrics in flight: how many submits may run ahead of the readback.
const RING: usize = 4;

struct Dispatch {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    uniform: Option<wgpu::Buffer>,
    groups: [u32; 3],
}

/// GPU seconds of profiled training steps ([`GpuExecutor::train_profiled`]).
pub struct KernelTimes {
    /// Seconds in each op kind's dispatches, summed over the steps, most first.
    pub ops: Vec<(&'static str, f64)>,
    /// Seconds from the first dispatch's start to the last one's end: the kernels and
    /// what lies between them (clears, barriers, pass boundaries).
    pub span: f64,
    pub steps: u32,
}

impl KernelTimes {
    /// The profile's rows: each op kind, then `(between)`, the rest of the span.
    pub fn rows(&self) -> Vec<(&'static str, f64)> {
        let kernels: f64 = self.ops.iter().map(|o| o.1).sum();
        let mut rows = self.ops.clone();
        rows.push(("(between)", (self.span - kernels).max(0.0)));
        rows
    }
}

struct InFlight {
    slot: usize,
    first_step: u32,
    steps: u32,
    rx: futures_channel::oneshot::Receiver<bool>,
}

/// Where a tensor lives: its own buffer, or a range of a parameter buffer.
#[derive(Clone)]
struct View {
    buffer: wgpu::Buffer,
    offset: u64,
    bytes: u64,
}

impl View {
    fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.buffer,
            offset: self.offset,
            size: wgpu::BufferSize::new(self.bytes),
        })
    }
}

pub struct GpuExecutor {
    ctx: GpuContext,
    program: Program,
    /// Every tensor, by [`TensorId`](crate::model::TensorId).
    views: Vec<View>,
    /// The parameter buffers: values, gradients, Adam's m and v.
    arenas: [wgpu::Buffer; 4],
    /// What a step clears: the gradients buffer and each activation gradient.
    clears: Vec<View>,
    scratch: wgpu::Buffer,
    /// The training set this executor samples its batches from (possibly shared).
    data: GpuDataset,
    state: wgpu::Buffer,
    metrics: wgpu::Buffer,
    train: Vec<Dispatch>,
    encode: Vec<Dispatch>,
    decode: Vec<Dispatch>,
    ring: Vec<wgpu::Buffer>,
    free: Vec<usize>,
    in_flight: VecDeque<InFlight>,
    done: Vec<Metrics>,
    /// Staging buffer for inference outputs.
    readback: wgpu::Buffer,
    step: u32,
}

fn storage(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    })
}

fn staging(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(16).next_multiple_of(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Training rows as the GPU holds them: bytes packed four to a u32 with each row padded to
/// whole words (784 = 4 · 196 needs no padding), or f32 values as they are.
fn row_bytes(rows: &Values, width: usize) -> Vec<u8> {
    let mut bytes = match rows {
        Values::Bytes(b) => {
            let stride = width.next_multiple_of(4);
            let mut out = vec![0u8; b.len() / width * stride];
            for (dst, src) in out.chunks_exact_mut(stride).zip(b.chunks_exact(width)) {
                dst[..width].copy_from_slice(src);
            }
            out
        }
        Values::Floats(f) => bytemuck::cast_slice(f).to_vec(),
    };
    bytes.resize(bytes.len().max(4), 0);
    bytes
}

/// Training rows (see [`TrainData`]) and their labels, resident on the GPU. Cloning shares
/// the buffers: every executor of one context can train from one upload of the data.
#[derive(Clone)]
pub struct GpuDataset {
    rows: wgpu::Buffer,
    layout: TrainData,
    /// One u32 label per training row (conditional models); zeros until set.
    labels: wgpu::Buffer,
    has_labels: bool,
}

impl GpuDataset {
    /// Uploads `rows` (n × `width` values, n ≥ 1) and, if given, their labels (n digits,
    /// checked by the caller).
    pub fn upload(
        ctx: &GpuContext,
        rows: &Values,
        width: usize,
        labels: Option<&[u8]>,
    ) -> Result<Self> {
        if width == 0 || rows.is_empty() || !rows.len().is_multiple_of(width) {
            return Err(Error::Input(format!(
                "training rows: {} values is not a positive multiple of the row width {width}",
                rows.len()
            )));
        }
        let bytes = row_bytes(rows, width);
        let buffer = storage(&ctx.device, "train rows", bytes.len() as u64);
        ctx.queue.write_buffer(&buffer, 0, &bytes);
        let count = rows.len() / width;
        let layout = TrainData { rows: count, width, floats: matches!(rows, Values::Floats(_)) };
        let mut data = GpuDataset {
            rows: buffer,
            layout,
            labels: storage(&ctx.device, "train labels", count as u64 * 4),
            has_labels: false,
        };
        if let Some(labels) = labels {
            data.write_labels(ctx, labels);
        }
        Ok(data)
    }

    /// No training rows: an executor that only runs inference (it refuses to train).
    fn empty(ctx: &GpuContext, width: usize) -> Self {
        GpuDataset {
            rows: storage(&ctx.device, "no train rows", 4),
            layout: TrainData { rows: 0, width, floats: false },
            labels: storage(&ctx.device, "no train labels", 4),
            has_labels: false,
        }
    }

    /// Refuses rows of another width than the program's inputs.
    fn check_width(&self, program: &Program) -> Result<()> {
        if self.layout.rows > 0 && self.layout.width != program.input_size() {
            return Err(Error::Input(format!(
                "the training rows have {} values, the model's inputs ({}) {}",
                self.layout.width,
                program.shape,
                program.input_size()
            )));
        }
        Ok(())
    }

    fn write_labels(&mut self, ctx: &GpuContext, labels: &[u8]) {
        let words: Vec<u32> = labels.iter().map(|&l| u32::from(l)).collect();
        ctx.queue.write_buffer(&self.labels, 0, bytemuck::cast_slice(&words));
        self.has_labels = true;
    }
}

impl GpuExecutor {
    pub async fn new(ctx: &GpuContext, program: Program, train_images: &[u8]) -> Result<Self> {
        let rows = Values::from(train_images);
        let data = GpuDataset::upload(ctx, &rows, program.input_size(), None)?;
        Self::with_data(ctx, program, Some(data)).await
    }

    /// An executor that trains from `data` (shared with other executors of `ctx`), or, with
    /// `None`, one without training data until [`GpuExecutor::set_data`] gives it some.
    pub async fn with_data(
        ctx: &GpuContext,
        program: Program,
        data: Option<GpuDataset>,
    ) -> Result<Self> {
        let device = &ctx.device;
        let arena_bytes = program.arena.len as u64 * 4;
        let arenas = ["parameters", "gradients", "adam m", "adam v"]
            .map(|label| storage(device, label, arena_bytes));
        let views = tensor_views(device, &program, &arenas);
        // The parameters' gradients are one clear of their buffer; the activations' one each.
        let grads = View { buffer: arenas[1].clone(), offset: 0, bytes: arenas[1].size() };
        let clears = std::iter::once(grads)
            .chain(
                program
                    .gradients
                    .iter()
                    .filter(|&&t| program.tensors[t].role != Role::Grad)
                    .map(|&t| views[t].clone()),
            )
            .collect();
        let data = data.unwrap_or_else(|| GpuDataset::empty(ctx, program.input_size()));
        data.check_width(&program)?;
        let state = storage(device, "step counter", 16);
        let metrics = storage(device, "metric sums", (metric::COUNT * 4) as u64);
        let ring = (0..RING)
            .map(|i| staging(device, &format!("metrics staging {i}"), (metric::COUNT * 4) as u64))
            .collect();
        let readback_len = program.infer_rows * program.input_size().max(program.stats_width());
        let readback = staging(device, "inference readback", readback_len as u64 * 4);
        let mut ex = GpuExecutor {
            ctx: ctx.clone(),
            views,
            arenas,
            clears,
            scratch: storage(device, "scratch", 16),
            data,
            state,
            metrics,
            train: vec![],
            encode: vec![],
            decode: vec![],
            ring,
            free: (0..RING).rev().collect(),
            in_flight: VecDeque::new(),
            done: vec![],
            readback,
            step: 0,
            program,
        };
        ex.train = ex.dispatches(&ex.program.train.clone(), ex.program.batch).await?;
        ex.encode = ex.dispatches(&ex.program.encode.clone(), ex.program.infer_rows).await?;
        ex.decode = ex.dispatches(&ex.program.decode.clone(), ex.program.infer_rows).await?;
        let init = ex.program.initial_params();
        ex.set_params(&init)?;
        ctx.check("building the GPU executor")?;
        Ok(ex)
    }

    fn resource(&self, r: Resource) -> wgpu::BindingResource<'_> {
        let buffer = match r {
            Resource::Tensor(t) => return self.views[t].binding(),
            Resource::Rows => &self.data.rows,
            Resource::Labels => &self.data.labels,
            Resource::State => &self.state,
            Resource::Metrics => &self.metrics,
            Resource::Arena(role) => &self.arenas[arena_index(role)],
            Resource::Scratch => &self.scratch,
        };
        buffer.as_entire_binding()
    }

    /// What `op` dispatches on `rows` rows.
    fn plan(&self, op: &Op, rows: usize) -> Plan {
        op.kernel().plan(&self.program.plan_cx(rows, self.data.layout, self.ctx.matmul))
    }

    /// Pipelines, uniform buffers and bind groups of an op list: made once.
    async fn dispatches(&self, ops: &[Op], rows: usize) -> Result<Vec<Dispatch>> {
        let device = &self.ctx.device;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            let p: Plan = self.plan(op, rows);
            let pipeline = self.ctx.pipeline(p.shader, p.entry, p.matmul).await?;
            let uniform = p.uniform.map(|words| {
                let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(p.entry),
                    size: UNIFORM_BYTES as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                self.ctx.queue.write_buffer(&buffer, 0, &words);
                buffer
            });
            let mut entries: Vec<wgpu::BindGroupEntry> = p
                .bindings
                .iter()
                .map(|&(binding, r)| wgpu::BindGroupEntry { binding, resource: self.resource(r) })
                .collect();
            if let Some(u) = &uniform {
                entries.push(wgpu::BindGroupEntry { binding: 0, resource: u.as_entire_binding() });
            }
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(p.entry),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            out.push(Dispatch { pipeline, bind_group, uniform, groups: p.groups });
        }
        Ok(out)
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Swaps in a spec with the same architecture (checked by the caller): rewrites the
    /// uniform words of the training step, which take effect from the next submit on.
    pub fn set_spec(&mut self, spec: ModelSpec) {
        self.program.spec = spec;
        let rows = self.program.batch;
        for (op, d) in self.program.train.iter().zip(&self.train) {
            let p = self.plan(op, rows);
            if let (Some(words), Some(u)) = (p.uniform, &d.uniform) {
                self.ctx.queue.write_buffer(u, 0, &words);
            }
        }
    }

    pub fn step(&self) -> u32 {
        self.step
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// Replaces the resident training rows (same executor, new data).
    pub async fn set_train_rows(&mut self, rows: &Values) -> Result<()> {
        let data = GpuDataset::upload(&self.ctx, rows, self.program.input_size(), None)?;
        self.set_data(data).await
    }

    /// Trains from `data` from now on (a data set uploaded once for several executors).
    pub async fn set_data(&mut self, data: GpuDataset) -> Result<()> {
        data.check_width(&self.program)?;
        self.data = data;
        // Only the gathers' bind groups name the data, but rebuilding the list is cheap.
        let ops = self.program.train.clone();
        self.train = self.dispatches(&ops, self.program.batch).await?;
        Ok(())
    }

    /// Labels of the training images, one per image (checked by the caller).
    pub fn set_train_labels(&mut self, labels: &[u8]) {
        let ctx = self.ctx.clone();
        self.data.write_labels(&ctx, labels);
    }

    pub fn has_labels(&self) -> bool {
        self.data.has_labels
    }

    pub fn train_rows(&self) -> usize {
        self.data.layout.rows
    }

    /// Compute dispatches recorded per training step, and buffer clears (the gradients)
    /// before them.
    pub fn commands_per_step(&self) -> (usize, usize) {
        (self.train.len(), self.clears.len())
    }

    /// Records `steps` training steps — one compute pass each — into one submit, then
    /// starts the asynchronous readback of their summed losses. Waits only when the ring of
    /// staging buffers is full (the GPU is `RING` submits behind).
    pub async fn train(&mut self, steps: u32) -> Result<()> {
        if steps == 0 {
            return Ok(());
        }
        let mut encoder = self.encoder("train");
        for _ in 0..steps {
            self.record_step(&mut encoder, None);
        }
        self.submit_steps(encoder, steps).await
    }

    /// Most steps one [`GpuExecutor::train_profiled`] times: two timestamps per dispatch,
    /// in one query set.
    pub fn profile_steps_max(&self) -> u32 {
        wgpu::QUERY_SET_MAX_QUERIES / (2 * self.train.len().max(1) as u32)
    }

    /// Trains `steps` steps (at most [`GpuExecutor::profile_steps_max`]) with every
    /// dispatch in a compute pass of its own, timestamped as the pass begins and ends: the
    /// GPU time of each op kind, most first. Fails on a device without timestamp queries.
    /// The steps count as trained.
    pub async fn train_profiled(&mut self, steps: u32) -> Result<KernelTimes> {
        if !self.ctx.timestamps {
            return Err(Error::Gpu {
                label: "profile".into(),
                message: format!("{} has no timestamp queries", self.ctx.describe()),
            });
        }
        let per_step = 2 * self.train.len() as u32;
        let most = self.profile_steps_max();
        if most == 0 {
            return Err(Error::Gpu {
                label: "profile".into(),
                message: format!(
                    "a step of {} dispatches needs more timestamps than a query set holds",
                    self.train.len()
                ),
            });
        }
        let steps = steps.clamp(1, most);
        let count = per_step * steps;
        let device = &self.ctx.device;
        let set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("profile"),
            ty: wgpu::QueryType::Timestamp,
            count,
        });
        let bytes = u64::from(count) * wgpu::QUERY_SIZE as u64;
        let resolved = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("profile timestamps"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = staging(device, "profile readback", bytes);
        let mut encoder = self.encoder("train profiled");
        for s in 0..steps {
            self.record_step(&mut encoder, Some((&set, s * per_step)));
        }
        encoder.resolve_query_set(&set, 0..count, &resolved, 0);
        encoder.copy_buffer_to_buffer(&resolved, 0, &read, 0, bytes);
        self.submit_steps(encoder, steps).await?;
        let rx = self.ctx.start_read(&read);
        self.ctx.wait(rx, "profile readback").await?;
        let ticks: Vec<u64> = {
            let view = read
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Gpu { label: "profile".into(), message: e.to_string() })?;
            bytemuck::pod_collect_to_vec(&view[..])
        };
        read.unmap();
        // Nanoseconds per tick (1 on the web).
        let tick = f64::from(self.ctx.queue.get_timestamp_period()) * 1e-9;
        let mut ops = vec![];
        for (k, pair) in ticks.chunks_exact(2).enumerate() {
            let op = &self.program.train[k % self.train.len()];
            add_time(&mut ops, op.name(), pair[1].saturating_sub(pair[0]) as f64 * tick);
        }
        ops.sort_by(|a, b| b.1.total_cmp(&a.1));
        let span = match (ticks.first(), ticks.last()) {
            (Some(&first), Some(&last)) => last.saturating_sub(first) as f64 * tick,
            _ => 0.0,
        };
        Ok(KernelTimes { ops, span, steps })
    }

    fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// One training step: the clears, then the dispatches in one compute pass — or, with
    /// a query set and its first index, each dispatch in a timestamped pass of its own.
    fn record_step(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        timed: Option<(&wgpu::QuerySet, u32)>,
    ) {
        // Every gradient starts the step at zero; the backward ops add to it.
        for v in &self.clears {
            encoder.clear_buffer(&v.buffer, v.offset, Some(v.bytes));
        }
        let Some((query_set, first)) = timed else {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("train step"),
                timestamp_writes: None,
            });
            record(&mut pass, &self.train);
            return;
        };
        for (k, d) in (first..).step_by(2).zip(&self.train) {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("timed op"),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set,
                    beginning_of_pass_write_index: Some(k),
                    end_of_pass_write_index: Some(k + 1),
                }),
            });
            record(&mut pass, std::slice::from_ref(d));
        }
    }

    /// Submits `steps` recorded steps with the copy of their summed metrics into a staging
    /// slot, waiting first for a slot when every one is in flight.
    async fn submit_steps(&mut self, mut encoder: wgpu::CommandEncoder, steps: u32) -> Result<()> {
        if self.free.is_empty() {
            let oldest = self.in_flight.pop_front().expect("a full ring has a submit in flight");
            self.complete(oldest).await?;
        }
        let slot = self.free.pop().expect("a slot is free");
        let bytes = (metric::COUNT * 4) as u64;
        encoder.copy_buffer_to_buffer(&self.metrics, 0, &self.ring[slot], 0, bytes);
        encoder.clear_buffer(&self.metrics, 0, None);
        self.ctx.queue.submit([encoder.finish()]);
        let rx = self.ctx.start_read(&self.ring[slot]);
        self.in_flight.push_back(InFlight { slot, first_step: self.step, steps, rx });
        self.step += steps;
        self.ctx.check("train")
    }

    /// Waits for one submit and records its metrics.
    async fn complete(&mut self, f: InFlight) -> Result<()> {
        let InFlight { slot, first_step, steps, rx } = f;
        self.ctx.wait(rx, "metrics readback").await?;
        self.collect(slot, first_step, steps)
    }

    /// Reads a mapped staging slot's sums into `done` and frees the slot.
    fn collect(&mut self, slot: usize, first_step: u32, steps: u32) -> Result<()> {
        let sums = read_mapped_f32(&self.ring[slot], metric::COUNT)?;
        self.free.push(slot);
        self.done.push(Metrics::from_sums(first_step, steps, self.program.batch, &sums));
        Ok(())
    }

    /// Metrics of the submits that have finished, without waiting.
    pub fn poll_metrics(&mut self) -> Result<Vec<Metrics>> {
        self.ctx.poll();
        while let Some(front) = self.in_flight.front_mut() {
            match front.rx.try_recv() {
                Ok(Some(true)) => {
                    let f = self.in_flight.pop_front().expect("front exists");
                    self.collect(f.slot, f.first_step, f.steps)?;
                }
                Ok(None) => break,
                Ok(Some(false)) | Err(_) => {
                    self.ctx.check("metrics readback")?;
                    return Err(Error::Gpu {
                        label: "metrics readback".into(),
                        message: "mapping failed".into(),
                    });
                }
            }
        }
        self.ctx.check("train")?;
        Ok(std::mem::take(&mut self.done))
    }

    /// Waits for every submit in flight.
    pub async fn finish(&mut self) -> Result<Vec<Metrics>> {
        while let Some(f) = self.in_flight.pop_front() {
            self.complete(f).await?;
        }
        Ok(std::mem::take(&mut self.done))
    }

    /// Replaces every parameter; zeroes Adam's moments and the step counter.
    pub fn set_params(&mut self, values: &[Vec<f32>]) -> Result<()> {
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("set params") });
        let slices: Vec<&[f32]> = values.iter().map(|v| v.as_slice()).collect();
        let packed = self.program.arena.pack(&slices);
        self.ctx.queue.write_buffer(&self.arenas[0], 0, bytemuck::cast_slice(&packed));
        encoder.clear_buffer(&self.arenas[2], 0, None);
        encoder.clear_buffer(&self.arenas[3], 0, None);
        encoder.clear_buffer(&self.state, 0, None);
        encoder.clear_buffer(&self.metrics, 0, None);
        self.ctx.queue.submit([encoder.finish()]);
        self.step = 0;
        self.ctx.check("set params")
    }

    /// Reads every parameter back.
    pub async fn params(&mut self) -> Result<Vec<Vec<f32>>> {
        let all: Vec<usize> = (0..self.program.params.len()).collect();
        self.read_params(&all).await
    }

    /// Reads one parameter back: the `k`-th in [`Program::params`] order.
    pub async fn param(&mut self, k: usize) -> Result<Vec<f32>> {
        Ok(self.read_params(&[k]).await?.remove(0))
    }

    /// Reads the parameters `ks` (indices into [`Program::params`]) back in one copy.
    async fn read_params(&mut self, ks: &[usize]) -> Result<Vec<Vec<f32>>> {
        let values: Vec<usize> = ks.iter().map(|&k| self.program.params[k].value).collect();
        let lens: Vec<usize> = values.iter().map(|&t| self.program.tensors[t].len()).collect();
        let total: usize = lens.iter().sum();
        let buffer = staging(&self.ctx.device, "params readback", total as u64 * 4);
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("read params") });
        let mut offset = 0u64;
        for (&t, &len) in values.iter().zip(&lens) {
            let v = &self.views[t];
            encoder.copy_buffer_to_buffer(&v.buffer, v.offset, &buffer, offset, len as u64 * 4);
            offset += len as u64 * 4;
        }
        self.ctx.queue.submit([encoder.finish()]);
        let rx = self.ctx.start_read(&buffer);
        self.ctx.wait(rx, "params readback").await?;
        let flat = read_mapped_f32(&buffer, total)?;
        let mut out = Vec::with_capacity(lens.len());
        let mut start = 0;
        for len in lens {
            out.push(flat[start..start + len].to_vec());
            start += len;
        }
        Ok(out)
    }

    /// Runs the encode or decode list on `rows` rows of `input` and reads `output` back.
    async fn infer(
        &mut self,
        decode: bool,
        input: &[f32],
        cond: Option<&[f32]>,
        rows: usize,
    ) -> Result<Vec<f32>> {
        let (ops, in_t, out_t) = if decode {
            (&self.program.decode, self.program.infer_z, self.program.infer_image)
        } else {
            (&self.program.encode, self.program.infer_x, self.program.infer_stats)
        };
        let out_len = rows * self.program.tensors[out_t].cols;
        self.ctx.queue.write_buffer(&self.views[in_t].buffer, 0, bytemuck::cast_slice(input));
        if let (Some(t), Some(c)) = (self.program.infer_cond, cond) {
            self.ctx.queue.write_buffer(&self.views[t].buffer, 0, bytemuck::cast_slice(c));
        }
        let dispatches = if decode { &self.decode } else { &self.encode };
        // Re-plan for `rows`: only the uniform words and grids change.
        let mut grids = Vec::with_capacity(ops.len());
        for (op, d) in ops.iter().zip(dispatches) {
            let p = self.plan(op, rows);
            if let (Some(words), Some(u)) = (p.uniform, &d.uniform) {
                self.ctx.queue.write_buffer(u, 0, &words);
            }
            grids.push(p.groups);
        }
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("infer") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("infer"),
                timestamp_writes: None,
            });
            for (d, g) in dispatches.iter().zip(&grids) {
                pass.set_pipeline(&d.pipeline);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(g[0], g[1], g[2]);
            }
        }
        encoder.copy_buffer_to_buffer(
            &self.views[out_t].buffer,
            0,
            &self.readback,
            0,
            out_len as u64 * 4,
        );
        self.ctx.queue.submit([encoder.finish()]);
        let rx = self.ctx.start_read(&self.readback);
        self.ctx.wait(rx, if decode { "decode" } else { "encode" }).await?;
        read_mapped_f32(&self.readback, out_len)
    }

    pub async fn encode_chunk(&mut self, pixels: &[f32], cond: Option<&[f32]>) -> Result<Vec<f32>> {
        self.infer(false, pixels, cond, pixels.len() / self.program.input_size()).await
    }

    pub async fn decode_chunk(&mut self, z: &[f32], cond: Option<&[f32]>) -> Result<Vec<f32>> {
        let rows = z.len() / self.program.spec.latent;
        self.infer(true, z, cond, rows).await
    }
}

/// The parameter buffer that holds tensors of `role`.
fn arena_index(role: Role) -> usize {
    match role {
        Role::Param => 0,
        Role::Grad => 1,
        Role::AdamM => 2,
        Role::AdamV => 3,
        Role::Train | Role::Infer => unreachable!("activations have buffers of their own"),
    }
}

/// Every tensor's place: parameters, their gradients and moments at their [`Arena`] offsets
/// in `arenas`, everything else in a buffer of its own.
fn tensor_views(device: &wgpu::Device, program: &Program, arenas: &[wgpu::Buffer; 4]) -> Vec<View> {
    let Arena { offsets, .. } = &program.arena;
    let mut place: Vec<Option<(usize, usize)>> = vec![None; program.tensors.len()];
    for (p, &offset) in program.params.iter().zip(offsets) {
        for (t, k) in [(p.value, 0), (p.grad, 1), (p.m, 2), (p.v, 3)] {
            place[t] = Some((k, offset));
        }
    }
    program
        .tensors
        .iter()
        .zip(place)
        .map(|(t, place)| {
            let bytes = (t.len() as u64 * 4).max(4);
            match place {
                Some((k, offset)) => {
                    View { buffer: arenas[k].clone(), offset: offset as u64 * 4, bytes }
                }
                None => View { buffer: storage(device, &t.name, bytes), offset: 0, bytes },
            }
        })
        .collect()
}

fn record(pass: &mut wgpu::ComputePass<'_>, dispatches: &[Dispatch]) {
    for d in dispatches {
        pass.set_pipeline(&d.pipeline);
        pass.set_bind_group(0, &d.bind_group, &[]);
        pass.dispatch_workgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
}
