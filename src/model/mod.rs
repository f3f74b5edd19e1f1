//! ModelSpec → Program: a static list of ops over tensors with known shapes.
//!
//! Dimension letters, fixed across the crate: B batch rows, D values of an input row (the
//! size of its [`InputShape`]), H hidden width, Z latent width.
//!
//! The builder records the forward ops on a tape; the backward pass is the tape read in
//! reverse, each op emitting its own gradient ops ([`Kernel::gradient`](crate::ops::Kernel))
//! — a tiny static autodiff. Every gradient starts the step at zero and every backward op
//! adds to it, so a tensor read by two ops gets both contributions whatever their order.
//! Loss ops seed the gradients, and one Adam op over every parameter closes the step. Where
//! a layer's input comes straight from the activation of the layer below, and nothing else
//! touches that input's gradient, the activation's derivative moves into the upper layer's
//! dx ([`fold_activation_gradients`]). Nothing about the model is decided later: both
//! executors just run these lists.

mod spec;

pub use spec::*;

pub use crate::data::{InputShape, Output};
use crate::limits::{bytes_text, Budget, OverBudget};
pub use crate::ops::conv::ConvShape;
use crate::ops::linear::Schedule;
use crate::ops::reduce::MetricSum;
pub use crate::ops::Op;
use crate::ops::*;
use crate::rng;

/// What [`ReconstructionLoss`] computes: the spec's loss on the data's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Binary cross-entropy of σ(logits) (from the logits, in the stable form).
    Bce,
    /// Squared error of σ(logits): pixels.
    SigmoidMse,
    /// Squared error of the logits themselves: standardised values (a Gaussian likelihood
    /// up to constants).
    Mse,
}

impl LossKind {
    pub fn of(loss: ReconLoss, output: Output) -> Self {
        match (loss, output) {
            (ReconLoss::Bce, _) => LossKind::Bce,
            (ReconLoss::Mse, Output::Sigmoid) => LossKind::SigmoidMse,
            (ReconLoss::Mse, Output::Identity) => LossKind::Mse,
        }
    }

    /// Numeric code shared with `shaders/loss.wgsl`.
    pub fn code(self) -> u32 {
        match self {
            LossKind::Bce => 0,
            LossKind::SigmoidMse => 1,
            LossKind::Mse => 2,
        }
    }
}

/// Index of a tensor in [`Program::tensors`].
pub type TensorId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A trainable parameter.
    Param,
    /// Gradient of a parameter.
    Grad,
    /// Adam's first moment.
    AdamM,
    /// Adam's second moment.
    AdamV,
    /// Activation or activation gradient of the training step (B rows).
    Train,
    /// Activation of an inference call (up to [`Program::infer_rows`] rows).
    Infer,
}

/// A 2-D f32 tensor, row-major: `rows × cols`.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorDesc {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub role: Role,
}

impl TensorDesc {
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One trainable parameter and its optimizer state.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The name in weights files, e.g. `encoder.0.weight`.
    pub name: String,
    /// Shape as saved: `[outputs, inputs]` for a weight (PyTorch's layout), `[outputs]` for a bias.
    pub shape: Vec<usize>,
    pub value: TensorId,
    pub grad: TensorId,
    pub m: TensorId,
    pub v: TensorId,
    /// Fan-in of the layer: the initial values are U(−1/√fan_in, 1/√fan_in), as in PyTorch.
    pub fan_in: usize,
}

/// One dense layer: shapes only, for parameter counts and docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerShape {
    pub inputs: usize,
    pub outputs: usize,
}

/// Metric slots summed by [`FinishStep`].
pub mod metric {
    /// Reconstruction loss summed over pixels, summed over rows.
    pub const RECON: usize = 0;
    /// KL divergence summed over latent units, summed over rows.
    pub const KL: usize = 1;
    /// The kind's own penalty (unweighted), summed over rows: the code's sparsity penalty, or
    /// the code layer's squared Jacobian norm.
    pub const PENALTY: usize = 2;
    pub const COUNT: usize = 3;
}

/// A whole model as op lists over one set of tensors.
#[derive(Clone, Debug)]
pub struct Program {
    pub spec: ModelSpec,
    /// The shape of one input row.
    pub shape: InputShape,
    pub tensors: Vec<TensorDesc>,
    pub params: Vec<Param>,
    /// One training step: gather, forward, losses, backward, Adam, advance step.
    pub train: Vec<Op>,
    /// `infer_x` (n × D) → `infer_stats` (n × Z for an AE, n × 2Z = [μ | log σ²] for a VAE).
    pub encode: Vec<Op>,
    /// `infer_z` (n × Z) → `infer_image` (n × D, in [0, 1]).
    pub decode: Vec<Op>,
    /// A conditional model's one-hot labels of an inference call (n × 10), read by both
    /// `encode` and `decode`; written by the executor.
    pub infer_cond: Option<TensorId>,
    /// Rows of the training step (B).
    pub batch: usize,
    /// Capacity in rows of one inference call.
    pub infer_rows: usize,
    pub train_x: TensorId,
    pub infer_x: TensorId,
    pub infer_stats: TensorId,
    pub infer_z: TensorId,
    pub infer_image: TensorId,
    /// Every gradient of the training step (the parameters' and the activations'): zeroed at
    /// the start of each step, then only ever added to.
    pub gradients: Vec<TensorId>,
    /// Where the GPU holds each parameter in its four parameter buffers (by [`Param`] order).
    pub arena: Arena,
}

/// Rows of one inference call: enough for a sampler grid or a latent-map chunk.
pub const INFER_ROWS: usize = 256;

