//! The ops: each one unit holding its gradient rule, its CPU function and its GPU plan.
//!
//! One file per kernel family, the twin of `shaders/<family>.wgsl`. A family file holds:
//! - its op structs (the fields name the tensors an op reads and writes), each implementing
//!   [`Kernel`]: `gradient` (a forward op's backward ops), `cpu` (the CPU function of
//!   the same name, also in that file) and `plan` (what the GPU dispatches);
//! - its uniform as a `#[repr(C)]` bytemuck struct ([`uniform!`]) and its storage bindings by
//!   their WGSL names ([`bindings!`]). Both are checked against the WGSL by naga reflection
//!   in this module's tests, so a plan cannot drift from its shader.
//!
//! Both executors are one-line dispatch: `op.kernel().cpu(cx)` and `op.kernel().plan(cx)`.
//! Gradients are zero-filled at the start of every training step ([`crate::model::Program`]'s
//! `gradients`) and every backward op adds to its output, so the order in which two ops
//! contribute to one gradient never matters.
//!
//! Adding an op: its struct, `Kernel` impl and CPU function in its family's file, its
//! entry point in `shaders/<family>.wgsl`, and one line in [`ops!`] below.

/// Declares a uniform struct (u32 and f32 fields, named as in the WGSL) and its layout.
macro_rules! uniform {
    ($(#[$m:meta])* pub struct $name:ident for $shader:path {
        $($(#[$fm:meta])* $field:ident : $t:ident),* $(,)?
    }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fm])* pub $field: $t,)*
        }

        impl $crate::ops::Uniform for $name {
            const SHADER: $crate::shaders::Shader = $shader;
            const FIELDS: &'static [$crate::ops::Field] = &[$($crate::ops::Field {
                name: stringify!($field),
                offset: std::mem::offset_of!($name, $field),
                float: $crate::ops::uniform!(@float $t),
            }),*];
        }
    };
    (@float f32) => { true };
    (@float u32) => { false };
}
pub(crate) use uniform;

/// Declares a family's storage bindings by their WGSL names: `binding::x` is the number of
/// `x`, and `BINDINGS` lists them all for the naga check.
macro_rules! bindings {
    ($($name:ident = $n:literal),* $(,)?) => {
        /// Binding numbers of the family's storage buffers, named as in the WGSL.
        #[allow(non_upper_case_globals)]
        pub mod binding {
            $(pub const $name: u32 = $n;)*
        }

        /// Every storage binding of the family's shader: (WGSL name, number).
        pub const BINDINGS: &[(&str, u32)] = &[$((stringify!($name), $n)),*];
    };
}

pub mod activation;
pub mod conv;
pub mod data;
pub mod linear;
pub mod loss;
pub mod optim;
pub mod par;
pub mod penalty;
pub mod reduce;
pub mod vae;

pub use reduce::MetricSum;

use crate::data::{InputShape, Values};
use crate::model::{ModelSpec, Param, Role, TensorDesc, TensorId};
use crate::shaders::Shader;

/// What every op implements.
pub trait Kernel {
    /// The backward ops of a forward op, which add into the gradients `g` names; none for
    /// ops that are not on the tape.
    fn gradient(&self, _g: &Gradients) -> Vec<Op> {
        vec![]
    }
    /// Runs the op on the CPU.
    fn cpu(&self, cx: &mut Cpu);
    /// The op's GPU dispatch on `cx.rows` rows.
    fn plan(&self, cx: &PlanCx) -> Plan;
}

/// Declares [`Op`]: one variant per op struct, named after it.
macro_rules! ops {
    ($($family:ident :: $op:ident),* $(,)?) => {
        /// Every op of a [`Program`](crate::model::Program). Each is the entry point of the
        /// same name (in snake case) in `shaders/<family>.wgsl` and the function of that name
        /// in `src/ops/<family>.rs`.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Op {
            $($op($family::$op),)*
        }

        impl Op {
            /// The op's unit: its gradient rule, CPU function and GPU plan.
            pub fn kernel(&self) -> &dyn Kernel {
                match self {
                    $(Op::$op(o) => o,)*
                }
            }

            /// The op's name, as its struct is named (profiles).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Op::$op(_) => stringify!($op),)*
                }
            }
        }

        $(pub use $family::$op;)*

        $(impl From<$family::$op> for Op {
            fn from(o: $family::$op) -> Op {
                Op::$op(o)
            }
        })*
    };
}

