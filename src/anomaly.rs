//! Anomaly detection by reconstruction, as the material teaches it: train an autoencoder on
//! normal rows only, then flag the rows it cannot rebuild.
//!
//! * [`AnomalySet`]: which rows are normal (a list of classes, or another data set of the
//!   same shape whose rows are all anomalies), the normal training rows with a chosen share
//!   of anomalies mixed in (*contamination*), and every test row marked normal or anomalous.
//! * [`score`]: a score per test row from a trained model — the reconstruction error, and for
//!   a VAE the negative ELBO and the encoder-only score KL(q(z|x) ‖ N(0, I)), which needs no
//!   decoder at all (the intrusion-detection use); [`pca_score`] the same error of PCA at the
//!   same width, the linear baseline.
//! * [`Curve`]: every threshold's counts at once: ROC and its AUC, precision–recall and the
//!   average precision, the best F1; [`Confusion`] the counts at one threshold.
//! * For series: [`point_scores`] spreads window errors back onto time steps, and
//!   [`ucr_hit`] is the UCR anomaly archive's figure (is the top-scored point within the
//!   labelled region ± 100 steps?).
//!
//! A row is flagged anomalous when its score is **at or above** the threshold.

use serde::Serialize;

use crate::backend::Executor;
use crate::data::{Dataset, InputShape, Normalisation, SeriesSplit, Split, Values, Windows};
use crate::error::{Error, Result};
use crate::model::{Output, ReconLoss};
use crate::pca::Pca;
use crate::rng;

/// The most a training set may be anomalies: past half, the "anomalies" are the norm.
pub const MAX_CONTAMINATION: f64 = 0.5;

/// Steps either side of a series' labelled region within which the top-scored point still
/// counts as found (the UCR anomaly archive's rule).
pub const UCR_MARGIN: usize = 100;

/// Rows of one shape split into a training set (normal rows, plus the contamination) and a
/// test set whose every row is marked normal or anomalous.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalySet {
    /// The training rows: the normal ones first, then the anomalies mixed in. Labels are
    /// the rows' own classes (when the data has any).
    pub train: Dataset,
    /// Every test row, in the data's order (with an outlier set: the normal set's test rows,
    /// then the outliers').
    pub test: Dataset,
    /// One flag per test row: true for an anomaly.
    pub anomalous: Vec<bool>,
    /// How many of the training rows are anomalies (the last ones).
    pub train_anomalies: usize,
    /// The standardisation of a table or a series, fitted on [`AnomalySet::train`].
    pub normalisation: Option<Normalisation>,
    /// Where a series' test windows lie in time, for [`point_scores`].
    pub series: Option<SeriesWindows>,
}

/// The test windows of a series: window `i` covers steps `i·stride .. i·stride + length`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesWindows {
    pub channels: usize,
    pub length: usize,
    pub stride: usize,
    /// Steps of the test series.
    pub steps: usize,
    /// One label per test step (1: inside a labelled anomaly), or empty.
    pub labels: Vec<u8>,
}

impl AnomalySet {
    /// The share of the training rows that are anomalies.
    pub fn contamination(&self) -> f64 {
        self.train_anomalies as f64 / self.train.len().max(1) as f64
    }

    /// The number of anomalous test rows.
    pub fn test_anomalies(&self) -> usize {
        self.anomalous.iter().filter(|&&a| a).count()
    }

    /// Rows of `raw` (images, or a table not yet standardised) whose label is in `normal`
    /// are normal, the others anomalies. The training set is the normal training rows plus
    /// anomalous training rows, drawn at random with `seed`, so that they make up the share
    /// `contamination` of it (as near as whole rows allow; all there are when there are too
    /// few). A table is then standardised on that training set.
    pub fn by_label(raw: Split, normal: &[u8], contamination: f64, seed: u32) -> Result<Self> {
        let Split { train, test, .. } = raw;
        if !train.has_labels() || !test.has_labels() {
            return Err(Error::Input(
                "this data has no labels, so no row can be told normal or anomalous: give a \
                 label column (for a CSV table) or another set of anomalies"
                    .into(),
            ));
        }
        if normal.is_empty() {
            return Err(Error::Input("name at least one normal class".into()));
        }
        let is_normal = |l: &u8| normal.contains(l);
        let anomalous: Vec<bool> = test.labels.iter().map(|l| !is_normal(l)).collect();
        let classes = |d: &Dataset| {
            let mut c: Vec<u8> = d.labels.clone();
            c.sort_unstable();
            c.dedup();
            c.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
        };
        if !train.labels.iter().any(is_normal) {
            return Err(Error::Input(format!(
                "no training row has a normal label ({}); the labels are {}",
                list(normal),
                classes(&train)
            )));
        }
        let (rows, mixed) = mix(&train, |i| !is_normal(&train.labels[i]), contamination, seed)?;
        let set = AnomalySet {
            train: rows,
            test,
            anomalous,
            train_anomalies: mixed,
            normalisation: None,
            series: None,
        };
        set.checked()?.standardised()
    }