/// The encoder's convolutions of a convolutional kind on `shape`'s planes (batch 1; the
/// executors set the batch): 4 × 4 kernels (1 × 4 along a series), stride 2, padding 1, each
/// halving the sides.
/// Empty for other kinds and for inputs without planes.
pub fn conv_layers(spec: &ModelSpec, shape: &InputShape) -> Vec<ConvShape> {
    let Some((channels, height, width)) = shape.planes() else { return vec![] };
    if !spec.kind.is_convolutional() {
        return vec![];
    }
    let (mut h, mut w) = (height, width);
    let mut c_in = channels;
    let mut layers = vec![];
    for &c_out in &spec.channels {
        let c = if spec.kind.is_conv1d() {
            ConvShape::conv1d(1, [c_in, c_out], w, 4, 2, 1)
        } else {
            ConvShape::conv2d(1, [c_in, c_out], [h, w], 4, 2, 1)
        };
        (h, w, c_in) = (c.out_h, c.out_w, c_out);
        layers.push(c);
    }
    layers
}

/// Width of what the dense layers see: the input row, or the last feature map flattened.
pub fn feature_width(spec: &ModelSpec, shape: &InputShape) -> usize {
    match conv_layers(spec, shape).last() {
        Some(c) => c.c_out * c.out_h * c.out_w,
        None => shape.size(),
    }
}

/// Dense encoder and decoder layer shapes, in order.
pub fn layer_shapes(spec: &ModelSpec, shape: &InputShape) -> Vec<LayerShape> {
    let code = if spec.kind.is_variational() { 2 * spec.latent } else { spec.latent };
    let extra = if spec.kind.is_conditional() { CLASSES } else { 0 };
    let features = feature_width(spec, shape);
    let mut shapes = vec![];
    let mut width = features + extra;
    for &h in &spec.hidden {
        shapes.push(LayerShape { inputs: width, outputs: h });
        width = h;
    }
    shapes.push(LayerShape { inputs: width, outputs: code });
    width = spec.latent + extra;
    for h in spec.decoder_widths() {
        shapes.push(LayerShape { inputs: width, outputs: h });
        width = h;
    }
    shapes.push(LayerShape { inputs: width, outputs: features });
    shapes
}

/// One convolution of a model: conv2d (encoder) or conv_transpose2d (decoder).
#[derive(Clone, Copy)]
struct ConvLayer {
    transpose: bool,
    w: TensorId,
    b: TensorId,
    shape: ConvShape,
}

struct Builder {
    tensors: Vec<TensorDesc>,
    params: Vec<Param>,
}

impl Builder {
    fn tensor(
        &mut self,
        name: impl Into<String>,
        rows: usize,
        cols: usize,
        role: Role,
    ) -> TensorId {
        self.tensors.push(TensorDesc { name: name.into(), rows, cols, role });
        self.tensors.len() - 1
    }

    /// A dense layer's weight and bias, with gradients and Adam moments.
    fn linear_params(&mut self, name: &str, shape: LayerShape) -> (TensorId, TensorId) {
        let mut ids = [0; 2];
        for (k, (suffix, rows, cols)) in
            [("weight", shape.outputs, shape.inputs), ("bias", 1, shape.outputs)]
                .into_iter()
                .enumerate()
        {
            let full = format!("{name}.{suffix}");
            let value = self.tensor(full.clone(), rows, cols, Role::Param);
            let grad = self.tensor(format!("{full}.grad"), rows, cols, Role::Grad);
            let m = self.tensor(format!("{full}.adam_m"), rows, cols, Role::AdamM);
            let v = self.tensor(format!("{full}.adam_v"), rows, cols, Role::AdamV);
            let saved = if suffix == "weight" { vec![rows, cols] } else { vec![cols] };
            let fan_in = shape.inputs;
            self.params.push(Param { name: full, shape: saved, value, grad, m, v, fan_in });
            ids[k] = value;
        }
        (ids[0], ids[1])
    }

    /// A convolution's weight and bias. The weight is saved in PyTorch's layout:
    /// `[first, second, k_h, k_w]` (Conv2d, ConvTranspose2d), `[first, second, k]` for a 1-D
    /// convolution (Conv1d, ConvTranspose1d).
    fn conv_params(
        &mut self,
        name: &str,
        [first, second]: [usize; 2],
        conv: &ConvShape,
        bias: usize,
        fan_in: usize,
    ) -> (TensorId, TensorId) {
        let [kh, kw] = conv.kernel;
        let layout =
            if conv.is_1d() { vec![first, second, kw] } else { vec![first, second, kh, kw] };
        let mut ids = [0; 2];
        for (i, (suffix, rows, cols, saved)) in
            [("weight", first, second * kh * kw, layout), ("bias", 1, bias, vec![bias])]
                .into_iter()
                .enumerate()
        {
            let full = format!("{name}.{suffix}");
            let value = self.tensor(full.clone(), rows, cols, Role::Param);
            let grad = self.tensor(format!("{full}.grad"), rows, cols, Role::Grad);
            let m = self.tensor(format!("{full}.adam_m"), rows, cols, Role::AdamM);
            let v = self.tensor(format!("{full}.adam_v"), rows, cols, Role::AdamV);
            self.params.push(Param { name: full, shape: saved, value, grad, m, v, fan_in });
            ids[i] = value;
        }
        (ids[0], ids[1])
    }

