// PCA beside the autoencoder: the same held-out rows rebuilt by PCA with as many components
// as the code has numbers and by the model, with each one's error; PCA's error at every
// width with the model's point on that curve (how many linear dimensions the code is
// worth); and the held-out rows in PCA's first two components beside the code, each with
// how well a nearest-neighbour classifier separates the classes in that plane; and a linear
// autoencoder trained on the spot, whose decoder's subspace meets PCA's: the principal angles
// between the two, falling as it trains. The figures are the engine's (Lab.compare and
// Lab.angles, through compare-views.js).

import { fitCanvas, cssColor, redrawLoop, h, plotFrame } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { LABEL_COLORS } from './latent-map.js';
import { logScale, linearScale, niceTicks } from '../util/scale.js';
import { formatSig, formatInt, formatTick } from '../util/format.js';
import { DIGIT_SHAPE, rowSize } from '../util/shape.js';
import { className } from '../util/datasets.js';
import { LINEAR_STEPS, LINEAR_WIDTH } from '../compare-views.js';

const ROWS = ['held out', 'PCA', 'model'];
const MAX_EXAMPLES = 8;

// The angle plot's axis: degrees on a log scale, so that the last few degrees show.
const ANGLE_RANGE = [0.1, 90];
const ANGLE_TICKS = [0.1, 0.3, 1, 3, 10, 30, 90];
// Within this, the learner is told the decoder spans PCA's subspace.
const ANGLE_MET = 2;
const degrees = (x) => `${x < 10 ? x.toFixed(1) : Math.round(x)}°`;

const percent = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–');

export class PcaView {
  #examples;
  #curve;
  #planes;
  #planeNotes;
  #readouts = {};
  #status;
  #legend;
  #loops;
  #angleLoop;
  #report = null;
  #shape = DIGIT_SHAPE;
  #rows = 'digits';
  #angles = null;
  #anglePlot;
  #angleNote;
  #linearButton;

