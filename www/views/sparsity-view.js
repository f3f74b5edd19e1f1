// The sparse-code view: a histogram of every code unit's activation over the held-out
// digits, the target ρ and the mean marked, the drawing's own activations as ticks along the
// axis, how many units are active (> 0.5) for a digit, and how few units carry half of a
// digit's activation (a measure of sparsity with no threshold).

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { formatSig, formatTick } from '../util/format.js';

const BINS = 20; // over [0, 1]
export const ACTIVE = 0.5; // a unit counts as active above this

/**
 * The fewest units of one digit's code that together carry half its total activation: 1 for
 * a code with one unit on, latent / 2 for a code with every unit alike.
 */
export function halfUnits(code) {
  const sorted = Array.from(code).sort((a, b) => b - a);
  const half = sorted.reduce((s, v) => s + v, 0) / 2;
  let sum = 0;
  let k = 0;
  while (k < sorted.length && sum < half) sum += sorted[k++];
  return k;
}

/** Histogram and summary of codes (n × latent values in [0, 1]). */
export function codeStats(codes, latent) {
  const counts = new Array(BINS).fill(0);
  let sum = 0;
  let active = 0;
  for (const v of codes) {
    counts[Math.min(BINS - 1, Math.max(0, Math.floor(v * BINS)))]++;
    sum += v;
    if (v > ACTIVE) active++;
  }
  const n = Math.max(1, codes.length);
  const digits = codes.length / latent;
  let half = 0;
  for (let i = 0; i < digits; i++) half += halfUnits(codes.subarray(i * latent, (i + 1) * latent));
  return { counts, values: codes.length, mean: sum / n, activeFraction: active / n, halfUnits: half / Math.max(1, digits), digits, latent };
}

export class SparsityView {
  #canvas;
  #readouts = {};
  #note;
  #loop;
  #stats = null;
  #drawing = null; // the drawing's code (latent values)
  #spec = { target: 0.05, penalty: 'kl' };

