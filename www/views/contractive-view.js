// The contractive view: how far the code moves when the input is nudged, for this model and
// for a plain autoencoder of the same shape. One digit (the drawing, or a held-out digit) is
// nudged NUDGES times with Gaussian noise of size ε per pixel and encoded again. Per model:
//
//   ‖J‖_F ≈ √(mean ‖Δz‖²) / ε     (E‖J·δ‖² = ε²‖J‖²_F for δ ~ N(0, ε² I)), the quantity
//                                   the contractive penalty shrinks; and
//   moved = mean ‖Δz‖ / spacing    where spacing is the mean distance between the codes of
//                                   two different held-out digits — a scale-free measure, as
//                                   the two models' codes have different units.
//
// The plot shows each code unit's value for the digit (a dot) and the range it takes over
// the nudges (a bar), in units of that unit's spread over the held-out digits.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { formatSig } from '../util/format.js';
import { DIGIT_SHAPE, rowSize } from '../util/shape.js';

// Values in one digit (this view shows 28 × 28 images only).
const D = rowSize(DIGIT_SHAPE);

export const NUDGES = 24;
export const SPREAD_DIGITS = 100; // held-out digits that set each unit's scale
export const NUDGE_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2];
export const DEFAULT_EPSILON = 0.1;

/** A deterministic N(0, 1) stream (mulberry32 + Box–Muller) for reproducible nudges. */
export function gaussians(seed, n) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const t = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/**
 * One encoder batch: the digit, NUDGES nudged copies (noise ε per pixel) and the spread
 * digits: (1 + NUDGES + SPREAD_DIGITS) × 784.
 */
export function nudgeBatch(digit, spreadDigits, epsilon, seed = 1) {
  const noise = gaussians(seed, NUDGES * D);
  const rows = 1 + NUDGES + spreadDigits.length / D;
  const out = new Float32Array(rows * D);
  out.set(digit, 0);
  for (let k = 0; k < NUDGES; k++) {
    for (let i = 0; i < D; i++) out[(1 + k) * D + i] = digit[i] + epsilon * noise[k * D + i];
  }
  out.set(spreadDigits, (1 + NUDGES) * D);
  return out;
}

/** The measures above from the codes of a nudgeBatch (rows × latent). */
export function codeMovement(codes, latent, epsilon) {
  const row = (r) => codes.subarray(r * latent, (r + 1) * latent);
  const dist = (a, b) => Math.hypot(...a.map((v, j) => v - b[j]));
  const z0 = row(0);
  let sq = 0;
  let sum = 0;
  const lo = Float32Array.from(z0);
  const hi = Float32Array.from(z0);
  for (let k = 1; k <= NUDGES; k++) {
    const z = row(k);
    const d = dist(z, z0);
    sq += d * d;
    sum += d;
    z.forEach((v, j) => {
      lo[j] = Math.min(lo[j], v);
      hi[j] = Math.max(hi[j], v);
    });
  }
  const n = codes.length / latent - 1 - NUDGES;
  // Per unit: standard deviation over the spread digits; overall: their mean pair distance.
  const mean = new Float64Array(latent);
  const std = new Float64Array(latent);
  for (let r = 0; r < n; r++) row(1 + NUDGES + r).forEach((v, j) => (mean[j] += v / n));
  for (let r = 0; r < n; r++) row(1 + NUDGES + r).forEach((v, j) => (std[j] += (v - mean[j]) ** 2 / n));
  let spacing = 0;
  let pairs = 0;
  for (let r = 0; r + 1 < n; r += 2) {
    spacing += dist(row(1 + NUDGES + r), row(2 + NUDGES + r));
    pairs++;
  }
  spacing = pairs ? spacing / pairs : 0;
  return {
    jacobian: Math.sqrt(sq / NUDGES) / epsilon,
    moved: spacing > 0 ? sum / NUDGES / spacing : NaN,
    spacing,
    code: Array.from(z0),
    lo: Array.from(lo),
    hi: Array.from(hi),
    mean: Array.from(mean),
    std: Array.from(std, Math.sqrt),
  };
}