  /**
   * `root`: the element with part="pca"; `onLinear()`: trains a fresh linear autoencoder
   * (the button's action; resolves when it has started, rejects with the reason it could not).
   */
  constructor(root, { onLinear = async () => {} } = {}) {
    this.root = root;
    const readout = (key, label) => {
      this.#readouts[key] = { dd: h('dd', { 'data-readout': key }, '–'), dt: h('dt', {}, label) };
      return h('div', {}, this.#readouts[key].dt, this.#readouts[key].dd);
    };
    this.#examples = h('canvas', { class: 'pca-examples', role: 'img', 'aria-label': 'Held-out rows rebuilt by PCA and by the model (loading)' });
    this.#curve = h('canvas', { class: 'pca-curve', role: 'img', 'aria-label': "PCA's error at each number of components (loading)" });
    this.#planes = [0, 1].map(() => h('canvas', { class: 'pca-plane', role: 'img', 'aria-label': 'loading' }));
    this.#planeNotes = [0, 1].map(() => h('figcaption', {}, ''));
    this.#status = h('p', { class: 'digits-status', role: 'status' }, 'Waiting for the model.');
    this.#legend = h('ul', { class: 'map-legend', 'aria-label': 'Colours of the labels' });
    this.#anglePlot = h('canvas', { class: 'pca-angles', role: 'img', 'aria-label': 'No linear model yet' });
    this.#angleNote = h('p', { class: 'digits-status pca-angle-note', role: 'status', 'data-readout': 'angles' }, '');
    this.#linearButton = h('button', { type: 'button', 'data-action': 'linear' }, 'Train a linear autoencoder');
    this.#linearButton.addEventListener('click', async () => {
      this.#linearButton.disabled = true;
      this.#angleNote.textContent = 'Opening a fresh linear autoencoder…';
      try {
        await onLinear();
      } catch (e) {
        this.#angleNote.textContent = `Could not train a linear autoencoder: ${e.message}`;
      } finally {
        this.#linearButton.disabled = false;
      }
    });
    root.replaceChildren(
      h('h2', {}, 'PCA beside the autoencoder'),
      h(
        'p',
        { class: 'explain' },
        'PCA is the best any linear map can do: it keeps the directions along which the training rows spread most. ' +
          'Give it as many numbers as the code has, and compare. Where the model rebuilds held-out rows better, its bends (the nonlinear layers) earn their keep; ' +
          'the curve says how many linear numbers its code is worth.',
      ),
      h('dl', { class: 'readouts pca-readouts' }, readout('model', 'Model (MSE)'), readout('pca', 'PCA (MSE)'), readout('equivalent', 'PCA matches the model at')),
      this.#examples,
      h('h3', { class: 'sub' }, "PCA's error at each number of components"),
      this.#curve,
      h('h3', { class: 'sub' }, 'How each plane separates the classes'),
      h(
        'div',
        { class: 'pca-planes' },
        h('figure', {}, this.#planes[0], this.#planeNotes[0]),
        h('figure', {}, this.#planes[1], this.#planeNotes[1]),
      ),
      this.#legend,
      this.#status,
      h(
        'section',
        { class: 'pca-linear' },
        h('h3', { class: 'sub' }, "A linear autoencoder finds PCA's subspace"),
        h(
          'p',
          { class: 'explain' },
          'Take away the bends (no activation, no hidden layer) and an autoencoder is one linear map each way. ' +
            `Trained to rebuild its rows, its decoder comes to span the very directions PCA keeps, though not PCA's own axes. ` +
            'The principal angles between the two subspaces say how far apart they are: 90° is perpendicular, 0° the same.',
        ),
        h('div', { class: 'buttons' }, this.#linearButton),
        this.#angleNote,
        this.#anglePlot,
      ),
    );
    this.#angleLoop = redrawLoop(this.#anglePlot, () => this.#paintAngles());
    this.#loops = [
      this.#angleLoop,
      redrawLoop(this.#examples, () => this.#paintExamples()),
      redrawLoop(this.#curve, () => this.#paintCurve()),
      ...this.#planes.map((c, i) => redrawLoop(c, () => this.#paintPlane(i))),
    ];
  }

  /** The data's row shape and its table entry (www/util/datasets.js). */
  setData(shape, entry) {
    this.#shape = shape;
    this.#rows = entry?.rows ?? 'rows';
    const classes = entry?.classes ?? LABEL_COLORS.map((_, k) => String(k));
    this.#legend.replaceChildren(...classes.map((_, k) => h('li', { style: { '--swatch': LABEL_COLORS[k] } }, className(entry, k))));
    this.setReport(null, 'Waiting for the model.');
  }

  /** Lab.compare's report (null: none yet), and a line about it (computing, an error). */
  setReport(report, status = '') {
    this.#report = report;
    const r = report;
    const d = this.root.dataset;
    const rd = this.#readouts;
    if (r) {
      rd.model.dt.textContent = `Model, ${r.width} number${r.width === 1 ? '' : 's'} (MSE)`;
      rd.pca.dt.textContent = `PCA, ${r.width} component${r.width === 1 ? '' : 's'} (MSE)`;
      rd.model.dd.textContent = formatSig(r.modelMse, 3);
      rd.pca.dd.textContent = r.pcaMse === null ? 'exact' : formatSig(r.pcaMse, 3);
      rd.equivalent.dd.textContent = r.equivalentK === null ? `more than ${r.values}` : `${formatInt(r.equivalentK)} component${r.equivalentK === 1 ? '' : 's'}`;
      d.modelMse = String(r.modelMse);
      d.pcaMse = String(r.pcaMse);
      d.equivalentK = String(r.equivalentK);
      d.width = String(r.width);
      d.state = 'ready';
      const better = r.pcaMse !== null && r.modelMse < r.pcaMse;
      const verdict =
        r.pcaMse === null
          ? `The code has as many numbers as a row, so PCA rebuilds every row exactly.`
          : r.linear
            ? `This model is linear: on the rows PCA was fitted to, no linear code of ${r.width} number${r.width === 1 ? '' : 's'} does better than PCA, whose error on the held-out ${this.#rows} is ${formatSig(r.pcaMse, 3)}. ` +
              (r.modelMse > r.pcaMse
                ? `The model's is ${formatSig((100 * (r.modelMse - r.pcaMse)) / r.pcaMse, 2)} % above it; the angles below say how close its subspace has come.`
                : "The model's is as low: it has found the same subspace (the angles below).")
          : better
            ? `With ${r.width} number${r.width === 1 ? '' : 's'} the model rebuilds the ${formatInt(r.rows)} held-out ${this.#rows} ${formatSig(r.pcaMse / r.modelMse, 2)}× better than PCA; PCA needs ${r.equivalentK ?? `more than ${r.values}`} components to do as well.`
            : `PCA with ${r.width} component${r.width === 1 ? '' : 's'} rebuilds the ${formatInt(r.rows)} held-out ${this.#rows} better than this model; its code is worth ${r.equivalentK ?? r.values} linear dimension${(r.equivalentK ?? r.values) === 1 ? '' : 's'}. ` +
              'A model trained for something besides reconstruction (a sparse or smooth code, denoising) may give some of it up; a fresh one has not learned yet.';
      this.#status.textContent = [verdict, r.why ?? '', status].filter(Boolean).join(' ');
    } else {
      for (const v of Object.values(rd)) v.dd.textContent = '–';
      d.state = 'empty';
      this.#status.textContent = status;
    }
    const planes = r?.planes;
    const knn = (x) => (x === null || x === undefined ? '' : ` · 1-NN accuracy ${percent(x)} (${formatInt(r.labelled)} labelled)`);
    this.#planeNotes[0].textContent = planes ? `PCA's first two components${knn(planes.pcaKnn)}` : "PCA's first two components";
    this.#planeNotes[1].textContent = !planes
      ? 'The code'
      : planes.code === null
        ? 'The code: not shown (given the label)'
        : `${planes.codeProjected ? "The code's first two principal components" : r.width === 1 ? 'The code (one number)' : 'The code'}${knn(planes.codeKnn)}`;
    if (planes) {
      d.pcaKnn = String(planes.pcaKnn);
      d.codeKnn = String(planes.codeKnn);
    }
    for (const l of this.#loops) l.schedule();
  }

  /**
   * A linear model's angles to PCA as they were measured ({linear, why, step, angles,
   * history: [{step, angles}]}), or null (none measured yet).
   */
  setAngles(state) {
    this.#angles = state;
    const d = this.root.dataset;
    const last = state?.linear ? state.history.at(-1) : null;
    const button = `Train a linear autoencoder (${LINEAR_WIDTH} numbers, ${formatInt(LINEAR_STEPS)} steps)`;
    this.#linearButton.textContent = state?.linear ? `Train a fresh one (${formatInt(LINEAR_STEPS)} steps)` : button;
    if (last) {
      const largest = Math.max(...last.angles);
      const k = last.angles.length;
      d.largestAngle = String(largest);
      this.#angleNote.textContent =
        `At step ${formatInt(last.step)} the largest angle between the decoder's ${k === 1 ? 'line' : k === 2 ? 'plane' : `${k}-dimensional subspace`} and PCA's is ${degrees(largest)}` +
        (k > 1 ? ` (${k === 2 ? 'both' : `all ${k}`}: ${Array.from(last.angles, degrees).join(', ')}). ` : '. ') +
        (largest < ANGLE_MET
          ? `Within ${ANGLE_MET}°: it has found what PCA finds, by gradient descent alone.`
          : last.step === 0
            ? 'A fresh model starts far from it; train it and watch the angles fall.'
            : 'Still turning towards it.');
    } else {
      delete d.largestAngle;
      this.#angleNote.textContent = state && !state.linear ? `This model is not linear: ${state.why}. Train one to see its subspace meet PCA's.` : '';
    }
    this.#angleLoop.schedule();
  }

  /** A line under the angle plot alone (an error). */
  setAnglesStatus(text) {
    this.#angleNote.textContent = text;
  }

  /** Updates the status line alone (the report stays). */
  setStatus(text) {
    if (this.#report) this.setReport(this.#report, text);
    else this.#status.textContent = text;
  }

  dispose() {
    for (const l of this.#loops) l.dispose();
  }

  #colors() {
    const c = (name, fallback) => cssColor(this.root, name, fallback);
    return { ink: c('--ll-ink', '#000'), paper: c('--ll-paper', '#fff'), muted: c('--ll-muted', '#666'), grid: c('--ll-grid', '#ddd'), accent: c('--ll-accent', '#2f5bd3'), text: c('--ll-text', '#222'), warn: c('--ll-kl', '#d1495b') };
  }

  #paintAngles() {
    const canvas = this.#anglePlot;
    const history = this.#angles?.linear ? this.#angles.history : [];
    canvas.hidden = !this.#angles?.linear;
    if (canvas.hidden) return;
    const { ctx, width, height } = fitCanvas(canvas);
    const col = this.#colors();
    ctx.clearRect(0, 0, width, height);
    const pad = { l: 46, r: 70, t: 10, b: 30 };
    const steps = Math.max(LINEAR_STEPS, history.at(-1)?.step ?? 0);
    const x = linearScale([0, steps], [pad.l, width - pad.r]);
    const y = logScale(ANGLE_RANGE, [height - pad.b, pad.t]);
    plotFrame(ctx, {
      width, height, pad, x, y, colors: col,
      xTicks: niceTicks(0, steps, 4), xText: formatInt, xTitle: 'training step',
      // Every tick where there is room for them, else one per decade.
      yTicks: (height - pad.t - pad.b) / ANGLE_TICKS.length >= 24 ? ANGLE_TICKS : ANGLE_TICKS.filter((t) => t !== 0.3 && t !== 3 && t !== 30),
      yText: (t) => `${t}°`,
      yTitle: 'angle (log scale)',
    });
    const clamp = (a) => Math.min(ANGLE_RANGE[1], Math.max(ANGLE_RANGE[0], a));
    // The goal: under ANGLE_MET degrees.
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = col.muted;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(pad.l, y(ANGLE_MET));
    ctx.lineTo(width - pad.r, y(ANGLE_MET));
    ctx.stroke();
    ctx.setLineDash([]);
    const k = history[0]?.angles.length ?? 0;
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textAlign = 'left';
    // Largest last, on top, in the accent colour.
    for (let j = 0; j < k; j++) {
      const largest = j === k - 1;
      ctx.strokeStyle = largest ? col.accent : col.muted;
      ctx.lineWidth = largest ? 2 : 1.5;
      ctx.beginPath();
      history.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.step), y(clamp(p.angles[j]))) : ctx.lineTo(x(p.step), y(clamp(p.angles[j])))));
      ctx.stroke();
      const end = history.at(-1);
      if (end) {
        ctx.fillStyle = ctx.strokeStyle;
        ctx.fillText(largest ? `θ${k} ${degrees(end.angles[j])}` : `θ${j + 1}`, Math.min(x(end.step) + 5, width - pad.r + 5), y(clamp(end.angles[j])) + (largest ? -6 : 10));
      }
    }
    const last = history.at(-1);
    canvas.setAttribute(
      'aria-label',
      last ? `The principal angles between the linear model's decoder and PCA's subspace at each step: the largest falls from ${degrees(Math.max(...history[0].angles))} to ${degrees(Math.max(...last.angles))} at step ${formatInt(last.step)}` : 'No angles yet',
    );
  }