    /// Every row of `normal` is normal and every row of `outliers` (a data set of the same
    /// shape, such as digits for an autoencoder of clothes) an anomaly. The training set is
    /// `normal`'s training rows plus `outliers`' training rows drawn to the share
    /// `contamination`; the test set is both test splits, `normal`'s first.
    pub fn against(normal: Split, outliers: Split, contamination: f64, seed: u32) -> Result<Self> {
        if normal.shape() != outliers.shape() {
            return Err(Error::Input(format!(
                "the anomalies' rows are {}, the normal rows {}: they must be alike",
                outliers.shape(),
                normal.shape()
            )));
        }
        let mixed = contaminate(normal.train.len(), outliers.train.len(), contamination, seed)?;
        let shape = normal.shape();
        let train = concat(shape, &normal.train, &outliers.train.pick(&mixed))?;
        let test = concat(shape, &normal.test, &outliers.test)?;
        let mut anomalous = vec![false; normal.test.len()];
        anomalous.resize(test.len(), true);
        let set = AnomalySet {
            train,
            test,
            anomalous,
            train_anomalies: mixed.len(),
            normalisation: None,
            series: None,
        };
        set.checked()?.standardised()
    }

    /// A series cut into windows: a window is anomalous when any of its steps is labelled.
    /// The training windows are the normal ones, with anomalous training windows mixed in to
    /// the share `contamination` (the archives' training series are normal throughout, so
    /// there the share must be 0). Each channel is standardised on the training series.
    pub fn series(
        s: &SeriesSplit,
        windows: Windows,
        contamination: f64,
        seed: u32,
    ) -> Result<Self> {
        let cut = s.windows(windows, None).map_err(|e| Error::Input(e.to_string()))?;
        let Split { train, test, normalisation } = cut;
        let flags = |d: &Dataset| -> Vec<bool> {
            if d.has_labels() {
                d.labels.iter().map(|&l| l != 0).collect()
            } else {
                vec![false; d.len()]
            }
        };
        let train_flags = flags(&train);
        if contamination > 0.0 && !train_flags.contains(&true) {
            return Err(Error::Input(
                "the training series has no labelled anomaly to mix in: its contamination must \
                 be 0"
                    .into(),
            ));
        }
        let (rows, mixed) = mix(&train, |i| train_flags[i], contamination, seed)?;
        let set = AnomalySet {
            train: rows,
            anomalous: flags(&test),
            test,
            train_anomalies: mixed,
            normalisation,
            series: Some(SeriesWindows {
                channels: s.test.channels,
                length: windows.length,
                stride: windows.stride,
                steps: s.test.steps(),
                labels: s.test.labels.clone(),
            }),
        };
        set.checked()
    }

    /// Refuses a set that cannot give a figure: no normal training row, or a test set
    /// without both kinds of row.
    fn checked(self) -> Result<Self> {
        if self.train.len() == self.train_anomalies {
            return Err(Error::Input("no normal training row is left to learn from".into()));
        }
        let anomalies = self.test_anomalies();
        if anomalies == 0 {
            return Err(Error::Input(
                "every test row is normal: with no anomaly to find there is nothing to measure"
                    .into(),
            ));
        }
        if anomalies == self.test.len() {
            return Err(Error::Input(
                "every test row is an anomaly: with no normal row to tell them from there is \
                 nothing to measure"
                    .into(),
            ));
        }
        Ok(self)
    }

    /// A table standardised per feature on the training rows (images pass unchanged).
    fn standardised(mut self) -> Result<Self> {
        let InputShape::Vector { features } = self.train.shape else { return Ok(self) };
        let norm = Normalisation::fit_groups(&self.train.rows_f32(0..self.train.len()), features);
        norm.validate(features).map_err(Error::Input)?;
        for d in [&mut self.train, &mut self.test] {
            d.values = Values::from(norm.apply(&d.rows_f32(0..d.len())));
        }
        self.normalisation = Some(norm);
        Ok(self)
    }
}

