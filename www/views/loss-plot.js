// The live loss plot: reconstruction loss and the kind's other term (a VAE's KL, a sparse
// AE's sparsity penalty) per image against the training step, on a log y axis (they differ
// by orders of magnitude and fall fast at first).

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { linearScale, logScale, logDomain, thin } from '../util/scale.js';
import { formatTick, formatSig } from '../util/format.js';
import { METRICS, metricField } from '../util/kinds.js';

const MAX_POINTS = 4000; // kept; older points are averaged pairwise beyond this
const DRAW_POINTS = 600; // drawn

export class LossPlot {
  #canvas;
  #points = []; // {step, recon, kl, penalty}
  #keys = ['recon', 'kl'];
  #loop;
  #legend;
  #empty;

  /** `root`: the element with part="loss-plot". */
  constructor(root) {
    this.root = root;
    this.#canvas = h('canvas', {
      class: 'plot',
      role: 'img',
      'aria-label': 'Loss per image against training step (no data yet)',
    });
    this.#legend = h('div', { class: 'legend' });
    this.#empty = h('p', { class: 'plot-empty' }, 'Press Start to train: the losses appear here.');
    root.replaceChildren(
      h('h2', {}, 'Loss'),
      h(
        'p',
        { class: 'explain' },
        'How wrong the reconstructions are (reconstruction loss, summed over the values of one input: the pixels of an image, the features of a row, the steps of a window) and, for a VAE, ' +
          'how far the codes stray from a standard normal (KL); for a sparse or contractive AE, its own penalty. Lower is better; the y axis is logarithmic.',
      ),
      this.#legend,
      h('div', { class: 'plot-box' }, this.#canvas, this.#empty),
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
    this.setSeries(this.#keys);
  }

  /** The empty plot's hint: with a Start button in the widget, or without one. */
  setHasStart(hasStart) {
    this.#empty.textContent = hasStart ? 'Press Start to train: the losses appear here.' : 'The losses appear here while the model trains.';
  }

  /** The metrics drawn, by key of kinds.js's METRICS: ['recon', 'kl'] for a VAE. */
  setSeries(keys) {
    this.#keys = keys;
    this.#legend.replaceChildren(...keys.map((k) => h('span', { class: `key ${metricField(k)}` }, METRICS[k].label)));
    this.#loop.schedule();
  }

  /** Shows (VAE) or hides (AE) the KL line. */
  setVariational(variational) {
    this.setSeries(variational ? ['recon', 'kl'] : ['recon']);
  }

  /** Adds metrics ({first_step, steps, recon, kl, penalty}) in step order. */
  push(items) {
    for (const m of items) this.#points.push({ step: m.first_step + m.steps, recon: m.recon, kl: m.kl, penalty: m.penalty ?? 0 });
    if (this.#points.length > MAX_POINTS) this.#points = thin(this.#points, MAX_POINTS / 2);
    this.#loop.schedule();
  }

  clear() {
    this.#points = [];
    this.#loop.schedule();
  }

  /** Drops the points after `step` (a diverged run that was rolled back). */
  truncate(step) {
    this.#points = this.#points.filter((p) => p.step <= step);
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #draw() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    const text = cssColor(this.root, '--ll-muted', '#666');
    const grid = cssColor(this.root, '--ll-grid', '#ddd');
    const colors = {
      recon: cssColor(this.root, '--ll-recon', '#2563eb'),
      kl: cssColor(this.root, '--ll-kl', '#db2777'),
      penalty: cssColor(this.root, '--ll-kl', '#db2777'),
    };
    ctx.clearRect(0, 0, width, height);
    const pts = thin(this.#points, DRAW_POINTS);
    // What is drawn, for tests: the number of points and the last one's step.
    this.#canvas.dataset.points = String(this.#points.length);
    this.#canvas.dataset.lastStep = String(this.#points.at(-1)?.step ?? 0);
    this.#empty.hidden = pts.length > 0;
    if (pts.length === 0) return;

    const keys = this.#keys;
    const values = pts.flatMap((p) => keys.map((k) => p[metricField(k)]));
    const yDomain = logDomain(values);
    const lastStep = Math.max(pts[pts.length - 1].step, 1);
    ctx.font = '11px system-ui, sans-serif';
    const labelWidth = Math.max(...logScale(yDomain, [0, 1]).ticks().map((t) => ctx.measureText(formatTick(t)).width), 16);
    const m = { left: labelWidth + 10, right: 10, top: 8, bottom: 24 };
    const x = linearScale([0, lastStep], [m.left, width - m.right]);
    const y = logScale(yDomain, [height - m.bottom, m.top]);

    // Grid and labels.
    ctx.lineWidth = 1;
    ctx.strokeStyle = grid;
    ctx.fillStyle = text;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of y.ticks()) {
      const yy = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(m.left, yy);
      ctx.lineTo(width - m.right, yy);
      ctx.stroke();
      ctx.fillText(formatTick(t), m.left - 5, yy);
    }
    // The x axis's title sits at the right end of the tick row; ticks that would touch it
    // keep their grid line but lose their label.
    ctx.textBaseline = 'top';
    ctx.textAlign = 'right';
    const title = 'step';
    ctx.fillText(title, width - m.right, height - m.bottom + 5);
    const titleLeft = width - m.right - ctx.measureText(title).width - 6;
    ctx.textAlign = 'center';
    const xTicks = x.ticks(Math.max(2, Math.floor((width - m.left) / 70)));
    for (const t of xTicks) {
      const xx = Math.round(x(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(xx, m.top);
      ctx.lineTo(xx, height - m.bottom);
      ctx.stroke();
      const label = formatTick(t);
      if (xx + ctx.measureText(label).width / 2 < titleLeft) ctx.fillText(label, xx, height - m.bottom + 5);
    }

    // Lines.
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    for (const k of keys) {
      const f = metricField(k);
      ctx.strokeStyle = colors[f];
      ctx.beginPath();
      pts.forEach((p, i) => {
        const xx = x(p.step);
        const yy = y(Math.max(p[f], yDomain[0]));
        if (i === 0) ctx.moveTo(xx, yy);
        else ctx.lineTo(xx, yy);
      });
      if (pts.length === 1) ctx.arc(x(pts[0].step), y(Math.max(pts[0][f], yDomain[0])), 2, 0, 2 * Math.PI);
      ctx.stroke();
    }
    const last = pts[pts.length - 1];
    this.#canvas.setAttribute(
      'aria-label',
      `Loss per image against training step: at step ${last.step}, ` +
        keys.map((k) => `${METRICS[k].label} ${formatSig(last[metricField(k)])}`).join(', '),
    );
  }
}
