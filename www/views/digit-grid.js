// A grid of held-out rows in pairs: the rows above, the model's reconstructions of them
// below, each drawn by the painter for the data's shape (views/renderers.js): image tiles, or
// for a table row or a series window the reconstruction over its input, drawn faintly. One
// canvas, crisp pixels at any devicePixelRatio.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { overlays, paintRow, parseColor } from './renderers.js';
import { DIGIT_SHAPE, rowSize } from '../util/shape.js';

export class DigitGrid {
  #canvas;
  #originals = null; // Float32Array n×D
  #recons = null;
  #count = 0;
  #loop;
  #status;
  #shape = DIGIT_SHAPE;
  #rows = 'digits';
  #explain;
  #digitsExplanation; // the constructor's, for the digits

  /** `root`: the element with part="test-reconstructions". */
  constructor(root, { title, explanation }) {
    this.root = root;
    this.#explain = h('p', { class: 'explain' }, explanation);
    this.#digitsExplanation = explanation;
    this.#canvas = h('canvas', {
      class: 'digits',
      role: 'img',
      'aria-label': 'Test digits and their reconstructions (loading)',
    });
    this.#status = h('p', { class: 'digits-status' }, 'Top rows: test digits the model never trains on. Bottom rows: its reconstructions.');
    root.replaceChildren(h('h2', {}, title), this.#explain, this.#canvas, this.#status);
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
  }

  /** Rows of `shape` (`rows`: what they are in words, e.g. 'digits', 'windows'). */
  setData(shape, rows) {
    this.#shape = shape;
    this.#rows = rows;
    this.#originals = null;
    this.#recons = null;
    this.#count = 0;
    this.#explain.textContent =
      rows === 'digits'
        ? this.#digitsExplanation
        : `Held-out ${rows} the model has never trained on, and what it rebuilds from their codes. ` +
          'A fresh model (Reset) rebuilds them poorly; watch the reconstructions close in on them as the loss falls.';
    this.#status.textContent = overlays(shape)
      ? `Top: held-out ${rows} the model never trains on. Below each: its reconstruction, over the input drawn faintly.`
      : `Top rows: held-out ${rows} the model never trains on. Bottom rows: its reconstructions.`;
    this.#loop.schedule();
  }

  setOriginals(images, count) {
    this.#originals = images;
    this.#count = count;
    this.#loop.schedule();
  }

  setReconstructions(images) {
    this.#recons = images;
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #columns(width) {
    if (this.#count <= 5) return Math.max(1, this.#count);
    return width >= 400 ? Math.min(10, this.#count) : Math.ceil(this.#count / 2);
  }

  #draw() {
    const width = this.#canvas.getBoundingClientRect().width;
    const n = this.#count;
    const cols = this.#columns(width);
    const gap = 4;
    const labelH = 16;
    const cell = Math.max(8, Math.floor((width - gap * (cols - 1)) / Math.max(cols, 1)));
    const blocks = Math.max(1, Math.ceil(n / cols));
    const blockH = labelH + 2 * cell + gap;
    const wantHeight = blocks * blockH + (blocks - 1) * 2 * gap;
    if (Math.abs(this.#canvas.getBoundingClientRect().height - wantHeight) > 0.5) {
      this.#canvas.style.height = `${wantHeight}px`;
    }
    const { ctx, width: w, height: hh } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, w, hh);
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    const faint = parseColor(cssColor(this.root, '--ll-muted', '#666'));
    const d = rowSize(this.#shape);
    const over = overlays(this.#shape);
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const muted = cssColor(this.root, '--ll-muted', '#666');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    ctx.imageSmoothingEnabled = false;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (let b = 0; b < blocks; b++) {
      const top = b * (blockH + 2 * gap);
      ctx.fillStyle = muted;
      ctx.fillText(b === 0 ? `held-out ${this.#rows} / reconstructions` : '', 0, top + labelH / 2);
      for (let c = 0; c < cols; c++) {
        const i = b * cols + c;
        if (i >= n) break;
        const left = c * (cell + gap);
        for (const [row, images] of [
          [0, this.#originals],
          [1, this.#recons],
        ]) {
          const y = top + labelH + row * (cell + gap);
          ctx.fillStyle = paper;
          ctx.fillRect(left, y, cell, cell);
          if (images && images.length >= (i + 1) * d) {
            const under = row === 1 && over ? this.#originals : null;
            paintRow(ctx, images, i, left, y, cell, ink, { shape: this.#shape, under, underInk: faint });
          }
          ctx.strokeStyle = border;
          ctx.lineWidth = 1;
          ctx.strokeRect(left + 0.5, y + 0.5, cell - 1, cell - 1);
        }
      }
    }
    // Where the first reconstruction is drawn (CSS px), and whether it is: for tests.
    this.#canvas.dataset.firstReconstruction = JSON.stringify([0, labelH + cell + gap, cell, cell]);
    this.#canvas.dataset.state = this.#recons ? 'reconstructed' : 'originals';
    this.#canvas.setAttribute(
      'aria-label',
      this.#recons
        ? `${n} held-out ${this.#rows} and their reconstructions by the current model`
        : `${n} held-out ${this.#rows} (reconstructions loading)`,
    );
  }
}