export class ContractiveView {
  #canvas;
  #slider;
  #output;
  #readouts = {};
  #note;
  #loop;
  #onChange;
  #epsilon = DEFAULT_EPSILON;
  #result = null; // {from, model: movement, plain: movement | null, plainError}

  /** `root`: the element with part="contractive". `onChange()`: the nudge size changed. */
  constructor(root, { onChange }) {
    this.root = root;
    this.#onChange = onChange;
    const uid = Math.random().toString(36).slice(2, 8);
    this.#slider = h('input', { type: 'range', id: `ll-nudge-${uid}`, min: '0', max: String(NUDGE_STEPS.length - 1), step: '1', value: String(NUDGE_STEPS.indexOf(DEFAULT_EPSILON)) });
    this.#output = h('output', { for: this.#slider.id, class: 'noise-value' }, '');
    this.#slider.addEventListener('input', () => {
      this.#epsilon = NUDGE_STEPS[Number(this.#slider.value)];
      this.#showEpsilon();
      this.#onChange();
    });
    this.#canvas = h('canvas', { class: 'plot contractive-canvas', role: 'img', 'aria-label': 'Code movement under nudges (loading)', 'data-state': 'empty' });
    const readout = (key, label) => {
      this.#readouts[key] = h('dd', { 'data-readout': key }, '–');
      return h('div', {}, h('dt', {}, label), this.#readouts[key]);
    };
    this.#note = h('p', { class: 'digits-status', 'aria-live': 'polite' }, '');
    root.replaceChildren(
      h('h2', {}, 'How much the code moves'),
      h(
        'p',
        { class: 'explain' },
        'Nudge a digit with a little random noise and encode it again: how far does its code move? ' +
          'The contractive penalty λ·‖J‖² makes the code hold still under such small changes, so it only follows the changes that make a different digit. ' +
          'Below, the same nudges go through this model and through a plain autoencoder of the same shape.',
      ),
      h('div', { class: 'field noise-amount' }, h('label', { for: this.#slider.id }, 'Nudge size ε (per pixel)'), h('div', { class: 'slider-row' }, this.#slider, this.#output)),
      h(
        'div',
        { class: 'legend' },
        h('span', { class: 'key dot' }, 'code of the digit'),
        h('span', { class: 'key range' }, `range over ${NUDGES} nudges`),
      ),
      h('div', { class: 'plot-box' }, this.#canvas),
      h(
        'dl',
        { class: 'readouts contractive-readouts' },
        readout('model', 'This model: ‖J‖ ≈'),
        readout('plain', 'Plain AE: ‖J‖ ≈'),
        readout('moved', 'Code moves (share of digit spacing)'),
      ),
      this.#note,
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
    this.#showEpsilon();
  }

  /** The nudge size ε. */
  get epsilon() {
    return this.#epsilon;
  }

  /**
   * Movements ({from: 'drawing' | 'test', source (784), model, plain, plainError}) from codeMovement for
   * this model and the plain AE (null with `plainError` when it could not run), or null.
   */
  setResult(result) {
    this.#result = result;
    const d = this.#canvas.dataset;
    const r = this.#readouts;
    if (!result) {
      d.state = 'empty';
      for (const k of Object.keys(r)) r[k].textContent = '–';
      this.#note.textContent = '';
      this.#loop.schedule();
      return;
    }
    const { model, plain } = result;
    d.state = result.from;
    d.sourceInk = result.source.reduce((s, v) => s + v, 0).toFixed(3); // total ink of the digit
    d.updates = String(Number(d.updates ?? 0) + 1);
    d.epsilon = String(this.#epsilon);
    d.jacobian = model.jacobian.toFixed(6);
    d.moved = model.moved.toFixed(6);
    r.model.textContent = formatSig(model.jacobian, 3);
    if (plain) {
      d.plainJacobian = plain.jacobian.toFixed(6);
      d.plainMoved = plain.moved.toFixed(6);
      r.plain.textContent = formatSig(plain.jacobian, 3);
      r.moved.textContent = `${pct(model.moved)} vs ${pct(plain.moved)}`;
      const whose = result.from === 'drawing' ? 'your drawing' : 'a held-out digit';
      const ratio = plain.jacobian / model.jacobian;
      this.#note.textContent =
        `‖J‖ is how much the code changes per unit change of the input: nudging ${whose} by ε = ${this.#epsilon}, ` +
        `this model’s is ${formatSig(model.jacobian, 2)} and the plain AE’s ${formatSig(plain.jacobian, 2)}` +
        (ratio >= 1.05 ? ` (${formatSig(ratio, 2)}× as large).` : '.') +
        ` Part of that is the whole code shrinking: measured against the distance between two digits’ codes, the nudge moves this code ${pct(model.moved)} of the way and the plain AE’s ${pct(plain.moved)}. ` +
        'The plot measures each unit against its own spread over held-out digits.';
    } else {
      delete d.plainJacobian;
      delete d.plainMoved;
      r.plain.textContent = '–';
      r.moved.textContent = pct(model.moved);
      this.#note.textContent = `The plain autoencoder to compare with could not be loaded (${result.plainError}).`;
    }
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #showEpsilon() {
    this.#output.textContent = `ε = ${this.#epsilon}`;
    this.#slider.setAttribute('aria-valuetext', `ε = ${this.#epsilon}`);
  }

  #paint() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, width, height);
    const res = this.#result;
    if (!res) return;
    const text = cssColor(this.root, '--ll-muted', '#666');
    const grid = cssColor(this.root, '--ll-grid', '#ddd');
    const ink = cssColor(this.root, '--ll-text', '#111');
    const colors = [cssColor(this.root, '--ll-recon', '#2f5bd3'), cssColor(this.root, '--ll-kl', '#c2336b')];
    const panels = [
      ['this model', res.model],
      ['plain AE', res.plain],
    ].filter(([, m]) => m);
    ctx.font = '11px system-ui, sans-serif';
    const labelW = 64;
    const panelH = (height - 6 * (panels.length - 1)) / panels.length;
    // Values in units of each unit's spread over the held-out digits, centred on its mean.
    const LIM = 3;
    panels.forEach(([name, m], p) => {
      const top = p * (panelH + 6);
      const y = (v) => top + panelH / 2 - (Math.max(-LIM, Math.min(LIM, v)) / LIM) * (panelH / 2 - 4);
      ctx.strokeStyle = grid;
      ctx.lineWidth = 1;
      ctx.strokeRect(labelW + 0.5, top + 0.5, width - labelW - 1, panelH - 1);
      ctx.beginPath();
      ctx.moveTo(labelW, Math.round(y(0)) + 0.5);
      ctx.lineTo(width, Math.round(y(0)) + 0.5);
      ctx.stroke();
      ctx.fillStyle = text;
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      ctx.fillText(name, 2, top + panelH / 2 - 7);
      ctx.fillText(`${m.code.length} units`, 2, top + panelH / 2 + 7);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'top';
      ctx.fillText(`±${LIM} spreads`, width - 4, top + 3);
      const n = m.code.length;
      const step = (width - labelW - 8) / n;
      const scale = (v, j) => (v - m.mean[j]) / (m.std[j] || 1);
      for (let j = 0; j < n; j++) {
        const x = labelW + 4 + (j + 0.5) * step;
        const y0 = y(scale(m.lo[j], j));
        const y1 = y(scale(m.hi[j], j));
        ctx.fillStyle = colors[p];
        ctx.globalAlpha = 0.35;
        const w = Math.max(2, step * 0.6);
        ctx.fillRect(x - w / 2, Math.min(y0, y1) - 1, w, Math.abs(y1 - y0) + 2);
        ctx.globalAlpha = 1;
        ctx.fillStyle = ink;
        ctx.beginPath();
        ctx.arc(x, y(scale(m.code[j], j)), Math.min(3, Math.max(1.5, step / 4)), 0, 2 * Math.PI);
        ctx.fill();
      }
    });
  }
}

const pct = (x) => (Number.isFinite(x) ? `${formatSig(100 * x, 2)} %` : '–');
