//! One op on its own: its GPU plan (`Kernel::plan`) dispatched against buffers made from a
//! small table of tensors, and its CPU function (`Kernel::cpu`) on the same table — so a
//! kernel test runs exactly the uniform, grid and bindings the executors run.

use latent_lab::backend::gpu::context::read_mapped_f32;
use latent_lab::backend::GpuContext;
use latent_lab::data::{InputShape, Values};
use latent_lab::model::{metric, ModelSpec, Role, TensorDesc, TensorId};
use latent_lab::ops::linear::Schedule;
use latent_lab::ops::{Arena, Cpu, Op, Resource, TrainData};
use pollster::block_on;
use std::sync::Arc;

/// The tensors, spec and data one op runs on.
pub struct Case {
    pub descs: Vec<TensorDesc>,
    pub values: Vec<Vec<f32>>,
    pub spec: ModelSpec,
    /// The shape of one input row (read by the gather and the corruption).
    pub shape: InputShape,
    /// Rows the op runs on.
    pub rows: usize,
    /// The step counter.
    pub step: u32,
    /// The resident training rows.
    pub data: Values,
    pub labels: Option<Vec<u8>>,
    /// The metric sums before the op.
    pub metrics: Vec<f32>,
}

/// What an op left: every tensor, the step counter and the metric sums.
pub struct After {
    pub tensors: Vec<Vec<f32>>,
    pub step: u32,
    pub metrics: Vec<f32>,
}

impl After {
    pub fn get(&self, t: TensorId) -> &[f32] {
        &self.tensors[t]
    }
}

impl Case {
    pub fn new(spec: ModelSpec, rows: usize) -> Case {
        Case {
            descs: vec![],
            values: vec![],
            spec,
            shape: InputShape::Vector { features: 1 },
            rows,
            step: 0,
            data: Values::Floats(Arc::from(Vec::<f32>::new())),
            labels: None,
            metrics: vec![0.0; metric::COUNT],
        }
    }

    /// A `rows × cols` tensor holding `values`.
    pub fn tensor(&mut self, rows: usize, cols: usize, values: Vec<f32>) -> TensorId {
        assert_eq!(values.len(), rows * cols, "tensor {} values", self.descs.len());
        let name = format!("t{}", self.descs.len());
        self.descs.push(TensorDesc { name, rows, cols, role: Role::Train });
        self.values.push(values);
        self.descs.len() - 1
    }

    fn layout(&self) -> TrainData {
        let width = self.shape.size();
        let floats = matches!(self.data, Values::Floats(_));
        TrainData { rows: self.data.len() / width.max(1), width, floats }
    }

    /// The op's CPU function on a copy of the tensors.
    pub fn cpu(&self, op: impl Into<Op>) -> After {
        let op = op.into();
        let mut tensors = self.values.clone();
        let (mut step, mut metrics) = (self.step, self.metrics.clone());
        let mut cx = Cpu {
            tensors: &mut tensors,
            descs: &self.descs,
            spec: &self.spec,
            shape: self.shape,
            rows: self.rows,
            step: &mut step,
            data: &self.data,
            labels: self.labels.as_deref(),
            metrics: &mut metrics,
        };
        op.kernel().cpu(&mut cx);
        After { tensors, step, metrics }
    }