/// "0, 1 and 7"-style list of classes.
fn list(classes: &[u8]) -> String {
    classes.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// Which of `available` anomalies (indices into them, in a random order drawn with `seed`)
/// join `normal` normal rows so that they make up the share `contamination`.
fn contaminate(
    normal: usize,
    available: usize,
    contamination: f64,
    seed: u32,
) -> Result<Vec<usize>> {
    if !(0.0..=MAX_CONTAMINATION).contains(&contamination) {
        return Err(Error::Input(format!(
            "contamination {contamination}: the share of anomalies in the training rows is a \
             number from 0 to {MAX_CONTAMINATION}"
        )));
    }
    let wanted = (contamination / (1.0 - contamination) * normal as f64).round() as usize;
    if contamination > 0.0 && available == 0 {
        return Err(Error::Input(
            "no anomalous training row to mix in: the contamination must be 0".into(),
        ));
    }
    let n = wanted.min(available);
    // The first n of a random permutation of the available rows, in their own order.
    let mut chosen: Vec<usize> = (0..n)
        .map(|i| rng::permute(i as u32, available as u32, seed, 0x00A0_0A11) as usize)
        .collect();
    chosen.sort_unstable();
    Ok(chosen)
}

/// The training rows of `train`: every normal one (in order), then anomalous ones (rows for
/// which `anomalous` holds) drawn to the share `contamination`. Returns them and how many of
/// them are anomalies.
fn mix(
    train: &Dataset,
    anomalous: impl Fn(usize) -> bool,
    contamination: f64,
    seed: u32,
) -> Result<(Dataset, usize)> {
    let (normal, anomalies): (Vec<usize>, Vec<usize>) =
        (0..train.len()).partition(|&i| !anomalous(i));
    let mixed = contaminate(normal.len(), anomalies.len(), contamination, seed)?;
    let picks: Vec<usize> =
        normal.iter().copied().chain(mixed.iter().map(|&k| anomalies[k])).collect();
    Ok((train.pick(&picks), mixed.len()))
}

/// `a`'s rows, then `b`'s. Labels are kept only when both sets have them.
fn concat(shape: InputShape, a: &Dataset, b: &Dataset) -> Result<Dataset> {
    let values = match (&a.values, &b.values) {
        (Values::Bytes(x), Values::Bytes(y)) => Values::from([&x[..], &y[..]].concat()),
        _ => Values::from([a.rows_f32(0..a.len()), b.rows_f32(0..b.len())].concat()),
    };
    let labels = if a.has_labels() && b.has_labels() {
        [&a.labels[..], &b.labels[..]].concat()
    } else {
        vec![]
    };
    if a.shape != b.shape {
        return Err(Error::Input(format!("rows of {} and {} cannot be mixed", a.shape, b.shape)));
    }
    Ok(Dataset { shape, values, labels })
}

/// The scores of a set of rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Scores {
    /// Mean squared error per value of the reconstruction (a VAE decodes μ), per row.
    pub reconstruction: Vec<f64>,
    /// VAE: the negative ELBO per row, −log p(x | z) + KL(q(z|x) ‖ N(0, I)) with the
    /// reconstruction term at z = μ: binary cross-entropy summed over pixels for a model
    /// trained with BCE, the squared error summed over values for one trained with MSE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elbo: Option<Vec<f64>>,
    /// VAE: KL(q(z|x) ‖ N(0, I)) per row, from the encoder alone: how unlikely the code is
    /// under the prior.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder: Option<Vec<f64>>,
    /// The squared error of each value (row after row, as the rows): the error maps.
    #[serde(skip)]
    pub errors: Vec<f32>,
    /// The reconstructions, row after row.
    #[serde(skip)]
    pub reconstructions: Vec<f32>,
}

impl Scores {
    /// The scores by name, in a fixed order: `reconstruction`, then `elbo` and `encoder`
    /// when present.
    pub fn named(&self) -> Vec<(&'static str, &[f64])> {
        let mut out = vec![("reconstruction", &self.reconstruction[..])];
        if let Some(e) = &self.elbo {
            out.push(("elbo", e));
        }
        if let Some(e) = &self.encoder {
            out.push(("encoder", e));
        }
        out
    }
}

