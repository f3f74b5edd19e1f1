// The denoising view: a few test digits, clean, with the training noise added, and the
// model's output from the noisy ones; and the same for the drawing on the pad. The noise
// controls set the noise shown here and the noise the model trains with.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { SETTINGS, noiseMax } from '../util/kinds.js';
import { formatSig } from '../util/format.js';
import { DIGIT_SHAPE, rowSize } from '../util/shape.js';

// Values in one digit (this view shows 28 × 28 images only).
const D = rowSize(DIGIT_SHAPE);

export const DENOISE_DIGITS = 6; // test digits shown (the first six: 0 to 5)
const ROWS = ['clean', 'noisy', 'denoised'];
const SLIDER_MAX = { gaussian: 1, mask: 0.9, salt_pepper: 0.9 };

export class DenoiseView {
  #canvas;
  #kind;
  #amount;
  #output;
  #readouts = {};
  #note;
  #loop;
  #onChange;
  #noise = { kind: 'gaussian', amount: 0.5 };
  #wanted = null; // the noise last chosen here, until the model trains with it
  #draw = 0; // which draw of the noise: "New noise" moves on
  #images = null; // {clean, noisy, denoised}: n×D each, the drawing last if `drawing`
  #count = 0;
  #drawing = false;

  /**
   * `root`: the element with part="denoise". `onChange({kind, amount}, draw)`: the noise or
   * its draw changed (the element changes the model's training noise and refreshes).
   */
  constructor(root, { onChange }) {
    this.root = root;
    this.#onChange = onChange;
    const uid = Math.random().toString(36).slice(2, 8);
    this.#kind = h(
      'select',
      { id: `ll-noise-kind-${uid}` },
      SETTINGS.noiseKind.options.map(([v, label]) => h('option', { value: v }, label)),
    );
    this.#amount = h('input', { type: 'range', id: `ll-noise-amount-${uid}`, min: '0', max: '1', step: '0.05', value: '0.5' });
    this.#output = h('output', { for: this.#amount.id, class: 'noise-value' }, '');
    const again = h('button', { type: 'button' }, 'New noise');
    this.#kind.addEventListener('change', () => {
      const kind = this.#kind.value;
      const amount = Math.min(Number(this.#amount.value), SLIDER_MAX[kind]);
      this.#set({ kind, amount });
    });
    this.#amount.addEventListener('input', () => this.#set({ kind: this.#kind.value, amount: Number(this.#amount.value) }));
    again.addEventListener('click', () => {
      this.#draw++;
      this.#show();
      this.#onChange({ ...this.#noise }, this.#draw);
    });
    this.#canvas = h('canvas', { class: 'denoise-canvas', role: 'img', 'aria-label': 'Clean, noisy and denoised digits (loading)', 'data-state': 'empty' });
    const readout = (key, label) => {
      this.#readouts[key] = h('dd', { 'data-readout': key }, '–');
      return h('div', {}, h('dt', {}, label), this.#readouts[key]);
    };
    this.#note = h('p', { class: 'digits-status' }, '');
    root.replaceChildren(
      h('h2', {}, 'Denoising'),
      h(
        'p',
        { class: 'explain' },
        'This model trained on digits with noise added and had to draw the clean digit. ' +
          'Here digits it never saw get the same noise, and its output gets the noise back out: it learned what digits look like, not just how to copy pixels.',
      ),
      h(
        'div',
        { class: 'noise-controls' },
        h('div', { class: 'field' }, h('label', { for: this.#kind.id }, 'Noise'), this.#kind),
        h('div', { class: 'field noise-amount' }, h('label', { for: this.#amount.id }, 'Amount'), h('div', { class: 'slider-row' }, this.#amount, this.#output)),
        again,
      ),
      this.#canvas,
      h(
        'dl',
        { class: 'readouts denoise-readouts' },
        readout('noisy', 'Noisy vs clean (MSE)'),
        readout('denoised', 'Denoised vs clean (MSE)'),
      ),
      this.#note,
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
    this.#show();
  }

  /** The noise to show: {kind, amount, draw} (`draw` numbers the noise's random draw). */
  get noise() {
    return { ...this.#noise, draw: this.#draw };
  }

  /**
   * The model's training noise ({kind, amount}), after a reset, a load or a live change.
   * While a noise chosen here is on its way to the model, older values do not move the
   * controls back; `force` does (a new model, or a refused change).
   */
  setNoise(noise, { force = false } = {}) {
    if (!noise) return;
    const w = this.#wanted;
    if (w && !force && (w.kind !== noise.kind || w.amount !== noise.amount)) return;
    this.#wanted = null;
    this.#noise = { kind: noise.kind, amount: noise.amount };
    this.#show();
  }

  /**
   * Clean, noisy and denoised images (n×784 each); the last one is the drawing when
   * `drawing`. null clears.
   */
  setImages(images, { drawing = false } = {}) {
    this.#images = images;
    this.#count = images ? images.clean.length / D : 0;
    this.#drawing = drawing;
    const tests = drawing ? this.#count - 1 : this.#count;
    const mse = (a, b, from, to) => {
      let s = 0;
      for (let i = from * D; i < to * D; i++) s += (a[i] - b[i]) ** 2;
      return s / Math.max(1, (to - from) * D);
    };
    const d = this.#canvas.dataset;
    if (images) {
      const noisy = mse(images.noisy, images.clean, 0, tests);
      const denoised = mse(images.denoised, images.clean, 0, tests);
      d.mseNoisy = noisy.toFixed(6);
      d.mseDenoised = denoised.toFixed(6);
      this.#readouts.noisy.textContent = formatSig(noisy, 3);
      this.#readouts.denoised.textContent = formatSig(denoised, 3);
      if (drawing) {
        d.drawingMseNoisy = mse(images.noisy, images.clean, tests, tests + 1).toFixed(6);
        d.drawingMseDenoised = mse(images.denoised, images.clean, tests, tests + 1).toFixed(6);
      } else {
        delete d.drawingMseNoisy;
        delete d.drawingMseDenoised;
      }
      d.state = drawing ? 'drawn' : 'ready';
      d.updates = String(Number(d.updates ?? 0) + 1);
      this.#note.textContent = drawing
        ? `MSE per pixel over the ${tests} test digits. Right: your drawing, noisy (${formatSig(Number(d.drawingMseNoisy), 3)}) and denoised (${formatSig(Number(d.drawingMseDenoised), 3)}).`
        : `MSE per pixel over the ${tests} test digits. Draw on the pad to add your own digit.`;
    } else {
      d.state = 'empty';
      this.#readouts.noisy.textContent = '–';
      this.#readouts.denoised.textContent = '–';
    }
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #set(noise) {
    this.#noise = noise;
    this.#wanted = { ...noise };
    this.#show();
    this.#onChange({ ...noise }, this.#draw);
  }

  #show() {
    const { kind, amount } = this.#noise;
    this.#kind.value = kind;
    // The slider covers the useful range; a larger amount from the settings pins it at the end.
    const max = Math.min(SLIDER_MAX[kind], noiseMax(kind));
    this.#amount.max = String(max);
    this.#amount.value = String(Math.min(amount, max));
    const text = kind === 'gaussian' ? `σ = ${formatSig(amount, 2)}` : `${Math.round(amount * 100)} % of pixels`;
    this.#output.textContent = text;
    this.#amount.setAttribute('aria-valuetext', text);
    this.#canvas.dataset.noise = JSON.stringify({ kind, amount, draw: this.#draw });
  }

  #paint() {
    const width = this.#canvas.getBoundingClientRect().width;
    const ctx0 = this.#canvas.getContext('2d');
    ctx0.font = '12px system-ui, sans-serif';
    const labelW = Math.ceil(Math.max(...ROWS.map((r) => ctx0.measureText(r).width))) + 8;
    const gap = 3;
    const sep = 12; // between the test digits and the drawing
    const headH = 16;
    const cols = DENOISE_DIGITS + 1;
    const cell = Math.max(12, Math.min(64, Math.floor((width - labelW - sep - gap * (cols - 2)) / cols)));
    const height = headH + ROWS.length * cell + (ROWS.length - 1) * gap;
    if (Math.abs(this.#canvas.getBoundingClientRect().height - height) > 0.5) this.#canvas.style.height = `${height}px`;
    const { ctx, width: w, height: hh } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, w, hh);
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const muted = cssColor(this.root, '--ll-muted', '#666');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    const accent = cssColor(this.root, '--ll-accent', '#2f5bd3');
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = muted;
    ctx.fillText('test digits', labelW, headH / 2);
    const drawX = labelW + DENOISE_DIGITS * (cell + gap) - gap + sep;
    ctx.textAlign = 'center';
    ctx.fillText('yours', drawX + cell / 2, headH / 2);
    ctx.textAlign = 'left';
    const tests = this.#drawing ? this.#count - 1 : this.#count;
    ROWS.forEach((row, r) => {
      const y = headH + r * (cell + gap);
      ctx.fillStyle = muted;
      ctx.fillText(row, 0, y + cell / 2);
      for (let c = 0; c < cols; c++) {
        const isDrawing = c === DENOISE_DIGITS;
        const x = isDrawing ? drawX : labelW + c * (cell + gap);
        ctx.fillStyle = paper;
        ctx.fillRect(x, y, cell, cell);
        const index = isDrawing ? (this.#drawing ? this.#count - 1 : -1) : c < tests ? c : -1;
        if (this.#images && index >= 0) paintRow(ctx, this.#images[row], index, x, y, cell, ink);
        ctx.strokeStyle = isDrawing ? accent : border;
        ctx.lineWidth = 1;
        if (isDrawing && !this.#drawing) ctx.setLineDash([3, 3]);
        ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
        ctx.setLineDash([]);
      }
    });
    this.#canvas.setAttribute(
      'aria-label',
      this.#images
        ? `${tests} test digits${this.#drawing ? ' and your drawing' : ''}: clean, with ${this.#output.textContent} noise, and denoised by the model`
        : 'Clean, noisy and denoised digits (loading)',
    );
  }
}