    /// Forward ops of a stack of convolutions, each followed by `f` unless it is the last
    /// and `activate_last` is false.
    #[allow(clippy::too_many_arguments)] // each is a distinct fact about the stack
    fn conv_stack(
        &mut self,
        ops: &mut Vec<Op>,
        prefix: &str,
        input: TensorId,
        layers: &[ConvLayer],
        f: Activation,
        rows: usize,
        role: Role,
        activate_last: bool,
    ) -> TensorId {
        let mut x = input;
        for (i, l) in layers.iter().enumerate() {
            let width = l.shape.c_out * l.shape.out_h * l.shape.out_w;
            let y = self.tensor(format!("{prefix}.{i}.conv"), rows, width, role);
            ops.push(Op::ConvForward(ConvForward {
                transpose: l.transpose,
                x,
                w: l.w,
                b: l.b,
                y,
                shape: l.shape,
            }));
            x = y;
            if activate_last || i + 1 < layers.len() {
                let a = self.tensor(format!("{prefix}.{i}.{}", f.name()), rows, width, role);
                ops.push(Op::ActivationForward(ActivationForward { f, x, y: a }));
                x = a;
            }
        }
        x
    }

    /// `a` with the one-hot label `cond` joined on its right (conditional models); `a` itself
    /// without a label.
    fn join_label(
        &mut self,
        ops: &mut Vec<Op>,
        name: &str,
        a: TensorId,
        cond: Option<TensorId>,
        role: Role,
    ) -> TensorId {
        let Some(c) = cond else { return a };
        let (rows, cols) = (self.tensors[a].rows, self.tensors[a].cols);
        let y = self.tensor(name, rows, cols + CLASSES, role);
        ops.push(Op::ConcatColumns(ConcatColumns { a, c, y }));
        y
    }

    /// The decoder from its input to the logits — or, with `output`, to that activation of
    /// them (inference: the image): the dense layers, then for a convolutional kind the
    /// activation of their output and the transposed convolutions.
    #[allow(clippy::too_many_arguments)] // each is a distinct fact about the decoder
    fn decoder(
        &mut self,
        ops: &mut Vec<Op>,
        prefix: &str,
        input: TensorId,
        dense: &[(TensorId, TensorId)],
        conv: &[ConvLayer],
        f: Activation,
        output: Option<Activation>,
        role: Role,
    ) -> TensorId {
        let rows = self.tensors[input].rows;
        // Before transposed convolutions the dense output is activated; else it is the logits
        // (or, with `output`, the activated output).
        let last = if conv.is_empty() { output } else { Some(f) };
        let out = self.mlp(ops, prefix, input, dense, f, last, rows, role);
        if conv.is_empty() {
            return out;
        }
        let x = self.conv_stack(ops, &format!("{prefix}.conv"), out, conv, f, rows, role, false);
        match output {
            Some(g) => {
                let cols = self.tensors[x].cols;
                let y = self.tensor(format!("{prefix}.{}", g.name()), rows, cols, role);
                ops.push(Op::ActivationForward(ActivationForward { f: g, x, y }));
                y
            }
            None => x,
        }
    }

    /// Forward ops of a stack of dense layers, each followed by `f` but the last, which is
    /// followed by `last` (`None`: it outputs logits). Each layer is one op: the activation
    /// is the product's epilogue. Returns the output tensor. `weights` are the (w, b) pairs
    /// of each layer.
    #[allow(clippy::too_many_arguments)] // each is a distinct fact about the stack
    fn mlp(
        &mut self,
        ops: &mut Vec<Op>,
        prefix: &str,
        input: TensorId,
        weights: &[(TensorId, TensorId)],
        f: Activation,
        last: Option<Activation>,
        rows: usize,
        role: Role,
    ) -> TensorId {
        let mut x = input;
        for (i, &(w, b)) in weights.iter().enumerate() {
            let outputs = self.tensors[w].rows;
            let act = if i + 1 < weights.len() { Some(f) } else { last };
            let name = act.map_or("linear", Activation::name);
            let y = self.tensor(format!("{prefix}.{i}.{name}"), rows, outputs, role);
            ops.push(Op::LinearForward(LinearForward { x, w, b, y, f: act }));
            x = y;
        }
        x
    }
}

/// Moves the activation derivative f′ of a layer's backward op into the dx of the layers
/// above it: where layer L's output h = f(…) is the input x of layers U (h's gradient D
/// holds Σ_U g_U·W_U), L's op forms g = D·f′(h) as it loads D, reading h as well; after the
/// fold each U adds its g_U·W_U·f′(h) to D, which then holds the pre-activation's gradient,
/// and L reads D alone (its f is None). The same sums, with f′(h) applied once per value
/// of D as it is stored, instead of at each of the many loads of D in L's products, which
/// then read one tensor instead of two. Only where every op other than L that touches D
/// (its plan binds it) is such a U after `from`, with x = h and nothing folded yet: a
/// penalty on h, a split or a convolution keeps the plain rule.
fn fold_activation_gradients(train: &mut [Op], from: usize, cx: &PlanCx) {
    let touches: Vec<Vec<TensorId>> = train
        .iter()
        .map(|op| {
            op.kernel()
                .plan(cx)
                .bindings
                .into_iter()
                .filter_map(|(_, r)| match r {
                    Resource::Tensor(t) => Some(t),
                    _ => None,
                })
                .collect()
        })
        .collect();
    for l in from..train.len() {
        let Op::LinearBackward(lower) = train[l] else { continue };
        let (Some(f), d) = (lower.f, lower.dy) else { continue };
        let uppers: Vec<usize> =
            (0..train.len()).filter(|&k| k != l && touches[k].contains(&d)).collect();
        let foldable = |k: usize| match train[k] {
            Op::LinearBackward(u) => {
                k >= from && k < l && u.dx == Some(d) && u.x == lower.y && u.x_f.is_none()
            }
            _ => false,
        };
        if uppers.is_empty() || !uppers.iter().all(|&k| foldable(k)) {
            continue;
        }
        for k in uppers {
            if let Op::LinearBackward(u) = &mut train[k] {
                u.x_f = Some(f);
            }
        }
        if let Op::LinearBackward(lower) = &mut train[l] {
            lower.f = None;
        }
    }
}

