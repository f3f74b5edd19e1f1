//! What the commands share: the error type, data loading, opening an executor, output.

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};

use latent_lab::backend::GpuContext;
use latent_lab::data::{load_file, prepare, LabFile, Normalisation, Split, Values, Windows};
use latent_lab::error::SpecError;
use latent_lab::model::Program;
use latent_lab::weights::{load_weights, match_tensors, ModelInfo};

use crate::args::{BackendArg, DataArgs};
use latent_lab::{Backend, Error, Executor};

/// A failure as the one line printed after `error: `.
pub struct Failure(pub String);

impl<E: Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// `Err(Failure(format!(…)))`.
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::shared::Failure(format!($($arg)*)))
    };
}
pub(crate) use fail;

/// Collapses whitespace (newlines included) so a message is one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The bundled data sets by name, as `make data` writes them (relative to the current
/// directory).
pub const BUNDLED: [(&str, &str); 5] = [
    ("mnist", "www/data/mnist-10k.bin"),
    ("fashion", "www/data/fashion-10k.bin"),
    ("shuttle", "www/data/shuttle.bin"),
    ("bleeding", "www/data/bleeding.bin"),
    ("ecg", "www/data/ecg.bin"),
];

/// Loads `--data` (the bundled digits when not given) as rows: a table standardised, a
/// series cut into windows, each with `given` (a saved model's normalisation) or with the
/// training split's own. Returns the split and what it was read from.
pub fn load(args: &DataArgs, given: Option<&Normalisation>) -> Result<(Split, PathBuf)> {
    let (file, path) = load_raw("--data", args.data.as_deref(), args.label.as_deref())?;
    let split = prepare(file, windows(args), given)
        .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    Ok((split, path))
}

/// The windows a series is cut into: `--window` and `--stride`, or the defaults.
pub fn windows(args: &DataArgs) -> Windows {
    let defaults = Windows::default();
    Windows {
        length: args.window.unwrap_or(defaults.length),
        stride: args.stride.unwrap_or(defaults.stride),
    }
}

/// Reads `data` (a bundled name, a path, or the bundled digits when `None`) as it is in the
/// file: rows not yet standardised, a series not yet cut. Returns it and its path;
/// `flag` names the option in messages.
pub fn load_raw(
    flag: &str,
    data: Option<&Path>,
    label: Option<&str>,
) -> Result<(LabFile, PathBuf)> {
    let name = data.map_or("mnist".into(), |p| p.to_string_lossy());
    let bundled = BUNDLED.iter().find(|(n, _)| *n == name);
    let path = match (bundled, data) {
        (Some((n, file)), _) => {
            let p = PathBuf::from(file);
            if !p.is_file() {
                fail!(
                    "no data: {file} (the bundled set `{n}`) not found (from {}); run `make data` \
                     to build it, or pass --data DIR_OR_FILE (a directory of MNIST IDX files, a \
                     lab-data file or a CSV table)",
                    std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
                );
            }
            p
        }
        (None, p) => {
            // Not a bundled name, so the option was given.
            let p = p.unwrap_or(Path::new(""));
            if !p.exists() {
                let names: Vec<&str> = BUNDLED.iter().map(|(n, _)| *n).collect();
                fail!(
                    "{flag} {}: no such file or directory, and not a bundled set ({})",
                    p.display(),
                    names.join(", ")
                );
            }
            p.to_path_buf()
        }
    };
    let file = load_file(&path, label)?;
    Ok((file, path))
}

/// The GPU, with advice when there is none.
pub async fn gpu_context() -> Result<GpuContext> {
    match GpuContext::new().await {
        Ok(ctx) => Ok(ctx),
        Err(Error::NoAdapter(reason)) => fail!(
            "no GPU adapter found ({reason}): pass --backend cpu to run on the CPU, or install \
             a Vulkan driver (e.g. mesa-vulkan-drivers for lavapipe)"
        ),
        Err(Error::RequestDevice(reason)) => {
            fail!("could not open the GPU device ({reason}): pass --backend cpu to run on the CPU")
        }
        Err(e) => Err(e.into()),
    }
}