    /// The op's GPU plan, dispatched once on buffers holding the tensors; `matmul` is the
    /// matmul schedule. Every buffer the plan binds is read back.
    pub fn gpu(&self, ctx: &GpuContext, op: impl Into<Op>, matmul: Schedule) -> After {
        let op = op.into();
        let layout = self.layout();
        let cx = latent_lab::ops::PlanCx {
            descs: &self.descs,
            spec: &self.spec,
            shape: self.shape,
            rows: self.rows,
            data: layout,
            matmul,
        };
        let plan = op.kernel().plan(&cx);
        let entry = plan.entry;
        // The parameter buffers an op binds whole (the optimizer): its tensors of each role,
        // laid out by its arena.
        let arena = |role: Role| -> (Arena, Vec<TensorId>) {
            let k = match role {
                Role::Param => 0,
                Role::Grad => 1,
                Role::AdamM => 2,
                _ => 3,
            };
            match &op {
                Op::AdamUpdate(a) => (a.arena.clone(), a.params.iter().map(|p| p[k]).collect()),
                other => panic!("{other:?} binds no parameter buffer"),
            }
        };
        let device = &ctx.device;
        let pipeline = block_on(ctx.pipeline(plan.shader, entry, plan.matmul))
            .unwrap_or_else(|e| panic!("{entry}: pipeline: {e}"));
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let words = |r: Resource| -> Vec<u32> {
            match r {
                Resource::Tensor(t) => self.values[t].iter().map(|v| v.to_bits()).collect(),
                Resource::State => vec![self.step],
                Resource::Scratch => vec![0; 4],
                Resource::Arena(role) => {
                    let (layout, ts) = arena(role);
                    let values: Vec<&[f32]> =
                        ts.iter().map(|&t| self.values[t].as_slice()).collect();
                    layout.pack(&values).iter().map(|v| v.to_bits()).collect()
                }
                Resource::Metrics => self.metrics.iter().map(|v| v.to_bits()).collect(),
                Resource::Labels => {
                    self.labels.as_ref().expect("labels").iter().map(|&l| l.into()).collect()
                }
                Resource::Rows => match &self.data {
                    Values::Floats(f) => f.iter().map(|v| v.to_bits()).collect(),
                    Values::Bytes(b) => {
                        let width = layout.width;
                        b.chunks_exact(width)
                            .flat_map(|row| {
                                let mut padded = row.to_vec();
                                padded.resize(layout.stride_words() * 4, 0);
                                padded
                                    .chunks_exact(4)
                                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                                    .collect::<Vec<_>>()
                            })
                            .collect()
                    }
                },
            }
        };
        let buffers: Vec<(u32, Resource, wgpu::Buffer, usize)> = plan
            .bindings
            .iter()
            .map(|&(binding, r)| {
                let w = words(r);
                let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(entry),
                    size: (w.len() as u64 * 4).max(16),
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_SRC
                        | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                ctx.queue.write_buffer(&buffer, 0, bytemuck::cast_slice(&w));
                (binding, r, buffer, w.len())
            })
            .collect();
        let uniform = plan.uniform.map(|bytes| {
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(entry),
                size: bytes.len() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            ctx.queue.write_buffer(&buffer, 0, &bytes);
            buffer
        });
        let mut entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .map(|(binding, _, buffer, _)| wgpu::BindGroupEntry {
                binding: *binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        if let Some(u) = &uniform {
            entries.push(wgpu::BindGroupEntry { binding: 0, resource: u.as_entire_binding() });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(entry) });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(entry),
                ..Default::default()
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let g = plan.groups;
            pass.dispatch_workgroups(g[0], g[1], g[2]);
        }
        let staged: Vec<(Resource, wgpu::Buffer, usize)> = buffers
            .iter()
            .map(|(_, r, buffer, len)| {
                let staging = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(entry),
                    size: buffer.size(),
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
                (*r, staging, *len)
            })
            .collect();
        ctx.queue.submit([encoder.finish()]);
        if let Some(e) = block_on(scope.pop()) {
            panic!("{entry}: {e}");
        }
        let mut after =
            After { tensors: self.values.clone(), step: self.step, metrics: self.metrics.clone() };
        for (r, staging, len) in staged {
            let rx = ctx.start_read(&staging);
            block_on(ctx.wait(rx, entry)).unwrap_or_else(|e| panic!("{entry}: readback: {e}"));
            let values = read_mapped_f32(&staging, len).expect("readback");
            match r {
                Resource::Tensor(t) => after.tensors[t] = values,
                Resource::State => after.step = values[0].to_bits(),
                Resource::Metrics => after.metrics = values,
                Resource::Arena(role) => {
                    let (layout, ts) = arena(role);
                    for (&t, &o) in ts.iter().zip(&layout.offsets) {
                        after.tensors[t] = values[o..o + self.values[t].len()].to_vec();
                    }
                }
                Resource::Rows | Resource::Labels | Resource::Scratch => {}
            }
        }
        after
    }
}