/// Refuses a model whose activations (training step and inference buffers), or whose
/// largest tensor, need more memory than `budget` allows.
fn check_activations(
    spec: &ModelSpec,
    tensors: &[TensorDesc],
    budget: &Budget,
) -> Result<(), crate::error::SpecError> {
    let bytes = |t: &TensorDesc| t.rows as u64 * t.cols as u64 * 4;
    let activations: u64 =
        tensors.iter().filter(|t| matches!(t.role, Role::Train | Role::Infer)).map(bytes).sum();
    let (largest, name) =
        tensors.iter().map(|t| (bytes(t), t.name.as_str())).max().unwrap_or((0, ""));
    let layers = if spec.kind.is_convolutional() { "fewer channels" } else { "narrower layers" };
    let shrink = format!("lower batch_size (now {}) or use {layers}", spec.batch_size);
    let too_large = |what: String, limit: usize, fits_native: bool| {
        crate::error::SpecError::TooLarge(OverBudget {
            what,
            limit: format!("{} {}", bytes_text(limit), budget.place),
            advice: budget.model_advice(fits_native, &shrink),
        })
    };
    let cap = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    if cap(activations) > budget.activation_bytes {
        return Err(too_large(
            format!("its activations need {}", bytes_text(cap(activations))),
            budget.activation_bytes,
            cap(activations) <= Budget::NATIVE.activation_bytes,
        ));
    }
    if cap(largest) > budget.tensor_bytes {
        return Err(too_large(
            format!("its tensor `{name}` needs {}", bytes_text(cap(largest))),
            budget.tensor_bytes,
            cap(largest) <= Budget::NATIVE.tensor_bytes,
        ));
    }
    Ok(())
}

