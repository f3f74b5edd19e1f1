// The convolutional view: the first layer's learned filters (k × k weights each, blue where
// positive, red where negative) and the feature maps they make of one digit — the drawing,
// or a held-out digit before there is one.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { parseColor } from './renderers.js';
import { formatSig } from '../util/format.js';

export class FiltersView {
  #filters;
  #maps;
  #source;
  #note;
  #loop;
  #layer = null; // {channels, kernel, filters, side, maps}
  #from = null; // 'drawing' | 'test'

  /** `root`: the element with part="filters". */
  constructor(root) {
    this.root = root;
    this.#filters = h('canvas', { class: 'filters-canvas', role: 'img', 'aria-label': 'First-layer filters (loading)', 'data-state': 'empty' });
    this.#maps = h('canvas', { class: 'maps-canvas', role: 'img', 'aria-label': 'Feature maps (loading)', 'data-state': 'empty' });
    this.#source = h('span', {}, 'a held-out digit');
    this.#note = h('p', { class: 'digits-status' }, '');
    root.replaceChildren(
      h('h2', {}, 'Convolutional filters'),
      h(
        'p',
        { class: 'explain' },
        'The first layer slides each small filter across the image, two pixels at a time, and writes how well each patch matches it into a feature map. ' +
          'Filters are learned: blue weights reward ink, red ones punish it, so each filter looks for an edge or a stroke in one direction.',
      ),
      h('h3', {}, 'Filters'),
      this.#filters,
      h('h3', {}, 'Feature maps of ', this.#source),
      this.#maps,
      this.#note,
    );
    this.#loop = redrawLoop(this.#filters, () => this.#paint());
    new ResizeObserver(() => this.#loop.schedule()).observe(this.#maps);
  }

  /**
   * The first layer ({channels, kernel, filters, side, maps}), where its input came from
   * ('drawing' or 'test') and that input (784), or null.
   */
  setLayer(layer, from, source = null) {
    this.#layer = layer;
    this.#from = layer ? from : null;
    this.#source.textContent = from === 'drawing' ? 'your drawing' : 'a held-out digit';
    for (const c of [this.#filters, this.#maps]) {
      const d = c.dataset;
      d.state = layer ? from : 'empty';
      if (layer) d.updates = String(Number(d.updates ?? 0) + 1);
    }
    if (layer) {
      const { channels, kernel, side, filters, maps } = layer;
      const f = this.#filters.dataset;
      f.channels = String(channels);
      f.kernel = String(kernel);
      f.maxAbs = maxAbs(filters).toFixed(6);
      if (source) this.#maps.dataset.sourceInk = source.reduce((s, v) => s + v, 0).toFixed(3); // total ink of the digit
      const m = this.#maps.dataset;
      m.side = String(side);
      // How many of the maps respond anywhere: a dead filter gives an all-zero map.
      let live = 0;
      for (let c = 0; c < channels; c++) if (maxAbs(maps.subarray(c * side * side, (c + 1) * side * side)) > 1e-6) live++;
      m.live = String(live);
      m.maxAbs = maxAbs(maps).toFixed(6);
      this.#filters.setAttribute('aria-label', `${channels} learned ${kernel}×${kernel} filters of the first convolution`);
      this.#maps.setAttribute('aria-label', `${channels} feature maps, ${side}×${side}, of ${this.#source.textContent}`);
      this.#note.textContent =
        `${channels} filters of ${kernel}×${kernel} weights (each shown at its own scale; the largest weight is ${formatSig(maxAbs(filters), 2)}); ` +
        `each map is ${side}×${side}, after the activation, inked where that filter responds. ${live} of ${channels} respond to this digit.` +
        (from === 'drawing' ? '' : ' Draw on the pad to see your own digit’s maps.');
    } else {
      this.#note.textContent = '';
    }
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #paint() {
    const l = this.#layer;
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    const pos = parseColor(cssColor(this.root, '--ll-recon', '#2563eb'));
    const neg = parseColor(cssColor(this.root, '--ll-kl', '#c2336b'));
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    // Filters: diverging colours, each at its own scale.
    paintGrid(this.#filters, l?.channels ?? 0, l?.kernel ?? 1, 56, border, (c, out) => {
      const w = l.filters.subarray(c * l.kernel * l.kernel, (c + 1) * l.kernel * l.kernel);
      const s = maxAbs(w) || 1;
      w.forEach((v, i) => {
        const [r, g, b] = v >= 0 ? pos : neg;
        out.set([r, g, b, Math.round((255 * Math.abs(v)) / s)], 4 * i);
      });
    });
    // Feature maps: ink where the filter responds, each at its own scale.
    paintGrid(this.#maps, l?.channels ?? 0, l?.side ?? 1, 64, border, (c, out) => {
      const n = l.side * l.side;
      const m = l.maps.subarray(c * n, (c + 1) * n);
      const s = maxAbs(m) || 1;
      m.forEach((v, i) => {
        const [r, g, b] = v >= 0 ? ink : neg;
        out.set([r, g, b, Math.round((255 * Math.abs(v)) / s)], 4 * i);
      });
    });
  }
}

// Paints `count` square tiles of `side` × `side` cells in rows that fit the canvas's width,
// each at most `max` CSS px; `fill(c, rgba)` writes tile c's pixels.
function paintGrid(canvas, count, side, max, border, fill) {
  const width = canvas.getBoundingClientRect().width;
  const gap = 4;
  // Eight to a row (16 filters: two rows), fewer when a tile would get smaller than 24 px.
  const perRow = Math.max(1, Math.min(count || 1, 8, Math.floor((width + gap) / (24 + gap))));
  const cell = Math.max(12, Math.min(max, Math.floor((width - gap * (perRow - 1)) / perRow)));
  const rows = Math.ceil(count / perRow);
  const height = count ? rows * cell + (rows - 1) * gap : 0;
  if (Math.abs(canvas.getBoundingClientRect().height - height) > 0.5) canvas.style.height = `${height}px`;
  const { ctx, width: w, height: hh } = fitCanvas(canvas);
  ctx.clearRect(0, 0, w, hh);
  if (!count) return;
  const tile = document.createElement('canvas');
  tile.width = tile.height = side;
  const tctx = tile.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.strokeStyle = border;
  ctx.lineWidth = 1;
  for (let c = 0; c < count; c++) {
    const img = tctx.createImageData(side, side);
    fill(c, img.data);
    tctx.putImageData(img, 0, 0);
    const x = (c % perRow) * (cell + gap);
    const y = Math.floor(c / perRow) * (cell + gap);
    ctx.drawImage(tile, x, y, cell, cell);
    ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
  }
}

function maxAbs(a) {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