ops! {
    data::GatherBatch,
    data::GatherLabels,
    data::ConcatColumns,
    data::SplitColumnsBackward,
    data::CorruptInput,
    linear::LinearForward,
    linear::LinearBackward,
    conv::ConvForward,
    conv::ConvBackwardInput,
    conv::ConvBackwardWeight,
    conv::ConvBackwardBias,
    activation::ActivationForward,
    activation::ActivationBackward,
    vae::ReparameterizeForward,
    vae::ReparameterizeBackward,
    penalty::SparsityForward,
    penalty::SparsityBackward,
    penalty::ContractiveUnitStats,
    penalty::ContractivePenalty,
    penalty::ContractiveBackwardCode,
    penalty::ContractiveBackwardWeight,
    loss::ReconstructionLoss,
    optim::AdamUpdate,
    reduce::FinishStep,
}

// ---- the gradient rule's view of the program ----

/// The gradient tensors a backward op adds into, as the program builder made them.
pub struct Gradients<'a> {
    pub(crate) grad_of: &'a [Option<TensorId>],
    pub(crate) params: &'a [Param],
}

impl Gradients<'_> {
    /// The gradient of activation `t`; `None` where no gradient flows (the inputs).
    pub fn of(&self, t: TensorId) -> Option<TensorId> {
        self.grad_of.get(t).copied().flatten()
    }

    /// The gradient of an activation that always has one.
    pub fn must(&self, t: TensorId, what: &str) -> TensorId {
        self.of(t).unwrap_or_else(|| panic!("{what} always has a gradient"))
    }

    /// The gradient of a parameter's value tensor.
    pub fn param(&self, value: TensorId) -> TensorId {
        self.params.iter().find(|p| p.value == value).map(|p| p.grad).expect("a Param")
    }
}

// ---- the CPU function's view ----

/// Everything an op's CPU function reads and writes.
pub struct Cpu<'a> {
    /// Every tensor's values, by [`TensorId`].
    pub tensors: &'a mut [Vec<f32>],
    pub descs: &'a [TensorDesc],
    pub spec: &'a ModelSpec,
    pub shape: InputShape,
    /// Rows of this run: the batch, or an inference call's rows.
    pub rows: usize,
    /// The step counter (advanced by [`FinishStep`]).
    pub step: &'a mut u32,
    /// The training rows, n × D values.
    pub data: &'a Values,
    /// One label per training row (conditional models).
    pub labels: Option<&'a [u8]>,
    /// The metric sums ([`crate::model::metric`]).
    pub metrics: &'a mut [f32],
}

impl Cpu<'_> {
    pub fn cols(&self, t: TensorId) -> usize {
        self.descs[t].cols
    }

    /// Tensor `t`, read.
    pub fn get(&self, t: TensorId) -> &[f32] {
        &self.tensors[t]
    }

    /// Takes tensor `t` out to be written while others are read; [`Cpu::put`] returns it.
    pub fn take(&mut self, t: TensorId) -> Vec<f32> {
        std::mem::take(&mut self.tensors[t])
    }

    pub fn put(&mut self, t: TensorId, values: Vec<f32>) {
        self.tensors[t] = values;
    }

    /// Runs `f` with tensor `out` writable and every other tensor readable.
    pub fn write(&mut self, out: TensorId, f: impl FnOnce(&Self, &mut [f32])) {
        let mut values = self.take(out);
        f(self, &mut values);
        self.put(out, values);
    }

    /// [`Cpu::write`] with two written tensors.
    pub fn write2(
        &mut self,
        a: TensorId,
        b: TensorId,
        f: impl FnOnce(&Self, &mut [f32], &mut [f32]),
    ) {
        let (mut va, mut vb) = (self.take(a), self.take(b));
        f(self, &mut va, &mut vb);
        self.put(a, va);
        self.put(b, vb);
    }
}

