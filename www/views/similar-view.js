// "Digits like yours": the encoder kept for search. The held-out rows nearest to a query —
// the drawing on the pad, or a held-out row picked here — by the distance between codes and
// by the distance between the rows' own values, side by side (Lab.nearest). For clothes it
// reads "items like this one": an embedding's nearest neighbours are what a recommender
// offers.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { LABEL_COLORS } from './latent-map.js';
import { className } from '../util/datasets.js';
import { formatSig } from '../util/format.js';
import { DIGIT_SHAPE, isDigitShaped, rowSize } from '../util/shape.js';

export const SIMILAR_ROWS = 8; // neighbours shown in each space
const CANDIDATES = 10; // held-out rows to pick a query from (the first ten: one per class)

export class SimilarView {
  #title;
  #explain;
  #picker;
  #canvas;
  #status;
  #loop;
  #tiles;
  #onPick;
  #shape = DIGIT_SHAPE;
  #entry = null;
  #candidates = null; // {images, labels}
  #picked = 0; // a candidate's index, or 'drawing'
  #hasDrawing = false;
  #result = null;

  /** `root`: the element with part="similar". `onPick(query)`: {test: i} or 'drawing'. */
  constructor(root, { onPick }) {
    this.root = root;
    this.#onPick = onPick;
    this.#title = h('h2', {}, 'Digits like yours');
    this.#explain = h('p', { class: 'explain' }, '');
    this.#picker = h('div', { class: 'similar-picker', role: 'group', 'aria-label': 'The query' });
    this.#canvas = h('canvas', { class: 'similar-canvas', role: 'img', 'aria-label': 'The nearest held-out rows (loading)' });
    this.#status = h('p', { class: 'digits-status', role: 'status' }, 'Waiting for the model.');
    root.replaceChildren(this.#title, this.#explain, this.#picker, this.#canvas, this.#status);
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
    this.#tiles = redrawLoop(this.#picker, () => this.#paintTiles());
    this.setData(DIGIT_SHAPE, null);
  }

  /** The query in force: {test: i} (a candidate's row) or 'drawing'. */
  get query() {
    return this.#picked === 'drawing' ? 'drawing' : { test: this.#picked };
  }

  /** The data's row shape and table entry. */
  setData(shape, entry) {
    this.#shape = shape;
    this.#entry = entry;
    const rows = entry?.rows ?? 'rows';
    const digits = isDigitShaped(shape) && rows === 'digits';
    // Clothes read as a shop's "items like this one": the recommender's use of an embedding.
    const items = entry?.short === 'clothes' ? 'Items' : `${rows[0].toUpperCase()}${rows.slice(1)}`;
    this.#title.textContent = digits ? 'Digits like yours' : `${items} like this one`;
    const values = shape?.type === 'image' ? 'pixels' : 'values';
    this.#explain.textContent =
      `The encoder kept for search: the held-out ${rows} nearest to the one chosen, by the distance between their codes and by the distance between their ${values}. ` +
      `Codes find ${rows} alike in what the model learned to keep; ${values} find those that overlap value for value. ` +
      'Near in code space is what a recommender offers as "like this one".';
    this.#candidates = null;
    this.#picked = 0;
    this.#hasDrawing = false;
    this.setResult(null, 'Waiting for the held-out rows.');
    this.#buildPicker();
  }

  /** The rows to pick a query from (the first held-out rows). */
  setCandidates(images, labels) {
    this.#candidates = { images, labels };
    this.#buildPicker();
  }

  /** Whether the pad holds a drawing (a query of its own, digit-shaped data only). */
  setDrawing(has) {
    this.#hasDrawing = has && isDigitShaped(this.#shape);
    if (this.#hasDrawing) this.#picked = 'drawing';
    else if (this.#picked === 'drawing') this.#picked = 0;
    this.#buildPicker();
  }

  /** Lab.nearest's result for the query in force (null: none yet), and a line about it. */
  setResult(result, status = '') {
    this.#result = result;
    const d = this.#canvas.dataset;
    if (result) {
      d.state = 'ready';
      d.query = this.#picked === 'drawing' ? 'drawing' : String(this.#picked);
      d.code = result.code ? Array.from(result.code.indices).join(',') : '';
      d.pixels = Array.from(result.pixels.indices).join(',');
      this.#status.textContent = [this.#summary(result), result.why ?? '', status].filter(Boolean).join(' ');
    } else {
      d.state = 'empty';
      this.#status.textContent = status;
    }
    this.#loop.schedule();
  }

  setStatus(text) {
    if (this.#result) this.setResult(this.#result, text);
    else this.#status.textContent = text;
  }

  dispose() {
    this.#loop.dispose();
    this.#tiles.dispose();
  }

  // The query's label (a held-out row's), or null for the drawing.
  #queryLabel() {
    if (this.#picked === 'drawing' || !this.#candidates?.labels?.length) return null;
    return this.#candidates.labels[this.#picked];
  }

  #summary(r) {
    const label = this.#queryLabel();
    const rows = this.#entry?.rows ?? 'rows';
    if (label === null || !r.pixels.labels) {
      const names = (set) => [...new Set(Array.from(set.labels ?? []).map((l) => className(this.#entry, l)))].join(', ');
      return r.pixels.labels ? `By code: ${names(r.code ?? r.pixels)}${r.code ? `; by ${this.#values()}: ${names(r.pixels)}` : ''}.` : '';
    }
    const same = (set) => Array.from(set.labels).filter((l) => l === label).length;
    const name = className(this.#entry, label);
    const byCode = r.code ? `${same(r.code)} of the ${r.code.labels.length} nearest by code` : null;
    const byValues = `${same(r.pixels)} of the ${r.pixels.labels.length} by ${this.#values()}`;
    return `Same label as the chosen one (${name}): ${[byCode, byValues].filter(Boolean).join(', ')}. The labels were not used to find them; the ${rows} were.`;
  }

  #values() {
    return this.#shape?.type === 'image' ? 'pixels' : 'values';
  }

  #buildPicker() {
    const buttons = [];
    const c = this.#candidates;
    const n = c ? Math.min(CANDIDATES, c.labels.length || c.images.length / rowSize(this.#shape)) : 0;
    for (let i = 0; i < n; i++) {
      const tile = h('canvas', { width: 28, height: 28, class: 'similar-tile', 'aria-hidden': 'true', 'data-row': i });
      const label = c.labels.length ? className(this.#entry, c.labels[i]) : `row ${i + 1}`;
      const b = h('button', { type: 'button', 'aria-pressed': String(this.#picked === i), 'aria-label': `held-out ${label}`, 'data-test': i }, tile);
      b.addEventListener('click', () => this.#pick(i));
      buttons.push(b);
    }
    if (isDigitShaped(this.#shape)) {
      const b = h('button', { type: 'button', class: 'similar-drawing', 'aria-pressed': String(this.#picked === 'drawing'), disabled: !this.#hasDrawing, title: this.#hasDrawing ? null : 'Draw on the pad first' }, 'your drawing');
      b.addEventListener('click', () => this.#pick('drawing'));
      buttons.push(b);
    }
    this.#picker.replaceChildren(h('span', { class: 'picker-title' }, 'Like:'), ...buttons);
    this.#tiles.schedule();
  }

  // The candidates' tiles, in the theme's ink (again when the theme changes).
  #paintTiles() {
    const c = this.#candidates;
    if (!c) return;
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    for (const tile of this.#picker.querySelectorAll('canvas.similar-tile')) {
      const ctx = tile.getContext('2d');
      ctx.clearRect(0, 0, 28, 28);
      paintRow(ctx, c.images, Number(tile.dataset.row), 0, 0, 28, ink, { shape: this.#shape });
    }
  }

  #pick(query) {
    this.#picked = query;
    this.#buildPicker();
    this.#onPick(this.query);
  }

  #paint() {
    const canvas = this.#canvas;
    const width = canvas.getBoundingClientRect().width;
    const ctx0 = canvas.getContext('2d');
    ctx0.font = '12px system-ui, sans-serif';
    const names = ['by code', `by ${this.#values()}`];
    const labelW = Math.ceil(Math.max(...names.map((s) => ctx0.measureText(s).width))) + 10;
    const gap = 4;
    // As many as fit with room for their distances underneath (at least four).
    const n = Math.min(SIMILAR_ROWS, Math.max(4, Math.floor((width - labelW) / 44)));
    const cell = Math.max(14, Math.min(64, Math.floor((width - labelW - gap * (n - 1)) / n)));
    const distH = 13;
    const height = 2 * (cell + distH) + gap;
    if (Math.abs(canvas.getBoundingClientRect().height - height) > 0.5) canvas.style.height = `${height}px`;
    const { ctx, width: w, height: hh } = fitCanvas(canvas);
    ctx.clearRect(0, 0, w, hh);
    const col = (name, fallback) => cssColor(this.root, name, fallback);
    const ink = parseColor(col('--ll-ink', '#000'));
    const paper = col('--ll-paper', '#fff');
    const muted = col('--ll-muted', '#666');
    const grid = col('--ll-grid', '#ddd');
    const r = this.#result;
    const sets = r ? [r.code, r.pixels] : [null, null];
    const label = this.#queryLabel();
    sets.forEach((set, row) => {
      const y = row * (cell + distH + gap);
      ctx.font = '12px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      ctx.fillStyle = muted;
      ctx.fillText(names[row], 0, y + cell / 2);
      for (let c = 0; c < n; c++) {
        const x = labelW + c * (cell + gap);
        ctx.fillStyle = paper;
        ctx.fillRect(x, y, cell, cell);
        const has = set && c < set.indices.length;
        if (has) paintRow(ctx, set.rows, c, x, y, cell, ink, { shape: this.#shape });
        // The border is the row's label colour: a glance tells same from different.
        const l = has && set.labels ? set.labels[c] : null;
        ctx.strokeStyle = l === null ? grid : LABEL_COLORS[l % 10];
        ctx.lineWidth = l === null ? 1 : l === label ? 3 : 1.5;
        ctx.strokeRect(x + 1, y + 1, cell - 2, cell - 2);
        if (has) {
          ctx.fillStyle = muted;
          ctx.textAlign = 'center';
          ctx.font = '10px system-ui, sans-serif';
          ctx.fillText(formatSig(set.distances[c], 2), x + cell / 2, y + cell + distH / 2 + 1);
        }
      }
      if (r && !set && row === 0) {
        ctx.fillStyle = muted;
        ctx.textAlign = 'left';
        ctx.fillText('not by code: a conditional model’s code is given the label', labelW, y + cell / 2);
      }
    });
    canvas.setAttribute(
      'aria-label',
      r ? `The ${n} held-out ${this.#entry?.rows ?? 'rows'} nearest to the chosen one by code and by ${this.#values()}, with their distances` : 'The nearest held-out rows (loading)',
    );
  }
}