  /** `root`: the element with part="sparsity". */
  constructor(root) {
    this.root = root;
    this.#canvas = h('canvas', { class: 'plot sparsity-canvas', role: 'img', 'aria-label': 'Histogram of code activations (loading)' });
    const readout = (key, label) => {
      this.#readouts[key] = h('dd', { 'data-readout': key }, '–');
      return h('div', {}, h('dt', {}, label), this.#readouts[key]);
    };
    this.#note = h('p', { class: 'digits-status' }, '');
    root.replaceChildren(
      h('h2', {}, 'Sparse code'),
      h(
        'p',
        { class: 'explain' },
        'Each digit is encoded by many units, each between 0 (off) and 1 (on), and the model pays a penalty unless every unit’s average activation stays near a small target ρ. ' +
          'So for any one digit most units stay near 0 and a few respond: the digit is built from a few parts chosen out of many.',
      ),
      h(
        'div',
        { class: 'legend' },
        h('span', { class: 'key bars' }, 'share of activations (log scale)'),
        h('span', { class: 'key drawn' }, 'your drawing’s units'),
      ),
      h('div', { class: 'plot-box' }, this.#canvas),
      h(
        'dl',
        { class: 'readouts sparsity-readouts' },
        readout('active', 'Active units (> 0.5)'),
        readout('half', 'Half of a digit’s activation'),
        readout('mean', 'Mean activation'),
        readout('drawing-active', 'Your drawing'),
      ),
      this.#note,
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
  }

  /** The model's spec: the sparsity target and penalty, the code width. */
  setSpec(spec) {
    this.#spec = { target: spec.sparsity?.target ?? 0.05, penalty: spec.sparsity?.penalty ?? 'kl', latent: spec.latent };
    this.#update();
  }

  /** The codes of the held-out digits (n × latent), or null. */
  setCodes(codes, latent) {
    this.#stats = codes ? codeStats(codes, latent) : null;
    if (codes) this.#canvas.dataset.refreshes = String(Number(this.#canvas.dataset.refreshes ?? 0) + 1);
    this.#update();
  }

  /** The drawing's code (latent values), or null. */
  setDrawing(code) {
    this.#drawing = code ? Array.from(code) : null;
    this.#update();
  }

  dispose() {
    this.#loop.dispose();
  }

  #update() {
    const s = this.#stats;
    const d = this.#canvas.dataset;
    const r = this.#readouts;
    if (s) {
      const perDigit = s.activeFraction * s.latent;
      r.active.textContent = `${formatSig(100 * s.activeFraction, 3)} % · ${formatSig(perDigit, 2)} of ${s.latent} per digit`;
      const target = this.#spec.penalty === 'kl' ? ` · target ρ ${formatTick(this.#spec.target)}` : '';
      r.mean.textContent = `${formatSig(s.mean, 3)}${target}`;
      r.half.textContent = `in ${formatSig(s.halfUnits, 2)} of ${s.latent} units`;
      d.halfUnits = s.halfUnits.toFixed(4);
      d.values = String(s.values);
      d.digits = String(s.digits);
      d.activeFraction = s.activeFraction.toFixed(6);
      d.mean = s.mean.toFixed(6);
      this.#note.textContent =
        `Over ${s.digits} held-out digits × ${s.latent} units. A digit’s largest ${formatSig(s.halfUnits, 2)} activations (on average) add up to half of its total; ` +
        `if all its units were alike it would take ${s.latent / 2}.` +
        (this.#spec.penalty === 'kl'
          ? ' The KL penalty pulls each unit’s mean activation towards ρ.'
          : ' The L1 penalty pushes every activation towards 0; it has no target.');
    } else {
      r.active.textContent = '–';
      r.mean.textContent = '–';
      r.half.textContent = '–';
      this.#note.textContent = '';
      for (const k of ['values', 'digits', 'activeFraction', 'mean', 'halfUnits']) delete d[k];
    }
    d.target = String(this.#spec.target);
    d.penalty = this.#spec.penalty;
    if (this.#drawing) {
      const on = this.#drawing.filter((v) => v > ACTIVE).length;
      const half = halfUnits(this.#drawing);
      r['drawing-active'].textContent = `${on} active · half in ${half} units`;
      d.drawingActive = String(on);
      d.drawingHalfUnits = String(half);
    } else {
      r['drawing-active'].textContent = 'draw on the pad';
      delete d.drawingActive;
      delete d.drawingHalfUnits;
    }
    this.#loop.schedule();
  }

  #paint() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, width, height);
    const s = this.#stats;
    if (!s) return;
    const text = cssColor(this.root, '--ll-muted', '#666');
    const grid = cssColor(this.root, '--ll-grid', '#ddd');
    const bar = cssColor(this.root, '--ll-recon', '#2f5bd3');
    const mark = cssColor(this.root, '--ll-kl', '#c2336b');
    const fg = cssColor(this.root, '--ll-text', '#000');
    const drawn = cssColor(this.root, '--ll-ok', '#1a7f37');
    ctx.font = '11px system-ui, sans-serif';
    // y: share of all activations, on a log scale (most sit in the first bin).
    const shares = s.counts.map((c) => c / Math.max(1, s.values));
    const smallest = Math.min(...shares.filter((v) => v > 0), 1);
    const lo = Math.max(1e-4, 10 ** Math.floor(Math.log10(smallest)));
    const ticks = [];
    for (let t = lo; t <= 1.0001; t *= 10) ticks.push(t);
    const pct = (t) => `${formatTick(100 * t)} %`;
    const labelWidth = Math.max(...ticks.map((t) => ctx.measureText(pct(t)).width));
    const m = { left: labelWidth + 8, right: 10, top: 18, bottom: 42 };
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const x = (v) => m.left + v * plotW;
    const y = (share) => m.top + plotH * (1 - (Math.log10(Math.max(share, lo)) - Math.log10(lo)) / -Math.log10(lo));

    // The active region, grid and axes.
    ctx.fillStyle = grid;
    ctx.globalAlpha = 0.5;
    ctx.fillRect(x(ACTIVE), m.top, x(1) - x(ACTIVE), plotH);
    ctx.globalAlpha = 1;
    ctx.fillStyle = text;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText('active (> 0.5)', (x(ACTIVE) + x(1)) / 2, m.top + 2);
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of ticks) {
      const yy = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(m.left, yy);
      ctx.lineTo(width - m.right, yy);
      ctx.stroke();
      ctx.fillText(pct(t), m.left - 4, yy);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let v = 0; v <= 1.0001; v += 0.25) ctx.fillText(formatTick(Number(v.toFixed(2))), x(v), height - m.bottom + 10);
    ctx.fillText('activation of a code unit →', m.left + plotW / 2, height - 15);

    // Bars.
    ctx.fillStyle = bar;
    const bw = plotW / BINS;
    shares.forEach((share, i) => {
      if (share <= 0) return;
      const top = y(share);
      ctx.fillRect(x(i / BINS) + 1, top, bw - 2, m.top + plotH - top);
    });

    // Target ρ (KL penalty) above the plot and the mean inside it, as vertical lines.
    const vline = (v, color, dash, label, labelY) => {
      const xx = Math.round(x(v)) + 0.5;
      ctx.strokeStyle = color;
      ctx.setLineDash(dash);
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(xx, m.top - 4);
      ctx.lineTo(xx, m.top + plotH);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.textAlign = 'left';
      ctx.textBaseline = 'bottom';
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.fillText(label, Math.min(xx + 4, width - m.right - ctx.measureText(label).width), labelY);
      ctx.font = '11px system-ui, sans-serif';
    };
    const kl = this.#spec.penalty === 'kl';
    if (kl) vline(this.#spec.target, mark, [5, 3], `target ρ ${formatTick(this.#spec.target)}`, m.top - 4);
    vline(s.mean, fg, [], `mean ${formatSig(s.mean, 2)}`, m.top + 28);

    // The drawing's units: a tick each along the axis.
    if (this.#drawing) {
      ctx.strokeStyle = drawn;
      ctx.lineWidth = 2;
      const base = m.top + plotH;
      for (const v of this.#drawing) {
        const xx = x(Math.min(1, Math.max(0, v)));
        ctx.beginPath();
        ctx.moveTo(xx, base + 1);
        ctx.lineTo(xx, base + 8);
        ctx.stroke();
      }
    }
    ctx.strokeStyle = text;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(m.left, m.top + plotH + 0.5);
    ctx.lineTo(width - m.right, m.top + plotH + 0.5);
    ctx.stroke();
    this.#canvas.setAttribute(
      'aria-label',
      `Histogram of ${s.values} code activations: ${formatSig(100 * s.activeFraction, 3)} % above 0.5, mean ${formatSig(s.mean, 3)}` +
        (kl ? `, target ρ ${this.#spec.target}` : '') +
        (this.#drawing ? `; your drawing has ${this.#canvas.dataset.drawingActive} active units` : ''),
    );
  }
}