  #paintExamples() {
    const canvas = this.#examples;
    const r = this.#report;
    const width = canvas.getBoundingClientRect().width;
    const ctx0 = canvas.getContext('2d');
    ctx0.font = '12px system-ui, sans-serif';
    const names = [ROWS[0], r ? `PCA-${r.width}` : 'PCA', 'model'];
    const labelW = Math.ceil(Math.max(...names.map((s) => ctx0.measureText(s).width))) + 8;
    // As many rows as fit with room for their errors underneath (at least four).
    const fit = Math.max(4, Math.floor((width - labelW) / 44));
    const n = Math.min(fit, r ? r.examples.indices.length : MAX_EXAMPLES, MAX_EXAMPLES);
    const gap = 4;
    const cell = Math.max(14, Math.min(64, Math.floor((width - labelW - gap * (n - 1)) / n)));
    const mseH = 13;
    const height = 3 * cell + 2 * mseH + 2 * gap;
    if (Math.abs(canvas.getBoundingClientRect().height - height) > 0.5) canvas.style.height = `${height}px`;
    const { ctx, width: w, height: hh } = fitCanvas(canvas);
    ctx.clearRect(0, 0, w, hh);
    const col = this.#colors();
    const ink = parseColor(col.ink);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const sets = r ? [r.examples.rows, r.examples.pca, r.examples.model] : [];
    const errors = r ? [null, r.examples.pcaMse, r.examples.modelMse] : [];
    let y = 0;
    names.forEach((name, row) => {
      ctx.fillStyle = col.muted;
      ctx.textAlign = 'left';
      ctx.fillText(name, 0, y + cell / 2);
      for (let c = 0; c < n; c++) {
        const x = labelW + c * (cell + gap);
        ctx.fillStyle = col.paper;
        ctx.fillRect(x, y, cell, cell);
        if (sets[row]) paintRow(ctx, sets[row], c, x, y, cell, ink, { shape: this.#shape, under: row > 0 && this.#shape.type !== 'image' ? sets[0] : null, underInk: parseColor(col.muted) });
        ctx.strokeStyle = col.grid;
        ctx.lineWidth = 1;
        ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
        if (errors[row]) {
          // The better of the two reconstructions of this row is marked.
          const other = errors[row === 1 ? 2 : 1];
          const wins = other && errors[row][c] < other[c];
          ctx.fillStyle = wins ? col.text : col.muted;
          ctx.textAlign = 'center';
          ctx.font = `${wins ? '600 ' : ''}10px system-ui, sans-serif`;
          ctx.fillText(formatSig(errors[row][c], 2), x + cell / 2, y + cell + mseH / 2 + 1);
          ctx.font = '12px system-ui, sans-serif';
        }
      }
      y += cell + (row > 0 ? mseH : 0) + gap;
    });
    canvas.setAttribute(
      'aria-label',
      r ? `${n} held-out ${this.#rows}, rebuilt by PCA with ${r.width} components and by the model, each with its MSE` : 'Held-out rows rebuilt by PCA and by the model (loading)',
    );
  }

  #paintCurve() {
    const { ctx, width, height } = fitCanvas(this.#curve);
    const col = this.#colors();
    ctx.clearRect(0, 0, width, height);
    const r = this.#report;
    const pad = { l: 46, r: 10, t: 10, b: 30 };
    const values = r ? r.values : rowSize(this.#shape);
    const x = logScale([1, Math.max(2, values)], [pad.l, width - pad.r]);
    const top = r ? Math.max(r.curve[0], r.modelMse) * 1.05 : 0.1;
    const y = linearScale([0, top], [height - pad.b, pad.t]);
    // 1, 2, 5, 10, 20, 50, … up to the rows' width.
    const xTicks = [];
    for (let t = 1; t <= values; t *= 10) for (const m of [1, 2, 5]) if (t * m <= values) xTicks.push(t * m);
    plotFrame(ctx, {
      width, height, pad, x, y, colors: col,
      xTicks, xTitle: 'components (log scale)',
      yTicks: niceTicks(0, top, 4), yText: formatTick, yTitle: 'MSE',
    });
    if (!r) return;
    ctx.strokeStyle = col.muted;
    ctx.lineWidth = 2;
    ctx.beginPath();
    r.curve.forEach((m, i) => (i === 0 ? ctx.moveTo(x(i + 1), y(m)) : ctx.lineTo(x(i + 1), y(m))));
    ctx.stroke();
    // The model's error as a level: where PCA's curve meets it is what the code is worth.
    const my = y(r.modelMse);
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = col.accent;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x(r.width), my);
    const k = r.equivalentK ?? values;
    ctx.lineTo(x(k), my);
    if (r.equivalentK) ctx.lineTo(x(k), height - pad.b);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = col.accent;
    ctx.beginPath();
    ctx.arc(x(r.width), my, 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.textAlign = 'left';
    ctx.font = '600 11px system-ui, sans-serif';
    const label = `model (${r.width})`;
    const lx = Math.min(x(r.width) + 8, width - pad.r - ctx.measureText(label).width);
    ctx.fillText(label, lx, my - 9);
    if (r.equivalentK) {
      const text = `PCA-${r.equivalentK}`;
      ctx.textAlign = x(k) > width - 70 ? 'right' : 'left';
      ctx.fillText(text, x(k) + (ctx.textAlign === 'left' ? 5 : -5), height - pad.b - 6);
    }
    this.#curve.setAttribute(
      'aria-label',
      `PCA's MSE falls from ${formatSig(r.curve[0], 3)} with one component; the model's ${formatSig(r.modelMse, 3)} with ${r.width} numbers ` +
        (r.equivalentK ? `is matched at ${r.equivalentK} components` : 'is not matched by any number of components'),
    );
  }

  #paintPlane(i) {
    this.#legend.hidden = !this.#report?.labels;
    const canvas = this.#planes[i];
    const { ctx, width, height } = fitCanvas(canvas);
    const col = this.#colors();
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = col.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(0.5, 0.5, width - 1, height - 1);
    const r = this.#report;
    const points = r ? (i === 0 ? r.planes.pca : r.planes.code) : null;
    if (!points) {
      canvas.setAttribute('aria-label', i === 0 ? "PCA's plane (loading)" : 'The code (not shown)');
      return;
    }
    const n = points.length / 2;
    // The middle 98 % of each axis fills the square; a few far points are clipped.
    const range = (axis) => {
      const v = Float32Array.from({ length: n }, (_, j) => points[2 * j + axis]).sort();
      const lo = v[Math.floor(0.01 * (n - 1))];
      const hi = v[Math.ceil(0.99 * (n - 1))];
      const pad = (hi - lo || 1) * 0.06;
      return [lo - pad, hi + pad];
    };
    const sx = linearScale(range(0), [4, width - 4]);
    const sy = linearScale(range(1), [height - 4, 4]);
    const labels = r.labels;
    const dot = Math.max(1.5, Math.min(3, width / 120));
    ctx.globalAlpha = 0.8;
    for (let j = 0; j < n; j++) {
      ctx.fillStyle = labels ? LABEL_COLORS[labels[j] % 10] : col.accent;
      ctx.fillRect(sx(points[2 * j]) - dot / 2, sy(points[2 * j + 1]) - dot / 2, dot, dot);
    }
    ctx.globalAlpha = 1;
    canvas.setAttribute('aria-label', `${formatInt(n)} held-out ${this.#rows} in ${this.#planeNotes[i].textContent}`);
  }
}