/// Scores every row of `rows` (n × D, as the model takes them) with the model of `ex`.
pub async fn score(ex: &mut Executor, rows: &[f32]) -> Result<Scores> {
    const CHUNK: usize = 1024;
    let d = ex.program().input_size();
    let spec = ex.program().spec.clone();
    if spec.kind.is_conditional() {
        return Err(Error::Input(
            "a conditional model needs each row's label, which an anomaly detector is not given"
                .into(),
        ));
    }
    let bce =
        spec.loss == ReconLoss::Bce && spec.output_for(&ex.program().shape) == Output::Sigmoid;
    let variational = spec.kind.is_variational();
    let mut out = Scores {
        elbo: variational.then(Vec::new),
        encoder: variational.then(Vec::new),
        errors: Vec::with_capacity(rows.len()),
        reconstructions: Vec::with_capacity(rows.len()),
        ..Scores::default()
    };
    for x in rows.chunks(CHUNK * d) {
        let enc = ex.encode(x).await?;
        let y = ex.decode(&enc.mu).await?;
        for (r, (xr, yr)) in x.chunks_exact(d).zip(y.chunks_exact(d)).enumerate() {
            let mut se = 0f64;
            let mut nll = 0f64;
            for (&t, &p) in xr.iter().zip(yr) {
                let e = (p - t) * (p - t);
                out.errors.push(e);
                se += f64::from(e);
                if bce {
                    let (p, t) = (f64::from(p), f64::from(t));
                    nll -= t * p.ln().max(-100.0) + (1.0 - t) * (1.0 - p).ln().max(-100.0);
                }
            }
            out.reconstruction.push(se / d as f64);
            if let (Some(elbo), Some(encoder), Some(logvar)) =
                (&mut out.elbo, &mut out.encoder, &enc.logvar)
            {
                let z = enc.latent;
                let kl: f64 = (0..z)
                    .map(|j| {
                        let (m, lv) = (f64::from(enc.mu[r * z + j]), f64::from(logvar[r * z + j]));
                        -0.5 * (1.0 + lv - m * m - lv.exp())
                    })
                    .sum();
                encoder.push(kl);
                elbo.push(if bce { nll } else { se } + kl);
            }
        }
        out.reconstructions.extend(y);
    }
    if let Some(i) = out.named().iter().find_map(|(_, s)| s.iter().position(|v| !v.is_finite())) {
        return Err(Error::Input(format!(
            "the model's score of row {i} is not a finite number: the model has diverged"
        )));
    }
    Ok(out)
}

/// The reconstruction error per row (mean squared error per value) of PCA fitted on the
/// training rows with `k` components: the linear baseline at the model's width. The squared
/// error of each value goes to [`Scores::errors`].
pub fn pca_score(train: &Dataset, rows: &[f32], k: usize) -> Result<(Pca, Scores)> {
    let d = train.shape.size();
    let pca = Pca::fit(&train.rows_f32(0..train.len()), d, k)?;
    let back = pca.reconstruct(rows);
    let errors: Vec<f32> = back.iter().zip(rows).map(|(&p, &t)| (p - t) * (p - t)).collect();
    let reconstruction = errors
        .chunks_exact(d)
        .map(|r| r.iter().map(|&e| f64::from(e)).sum::<f64>() / d as f64)
        .collect();
    Ok((pca, Scores { reconstruction, errors, reconstructions: back, ..Scores::default() }))
}

/// Counts at one threshold: a row is flagged when its score is at or above it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Anomalies flagged.
    pub tp: usize,
    /// Normal rows flagged.
    pub fp: usize,
    /// Normal rows passed.
    pub tn: usize,
    /// Anomalies passed (the misses).
    pub fn_: usize,
}

impl Confusion {
    /// The counts of `scores` against `anomalous` at `threshold`.
    pub fn at(scores: &[f64], anomalous: &[bool], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &a) in scores.iter().zip(anomalous) {
            match (s >= threshold, a) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        c
    }

    /// Of the flagged rows, the share that are anomalies (1 when nothing is flagged).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp).unwrap_or(1.0)
    }

    /// Of the anomalies, the share flagged.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_).unwrap_or(0.0)
    }

    /// Of the normal rows, the share flagged.
    pub fn false_positive_rate(&self) -> f64 {
        ratio(self.fp, self.fp + self.tn).unwrap_or(0.0)
    }

    /// The harmonic mean of precision and recall, 2·tp / (2·tp + fp + fn).
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_).unwrap_or(0.0)
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// One threshold of a [`Curve`]: the rows scored at or above it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cut {
    pub threshold: f64,
    /// Anomalies at or above the threshold.
    pub tp: usize,
    /// Normal rows at or above the threshold.
    pub fp: usize,
}

/// Every distinct threshold of a set of scores, from the highest score down, with the counts
/// it flags: ROC, precision–recall and F1 at every threshold from one sort. Rows with equal
/// scores cross a threshold together, so ties count as they should (half, in the AUC).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Curve {
    pub cuts: Vec<Cut>,
    /// Anomalies.
    pub positives: usize,
    /// Normal rows.
    pub negatives: usize,
}

