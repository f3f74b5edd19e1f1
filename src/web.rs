//! The JavaScript-facing API (wasm only). One [`Engine`] per page holds what its models share:
//! the WebGPU device (opened once) and the data sets by name (each decoded once, uploaded to
//! the GPU once, and only when a model first needs it). Each [`Lab`] owns one model and its executor
//! (WebGPU or CPU). `www/engine-worker.js` is their only caller.
//!
//! Calls must not overlap: every method that touches the model takes the state out of its
//! cell for the duration of the call and puts it back when done, so an overlapping call is
//! rejected with a "busy" error instead of racing (the worker serialises its calls anyway).
//! Methods that await the GPU return a `Promise`; the others are synchronous.
//!
//! Errors are `Error` objects carrying the engine's message ([`crate::Error`]'s `Display`).
//! A GPU failure (lost device, GPU error) does not end the session: the lab continues on the
//! CPU executor from its last checkpoint of the weights, and says so through `backend()` and
//! `adapter()`.

use std::cell::RefCell;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use js_sys::{Float32Array, Float64Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::anomaly::{self, pca_score, score, AnomalySet, Curve, Scores, SeriesWindows};
use crate::backend::{check_finite, Executor, GpuContext, GpuDataset, Metrics};
use crate::compare::{decoder_angles, Baseline, Codes};
use crate::data::{
    decode_lab_file, prepare, preprocess_drawing, read_csv, InputShape, LabFile, Split, Values,
    Windows, MNIST_SHAPE,
};
use crate::error::{Error, Result};
use crate::knn;
use crate::limits::Budget;
use crate::model::{ModelKind, ModelSpec, NoiseKind, NoiseSpec, Program};
use crate::pca::Pca;
use crate::weights::{self, ModelInfo, Tensor};

/// How often training stops to copy the weights to the CPU (for rollback and GPU loss).
const CHECKPOINT_MS: f64 = 5_000.0;
const BUSY: &str = "the engine is busy with another call: await the previous call first";
/// The data set a model opens on when none is named: the bundled digits, whose shape the
/// engine knows before they arrive.
pub const DIGITS: &str = "mnist";
/// Most data sets one engine holds at once (the bundled ones and a user's tables).
const MAX_DATA_SETS: usize = 8;
/// Longest name of a data set.
const MAX_DATA_NAME: usize = 64;

/// The global the panic hook leaves a panic's message in, for the worker to report after the
/// trap (a panic aborts the wasm instance; its message is all that is left of it).
const PANIC_GLOBAL: &str = "latentLabPanic";

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line()));
        let message = format!("{}{}", crate::limits::quote(&text), at.unwrap_or_default());
        let _ = Reflect::set(&js_sys::global(), &PANIC_GLOBAL.into(), &message.into());
        // And the full report with its stack on the console, for whoever debugs it.
        console_error_panic_hook::hook(info);
    }));
}

/// What the models of one page share: one WebGPU device and one copy of the data.
#[wasm_bindgen]
pub struct Engine {
    shared: Rc<Shared>,
}

#[derive(Default)]
struct Shared {
    gpu: RefCell<Gpu>,
    /// WebGPU devices this engine has opened (one, unless one was lost).
    devices: std::cell::Cell<u32>,
    /// The data sets by name, each decoded once and shared by every model opened on it.
    data: RefCell<std::collections::HashMap<String, Data>>,
}

/// The page's WebGPU device: not asked for yet, open, or why there is none.
#[derive(Default)]
enum Gpu {
    #[default]
    Unopened,
    Open(Box<GpuContext>),
    Failed(String),
}

/// One data set, decoded once: the split for the views, the training rows for the CPU
/// executors, and their upload to the GPU (made when a GPU model first trains).
#[derive(Clone)]
struct Data {
    split: Rc<Split>,
    rows: Values,
    on_gpu: Option<GpuDataset>,
    /// The file as read, before standardising or cutting into windows (and the windows it
    /// was cut into): what an anomaly set is made from.
    raw: Option<(Rc<LabFile>, Windows)>,
    /// For an anomaly set: which test rows are anomalies, and its PCA baseline.
    anomaly: Option<Rc<AnomalyData>>,
    /// PCA of every width and the classifier on raw values (`Lab::compare`), made at the
    /// first request and shared by every model on this data.
    baseline: BaselineSlot,
}

/// A data set's [`Baseline`], once made.
type BaselineSlot = Rc<RefCell<Option<Rc<Baseline>>>>;

/// The data set's baseline from its slot, made (PCA of every width: seconds on the digits)
/// and kept there on the first call.
fn baseline(slot: Option<BaselineSlot>, split: &Split) -> Result<Rc<Baseline>> {
    let Some(slot) = slot else {
        return Err(Error::Input("the data set is not loaded yet".into()));
    };
    let existing = slot.borrow().clone();
    Ok(match existing {
        Some(b) => b,
        None => {
            let b = Rc::new(Baseline::new(&split.train, &split.test)?);
            *slot.borrow_mut() = Some(b.clone());
            b
        }
    })
}

/// What an anomaly set adds to its rows.
struct AnomalyData {
    set: AnomalyInfo,
    /// PCA of the training rows at each width asked for, with its scores of the test rows.
    pca: RefCell<Vec<PcaAt>>,
}

/// PCA with `.0` components, and its scores of the test rows.
type PcaAt = (usize, Rc<Pca>, Rc<Scores>);

/// A score's name, its values per row, and the squared error of each value where it has them.
type NamedScore<'a> = (&'a str, &'a [f64], Option<&'a [f32]>);

/// An [`AnomalySet`] without its rows (the data set holds those).
struct AnomalyInfo {
    anomalous: Vec<bool>,
    train_anomalies: usize,
    series: Option<SeriesWindows>,
}

impl AnomalyData {
    /// PCA with `k` components of `train`, and its scores of `test`: made once per width.
    /// `None` when `k` is the rows' width or more: such a PCA rebuilds every row exactly,
    /// and is no baseline.
    fn pca(
        &self,
        k: usize,
        train: &crate::data::Dataset,
        test: &[f32],
    ) -> Result<Option<(Rc<Pca>, Rc<Scores>)>> {
        if k >= train.shape.size() {
            return Ok(None);
        }
        if let Some((_, p, s)) = self.pca.borrow().iter().find(|(w, _, _)| *w == k) {
            return Ok(Some((p.clone(), s.clone())));
        }
        let (p, s) = pca_score(train, test, k)?;
        let entry = (Rc::new(p), Rc::new(s));
        self.pca.borrow_mut().push((k, entry.0.clone(), entry.1.clone()));
        Ok(Some(entry))
    }
}

impl Shared {
    /// The shape of the rows of data set `name`: the digits' before they arrive.
    fn shape_of(&self, name: &str) -> Result<InputShape> {
        match self.data.borrow().get(name) {
            Some(d) => Ok(d.split.shape()),
            None if name == DIGITS => Ok(MNIST_SHAPE),
            None => Err(Error::Input(format!(
                "the engine has no data set {}: give it with setData or setCsv first",
                crate::limits::quote(name)
            ))),
        }
    }

    /// The split of data set `name`, if it has arrived.
    fn split_of(&self, name: &str) -> Option<Rc<Split>> {
        self.data.borrow().get(name).map(|d| d.split.clone())
    }

    /// Data set `name` for an executor on `gpu` (uploading its rows once per device).
    fn data_for(&self, name: &str, gpu: Option<&GpuContext>) -> Result<Option<Data>> {
        let mut slot = self.data.borrow_mut();
        let Some(data) = slot.get_mut(name) else { return Ok(None) };
        if let (Some(ctx), None) = (gpu, &data.on_gpu) {
            let train = &data.split.train;
            let labels = train.has_labels().then_some(&train.labels[..]);
            data.on_gpu = Some(GpuDataset::upload(ctx, &data.rows, train.shape.size(), labels)?);
        }
        Ok(Some(data.clone()))
    }

    /// The page's device, opened at the first request; a lost one is not handed out again.
    async fn gpu(&self) -> std::result::Result<GpuContext, String> {
        let current = std::mem::take(&mut *self.gpu.borrow_mut());
        let next = match current {
            Gpu::Open(ctx) => match ctx.check("opening a model") {
                Err(Error::DeviceLost(reason)) => {
                    Gpu::Failed(format!("the WebGPU device was lost ({reason})"))
                }
                _ => Gpu::Open(ctx),
            },
            Gpu::Unopened => match webgpu_context().await {
                Ok(ctx) => {
                    self.devices.set(self.devices.get() + 1);
                    Gpu::Open(Box::new(ctx))
                }
                Err(why) => Gpu::Failed(why),
            },
            failed => failed,
        };
        let result = match &next {
            Gpu::Open(ctx) => Ok((**ctx).clone()),
            Gpu::Failed(why) => Err(why.clone()),
            Gpu::Unopened => unreachable!("the device was just asked for"),
        };
        *self.gpu.borrow_mut() = next;
        if result.is_err() {
            // A lost device's uploads go with it.
            for data in self.data.borrow_mut().values_mut() {
                data.on_gpu = None;
            }
        }
        result
    }
}

