// A grid of 28×28 digits in pairs of rows: held-out test digits above, the model's
// reconstructions of them below. One canvas, crisp pixels at any devicePixelRatio.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

export class DigitGrid {
  #canvas;
  #originals = null; // Float32Array n×784
  #recons = null;
  #count = 0;
  #loop;
  #tile = document.createElement('canvas');
  #status;

  /** `root`: the element with part="test-reconstructions". */
  constructor(root, { title, explanation }) {
    this.root = root;
    this.#tile.width = SIDE;
    this.#tile.height = SIDE;
    this.#canvas = h('canvas', {
      class: 'digits',
      role: 'img',
      'aria-label': 'Test digits and their reconstructions (loading)',
    });
    this.#status = h('p', { class: 'digits-status' }, 'Top rows: test digits the model never trains on. Bottom rows: its reconstructions.');
    root.replaceChildren(h('h2', {}, title), h('p', { class: 'explain' }, explanation), this.#canvas, this.#status);
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
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
    const ink = cssColor(this.root, '--ll-ink', '#000');
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const muted = cssColor(this.root, '--ll-muted', '#666');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    ctx.imageSmoothingEnabled = false;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (let b = 0; b < blocks; b++) {
      const top = b * (blockH + 2 * gap);
      ctx.fillStyle = muted;
      ctx.fillText(b === 0 ? 'test digit / reconstruction' : '', 0, top + labelH / 2);
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
          if (images && images.length >= (i + 1) * PIXELS) {
            this.#paint(images.subarray(i * PIXELS, (i + 1) * PIXELS), ink);
            ctx.drawImage(this.#tile, left, y, cell, cell);
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
        ? `${n} test digits and their reconstructions by the current model`
        : `${n} test digits (reconstructions loading)`,
    );
  }

  // Paints one digit into the 28×28 tile: ink colour with the pixel value as opacity.
  #paint(pixels, ink) {
    const tctx = this.#tile.getContext('2d');
    tctx.clearRect(0, 0, SIDE, SIDE);
    const [r, g, b] = parseColor(ink);
    const img = tctx.createImageData(SIDE, SIDE);
    for (let p = 0; p < PIXELS; p++) {
      const v = Math.min(1, Math.max(0, pixels[p] || 0));
      img.data[4 * p] = r;
      img.data[4 * p + 1] = g;
      img.data[4 * p + 2] = b;
      img.data[4 * p + 3] = Math.round(v * 255);
    }
    tctx.putImageData(img, 0, 0);
  }
}

const colorCache = new Map();
/** CSS colour → [r, g, b], via a 1×1 canvas (handles any CSS colour syntax). */
function parseColor(css) {
  if (colorCache.has(css)) return colorCache.get(css);
  const c = document.createElement('canvas');
  c.width = c.height = 1;
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = css;
  ctx.fillRect(0, 0, 1, 1);
  const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
  colorCache.set(css, [r, g, b]);
  return [r, g, b];
}
