// The anomaly-detection views, one card per idea:
//   AnomalyDetector (part "anomaly"): which rows are normal, the contamination, the histogram
//     of the held-out rows' scores (normal and anomalous apart) with a threshold to drag,
//     and the counts it gives; the drawing on the pad scored against it.
//   AnomalyCurves (part "anomaly-curves"): ROC and precision–recall, the model's score and
//     PCA's on the same axes, the threshold's point on both.
//   AnomalyExamples (part "anomaly-examples"): the most anomalous held-out rows and the
//     anomalies that look most normal (the misses), each with its error map.
//   AnomalySeries (part "anomaly-series"): for a series, the test series with its
//     reconstruction, the error along time, the labelled anomaly and the flagged windows.
// The scores come from the engine (anomaly-views.js fetches them); these only draw.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { formatSig } from '../util/format.js';
import { linearScale, logScale } from '../util/scale.js';
import { SCORES, confusion, histogram, onCurve } from '../util/anomaly.js';
import { MAX_CONTAMINATION } from '../util/datasets.js';

const colors = (el) => ({
  text: cssColor(el, '--ll-text', '#222'),
  muted: cssColor(el, '--ll-muted', '#666'),
  grid: cssColor(el, '--ll-grid', '#ddd'),
  normal: cssColor(el, '--ll-recon', '#2f5bd3'),
  anomalous: cssColor(el, '--ll-kl', '#c2336b'),
  ok: cssColor(el, '--ll-ok', '#1a7f37'),
  ink: cssColor(el, '--ll-ink', '#111'),
  paper: cssColor(el, '--ll-paper', '#fff'),
  warn: cssColor(el, '--ll-warn', '#9a6700'),
});

function readout(into, key, label) {
  into[key] = h('dd', { 'data-readout': key }, '–');
  return h('div', {}, h('dt', {}, label), into[key]);
}

const pct = (x) => `${formatSig(100 * x, 3)} %`;

/** The detector card: setup, histogram, threshold, counts, the drawing's verdict. */
export class AnomalyDetector {
  #canvas;
  #loop;
  #setup;
  #chips = [];
  #allChip = null;
  #slider;
  #sliderValue;
  #apply;
  #status;
  #scoreSelect;
  #log;
  #readouts = {};
  #verdict;
  #drawingCanvas;
  #on;
  #state = null; // {scores, anomalous, name, threshold, names}
  #drawing = null; // {score, errors, shape}
  #setupState = { normal: [0], contamination: 0, fixed: null, disabled: false }; // what #normalChoice and the button read
  #scoreExplain;
  #hist = null;
  #dragging = false;
  #logChosen = false; // the learner set the log axis (else it follows the scores' spread)
  #drawRow;