#[wasm_bindgen]
impl Engine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine { shared: Rc::default() }
    }

    /// Lab data (`www/data/mnist-10k.bin`, …) as data set `name`, decoded once for every
    /// model opened on it; a model opened on the digits before they arrived trains once
    /// [`Lab::attach_data`] gives it them. A table is standardised on its training rows, a
    /// series cut into windows of `window` steps every `stride` (0: the defaults, 64 and 4).
    /// A name already given is kept as it is.
    pub fn set_data(
        &self,
        name: String,
        data: Vec<u8>,
        window: u32,
        stride: u32,
    ) -> Result<(), JsError> {
        if self.shared.data.borrow().contains_key(&name) {
            return Ok(());
        }
        self.check_room(&name)?;
        let defaults = Windows::default();
        let pick = |v: u32, d: usize| if v == 0 { d } else { v as usize };
        let windows = Windows {
            length: pick(window, defaults.length),
            stride: pick(stride, defaults.stride),
        };
        let file = decode_lab_file(&data).map_err(js_error)?;
        let raw = file.clone();
        let split = prepare(file, windows, None).map_err(js_error)?;
        self.insert(name, split, Some((Rc::new(raw), windows)), None)
    }

    /// An anomaly set made from data set `base` (given before) as data set `name`: the rows
    /// labelled with one of `normal` are normal, the others anomalies — or, with `outliers`
    /// (another data set of the same shape), every row of `base` is normal and every row of
    /// `outliers` an anomaly; a series' anomalies are its labelled steps. The training rows
    /// are the normal ones with anomalies mixed in to the share `contamination` (drawn with
    /// `seed`); a table is standardised on them. Returns `{trainRows, trainAnomalies,
    /// testRows, testAnomalies, contamination}` as JSON. A name already given is kept.
    pub fn set_anomaly(
        &self,
        name: String,
        base: &str,
        normal: Vec<u8>,
        contamination: f64,
        seed: u32,
        outliers: Option<String>,
    ) -> Result<String, JsError> {
        if !self.shared.data.borrow().contains_key(&name) {
            self.check_room(&name)?;
            let raw_of = |n: &str| {
                self.shared.data.borrow().get(n).and_then(|d| d.raw.clone()).ok_or_else(|| {
                    JsError::new(&format!(
                        "the engine has no data set {} to find anomalies in",
                        crate::limits::quote(n)
                    ))
                })
            };
            let (raw, windows) = raw_of(base)?;
            let set = match (&*raw, outliers.filter(|o| !o.is_empty())) {
                (LabFile::Series(series), None) => {
                    AnomalySet::series(series, windows, contamination, seed)
                }
                (LabFile::Rows(split), None) => {
                    AnomalySet::by_label(split.clone(), &normal, contamination, seed)
                }
                (LabFile::Rows(split), Some(other)) => match &*raw_of(&other)?.0 {
                    LabFile::Rows(o) => {
                        AnomalySet::against(split.clone(), o.clone(), contamination, seed)
                    }
                    LabFile::Series(_) => {
                        Err(Error::Input(format!("{other} is a series, not rows")))
                    }
                },
                (LabFile::Series(_), Some(_)) => Err(Error::Input(
                    "a series' anomalies are its labelled steps, not another data set".into(),
                )),
            }
            .map_err(js_error)?;
            let info = AnomalyInfo {
                anomalous: set.anomalous,
                train_anomalies: set.train_anomalies,
                series: set.series,
            };
            let split =
                Split { train: set.train, test: set.test, normalisation: set.normalisation };
            let anomaly = Rc::new(AnomalyData { set: info, pca: RefCell::default() });
            self.insert(name.clone(), split, None, Some(anomaly))?;
        }
        let data = self.shared.data.borrow();
        let d = &data[&name];
        let a = d
            .anomaly
            .as_ref()
            .ok_or_else(|| JsError::new(&format!("{name} is not an anomaly set")))?;
        let anomalies = a.set.anomalous.iter().filter(|&&x| x).count();
        Ok(serde_json::json!({
            "trainRows": d.split.train.len(),
            "trainAnomalies": a.set.train_anomalies,
            "testRows": d.split.test.len(),
            "testAnomalies": anomalies,
            "contamination": a.set.train_anomalies as f64 / d.split.train.len().max(1) as f64,
        })
        .to_string())
    }

    /// A CSV table (numeric columns; `label`, if given, names the column of labels 0–9) as
    /// data set `name`: the first 60 % of its rows train, the rest test, each feature
    /// standardised on the training rows. Returns the table's shape as JSON; an error names
    /// the line and the column of the first bad cell, and nothing is kept.
    pub fn set_csv(
        &self,
        name: String,
        text: Vec<u8>,
        label: Option<String>,
    ) -> Result<String, JsError> {
        if self.shared.data.borrow().contains_key(&name) {
            return Err(JsError::new(&format!(
                "a data set {} is loaded already",
                crate::limits::quote(&name)
            )));
        }
        self.check_room(&name)?;
        let label = label.filter(|l| !l.is_empty());
        let table = read_csv(&text).map_err(js_error)?;
        let raw = table.split(label.as_deref()).map_err(js_error)?;
        let split = raw.clone().standardised(None).map_err(js_error)?;
        let shape = split.shape();
        self.insert(name, split, Some((Rc::new(LabFile::Rows(raw)), Windows::default())), None)?;
        Ok(serde_json::to_string(&shape).expect("shapes serialise"))
    }

    /// Forgets data set `name` (the models opened on it keep their training rows).
    pub fn remove_data(&self, name: &str) -> bool {
        self.shared.data.borrow_mut().remove(name).is_some()
    }

    /// The shape of data set `name`'s rows as JSON (the digits' before they arrive).
    pub fn shape_json(&self, name: &str) -> Result<String, JsError> {
        let shape = self.shared.shape_of(name).map_err(js_error)?;
        Ok(serde_json::to_string(&shape).expect("shapes serialise"))
    }

    /// t-SNE of `codes` (n × `width`, a model's codes) for the latent map: n × 2 coordinates
    /// (`crate::projection::tsne`). `progress(epoch, layout)` is called about every
    /// `every_ms` with the epoch and the layout so far (a Float32Array n × 2).
    #[allow(clippy::too_many_arguments)]
    pub fn tsne(
        &self,
        codes: Vec<f32>,
        width: usize,
        perplexity: f32,
        epochs: usize,
        seed: u32,
        progress: &js_sys::Function,
        every_ms: f64,
    ) -> Result<Float32Array, JsError> {
        let settings =
            crate::projection::TsneSettings { perplexity, epochs, seed, ..Default::default() };
        let mut last = now();
        let layout = crate::projection::tsne(&codes, width, settings, |epoch, layout| {
            let t = now();
            if t - last >= every_ms {
                last = t;
                let xy = Float32Array::from(layout);
                let _ = progress.call2(&JsValue::NULL, &JsValue::from(epoch as u32), &xy);
            }
        })
        .map_err(js_error)?;
        Ok(Float32Array::from(&layout[..]))
    }

    /// WebGPU devices opened so far: 1 for a page of GPU models, however many.
    pub fn devices(&self) -> u32 {
        self.shared.devices.get()
    }

    /// Builds a model on data set `data` (one given by `set_data` or `set_csv`, or `"mnist"`,
    /// the digits, even before they arrive): `spec_json` is a ModelSpec, its missing fields
    /// filled in for the data's shape (`"{}"`: the default VAE). `backend` is where it runs:
    /// `"webgpu"` on the page's WebGPU device; `"auto"` there too unless the adapter is a
    /// software renderer (SwiftShader, WARP), which trains slower than the CPU engine;
    /// `"cpu"` on the CPU engine. The adapter records why the CPU engine runs when it does
    /// (asked, no WebGPU, a failure). Resolves to a [`Lab`]. Calls must not overlap (the first
    /// opens the device).
    pub fn open(&self, spec_json: String, backend: String, data: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let shape = shared.shape_of(&data).map_err(js_error)?;
            let spec = ModelSpec::from_json_for(&spec_json, &shape).map_err(js_error)?;
            let program = Program::build(&spec, &shape).map_err(js_error)?;
            let cpu = |why: String| {
                cpu_executor(&shared, &data, program.clone()).map(|ex| (ex, None, why))
            };
            let (ex, gpu, adapter) = match backend.as_str() {
                "cpu" => cpu("the CPU engine was asked for".into()).map_err(js_error)?,
                "auto" | "webgpu" => match shared.gpu().await {
                    Ok(ctx) if backend == "auto" && ctx.is_software() => cpu(format!(
                        "faster here than WebGPU on a software renderer ({})",
                        adapter_name(&ctx.adapter_info)
                    ))
                    .map_err(js_error)?,
                    Ok(ctx) => open_gpu(&shared, &data, ctx, program).await,
                    Err(why) => cpu(why).map_err(js_error)?,
                },
                other => {
                    return Err(JsError::new(&format!(
                        "backend must be auto, webgpu or cpu, got {other:?}"
                    ))
                    .into())
                }
            };
            let has_data = ex.train_rows() > 0;
            let state = State::new(ex, gpu, adapter, shared.clone(), data.clone(), has_data);
            Ok(Lab { state: Rc::new(RefCell::new(Some(state))), shared, data }.into())
        })
    }
}

impl Engine {
    /// Refuses a name too long or one data set too many.
    fn check_room(&self, name: &str) -> Result<(), JsError> {
        if name.is_empty() || name.len() > MAX_DATA_NAME {
            return Err(JsError::new(&format!(
                "a data set's name has 1 to {MAX_DATA_NAME} characters, got {}",
                name.len()
            )));
        }
        if self.shared.data.borrow().len() >= MAX_DATA_SETS {
            return Err(JsError::new(&format!(
                "the engine holds {MAX_DATA_SETS} data sets already; close a model on one first"
            )));
        }
        Ok(())
    }