/// An executor of `program` where `choice` says, with where it runs and why. `auto` takes
/// the GPU when its adapter is real hardware, and the CPU executor when there is no adapter
/// or only a software one (lavapipe, SwiftShader), which trains slower than the CPU here.
pub async fn executor(
    choice: BackendArg,
    program: Program,
    train_rows: &Values,
) -> Result<(Executor, Device)> {
    let cpu = |why: String| {
        let ex = Executor::cpu_sharing(program.clone(), train_rows.clone());
        Ok((ex, Device { name: "cpu".into(), describe: "cpu".into(), why }))
    };
    let ctx = match choice {
        BackendArg::Cpu => return cpu("--backend cpu".into()),
        BackendArg::Gpu => gpu_context().await?,
        BackendArg::Auto => match GpuContext::new().await {
            Ok(ctx) if ctx.is_software() => {
                return cpu(format!(
                    "the only GPU adapter, {}, is a software renderer, slower than the CPU \
                     executor; --backend gpu runs it anyway",
                    ctx.describe()
                ))
            }
            Ok(ctx) => ctx,
            Err(e) => {
                return cpu(format!(
                    "no GPU ({}); --backend gpu says more",
                    one_line(&e.to_string())
                ))
            }
        },
    };
    let ex = if train_rows.is_empty() {
        Executor::gpu_sharing(&ctx, program, None).await?
    } else {
        Executor::gpu_rows(&ctx, program, train_rows).await?
    };
    let why = match choice {
        BackendArg::Gpu => "--backend gpu".into(),
        _ => "a hardware GPU adapter; --backend cpu runs the CPU executor".into(),
    };
    Ok((ex, Device { name: ctx.adapter_info.name.clone(), describe: ctx.describe(), why }))
}

/// Where an executor runs.
pub struct Device {
    /// The adapter's name, or "cpu".
    pub name: String,
    /// "name (API)", or "cpu".
    pub describe: String,
    /// Why this backend: the flag, or what `auto` found.
    pub why: String,
}

impl Device {
    /// "cpu (why)" or "adapter (API) (why)": the backend and the reason, for a first line.
    pub fn line(&self) -> String {
        format!("{} ({})", self.describe, self.why)
    }
}

/// Reads and checks a weights file; returns what it says of its model and the parameters in
/// model order.
pub fn read_weights(path: &Path) -> Result<(ModelInfo, Program, Vec<Vec<f32>>)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => fail!("cannot read weights file {}: {e}", path.display()),
    };
    let (info, tensors) = match load_weights(&bytes) {
        Ok(x) => x,
        Err(e) => fail!("{}: {e}", path.display()),
    };
    let program = Program::build(&info.spec, &info.shape)?;
    let values = match match_tensors(&program.param_shapes(), tensors) {
        Ok(v) => v,
        Err(e) => fail!("{}: {e}", path.display()),
    };
    Ok((info, program, values))
}

/// A spec error, naming the flag that set the field when there is one.
pub fn spec_error(e: SpecError, flag_of: impl Fn(&str) -> Option<&'static str>) -> Failure {
    let field = match &e {
        SpecError::Parse { field, .. } | SpecError::Invalid { field, .. } => field.clone(),
        SpecError::TooLarge(_) => String::new(),
        SpecError::Shape(_) => "data".into(),
    };
    let base = field.split('[').next().unwrap_or_default();
    match flag_of(base) {
        Some(flag) => Failure(format!("{e} (set by {flag})")),
        None => Failure(e.to_string()),
    }
}

/// Writes one line to stdout (a closed pipe ends the program quietly).
pub fn emit(line: impl Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => fail!("cannot write to stdout: {e}"),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a failure
/// never leaves a half-written file under the final name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    if let Err(e) = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        fail!("cannot write {}: {e}", path.display());
    }
    Ok(())
}

/// Fails early (before any work) if `path` cannot be an output file.
pub fn check_output(path: &Path) -> Result<()> {
    if path.is_dir() {
        fail!("--out {} is a directory; give a file name", path.display());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        fail!("cannot write {}: directory {} does not exist", path.display(), parent.display());
    }
    Ok(())
}

/// `x` rounded to `digits` decimals, for JSON that reads well.
pub fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// "1.23 MB"-style sizes.
pub fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} kB", n as f64 / (1 << 10) as f64),
        n => format!("{n} B"),
    }
}

/// An f32 as the f64 with the same shortest decimal form (0.1f32 → 0.1, not 0.10000000149).
pub fn short(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::NAN)
}

/// A JSON object that keeps its keys in the order given (serde_json's map sorts them).
pub struct Object(pub Vec<(&'static str, serde_json::Value)>);

impl Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("{")?;
        for (i, (key, value)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{}:{value}", serde_json::Value::from(*key))?;
        }
        f.write_str("}")
    }
}

/// `Object(vec![("key", json!(value)), …])`.
macro_rules! object {
    ($($key:literal: $value:expr),* $(,)?) => {
        $crate::shared::Object(vec![$(($key, serde_json::json!($value))),*])
    };
}
pub(crate) use object;

/// An [`Evaluation`](latent_lab::train::Evaluation) as one JSON line, fields in order.
#[derive(serde::Serialize)]
pub struct EvalLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'static str>,
    #[serde(flatten)]
    pub eval: &'a latent_lab::train::Evaluation,
    pub backend: Backend,
}
