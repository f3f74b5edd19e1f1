// Drawing 28×28 digits onto canvases: ink colour with the pixel value as opacity, over the
// `--ll-paper` colour, the same look as the reconstruction grid.

const SIDE = 28;
const PIXELS = SIDE * SIDE;

let tile = null;

/**
 * Paints digit `index` of `images` (n×784 values in [0, 1]) at (x, y) with side `size` (CSS
 * px) on `ctx`, nearest-neighbour scaled. `ink` is [r, g, b]; `alpha` fades the whole tile.
 */
export function paintDigit(ctx, images, index, x, y, size, ink, alpha = 1) {
  if (!tile) {
    tile = document.createElement('canvas');
    tile.width = tile.height = SIDE;
  }
  const tctx = tile.getContext('2d');
  const img = tctx.createImageData(SIDE, SIDE);
  const [r, g, b] = ink;
  const base = index * PIXELS;
  for (let p = 0; p < PIXELS; p++) {
    const v = Math.min(1, Math.max(0, images[base + p] || 0));
    img.data[4 * p] = r;
    img.data[4 * p + 1] = g;
    img.data[4 * p + 2] = b;
    img.data[4 * p + 3] = Math.round(v * 255 * alpha);
  }
  tctx.putImageData(img, 0, 0);
  const smoothing = ctx.imageSmoothingEnabled;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, x, y, size, size);
  ctx.imageSmoothingEnabled = smoothing;
}

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