impl Program {
    /// Builds the program of a spec for inputs of `shape` (both validated here).
    pub fn build(spec: &ModelSpec, shape: &InputShape) -> Result<Program, crate::error::SpecError> {
        spec.validate_for(shape)?;
        let spec = spec.clone();
        let shape = *shape;
        let input = shape.size();
        let output = spec.output_for(&shape);
        let (bsz, z_dim) = (spec.batch_size, spec.latent);
        let variational = spec.kind.is_variational();
        let mut bld = Builder { tensors: vec![], params: vec![] };

        // Parameters: encoder convolutions, dense encoder, dense decoder, decoder
        // convolutions (the encoder's mirrored, applied deepest first).
        let conv = conv_layers(&spec, &shape);
        let mut enc_conv = vec![];
        for (i, c) in conv.iter().enumerate() {
            let (w, b) = bld.conv_params(
                &format!("encoder.conv.{i}"),
                [c.c_out, c.c_in],
                c,
                c.c_out,
                c.c_in * c.taps(),
            );
            enc_conv.push(ConvLayer { transpose: false, w, b, shape: *c });
        }
        let shapes = layer_shapes(&spec, &shape);
        let n_enc = spec.hidden.len() + 1;
        let mut enc_w = vec![];
        let mut dec_w = vec![];
        for (i, &s) in shapes.iter().enumerate() {
            if i < n_enc {
                enc_w.push(bld.linear_params(&format!("encoder.{i}"), s));
            } else {
                dec_w.push(bld.linear_params(&format!("decoder.{}", i - n_enc), s));
            }
        }
        let mut dec_conv = vec![];
        for (j, c) in conv.iter().rev().enumerate() {
            let t = c.transpose();
            // ConvTranspose2d's weight is c_in × c_out × k_h × k_w; PyTorch's fan-in is
            // c_out·k_h·k_w.
            let (w, b) = bld.conv_params(
                &format!("decoder.conv.{j}"),
                [t.c_in, t.c_out],
                &t,
                t.c_out,
                t.c_out * t.taps(),
            );
            dec_conv.push(ConvLayer { transpose: true, w, b, shape: t });
        }
        // ---- training step: forward ----
        let mut fwd = vec![];
        let x = bld.tensor("x", bsz, input, Role::Train);
        let mut prologue = vec![Op::GatherBatch(GatherBatch { x })];
        let mut encoder_input = if spec.kind == ModelKind::Dae {
            let noisy = bld.tensor("x_noisy", bsz, input, Role::Train);
            prologue.push(Op::CorruptInput(CorruptInput { x, noisy }));
            noisy
        } else {
            x
        };
        let clean_or_noisy = encoder_input;
        let conditional = spec.kind.is_conditional();
        let cond = conditional.then(|| {
            let cond = bld.tensor("cond", bsz, CLASSES, Role::Train);
            prologue.push(Op::GatherLabels(GatherLabels { cond }));
            encoder_input =
                bld.join_label(&mut prologue, "x_cond", encoder_input, Some(cond), Role::Train);
            cond
        });
        let f = spec.activation;
        let features = bld.conv_stack(
            &mut fwd,
            "encoder.conv",
            encoder_input,
            &enc_conv,
            f,
            bsz,
            Role::Train,
            true,
        );
        // A sigmoid code is the last encoder layer's activation.
        let code_act = spec.kind.sigmoid_code().then_some(Activation::Sigmoid);
        let stats = bld.mlp(&mut fwd, "encoder", features, &enc_w, f, code_act, bsz, Role::Train);
        let mut penalties = vec![];
        // Per-batch statistics of the penalties: computed, never differentiated.
        let mut statistics = vec![];
        let mut kl_terms = None;
        let z = if variational {
            let z = bld.tensor("z", bsz, z_dim, Role::Train);
            let row_kl = bld.tensor("row_kl", bsz, 1, Role::Train);
            // The KL term's gradient is added to dstats in the same pass; the tensor is
            // named here and made with the other gradients below.
            kl_terms = Some((z, row_kl));
            z
        } else if spec.kind.sigmoid_code() {
            let code = stats;
            if spec.kind == ModelKind::Sparse {
                let rho_hat = bld.tensor("rho_hat", 1, z_dim, Role::Train);
                let unit_penalty = bld.tensor("unit_penalty", 1, z_dim, Role::Train);
                fwd.push(Op::SparsityForward(SparsityForward { code, rho_hat, unit_penalty }));
                statistics.push(rho_hat);
                penalties.push((unit_penalty, true));
            }
            if spec.kind == ModelKind::Contractive {
                let w = enc_w.last().expect("an encoder has a code layer").0;
                let wnorm = bld.tensor("contractive.wnorm", 1, z_dim, Role::Train);
                let mean_s2 = bld.tensor("contractive.mean_s2", 1, z_dim, Role::Train);
                let row_penalty = bld.tensor("row_contractive", bsz, 1, Role::Train);
                fwd.push(Op::ContractiveUnitStats(ContractiveUnitStats {
                    code,
                    w,
                    wnorm,
                    mean_s2,
                }));
                statistics.extend([wnorm, mean_s2]);
                fwd.push(Op::ContractivePenalty(ContractivePenalty { code, wnorm, row_penalty }));
                penalties.push((row_penalty, false));
            }
            code
        } else {
            stats
        };
        let reparameterize = fwd.len();
        let decoder_input = bld.join_label(&mut fwd, "z_cond", z, cond, Role::Train);
        let logits = bld.decoder(
            &mut fwd,
            "decoder",
            decoder_input,
            &dec_w,
            &dec_conv,
            f,
            None,
            Role::Train,
        );

        // Every activation except the inputs and the penalties' statistics has a gradient
        // tensor. (The statistics are named, not recognised by their one row: with batch 1
        // every activation has one row.)
        let mut grad_of = vec![None; bld.tensors.len()];
        let no_grad = |t: TensorId| {
            // The inputs: images (clean, corrupted, with the label) and labels.
            t == x
                || t == clean_or_noisy
                || t == encoder_input
                || Some(t) == cond
                || statistics.contains(&t)
                || penalties.iter().any(|&(p, _)| p == t)
                || kl_terms.is_some_and(|(_, row_kl)| row_kl == t)
        };
        let activations: Vec<(TensorId, String, usize, usize)> = (0..bld.tensors.len())
            .filter(|&t| bld.tensors[t].role == Role::Train && !no_grad(t))
            .map(|t| {
                (
                    t,
                    format!("{}.grad", bld.tensors[t].name),
                    bld.tensors[t].rows,
                    bld.tensors[t].cols,
                )
            })
            .collect();
        for (t, name, rows, cols) in activations {
            grad_of[t] = Some(bld.tensor(name, rows, cols, Role::Train));
        }

        if let Some((z, row_kl)) = kl_terms {
            let dstats = grad_of[stats].expect("stats have a gradient");
            let op = ReparameterizeForward { stats, z, dstats, row_kl };
            fwd.insert(reparameterize, op.into());
        }

        // ---- losses: they seed the gradients ----
        let mut train = prologue;
        train.extend(fwd.iter().cloned());
        let row_loss = bld.tensor("row_recon", bsz, 1, Role::Train);
        train.push(Op::ReconstructionLoss(ReconstructionLoss {
            loss: LossKind::of(spec.loss, output),
            logits,
            target: x,
            dlogits: grad_of[logits].expect("logits have a gradient"),
            row_loss,
        }));
        // ---- backward: the tape in reverse ----
        let grads = Gradients { grad_of: &grad_of, params: &bld.params };
        let gradients: Vec<TensorId> =
            bld.params.iter().map(|p| p.grad).chain(grad_of.iter().flatten().copied()).collect();
        let backward = train.len();
        for op in fwd.iter().rev() {
            train.extend(op.kernel().gradient(&grads));
        }
        // The fold reads only the plans' bindings, which neither the resident rows nor the
        // matmul schedule change.
        let data = TrainData { rows: 1, width: input, floats: true };
        let cx = PlanCx {
            descs: &bld.tensors,
            spec: &spec,
            shape,
            rows: bsz,
            data,
            matmul: Schedule::Tiled,
        };
        fold_activation_gradients(&mut train, backward, &cx);

        // ---- optimizer, metrics, step counter ----
        let arena = Arena::of(bld.params.iter().map(|p| bld.tensors[p.value].len()));
        train.push(AdamUpdate::of(&bld.params, &arena).into());
        let mut sums = [None; metric::COUNT];
        sums[metric::RECON] = Some(MetricSum { values: row_loss, per_batch: false });
        if let Some((_, row_kl)) = kl_terms {
            sums[metric::KL] = Some(MetricSum { values: row_kl, per_batch: false });
        }
        if let Some(&(values, per_batch)) = penalties.first() {
            sums[metric::PENALTY] = Some(MetricSum { values, per_batch });
        }
        assert!(penalties.len() <= 1, "one penalty slot");
        train.push(FinishStep { sums }.into());

        // ---- inference ----
        let rows = INFER_ROWS;
        let mut encode = vec![];
        let infer_x = bld.tensor("infer.x", rows, input, Role::Infer);
        let infer_cond = conditional.then(|| bld.tensor("infer.cond", rows, CLASSES, Role::Infer));
        let encoder_input =
            bld.join_label(&mut encode, "infer.x_cond", infer_x, infer_cond, Role::Infer);
        let encoder_input = bld.conv_stack(
            &mut encode,
            "infer.encoder.conv",
            encoder_input,
            &enc_conv,
            f,
            rows,
            Role::Infer,
            true,
        );
        let infer_stats = bld.mlp(
            &mut encode,
            "infer.encoder",
            encoder_input,
            &enc_w,
            spec.activation,
            code_act,
            rows,
            Role::Infer,
        );
        let mut decode = vec![];
        let infer_z = bld.tensor("infer.z", rows, z_dim, Role::Infer);
        let decoder_input =
            bld.join_label(&mut decode, "infer.z_cond", infer_z, infer_cond, Role::Infer);
        // Pixels are σ(logits); standardised values are the logits themselves.
        let image_act = (output == Output::Sigmoid).then_some(Activation::Sigmoid);
        let infer_image = bld.decoder(
            &mut decode,
            "infer.decoder",
            decoder_input,
            &dec_w,
            &dec_conv,
            f,
            image_act,
            Role::Infer,
        );

        check_activations(&spec, &bld.tensors, &Budget::HERE)?;
        Ok(Program {
            spec,
            shape,
            tensors: bld.tensors,
            params: bld.params,
            train,
            encode,
            decode,
            infer_cond,
            batch: bsz,
            infer_rows: rows,
            train_x: x,
            infer_x,
            infer_stats,
            infer_z,
            infer_image,
            gradients,
            arena,
        })
    }

