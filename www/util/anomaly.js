// Anomaly detection's arithmetic on the page side: counts at a threshold, the histogram of
// scores, which rows to show. Pure functions, no DOM. The engine computes the scores and the
// curves (src/anomaly.rs); a row is flagged when its score is at or above the threshold, as
// there.

/** What each score is, for a learner. */
export const SCORES = Object.freeze({
  reconstruction: {
    label: 'Reconstruction error',
    short: 'reconstruction',
    explain: 'the mean squared error of the model’s reconstruction, per value',
  },
  elbo: {
    label: 'Negative ELBO (VAE)',
    short: '−ELBO',
    explain: 'the VAE’s loss on the row: how badly it rebuilds it plus how far its code is from the prior',
  },
  encoder: {
    label: 'Encoder only: KL(q(z|x) ‖ N(0, I))',
    short: 'encoder KL',
    explain: 'how unlikely the row’s code is under N(0, I), from the encoder alone: no decoder runs',
  },
  pca: {
    label: 'PCA reconstruction error',
    short: 'PCA',
    explain: 'the error of the best linear reconstruction with as many numbers as the code',
  },
});

/** Counts of `scores` against `anomalous` (0/1 per row) at `threshold`, and their ratios. */
export function confusion(scores, anomalous, threshold) {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const flagged = scores[i] >= threshold;
    if (anomalous[i]) flagged ? tp++ : fn++;
    else flagged ? fp++ : tn++;
  }
  const ratio = (a, b, none) => (b > 0 ? a / b : none);
  return {
    tp,
    fp,
    tn,
    fn,
    precision: ratio(tp, tp + fp, 1),
    recall: ratio(tp, tp + fn, 0),
    fpr: ratio(fp, fp + tn, 0),
    f1: ratio(2 * tp, 2 * tp + fp + fn, 0),
  };
}

/**
 * The histogram of `scores` in `bins` bins from the smallest to the largest score (on a log
 * axis with `log`, over the positive scores), normal and anomalous rows counted apart:
 * {lo, hi, log, edges (bins + 1), normal, anomalous (counts per bin)}. On a log axis a
 * score ≤ 0 counts in the first bin.
 */
export function histogram(scores, anomalous, { bins = 40, log = false } = {}) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of scores) {
    if (!Number.isFinite(s) || (log && s <= 0)) continue;
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  if (!(hi > lo)) {
    lo = Number.isFinite(lo) ? lo : log ? 1 : 0;
    hi = lo + (log ? lo : 1);
  }
  const at = log ? (s) => Math.log10(Math.max(s, lo)) : (s) => s;
  const a = at(lo);
  const width = (at(hi) - a) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, k) => (log ? 10 ** (a + k * width) : a + k * width));
  const normal = new Array(bins).fill(0);
  const anomalousCounts = new Array(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((at(scores[i]) - a) / width)));
    (anomalous[i] ? anomalousCounts : normal)[k]++;
  }
  return { lo, hi, log, edges, normal, anomalous: anomalousCounts };
}

/**
 * The rows a learner looks at: `top`, the `k` highest scores (the most anomalous-looking
 * rows, whatever they are), and `misses`, the `k` anomalies with the lowest scores (the ones a
 * detector lets through first). Indices into `scores`.
 */
export function examples(scores, anomalous, k = 6) {
  const order = Array.from(scores, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const top = order.slice(0, k);
  const misses = order.filter((i) => anomalous[i]).slice(-k).reverse();
  return { top, misses };
}

/** The point of a curve (pairs x, y, …) nearest to (x, y): for marking a threshold on it. */
export function onCurve(points, x, y) {
  let best = 0;
  let d = Infinity;
  for (let i = 0; i < points.length; i += 2) {
    const e = (points[i] - x) ** 2 + (points[i + 1] - y) ** 2;
    if (e < d) {
      d = e;
      best = i;
    }
  }
  return [points[best], points[best + 1]];
}
