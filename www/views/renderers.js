// How one input row is drawn, by the shape of the data (the engine's `shape` in a model's
// info): a table of painters, so every view that shows rows — the reconstructions, the
// sampler, the latent map's tiles, the interpolation — draws images, table rows and series
// windows alike. An image is a tile of pixels (ink with the value as opacity); a table row
// is a bar per feature around zero (the feature's training mean); a series window is a line
// per channel. Tables and series are standardised: a tile spans ±1 deviation, or more when
// its values (and those of `under`) reach further, up to ±SPREAD, beyond which they are
// clipped. `under` (e.g. the input behind its reconstruction) is drawn faintly first, in
// `underInk`, on the same scale.

import { DIGIT_SHAPE, rowSize } from '../util/shape.js';

/** Most deviations from the mean a table or series tile spans (beyond: clipped). */
export const SPREAD = 4;

// The half-height of a tile, in deviations: its largest value, from 1 to SPREAD.
function spanOf(rows, under, base, n) {
  let m = 1;
  for (const values of [rows, under]) {
    if (!values) continue;
    for (let i = base; i < base + n; i++) if (Number.isFinite(values[i])) m = Math.max(m, Math.abs(values[i]));
  }
  return Math.min(SPREAD, m * 1.05);
}

let tile = null;

function paintImage(ctx, rows, index, x, y, size, ink, { shape, alpha = 1 }) {
  const { height: hh, width: ww, channels } = shape;
  if (!tile) tile = document.createElement('canvas');
  if (tile.width !== ww || tile.height !== hh) {
    tile.width = ww;
    tile.height = hh;
  }
  const tctx = tile.getContext('2d');
  const img = tctx.createImageData(ww, hh);
  const [r, g, b] = ink;
  const plane = ww * hh;
  const base = index * plane * channels;
  for (let p = 0; p < plane; p++) {
    // Several channels: their mean (the lab's images have one).
    let v = 0;
    for (let c = 0; c < channels; c++) v += rows[base + c * plane + p] || 0;
    v = Math.min(1, Math.max(0, v / channels));
    img.data[4 * p] = r;
    img.data[4 * p + 1] = g;
    img.data[4 * p + 2] = b;
    img.data[4 * p + 3] = Math.round(v * 255 * alpha);
  }
  tctx.putImageData(img, 0, 0);
  const smoothing = ctx.imageSmoothingEnabled;
  ctx.imageSmoothingEnabled = false;
  // A wide or tall image keeps its proportions inside the square cell.
  const scale = size / Math.max(ww, hh);
  ctx.drawImage(tile, x + (size - ww * scale) / 2, y + (size - hh * scale) / 2, ww * scale, hh * scale);
  ctx.imageSmoothingEnabled = smoothing;
}

const rgba = ([r, g, b], a) => `rgba(${r}, ${g}, ${b}, ${a})`;
const level = (v, span) => Math.max(-span, Math.min(span, Number.isFinite(v) ? v : 0)) / span;

function paintBars(ctx, rows, index, x, y, size, ink, { shape, alpha = 1, under = null, underInk = ink }) {
  const n = shape.features;
  const mid = y + size / 2;
  const half = size / 2 - 1;
  const slot = size / n;
  const bar = Math.max(1, slot * 0.7);
  const span = spanOf(rows, under, index * n, n);
  ctx.save();
  ctx.fillStyle = rgba(ink, 0.25 * alpha);
  ctx.fillRect(x, Math.round(mid), size, 1); // zero: the feature's training mean
  const draw = (values, base, fill) => {
    ctx.fillStyle = fill;
    for (let f = 0; f < n; f++) {
      const v = level(values[base + f], span);
      const left = x + f * slot + (slot - bar) / 2;
      ctx.fillRect(left, v >= 0 ? mid - v * half : mid, bar, Math.max(1, Math.abs(v) * half));
    }
  };
  if (under) draw(under, index * n, rgba(underInk, 0.3 * alpha));
  draw(rows, index * n, rgba(ink, (under ? 0.85 : 0.75) * alpha));
  ctx.restore();
}

function paintLines(ctx, rows, index, x, y, size, ink, { shape, alpha = 1, under = null, underInk = ink }) {
  const { channels, length } = shape;
  const mid = y + size / 2;
  const half = size / 2 - 2;
  const base = index * channels * length;
  const span = spanOf(rows, under, base, channels * length);
  ctx.save();
  ctx.fillStyle = rgba(ink, 0.2 * alpha);
  ctx.fillRect(x, Math.round(mid), size, 1);
  const line = (values, stroke, width) => {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    for (let c = 0; c < channels; c++) {
      ctx.beginPath();
      for (let t = 0; t < length; t++) {
        const px = x + 1 + ((size - 2) * t) / Math.max(1, length - 1);
        const py = mid - level(values[base + c * length + t], span) * half;
        if (t === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.stroke();
    }
  };
  if (under) line(under, rgba(underInk, 0.35 * alpha), Math.max(1, size / 40));
  line(rows, rgba(ink, 0.9 * alpha), Math.max(1, size / 50));
  ctx.restore();
}

/** The painter of each shape type: (ctx, rows, index, x, y, size, ink [r, g, b], options). */
export const RENDERERS = Object.freeze({ image: paintImage, vector: paintBars, series: paintLines });

/**
 * Paints row `index` of `rows` (n × D values of `shape`) into the square cell at (x, y) with
 * side `size` (CSS px). Options: `shape` (the digits' by default), `alpha`, `under` (rows of
 * the same shape drawn faintly first, e.g. the input behind its reconstruction) and
 * `underInk`. Images ignore `under` (a view shows them side by side instead).
 */
export function paintRow(ctx, rows, index, x, y, size, ink, options = {}) {
  const shape = options.shape ?? DIGIT_SHAPE;
  const paint = RENDERERS[shape.type];
  if (!paint) throw new Error(`no painter for rows of type ${JSON.stringify(shape.type)}`);
  if (!rows || rows.length < (index + 1) * rowSize(shape)) return;
  paint(ctx, rows, index, x, y, size, ink, { ...options, shape });
}

/** Whether a view shows rows of `shape` best overlaid (tables, series) or side by side (images). */
export const overlays = (shape) => shape?.type !== 'image';

const colorCache = new Map();
/** CSS colour → [r, g, b], via a 1×1 canvas (handles any CSS colour syntax). */
export function parseColor(css) {
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

/** Mean squared difference per value of two equally long arrays. */
export function meanSquaredError(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / Math.max(1, a.length);
}