    /// What an op's GPU plan sees on `rows` rows with `data` resident.
    pub fn plan_cx(&self, rows: usize, data: TrainData, matmul: Schedule) -> PlanCx<'_> {
        PlanCx { descs: &self.tensors, spec: &self.spec, shape: self.shape, rows, data, matmul }
    }

    /// Names and shapes of the parameters, in order: what a weights file must hold.
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.params.iter().map(|p| (p.name.clone(), p.shape.clone())).collect()
    }

    /// Initial parameter values: U(−1/√fan_in, 1/√fan_in) from the counter-based RNG.
    pub fn initial_params(&self) -> Vec<Vec<f32>> {
        self.params
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let bound = 1.0 / (p.fan_in as f32).sqrt();
                let n = self.tensors[p.value].len();
                (0..n as u32)
                    .map(|i| {
                        let u = rng::uniform(self.spec.seed, rng::stream::INIT + k as u32, 0, i);
                        (2.0 * u - 1.0) * bound
                    })
                    .collect()
            })
            .collect()
    }

    /// Values in an input row (D).
    pub fn input_size(&self) -> usize {
        self.shape.size()
    }

    /// Width of the encoder's output: Z for an AE, 2Z (μ and log σ²) for a VAE.
    pub fn stats_width(&self) -> usize {
        self.tensors[self.infer_stats].cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::MNIST_SHAPE;

    #[test]
    fn conv_program_has_pytorch_layouts_and_counts_its_parameters() {
        let spec = ModelSpec::of_kind(ModelKind::ConvAe);
        let p = Program::build(&spec, &MNIST_SHAPE).unwrap();
        let shapes = p.param_shapes();
        let find = |name: &str| shapes.iter().find(|(n, _)| n == name).unwrap().1.clone();
        // Conv2d: C_out × C_in × k × k; ConvTranspose2d: C_in × C_out × k × k.
        assert_eq!(find("encoder.conv.0.weight"), vec![16, 1, 4, 4]);
        assert_eq!(find("encoder.conv.1.weight"), vec![32, 16, 4, 4]);
        assert_eq!(find("encoder.0.weight"), vec![16, 32 * 7 * 7]);
        assert_eq!(find("decoder.0.weight"), vec![32 * 7 * 7, 16]);
        assert_eq!(find("decoder.conv.0.weight"), vec![32, 16, 4, 4]);
        assert_eq!(find("decoder.conv.1.weight"), vec![16, 1, 4, 4]);
        assert_eq!(find("decoder.conv.1.bias"), vec![1]);
        let total: usize = shapes.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
        assert_eq!(spec.parameter_count(&MNIST_SHAPE), total);
        let image = p.tensors[p.infer_image].cols;
        assert_eq!(image, MNIST_SHAPE.size());
    }

    #[test]
    fn conv1d_program_has_pytorch_conv1d_layouts_on_windows() {
        let window = InputShape::Series { channels: 2, length: 64 };
        let spec = ModelSpec { channels: vec![8, 16], ..ModelSpec::of_kind(ModelKind::Conv1dAe) };
        let p = Program::build(&spec, &window).unwrap();
        let shapes = p.param_shapes();
        let find = |name: &str| shapes.iter().find(|(n, _)| n == name).unwrap().1.clone();
        // Conv1d: C_out × C_in × k; ConvTranspose1d: C_in × C_out × k. 64 → 32 → 16 steps.
        assert_eq!(find("encoder.conv.0.weight"), vec![8, 2, 4]);
        assert_eq!(find("encoder.conv.1.weight"), vec![16, 8, 4]);
        assert_eq!(find("encoder.0.weight"), vec![8, 16 * 16]);
        assert_eq!(find("decoder.conv.1.weight"), vec![8, 2, 4]);
        let total: usize = shapes.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
        assert_eq!(spec.parameter_count(&window), total);
        // The output is the standardised window itself: no sigmoid, MSE of the values.
        assert_eq!(p.tensors[p.infer_image].cols, 128);
        assert!(!p.decode.iter().any(|op| matches!(
            op,
            Op::ActivationForward(ActivationForward { f: Activation::Sigmoid, y, .. }) if *y == p.infer_image
        )));
        assert!(p.train.iter().any(|op| matches!(
            op,
            Op::ReconstructionLoss(ReconstructionLoss { loss: LossKind::Mse, .. })
        )));
    }

    #[test]
    fn an_image_model_with_the_identity_output_puts_out_its_logits() {
        let spec = ModelSpec {
            kind: ModelKind::Ae,
            hidden: vec![],
            activation: Activation::Identity,
            loss: ReconLoss::Mse,
            output: Some(Output::Identity),
            ..ModelSpec::default()
        };
        // The dense decoder's last product writes the image with its activation fused in.
        let sigmoid_out = |p: &Program| {
            p.decode.iter().any(|op| matches!(
                op,
                Op::LinearForward(LinearForward { f: Some(Activation::Sigmoid), y, .. }) if *y == p.infer_image
            ))
        };
        let loss = |p: &Program| {
            p.train.iter().find_map(|op| match op {
                Op::ReconstructionLoss(l) => Some(l.loss),
                _ => None,
            })
        };
        let linear = Program::build(&spec, &MNIST_SHAPE).unwrap();
        assert!(!sigmoid_out(&linear));
        assert_eq!(loss(&linear), Some(LossKind::Mse));
        let pixels = Program::build(&ModelSpec { output: None, ..spec }, &MNIST_SHAPE).unwrap();
        assert!(sigmoid_out(&pixels));
        assert_eq!(loss(&pixels), Some(LossKind::SigmoidMse));
    }

    #[test]
    fn a_kind_and_a_shape_that_do_not_fit_are_refused_with_the_reason() {
        let window = InputShape::Series { channels: 1, length: 64 };
        let table = InputShape::Vector { features: 9 };
        let err = |spec: &ModelSpec, shape: &InputShape| {
            Program::build(spec, shape).unwrap_err().to_string()
        };
        let conv1d = ModelSpec::of_kind(ModelKind::Conv1dAe);
        let e = err(&conv1d, &MNIST_SHAPE);
        assert!(e.contains("conv1d_ae convolves series windows"), "{e}");
        let e = err(&ModelSpec::of_kind(ModelKind::ConvAe), &window);
        assert!(e.contains("conv_ae convolves images"), "{e}");
        let e = err(&ModelSpec::of_kind(ModelKind::ConvAe), &table);
        assert!(e.contains("for a table row"), "{e}");
        let odd = InputShape::Series { channels: 1, length: 30 };
        let e = err(&conv1d, &odd);
        assert!(e.contains("windows of 30") && e.contains("divisible by 4"), "{e}");
        // BCE needs values in [0, 1]; a table is standardised.
        let e = err(&ModelSpec::default(), &table);
        assert!(e.contains("`loss`") && e.contains("mse for a table row"), "{e}");
        let dense = ModelSpec { loss: ReconLoss::Mse, ..ModelSpec::default() };
        let p = Program::build(&dense, &table).unwrap();
        assert_eq!(p.param_shapes()[0].1, vec![400, 9]);
    }

    #[test]
    fn vae_program_has_the_expected_shape() {
        let spec = ModelSpec { hidden: vec![400], latent: 20, ..ModelSpec::default() };
        let p = Program::build(&spec, &MNIST_SHAPE).unwrap();
        let shapes = p.param_shapes();
        assert_eq!(shapes[0], ("encoder.0.weight".to_string(), vec![400, 784]));
        assert_eq!(shapes[2], ("encoder.1.weight".to_string(), vec![40, 400]));
        assert_eq!(shapes[4], ("decoder.0.weight".to_string(), vec![400, 20]));
        assert_eq!(shapes[7], ("decoder.1.bias".to_string(), vec![784]));
        assert_eq!(
            spec.parameter_count(&MNIST_SHAPE),
            784 * 400 + 400 + 400 * 40 + 40 + 20 * 400 + 400 + 400 * 784 + 784
        );
        // Every parameter gets a gradient op, and one Adam op updates them all.
        let adam: Vec<&AdamUpdate> = p
            .train
            .iter()
            .filter_map(|o| match o {
                Op::AdamUpdate(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(adam.len(), 1);
        assert_eq!(adam[0].params.len(), 8);
        for q in &p.params {
            let written = p.train.iter().any(|o| match *o {
                Op::LinearBackward(LinearBackward { dw, db, .. }) => dw == q.grad || db == q.grad,
                _ => false,
            });
            assert!(written, "{} has no gradient op", q.name);
        }
        // One op per layer each way, the activations fused in: the two hidden layers'.
        let layers: Vec<&LinearForward> = p
            .train
            .iter()
            .filter_map(|o| match o {
                Op::LinearForward(l) => Some(l),
                _ => None,
            })
            .collect();
        let acts: Vec<_> = layers.iter().map(|l| l.f).collect();
        assert_eq!(acts, [Some(Activation::Relu), None, Some(Activation::Relu), None]);
        assert!(!p.train.iter().any(|o| matches!(o, Op::ActivationForward(_))));
        // Backward, decoder.1 first: each hidden ReLU's f′ folded into the dx of the layer
        // above it, so that no backward op reads a layer's output for f′.
        let relu = Some(Activation::Relu);
        assert_eq!(backward_acts(&p), [(None, relu), (None, None), (None, relu), (None, None)]);
        // The input images get no gradient; the first layer's input gradient is skipped.
        let input_grads = p
            .train
            .iter()
            .filter(|o| matches!(o, Op::LinearBackward(LinearBackward { dx: Some(_), .. })))
            .count();
        assert_eq!(input_grads, 3);
        // The VAE step the issue budgets: at most 15 dispatches.
        assert_eq!(p.train.len(), 14, "{:#?}", p.train.iter().map(Op::name).collect::<Vec<_>>());
        assert!(p
            .train
            .iter()
            .any(|o| matches!(o, Op::ReparameterizeBackward(ReparameterizeBackward { .. }))));
        assert_eq!(p.stats_width(), 40);
    }

    /// (f, x_f) of each LinearBackward, in the order they run.
    fn backward_acts(p: &Program) -> Vec<(Option<Activation>, Option<Activation>)> {
        p.train
            .iter()
            .filter_map(|o| match o {
                Op::LinearBackward(l) => Some((l.f, l.x_f)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_activations_derivative_moves_up_only_where_nothing_else_touches_its_gradient() {
        let (relu, sigmoid) = (Some(Activation::Relu), Some(Activation::Sigmoid));
        let tanh = Some(Activation::Tanh);
        // Two hidden layers of tanh: both folded, whatever the activation.
        let spec = ModelSpec {
            kind: ModelKind::Ae,
            hidden: vec![64, 32],
            activation: Activation::Tanh,
            ..ModelSpec::default()
        };
        let p = Program::build(&spec, &MNIST_SHAPE).unwrap();
        let want =
            [(None, tanh), (None, tanh), (None, None), (None, tanh), (None, tanh), (None, None)];
        assert_eq!(backward_acts(&p), want);
        // A sparse code is a sigmoid whose gradient the penalty adds to: the code layer keeps
        // its f′ and the decoder's first layer folds nothing; the ReLUs still move up.
        let sparse = ModelSpec::of_kind(ModelKind::Sparse);
        let p = Program::build(&sparse, &MNIST_SHAPE).unwrap();
        assert!(p.train.iter().any(|o| matches!(o, Op::SparsityBackward(_))));
        assert_eq!(
            backward_acts(&p),
            [(None, relu), (None, None), (sigmoid, relu), (None, None)],
            "{:#?}",
            p.train
        );
        // A conditional decoder's first layer reads [z, label], not a layer's output.
        let cvae = ModelSpec::of_kind(ModelKind::Cvae);
        let p = Program::build(&cvae, &MNIST_SHAPE).unwrap();
        assert_eq!(backward_acts(&p), [(None, relu), (None, None), (None, relu), (None, None)]);
    }

    #[test]
    fn every_gradient_an_op_adds_to_is_zeroed_at_the_start_of_the_step() {
        for kind in ModelKind::ALL {
            let spec = ModelSpec { channels: vec![3, 4], ..ModelSpec::of_kind(kind) };
            let shape = if kind.is_conv1d() {
                InputShape::Series { channels: 1, length: 32 }
            } else {
                MNIST_SHAPE
            };
            let p = Program::build(&spec, &shape).unwrap();
            let zeroed = |t: TensorId| p.gradients.contains(&t);
            for q in &p.params {
                assert!(zeroed(q.grad), "{kind:?}: {} is not zeroed", q.name);
            }
            // The outputs of every op that adds: the backward ops and the losses' gradients.
            for op in &p.train {
                let added = match *op {
                    Op::LinearBackward(o) => {
                        for t in [Some(o.dw), Some(o.db), o.dx].into_iter().flatten() {
                            assert!(zeroed(t), "{kind:?}: {op:?} adds to a tensor never zeroed");
                        }
                        continue;
                    }
                    Op::ConvBackwardInput(o) => o.dx,
                    Op::ConvBackwardWeight(o) => o.dw,
                    Op::ConvBackwardBias(o) => o.db,
                    Op::ActivationBackward(o) => o.dx,
                    Op::SplitColumnsBackward(o) => o.da,
                    Op::ReparameterizeBackward(o) => o.dstats,
                    Op::ReparameterizeForward(o) => o.dstats,
                    Op::SparsityBackward(o) => o.dcode,
                    Op::ContractiveBackwardCode(o) => o.dcode,
                    Op::ContractiveBackwardWeight(o) => o.dw,
                    Op::ReconstructionLoss(o) => o.dlogits,
                    _ => continue,
                };
                assert!(zeroed(added), "{kind:?}: {op:?} adds to a tensor never zeroed");
            }
            // No forward op writes a gradient.
            for op in &p.train {
                let written = match *op {
                    Op::LinearForward(o) => o.y,
                    Op::ActivationForward(o) => o.y,
                    Op::ConvForward(o) => o.y,
                    _ => continue,
                };
                assert!(!zeroed(written), "{kind:?}: {op:?} writes a gradient");
            }
        }
    }

    #[test]
    fn ae_has_no_kl_and_a_plain_code() {
        let spec = ModelSpec {
            kind: ModelKind::Ae,
            hidden: vec![512, 256],
            latent: 2,
            ..ModelSpec::default()
        };
        let p = Program::build(&spec, &MNIST_SHAPE).unwrap();
        assert!(!p.train.iter().any(|o| matches!(o, Op::ReparameterizeForward(_))));
        let Some(Op::FinishStep(f)) = p.train.last() else {
            panic!("the step ends with FinishStep")
        };
        assert!(f.sums[metric::KL].is_none() && f.sums[metric::RECON].is_some());
        assert_eq!(p.stats_width(), 2);
        assert_eq!(p.params.len(), 12);
    }

    #[test]
    fn initial_weights_are_deterministic_and_in_range() {
        let p = Program::build(&ModelSpec::default(), &MNIST_SHAPE).unwrap();
        let a = p.initial_params();
        assert_eq!(a, p.initial_params());
        let bound = 1.0 / 784f32.sqrt();
        assert!(a[0].iter().all(|v| v.abs() <= bound));
        assert!(a[1].iter().all(|v| v.abs() <= bound), "bias uses the layer's fan-in");
        let other =
            Program::build(&ModelSpec { seed: 2, ..ModelSpec::default() }, &MNIST_SHAPE).unwrap();
        assert_ne!(a[0], other.initial_params()[0]);
    }
}