// ---- the GPU plan ----

/// Bytes of the uniform buffer every kernel gets at binding 0.
pub const UNIFORM_BYTES: usize = 32;

/// Largest grid of the strided 1-D kernels; they loop over whatever is left.
const MAX_GROUPS: u32 = 4096;

/// The training rows resident on the GPU, as the gather sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainData {
    /// Rows held.
    pub rows: usize,
    /// Values per row.
    pub width: usize,
    /// f32 values (tables, series); else bytes, four to a word, each row padded to whole
    /// words.
    pub floats: bool,
}

impl TrainData {
    /// u32 words from one row to the next.
    pub fn stride_words(&self) -> usize {
        if self.floats {
            self.width
        } else {
            self.width.div_ceil(4)
        }
    }
}

/// Everything an op's plan depends on.
pub struct PlanCx<'a> {
    pub descs: &'a [TensorDesc],
    pub spec: &'a ModelSpec,
    pub shape: InputShape,
    /// Rows the op runs on.
    pub rows: usize,
    /// The resident training rows.
    pub data: TrainData,
    /// The device's matmul schedule (see `shaders/linear.wgsl`).
    pub matmul: linear::Schedule,
}

impl PlanCx<'_> {
    pub fn cols(&self, t: TensorId) -> usize {
        self.descs[t].cols
    }
}

/// A buffer bound to a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Tensor(TensorId),
    /// The training rows: bytes packed four to a u32, or f32 (see [`TrainData`]).
    Rows,
    /// The training labels, one u32 per row.
    Labels,
    /// The step counter.
    State,
    /// The metric accumulators.
    Metrics,
    /// Every parameter's value (`Role::Param`), gradient (`Role::Grad`) or Adam moment
    /// (`Role::AdamM`, `Role::AdamV`) as one buffer laid out by the program's [`Arena`]
    /// (the optimizer's one dispatch binds it whole).
    Arena(Role),
    /// A small buffer no kernel writes: fills a writable binding an op leaves unused (WebGPU
    /// forbids two writable bindings of one range in a dispatch).
    Scratch,
}

/// Where each parameter lies in the four parameter buffers (values, gradients, Adam's two
/// moments), which share this layout: offsets in f32 values, each a multiple of
/// [`Arena::ALIGN`] so that any parameter can be bound on its own, and the padding between
/// parameters stays zero under Adam (a zero gradient leaves a zero value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Arena {
    pub offsets: Vec<usize>,
    /// Values in each buffer.
    pub len: usize,
}

impl Arena {
    /// 64 values: 256 bytes, WebGPU's default `minStorageBufferOffsetAlignment`.
    pub const ALIGN: usize = 64;

    /// The layout of tensors of `lens` values, in order.
    pub fn of(lens: impl IntoIterator<Item = usize>) -> Arena {
        let mut arena = Arena::default();
        for len in lens {
            arena.offsets.push(arena.len);
            arena.len += len.next_multiple_of(Self::ALIGN);
        }
        arena
    }

    /// One buffer's values from each parameter's (zero padding).
    pub fn pack(&self, values: &[&[f32]]) -> Vec<f32> {
        let mut out = vec![0.0; self.len];
        for (&o, v) in self.offsets.iter().zip(values) {
            out[o..o + v.len()].copy_from_slice(v);
        }
        out
    }
}

/// One dispatch: kernel, uniform, workgroup grid and bindings.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub shader: Shader,
    pub entry: &'static str,
    /// The override constants of `linear.wgsl` (its entry points only).
    pub matmul: Option<linear::Matmul>,
    /// The uniform's bytes at binding 0, zero-padded; `None` for a kernel without one.
    pub uniform: Option<[u8; UNIFORM_BYTES]>,
    pub groups: [u32; 3],
    pub bindings: Vec<(u32, Resource)>,
}