    fn insert(
        &self,
        name: String,
        split: Split,
        raw: Option<(Rc<LabFile>, Windows)>,
        anomaly: Option<Rc<AnomalyData>>,
    ) -> Result<(), JsError> {
        if split.train.is_empty() {
            return Err(JsError::new("the data holds no training rows"));
        }
        let rows = split.train.values.clone();
        let data = Data {
            split: Rc::new(split),
            rows,
            on_gpu: None,
            raw,
            anomaly,
            baseline: Rc::default(),
        };
        self.shared.data.borrow_mut().insert(name, data);
        Ok(())
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

/// A model, the executor that runs it, and the engine it shares the device and data with.
#[wasm_bindgen]
pub struct Lab {
    state: Rc<RefCell<Option<State>>>,
    shared: Rc<Shared>,
    /// The data set the model was opened on.
    data: String,
}

/// Weights known to be good (trained without a non-finite loss), copied to the CPU.
struct Checkpoint {
    params: Vec<Vec<f32>>,
    step: u32,
    at_ms: f64,
    /// Counts the checkpoints of this lab, so the worker can tell a new one from the last.
    serial: u32,
}

struct State {
    ex: Executor,
    /// The WebGPU context, kept while the GPU executor runs: creating it again is slow.
    gpu: Option<GpuContext>,
    /// The adapter's description, or why the CPU executor runs.
    adapter: String,
    /// Whether the executor has the engine's training data (a model opened before the data
    /// arrived has none until `attach_data`).
    has_data: bool,
    /// Steps trained before the executor's own counter last restarted (at `set_params`).
    step_base: u32,
    checkpoint: Checkpoint,
    /// Metrics collected by a checkpoint, handed out by the next `poll_metrics`.
    held: Vec<Metrics>,
    /// A non-finite loss was seen since the last checkpoint or rollback.
    diverged: bool,
    shared: Rc<Shared>,
    /// The data set the model was opened on.
    data: String,
}

#[wasm_bindgen]
impl Lab {
    /// The name of the data set the model was opened on.
    pub fn data_name(&self) -> String {
        self.data.clone()
    }

    /// "webgpu" or "cpu".
    pub fn backend(&self) -> Result<String, JsError> {
        Ok(self.lock()?.backend().to_string())
    }

    /// The WebGPU adapter's name, or the reason WebGPU is not used.
    pub fn adapter(&self) -> Result<String, JsError> {
        Ok(self.lock()?.adapter.clone())
    }

    /// The model's spec as JSON (every field filled in).
    pub fn spec_json(&self) -> Result<String, JsError> {
        Ok(self.lock()?.ex.program().spec.to_json())
    }

    /// Trainable parameters of the model.
    /// The shape of one input row, as JSON: `{"type": "image", "channels": 1, "height": 28,
    /// "width": 28}`, `{"type": "vector", "features": 9}` or `{"type": "series", …}`.
    pub fn shape_json(&self) -> Result<String, JsError> {
        let shape = self.lock()?.ex.program().shape;
        Ok(serde_json::to_string(&shape).expect("shapes serialise"))
    }

    pub fn parameter_count(&self) -> Result<usize, JsError> {
        let st = self.lock()?;
        let program = st.ex.program();
        Ok(program.spec.parameter_count(&program.shape))
    }

    /// Training steps taken (queued ones included).
    pub fn step(&self) -> Result<u32, JsError> {
        Ok(self.lock()?.step())
    }

    /// Training images (0 until the engine has its data).
    pub fn train_size(&self) -> usize {
        self.shared.split_of(&self.data).map_or(0, |s| s.train.len())
    }

    /// Held-out images (0 until the engine has its data).
    pub fn test_size(&self) -> usize {
        self.shared.split_of(&self.data).map_or(0, |s| s.test.len())
    }

    /// Whether this model can train: it has the engine's training data.
    pub fn has_data(&self) -> Result<bool, JsError> {
        Ok(self.lock()?.has_data)
    }

    /// Gives a model opened before the engine had its data the training images and labels
    /// (a no-op if it has them, an error if the engine has none yet).
    pub fn attach_data(&self) -> Promise {
        self.run(move |mut st| async move {
            st.attach_data().await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Queues (WebGPU) or runs (CPU) `steps` training steps. Resolves when they are queued
    /// (or done); the metrics arrive through `poll_metrics`. Every few seconds it waits for
    /// the GPU and checkpoints the weights. If the GPU fails, the lab switches to the CPU
    /// (see `backend()`) and resolves without training.
    pub fn train(&self, steps: u32) -> Promise {
        self.run(move |mut st| async move {
            st.train(steps).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Trains `steps` more steps timing each op; resolves to `{ops: [{op, ms}], totalMs,
    /// steps, timer}` (ms per step, most first). On WebGPU `timer` is "timestamp-query":
    /// each dispatch runs in a pass of its own, timestamped by the GPU, and the op
    /// `(between)` is the GPU's time between the kernels (clears, barriers); it fails on a
    /// device without timestamp queries. On the CPU engine it is "performance.now".
    /// The steps count as trained; their metrics arrive through `poll_metrics`.
    pub fn profile(&self, steps: u32) -> Promise {
        self.run(move |mut st| async move {
            let (rows, steps, timer) = match &mut st.ex {
                Executor::Cpu(cpu) => {
                    (cpu.train_profiled(steps, &performance_seconds), steps, "performance.now")
                }
                Executor::Gpu(gpu) => {
                    let t = gpu.train_profiled(steps).await?;
                    (t.rows(), t.steps, "timestamp-query")
                }
            };
            let per_step = |seconds: f64| seconds * 1000.0 / f64::from(steps.max(1));
            let ops: js_sys::Array = rows
                .iter()
                .map(|&(name, seconds)| {
                    let o = Object::new();
                    set(&o, "op", &JsValue::from(name));
                    set(&o, "ms", &JsValue::from(per_step(seconds)));
                    JsValue::from(o)
                })
                .collect();
            let o = Object::new();
            set(&o, "ops", &ops);
            set(&o, "totalMs", &JsValue::from(per_step(rows.iter().map(|r| r.1).sum())));
            set(&o, "steps", &JsValue::from(steps));
            set(&o, "timer", &JsValue::from(timer));
            Ok(o.into())
        })
    }

    /// Metrics of finished steps, without waiting: an array of
    /// `{first_step, steps, recon, kl, penalty}` (mean losses per image over those steps;
    /// `penalty` is the kind's own unweighted penalty, e.g. the sparse AE's sparsity).
    pub fn poll_metrics(&self) -> Result<JsValue, JsError> {
        let mut st = self.lock()?;
        let metrics = st.poll_metrics().map_err(js_error)?;
        Ok(metrics_to_js(&metrics))
    }

    /// Waits for every queued step; resolves to their metrics (as `poll_metrics`). Then
    /// checkpoints the weights if training has not diverged.
    pub fn finish(&self) -> Promise {
        self.run(move |mut st| async move {
            st.checkpoint().await?;
            let metrics = st.poll_metrics()?;
            Ok(metrics_to_js(&metrics))
        })
    }

    /// Restores the last checkpoint (after a diverged run); resolves to its step.
    pub fn rollback(&self) -> Promise {
        self.run(move |mut st| async move {
            st.rollback().await?;
            Ok(JsValue::from(st.step()))
        })
    }

    /// Encodes n rows (n × D values: images in [0, 1], or standardised): `{mu, logvar}` (n × Z each; `logvar`
    /// is null for an AE). A conditional model (cvae) needs each image's label (0–9).
    pub fn encode(&self, pixels: JsValue, labels: Option<Vec<u8>>) -> Promise {
        let d = match self.input_size() {
            Ok(d) => d,
            Err(e) => return Promise::reject(&e.into()),
        };
        let pixels = match rows_of(&pixels, "pixels", d, "encode") {
            Ok(p) => p,
            Err(e) => return rejected(e),
        };
        self.run(move |mut st| async move {
            let labels = labels.as_deref();
            let enc = st
                .infer(async |ex: &mut Executor| ex.encode_labeled(&pixels, labels).await)
                .await?;
            let out = Object::new();
            set(&out, "mu", &Float32Array::from(&enc.mu[..]));
            let logvar = match &enc.logvar {
                Some(lv) => Float32Array::from(&lv[..]).into(),
                None => JsValue::NULL,
            };
            set(&out, "logvar", &logvar);
            set(&out, "rows", &JsValue::from(enc.rows));
            set(&out, "latent", &JsValue::from(enc.latent));
            Ok(out.into())
        })
    }

    /// Decodes latent vectors (n × Z) to rows (n × D); a cvae with a label
    /// per row.
    pub fn decode(&self, z: JsValue, labels: Option<Vec<u8>>) -> Promise {
        let latent = match self.lock() {
            Ok(st) => st.ex.program().spec.latent,
            Err(e) => return Promise::reject(&e.into()),
        };
        let z = match rows_of(&z, "z", latent, "decode") {
            Ok(z) => z,
            Err(e) => return rejected(e),
        };
        self.run(move |mut st| async move {
            let labels = labels.as_deref();
            let images =
                st.infer(async |ex: &mut Executor| ex.decode_labeled(&z, labels).await).await?;
            Ok(Float32Array::from(&images[..]).into())
        })
    }

    /// Decodes the code (AE) or μ (VAE) of each image: a deterministic reconstruction; a
    /// cvae with a label per image.
    pub fn reconstruct(&self, pixels: JsValue, labels: Option<Vec<u8>>) -> Promise {
        let d = match self.input_size() {
            Ok(d) => d,
            Err(e) => return Promise::reject(&e.into()),
        };
        let pixels = match rows_of(&pixels, "pixels", d, "reconstruct") {
            Ok(p) => p,
            Err(e) => return rejected(e),
        };
        self.run(move |mut st| async move {
            let labels = labels.as_deref();
            let images = st
                .infer(async |ex: &mut Executor| ex.reconstruct_labeled(&pixels, labels).await)
                .await?;
            Ok(Float32Array::from(&images[..]).into())
        })
    }

    /// `n` images decoded from z ~ N(0, I) drawn at `seed`; a cvae with a label per sample.
    pub fn sample(&self, n: f64, seed: f64, labels: Option<Vec<u8>>) -> Promise {
        let args = whole(n, "sample: n", Budget::HERE.request_rows as f64)
            .and_then(|n| Ok((n, whole(seed, "sample: seed", u32::MAX as f64)? as u32)));
        let (n, seed) = match args {
            Ok(a) => a,
            Err(e) => return rejected(e),
        };
        self.run(move |mut st| async move {
            let labels = labels.as_deref();
            let images = st
                .infer(async |ex: &mut Executor| ex.sample_labeled(n, seed, labels).await)
                .await?;
            Ok(Float32Array::from(&images[..]).into())
        })
    }

    /// A convolutional model's first layer and its response to one image (D values):
    /// `{channels, kernel, filters (channels × k × k), bias (channels), side, maps (channels ×
    /// side × side, after the activation)}`. An error for a model without convolutions.
    pub fn first_layer(&self, pixels: JsValue) -> Promise {
        let d = match self.input_size() {
            Ok(d) => d,
            Err(e) => return Promise::reject(&e.into()),
        };
        let pixels = match rows_of(&pixels, "pixels", d, "firstLayer") {
            Ok(p) if p.len() == d => p,
            Ok(p) => {
                let msg = format!("firstLayer takes one image ({d} values), got {}", p.len());
                return rejected(Error::Input(msg));
            }
            Err(e) => return rejected(e),
        };
        self.run(move |mut st| async move {
            let layer = st
                .infer(async |ex: &mut Executor| {
                    crate::inspect::first_conv_layer(ex, &pixels).await
                })
                .await?;
            let out = Object::new();
            set(&out, "channels", &JsValue::from(layer.channels));
            set(&out, "kernel", &JsValue::from(layer.kernel));
            set(&out, "filters", &Float32Array::from(&layer.filters[..]));
            set(&out, "bias", &Float32Array::from(&layer.bias[..]));
            set(&out, "side", &JsValue::from(layer.side));
            set(&out, "maps", &Float32Array::from(&layer.maps[..]));
            Ok(out.into())
        })
    }

    /// `n` held-out test rows (n × D values; fewer if the test set is smaller): the first
    /// `n`, or for windows of a series `n` windows evenly spaced along the test series (its
    /// first windows are nearly the same).
    pub fn test_images(&self, n: f64) -> Result<Float32Array, JsError> {
        let (split, rows) = self.test_rows(n)?;
        let values: Vec<f32> = rows.into_iter().flat_map(|i| split.test.row_f32(i)).collect();
        Ok(Float32Array::from(&values[..]))
    }

    /// Labels (0–9) of the rows `test_images(n)` gives (none for unlabelled data).
    pub fn test_labels(&self, n: f64) -> Result<Uint8Array, JsError> {
        let (split, rows) = self.test_rows(n)?;
        let labels: Vec<u8> = match split.test.has_labels() {
            true => rows.into_iter().map(|i| split.test.labels[i]).collect(),
            false => vec![],
        };
        Ok(Uint8Array::from(&labels[..]))
    }

    /// Scores every test row of an anomaly set (see `Engine::set_anomaly`) with this model,
    /// beside PCA at the model's width (fitted on the training rows once per data set; left
    /// out, `pcaDims` null, when the code is as wide as a row).
    /// Resolves to `{anomalous: Uint8Array (1: an anomaly), names: ['reconstruction', 'elbo'?,
    /// 'encoder'?, 'pca'], scores: {name: Float64Array}, curves: {name: {roc, pr,
    /// rocAuc, prAuc, bestF1, bestThreshold}}, pcaDims, trainRows, trainAnomalies, series?}`.
    /// `roc` holds (false-positive rate, true-positive rate) pairs, `pr` (recall,
    /// precision) pairs, one per distinct threshold from the highest down. A series adds
    /// `series: {steps, channels, length, stride, labels: Uint8Array (per step), values,
    /// reconstruction, pcaReconstruction (Float32Array, steps × channels), points: {name:
    /// Float64Array per step}, top: {name: step}, hit: {name: bool}}`.
    pub fn anomaly_scores(&self) -> Promise {
        let (split, anomaly) = match self.anomaly() {
            Ok(x) => x,
            Err(e) => return Promise::reject(&e.into()),
        };
        self.run(move |mut st| async move {
            let test = split.test.rows_f32(0..split.test.len());
            let scores = st.infer(async |ex: &mut Executor| score(ex, &test).await).await?;
            let k = st.ex.program().spec.latent;
            let pca = anomaly.pca(k, &split.train, &test)?.map(|(_, s)| s);
            let info = &anomaly.set;
            let mut named: Vec<NamedScore> = scores
                .named()
                .into_iter()
                .map(|(n, s)| (n, s, (n == "reconstruction").then_some(&scores.errors[..])))
                .collect();
            if let Some(pca) = &pca {
                named.push(("pca", &pca.reconstruction, Some(&pca.errors)));
            }
            let out = Object::new();
            let flags: Vec<u8> = info.anomalous.iter().map(|&a| u8::from(a)).collect();
            set(&out, "anomalous", &Uint8Array::from(&flags[..]));
            let names: js_sys::Array = named.iter().map(|(n, _, _)| JsValue::from(*n)).collect();
            set(&out, "names", &names);
            let (all, curves) = (Object::new(), Object::new());
            for (name, values, _) in &named {
                set(&all, name, &Float64Array::from(*values));
                let curve = Curve::new(values, &info.anomalous)?;
                let c = Object::new();
                let flat = |points: Vec<[f64; 2]>| {
                    Float64Array::from(&points.into_iter().flatten().collect::<Vec<f64>>()[..])
                };
                set(&c, "roc", &flat(curve.roc()));
                set(&c, "pr", &flat(curve.pr()));
                set(&c, "rocAuc", &JsValue::from(curve.roc_auc()));
                set(&c, "prAuc", &JsValue::from(curve.average_precision()));
                let (threshold, f1) = curve.best_f1();
                set(&c, "bestF1", &JsValue::from(f1));
                set(&c, "bestThreshold", &JsValue::from(threshold));
                set(&curves, name, &c);
            }
            set(&out, "scores", &all);
            set(&out, "curves", &curves);
            let dims = if pca.is_some() { JsValue::from(k) } else { JsValue::NULL };
            set(&out, "pcaDims", &dims);
            set(&out, "trainRows", &JsValue::from(split.train.len()));
            set(&out, "trainAnomalies", &JsValue::from(info.train_anomalies));
            if let Some(w) = &info.series {
                let series = Object::new();
                set(&series, "steps", &JsValue::from(w.steps));
                set(&series, "channels", &JsValue::from(w.channels));
                set(&series, "length", &JsValue::from(w.length));
                set(&series, "stride", &JsValue::from(w.stride));
                set(&series, "labels", &Uint8Array::from(&w.labels[..]));
                let unwound = |rows: &[f32]| Float32Array::from(&anomaly::unwindow(w, rows)[..]);
                set(&series, "values", &unwound(&test));
                set(&series, "reconstruction", &unwound(&scores.reconstructions));
                if let Some(pca) = &pca {
                    set(&series, "pcaReconstruction", &unwound(&pca.reconstructions));
                }
                let (points, top, hit) = (Object::new(), Object::new(), Object::new());
                for (name, values, errors) in &named {
                    let p = anomaly::point_scores(w, values, *errors);
                    let (t, h) = anomaly::ucr_hit(&p, &w.labels);
                    set(&points, name, &Float64Array::from(&p[..]));
                    set(&top, name, &JsValue::from(t));
                    set(&hit, name, &JsValue::from(h));
                }
                set(&series, "points", &points);
                set(&series, "top", &top);
                set(&series, "hit", &hit);
                set(&out, "series", &series);
            }
            Ok(out.into())
        })
    }

    /// Scores rows (n × D, as `reconstruct` takes them) as `anomaly_scores` scores the test
    /// rows: `{reconstruction, elbo?, encoder?, pca (Float64Array n each), errors,
    /// reconstructions, pcaErrors (Float32Array n × D)}`; PCA is the anomaly set's (null
    /// when the code is as wide as a row). With
    /// `test` (row indices of the test split) instead of rows, those test rows, returned as
    /// `rows` too. An error for a model whose data is not an anomaly set.
    pub fn score_rows(&self, pixels: JsValue, test: Option<Vec<u32>>) -> Promise {
        let (split, anomaly) = match self.anomaly() {
            Ok(x) => x,
            Err(e) => return Promise::reject(&e.into()),
        };
        let d = split.shape().size();
        let rows = match &test {
            Some(indices) => {
                let n = split.test.len();
                if let Some(bad) = indices.iter().find(|&&i| i as usize >= n) {
                    return rejected(Error::Input(format!(
                        "scoreRows: test row {bad} does not exist (the test split has {n})"
                    )));
                }
                if let Err(e) = Budget::HERE.check_rows("scoreRows", indices.len()) {
                    return rejected(e.into());
                }
                indices.iter().flat_map(|&i| split.test.row_f32(i as usize)).collect()
            }
            None => match rows_of(&pixels, "pixels", d, "scoreRows") {
                Ok(p) => p,
                Err(e) => return rejected(e),
            },
        };
        self.run(move |mut st| async move {
            check_finite(&rows, d, "scoreRows")?;
            let scores = st.infer(async |ex: &mut Executor| score(ex, &rows).await).await?;
            let k = st.ex.program().spec.latent;
            let test_rows = split.test.rows_f32(0..split.test.len());
            let out = Object::new();
            for (name, values) in scores.named() {
                set(&out, name, &Float64Array::from(values));
            }
            set(&out, "errors", &Float32Array::from(&scores.errors[..]));
            set(&out, "reconstructions", &Float32Array::from(&scores.reconstructions[..]));
            let (mut pca_scores, mut pca_errors) = (JsValue::NULL, JsValue::NULL);
            if let Some((pca, _)) = anomaly.pca(k, &split.train, &test_rows)? {
                let back = pca.reconstruct(&rows);
                let errors: Vec<f32> =
                    back.iter().zip(&rows).map(|(&p, &t)| (p - t) * (p - t)).collect();
                let per_row: Vec<f64> = errors
                    .chunks_exact(d)
                    .map(|r| r.iter().map(|&e| f64::from(e)).sum::<f64>() / d as f64)
                    .collect();
                pca_scores = Float64Array::from(&per_row[..]).into();
                pca_errors = Float32Array::from(&errors[..]).into();
            }
            set(&out, "pca", &pca_scores);
            set(&out, "pcaErrors", &pca_errors);
            if test.is_some() {
                set(&out, "rows", &Float32Array::from(&rows[..]));
            }
            Ok(out.into())
        })
    }

    /// The model beside PCA and the raw values on every held-out row (`crate::compare`):
    /// `{width, values, rows, labelled, modelMse, pcaMse, equivalentK, curve (Float64Array:
    /// PCA's MSE at each width 1..values), examples: {indices (Uint32Array), rows, model,
    /// pca (Float32Array, n × D; pca null when the code is as wide as a row), modelMse,
    /// pcaMse (Float64Array n)}, knn: [{labels, code, pixels, pca}], labels (Uint8Array of
    /// the test rows, or null), planes: {pca, code (Float32Array rows × 2), codeProjected,
    /// pcaKnn, codeKnn}, why}`. The first `examples` test rows (as `test_images` picks them)
    /// are the examples. Without labels `knn` is empty and the planes' accuracies are null;
    /// for a conditional model (its code is given the label) `planes.code` is null too, and
    /// `why` says so. PCA is fitted once per data set, at the first call.
    pub fn compare(&self, examples: f64) -> Promise {
        let (split, picked) = match self.test_rows(examples.min(64.0)) {
            Ok(x) => x,
            Err(e) => return Promise::reject(&e.into()),
        };
        let slot = self.baseline_slot();
        self.run(move |mut st| async move {
            let baseline = baseline(slot, &split)?;
            let program = st.ex.program();
            let (width, conditional) = (program.spec.latent, program.spec.kind.is_conditional());
            let linear = program.spec.is_linear(&program.shape);
            let (train, test) = (&split.train, &split.test);
            let test_rows = &baseline.test_rows;
            let own_labels = (conditional && test.has_labels()).then(|| test.labels.clone());
            // In chunks: a test split may hold more rows than one request may carry.
            const CHUNK: usize = 4096;
            let d = split.shape().size();
            let back = st
                .infer(async |ex: &mut Executor| {
                    let mut out = Vec::with_capacity(test_rows.len());
                    for (i, rows) in test_rows.chunks(CHUNK * d).enumerate() {
                        let labels = own_labels
                            .as_deref()
                            .map(|l| &l[i * CHUNK..i * CHUNK + rows.len() / d]);
                        out.extend(ex.reconstruct_labeled(rows, labels).await?);
                    }
                    Ok(out)
                })
                .await?;
            let mut why = JsValue::NULL;
            let codes = if conditional {
                why = "a conditional model's code is given the label: it is no feature of the \
                       row alone, so it is not classified or mapped"
                    .into();
                None
            } else {
                let known = &baseline.labelled_rows;
                let mut codes = vec![];
                for rows in [test_rows, known] {
                    let mu = st
                        .infer(async |ex: &mut Executor| {
                            let mut out = vec![];
                            for chunk in rows.chunks(CHUNK * d) {
                                out.extend(ex.encode(chunk).await?.mu);
                            }
                            Ok(out)
                        })
                        .await?;
                    codes.push(mu);
                }
                let labelled = codes.pop().unwrap_or_default();
                Some((codes.pop().unwrap_or_default(), labelled))
            };
            let c = baseline.compare(
                train,
                test,
                width,
                &back,
                codes.as_ref().map(|(t, k)| Codes { test: t, labelled: k }),
            )?;
            let number = |x: Option<f64>| x.map_or(JsValue::NULL, JsValue::from);
            let out = Object::new();
            set(&out, "width", &JsValue::from(width));
            set(&out, "values", &JsValue::from(d));
            set(&out, "rows", &JsValue::from(test.len()));
            set(&out, "labelled", &JsValue::from(baseline.labelled));
            set(&out, "modelMse", &JsValue::from(c.model_mse));
            set(&out, "pcaMse", &number(c.pca_mse));
            set(&out, "equivalentK", &number(c.equivalent_k.map(|k| k as f64)));
            set(&out, "curve", &Float64Array::from(&baseline.curve[..]));
            // The examples: each row, the model's and PCA's reconstructions, each one's MSE.
            let ex = Object::new();
            let rows: Vec<f32> = picked.iter().flat_map(|&i| test.row_f32(i)).collect();
            let model: Vec<f32> =
                picked.iter().flat_map(|&i| back[i * d..(i + 1) * d].to_vec()).collect();
            let mse = |a: &[f32], b: &[f32]| -> Vec<f64> {
                a.chunks_exact(d)
                    .zip(b.chunks_exact(d))
                    .map(|(a, b)| {
                        a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>()
                            / d as f64
                    })
                    .collect()
            };
            let indices: Vec<u32> = picked.iter().map(|&i| i as u32).collect();
            set(&ex, "indices", &js_sys::Uint32Array::from(&indices[..]));
            set(&ex, "modelMse", &Float64Array::from(&mse(&model, &rows)[..]));
            set(&ex, "model", &Float32Array::from(&model[..]));
            match c.pca_mse {
                Some(_) => {
                    let pca = baseline.pca.truncated(width).reconstruct(&rows);
                    set(&ex, "pcaMse", &Float64Array::from(&mse(&pca, &rows)[..]));
                    set(&ex, "pca", &Float32Array::from(&pca[..]));
                }
                None => {
                    set(&ex, "pcaMse", &JsValue::NULL);
                    set(&ex, "pca", &JsValue::NULL);
                }
            }
            set(&ex, "rows", &Float32Array::from(&rows[..]));
            set(&out, "examples", &ex);
            let knn: js_sys::Array = c
                .knn
                .iter()
                .map(|(n, a)| {
                    let row = Object::new();
                    set(&row, "labels", &JsValue::from(*n));
                    set(&row, "code", &JsValue::from(a.code));
                    set(&row, "pixels", &JsValue::from(a.pixels));
                    set(&row, "pca", &JsValue::from(a.pca));
                    JsValue::from(row)
                })
                .collect();
            set(&out, "knn", &knn);
            let labels = match test.has_labels() {
                true => Uint8Array::from(&test.labels[..]).into(),
                false => JsValue::NULL,
            };
            set(&out, "labels", &labels);
            let planes = Object::new();
            set(&planes, "pca", &Float32Array::from(&baseline.plane[..]));
            let code =
                c.code_plane.as_deref().map_or(JsValue::NULL, |p| Float32Array::from(p).into());
            set(&planes, "code", &code);
            set(&planes, "codeProjected", &JsValue::from(c.code_projected));
            set(&planes, "pcaKnn", &number(baseline.plane_knn));
            set(&planes, "codeKnn", &number(c.code_plane_knn));
            set(&out, "planes", &planes);
            set(&out, "why", &why);
            set(&out, "linear", &JsValue::from(linear));
            Ok(out.into())
        })
    }

    /// How far a linear model (`ModelSpec::is_linear`: a plain AE with no hidden layer, no
    /// activation and the identity output) is from PCA: the principal angles, in degrees and
    /// smallest first, between the subspace its decoder maps the code onto and PCA's first
    /// as many components. Resolves to `{step, linear: true, angles (Float64Array)}`, or
    /// `{step, linear: false, why}` for any other model. Fits PCA on the data set's first call
    /// (as `compare` does; the two share it); then only reads the decoder's weights.
    pub fn angles(&self) -> Promise {
        let split = match self.split() {
            Ok(s) => s,
            Err(e) => return Promise::reject(&e.into()),
        };
        let slot = self.baseline_slot();
        self.run(move |mut st| async move {
            let out = Object::new();
            set(&out, "step", &JsValue::from(st.step()));
            let program = st.ex.program();
            let linear = program.spec.is_linear(&program.shape);
            set(&out, "linear", &JsValue::from(linear));
            if !linear {
                let why = "only a linear model (an ae with no hidden layer, activation \
                           \"identity\" and output \"identity\") has a subspace to compare \
                           with PCA's";
                set(&out, "why", &JsValue::from(why));
                return Ok(out.into());
            }
            let baseline = baseline(slot, &split)?;
            let d = split.shape().size();
            let w = st.infer(async |ex: &mut Executor| ex.param("decoder.0.weight").await).await?;
            let angles: Vec<f64> =
                decoder_angles(&w, d, &baseline.pca).iter().map(|a| a.to_degrees()).collect();
            set(&out, "angles", &Float64Array::from(&angles[..]));
            Ok(out.into())
        })
    }

    /// The `n` held-out rows nearest to a query in code space (μ) and in the rows' own values:
    /// "digits like yours", the encoder used for search. The query is `pixels` (one row of D
    /// values) or, with `test`, that test row (left out of its own results). Resolves to
    /// `{code: {indices (Uint32Array), distances (Float32Array), rows (Float32Array n × D),
    /// labels (Uint8Array | null)} | null, pixels: {…}, queryCode (Float32Array), why}`;
    /// `code` is null for a conditional model (its code is given the label), and `why` says so.
    pub fn nearest(&self, pixels: JsValue, test: Option<u32>, n: f64) -> Promise {
        let split = match self.split() {
            Ok(s) => s,
            Err(e) => return Promise::reject(&e.into()),
        };
        let d = split.shape().size();
        let n = match whole(n, "nearest: n", 64.0) {
            Ok(n) => n.max(1),
            Err(e) => return rejected(e),
        };
        let query = match test {
            Some(i) if (i as usize) < split.test.len() => split.test.row_f32(i as usize),
            Some(i) => {
                return rejected(Error::Input(format!(
                    "nearest: test row {i} does not exist (the test split has {})",
                    split.test.len()
                )))
            }
            None => match rows_of(&pixels, "pixels", d, "nearest") {
                Ok(p) if p.len() == d => p,
                Ok(p) => {
                    return rejected(Error::Input(format!(
                        "nearest: one row of {d} values, got {}",
                        p.len()
                    )))
                }
                Err(e) => return rejected(e),
            },
        };
        self.run(move |mut st| async move {
            check_finite(&query, d, "nearest")?;
            let test_rows = split.test.rows_f32(0..split.test.len());
            let skip = test.map(|i| i as usize);
            let labels = split.test.has_labels().then_some(&split.test.labels);
            let found = |rows: &[f32], width: usize, q: &[f32]| {
                let hits = knn::nearest(rows, width, q, n, skip);
                let out = Object::new();
                let indices: Vec<u32> = hits.iter().map(|&(j, _)| j as u32).collect();
                let distances: Vec<f32> = hits.iter().map(|&(_, dist)| dist).collect();
                let values: Vec<f32> = hits.iter().flat_map(|&(j, _)| split.test.row_f32(j)).collect();
                set(&out, "indices", &js_sys::Uint32Array::from(&indices[..]));
                set(&out, "distances", &Float32Array::from(&distances[..]));
                set(&out, "rows", &Float32Array::from(&values[..]));
                let l = match labels {
                    Some(l) => Uint8Array::from(&hits.iter().map(|&(j, _)| l[j]).collect::<Vec<u8>>()[..]).into(),
                    None => JsValue::NULL,
                };
                set(&out, "labels", &l);
                out
            };
            let out = Object::new();
            set(&out, "pixels", &found(&test_rows, d, &query));
            if st.ex.program().spec.kind.is_conditional() {
                set(&out, "code", &JsValue::NULL);
                set(&out, "queryCode", &JsValue::NULL);
                let why = "a conditional model's code is given the label: it is no feature of the row alone";
                set(&out, "why", &why.into());
                return Ok(out.into());
            }
            const CHUNK: usize = 4096;
            let (codes, width, q) = st
                .infer(async |ex: &mut Executor| {
                    let mut codes = vec![];
                    for chunk in test_rows.chunks(CHUNK * d) {
                        codes.extend(ex.encode(chunk).await?.mu);
                    }
                    let q = ex.encode(&query).await?;
                    Ok((codes, q.latent, q.mu))
                })
                .await?;
            set(&out, "code", &found(&codes, width, &q));
            set(&out, "queryCode", &Float32Array::from(&q[..]));
            set(&out, "why", &JsValue::NULL);
            Ok(out.into())
        })
    }

    /// The model as a `.safetensors` file (the spec in its metadata).
    pub fn save_weights(&self) -> Promise {
        self.run(move |mut st| async move {
            let params = match st.ex.params().await {
                Ok(p) => p,
                Err(e) if st.is_gpu_failure(&e) => {
                    st.fall_back(&e);
                    st.checkpoint.params.clone()
                }
                Err(e) => return Err(e),
            };
            let program = st.ex.program();
            let tensors: Vec<Tensor> = program
                .param_shapes()
                .into_iter()
                .zip(params)
                .map(|((name, shape), data)| Tensor { name, shape, data })
                .collect();
            let bytes = weights::save_weights(&st.info(), &tensors);
            Ok(Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Replaces the model with the one in a `.safetensors` file (its spec and weights), on
    /// the same backend; resolves to the new spec as JSON. On any error the current model
    /// is kept untouched.
    pub fn load_weights(&self, bytes: Vec<u8>) -> Promise {
        self.run(move |mut st| async move {
            let (info, tensors) = weights::load_weights(&bytes)?;
            let ours = st.ex.program().shape;
            if info.shape != ours {
                return Err(Error::Input(format!(
                    "this model takes {} rows, and the lab's data has {} rows: open it with \
                     that data",
                    info.shape, ours
                )));
            }
            let data_norm = st.shared.split_of(&st.data).map(|s| s.normalisation.clone());
            if data_norm.is_some_and(|n| n != info.normalisation) {
                return Err(Error::Input(
                    "this model was trained on data standardised otherwise than the lab's: its \
                     scores would not be comparable"
                        .into(),
                ));
            }
            let spec = info.spec;
            let program = Program::build(&spec, &info.shape)?;
            let values = weights::match_tensors(&program.param_shapes(), tensors)?;
            st.replace(program, values, Probe::OnRealDigits).await?;
            Ok(JsValue::from(spec.to_json()))
        })
    }

    /// The last checkpoint (weights known to be good) as a `.safetensors` file, without
    /// touching the GPU: what the page keeps to restore the model if the engine dies.
    pub fn checkpoint_weights(&self) -> Result<Uint8Array, JsError> {
        let st = self.lock()?;
        let program = st.ex.program();
        let tensors: Vec<Tensor> = program
            .param_shapes()
            .into_iter()
            .zip(st.checkpoint.params.iter().cloned())
            .map(|((name, shape), data)| Tensor { name, shape, data })
            .collect();
        Ok(Uint8Array::from(&weights::save_weights(&st.info(), &tensors)[..]))
    }

    /// The step of the last checkpoint.
    pub fn checkpoint_step(&self) -> Result<u32, JsError> {
        Ok(self.lock()?.checkpoint.step)
    }

    /// Counts checkpoints: changes whenever a new one is taken or the model is replaced.
    pub fn checkpoint_serial(&self) -> Result<u32, JsError> {
        Ok(self.lock()?.checkpoint.serial)
    }

    /// Sets the step counter of a model just restored from a checkpoint, so it goes on
    /// counting from where the old engine stopped.
    pub fn resume_at(&self, step: f64) -> Result<(), JsError> {
        let step = whole(step, "resume_at: step", u32::MAX as f64).map_err(js_error)? as u32;
        let mut st = self.lock()?;
        let own = st.ex.step();
        st.step_base = step.saturating_sub(own);
        st.checkpoint.step = step;
        Ok(())
    }

    /// Changes β, the optimizer, the noise or the sparsity settings of the running model
    /// (weights and progress kept); resolves to the spec as JSON. Any other change is
    /// refused with an error and the model is kept.
    pub fn set_spec(&self, spec_json: String) -> Promise {
        self.run(move |mut st| async move {
            let spec = ModelSpec::from_json_for(&spec_json, &st.ex.program().shape)?;
            st.ex.set_spec(spec.clone())?;
            Ok(JsValue::from(spec.to_json()))
        })
    }

    /// Rebuilds the model from a new spec (fresh weights) on the same backend; resolves to
    /// the spec as JSON. On error the current model is kept.
    pub fn reset(&self, spec_json: String) -> Promise {
        self.run(move |mut st| async move {
            let shape = st.ex.program().shape;
            let spec = ModelSpec::from_json_for(&spec_json, &shape)?;
            let program = Program::build(&spec, &shape)?;
            let values = program.initial_params();
            st.replace(program, values, Probe::No).await?;
            Ok(JsValue::from(spec.to_json()))
        })
    }

    /// Corrupts pixels (values in [0, 1], any number) exactly as a denoising autoencoder's
    /// training does: `kind` is `gaussian` (σ = `amount`), `mask` or `salt_pepper` (fraction
    /// = `amount`); the noise is the shared counter-based RNG's at (`seed`, `step`).
    pub fn corrupt(
        pixels: JsValue,
        kind: &str,
        amount: f32,
        seed: u32,
        step: u32,
    ) -> Result<Vec<f32>, JsError> {
        let kind: NoiseKind = serde_json::from_value(kind.into()).map_err(|_| {
            JsError::new(&format!(
                "noise kind `{}`: expected gaussian, mask or salt_pepper",
                crate::limits::quote(kind)
            ))
        })?;
        let noise = NoiseSpec { kind, amount };
        let spec = ModelSpec { kind: ModelKind::Dae, noise, ..ModelSpec::default() };
        spec.validate().map_err(|e| JsError::new(&e.to_string()))?;
        let pixels = rows_of(&pixels, "pixels", 1, "corrupt").map_err(js_error)?;
        check_finite(&pixels, 1, "corrupt: pixels").map_err(js_error)?;
        let mut noisy = vec![0.0; pixels.len()];
        // The page corrupts pixels: values in [0, 1], clipped as in training on images.
        crate::reference::corrupt_input(kind, amount, true, &pixels, &mut noisy, seed, step);
        Ok(noisy)
    }

    /// MNIST-style preprocessing of a drawing (`width × height` ink coverage in [0, 1]):
    /// 784 values in [0, 1].
    pub fn preprocess(ink: JsValue, width: f64, height: f64) -> Result<Vec<f32>, JsError> {
        const MAX_SIDE: f64 = 8192.0;
        let width = whole(width, "preprocess: width", MAX_SIDE).map_err(js_error)?;
        let height = whole(height, "preprocess: height", MAX_SIDE).map_err(js_error)?;
        let Some(ink) = ink.dyn_ref::<Float32Array>() else {
            return Err(JsError::new("preprocess: the ink must be a Float32Array"));
        };
        if ink.length() as usize != width * height {
            return Err(JsError::new(&format!(
                "preprocess: the ink has {} values, but width × height is {width} × {height} = {}",
                ink.length(),
                width * height
            )));
        }
        let ink = ink.to_vec();
        check_finite(&ink, width, "preprocess: ink").map_err(js_error)?;
        Ok(preprocess_drawing(&ink, width, height))
    }

    /// Test hook: panics inside the engine, as a bug would — at once (`"now"`), or inside the
    /// next awaited call with the model taken out of its cell (`"async"`: the promise never
    /// settles, as with a real panic in a call) — or aborts without a panic message, as
    /// running out of memory does (`"abort"`), so tests can check that the page contains the
    /// fault. After it the engine is dead; only a new one helps.
    pub fn simulate_panic(&self, when: &str) -> Result<Promise, JsError> {
        match when {
            "now" => panic!("simulated panic (test hook)"),
            "async" => {
                Ok(self.run(|_st| async { panic!("simulated panic in a call (test hook)") }))
            }
            "abort" => std::process::abort(),
            other => Err(JsError::new(&format!(
                "simulate_panic: `when` is \"now\", \"async\" or \"abort\", got {:?}",
                crate::limits::quote(other)
            ))),
        }
    }

    /// Test hook: destroys the WebGPU device, as a driver reset would. The next call that
    /// touches the GPU notices and the lab continues on the CPU. Does nothing on the CPU.
    pub fn simulate_device_loss(&self) -> Result<(), JsError> {
        if let Some(ctx) = &self.lock()?.gpu {
            ctx.device.destroy();
        }
        Ok(())
    }
}

impl Lab {
    /// Values in one input row of the model.
    fn input_size(&self) -> Result<usize, JsError> {
        Ok(self.lock()?.ex.program().input_size())
    }

    /// The engine's data, or an error saying it has not arrived.
    fn split(&self) -> Result<Rc<Split>, JsError> {
        self.shared
            .split_of(&self.data)
            .ok_or_else(|| JsError::new(&format!("the data set {} is not loaded yet", self.data)))
    }

    /// The data and its anomaly split, or an error for data that has none.
    fn anomaly(&self) -> Result<(Rc<Split>, Rc<AnomalyData>), JsError> {
        let split = self.split()?;
        let anomaly = self.shared.data.borrow().get(&self.data).and_then(|d| d.anomaly.clone());
        match anomaly {
            Some(a) => Ok((split, a)),
            None => Err(JsError::new(
                "this model's data is not split into normal and anomalous rows: choose the \
                 normal rows first",
            )),
        }
    }

    /// The test split and the indices of the `n` rows [`Lab::test_images`] gives.
    /// Where the data set's [`Baseline`] is kept (made by the first `compare` or `angles`).
    fn baseline_slot(&self) -> Option<BaselineSlot> {
        self.shared.data.borrow().get(&self.data).map(|d| d.baseline.clone())
    }

    fn test_rows(&self, n: f64) -> Result<(Rc<Split>, Vec<usize>), JsError> {
        let split = self.split()?;
        let len = split.test.len();
        let n = whole(n, "testImages: n", f64::MAX).map_err(js_error)?.min(len);
        let rows = match split.shape() {
            InputShape::Series { .. } => (0..n).map(|i| i * len / n.max(1)).collect(),
            _ => (0..n).collect(),
        };
        Ok((split, rows))
    }

    /// The state for a synchronous call.
    fn lock(&self) -> Result<Busy, JsError> {
        Busy::take(&self.state).ok_or_else(|| JsError::new(BUSY))
    }

    /// Runs an asynchronous call with the state taken out of its cell.
    fn run<F, Fut>(&self, f: F) -> Promise
    where
        F: FnOnce(Busy) -> Fut + 'static,
        Fut: Future<Output = Result<JsValue>> + 'static,
    {
        let cell = self.state.clone();
        future_to_promise(async move {
            let busy = Busy::take(&cell).ok_or_else(|| JsValue::from(JsError::new(BUSY)))?;
            f(busy).await.map_err(|e| JsValue::from(js_error(e)))
        })
    }
}

/// The GPU executor on the page's device, with the engine's data if it has arrived; on any
/// failure, the CPU executor and why.
async fn open_gpu(
    shared: &Shared,
    data: &str,
    ctx: GpuContext,
    program: Program,
) -> (Executor, Option<GpuContext>, String) {
    let built = async {
        let data = shared.data_for(data, Some(&ctx))?;
        let ex = Executor::gpu_sharing(&ctx, program.clone(), data.and_then(|d| d.on_gpu)).await?;
        ctx.check("building the model")?;
        Ok::<_, Error>(ex)
    };
    let why = match built.await {
        Ok(ex) => {
            let name = describe_adapter(&ctx.adapter_info);
            return (ex, Some(ctx), name);
        }
        Err(e) => format!("WebGPU could not build the model: {e}"),
    };
    match cpu_executor(shared, data, program) {
        Ok(ex) => (ex, None, why),
        Err(e) => unreachable!("a CPU executor over shared data cannot fail: {e}"),
    }
}

/// The CPU executor, training from data set `name` if it has arrived.
fn cpu_executor(shared: &Shared, name: &str, program: Program) -> Result<Executor> {
    let Some(data) = shared.data_for(name, None)? else {
        return Ok(Executor::cpu_sharing(program, Values::default()));
    };
    if data.split.shape() != program.shape {
        return Ok(Executor::cpu_sharing(program, Values::default()));
    }
    let mut ex = Executor::cpu_sharing(program, data.rows.clone());
    if data.split.train.has_labels() {
        ex.set_train_labels(&data.split.train.labels)?;
    }
    Ok(ex)
}

/// The adapter's name for the badge. Browsers may keep the name to themselves (an empty
/// `description`), so the page adds vendor and architecture from `GPUAdapterInfo`.
fn describe_adapter(info: &wgpu::AdapterInfo) -> String {
    let name = adapter_name(info);
    match info.device_type {
        wgpu::DeviceType::Cpu => format!("{name} (software)"),
        _ => name.to_string(),
    }
}

/// The adapter's name, or "WebGPU adapter" where the browser keeps it to itself (the worker
/// puts vendor and architecture in its place).
fn adapter_name(info: &wgpu::AdapterInfo) -> &str {
    if info.name.trim().is_empty() {
        "WebGPU adapter"
    } else {
        info.name.trim()
    }
}

/// A WebGPU context, or a sentence saying why there is none.
async fn webgpu_context() -> Result<GpuContext, String> {
    // wgpu's WebGPU backend expects `navigator.gpu`; ask first so a browser without it gets
    // a plain answer.
    let global = js_sys::global();
    let gpu = Reflect::get(&global, &"navigator".into())
        .and_then(|nav| Reflect::get(&nav, &"gpu".into()))
        .unwrap_or(JsValue::UNDEFINED);
    if gpu.is_undefined() || gpu.is_null() {
        return Err("WebGPU is not available in this browser".into());
    }
    GpuContext::new().await.map_err(|e| match e {
        Error::NoAdapter(_) => {
            "this browser offers no WebGPU adapter (WebGPU may be disabled or blocklisted)"
                .to_string()
        }
        Error::RequestDevice(m) => format!("the WebGPU device could not be opened: {m}"),
        other => other.to_string(),
    })
}

impl State {
    /// What a weights file says besides the tensors: the spec, the shape and the data's
    /// standardisation.
    fn info(&self) -> ModelInfo {
        let program = self.ex.program();
        let normalisation = self.shared.split_of(&self.data).and_then(|s| s.normalisation.clone());
        ModelInfo { spec: program.spec.clone(), shape: program.shape, normalisation }
    }

    fn new(
        ex: Executor,
        gpu: Option<GpuContext>,
        adapter: String,
        shared: Rc<Shared>,
        data: String,
        has_data: bool,
    ) -> State {
        let params = ex.program().initial_params();
        State {
            ex,
            gpu,
            adapter,
            has_data,
            step_base: 0,
            checkpoint: Checkpoint { params, step: 0, at_ms: now(), serial: 0 },
            held: vec![],
            diverged: false,
            shared,
            data,
        }
    }

    /// The engine's data for this model's executor (on its GPU, if it runs on one).
    async fn attach_data(&mut self) -> Result<()> {
        if self.has_data {
            return Ok(());
        }
        let Some(data) = self.shared.data_for(&self.data, self.gpu.as_ref())? else {
            return Err(Error::Input(format!("the engine has no data set {} yet", self.data)));
        };
        if data.split.shape() != self.ex.program().shape {
            return Err(Error::Input(format!(
                "the model takes {} rows, the lab's data has {} rows",
                self.ex.program().shape,
                data.split.shape()
            )));
        }
        self.ex.share_train_rows(data.rows.clone(), data.on_gpu.clone()).await?;
        if data.split.train.has_labels() {
            self.ex.set_train_labels(&data.split.train.labels)?;
        }
        self.has_data = true;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        match self.ex {
            Executor::Gpu(_) => "webgpu",
            Executor::Cpu(_) => "cpu",
        }
    }

    fn step(&self) -> u32 {
        self.step_base + self.ex.step()
    }

    fn is_gpu_failure(&self, e: &Error) -> bool {
        matches!(self.ex, Executor::Gpu(_)) && matches!(e, Error::DeviceLost(_) | Error::Gpu { .. })
    }

    /// After a GPU failure: continue on the CPU from the last checkpoint.
    fn fall_back(&mut self, e: &Error) {
        let program = self.ex.program().clone();
        let mut cpu = cpu_executor(&self.shared, &self.data, program)
            .expect("the CPU executor over shared data");
        self.has_data = cpu.train_rows() > 0;
        // The checkpoint was taken from this very program, so its shapes always fit.
        if cpu.set_params(&self.checkpoint.params).is_err() {
            web_sys::console::error_1(&"checkpoint does not fit the model; weights reset".into());
        }
        let cause = match e {
            Error::DeviceLost(reason) => format!("the WebGPU device was lost ({reason})"),
            other => format!("WebGPU failed ({other})"),
        };
        self.adapter = format!("{cause}; continuing on the CPU from step {}", self.checkpoint.step);
        self.ex = cpu;
        self.gpu = None;
        self.step_base = self.checkpoint.step;
        self.held.clear();
        self.diverged = false;
    }

    /// Keeps metrics for the next poll and notes a non-finite loss.
    fn hold(&mut self, metrics: Vec<Metrics>) {
        let base = self.step_base;
        for mut m in metrics {
            self.diverged |= !m.is_finite();
            m.first_step += base;
            self.held.push(m);
        }
    }

    fn poll_metrics(&mut self) -> Result<Vec<Metrics>> {
        match self.ex.poll_metrics() {
            Ok(m) => self.hold(m),
            Err(e) if self.is_gpu_failure(&e) => self.fall_back(&e),
            Err(e) => return Err(e),
        }
        Ok(std::mem::take(&mut self.held))
    }

    async fn train(&mut self, steps: u32) -> Result<()> {
        match self.ex.train(steps).await {
            Ok(()) => {}
            Err(e) if self.is_gpu_failure(&e) => {
                self.fall_back(&e);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        if now() - self.checkpoint.at_ms > CHECKPOINT_MS {
            self.checkpoint().await?;
        }
        Ok(())
    }

    /// Waits for the queued steps and, unless the loss went non-finite, copies the weights.
    async fn checkpoint(&mut self) -> Result<()> {
        let result = async {
            let done = self.ex.finish().await?;
            self.hold(done);
            if self.diverged {
                return Ok(None);
            }
            self.ex.params().await.map(Some)
        }
        .await;
        match result {
            Ok(Some(params)) => {
                let serial = self.checkpoint.serial + 1;
                self.checkpoint = Checkpoint { params, step: self.step(), at_ms: now(), serial };
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) if self.is_gpu_failure(&e) => {
                self.fall_back(&e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn rollback(&mut self) -> Result<()> {
        // Metrics of the abandoned steps are dropped; a failure here only means they are lost.
        let _ = self.ex.finish().await;
        match self.ex.set_params(&self.checkpoint.params) {
            Ok(()) => {}
            Err(e) if self.is_gpu_failure(&e) => self.fall_back(&e),
            Err(e) => return Err(e),
        }
        self.step_base = self.checkpoint.step;
        self.held.clear();
        self.diverged = false;
        Ok(())
    }

    /// Runs an inference call; after a GPU failure, runs it again on the CPU.
    async fn infer<T>(&mut self, mut op: impl AsyncFnMut(&mut Executor) -> Result<T>) -> Result<T> {
        match op(&mut self.ex).await {
            Err(e) if self.is_gpu_failure(&e) => {
                self.fall_back(&e);
                op(&mut self.ex).await
            }
            result => result,
        }
    }

    /// Swaps in a new model with `values` as its weights, on the same backend. The current
    /// model is only replaced once the new one is fully built (and, for weights from
    /// outside, has run on real digits without overflowing).
    async fn replace(
        &mut self,
        program: Program,
        values: Vec<Vec<f32>>,
        probe: Probe,
    ) -> Result<()> {
        let mut ex = match &self.gpu {
            Some(ctx) => {
                let data = self.shared.data_for(&self.data, Some(ctx))?.and_then(|d| d.on_gpu);
                Executor::gpu_sharing(ctx, program, data).await?
            }
            None => cpu_executor(&self.shared, &self.data, program)?,
        };
        ex.set_params(&values)?;
        if probe == Probe::OnRealDigits {
            let split = self.shared.split_of(&self.data);
            let (images, labels) = match &split {
                Some(split) => {
                    let n = split.test.len().min(crate::train::PROBE_IMAGES);
                    let labels =
                        if split.test.has_labels() { &split.test.labels[..n] } else { &[] };
                    (split.test.rows_f32(0..n), labels)
                }
                // Without digits the probe decodes samples of N(0, I) and encodes them.
                None => (vec![], &[][..]),
            };
            crate::train::check_in_use(&mut ex, &values, &images, labels).await?;
        }
        if let Some(ctx) = &self.gpu {
            ctx.check("loading the weights")?;
        }
        self.has_data = ex.train_rows() > 0;
        self.ex = ex;
        self.step_base = 0;
        let serial = self.checkpoint.serial + 1;
        self.checkpoint = Checkpoint { params: values, step: 0, at_ms: now(), serial };
        self.held.clear();
        self.diverged = false;
        Ok(())
    }
}

/// Whether [`State::replace`] runs the new weights on real digits first: weights from a
/// file must not overflow in use; a fresh model's cannot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    OnRealDigits,
    No,
}

/// The state, taken out of its cell while a call uses it; put back on drop (also when a
/// call fails), so the next call finds it.
struct Busy {
    cell: Rc<RefCell<Option<State>>>,
    state: Option<State>,
}

impl Busy {
    fn take(cell: &Rc<RefCell<Option<State>>>) -> Option<Busy> {
        let state = cell.borrow_mut().take()?;
        Some(Busy { cell: cell.clone(), state: Some(state) })
    }
}

impl Deref for Busy {
    type Target = State;
    fn deref(&self) -> &State {
        self.state.as_ref().expect("a Busy holds its state until dropped")
    }
}

impl DerefMut for Busy {
    fn deref_mut(&mut self) -> &mut State {
        self.state.as_mut().expect("a Busy holds its state until dropped")
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self.cell.borrow_mut() = self.state.take();
    }
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A promise rejected with the engine's message for `e`.
fn rejected(e: Error) -> Promise {
    Promise::reject(&js_error(e).into())
}

/// The values of a request's rows, checked before they are copied into the engine: a
/// `Float32Array` of whole rows of `width`, no more rows than the budget allows. (Finite
/// values are the executor's check.)
fn rows_of(value: &JsValue, what: &str, width: usize, request: &str) -> Result<Vec<f32>> {
    let Some(array) = value.dyn_ref::<Float32Array>() else {
        let got = value.js_typeof().as_string().unwrap_or_default();
        return Err(Error::Input(format!("{request}: {what} must be a Float32Array, got {got}")));
    };
    let len = array.length() as usize;
    if !len.is_multiple_of(width) {
        return Err(Error::Input(format!(
            "{request}: {what} has {len} values, not a multiple of {width} (one row is {width} \
             values)"
        )));
    }
    Budget::HERE.check_rows(request, len / width)?;
    Ok(array.to_vec())
}

/// A count or seed from JavaScript: a whole number from 0 to `max`, or an error naming it.
fn whole(x: f64, what: &str, max: f64) -> Result<usize> {
    if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= max {
        return Ok(x as usize);
    }
    let range = if max == f64::MAX { "≥ 0".to_string() } else { format!("from 0 to {max}") };
    Err(Error::Input(format!("{what} must be a whole number {range}, got {x}")))
}

/// `[{first_step, steps, recon, kl, penalty}, …]`, non-finite losses as NaN or ±Infinity.
fn metrics_to_js(metrics: &[Metrics]) -> JsValue {
    metrics
        .iter()
        .map(|m| {
            let o = Object::new();
            set(&o, "first_step", &JsValue::from(m.first_step));
            set(&o, "steps", &JsValue::from(m.steps));
            set(&o, "recon", &JsValue::from(m.recon));
            set(&o, "kl", &JsValue::from(m.kl));
            set(&o, "penalty", &JsValue::from(m.penalty));
            JsValue::from(o)
        })
        .collect::<js_sys::Array>()
        .into()
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a plain new object cannot fail.
    let _ = Reflect::set(target, &key.into(), value);
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Seconds from the global scope's `performance.now()` (a worker's or a window's): the
/// clock of the CPU engine's profile. Falls back to `Date.now()`.
fn performance_seconds() -> f64 {
    let global = js_sys::global();
    let ms = Reflect::get(&global, &"performance".into())
        .ok()
        .and_then(|p| {
            let f = Reflect::get(&p, &"now".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
            f.call0(&p).ok()?.as_f64()
        })
        .unwrap_or_else(now);
    ms / 1000.0
}