impl Curve {
    /// The curve of `scores` (finite numbers) against `anomalous` (at least one of each).
    pub fn new(scores: &[f64], anomalous: &[bool]) -> Result<Curve> {
        if scores.len() != anomalous.len() {
            return Err(Error::Input(format!(
                "{} scores for {} rows",
                scores.len(),
                anomalous.len()
            )));
        }
        if let Some(i) = scores.iter().position(|s| s.is_nan()) {
            return Err(Error::Input(format!("the score of row {i} is not a number")));
        }
        let positives = anomalous.iter().filter(|&&a| a).count();
        let negatives = anomalous.len() - positives;
        if positives == 0 || negatives == 0 {
            return Err(Error::Input("a curve needs both anomalous and normal rows".into()));
        }
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        let mut cuts: Vec<Cut> = Vec::new();
        let (mut tp, mut fp) = (0, 0);
        for (k, &i) in order.iter().enumerate() {
            if anomalous[i] {
                tp += 1;
            } else {
                fp += 1;
            }
            let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
            if last_of_tie {
                cuts.push(Cut { threshold: scores[i], tp, fp });
            }
        }
        Ok(Curve { cuts, positives, negatives })
    }

    /// The ROC curve as (false-positive rate, true-positive rate), from (0, 0) to (1, 1).
    pub fn roc(&self) -> Vec<[f64; 2]> {
        let (p, n) = (self.positives as f64, self.negatives as f64);
        std::iter::once([0.0, 0.0])
            .chain(self.cuts.iter().map(|c| [c.fp as f64 / n, c.tp as f64 / p]))
            .collect()
    }

    /// The area under the ROC curve (trapezoids: a tie is a diagonal step, worth half). The
    /// chance that a random anomaly scores above a random normal row.
    pub fn roc_auc(&self) -> f64 {
        let roc = self.roc();
        roc.windows(2).map(|w| (w[1][0] - w[0][0]) * (w[1][1] + w[0][1]) / 2.0).sum()
    }

    /// The precision–recall curve as (recall, precision), one point per threshold, from the
    /// highest threshold down.
    pub fn pr(&self) -> Vec<[f64; 2]> {
        let p = self.positives as f64;
        self.cuts.iter().map(|c| [c.tp as f64 / p, c.tp as f64 / (c.tp + c.fp) as f64]).collect()
    }

    /// The average precision: Σ (Rₖ − Rₖ₋₁)·Pₖ over the thresholds, the area under the
    /// precision–recall curve as a step function (scikit-learn's `average_precision_score`).
    pub fn average_precision(&self) -> f64 {
        let mut previous = 0.0;
        let mut sum = 0.0;
        for [r, p] in self.pr() {
            sum += (r - previous) * p;
            previous = r;
        }
        sum
    }

    /// The counts at one of the curve's thresholds.
    pub fn confusion(&self, cut: &Cut) -> Confusion {
        Confusion {
            tp: cut.tp,
            fp: cut.fp,
            tn: self.negatives - cut.fp,
            fn_: self.positives - cut.tp,
        }
    }

    /// The threshold with the best F1, and that F1 (the highest threshold among equals).
    pub fn best_f1(&self) -> (f64, f64) {
        let mut best = (f64::INFINITY, 0.0);
        for cut in &self.cuts {
            let f1 = self.confusion(cut).f1();
            if f1 > best.1 {
                best = (cut.threshold, f1);
            }
        }
        best
    }
}

/// The figures of one score on a test set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Figures {
    pub roc_auc: f64,
    /// The average precision: the precision–recall curve's area.
    pub pr_auc: f64,
    pub best_f1: f64,
    /// The threshold at which F1 is best.
    pub best_threshold: f64,
    /// Series: whether the top-scored time step lies within a labelled anomaly ± 100 steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ucr_hit: Option<bool>,
    /// Series: that time step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_point: Option<usize>,
}

impl Figures {
    pub fn of(scores: &[f64], anomalous: &[bool]) -> Result<Figures> {
        let curve = Curve::new(scores, anomalous)?;
        let (best_threshold, best_f1) = curve.best_f1();
        Ok(Figures {
            roc_auc: curve.roc_auc(),
            pr_auc: curve.average_precision(),
            best_f1,
            best_threshold,
            ucr_hit: None,
            top_point: None,
        })
    }
}

