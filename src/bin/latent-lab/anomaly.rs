//! `latent-lab anomaly`: train on the normal training rows, score every test row, and print
//! the figures of each score and of PCA at the same width, one JSON line.

use std::path::Path;
use std::time::Instant;

use latent_lab::anomaly::{pca_score, score, series_figures, AnomalySet, Figures, Scores};
use latent_lab::data::LabFile;
use latent_lab::model::Program;
use latent_lab::weights::{save_weights, ModelInfo, Tensor};
use latent_lab::{Backend, Executor};
use serde_json::{json, Value};

use crate::args::{AnomalyArgs, NormalArg};
use crate::shared::{self, emit, fail, round, Failure, Object, Result};
use crate::train::{build_spec, steps_per_submit};

/// What the anomalies of a run are, for the report.
enum Normal {
    Classes(Vec<u8>),
    /// Every row of the named set is normal, every row of the other an anomaly.
    Against(String),
}

pub async fn run(a: AnomalyArgs) -> Result<()> {
    if let Some(out) = &a.out {
        shared::check_output(out)?;
        if a.normal == Some(NormalArg::Each) {
            fail!("--out writes one detector, and --normal each trains one per class");
        }
    }
    let (file, path) = shared::load_raw("--data", a.data.data.as_deref(), a.data.label.as_deref())?;
    let name = path.display().to_string();
    let seed = a.model.seed.unwrap_or(1);
    let at = |e: latent_lab::Error| Failure(format!("{name}: {e}"));
    // The outlier set: --anomalies, or digits for the clothes when no class is named.
    let clothes = a.data.data.as_deref() == Some(Path::new("fashion"));
    let outliers = match (&a.anomalies, clothes && a.normal.is_none()) {
        (Some(p), _) => Some(p.as_path()),
        (None, true) => Some(Path::new("mnist")),
        (None, false) => None,
    };
    let runs: Vec<(Normal, AnomalySet)> = match (file, outliers) {
        (LabFile::Series(series), None) => {
            if a.normal.is_some() {
                fail!(
                    "{name}: a series' anomalies are its labelled steps; --normal is for rows \
                     with classes"
                );
            }
            let set = AnomalySet::series(&series, shared::windows(&a.data), a.contamination, seed)
                .map_err(at)?;
            vec![(Normal::Classes(vec![0]), set)]
        }
        (LabFile::Series(_), Some(_)) => {
            fail!("{name}: a series' anomalies are its labelled steps, not another data set")
        }
        (LabFile::Rows(split), Some(other)) => {
            let (other_file, other_path) = shared::load_raw("--anomalies", Some(other), None)?;
            let LabFile::Rows(other_split) = other_file else {
                fail!("--anomalies {}: a series cannot be a table's anomalies", other.display())
            };
            let set = AnomalySet::against(split, other_split, a.contamination, seed)
                .map_err(|e| Failure(format!("{name} against {}: {e}", other_path.display())))?;
            vec![(Normal::Against(other_path.display().to_string()), set)]
        }
        (LabFile::Rows(split), None) => {
            let classes = match &a.normal {
                None => vec![vec![0]],
                Some(NormalArg::Classes(c)) => vec![c.clone()],
                Some(NormalArg::Each) => {
                    let mut labels = split.train.labels.clone();
                    labels.sort_unstable();
                    labels.dedup();
                    if labels.len() < 2 {
                        fail!("{name}: --normal each needs rows of at least two classes");
                    }
                    labels.into_iter().map(|l| vec![l]).collect()
                }
            };
            let mut runs = vec![];
            for c in classes {
                let set =
                    AnomalySet::by_label(split.clone(), &c, a.contamination, seed).map_err(at)?;
                runs.push((Normal::Classes(c), set));
            }
            runs
        }
    };
    let mut lines = vec![];
    for (normal, set) in &runs {
        let line = detect(&a, &name, normal, set).await?;
        emit(&line)?;
        lines.push(line);
    }
    if runs.len() > 1 {
        emit(means(&lines))?;
    }
    Ok(())
}