  /**
   * `root`: the element with part="anomaly". `on`: {apply({normal, contamination}),
   * score(name), threshold(x)}.
   */
  constructor(root, on) {
    this.root = root;
    this.#on = on;
    this.#canvas = h('canvas', { class: 'plot anomaly-canvas', role: 'img', 'aria-label': 'Histogram of anomaly scores (no detector yet)', tabindex: '0' });
    this.#setup = h('div', { class: 'label-picker anomaly-normal' });
    this.#slider = h('input', { type: 'range', min: '0', max: String(MAX_CONTAMINATION), step: '0.01', value: '0', 'aria-label': 'Contamination: share of anomalies in the training rows' });
    this.#sliderValue = h('span', { class: 'noise-value' }, '0 %');
    this.#slider.addEventListener('input', () => {
      this.#sliderValue.textContent = pct(Number(this.#slider.value));
      this.#setupState.contamination = Number(this.#slider.value);
      this.#markPending();
    });
    this.#apply = h('button', { type: 'button', class: 'primary', 'data-action': 'detector' }, 'Train a detector');
    this.#apply.addEventListener('click', () => this.#on.apply({ normal: this.#normalChoice(), contamination: this.#setupState.contamination }));
    this.#status = h('p', { class: 'digits-status anomaly-status' }, '');
    this.#scoreSelect = h('select', { 'aria-label': 'Score' });
    this.#scoreSelect.addEventListener('change', () => this.#on.score(this.#scoreSelect.value));
    this.#log = h('input', { type: 'checkbox', 'aria-label': 'Log axis' });
    this.#log.addEventListener('change', () => {
      this.#logChosen = true;
      this.#repaint();
    });
    this.#verdict = h('p', { class: 'anomaly-verdict', 'data-verdict': 'none' }, 'Draw on the pad: your drawing is scored here.');
    this.#drawingCanvas = h('canvas', { class: 'anomaly-drawing', width: '56', height: '56', 'aria-label': 'Error map of your drawing' });
    root.replaceChildren(
      h('h2', {}, 'Anomaly detector'),
      h(
        'p',
        { class: 'explain' },
        'Train an autoencoder on normal rows only. It learns to rebuild what it has seen, so a row unlike them comes back badly: a large reconstruction error flags an anomaly. ' +
          'The threshold trades the two mistakes: lower it and fewer anomalies slip through, but more normal rows raise false alarms.',
      ),
      h('fieldset', { class: 'anomaly-setup' }, h('legend', {}, 'Normal rows (the detector trains on these)'), this.#setup, h('div', { class: 'slider-row' }, h('label', {}, 'Contamination'), this.#slider, this.#sliderValue), h('p', { class: 'explain anomaly-contamination' }, 'Contamination mixes that share of anomalies into the training rows, as real data would: the model learns to rebuild them too, and the detector grows blunt.'), h('div', { class: 'buttons' }, this.#apply), this.#status),
      h('div', { class: 'anomaly-controls' }, h('label', { class: 'field' }, h('span', {}, 'Score'), this.#scoreSelect), h('label', { class: 'check' }, this.#log, ' log axis')),
      (this.#scoreExplain = h('p', { class: 'explain score-explain' }, '')),
      h('div', { class: 'legend' }, h('span', { class: 'key bars' }, 'normal'), h('span', { class: 'key bars kl' }, 'anomalous'), h('span', { class: 'key drawn' }, 'threshold (drag)')),
      h('div', { class: 'plot-box' }, this.#canvas),
      h(
        'dl',
        { class: 'readouts anomaly-readouts' },
        readout(this.#readouts, 'tp', 'Anomalies caught'),
        readout(this.#readouts, 'fn', 'Anomalies missed'),
        readout(this.#readouts, 'fp', 'False alarms'),
        readout(this.#readouts, 'tn', 'Normal rows passed'),
        readout(this.#readouts, 'precision', 'Precision'),
        readout(this.#readouts, 'recall', 'Recall'),
        readout(this.#readouts, 'f1', 'F1'),
        readout(this.#readouts, 'threshold', 'Threshold'),
      ),
      (this.#drawRow = h('div', { class: 'anomaly-drawing-row' }, this.#drawingCanvas, this.#verdict)),
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
    const drag = (e) => {
      if (!this.#hist) return;
      const rect = this.#canvas.getBoundingClientRect();
      const x = this.#scale(rect.width).invert(e.clientX - rect.left);
      if (Number.isFinite(x)) this.#on.threshold(x);
    };
    this.#canvas.addEventListener('pointerdown', (e) => {
      this.#dragging = true;
      this.#canvas.setPointerCapture?.(e.pointerId);
      drag(e);
    });
    this.#canvas.addEventListener('pointermove', (e) => this.#dragging && drag(e));
    this.#canvas.addEventListener('pointerup', () => (this.#dragging = false));
    this.#canvas.addEventListener('keydown', (e) => {
      if (!this.#state || !['ArrowLeft', 'ArrowRight'].includes(e.key)) return;
      const { lo, hi, log } = this.#hist;
      const t = this.#state.threshold;
      const step = log ? 10 ** ((Math.log10(hi) - Math.log10(lo)) / 100) : (hi - lo) / 100;
      const next = log ? (e.key === 'ArrowLeft' ? t / step : t * step) : e.key === 'ArrowLeft' ? t - step : t + step;
      this.#on.threshold(next);
      e.preventDefault();
    });
    this.root.dataset.mode = 'setup';
  }

  /**
   * What can be normal for this data: `classes` (names of the labels; null for a series),
   * `allowAll` (every row normal, another set's rows the anomalies), `fixed` (a sentence
   * when the choice is made by the labels), `canContaminate` (false: why not), and the
   * choice in force: `normal` (labels or 'all'), `contamination`, `active` (a detector runs);
   * `disabled`: no detector can be made (a table without labels); `drawable`: the pad draws
   * rows of this data (its verdict shows).
   */
  setSetup({ classes, allowAll, allName, fixed, canContaminate, normal, contamination, active, disabled = false, drawable = true }) {
    this.#drawRow.hidden = !drawable;
    this.#setupState = { normal: normal ?? [0], contamination: contamination ?? 0, fixed, disabled };
    this.#chips = [];
    this.#allChip = null;
    const toggle = (b) => {
      b.setAttribute('aria-pressed', b.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
      if (b === this.#allChip && b.getAttribute('aria-pressed') === 'true') this.#chips.forEach((c) => c.setAttribute('aria-pressed', 'false'));
      else if (b !== this.#allChip) this.#allChip?.setAttribute('aria-pressed', 'false');
      this.#markPending();
    };
    const parts = [];
    if (fixed) parts.push(h('span', { class: 'picker-title' }, fixed));
    else {
      parts.push(h('span', { class: 'picker-title' }, 'Normal:'));
      (classes ?? []).forEach((name, k) => {
        const b = h('button', { type: 'button', 'data-label': String(k), 'aria-pressed': String(normal !== 'all' && (normal ?? [0]).includes(k)) }, name);
        b.addEventListener('click', () => toggle(b));
        this.#chips.push(b);
        parts.push(b);
      });
      if (allowAll) {
        this.#allChip = h('button', { type: 'button', 'data-label': 'all', 'aria-pressed': String(normal === 'all') }, allName);
        this.#allChip.addEventListener('click', () => toggle(this.#allChip));
        parts.push(this.#allChip);
      }
    }
    this.#setup.replaceChildren(...parts);
    this.#slider.value = String(contamination ?? 0);
    this.#slider.disabled = canContaminate !== true;
    this.#slider.title = canContaminate === true ? '' : canContaminate;
    this.#sliderValue.textContent = pct(contamination ?? 0);
    this.root.dataset.mode = active ? 'detector' : 'setup';
    this.#apply.textContent = active ? 'Train a new detector' : 'Train a detector';
    this.#markPending();
  }

  /** A sentence under the setup (progress, the split's counts, or an error). */
  setStatus(text) {
    this.#status.textContent = text;
  }

  /** Scores and flags of the held-out rows, the chosen score and threshold; null: none yet. */
  setScores(state) {
    // A new model's scores: the axis follows their spread again until the learner picks.
    if (!state || !this.#state || state.name !== this.#state.name) this.#logChosen = false;
    this.#state = state;
    if (state && !this.#logChosen) {
      let lo = Infinity;
      let hi = 0;
      for (const v of state.scores[state.name]) if (v > 0 && Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
      // Scores spread over more than two decades (a table's outliers) read on a log axis.
      this.#log.checked = hi / lo > 100;
    }
    if (state) {
      const have = [...this.#scoreSelect.options].map((o) => o.value).join();
      if (have !== state.names.join()) {
        this.#scoreSelect.replaceChildren(...state.names.map((n) => h('option', { value: n }, SCORES[n]?.label ?? n)));
      }
      this.#scoreSelect.value = state.name;
      this.#scoreExplain.textContent = SCORES[state.name] ? `The score: ${SCORES[state.name].explain}.` : '';
    }
    this.#repaint();
  }

  /** The drawing's score and error map under the score in force, or null. */
  setDrawing(drawing) {
    this.#drawing = drawing;
    this.#paintVerdict();
  }

  dispose() {
    this.#loop.dispose();
  }

  #normalChoice() {
    const { fixed } = this.#setupState;
    if (fixed) return this.#setupState.normal;
    if (this.#allChip?.getAttribute('aria-pressed') === 'true') return 'all';
    return this.#chips.filter((b) => b.getAttribute('aria-pressed') === 'true').map((b) => Number(b.dataset.label));
  }

  #markPending() {
    const choice = this.#normalChoice();
    const none = Array.isArray(choice) && choice.length === 0;
    const every = Array.isArray(choice) && this.#chips.length > 0 && choice.length === this.#chips.length;
    this.#apply.disabled = none || every || this.#setupState.disabled;
    this.#apply.title = none ? 'Pick at least one normal class' : every ? 'Leave at least one class out: it becomes the anomalies' : '';
  }

  #scale(width) {
    const { lo, hi, log } = this.#hist;
    const [x0, x1] = [36, width - 8];
    const f = log ? logScale([lo, hi], [x0, x1]) : linearScale([lo, hi], [x0, x1]);
    f.invert = (px) => {
      const u = (px - x0) / (x1 - x0);
      return log ? 10 ** (Math.log10(lo) + u * (Math.log10(hi) - Math.log10(lo))) : lo + u * (hi - lo);
    };
    return f;
  }

  #repaint() {
    const s = this.#state;
    const d = this.#canvas.dataset;
    const r = this.#readouts;
    if (!s) {
      this.#hist = null;
      for (const k of Object.keys(r)) r[k].textContent = '–';
      delete d.score;
      this.#loop.schedule();
      return;
    }
    const scores = s.scores[s.name];
    this.#hist = histogram(scores, s.anomalous, { log: this.#log.checked });
    const c = confusion(scores, s.anomalous, s.threshold);
    d.score = s.name;
    d.threshold = String(s.threshold);
    d.log = String(this.#log.checked);
    d.binsNormal = this.#hist.normal.join(',');
    d.binsAnomalous = this.#hist.anomalous.join(',');
    d.edges = this.#hist.edges.join(',');
    for (const k of ['tp', 'fp', 'tn', 'fn']) d[k] = String(c[k]);
    d.refreshes = String(s.refreshes ?? 0);
    r.tp.textContent = `${c.tp} of ${c.tp + c.fn}`;
    r.fn.textContent = String(c.fn);
    r.fp.textContent = `${c.fp} of ${c.fp + c.tn}`;
    r.tn.textContent = String(c.tn);
    r.precision.textContent = pct(c.precision);
    r.recall.textContent = pct(c.recall);
    r.f1.textContent = formatSig(c.f1, 3);
    r.threshold.textContent = formatSig(s.threshold, 3);
    this.#canvas.setAttribute('aria-label', `Histogram of ${SCORES[s.name]?.short ?? s.name} scores; threshold ${formatSig(s.threshold, 3)} flags ${c.tp} of ${c.tp + c.fn} anomalies and ${c.fp} of ${c.fp + c.tn} normal rows`);
    this.#loop.schedule();
    this.#paintVerdict();
  }

  #paint() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    const col = colors(this.root);
    ctx.clearRect(0, 0, width, height);
    const hist = this.#hist;
    if (!hist || !this.#state) {
      ctx.fillStyle = col.muted;
      ctx.font = '13px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(this.root.dataset.mode === 'setup' ? 'Pick the normal rows and train a detector.' : 'Scoring the held-out rows…', width / 2, height / 2);
      return;
    }
    const x = this.#scale(width);
    const [top, bottom] = [8, height - 22];
    const max = Math.max(1, ...hist.normal, ...hist.anomalous);
    // Square root of the counts: the rare anomalies stay visible beside the many normal rows.
    const y = (n) => bottom - (Math.sqrt(n) / Math.sqrt(max)) * (bottom - top);
    ctx.strokeStyle = col.grid;
    ctx.beginPath();
    ctx.moveTo(x(hist.lo), bottom + 0.5);
    ctx.lineTo(width - 8, bottom + 0.5);
    ctx.stroke();
    const bars = (counts, color, alpha) => {
      ctx.globalAlpha = alpha;
      ctx.fillStyle = color;
      counts.forEach((n, k) => {
        if (!n) return;
        const a = x(hist.edges[k]);
        const b = x(hist.edges[k + 1]);
        ctx.fillRect(a, y(n), Math.max(1, b - a - 1), bottom - y(n));
      });
      ctx.globalAlpha = 1;
    };
    bars(hist.normal, col.normal, 0.55);
    bars(hist.anomalous, col.anomalous, 0.6);
    ctx.fillStyle = col.muted;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const t of x.ticks(5)) {
      if (t < hist.lo || t > hist.hi) continue;
      ctx.fillText(formatSig(t, 2), x(t), height - 6);
    }
    ctx.textAlign = 'left';
    ctx.fillText('√count', 0, 14);
    // The threshold, and the drawing's score.
    const line = (v, color, w) => {
      const px = x(Math.min(hist.hi, Math.max(hist.lo, v)));
      ctx.strokeStyle = color;
      ctx.lineWidth = w;
      ctx.beginPath();
      ctx.moveTo(px, top - 4);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      return px;
    };
    const px = line(this.#state.threshold, col.ok, 2);
    ctx.fillStyle = col.ok;
    ctx.textAlign = px > width / 2 ? 'right' : 'left';
    ctx.fillText(' flagged →', px + (px > width / 2 ? -4 : 4), top + 10);
    if (this.#drawing && Number.isFinite(this.#drawing.score)) {
      ctx.setLineDash([4, 3]);
      line(this.#drawing.score, col.text, 1.5);
      ctx.setLineDash([]);
    }
  }

  #paintVerdict() {
    const dr = this.#drawing;
    const s = this.#state;
    const v = this.#verdict;
    const ctx = this.#drawingCanvas.getContext('2d');
    ctx.clearRect(0, 0, 56, 56);
    if (!dr || !s) {
      v.dataset.verdict = 'none';
      v.textContent = s ? 'Draw on the pad: your drawing is scored here.' : '';
      return;
    }
    const anomalous = dr.score >= s.threshold;
    v.dataset.verdict = anomalous ? 'anomalous' : 'normal';
    v.dataset.score = String(dr.score);
    v.textContent = `Your drawing: ${SCORES[s.name]?.short ?? s.name} ${formatSig(dr.score, 3)} — ${anomalous ? 'anomalous, above' : 'normal, below'} the threshold ${formatSig(s.threshold, 3)}.`;
    if (dr.errors) paintErrors(ctx, dr.errors, 0, 0, 0, 56, dr.shape, colors(this.root), dr.max);
  }
}

/** Paints row `index` of `errors` (squared errors per value) as a heat map or bars. */
function paintErrors(ctx, errors, index, x, y, size, shape, col, max) {
  const d = errors.length && shape ? (shape.type === 'image' ? shape.channels * shape.height * shape.width : shape.type === 'vector' ? shape.features : shape.channels * shape.length) : 0;
  if (!d) return;
  const row = errors.subarray(index * d, (index + 1) * d);
  const top = max ?? Math.max(1e-9, ...row);
  const scaled = Float32Array.from(row, (e) => Math.min(1, e / top));
  ctx.fillStyle = col.paper;
  ctx.fillRect(x, y, size, size);
  paintRow(ctx, scaled, 0, x, y, size, parseColor(col.anomalous), { shape });
}

/** ROC and precision–recall, the model's score and PCA's, the threshold marked. */
export class AnomalyCurves {
  #roc;
  #pr;
  #loop;
  #readouts = {};
  #state = null;

  constructor(root) {
    this.root = root;
    this.#roc = h('canvas', { class: 'plot curve-canvas', role: 'img', 'data-curve': 'roc', 'aria-label': 'ROC curve' });
    this.#pr = h('canvas', { class: 'plot curve-canvas', role: 'img', 'data-curve': 'pr', 'aria-label': 'Precision–recall curve' });
    root.replaceChildren(
      h('h2', {}, 'ROC and precision–recall'),
      h(
        'p',
        { class: 'explain' },
        'Every threshold gives a point: the ROC curve plots the anomalies caught against the false alarms among normal rows; its area (AUC) is the chance that an anomaly outscores a normal row. ' +
          'When anomalies are rare, as fraud is, a few percent of false alarms can outnumber every true catch: the precision–recall curve shows that, and its area (average precision) is the figure to trust.',
      ),
      h('div', { class: 'legend' }, h('span', { class: 'key' }, 'this model'), h('span', { class: 'key kl' }, 'PCA, same width'), h('span', { class: 'key drawn' }, 'threshold')),
      h('div', { class: 'curves' }, h('div', { class: 'plot-box' }, this.#roc), h('div', { class: 'plot-box' }, this.#pr)),
      h(
        'dl',
        { class: 'readouts' },
        readout(this.#readouts, 'roc', 'ROC AUC'),
        readout(this.#readouts, 'pr', 'Average precision'),
        readout(this.#readouts, 'pcaRoc', 'PCA ROC AUC'),
        readout(this.#readouts, 'pcaPr', 'PCA average precision'),
      ),
    );
    this.#loop = redrawLoop(root, () => this.#paint());
  }

  /** {curves, name, threshold, point: {fpr, tpr, precision, recall}, pcaDims} or null. */
  setState(state) {
    this.#state = state;
    const r = this.#readouts;
    if (state) {
      const c = state.curves[state.name];
      const p = state.curves.pca;
      r.roc.textContent = formatSig(c.rocAuc, 3);
      r.pr.textContent = formatSig(c.prAuc, 3);
      r.pcaRoc.textContent = p ? `${formatSig(p.rocAuc, 3)} (${state.pcaDims} dims)` : '–';
      r.pcaPr.textContent = p ? formatSig(p.prAuc, 3) : '–';
      const d = this.#roc.dataset;
      d.score = state.name;
      d.auc = String(c.rocAuc);
      d.pcaAuc = String(p?.rocAuc ?? '');
      d.point = `${state.point.fpr},${state.point.tpr}`;
      const e = this.#pr.dataset;
      e.ap = String(c.prAuc);
      e.pcaAp = String(p?.prAuc ?? '');
      e.point = `${state.point.recall},${state.point.precision}`;
    } else for (const k of Object.keys(r)) r[k].textContent = '–';
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #paint() {
    for (const [canvas, kind] of [
      [this.#roc, 'roc'],
      [this.#pr, 'pr'],
    ]) {
      const { ctx, width, height } = fitCanvas(canvas);
      const col = colors(this.root);
      ctx.clearRect(0, 0, width, height);
      const pad = { l: 34, r: 8, t: 8, b: 28 };
      const x = linearScale([0, 1], [pad.l, width - pad.r]);
      const y = linearScale([0, 1], [height - pad.b, pad.t]);
      ctx.strokeStyle = col.grid;
      ctx.lineWidth = 1;
      ctx.strokeRect(x(0), y(1), x(1) - x(0), y(0) - y(1));
      ctx.fillStyle = col.muted;
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      for (const t of [0, 0.5, 1]) {
        ctx.fillText(String(t), x(t), height - pad.b + 13);
        ctx.textAlign = 'right';
        ctx.fillText(String(t), pad.l - 4, y(t) + 4);
        ctx.textAlign = 'center';
      }
      ctx.fillText(kind === 'roc' ? 'false-alarm rate' : 'recall', (x(0) + x(1)) / 2, height - 3);
      ctx.save();
      ctx.translate(10, (y(0) + y(1)) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(kind === 'roc' ? 'anomalies caught' : 'precision', 0, 0);
      ctx.restore();
      const s = this.#state;
      if (!s) continue;
      if (kind === 'roc') {
        ctx.setLineDash([3, 3]);
        ctx.strokeStyle = col.grid;
        ctx.beginPath();
        ctx.moveTo(x(0), y(0));
        ctx.lineTo(x(1), y(1));
        ctx.stroke();
        ctx.setLineDash([]);
      } else {
        // Chance: a detector that flags at random has the anomalies' share as precision.
        const share = s.anomalies / Math.max(1, s.rows);
        ctx.setLineDash([3, 3]);
        ctx.strokeStyle = col.grid;
        ctx.beginPath();
        ctx.moveTo(x(0), y(share));
        ctx.lineTo(x(1), y(share));
        ctx.stroke();
        ctx.setLineDash([]);
      }
      const curve = (points, color, start) => {
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.beginPath();
        if (start) ctx.moveTo(x(start[0]), y(start[1]));
        for (let i = 0; i < points.length; i += 2) {
          if (i === 0 && !start) ctx.moveTo(x(points[0]), y(points[1]));
          else ctx.lineTo(x(points[i]), y(points[i + 1]));
        }
        ctx.stroke();
      };
      if (s.curves.pca && s.name !== 'pca') curve(s.curves.pca[kind], col.anomalous, kind === 'pr' ? [0, 1] : null);
      curve(s.curves[s.name][kind], col.normal, kind === 'pr' ? [0, 1] : null);
      const [px, py] = kind === 'roc' ? [s.point.fpr, s.point.tpr] : onCurve(s.curves[s.name].pr, s.point.recall, s.point.precision);
      ctx.fillStyle = col.ok;
      ctx.beginPath();
      ctx.arc(x(px), y(py), 5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/** The most anomalous held-out rows and the misses, each with its error map. */
export class AnomalyExamples {
  #canvas;
  #loop;
  #state = null; // {top: {rows, errors, scores, anomalous}, misses: {...}, shape, threshold}

  constructor(root) {
    this.root = root;
    this.#canvas = h('canvas', { class: 'anomaly-examples-canvas', role: 'img', 'aria-label': 'The most anomalous held-out rows and the missed anomalies' });
    root.replaceChildren(
      h('h2', {}, 'What the detector sees'),
      h(
        'p',
        { class: 'explain' },
        'Top: the held-out rows with the highest scores, normal or not. Bottom: the anomalies that scored lowest, the ones a threshold lets through first. ' +
          'Under each row, its error map: where the reconstruction went wrong (red). An anomaly the model rebuilds well is one it cannot see.',
      ),
      h('div', { class: 'legend' }, h('span', { class: 'key bars kl' }, 'an anomaly'), h('span', { class: 'key bars' }, 'a normal row'), h('span', { class: 'key drawn' }, 'flagged')),
      this.#canvas,
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
  }

  setState(state) {
    this.#state = state;
    const d = this.#canvas.dataset;
    if (state) {
      d.top = state.top.indices.join(',');
      d.misses = state.misses.indices.join(',');
    }
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #paint() {
    const { ctx, width } = fitCanvas(this.#canvas);
    const col = colors(this.root);
    const s = this.#state;
    ctx.clearRect(0, 0, width, this.#canvas.height);
    if (!s) return;
    const n = Math.max(s.top.indices.length, s.misses.indices.length, 1);
    const gap = 6;
    const size = Math.min(72, (width - gap * (n - 1)) / n);
    const ink = parseColor(col.ink);
    const rowsOf = [
      ['Highest scores', s.top],
      ['Missed anomalies (lowest scores)', s.misses],
    ];
    let y0 = 0;
    ctx.font = '12px system-ui, sans-serif';
    for (const [title, set] of rowsOf) {
      ctx.fillStyle = col.muted;
      ctx.textAlign = 'left';
      ctx.fillText(title, 0, y0 + 12);
      y0 += 18;
      set.indices.forEach((_, k) => {
        const x0 = k * (size + gap);
        ctx.fillStyle = col.paper;
        ctx.fillRect(x0, y0, size, size);
        paintRow(ctx, set.rows, k, x0, y0, size, ink, { shape: s.shape, under: s.shape.type === 'image' ? null : set.reconstructions, underInk: parseColor(col.normal) });
        ctx.strokeStyle = set.anomalous[k] ? col.anomalous : col.normal;
        ctx.lineWidth = 2;
        ctx.strokeRect(x0 + 1, y0 + 1, size - 2, size - 2);
        paintErrors(ctx, set.errors, k, x0, y0 + size + 2, size, s.shape, col, s.maxError);
        const flagged = set.scores[k] >= s.threshold;
        ctx.fillStyle = flagged ? col.ok : col.muted;
        ctx.textAlign = 'center';
        ctx.fillText(`${formatSig(set.scores[k], 2)}${flagged ? ' ⚑' : ''}`, x0 + size / 2, y0 + 2 * size + 16);
      });
      y0 += 2 * size + 24;
    }
    this.#canvas.style.height = `${y0}px`;
  }
}

/** A series: the test series and its reconstruction, the error along time, the labels. */
export class AnomalySeries {
  #canvas;
  #loop;
  #state = null;

  constructor(root) {
    this.root = root;
    this.#canvas = h('canvas', { class: 'plot anomaly-series-canvas', role: 'img', 'aria-label': 'The test series, its reconstruction and the error along time' });
    root.replaceChildren(
      h('h2', {}, 'Anomalies along time'),
      h(
        'p',
        { class: 'explain' },
        'The held-out series (top, with the model’s reconstruction) and the reconstruction error at each step (bottom), averaged over the windows that cover it. ' +
          'The labelled anomaly is shaded; the steps whose error passes the threshold are marked along the bottom.',
      ),
      h('div', { class: 'legend' }, h('span', { class: 'key' }, 'series'), h('span', { class: 'key kl' }, 'reconstruction · error'), h('span', { class: 'key drawn' }, 'flagged steps')),
      h('div', { class: 'plot-box' }, this.#canvas),
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
  }

  /** {series (the engine's), name, threshold} or null. */
  setState(state) {
    this.#state = state;
    const d = this.#canvas.dataset;
    if (state) {
      const { series, name, threshold } = state;
      const points = series.points[name];
      const flagged = [];
      for (let t = 0; t < points.length; t++) if (points[t] >= threshold) flagged.push(t);
      d.score = name;
      d.top = String(series.top[name]);
      d.hit = String(series.hit[name]);
      d.flagged = String(flagged.length);
      d.flaggedInLabel = String(flagged.filter((t) => series.labels[t]).length);
      const first = series.labels.indexOf(1);
      d.labelled = first < 0 ? '' : `${first},${series.labels.lastIndexOf(1)}`;
    }
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #paint() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    const col = colors(this.root);
    ctx.clearRect(0, 0, width, height);
    const s = this.#state;
    if (!s) return;
    const { series, name, threshold } = s;
    const steps = series.steps;
    const x = linearScale([0, steps - 1], [4, width - 4]);
    const split = height * 0.58;
    // Labelled steps shaded.
    ctx.fillStyle = col.anomalous;
    ctx.globalAlpha = 0.15;
    for (let t = 0; t < steps; t++) if (series.labels[t]) ctx.fillRect(x(t) - 0.5, 0, Math.max(1, x(1) - x(0) + 0.5), height);
    ctx.globalAlpha = 1;
    // The series (channel 0) and its reconstruction.
    const ch = series.channels;
    let lo = Infinity;
    let hi = -Infinity;
    for (let t = 0; t < steps; t++) {
      lo = Math.min(lo, series.values[t * ch], series.reconstruction[t * ch]);
      hi = Math.max(hi, series.values[t * ch], series.reconstruction[t * ch]);
    }
    const y = linearScale([lo, hi], [split - 6, 6]);
    const line = (values, color, w) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = w;
      ctx.beginPath();
      for (let t = 0; t < steps; t++) {
        if (t === 0) ctx.moveTo(x(t), y(values[t * ch]));
        else ctx.lineTo(x(t), y(values[t * ch]));
      }
      ctx.stroke();
    };
    line(series.values, col.normal, 1);
    line(series.reconstruction, col.anomalous, 1);
    // The error along time, on a square-root axis, with the threshold.
    const points = series.points[name];
    const top = Math.max(threshold, ...points) || 1;
    const ey = (v) => height - 14 - (Math.sqrt(Math.max(0, v)) / Math.sqrt(top)) * (height - 14 - split - 8);
    ctx.strokeStyle = col.anomalous;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let t = 0; t < steps; t++) {
      if (t === 0) ctx.moveTo(x(t), ey(points[t]));
      else ctx.lineTo(x(t), ey(points[t]));
    }
    ctx.stroke();
    ctx.strokeStyle = col.ok;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x(0), ey(threshold));
    ctx.lineTo(x(steps - 1), ey(threshold));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = col.ok;
    for (let t = 0; t < steps; t++) if (points[t] >= threshold) ctx.fillRect(x(t), height - 8, Math.max(1, x(1) - x(0)), 6);
    ctx.fillStyle = col.muted;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(`top step ${series.top[name]}${series.hit[name] ? ' (in the labelled region ± 100: found)' : ' (outside the labelled region ± 100)'}`, 6, split + 12);
  }
}