/// A score per time step of a series from a score per test window (`window_scores`) or a
/// squared error per value of each window (`errors`, channels × length per window, as the
/// windows' rows): the mean over the windows that cover the step (and over the channels).
pub fn point_scores(w: &SeriesWindows, window_scores: &[f64], errors: Option<&[f32]>) -> Vec<f64> {
    let mut sum = vec![0f64; w.steps];
    let mut count = vec![0u32; w.steps];
    let values = w.channels * w.length;
    for (i, &s) in window_scores.iter().enumerate() {
        let t0 = i * w.stride;
        for k in 0..w.length {
            let Some(slot) = sum.get_mut(t0 + k) else { break };
            *slot += match errors {
                Some(e) => {
                    let row = &e[i * values..(i + 1) * values];
                    (0..w.channels).map(|c| f64::from(row[c * w.length + k])).sum::<f64>()
                        / w.channels as f64
                }
                None => s,
            };
            count[t0 + k] += 1;
        }
    }
    sum.iter().zip(&count).map(|(&s, &c)| if c == 0 { 0.0 } else { s / f64::from(c) }).collect()
}

/// The time step with the highest score, and whether it lies within a labelled region
/// (a run of labels ≠ 0) widened by [`UCR_MARGIN`] steps on each side.
pub fn ucr_hit(points: &[f64], labels: &[u8]) -> (usize, bool) {
    let top = points
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(i, _)| i);
    let lo = top.saturating_sub(UCR_MARGIN);
    let hi = (top + UCR_MARGIN + 1).min(labels.len());
    (top, labels.get(lo..hi).is_some_and(|l| l.iter().any(|&v| v != 0)))
}

/// A series again from its windows' rows (channels × length each, as [`SeriesWindows`]
/// lays them out): each step the mean over the windows that cover it, steps × channels
/// (channels interleaved, as a series' values). Steps no window covers are 0.
pub fn unwindow(w: &SeriesWindows, rows: &[f32]) -> Vec<f32> {
    let mut sum = vec![0f32; w.steps * w.channels];
    let mut count = vec![0u32; w.steps];
    for (i, row) in rows.chunks_exact(w.channels * w.length).enumerate() {
        let t0 = i * w.stride;
        for k in 0..w.length.min(w.steps.saturating_sub(t0)) {
            for c in 0..w.channels {
                sum[(t0 + k) * w.channels + c] += row[c * w.length + k];
            }
            count[t0 + k] += 1;
        }
    }
    for (t, &n) in count.iter().enumerate() {
        if n > 0 {
            sum[t * w.channels..(t + 1) * w.channels].iter_mut().for_each(|v| *v /= n as f32);
        }
    }
    sum
}