/// Trains one detector on `set` and returns its line of figures.
async fn detect(a: &AnomalyArgs, name: &str, normal: &Normal, set: &AnomalySet) -> Result<Object> {
    let started = Instant::now();
    let shape = set.train.shape;
    let spec = build_spec(&a.model, &shape)?;
    if spec.kind.is_conditional() {
        fail!(
            "--model cvae: a conditional model needs each row's label, which an anomaly \
             detector is not given; pick another kind"
        );
    }
    let program = Program::build(&spec, &shape)?;
    let total = a.model.steps_for(set.train.len(), spec.batch_size);
    let (mut ex, device) = shared::executor(a.backend, program, &set.train.values).await?;
    let backend = ex.backend();
    let what = match normal {
        Normal::Classes(c) if set.series.is_some() && c == &[0] => "normal windows".to_string(),
        Normal::Classes(c) => format!("rows of class {}", list(c)),
        Normal::Against(_) => "rows".to_string(),
    };
    eprintln!(
        "{} on {} {what} ({} anomalies mixed in), {total} steps on {}",
        spec.kind.name(),
        set.train.len() - set.train_anomalies,
        set.train_anomalies,
        device.line()
    );
    train(&mut ex, total, backend, spec.optimizer.lr).await?;
    let test = set.test.rows_f32(0..set.test.len());
    let scores = score(&mut ex, &test).await.map_err(|e| Failure(format!("{name}: {e}")))?;
    // PCA as wide as a row rebuilds it exactly: no baseline then.
    let pca = match spec.latent < shape.size() {
        true => Some(pca_score(&set.train, &test, spec.latent)?.1),
        false => None,
    };

    let mut fields: Vec<(&'static str, Value)> = vec![
        ("data", json!(name)),
        ("model", json!(spec.kind.name())),
        ("shape", json!(shape)),
        match normal {
            Normal::Classes(_) if set.series.is_some() => ("normal", json!("unlabelled steps")),
            Normal::Classes(c) => ("normal", json!(c)),
            Normal::Against(_) => ("normal", json!(name)),
        },
        (
            "anomalies",
            json!(match normal {
                Normal::Classes(_) if set.series.is_some() => "labelled steps".to_string(),
                Normal::Classes(c) => format!("labels other than {}", list(c)),
                Normal::Against(other) => other.clone(),
            }),
        ),
        ("contamination", json!(round(set.contamination(), 4))),
        ("train_rows", json!(set.train.len())),
        ("train_anomalies", json!(set.train_anomalies)),
        ("test_rows", json!(set.test.len())),
        ("test_anomalies", json!(set.test_anomalies())),
        ("latent", json!(spec.latent)),
        ("steps", json!(total)),
        ("backend", json!(backend)),
    ];
    for (key, s) in scores.named() {
        fields.push((key, figures(set, s, (key == "reconstruction").then_some(&scores))?));
    }
    match &pca {
        Some(pca) => {
            let mut pca_figures = figures(set, &pca.reconstruction, Some(pca))?;
            pca_figures["dims"] = json!(spec.latent);
            fields.push(("pca", pca_figures));
        }
        None => fields.push(("pca", json!(null))),
    }
    fields.push(("seconds", json!(round(started.elapsed().as_secs_f64(), 1))));

    if let Some(out) = &a.out {
        let params = ex.params().await?;
        let tensors: Vec<Tensor> = ex
            .program()
            .params
            .iter()
            .zip(params)
            .map(|(p, data)| Tensor { name: p.name.clone(), shape: p.shape.clone(), data })
            .collect();
        let info =
            ModelInfo { spec: spec.clone(), shape, normalisation: set.normalisation.clone() };
        shared::write_atomic(out, &save_weights(&info, &tensors))?;
        fields.push(("saved", json!(out.display().to_string())));
    }
    Ok(Object(fields))
}

/// The figures of one score as JSON (rounded); a series adds `ucr_hit` and `top_point`
/// from the per-step score (with the per-value errors of `errors` when given).
fn figures(set: &AnomalySet, scores: &[f64], errors: Option<&Scores>) -> Result<Value> {
    let f = match &set.series {
        Some(w) => series_figures(w, scores, errors.map(|s| &s.errors[..]), &set.anomalous)?,
        None => Figures::of(scores, &set.anomalous)?,
    };
    let mut v = json!({
        "roc_auc": round(f.roc_auc, 4),
        "pr_auc": round(f.pr_auc, 4),
        "best_f1": round(f.best_f1, 4),
        "best_threshold": significant(f.best_threshold),
    });
    if let (Some(hit), Some(top)) = (f.ucr_hit, f.top_point) {
        v["ucr_hit"] = json!(hit);
        v["top_point"] = json!(top);
    }
    Ok(v)
}

/// `x` to 5 significant digits.
fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 4 - x.abs().log10().floor() as i32;
    round(x, digits)
}

/// The line after a `--normal each` run: the mean of each figure over the classes.
fn means(lines: &[Object]) -> Object {
    let mut fields: Vec<(&'static str, Value)> = vec![("normal", json!("each"))];
    fields.push(("classes", json!(lines.len())));
    let first = &lines[0];
    for (key, value) in &first.0 {
        if !value.get("roc_auc").is_some_and(Value::is_number) {
            continue;
        }
        let mut mean = serde_json::Map::new();
        for figure in ["roc_auc", "pr_auc", "best_f1"] {
            let sum: f64 = lines
                .iter()
                .filter_map(|l| l.0.iter().find(|(k, _)| k == key))
                .filter_map(|(_, v)| v[figure].as_f64())
                .sum();
            mean.insert(figure.into(), json!(round(sum / lines.len() as f64, 4)));
        }
        fields.push((key, Value::Object(mean)));
    }
    Object(fields)
}

fn list(classes: &[u8]) -> String {
    classes.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

/// Trains `total` steps, failing on a non-finite loss.
async fn train(ex: &mut Executor, total: u32, backend: Backend, lr: f32) -> Result<()> {
    let chunk = steps_per_submit(backend);
    let mut done = 0;
    while done < total {
        let steps = chunk.min(total - done);
        ex.train(steps).await?;
        done += steps;
        check(&ex.poll_metrics()?, lr)?;
    }
    check(&ex.finish().await?, lr)
}

fn check(metrics: &[latent_lab::Metrics], lr: f32) -> Result<()> {
    match metrics.iter().find(|m| !m.is_finite()) {
        Some(m) => fail!(
            "training diverged at step {}: the loss is no longer a number; lower --lr (it was \
             {lr}) and run again",
            m.first_step + m.steps
        ),
        None => Ok(()),
    }
}