impl Plan {
    /// A dispatch of `entry` in the shader `U` belongs to, with `params` at binding 0.
    pub fn new<U: Uniform>(
        entry: &'static str,
        params: U,
        groups: [u32; 3],
        bindings: Vec<(u32, Resource)>,
    ) -> Plan {
        let bytes = bytemuck::bytes_of(&params);
        let mut uniform = [0; UNIFORM_BYTES];
        uniform[..bytes.len()].copy_from_slice(bytes);
        Plan { shader: U::SHADER, entry, matmul: None, uniform: Some(uniform), groups, bindings }
    }
}

/// The grid of a strided 1-D kernel over `len` elements in workgroups of `size`.
pub fn groups_1d(len: usize, size: usize) -> [u32; 3] {
    [(len.div_ceil(size) as u32).clamp(1, MAX_GROUPS), 1, 1]
}

/// One invocation per item in workgroups of `size`.
pub fn groups_per(items: usize, size: usize) -> [u32; 3] {
    [items.div_ceil(size).max(1) as u32, 1, 1]
}

/// A tensor bound at `binding`.
pub fn bind(binding: u32, t: TensorId) -> (u32, Resource) {
    (binding, Resource::Tensor(t))
}

// ---- uniforms and bindings, checked against the WGSL ----

/// A field of a uniform struct: its name in the WGSL, its byte offset, its scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    /// f32; else u32.
    pub float: bool,
}

/// A kernel family's uniform: a `#[repr(C)]` struct laid out like the WGSL struct at
/// binding 0 of [`Uniform::SHADER`].
pub trait Uniform: bytemuck::Pod {
    const SHADER: Shader;
    const FIELDS: &'static [Field];
}

/// One kernel family: its shader, its storage bindings and its uniform's layout.
pub struct Family {
    pub shader: Shader,
    pub bindings: &'static [(&'static str, u32)],
    pub uniform: &'static [Field],
    pub uniform_size: usize,
}

const fn family<U: Uniform>(bindings: &'static [(&'static str, u32)]) -> Family {
    Family { shader: U::SHADER, bindings, uniform: U::FIELDS, uniform_size: size_of::<U>() }
}

/// Every family, for the reflection test.
pub const FAMILIES: [Family; 9] = [
    family::<linear::Dims>(linear::BINDINGS),
    family::<activation::Params>(activation::BINDINGS),
    family::<loss::Params>(loss::BINDINGS),
    family::<reduce::Params>(reduce::BINDINGS),
    family::<vae::Params>(vae::BINDINGS),
    family::<optim::Params>(optim::BINDINGS),
    family::<data::Params>(data::BINDINGS),
    family::<conv::Params>(conv::BINDINGS),
    family::<penalty::Params>(penalty::BINDINGS),
];

#[cfg(test)]
mod tests {
    //! The families and every plan against their WGSL, read by naga: binding numbers and
    //! uniform layouts by name, and the bindings a plan binds are exactly the ones its entry
    //! point uses.
    use std::collections::{BTreeSet, HashMap};

    use super::*;
    use crate::data::MNIST_SHAPE;
    use crate::model::{ModelKind, Program, ReconLoss};

    fn module(shader: Shader) -> (naga::Module, naga::valid::ModuleInfo) {
        let module = naga::front::wgsl::parse_str(shader.source()).expect("the shader parses");
        let info = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .expect("the shader validates");
        (module, info)
    }

