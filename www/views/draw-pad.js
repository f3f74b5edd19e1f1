// The drawing pad: draw a digit with a mouse, finger or pen; the view rasterises the strokes
// to an ink-coverage image and hands it to the element, which has Rust preprocess it into
// the 28×28 network input and the model reconstruct it. Shows both, and the error.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { formatSig } from '../util/format.js';

// Strokes are kept in pad units ([0, 1] across the pad) and rasterised at INK_SIDE pixels
// for preprocessing: plenty for a 20-pixel digit box, and cheap to read back.
const INK_SIDE = 140;
// Stroke width as a share of the pad's side: MNIST's pen is about 1/10 of its 28-pixel frame.
const STROKE = 0.085;

export class DrawPad {
  #pad;
  #input;
  #recon;
  #error;
  #undo;
  #clear;
  #hint;
  #strokes = []; // [[x, y], …] per stroke, pad units
  #active = null; // {id, points}
  #ink = document.createElement('canvas');
  #loop;
  #inputPixels = null;
  #reconPixels = null;
  #onInk;

  /** `root`: the element with part="pad". `onInk(ink, width, height)` after every change. */
  constructor(root, { onInk }) {
    this.root = root;
    this.#onInk = onInk;
    this.#ink.width = this.#ink.height = INK_SIDE;
    this.#pad = h('canvas', {
      class: 'pad-canvas',
      role: 'img',
      'aria-label': 'Drawing pad: draw a digit here with a mouse, finger or pen',
    });
    this.#hint = h('p', { class: 'pad-hint', 'aria-hidden': 'true' }, 'Draw a digit here');
    this.#input = h('canvas', { part: 'input', class: 'digit-canvas', role: 'img', 'aria-label': 'Network input: nothing drawn yet' });
    this.#recon = h('canvas', {
      part: 'reconstruction',
      class: 'digit-canvas',
      role: 'img',
      'aria-label': 'Reconstruction of the drawing: nothing drawn yet',
    });
    this.#error = h('dd', { 'data-readout': 'drawing-error' }, '–');
    this.#undo = h('button', { type: 'button', disabled: true, onclick: () => this.undo() }, 'Undo');
    this.#clear = h('button', { type: 'button', disabled: true, onclick: () => this.clear() }, 'Clear');
    root.replaceChildren(
      h('h2', {}, 'Draw a digit'),
      h(
        'p',
        { class: 'explain' },
        'Your drawing is cropped, scaled and centred like the training digits (the 28×28 input), ' +
          'then squeezed through the latent code and rebuilt. A digit the model rebuilds well is one it has learned to compress.',
      ),
      h(
        'div',
        { class: 'pad-row' },
        h('div', { class: 'pad-box' }, this.#pad, this.#hint),
        h(
          'div',
          { class: 'pad-side' },
          h('figure', {}, this.#input, h('figcaption', {}, 'input')),
          h('figure', {}, this.#recon, h('figcaption', {}, 'reconstruction')),
          h('dl', { class: 'readouts pad-readouts' }, h('div', {}, h('dt', {}, 'error per pixel'), this.#error)),
        ),
      ),
      h('div', { class: 'buttons pad-buttons' }, this.#undo, this.#clear),
    );
    this.#pad.addEventListener('pointerdown', this.#down);
    this.#pad.addEventListener('pointermove', this.#move);
    this.#pad.addEventListener('pointerup', this.#up);
    this.#pad.addEventListener('pointercancel', this.#up);
    this.#loop = redrawLoop(this.#pad, () => this.#draw());
  }

  get strokeCount() {
    return this.#strokes.length + (this.#active ? 1 : 0);
  }

  undo() {
    this.#strokes.pop();
    this.#changed();
  }

  clear() {
    this.#strokes = [];
    this.#active = null;
    this.#changed();
  }

  /** The preprocessed 28×28 input (784 values), or null when the pad is empty. */
  setInput(pixels) {
    this.#inputPixels = pixels;
    this.#input.setAttribute('aria-label', pixels ? 'Network input: the drawing as a 28×28 digit' : 'Network input: nothing drawn yet');
    this.#loop.schedule();
  }

  /** The model's reconstruction of the input and its mean squared error per pixel. */
  setReconstruction(pixels, mse) {
    this.#reconPixels = pixels;
    this.#error.textContent = pixels ? formatSig(mse, 3) : '–';
    this.#recon.dataset.error = pixels ? String(mse) : '';
    this.#recon.setAttribute(
      'aria-label',
      pixels ? `Reconstruction of the drawing, error ${formatSig(mse, 3)} per pixel` : 'Reconstruction of the drawing: nothing drawn yet',
    );
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  // ── pointer input ──────────────────────────────────────────────────────────────────────
  #point(e) {
    const r = this.#pad.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  }

  #down = (e) => {
    if (this.#active || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    this.#pad.setPointerCapture?.(e.pointerId);
    this.#active = { id: e.pointerId, points: [this.#point(e)] };
    this.#changed();
  };

  #move = (e) => {
    if (!this.#active || e.pointerId !== this.#active.id) return;
    const events = e.getCoalescedEvents?.() ?? [];
    for (const c of events.length ? events : [e]) this.#active.points.push(this.#point(c));
    this.#changed();
  };

  #up = (e) => {
    if (!this.#active || e.pointerId !== this.#active.id) return;
    this.#strokes.push(this.#active.points);
    this.#active = null;
    this.#changed();
  };

  #allStrokes() {
    return this.#active ? [...this.#strokes, this.#active.points] : this.#strokes;
  }

  #changed() {
    const empty = this.strokeCount === 0;
    this.#undo.disabled = this.#strokes.length === 0;
    this.#clear.disabled = empty;
    this.#hint.hidden = !empty;
    this.#pad.dataset.strokes = String(this.strokeCount);
    this.#loop.schedule();
    // Rasterise white ink on black and hand over the coverage (red channel).
    const ctx = this.#ink.getContext('2d', { willReadFrequently: true });
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, INK_SIDE, INK_SIDE);
    strokePaths(ctx, this.#allStrokes(), INK_SIDE, '#fff');
    const rgba = ctx.getImageData(0, 0, INK_SIDE, INK_SIDE).data;
    const ink = new Float32Array(INK_SIDE * INK_SIDE);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i] / 255;
    this.#onInk(empty ? null : ink, INK_SIDE, INK_SIDE);
  }

  // ── drawing ────────────────────────────────────────────────────────────────────────────
  #draw() {
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const inkCss = cssColor(this.root, '--ll-ink', '#000');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    const { ctx, width } = fitCanvas(this.#pad);
    ctx.fillStyle = paper;
    ctx.fillRect(0, 0, width, width);
    // A faint frame where MNIST keeps its digits (the central 20 of 28 pixels).
    ctx.strokeStyle = border;
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    const m = (width * 4) / 28;
    ctx.strokeRect(m + 0.5, m + 0.5, width - 2 * m - 1, width - 2 * m - 1);
    ctx.setLineDash([]);
    strokePaths(ctx, this.#allStrokes(), width, inkCss);
    const ink = parseColor(inkCss);
    for (const [canvas, pixels] of [
      [this.#input, this.#inputPixels],
      [this.#recon, this.#reconPixels],
    ]) {
      const { ctx: c, width: w } = fitCanvas(canvas);
      c.fillStyle = paper;
      c.fillRect(0, 0, w, w);
      if (pixels) paintRow(c, pixels, 0, 0, 0, w, ink);
      c.strokeStyle = border;
      c.strokeRect(0.5, 0.5, w - 1, w - 1);
      canvas.dataset.state = pixels ? 'drawn' : 'empty';
    }
  }
}

/** Strokes (pad units) as thick round lines on a `side`-pixel square. */
function strokePaths(ctx, strokes, side, color) {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = STROKE * side;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const points of strokes) {
    if (points.length === 1) {
      ctx.beginPath();
      ctx.arc(points[0][0] * side, points[0][1] * side, (STROKE * side) / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(points[0][0] * side, points[0][1] * side);
    for (let i = 1; i < points.length; i++) ctx.lineTo(points[i][0] * side, points[i][1] * side);
    ctx.stroke();
  }
}
