// Interpolation: decodes evenly spaced points on the straight line between the codes (μ) of
// two digits, as a strip and as an animation that walks the line back and forth. A smooth
// morph means the decoder fills the space between the codes with plausible digits; a sudden
// jump shows where it switches from one kind to another.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { hashBytes } from '../util/random.js';
import { DIGIT_SHAPE, isDigitShaped, rowSize } from '../util/shape.js';

export const STEPS = 10; // decodes along the line, both ends included
export const MORPH_FRAMES = 40; // the animation's decodes along the same line
const MORPH_FPS = 20;
export const DRAWING = 'drawing';

export class Interpolation {
  #canvas;
  #from;
  #to;
  #status;
  #loop;
  #shape = DIGIT_SHAPE; // of the rows it shows (D values each)
  #ends = null; // Float32Array 2×D: the two ends
  #strip = null; // Float32Array STEPS×D
  #onChange;
  #morph; // the animation's canvas
  #morphFrames = null; // Float32Array MORPH_FRAMES×D
  #playing = true;
  #play;
  #frame = 0; // position in the back-and-forth walk: 0 … 2·(MORPH_FRAMES − 1)
  #shown = 0; // distinct frames drawn
  #raf = 0;
  #last = 0;

  /** `root`: the element with part="interpolation". `onChange()` when an end is chosen. */
  constructor(root, { onChange }) {
    this.root = root;
    this.#onChange = onChange;
    const uid = Math.random().toString(36).slice(2, 8);
    this.#from = h('select', { id: `ll-from-${uid}` });
    this.#to = h('select', { id: `ll-to-${uid}` });
    for (const s of [this.#from, this.#to]) s.addEventListener('change', () => this.#onChange());
    this.#canvas = h('canvas', { class: 'strip', role: 'img', 'aria-label': 'Interpolation between two digits (loading)' });
    this.#status = h('p', { class: 'digits-status' }, '');
    this.#morph = h('canvas', { class: 'morph', role: 'img', 'aria-label': 'Animation along the line between two digits', 'data-frames': '0' });
    this.#play = h('button', { type: 'button', 'aria-pressed': 'true' }, 'Pause');
    this.#play.addEventListener('click', () => this.#setPlaying(!this.#playing));
    root.replaceChildren(
      h('h2', {}, 'Interpolation'),
      h(
        'p',
        { class: 'explain' },
        'The codes of two held-out inputs joined by a straight line, and what the decoder draws at evenly spaced points on it. ' +
          'A smooth morph means the space between codes is filled with plausible inputs.',
      ),
      h(
        'div',
        { class: 'ends' },
        h('div', { class: 'field' }, h('label', { for: this.#from.id }, 'from'), this.#from),
        h('div', { class: 'field' }, h('label', { for: this.#to.id }, 'to'), this.#to),
      ),
      this.#canvas,
      this.#status,
      h('div', { class: 'morph-row' }, this.#morph, h('div', {}, h('p', { class: 'explain' }, 'The same line walked back and forth, 40 decodes from one end to the other.'), this.#play)),
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
    this.setData(DIGIT_SHAPE, 'digit');
    // The morph runs only while it is on screen.
    if (typeof IntersectionObserver === 'function') {
      new IntersectionObserver((entries) => {
        this.#visible = entries.some((e) => e.isIntersecting);
        this.#schedule();
      }).observe(this.#morph);
    } else {
      this.#visible = true;
    }
    this.#schedule();
  }
  #visible = false;

  /**
   * Rows of `shape` (`row`: one of them in words, e.g. 'digit', 'window'): the ends offered
   * are the first ten held-out rows, and the drawing for digit-shaped images.
   */
  setData(shape, row) {
    this.#shape = shape;
    const options = (selected) => [
      ...Array.from({ length: 10 }, (_, i) => h('option', { value: String(i), selected: i === selected }, `test ${row} ${i}`)),
      ...(isDigitShaped(shape) ? [h('option', { value: DRAWING }, 'your drawing')] : []),
    ];
    this.#from.replaceChildren(...options(1));
    this.#to.replaceChildren(...options(0));
    this.setStrip(null, null);
  }

  /** Plays or pauses the morph (the Play/Pause button does the same). */
  setPlaying(on) {
    this.#setPlaying(on);
  }

  #setPlaying(on) {
    this.#playing = on;
    this.#play.textContent = on ? 'Pause' : 'Play';
    this.#play.setAttribute('aria-pressed', String(on));
    this.#schedule();
  }

  // Keeps one animation frame requested while playing and visible, none otherwise.
  #schedule() {
    const run = this.#playing && this.#visible;
    if (run && !this.#raf) this.#raf = requestAnimationFrame((t) => this.#tick(t));
    if (!run && this.#raf) {
      cancelAnimationFrame(this.#raf);
      this.#raf = 0;
    }
  }

  #tick(now) {
    this.#raf = 0;
    if (!(this.#playing && this.#visible)) return;
    this.#raf = requestAnimationFrame((t) => this.#tick(t));
    if (!this.#morphFrames || !this.#playing || now - this.#last < 1000 / MORPH_FPS) return;
    this.#last = now;
    this.#frame = (this.#frame + 1) % (2 * (MORPH_FRAMES - 1));
    this.#drawMorph();
  }

  #drawMorph() {
    const c = this.#morph;
    const { ctx, width, height } = fitCanvas(c);
    ctx.fillStyle = cssColor(this.root, '--ll-paper', '#fff');
    ctx.fillRect(0, 0, width, height);
    if (!this.#morphFrames) return;
    const n = MORPH_FRAMES - 1;
    const i = this.#frame <= n ? this.#frame : 2 * n - this.#frame;
    paintRow(ctx, this.#morphFrames, i, 0, 0, Math.min(width, height), parseColor(cssColor(this.root, '--ll-ink', '#000')), { shape: this.#shape });
    this.#shown += 1;
    c.dataset.frames = String(this.#shown);
    c.dataset.t = (i / n).toFixed(3);
  }

  /** The chosen ends: a test digit index (0–9) or DRAWING, each. */
  get ends() {
    const v = (s) => (s.value === DRAWING ? DRAWING : Number(s.value));
    return [v(this.#from), v(this.#to)];
  }

  /**
   * The two ends (2×D), the decodes along the line (STEPS×D) and the animation's
   * (MORPH_FRAMES×D); null to clear.
   */
  setStrip(ends, strip, note = '', morph = null) {
    this.#ends = ends;
    this.#strip = strip;
    this.#morphFrames = morph;
    this.#drawMorph();
    this.#status.textContent = note || 'Outer tiles: the two you chose. Between them: decodes along the line joining their codes.';
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
    cancelAnimationFrame(this.#raf);
  }

  #draw() {
    const width = this.#canvas.getBoundingClientRect().width;
    const gap = 3;
    const sep = 10; // extra space between an end digit and the strip
    const cells = STEPS + 2;
    const cell = Math.min(72, Math.max(8, Math.floor((width - gap * (cells - 1) - 2 * sep) / cells)));
    if (Math.abs(this.#canvas.getBoundingClientRect().height - (cell + 16)) > 0.5) this.#canvas.style.height = `${cell + 16}px`;
    const { ctx, width: w, height: hh } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, w, hh);
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    const muted = cssColor(this.root, '--ll-muted', '#666');
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    const xs = [];
    for (let i = 0; i < cells; i++) xs.push(i * (cell + gap) + (i > 0 ? sep : 0) + (i === cells - 1 ? sep : 0));
    for (let i = 0; i < cells; i++) {
      ctx.fillStyle = paper;
      ctx.fillRect(xs[i], 0, cell, cell);
      const end = i === 0 ? 0 : i === cells - 1 ? 1 : -1;
      if (end >= 0 && this.#ends) paintRow(ctx, this.#ends, end, xs[i], 0, cell, ink, { shape: this.#shape });
      if (end < 0 && this.#strip) paintRow(ctx, this.#strip, i - 1, xs[i], 0, cell, ink, { shape: this.#shape });
      ctx.strokeStyle = end >= 0 ? muted : border;
      ctx.lineWidth = 1;
      ctx.strokeRect(xs[i] + 0.5, 0.5, cell - 1, cell - 1);
    }
    ctx.fillStyle = muted;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'center';
    ctx.fillText('t = 0', xs[1] + cell / 2, cell + 3);
    ctx.fillText('t = 1', xs[cells - 2] + cell / 2, cell + 3);
    if (this.#strip) {
      this.#canvas.dataset.steps = String(this.#strip.length / rowSize(this.#shape));
      this.#canvas.dataset.hash = String(hashBytes(new Uint8Array(this.#strip.buffer, this.#strip.byteOffset, this.#strip.byteLength)));
      this.#canvas.setAttribute('aria-label', `${STEPS} rows decoded between the codes of two held-out rows`);
    }
  }
}