    #[test]
    fn every_family_names_its_bindings_and_lays_out_its_uniform_as_the_wgsl_does() {
        assert_eq!(FAMILIES.len(), Shader::ALL.len());
        for f in &FAMILIES {
            let name = f.shader.name();
            let (module, _) = module(f.shader);
            let mut seen = BTreeSet::new();
            for (_, var) in module.global_variables.iter() {
                let Some(binding) = &var.binding else { continue };
                let var_name = var.name.as_deref().unwrap_or("");
                if binding.binding == 0 {
                    assert_eq!(var.space, naga::AddressSpace::Uniform, "{name}: binding 0");
                    let ty = &module.types[var.ty];
                    let naga::TypeInner::Struct { members, span } = &ty.inner else {
                        panic!("{name}: the uniform is not a struct");
                    };
                    assert_eq!(*span as usize, f.uniform_size, "{name}: uniform size");
                    assert!(f.uniform_size <= UNIFORM_BYTES, "{name}: uniform too large");
                    let wgsl: Vec<Field> = members
                        .iter()
                        .map(|m| Field {
                            name: m.name.clone().map(|s| &*s.leak()).unwrap_or(""),
                            offset: m.offset as usize,
                            float: matches!(
                                module.types[m.ty].inner,
                                naga::TypeInner::Scalar(naga::Scalar::F32)
                            ),
                        })
                        .collect();
                    assert_eq!(wgsl, f.uniform, "{name}: uniform fields (name, offset, type)");
                    continue;
                }
                let declared = f.bindings.iter().find(|(n, _)| *n == var_name);
                assert_eq!(
                    declared.map(|d| d.1),
                    Some(binding.binding),
                    "{name}: `{var_name}` is bound at {} in the WGSL",
                    binding.binding
                );
                seen.insert(var_name.to_string());
            }
            for (n, _) in f.bindings {
                assert!(seen.contains(*n), "{name} has no binding named `{n}`");
            }
        }
    }

    /// Per shader, per entry point: the binding numbers it uses.
    fn uses(shader: Shader) -> HashMap<String, BTreeSet<u32>> {
        let (module, info) = module(shader);
        let mut out = HashMap::new();
        for (i, ep) in module.entry_points.iter().enumerate() {
            let used = info.get_entry_point(i);
            let bindings = module
                .global_variables
                .iter()
                .filter(|(h, _)| !used[*h].is_empty())
                .filter_map(|(_, v)| v.binding.as_ref().map(|b| b.binding))
                .collect();
            out.insert(ep.name.clone(), bindings);
        }
        out
    }

    fn programs() -> Vec<Program> {
        let table = InputShape::Vector { features: 9 };
        let window = InputShape::Series { channels: 2, length: 32 };
        let mut out = vec![];
        for kind in ModelKind::ALL {
            let mut spec = ModelSpec { channels: vec![3, 4], ..ModelSpec::of_kind(kind) };
            let shape = if kind.is_conv1d() { window } else { MNIST_SHAPE };
            out.push(Program::build(&spec, &shape).unwrap());
            if !kind.is_convolutional() {
                spec.loss = ReconLoss::Mse;
                out.push(Program::build(&spec, &table).unwrap());
            }
        }
        out
    }

    #[test]
    fn every_plan_binds_what_its_entry_point_uses() {
        let used: HashMap<Shader, _> = Shader::ALL.iter().map(|&s| (s, uses(s))).collect();
        let mut checked = BTreeSet::new();
        for program in programs() {
            let lists =
                [(&program.train, program.batch), (&program.encode, 7), (&program.decode, 7)];
            for floats in [false, true] {
                let data = TrainData { rows: 100, width: program.input_size(), floats };
                for ((ops, rows), matmul) in
                    lists.into_iter().flat_map(|l| linear::Schedule::ALL.map(|s| (l, s)))
                {
                    for op in ops {
                        let p = op.kernel().plan(&program.plan_cx(rows, data, matmul));
                        let mut bound: BTreeSet<u32> = p.bindings.iter().map(|b| b.0).collect();
                        assert_eq!(bound.len(), p.bindings.len(), "{}: a binding twice", p.entry);
                        if p.uniform.is_some() {
                            bound.insert(0);
                        }
                        let uses = &used[&p.shader][p.entry];
                        assert_eq!(&bound, uses, "{}::{}: bound vs used", p.shader.name(), p.entry);
                        checked.insert(p.entry);
                    }
                }
            }
        }
        // Every entry point of every shader was reached by some program's plan.
        for shader in Shader::ALL {
            for entry in used[&shader].keys() {
                assert!(
                    checked.contains(entry.as_str()),
                    "no plan runs {}::{entry}",
                    shader.name()
                );
            }
        }
    }
}