/// The series' figures: [`Figures::of`] the windows, with [`ucr_hit`] of the per-step score.
pub fn series_figures(
    w: &SeriesWindows,
    scores: &[f64],
    errors: Option<&[f32]>,
    anomalous: &[bool],
) -> Result<Figures> {
    let mut f = Figures::of(scores, anomalous)?;
    let (top, hit) = ucr_hit(&point_scores(w, scores, errors), &w.labels);
    f.top_point = Some(top);
    f.ucr_hit = Some(hit);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(scores: &[f64], anomalous: &[u8]) -> Curve {
        let a: Vec<bool> = anomalous.iter().map(|&v| v == 1).collect();
        Curve::new(scores, &a).unwrap()
    }

    #[test]
    fn roc_auc_is_the_chance_an_anomaly_outscores_a_normal_row() {
        // Anomalies 0.9, 0.4; normal 0.8, 0.3, 0.1. Pairs (a > n): 0.9 beats all 3, 0.4
        // beats 0.3 and 0.1: 5 of 6.
        let c = curve(&[0.9, 0.8, 0.4, 0.3, 0.1], &[1, 0, 1, 0, 0]);
        assert!((c.roc_auc() - 5.0 / 6.0).abs() < 1e-12, "{}", c.roc_auc());
        assert_eq!(c.roc().first(), Some(&[0.0, 0.0]));
        assert_eq!(c.roc().last(), Some(&[1.0, 1.0]));
        // Perfect and reversed orders.
        assert_eq!(curve(&[3.0, 2.0, 1.0], &[1, 0, 0]).roc_auc(), 1.0);
        assert_eq!(curve(&[3.0, 2.0, 1.0], &[0, 0, 1]).roc_auc(), 0.0);
    }

    #[test]
    fn tied_scores_count_half() {
        // Every score equal: one cut, the diagonal, AUC ½.
        let c = curve(&[1.0, 1.0, 1.0, 1.0], &[1, 0, 0, 1]);
        assert_eq!(c.cuts.len(), 1);
        assert_eq!(c.roc_auc(), 0.5);
        // Anomalies 2, 1; normal 1, 0: pairs (2,1) win, (2,0) win, (1,1) tie, (1,0) win:
        // (3 + ½) / 4.
        let c = curve(&[2.0, 1.0, 1.0, 0.0], &[1, 1, 0, 0]);
        assert_eq!(c.roc_auc(), 3.5 / 4.0);
        assert_eq!(
            c.cuts,
            vec![
                Cut { threshold: 2.0, tp: 1, fp: 0 },
                Cut { threshold: 1.0, tp: 2, fp: 1 },
                Cut { threshold: 0.0, tp: 2, fp: 2 },
            ]
        );
    }

    #[test]
    fn average_precision_matches_a_hand_computation() {
        // Sorted: a(0.9) n(0.8) a(0.4) n(0.3) n(0.1). Recall steps at the 1st and 3rd rows:
        // ½·1 + ½·(2/3).
        let c = curve(&[0.9, 0.8, 0.4, 0.3, 0.1], &[1, 0, 1, 0, 0]);
        assert!((c.average_precision() - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        // A tie across the classes at the top: both enter together, precision ½ at recall 1.
        let c = curve(&[1.0, 1.0, 0.0], &[1, 0, 0]);
        assert_eq!(c.average_precision(), 0.5);
        // Perfect ranking: 1.
        assert_eq!(curve(&[5.0, 4.0, 1.0], &[1, 1, 0]).average_precision(), 1.0);
    }

    #[test]
    fn best_f1_and_the_counts_at_a_threshold() {
        let scores = [0.9, 0.8, 0.4, 0.3, 0.1];
        let anomalous = [true, false, true, false, false];
        let c = Curve::new(&scores, &anomalous).unwrap();
        // At 0.9: tp 1, fp 0, fn 1 → 2/3. At 0.4: tp 2, fp 1 → 4/5. At 0.8: 2/4.
        let (threshold, f1) = c.best_f1();
        assert_eq!(threshold, 0.4);
        assert!((f1 - 0.8).abs() < 1e-12);
        let at = Confusion::at(&scores, &anomalous, 0.4);
        assert_eq!(at, Confusion { tp: 2, fp: 1, tn: 2, fn_: 0 });
        assert_eq!(at.tp + at.fp + at.tn + at.fn_, scores.len());
        assert!((at.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(at.recall(), 1.0);
        assert_eq!(at.false_positive_rate(), 1.0 / 3.0);
        // The curve's own counts agree with counting directly, at every threshold.
        for cut in &c.cuts {
            assert_eq!(c.confusion(cut), Confusion::at(&scores, &anomalous, cut.threshold));
        }
        // Above every score nothing is flagged: precision is taken as 1, recall 0.
        let none = Confusion::at(&scores, &anomalous, 2.0);
        assert_eq!((none.precision(), none.recall(), none.f1()), (1.0, 0.0, 0.0));
    }

    #[test]
    fn a_curve_refuses_what_has_no_answer() {
        assert!(Curve::new(&[1.0, 2.0], &[true, true]).is_err());
        assert!(Curve::new(&[1.0, 2.0], &[false, false]).is_err());
        assert!(Curve::new(&[1.0, f64::NAN], &[true, false]).is_err());
        assert!(Curve::new(&[1.0], &[true, false]).is_err());
    }

    fn labelled(labels: &[u8], features: usize) -> Dataset {
        let values: Vec<f32> = labels
            .iter()
            .enumerate()
            .flat_map(|(i, &l)| {
                (0..features).map(move |j| (i * 3 + j) as f32 + f32::from(l) * 10.0)
            })
            .collect();
        Dataset {
            shape: InputShape::Vector { features },
            values: Values::from(values),
            labels: labels.to_vec(),
        }
    }

    #[test]
    fn the_training_rows_are_the_normal_ones_and_the_chosen_share_of_anomalies() {
        let train = labelled(&[0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0], 2);
        let test = labelled(&[0, 1, 0, 1], 2);
        let split = || Split { train: train.clone(), test: test.clone(), normalisation: None };
        let clean = AnomalySet::by_label(split(), &[0], 0.0, 1).unwrap();
        assert_eq!(clean.train.len(), 8);
        assert!(clean.train.labels.iter().all(|&l| l == 0));
        assert_eq!(clean.anomalous, vec![false, true, false, true]);
        assert_eq!(clean.contamination(), 0.0);
        // The table is standardised on the normal training rows: their mean is 0.
        let x = clean.train.rows_f32(0..clean.train.len());
        let mean: f32 = x.iter().step_by(2).sum::<f32>() / 8.0;
        assert!(mean.abs() < 1e-5, "{mean}");
        // 20 %: 2 anomalies beside 8 normal rows; asking for more than there are gives all 4.
        let dirty = AnomalySet::by_label(split(), &[0], 0.2, 1).unwrap();
        assert_eq!((dirty.train.len(), dirty.train_anomalies), (10, 2));
        assert_eq!(dirty.train.labels.iter().filter(|&&l| l == 1).count(), 2);
        assert!((dirty.contamination() - 0.2).abs() < 1e-12);
        let all = AnomalySet::by_label(split(), &[0], 0.5, 1).unwrap();
        assert_eq!(all.train_anomalies, 4);
        // Another seed draws other anomalies, the same number.
        let picks = |seed| {
            let s = AnomalySet::by_label(split(), &[0], 0.2, seed).unwrap();
            s.train.rows_f32(8..10)
        };
        assert_eq!(picks(1), picks(1));
        assert!((1..20).any(|seed| picks(seed) != picks(1)));
        // Several normal classes: every 0 and 1 is normal, and then no test row is anomalous.
        assert!(AnomalySet::by_label(split(), &[0, 1], 0.0, 1).is_err());
        assert!(AnomalySet::by_label(split(), &[0], 0.6, 1).is_err());
        assert!(AnomalySet::by_label(split(), &[7], 0.0, 1)
            .unwrap_err()
            .to_string()
            .contains("0, 1"));
    }

    #[test]
    fn an_outlier_set_is_all_anomalies() {
        let shape = InputShape::Vector { features: 2 };
        let rows = |n: usize, v: f32| Dataset {
            shape,
            values: Values::from(vec![v; 2 * n]),
            labels: vec![],
        };
        let normal = Split { train: rows(6, 1.0), test: rows(3, 1.0), normalisation: None };
        let outliers = Split { train: rows(4, 5.0), test: rows(2, 5.0), normalisation: None };
        let set = AnomalySet::against(normal.clone(), outliers.clone(), 0.25, 3).unwrap();
        assert_eq!(set.anomalous, vec![false, false, false, true, true]);
        assert_eq!((set.train.len(), set.train_anomalies), (8, 2));
        let other = Split {
            train: Dataset { shape: InputShape::Vector { features: 3 }, ..rows(1, 0.0) },
            ..outliers
        };
        assert!(AnomalySet::against(normal, other, 0.0, 3).is_err());
    }

    #[test]
    fn a_series_scores_its_steps_and_finds_the_labelled_region() {
        let w = SeriesWindows { channels: 1, length: 4, stride: 2, steps: 10, labels: vec![] };
        // Windows start at 0, 2, 4, 6: step 5 is covered by windows 1 and 2.
        let p = point_scores(&w, &[0.0, 1.0, 3.0, 0.0], None);
        assert_eq!(p[5], 2.0);
        assert_eq!(p[0], 0.0);
        assert_eq!(p[9], 0.0);
        // With per-value errors, step 5 is value 3 of window 1 and value 1 of window 2.
        let mut errors = vec![0f32; 16];
        errors[4 + 3] = 2.0;
        errors[8 + 1] = 4.0;
        assert_eq!(point_scores(&w, &[0.0; 4], Some(&errors))[5], 3.0);
        // The top point is a hit within 100 steps of a labelled run, a miss beyond.
        let mut labels = vec![0u8; 400];
        labels[200..210].fill(1);
        let mut points = vec![0.0; 400];
        points[305] = 1.0;
        assert_eq!(ucr_hit(&points, &labels), (305, true));
        points[311] = 2.0;
        assert_eq!(ucr_hit(&points, &labels), (311, false));
    }

    #[test]
    fn windows_put_back_together_give_the_series() {
        // Two channels, 9 steps, windows of 4 every 2: steps 8 is left uncovered.
        let w = SeriesWindows { channels: 2, length: 4, stride: 2, steps: 9, labels: vec![] };
        let series: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let rows: Vec<f32> = (0..3)
            .flat_map(|i| {
                let series = &series;
                (0..2).flat_map(move |c| (0..4).map(move |k| series[(2 * i + k) * 2 + c]))
            })
            .collect();
        let back = unwindow(&w, &rows);
        assert_eq!(&back[..16], &series[..16]);
        assert_eq!(&back[16..], &[0.0, 0.0]);
    }
}
