//! The `latent-lab` binary end to end: train, eval, sample and bench on a small synthetic
//! lab-data file, and the one-line errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use latent_lab::data::{encode_lab_data, Dataset, Split, MNIST_SHAPE};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_latent-lab");

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("latent-lab-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
    fn arg(&self, file: &str) -> String {
        self.path(file).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small lab-data file of synthetic digits: 192 train, 48 test.
fn write_data(dir: &Scratch) -> String {
    let set = |n: usize, seed: u32| {
        Dataset::images(
            MNIST_SHAPE,
            common::synthetic_digits(n, seed),
            (0..n).map(|i| (i % 10) as u8).collect(),
        )
    };
    let split = Split { train: set(192, 11), test: set(48, 12), normalisation: None };
    std::fs::write(dir.path("data.bin"), encode_lab_data(&split)).unwrap();
    dir.arg("data.bin")
}

fn run_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        let xdg = std::env::temp_dir().join("latent-lab-cli-xdg");
        let _ = std::fs::create_dir_all(&xdg);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&xdg, std::fs::Permissions::from_mode(0o700));
        }
        cmd.env("XDG_RUNTIME_DIR", xdg);
    }
    cmd.output().expect("the latent-lab binary runs")
}

/// Runs the binary, asserts success and returns stdout.
#[track_caller]
fn ok(args: &[&str]) -> String {
    let out = run_in(None, args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{args:?} failed ({}):\n{stderr}\n{stdout}", out.status);
    stdout
}

/// Runs the binary, asserts it fails with status 1 and exactly one line `error: …` on
/// stderr, and returns that line.
#[track_caller]
fn error_line(dir: Option<&Path>, args: &[&str]) -> String {
    let out = run_in(dir, args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: stderr {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got:\n{stderr}");
    assert!(lines[0].starts_with("error: "), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    lines[0].to_string()
}

/// Runs the binary and asserts clap's usage error: status 2, a first line `error: …`.
#[track_caller]
fn usage_error(args: &[&str]) -> String {
    let out = run_in(None, args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {stderr}");
    let first = stderr.lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("error: "), "{args:?}: {stderr}");
    assert!(stderr.contains("Usage:") || stderr.contains("--help"), "{args:?}: {stderr}");
    first
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[track_caller]
fn has_keys(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(k).is_some(), "missing `{k}` in {v}");
    }
}

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

const TINY: [&str; 8] = ["--hidden", "32", "--latent", "3", "--batch", "16", "--seed", "5"];

fn train_args<'a>(data: &'a str, out: &'a str, backend: &'a str, model: &'a str) -> Vec<&'a str> {
    let mut args = vec!["train", "--model", model, "--backend", backend, "--data", data];
    args.extend(TINY);
    args.extend(["--steps", "6", "--json", "--out", out]);
    args
}

#[test]
fn train_eval_and_sample_on_the_cpu() {
    let dir = Scratch::new("cpu");
    let data = write_data(&dir);
    let weights = dir.arg("vae.safetensors");

    let lines = json_lines(&ok(&train_args(&data, &weights, "cpu", "vae")));
    let steps: Vec<&Value> = lines.iter().filter(|l| l.get("event").is_none()).collect();
    assert!(!steps.is_empty(), "no metrics lines");
    for s in &steps {
        has_keys(s, &["step", "epoch", "recon", "kl", "loss", "samples_per_s"]);
        assert!(number(s, "recon") > 0.0);
        let expected = number(s, "recon") + number(s, "kl");
        assert!((number(s, "loss") - expected).abs() <= 1e-3 * expected, "{s}");
    }
    assert_eq!(number(steps.last().unwrap(), "step"), 6.0);
    // 6 steps × 16 images over 192 training images: half an epoch.
    assert!((number(steps.last().unwrap(), "epoch") - 0.5).abs() < 1e-9);
    let eval = lines.iter().find(|l| l["event"] == "eval").expect("an eval line");
    has_keys(eval, &["model", "split", "samples", "mse_per_pixel", "bce_per_image", "kl", "loss"]);
    assert_eq!(eval["samples"], 48);
    let saved = lines.iter().find(|l| l["event"] == "saved").expect("a saved line");
    assert_eq!(saved["path"], weights.as_str());
    assert!(dir.path("vae.safetensors").is_file());

    let out = ok(&["eval", "--weights", &weights, "--data", &data, "--backend", "cpu"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    let e = &lines[0];
    has_keys(e, &["model", "split", "samples", "mse_per_pixel", "bce_per_image", "kl", "loss"]);
    assert_eq!(
        (&e["model"], &e["split"], &e["backend"]),
        (&"vae".into(), &"test".into(), &"cpu".into())
    );
    assert_eq!(e["samples"], 48);
    // The same weights, data and seed as training's own evaluation.
    assert_eq!(number(e, "bce_per_image"), number(eval, "bce_per_image"));
    let out = ok(&[
        "eval",
        "--weights",
        &weights,
        "--data",
        &data,
        "--backend",
        "cpu",
        "--split",
        "train",
    ]);
    assert_eq!(json_lines(&out)[0]["samples"], 192);

    // 10 samples: 4 columns × 3 rows of 28 px with 2 px gaps, scaled 2×.
    let png_path = dir.arg("grid.png");
    let args = ["sample", "--weights", &weights, "--n", "10", "--scale", "2", "--backend", "cpu"];
    ok(&[&args[..], &["--out", &png_path]].concat());
    let decoder =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), ((4 * 28 + 3 * 2) * 2, (3 * 28 + 2 * 2) * 2));
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    assert!(pixels.iter().any(|&p| p > 0), "an all-black grid");
}

#[test]
fn an_autoencoder_from_a_spec_file_has_no_kl() {
    let dir = Scratch::new("spec");
    let data = write_data(&dir);
    let spec = dir.path("ae.json");
    std::fs::write(&spec, r#"{"kind": "ae", "hidden": [24, 12], "latent": 2, "batch_size": 8}"#)
        .unwrap();
    let weights = dir.arg("ae.safetensors");
    let spec_arg = spec.display().to_string();
    let args =
        ["train", "--spec", &spec_arg, "--backend", "cpu", "--data", &data, "--epochs", "0.25"];
    let lines = json_lines(&ok(&[&args[..], &["--json", "--out", &weights]].concat()));
    let start = lines.iter().find(|l| l["event"] == "start").expect("a start line");
    assert_eq!(start["spec"]["hidden"], serde_json::json!([24, 12]));
    // A quarter of 192 images in batches of 8: 6 steps.
    assert_eq!(start["steps"], 6);
    let out = ok(&["eval", "--weights", &weights, "--data", &data, "--backend", "cpu"]);
    let e = &json_lines(&out)[0];
    assert_eq!(e["model"], "ae");
    assert!(e.get("kl").is_none() && e.get("loss").is_none(), "{e}");

    // Flags override the spec file; its errors name the field.
    std::fs::write(&spec, r#"{"kind": "ae", "latent": 0}"#).unwrap();
    let line = error_line(None, &["train", "--spec", &spec_arg, "--out", &weights]);
    assert!(line.contains("latent") && line.contains("ae.json"), "{line}");
    let line = error_line(None, &["train", "--spec", "/no/such/spec.json", "--out", &weights]);
    assert!(line.contains("spec.json"), "{line}");
}

#[test]
fn denoising_and_sparse_models_report_their_figures() {
    let dir = Scratch::new("kinds");
    let data = write_data(&dir);
    let dae = dir.arg("dae.safetensors");
    let mut args = train_args(&data, &dae, "cpu", "dae");
    args.extend(["--noise", "mask", "--noise-amount", "0.4"]);
    let lines = json_lines(&ok(&args));
    let start = lines.iter().find(|l| l["event"] == "start").expect("a start line");
    assert_eq!(start["spec"]["noise"], serde_json::json!({"kind": "mask", "amount": 0.4}));
    // A dae is evaluated with its own training noise; any model with the noise given.
    let e = &json_lines(&ok(&["eval", "--weights", &dae, "--data", &data, "--backend", "cpu"]))[0];
    assert_eq!((&e["model"], &e["noise"]), (&"dae".into(), &"mask 0.4".into()));
    let (clean, noisy) = (number(e, "mse_per_pixel"), number(e, "denoise_mse"));
    assert!(noisy > clean && noisy < 1.0, "{e}");
    let args = ["eval", "--weights", &dae, "--data", &data, "--backend", "cpu"];
    let e = &json_lines(&ok(&[&args[..], &["--noise", "gaussian"]].concat()))[0];
    assert_eq!(e["noise"], "gaussian 0.5");
    let gaussian = number(e, "denoise_mse");
    assert!(gaussian > 0.0 && gaussian != noisy && number(e, "mse_per_pixel") == clean, "{e}");
    assert!(e.get("mean_code_activation").is_none(), "{e}");
    let line = error_line(None, &[&args[..], &["--noise", "mask", "--noise-amount", "2"]].concat());
    assert!(line.contains("--noise-amount 2"), "{line}");

    let sparse = dir.arg("sparse.safetensors");
    let mut args = train_args(&data, &sparse, "cpu", "sparse");
    args.extend(["--sparsity", "l1", "--sparsity-target", "0.1"]);
    ok(&args);
    let e =
        &json_lines(&ok(&["eval", "--weights", &sparse, "--data", &data, "--backend", "cpu"]))[0];
    assert_eq!(e["model"], "sparse");
    let (mean, active) = (number(e, "mean_code_activation"), number(e, "active_fraction"));
    // A sigmoid code: every unit in (0, 1).
    assert!(mean > 0.0 && mean < 1.0 && (0.0..=1.0).contains(&active), "{e}");
    assert!(e.get("denoise_mse").is_none(), "{e}");

    // The contraction is reported per step; a heavy weight shrinks it.
    let contraction = |weight: &str| {
        let path = dir.arg(&format!("contractive-{weight}.safetensors"));
        let mut args = vec!["train", "--model", "contractive", "--backend", "cpu", "--data", &data];
        args.extend(TINY);
        args.extend(["--steps", "30", "--json", "--out", &path, "--contraction", weight]);
        let lines = json_lines(&ok(&args));
        let start = lines.iter().find(|l| l["event"] == "start").expect("a start line");
        assert_eq!(start["spec"]["contractive"]["weight"], weight.parse::<f64>().unwrap());
        let last = lines.iter().rfind(|l| l.get("event").is_none()).expect("metrics");
        let expected =
            number(last, "recon") + weight.parse::<f64>().unwrap() * number(last, "penalty");
        assert!((number(last, "loss") - expected).abs() <= 1e-3 * expected, "{last}");
        let e =
            &json_lines(&ok(&["eval", "--weights", &path, "--data", &data, "--backend", "cpu"]))[0];
        assert_eq!(e["model"], "contractive");
        assert!(number(e, "jacobian_fro") > 0.0, "{e}");
        number(last, "penalty")
    };
    let (free, contracted) = (contraction("0"), contraction("100"));

    // A conditional VAE: labels in training, cond_accuracy in eval, a chosen digit in sample.
    let cvae = dir.arg("cvae.safetensors");
    ok(&train_args(&data, &cvae, "cpu", "cvae"));
    let e = &json_lines(&ok(&["eval", "--weights", &cvae, "--data", &data, "--backend", "cpu"]))[0];
    assert_eq!(e["model"], "cvae");
    assert!((0.0..=1.0).contains(&number(e, "cond_accuracy")), "{e}");
    let png = dir.arg("sevens.png");
    let args = ["sample", "--weights", &cvae, "--n", "4", "--label", "7", "--backend", "cpu"];
    ok(&[&args[..], &["--out", &png]].concat());
    assert!(dir.path("sevens.png").is_file());
    let line = usage_error(&[&args[..5], &["--label", "10", "--out", &png]].concat());
    assert!(line.contains("10"), "{line}");

    // Convolutional kinds: channels from the command line, no dense Jacobian in eval.
    let conv = dir.arg("conv.safetensors");
    let mut args = train_args(&data, &conv, "cpu", "conv_vae");
    args.extend(["--channels", "4,6"]);
    let lines = json_lines(&ok(&args));
    let start = lines.iter().find(|l| l["event"] == "start").expect("a start line");
    assert_eq!(start["spec"]["channels"], serde_json::json!([4, 6]));
    let e = &json_lines(&ok(&["eval", "--weights", &conv, "--data", &data, "--backend", "cpu"]))[0];
    assert_eq!(e["model"], "conv_vae");
    assert!(number(e, "loss") > 0.0 && e.get("jacobian_fro").is_none(), "{e}");
    let mut args = train_args(&data, &conv, "cpu", "conv_ae");
    args.extend(["--channels", "4,6,8"]);
    let line = error_line(None, &args);
    assert!(line.contains("channels") && line.contains("--channels"), "{line}");
    assert!(contracted < 0.5 * free, "‖J‖² with λ = 100: {contracted}, with λ = 0: {free}");
}

#[test]
fn gpu_training_and_cpu_gpu_evaluation_agree() {
    if common::gpu().is_none() {
        eprintln!("SKIPPED: gpu_training_and_cpu_gpu_evaluation_agree (no GPU adapter)");
        return;
    }
    let dir = Scratch::new("gpu");
    let data = write_data(&dir);
    let weights = dir.arg("vae.safetensors");
    let lines = json_lines(&ok(&train_args(&data, &weights, "gpu", "vae")));
    let last = lines.iter().rfind(|l| l.get("event").is_none()).expect("metrics");
    assert_eq!(number(last, "step"), 6.0);
    assert!(number(last, "recon").is_finite());

    let eval = |backend: &str| {
        let out = ok(&["eval", "--weights", &weights, "--data", &data, "--backend", backend]);
        json_lines(&out).remove(0)
    };
    let (g, c) = (eval("gpu"), eval("cpu"));
    assert_eq!(g["backend"], "gpu");
    for key in ["mse_per_pixel", "bce_per_image", "kl", "loss"] {
        let (g, c) = (number(&g, key), number(&c, key));
        assert!((g - c).abs() <= 1e-4 * c.abs() + 1e-6, "{key}: gpu {g}, cpu {c}");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let line = usage_error(&["train", "--model", "vae", "--bogus", "--out", "x.safetensors"]);
    assert!(line.contains("--bogus"), "{line}");
    let line = usage_error(&["train", "--model", "gan", "--out", "x.safetensors"]);
    assert!(line.contains("gan") && line.contains("model"), "{line}");
    let line =
        usage_error(&["train", "--model", "ae", "--epochs", "2", "--steps", "5", "--out", "x"]);
    assert!(line.contains("--steps") || line.contains("--epochs"), "{line}");
    let line = usage_error(&["train", "--model", "ae", "--hidden", "512,x", "--out", "x"]);
    assert!(line.contains("hidden"), "{line}");
    let out = run_in(None, &["train", "--model", "ae"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--out"), "{}", text(&out.stderr));
    usage_error(&["frobnicate"]);
}

#[test]
fn failures_print_one_error_line() {
    let dir = Scratch::new("errors");
    let out = dir.arg("never.safetensors");

    let line = error_line(None, &["train", "--model", "vae", "--latent", "0", "--out", &out]);
    assert!(line.contains("latent"), "{line}");
    let line = error_line(None, &["train", "--model", "vae", "--lr", "-1", "--out", &out]);
    assert!(line.contains("lr"), "{line}");

    let missing = dir.arg("missing.safetensors");
    let line = error_line(None, &["eval", "--weights", &missing, "--backend", "cpu"]);
    assert!(line.contains("weights") && line.contains("missing.safetensors"), "{line}");

    let garbage = dir.path("garbage.safetensors");
    std::fs::write(
        &garbage,
        (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    let garbage = garbage.display().to_string();
    let line = error_line(None, &["eval", "--weights", &garbage, "--backend", "cpu"]);
    assert!(line.contains("safetensors") || line.contains("corrupt"), "{line}");
    let args = ["sample", "--weights", &garbage, "--out", &dir.arg("x.png"), "--backend", "cpu"];
    let line = error_line(None, &args);
    assert!(line.contains("garbage.safetensors"), "{line}");

    // Without --data, the bundled file is looked up in the current directory.
    let line =
        error_line(Some(&dir.0), &["train", "--model", "ae", "--backend", "cpu", "--out", &out]);
    assert!(line.contains("make data") && line.contains("--data"), "{line}");
    let line =
        error_line(None, &["train", "--model", "ae", "--data", &dir.arg("nope"), "--out", &out]);
    assert!(line.contains("nope"), "{line}");
    let line = error_line(None, &["train", "--model", "ae", "--out", &dir.arg("no/dir/w.st")]);
    assert!(line.contains("does not exist"), "{line}");
    assert!(!dir.path("never.safetensors").exists());
}

#[test]
fn batch_size_one_trains_and_evaluates() {
    let dir = Scratch::new("batch1");
    let data = write_data(&dir);
    for model in ["vae", "sparse", "conv_ae"] {
        let weights = dir.arg(&format!("{model}.safetensors"));
        let args = ["train", "--model", model, "--batch", "1", "--steps", "2", "--backend", "cpu"];
        let tail =
            ["--hidden", "16", "--latent", "2", "--data", &data, "--json", "--out", &weights];
        let lines = json_lines(&ok(&[&args[..], &tail].concat()));
        assert!(lines.iter().any(|l| l["step"] == 2), "{model}: {lines:?}");
        let eval =
            json_lines(&ok(&["eval", "--weights", &weights, "--data", &data, "--backend", "cpu"]));
        assert!(number(&eval[0], "mse_per_pixel").is_finite(), "{model}: {eval:?}");
    }
}

#[test]
fn specs_and_sizes_that_lie_are_refused_with_the_reason() {
    let dir = Scratch::new("lies");
    let out = dir.arg("never.safetensors");
    let spec = |name: &str, text: &str| {
        std::fs::write(dir.path(name), text).unwrap();
        dir.arg(name)
    };
    let garbage = spec("garbage.json", r#"{"latent": 3} garbage"#);
    let line = error_line(None, &["train", "--spec", &garbage, "--out", &out]);
    assert!(line.contains("garbage.json") && line.contains("trailing characters"), "{line}");
    let list = spec("list.json", "[]");
    let line = error_line(None, &["train", "--spec", &list, "--out", &out]);
    assert!(line.contains("must be a JSON object"), "{line}");
    let kind = spec("kind.json", r#"{"kind": 3}"#);
    let line = error_line(None, &["train", "--spec", &kind, "--out", &out]);
    assert!(line.contains("`kind`: must be one of \"ae\"") && line.contains("got 3"), "{line}");
    let long = spec("long.json", &format!(r#"{{"kind": "{}"}}"#, "k".repeat(50_000)));
    let line = error_line(None, &["train", "--spec", &long, "--out", &out]);
    assert!(line.len() < 400 && line.contains("(50,002 characters)"), "{line}");

    // A model over the command line's budget, named by the flag that made it.
    let args = ["train", "--model", "vae", "--hidden", "4096,4096,4096,4096,4096,4096"];
    let line = error_line(None, &[&args[..], &["--out", &out]].concat());
    assert!(line.contains("174,269,204 parameters") && line.contains("64,000,000"), "{line}");
    assert!(!dir.path("never.safetensors").exists());
}

#[test]
fn weights_that_overflow_in_use_are_refused_by_eval_and_sample() {
    use latent_lab::model::{ModelSpec, Program};
    use latent_lab::weights::{save_weights, ModelInfo, Tensor};
    let dir = Scratch::new("overflow");
    let data = write_data(&dir);
    // Finite weights of 1e5 (under the reader's bound) that overflow f32 after four layers.
    let spec = ModelSpec { hidden: vec![64, 64], latent: 2, ..ModelSpec::default() };
    let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
    let tensors: Vec<Tensor> = program
        .params
        .iter()
        .map(|p| Tensor {
            name: p.name.clone(),
            shape: p.shape.clone(),
            data: vec![1e5; program.tensors[p.value].len()],
        })
        .collect();
    std::fs::write(dir.path("big.safetensors"), save_weights(&ModelInfo::digits(spec), &tensors))
        .unwrap();
    let weights = dir.arg("big.safetensors");
    let line =
        error_line(None, &["eval", "--weights", &weights, "--data", &data, "--backend", "cpu"]);
    assert!(line.contains("big.safetensors") && line.contains("overflow in use"), "{line}");
    let args = ["sample", "--weights", &weights, "--out", &dir.arg("s.png"), "--backend", "cpu"];
    let line = error_line(None, &args);
    assert!(line.contains("overflow in use"), "{line}");
    assert!(!dir.path("s.png").exists());
}

#[test]
fn divergence_stops_training_without_writing_weights() {
    let dir = Scratch::new("diverge");
    let data = write_data(&dir);
    let weights = dir.arg("diverged.safetensors");
    let args = ["train", "--model", "vae", "--backend", "cpu", "--data", &data, "--lr", "1"];
    let tail =
        ["--hidden", "64", "--latent", "3", "--batch", "32", "--steps", "60", "--json", "--out"];
    let line = error_line(None, &[&args[..], &tail, &[&weights]].concat());
    assert!(line.contains("diverged at step") && line.contains("--lr"), "{line}");
    assert!(!dir.path("diverged.safetensors").exists());
}

#[test]
fn bench_prints_one_json_line() {
    let out = ok(&["bench", "--backend", "cpu", "--steps", "5"]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    let b = &lines[0];
    has_keys(
        b,
        &[
            "model",
            "backend",
            "adapter",
            "hidden",
            "latent",
            "batch",
            "steps",
            "samples_per_s",
            "ms_per_step",
        ],
    );
    // The README's VAE quality setup.
    assert_eq!((&b["model"], &b["adapter"]), (&"vae".into(), &"cpu".into()));
    assert_eq!(
        (&b["hidden"], &b["latent"], &b["batch"]),
        (&serde_json::json!([400]), &20.into(), &128.into())
    );
    assert_eq!(b["steps"], 5);
    assert!(number(b, "samples_per_s") > 0.0 && number(b, "ms_per_step") > 0.0);
}

#[test]
fn bench_profile_times_every_op_of_the_step() {
    let out = ok(&["bench", "--backend", "cpu", "--model", "ae", "--steps", "3", "--profile"]);
    let ops = check_profile(&out, "cpu");
    assert!(ops.contains(&"ZeroGradients".to_string()), "{out}");
    // The GPU's kernels, timed by timestamp queries (lavapipe has them), with the time
    // between the kernels as a row of its own.
    if std::env::var_os("REQUIRE_GPU").is_some() {
        let out = ok(&["bench", "--backend", "gpu", "--model", "vae", "--steps", "2", "--profile"]);
        let ops = check_profile(&out, "gpu");
        for op in ["ReparameterizeForward", "FinishStep", "(between)"] {
            assert!(ops.contains(&op.to_string()), "{op} missing: {out}");
        }
    }
}

/// Checks a `bench --profile` output on `backend`: the dense layers, the loss and Adam are
/// rows, the shares add to 100 % and the total is the sum of the rows. Returns the op names.
fn check_profile(out: &str, backend: &str) -> Vec<String> {
    let mut lines = out.lines();
    let first: Value = serde_json::from_str(lines.next().expect("the JSON line")).unwrap();
    assert_eq!(first["backend"], backend);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["op", "ms/step", "share"], "{out}");
    let body = &rows[1..rows.len() - 1];
    let ops: Vec<String> = body.iter().map(|r| r[0].to_string()).collect();
    for op in ["LinearForward", "LinearBackward", "ReconstructionLoss", "AdamUpdate"] {
        assert!(ops.contains(&op.to_string()), "{op} missing: {out}");
    }
    let ms: Vec<f64> = body.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(ms.iter().all(|&m| m >= 0.0) && ms[0] > 0.0, "{out}");
    let share: f64 = body.iter().map(|r| r[2].trim_end_matches('%').parse::<f64>().unwrap()).sum();
    assert!((share - 100.0).abs() < 1.0, "{out}");
    let total: f64 = rows.last().unwrap()[1].parse().unwrap();
    assert!((ms.iter().sum::<f64>() - total).abs() < 0.01 * total + 0.01, "{out}");
    ops
}

/// Without --backend, a software GPU (lavapipe, the only adapter on the test machines) is
/// passed over for the CPU executor, and the first line says so.
#[test]
fn the_default_backend_skips_a_software_gpu_and_says_why() {
    let dir = Scratch::new("auto-backend");
    let data = write_data(&dir);
    let out = dir.arg("auto.safetensors");
    let args = ["train", "--model", "ae", "--steps", "2", "--json", "--data", &data, "--out", &out];
    let start = &json_lines(&ok(&args))[0];
    let reason = start["backend_reason"].as_str().unwrap().to_string();
    match start["backend"].as_str().unwrap() {
        "cpu" => {
            assert!(reason.contains("software renderer") || reason.contains("no GPU"), "{reason}")
        }
        "gpu" => assert!(reason.contains("hardware GPU"), "{reason}"),
        other => panic!("backend {other}"),
    }
    if std::env::var_os("REQUIRE_GPU").is_some() {
        // Here the only adapter is lavapipe.
        assert_eq!(start["backend"], "cpu", "{reason}");
        assert!(
            reason.contains("software renderer") && reason.contains("--backend gpu"),
            "{reason}"
        );
        // Forced, the GPU runs all the same.
        let mut forced = args.to_vec();
        forced.extend(["--backend", "gpu"]);
        let start = &json_lines(&ok(&forced))[0];
        assert_eq!(
            (&start["backend"], &start["backend_reason"]),
            (&"gpu".into(), &"--backend gpu".into())
        );
    }
}

/// A CSV table of `n` rows: three features that follow two hidden factors, and a `kind`
/// column (1 on every tenth row).
fn write_table(dir: &Scratch, name: &str, n: usize) -> String {
    let mut text = String::from("pressure,flow,temp,kind\n");
    for i in 0..n {
        let (a, b) = ((i % 13) as f32 * 0.5, (i % 7) as f32 - 3.0);
        let kind = u8::from(i % 10 == 0);
        text += &format!("{},{},{},{kind}\n", 100.0 + a, 2.0 * a - b, 20.0 + 0.1 * b);
    }
    std::fs::write(dir.path(name), text).unwrap();
    dir.arg(name)
}

#[test]
fn a_csv_table_trains_standardised_with_mse_and_reports_its_pca_baseline() {
    let dir = Scratch::new("table");
    let data = write_table(&dir, "t.csv", 300);
    let out = dir.arg("t.safetensors");
    let args = [
        "train",
        "--model",
        "ae",
        "--backend",
        "cpu",
        "--data",
        &data,
        "--label",
        "kind",
        "--hidden",
        "16",
        "--latent",
        "2",
        "--batch",
        "32",
        "--steps",
        "300",
        "--seed",
        "3",
        "--json",
        "--out",
        &out,
    ];
    let lines = json_lines(&ok(&args));
    let start = &lines[0];
    assert_eq!(start["shape"], serde_json::json!({"type": "vector", "features": 3}), "{start}");
    assert_eq!(number(start, "train_samples"), 180.0, "the first 60 % of the rows train");
    let eval = lines.iter().find(|l| l["event"] == "eval").unwrap();
    // Standardised rows have no BCE; the squared error is per row and per value.
    assert!(eval.get("bce_per_image").is_none(), "{eval}");
    has_keys(eval, &["mse_per_pixel", "mse_per_row"]);
    assert!((number(eval, "mse_per_row") - 3.0 * number(eval, "mse_per_pixel")).abs() < 1e-9);
    // The saved model scores the table with the training split's mean and deviation, and
    // PCA of the same width is its baseline.
    let e = &json_lines(&ok(&[
        "eval",
        "--weights",
        &out,
        "--data",
        &data,
        "--label",
        "kind",
        "--backend",
        "cpu",
        "--pca",
    ]))[0];
    assert_eq!(number(e, "mse_per_pixel"), number(eval, "mse_per_pixel"), "{e}");
    let pca = number(e, "pca_mse_per_pixel");
    assert!(pca > 0.0 && pca < 1.0, "standardised rows: PCA keeps some variance: {e}");
    // The curve of every width up to the code's (2), from one decomposition: falling, and
    // ending at the figure above.
    let curve: Vec<f64> =
        e["pca_mse_by_k"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(curve.len(), 2, "{e}");
    assert!(curve[0] > curve[1] && (curve[1] - pca).abs() < 1e-9 + 1e-5 * pca, "{e}");
    // What the code is worth in linear dimensions: the first width on the curve that does
    // as well as the model, or all three columns (no error left) when none of those does.
    let model = number(e, "mse_per_pixel");
    let worth = curve.iter().position(|&m| m <= model).map_or(3, |k| k + 1);
    assert_eq!(e["pca_equivalent_k"].as_u64(), Some(worth as u64), "{e}");
    // Without the label column the table has four features: the model does not take it.
    let line = error_line(None, &["eval", "--weights", &out, "--data", &data, "--backend", "cpu"]);
    assert!(line.contains("vector of 3") && line.contains("vector of 4"), "{line}");
}

/// A linear AE of images (`--output identity`): `eval --pca` reports its principal angles to
/// PCA's plane, which training brings down, and its error then meets PCA's.
#[test]
fn a_linear_image_autoencoder_reports_its_angles_to_pcas_subspace() {
    let dir = Scratch::new("linear");
    let data = write_data(&dir);
    let eval = |steps: &str| {
        let out = dir.arg(&format!("linear-{steps}.safetensors"));
        let train = [
            "train",
            "--model",
            "ae",
            "--backend",
            "cpu",
            "--data",
            &data,
            "--hidden",
            "none",
            "--activation",
            "identity",
            "--output",
            "identity",
            "--latent",
            "2",
            "--lr",
            "0.005",
            "--steps",
            steps,
            "--json",
            "--out",
            &out,
        ];
        ok(&train);
        let args = ["eval", "--weights", &out, "--data", &data, "--backend", "cpu", "--pca"];
        json_lines(&ok(&args)).remove(0)
    };
    let angles = |e: &serde_json::Value| -> Vec<f64> {
        let a = e["pca_angles_deg"].as_array().unwrap_or_else(|| panic!("{e}"));
        a.iter().map(|v| v.as_f64().unwrap()).collect()
    };
    let (fresh, trained) = (eval("1"), eval("4000"));
    // The logits are the image: no BCE of them.
    assert!(trained.get("bce_per_image").is_none(), "{trained}");
    let (before, after) = (angles(&fresh), angles(&trained));
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|a| (0.0..=90.0).contains(a)), "{after:?}");
    assert!(after[0] <= after[1], "smallest first: {after:?}");
    let largest = |a: &[f64]| a.iter().copied().fold(0.0, f64::max);
    assert!(largest(&before) > 30.0, "a fresh decoder is far from PCA's plane: {before:?}");
    assert!(largest(&after) < 3.0, "after 4,000 steps: {after:?}");
    let (model, pca) = (number(&trained, "mse_per_pixel"), number(&trained, "pca_mse_per_pixel"));
    assert!(model < 1.03 * pca, "the same plane rebuilds as well: {model} against PCA's {pca}");
    // A model with a bend has no such subspace; a table's values are not pixels.
    let bent = dir.arg("bent.safetensors");
    ok(&[
        "train",
        "--model",
        "ae",
        "--backend",
        "cpu",
        "--data",
        &data,
        "--steps",
        "2",
        "--out",
        &bent,
    ]);
    let e = &json_lines(&ok(&[
        "eval",
        "--weights",
        &bent,
        "--data",
        &data,
        "--backend",
        "cpu",
        "--pca",
    ]))[0];
    assert!(e.get("pca_angles_deg").is_none(), "{e}");
    let table = write_table(&dir, "t.csv", 50);
    let line = error_line(
        None,
        &[
            "train",
            "--model",
            "ae",
            "--backend",
            "cpu",
            "--data",
            &table,
            "--output",
            "sigmoid",
            "--out",
            &bent,
        ],
    );
    assert!(line.contains("--output") && line.contains("standardised"), "{line}");
}

#[test]
fn tables_and_series_refuse_what_they_cannot_take_with_the_reason() {
    let dir = Scratch::new("refusals");
    let data = write_table(&dir, "t.csv", 50);
    let out = dir.arg("never.safetensors");
    let train = |extra: &[&str]| {
        let mut args =
            vec!["train", "--backend", "cpu", "--data", &data, "--steps", "2", "--out", &out];
        args.extend(extra);
        error_line(None, &args)
    };
    let line = train(&["--model", "vae", "--loss", "bce"]);
    assert!(line.contains("mse for a table row") && line.contains("--loss"), "{line}");
    let line = train(&["--model", "conv_ae"]);
    assert!(line.contains("conv_ae convolves images") && line.contains("--model"), "{line}");
    let line = train(&["--model", "ae", "--label", "nope"]);
    assert!(
        line.contains("no such column") && line.contains("pressure, flow, temp, kind"),
        "{line}"
    );
    std::fs::write(dir.path("bad.csv"), "a,b\n1,2\n3,x\n").unwrap();
    let bad = dir.arg("bad.csv");
    let line = error_line(
        None,
        &["train", "--model", "ae", "--backend", "cpu", "--data", &bad, "--out", &out],
    );
    assert!(line.contains("line 3") && line.contains("`b`") && line.contains("bad.csv"), "{line}");
    assert!(!dir.path("never.safetensors").exists());
}

/// A lab-data file of a noisy sine series: 600 training steps, 400 test steps with a burst
/// of anomalous steps.
fn write_series(dir: &Scratch) -> String {
    use latent_lab::data::{encode_series, Series, SeriesSplit};
    let wave = |n: usize, seed: u32| -> Vec<f32> {
        (0..n)
            .map(|t| {
                let noise = latent_lab::rng::normal(seed, 3, 0, t as u32);
                5.0 + 2.0 * (t as f32 * 0.3).sin() + 0.1 * noise
            })
            .collect()
    };
    let mut test = wave(400, 2);
    test[200..210].iter_mut().for_each(|v| *v += 6.0);
    let split = SeriesSplit {
        train: Series { channels: 1, values: wave(600, 1), labels: vec![0; 600] },
        test: Series {
            channels: 1,
            values: test,
            labels: (0..400).map(|t| u8::from((200..210).contains(&t))).collect(),
        },
    };
    std::fs::write(dir.path("series.bin"), encode_series(&split)).unwrap();
    dir.arg("series.bin")
}

#[test]
fn a_conv1d_autoencoder_trains_on_windows_of_a_series() {
    let dir = Scratch::new("series");
    let data = write_series(&dir);
    let out = dir.arg("s.safetensors");
    let args = [
        "train",
        "--model",
        "conv1d_ae",
        "--backend",
        "cpu",
        "--data",
        &data,
        "--window",
        "32",
        "--stride",
        "4",
        "--channels",
        "4,8",
        "--latent",
        "4",
        "--batch",
        "16",
        "--steps",
        "200",
        "--seed",
        "2",
        "--json",
        "--out",
        &out,
    ];
    let lines = json_lines(&ok(&args));
    assert_eq!(
        lines[0]["shape"],
        serde_json::json!({"type": "series", "channels": 1, "length": 32})
    );
    // (600 − 32)/4 + 1 training windows, (400 − 32)/4 + 1 test windows.
    assert_eq!(number(&lines[0], "train_samples"), 143.0);
    assert_eq!(number(&lines[0], "test_samples"), 93.0);
    let recon: Vec<f64> =
        lines.iter().filter(|l| l.get("recon").is_some()).map(|l| number(l, "recon")).collect();
    assert!(recon.last().unwrap() < &(0.5 * recon[0]), "the loss falls: {recon:?}");
    let e = &json_lines(&ok(&[
        "eval",
        "--weights",
        &out,
        "--data",
        &data,
        "--window",
        "32",
        "--stride",
        "4",
        "--backend",
        "cpu",
    ]))[0];
    assert_eq!(e["model"], "conv1d_ae");
    assert!(number(e, "mse_per_pixel") < 1.0, "better than predicting the mean: {e}");
    // Another window length is another input shape.
    let line = error_line(
        None,
        &["eval", "--weights", &out, "--data", &data, "--window", "48", "--backend", "cpu"],
    );
    assert!(line.contains("series 1×32") && line.contains("series 1×48"), "{line}");
}

/// A lab-data file of images in two classes: 0, strokes on black (normal); 1, the same
/// strokes inverted, black on white (the anomalies). 160 train, 80 test; every fifth row is
/// of class 1.
fn write_two_kinds(dir: &Scratch) -> String {
    let set = |n: usize, seed: u32| {
        let mut pixels = common::synthetic_digits(n, seed);
        let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 5 == 4)).collect();
        for (image, &l) in pixels.chunks_exact_mut(784).zip(&labels) {
            if l == 1 {
                image.iter_mut().for_each(|p| *p = 255 - *p);
            }
        }
        Dataset::images(MNIST_SHAPE, pixels, labels)
    };
    let split = Split { train: set(160, 21), test: set(80, 22), normalisation: None };
    std::fs::write(dir.path("kinds.bin"), encode_lab_data(&split)).unwrap();
    dir.arg("kinds.bin")
}

/// The figures of one score, each a number in [0, 1].
#[track_caller]
fn figures(line: &Value, score: &str) -> (f64, f64, f64) {
    let f = &line[score];
    let get = |k: &str| {
        let v = f[k].as_f64().unwrap_or_else(|| panic!("{score}.{k} in {line}"));
        assert!((0.0..=1.0).contains(&v), "{score}.{k} = {v}");
        v
    };
    (get("roc_auc"), get("pr_auc"), get("best_f1"))
}

#[test]
fn anomaly_trains_on_normal_rows_and_scores_the_rest() {
    let dir = Scratch::new("anomaly");
    let data = write_two_kinds(&dir);
    let out = dir.arg("detector.safetensors");
    let base = [
        "anomaly",
        "--data",
        &data,
        "--model",
        "ae",
        "--hidden",
        "32",
        "--latent",
        "4",
        "--batch",
        "16",
        "--backend",
        "cpu",
        "--seed",
        "4",
    ];
    let mut args = base.to_vec();
    args.extend(["--steps", "150", "--normal", "0", "--out", &out]);
    let lines = json_lines(&ok(&args));
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    // 128 normal training rows, none of the 32 anomalies; every test row scored.
    assert_eq!(number(line, "train_rows"), 128.0, "{line}");
    assert_eq!(number(line, "train_anomalies"), 0.0);
    assert_eq!((number(line, "test_rows"), number(line, "test_anomalies")), (80.0, 16.0));
    assert!(line.get("elbo").is_none() && line.get("encoder").is_none(), "an AE: {line}");
    let (roc, pr, f1) = figures(line, "reconstruction");
    // Chance is an ROC AUC of ½ and a PR AUC of 16/80: an inverted image is far from
    // anything the detector learned to rebuild.
    assert!(roc > 0.95 && pr > 0.8 && f1 > 0.8, "{line}");
    let (pca_roc, _, _) = figures(line, "pca");
    assert!(pca_roc > 0.9, "{line}");
    assert_eq!(line["pca"]["dims"], 4);
    assert!(dir.path("detector.safetensors").is_file());

    // A fifth of anomalies mixed into training: 32 of 160 rows are all there are, and the
    // share is what was asked, as near as whole rows allow.
    let mut args = base.to_vec();
    args.extend(["--steps", "150", "--contamination", "0.2"]);
    let dirty = &json_lines(&ok(&args))[0];
    assert_eq!(number(dirty, "train_anomalies"), 32.0, "{dirty}");
    assert_eq!(number(dirty, "contamination"), 0.2);

    // Each class normal in turn, then a line of means.
    let mut args = base.to_vec();
    args.extend(["--normal", "each", "--steps", "40"]);
    let lines = json_lines(&ok(&args));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1]["normal"], serde_json::json!([1]));
    let mean = &lines[2];
    assert_eq!(mean["normal"], "each");
    let by_hand = (number(&lines[0]["pca"], "roc_auc") + number(&lines[1]["pca"], "roc_auc")) / 2.0;
    assert!((number(&mean["pca"], "roc_auc") - by_hand).abs() < 1e-4, "{mean}");
}

#[test]
fn anomaly_of_a_series_scores_it_three_ways_with_a_vae_and_finds_the_labelled_burst() {
    let dir = Scratch::new("anomaly-series");
    let data = write_series(&dir);
    let args = [
        "anomaly",
        "--data",
        &data,
        "--model",
        "vae",
        "--window",
        "32",
        "--stride",
        "4",
        "--hidden",
        "32",
        "--latent",
        "4",
        "--batch",
        "16",
        "--steps",
        "300",
        "--backend",
        "cpu",
        "--seed",
        "2",
    ];
    let line = &json_lines(&ok(&args))[0];
    assert_eq!(number(line, "test_rows"), 93.0, "{line}");
    for score in ["reconstruction", "elbo", "encoder", "pca"] {
        figures(line, score);
        let top = number(&line[score], "top_point");
        assert!((0.0..400.0).contains(&top), "{score}: {line}");
    }
    // The burst (steps 200–209 of a clean sine) is where the reconstruction fails most.
    let (roc, _, _) = figures(line, "reconstruction");
    assert!(roc > 0.9, "{line}");
    assert_eq!(line["reconstruction"]["ucr_hit"], true, "{line}");
    assert_eq!(line["pca"]["ucr_hit"], true, "{line}");
}

#[test]
fn anomaly_refuses_what_it_cannot_measure_with_the_reason() {
    let dir = Scratch::new("anomaly-refusals");
    let images = write_two_kinds(&dir);
    let series = write_series(&dir);
    let run = |data: &str, extra: &[&str]| {
        let mut args = vec!["anomaly", "--backend", "cpu", "--data", data, "--steps", "2"];
        args.extend(extra);
        error_line(None, &args)
    };
    let line = run(&images, &["--model", "ae", "--normal", "7"]);
    assert!(
        line.contains("no training row has a normal label (7)") && line.contains("0, 1"),
        "{line}"
    );
    let line = run(&images, &["--model", "ae", "--normal", "0,1"]);
    assert!(line.contains("every test row is normal"), "{line}");
    let line = run(&images, &["--model", "cvae"]);
    assert!(line.contains("conditional"), "{line}");
    let line = run(&series, &["--model", "ae", "--window", "32", "--contamination", "0.1"]);
    assert!(line.contains("no labelled anomaly to mix in"), "{line}");
    let line = run(&series, &["--model", "ae", "--window", "32", "--normal", "0"]);
    assert!(line.contains("labelled steps"), "{line}");
    let usage = usage_error(&["anomaly", "--model", "ae", "--contamination", "0.7"]);
    assert!(usage.contains("0 to 0.5"), "{usage}");
}

/// `eval --knn`: the 1-NN accuracies in the three spaces, each recomputed here with plain
/// loops (integer distances between the byte images; the library's encoder and PCA).
#[test]
fn eval_knn_classifies_by_the_nearest_labelled_rows_in_three_spaces() {
    use latent_lab::model::Program;
    use latent_lab::weights::{load_weights, match_tensors};
    let dir = Scratch::new("eval-knn");
    let data = write_data(&dir);
    let weights = concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/ae-2d.safetensors");
    let args = ["eval", "--weights", weights, "--data", &data, "--backend", "cpu", "--knn"];
    let e = &json_lines(&ok(&args))[0];
    let knn = e["knn_accuracy"].as_object().unwrap_or_else(|| panic!("{e}"));
    // 192 training rows: 10 and 100 labels (1,000 needs more).
    assert_eq!(knn.keys().collect::<Vec<_>>(), ["10", "100"], "{e}");

    let (train, test) = (common::synthetic_digits(192, 11), common::synthetic_digits(48, 12));
    let label = |i: usize| (i % 10) as u8;
    let floats = |b: &[u8]| b.iter().map(|&v| f32::from(v) / 255.0).collect::<Vec<f32>>();
    let (info, tensors) = load_weights(&std::fs::read(weights).unwrap()).unwrap();
    let program = Program::build(&info.spec, &info.shape).unwrap();
    let params = match_tensors(&program.param_shapes(), tensors).unwrap();
    let mut ex = latent_lab::Executor::cpu(program, &[]);
    ex.set_params(&params).unwrap();
    let encode = |ex: &mut latent_lab::Executor, rows: &[f32]| {
        pollster::block_on(ex.encode(rows)).unwrap().mu
    };
    let pca = latent_lab::pca::Pca::fit(&floats(&train), 784, 2).unwrap();
    // 1-NN accuracy of the test rows against the first n training rows, `dist` apart.
    let accuracy = |n: usize, d: usize, dist: &dyn Fn(usize, usize) -> f64| {
        let right = (0..test.len() / d)
            .filter(|&q| {
                let best = (0..n).min_by(|&a, &b| dist(q, a).total_cmp(&dist(q, b))).unwrap();
                label(best) == label(q)
            })
            .count();
        right as f64 / (test.len() / d) as f64
    };
    let (test_code, train_code) =
        (encode(&mut ex, &floats(&test)), encode(&mut ex, &floats(&train)));
    let (test_pca, train_pca) = (pca.encode(&floats(&test)), pca.encode(&floats(&train)));
    let sq =
        |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>();
    for n in [10, 100] {
        let got = &knn[&n.to_string()];
        let pixels = accuracy(n, 784, &|q, t| {
            let (a, b) = (&test[q * 784..][..784], &train[t * 784..][..784]);
            a.iter().zip(b).map(|(&x, &y)| (i32::from(x) - i32::from(y)).pow(2) as f64).sum()
        });
        let code =
            accuracy(n, 784, &|q, t| sq(&test_code[q * 2..][..2], &train_code[t * 2..][..2]));
        let pca = accuracy(n, 784, &|q, t| sq(&test_pca[q * 2..][..2], &train_pca[t * 2..][..2]));
        // A tie at float precision may go either way: one row of 48 at most.
        for (space, want) in [("pixels", pixels), ("code", code), ("pca", pca)] {
            let v = number(got, space);
            assert!(
                (v - want).abs() <= 1.0 / 48.0 + 1e-9,
                "{space} with {n} labels: {v} vs {want}: {e}"
            );
        }
    }
    // A conditional model's code is refused, with the reason.
    let cvae = concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/cvae.safetensors");
    let line = error_line(
        None,
        &["eval", "--weights", cvae, "--data", &data, "--backend", "cpu", "--knn"],
    );
    assert!(line.contains("conditional model"), "{line}");
}
