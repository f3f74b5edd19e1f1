// The latent map: where the encoder puts held-out test digits (their means μ), coloured by
// label, with the drawn digit's code and, for a VAE, its 1-σ ellipse. A 2-D latent is drawn
// as it is (axes z₁, z₂); a wider one through its first two principal components, or through
// UMAP (umap-js in the engine's worker, animated as it converges; the drawing is then placed
// among its nearest held-out codes, UMAP having no map of new points here). On a 2-D
// latent the map is also a window onto the decoder: hover or drag to decode a point, or
// tile the plane with decodes (the "manifold").

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { linearScale } from '../util/scale.js';
import { formatTick, formatInt } from '../util/format.js';
import { pca2, project, projectDiagonal, ellipse } from '../util/pca.js';
import { DIGIT_SHAPE, isDigitShaped } from '../util/shape.js';
import { DATASETS, className } from '../util/datasets.js';

const explanation = (rows, names) =>
  `Each dot is one of the held-out ${rows} placed at its code; the colour is its label (${names}), which the model never saw. ` +
  `${rows[0].toUpperCase()}${rows.slice(1)} that look alike land together, so the code has learned something about them on its own.`;

// Tableau 10: ten colours told apart by most eyes, in label order 0–9.
export const LABEL_COLORS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
];
const GRID = 15; // manifold tiles per side
const NAMES = { umap: 'UMAP', tsne: 't-SNE' }; // the nonlinear layouts
const MARGIN = { left: 40, right: 10, top: 10, bottom: 34 };

export class LatentMap {
  #canvas;
  #legend;
  #axesNote;
  #manifoldBox;
  #manifold;
  #loop;
  #latent = 2;
  #xy = null; // Float32Array n×2 of projected points
  #labels = null;
  #count = 0;
  #pca = null;
  #domain = null; // {x: [a, b], y: [a, b]}
  #drawn = null; // {x, y, cov|null}
  #probe = null; // {x, y, image|null}
  #tiles = null; // {images, domain}
  #actions;
  #refreshes = 0;
  #shape = DIGIT_SHAPE; // of the rows the decoder draws
  #explain;
  #mu = null; // the codes on the map (n×Z), for a projection and the drawing's neighbours
  #method; // the projection select: 'pca' | 'umap' (codes wider than 2)
  #projectionBox;
  #projectionNote;
  #umap = null; // {xy, epochs, ms, settings, done, rows} of the codes on the map, or the layout so far
  #projecting = { busy: false, again: false, job: 0, method: null };
  #drawnMu = null;

  /**
   * `root`: the element with part="latent-map". `actions`: {probe(z) → Promise<image>,
   * manifold(zs, n) → Promise<images>}.
   */
  constructor(root, actions) {
    this.root = root;
    this.#actions = actions;
    this.#canvas = h('canvas', { class: 'map', role: 'img', 'aria-label': 'Latent map (loading)' });
    this.#legend = h('ul', { class: 'map-legend', 'aria-label': 'Colours of the labels' });
    this.#axesNote = h('p', { class: 'map-note' }, '');
    this.#manifold = h('input', { type: 'checkbox' });
    this.#manifold.addEventListener('change', () => this.#refreshManifold());
    this.#manifoldBox = h('label', { class: 'check' }, this.#manifold, ' show decoded grid');
    const uid = Math.random().toString(36).slice(2, 8);
    this.#method = h('select', { id: `ll-projection-${uid}` }, h('option', { value: 'pca' }, 'PCA (linear)'), h('option', { value: 'umap' }, 'UMAP (neighbours)'), h('option', { value: 'tsne' }, 't-SNE (neighbours)'));
    this.#method.addEventListener('change', () => this.#methodChanged());
    this.#projectionBox = h('div', { class: 'field projection', hidden: true }, h('label', { for: this.#method.id }, 'Projection'), this.#method);
    this.#projectionNote = h('p', { class: 'map-note projection-note', role: 'status' }, '');
    root.replaceChildren(
      h('h2', {}, 'Latent map'),
      (this.#explain = h('p', { class: 'explain' }, '')),
      h('div', { class: 'map-box' }, this.#canvas),
      this.#legend,
      h('div', { class: 'map-controls' }, this.#manifoldBox, this.#projectionBox, this.#axesNote),
      this.#projectionNote,
    );
    this.#canvas.addEventListener('pointermove', this.#hover);
    this.#canvas.addEventListener('pointerdown', this.#hover);
    this.#canvas.addEventListener('pointerleave', this.#leave);
    this.#canvas.addEventListener('pointercancel', this.#leave);
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
    this.setData(DIGIT_SHAPE, DATASETS.mnist);
  }

  /** The data set (its table entry, www/util/datasets.js) and the shape of its rows. */
  setData(shape, entry) {
    this.#shape = shape;
    const classes = entry?.classes ?? LABEL_COLORS.map((_, k) => String(k));
    this.#legend.replaceChildren(...classes.map((name, k) => h('li', { style: { '--swatch': LABEL_COLORS[k] } }, className(entry, k))));
    this.#explain.textContent = explanation(entry?.rows ?? 'rows', classes.join(', '));
    this.reset();
  }

  get pointCount() {
    return this.#count;
  }

  /**
   * Means μ (n×Z) of the test digits and their labels. `partial`: the first of them, while a
   * new model's codes arrive (the counters below and the decoded grid wait for all).
   */
  setPoints(mu, labels, latent, { partial = false } = {}) {
    const n = labels.length;
    this.#latent = latent;
    this.#labels = labels;
    this.#count = n;
    this.#pca = latent > 2 ? pca2(mu, n, latent) : null;
    const xy = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const [x, y] = this.#pca ? project(this.#pca, mu, i, latent) : [mu[i * latent], mu[i * latent + 1]];
      xy[2 * i] = x;
      xy[2 * i + 1] = y;
    }
    const umap = this.#layoutInForce(n);
    this.#xy = umap ? umap.xy : xy;
    this.#domain = squareDomain(this.#xy, n);
    const twoD = latent === 2;
    this.#manifoldBox.hidden = !twoD;
    this.#projectionBox.hidden = latent <= 2;
    if (latent <= 2) this.#projectionNote.textContent = '';
    this.#note();
    if (partial) {
      this.#canvas.dataset.partial = String(n);
      this.#loop.schedule();
      return;
    }
    delete this.#canvas.dataset.partial;
    this.#mu = Float32Array.from(mu);
    if (this.#nonlinear()) this.#project();
    this.#canvas.dataset.points = String(n);
    this.#canvas.dataset.refreshes = String(++this.#refreshes);
    this.#canvas.dataset.axes = twoD ? 'latent' : umap ? umap.method : 'pca';
    this.#canvas.setAttribute('aria-label', `Latent map of ${n} held-out rows, coloured by label`);
    this.#refreshManifold();
    this.#loop.schedule();
  }

  /** The drawn digit's code (μ and log σ², both length Z), or null to hide it. */
  setDrawn(mu, logvar) {
    this.#drawnMu = mu ? { mu: Float32Array.from(mu), logvar: logvar ? Float32Array.from(logvar) : null } : null;
    if (!mu) {
      this.#drawn = null;
      delete this.#canvas.dataset.marker;
      this.#loop.schedule();
      return;
    }
    const vars = logvar ? Array.from(logvar, (v) => Math.exp(v)) : null;
    let x;
    let y;
    let cov = null;
    if (['umap', 'tsne'].includes(this.#canvas.dataset.axes) && this.#mu) {
      // A neighbour layout has no map of a new point here: the drawing goes where its nearest
      // held-out codes went (the mean of the NEIGHBOURS nearest, weighted by 1 / distance).
      [x, y] = placeAmong(this.#mu, this.#latent, this.#xy, mu);
    } else if (this.#pca) {
      [x, y] = project(this.#pca, mu, 0, mu.length);
      if (vars) cov = projectDiagonal(this.#pca, vars);
    } else {
      [x, y] = [mu[0], mu[1]];
      if (vars) cov = [
        [vars[0], 0],
        [0, vars[1]],
      ];
    }
    this.#drawn = { x, y, cov };
    this.#canvas.dataset.marker = JSON.stringify([x, y]);
    this.#loop.schedule();
  }

  /** The model changed: forget what the old one drew. */
  reset() {
    this.#tiles = null;
    this.#probe = null;
    this.#umap = null;
    this.#projecting.job++;
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  /** The projection in force: {method, settings?, epochs?, ms?, done, xy (n×2, a copy)}. */
  get projection() {
    const method = this.#nonlinear() ?? (this.#latent > 2 ? 'pca' : 'none');
    const u = this.#layoutInForce(this.#count);
    return {
      method,
      done: !this.#nonlinear() || Boolean(u?.done),
      epoch: u?.epoch ?? null,
      epochs: u?.epochs ?? null,
      ms: u?.ms ?? null,
      settings: u?.settings ?? null,
      xy: this.#xy ? Array.from(this.#xy) : null,
      marker: this.#drawn ? [this.#drawn.x, this.#drawn.y] : null,
    };
  }

  /** Picks the projection of a code wider than 2: 'pca', 'umap' or 'tsne'. */
  setProjection(method) {
    if (!['pca', 'umap', 'tsne'].includes(method)) throw new Error(`the projection is 'pca', 'umap' or 'tsne', got ${JSON.stringify(method)}`);
    this.#method.value = method;
    this.#methodChanged();
  }

  /** A 'projection' event of the engine: the layout so far. */
  projectionProgress({ epoch, epochs, xy }) {
    const method = this.#nonlinear();
    if (!method || this.#projecting.method !== method || !this.#projecting.busy || !this.#mu || xy.length !== (this.#mu.length / this.#latent) * 2) return;
    this.#umap = { method, xy, epoch, epochs, done: false, rows: xy.length / 2 };
    this.#show();
    this.#projectionNote.textContent = `${NAMES[method]} of the ${formatInt(this.#count)} codes: epoch ${epoch} of ${epochs}…`;
  }

  // The nonlinear layout (finished or so far) to show for `n` points, if it is of the method
  // in force.
  #layoutInForce(n) {
    const u = this.#umap;
    return this.#nonlinear() && u?.method === this.#nonlinear() && u.rows === n ? u : null;
  }

  // What the axes are. The pad draws digit-shaped images only: for other data there is no
  // drawing to mark.
  #note() {
    const latent = this.#latent;
    const umap = this.#nonlinear();
    const name = NAMES[umap];
    this.#axesNote.textContent =
      (isDigitShaped(this.#shape) ? `The crosshair is your drawing${umap ? '' : '; for a VAE, the patch inside it is σ, how unsure the encoder is'}. ` : '') +
      (latent === 2
        ? 'Hover or drag on the map to decode any point.'
        : umap
          ? `The code has ${latent} numbers: ${name} lays the codes out so that each keeps its nearest neighbours near.`
          : `The code has ${latent} numbers: the map shows the two directions along which the dots spread most.`);
  }

  // The nonlinear layout in force ('umap' | 'tsne'), or null (PCA, or a 2-D code).
  #nonlinear() {
    return this.#latent > 2 && this.#method.value !== 'pca' ? this.#method.value : null;
  }

  #methodChanged() {
    if (!this.#mu) return;
    if (this.#nonlinear()) {
      this.#show();
      this.#project();
    } else {
      this.#projectionNote.textContent = '';
      this.#show();
    }
    this.#canvas.dataset.projection = this.#method.value;
  }

  // The map's points from the projection in force (the drawing's marker follows).
  #show() {
    const n = this.#count;
    const umap = this.#layoutInForce(n);
    if (umap) this.#xy = umap.xy;
    else if (this.#pca && this.#mu) {
      const xy = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) [xy[2 * i], xy[2 * i + 1]] = project(this.#pca, this.#mu, i, this.#latent);
      this.#xy = xy;
    }
    this.#domain = squareDomain(this.#xy, n);
    this.#canvas.dataset.axes = umap ? umap.method : 'pca';
    this.#note();
    if (this.#drawnMu) this.setDrawn(this.#drawnMu.mu, this.#drawnMu.logvar);
    this.#loop.schedule();
  }

  // UMAP of the codes on the map, one run at a time (a newer set of codes runs next).
  async #project() {
    const p = this.#projecting;
    if (p.busy) {
      p.again = true;
      return;
    }
    const method = this.#nonlinear();
    p.busy = true;
    p.again = false;
    p.method = method;
    const job = ++p.job;
    const codes = this.#mu;
    const latent = this.#latent;
    try {
      if (!this.#layoutInForce(this.#count)?.done) this.#projectionNote.textContent = `${NAMES[method]} of the ${formatInt(this.#count)} codes: finding each one's neighbours…`;
      const r = await this.#actions.project(codes.slice(), latent, method);
      if (job !== p.job || r.cancelled || codes !== this.#mu || method !== this.#nonlinear()) return;
      this.#umap = { ...r, method, done: true, rows: r.xy.length / 2, epoch: r.epochs };
      const s = r.settings;
      const settings = method === 'umap' ? `${s.neighbors} neighbours, min. distance ${s.minDist}` : `perplexity ${s.perplexity}, Barnes-Hut θ 0.5`;
      this.#projectionNote.textContent =
        `${NAMES[method]} of the ${formatInt(r.xy.length / 2)} codes (${settings}, ${s.epochs} epochs, seed ${s.seed}; ${(r.ms / 1000).toFixed(1)} s). ` +
        'Near dots had near codes; distances between clusters mean little.' +
        (isDigitShaped(this.#shape) ? ` Your drawing is placed among its ${NEIGHBOURS} nearest codes.` : '');
      this.#canvas.dataset.projectionMs = String(Math.round(r.ms));
      if (this.#nonlinear()) this.#show();
    } catch (e) {
      if (job === p.job) this.#projectionNote.textContent = `${NAMES[method]} failed: ${e.message}`;
    } finally {
      p.busy = false;
      if ((p.again || method !== this.#nonlinear()) && this.#nonlinear()) this.#project();
    }
  }

  // ── the decoder under the pointer (2-D latents) ────────────────────────────────────────
  #probing = { busy: false, next: null };

  #hover = (e) => {
    if (this.#latent !== 2 || !this.#domain) return;
    const { sx, sy } = this.#scales();
    const r = this.#canvas.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    const x = sx.invert(px);
    const y = sy.invert(py);
    if (!inside(x, this.#domain.x) || !inside(y, this.#domain.y)) return this.#leave();
    this.#probe = { x, y, image: this.#probe?.image ?? null };
    this.#loop.schedule();
    this.#probing.next = [x, y];
    this.#pumpProbe();
  };

  #leave = () => {
    this.#probe = null;
    this.#probing.next = null;
    delete this.#canvas.dataset.probe;
    this.#loop.schedule();
  };

  async #pumpProbe() {
    if (this.#probing.busy) return;
    this.#probing.busy = true;
    try {
      while (this.#probing.next) {
        const z = this.#probing.next;
        this.#probing.next = null;
        const image = await this.#actions.probe(Float32Array.from(z));
        if (this.#probe) {
          this.#probe.image = image;
          this.#canvas.dataset.probe = JSON.stringify(z);
          this.#loop.schedule();
        }
      }
    } catch {
      // The element reports engine errors; a missed probe is harmless.
    } finally {
      this.#probing.busy = false;
    }
  }

  async #refreshManifold() {
    if (!this.#manifold.checked || this.#latent !== 2 || !this.#domain) {
      this.#tiles = null;
      this.#loop.schedule();
      return;
    }
    const domain = this.#domain;
    const zs = new Float32Array(GRID * GRID * 2);
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        const i = r * GRID + c;
        zs[2 * i] = domain.x[0] + ((c + 0.5) / GRID) * (domain.x[1] - domain.x[0]);
        zs[2 * i + 1] = domain.y[1] - ((r + 0.5) / GRID) * (domain.y[1] - domain.y[0]);
      }
    }
    try {
      const images = await this.#actions.manifold(zs, GRID * GRID);
      if (this.#manifold.checked && this.#domain === domain) {
        this.#tiles = { images, domain };
        this.#canvas.dataset.manifold = String(GRID * GRID);
        this.#loop.schedule();
      }
    } catch {
      // Reported by the element.
    }
  }

  // ── drawing ────────────────────────────────────────────────────────────────────────────
  #scales() {
    const size = this.#canvas.getBoundingClientRect().width;
    const d = this.#domain ?? { x: [-3, 3], y: [-3, 3] };
    const sx = linearScale(d.x, [MARGIN.left, size - MARGIN.right]);
    const sy = linearScale(d.y, [size - MARGIN.bottom, MARGIN.top]);
    sx.invert = (px) => d.x[0] + ((px - MARGIN.left) / (size - MARGIN.left - MARGIN.right)) * (d.x[1] - d.x[0]);
    sy.invert = (py) => d.y[0] + ((size - MARGIN.bottom - py) / (size - MARGIN.top - MARGIN.bottom)) * (d.y[1] - d.y[0]);
    return { sx, sy, size };
  }

  #draw() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    const text = cssColor(this.root, '--ll-text', '#000');
    const muted = cssColor(this.root, '--ll-muted', '#666');
    const grid = cssColor(this.root, '--ll-grid', '#ddd');
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    ctx.clearRect(0, 0, width, height);
    const { sx, sy } = this.#scales();
    const [x0, x1] = [MARGIN.left, width - MARGIN.right];
    const [y0, y1] = [MARGIN.top, height - MARGIN.bottom];
    ctx.fillStyle = paper;
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);

    // Decoded grid behind everything.
    if (this.#tiles) {
      const cw = (x1 - x0) / GRID;
      const ch = (y1 - y0) / GRID;
      for (let r = 0; r < GRID; r++) {
        for (let c = 0; c < GRID; c++) {
          paintRow(ctx, this.#tiles.images, r * GRID + c, x0 + c * cw, y0 + r * ch, Math.min(cw, ch), ink, { shape: this.#shape, alpha: 0.55 });
        }
      }
    }

    // Axes and ticks.
    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.strokeStyle = grid;
    ctx.fillStyle = muted;
    const d = this.#domain;
    if (d) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (const t of sx.ticks(5)) {
        const x = Math.round(sx(t)) + 0.5;
        if (x < x0 || x > x1) continue;
        ctx.beginPath();
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y1);
        ctx.stroke();
        if (!NAMES[this.#canvas.dataset.axes]) ctx.fillText(formatTick(t), x, y1 + 3);
      }
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const t of sy.ticks(5)) {
        const y = Math.round(sy(t)) + 0.5;
        if (y < y0 || y > y1) continue;
        ctx.beginPath();
        ctx.moveTo(x0, y);
        ctx.lineTo(x1, y);
        ctx.stroke();
        if (!NAMES[this.#canvas.dataset.axes]) ctx.fillText(formatTick(t), x0 - 4, y);
      }
      const pca = this.#latent > 2;
      const layout = NAMES[this.#canvas.dataset.axes];
      ctx.fillStyle = text;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.fillText(layout ? `${layout} 1 (no units)` : pca ? 'PC 1 of the latents' : 'z₁', (x0 + x1) / 2, height - 1);
      ctx.save();
      ctx.translate(11, (y0 + y1) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(layout ? `${layout} 2` : pca ? 'PC 2 of the latents' : 'z₂', 0, 0);
      ctx.restore();
    }

    // The test digits.
    if (this.#xy) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, y0, x1 - x0, y1 - y0);
      ctx.clip();
      ctx.globalAlpha = this.#tiles ? 0.9 : 0.75;
      const r = width < 360 ? 1.4 : 1.8;
      for (let i = 0; i < this.#count; i++) {
        ctx.fillStyle = LABEL_COLORS[this.#labels[i] % 10];
        ctx.beginPath();
        ctx.arc(sx(this.#xy[2 * i]), sy(this.#xy[2 * i + 1]), r, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.globalAlpha = 1;

      // The drawing: its σ ellipse and a ringed cross at μ.
      if (this.#drawn) {
        const { x, y, cov } = this.#drawn;
        const px = sx(x);
        const py = sy(y);
        // The crosshair's arms start outside the ellipse, which a trained VAE keeps small.
        let gap = 4;
        if (cov) {
          const { rx, ry, angle } = ellipse(cov);
          const kx = (x1 - x0) / (d.x[1] - d.x[0]);
          const ky = (y1 - y0) / (d.y[1] - d.y[0]);
          const ex = Math.max(1.5, rx * kx);
          const ey = Math.max(1.5, ry * ky);
          gap = Math.max(gap, ex + 3, ey + 3);
          ctx.beginPath();
          // The y axis points up on screen: the angle flips.
          ctx.ellipse(px, py, ex, ey, -angle, 0, 2 * Math.PI);
          ctx.fillStyle = withAlpha(text, 0.3);
          ctx.fill();
          ctx.strokeStyle = text;
          ctx.lineWidth = 1.5;
          ctx.stroke();
        }
        ctx.lineWidth = 4;
        ctx.strokeStyle = paper;
        crosshair(ctx, px, py, gap, 9);
        ctx.lineWidth = 2;
        ctx.strokeStyle = text;
        crosshair(ctx, px, py, gap, 9);
      }
      ctx.restore();
    }

    // The decoded point under the pointer, in an inset in the corner away from it.
    if (this.#probe) {
      const px = sx(this.#probe.x);
      const py = sy(this.#probe.y);
      ctx.strokeStyle = text;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(px, py, 5, 0, 2 * Math.PI);
      ctx.stroke();
      if (this.#probe.image) {
        const size = Math.min(84, (x1 - x0) / 3);
        const left = px > (x0 + x1) / 2 ? x0 + 6 : x1 - size - 6;
        const top = y0 + 6;
        ctx.fillStyle = paper;
        ctx.fillRect(left, top, size, size);
        paintRow(ctx, this.#probe.image, 0, left, top, size, ink, { shape: this.#shape });
        ctx.strokeStyle = text;
        ctx.strokeRect(left + 0.5, top + 0.5, size - 1, size - 1);
        const label = `z = (${this.#probe.x.toFixed(2)}, ${this.#probe.y.toFixed(2)})`;
        ctx.fillStyle = paper;
        ctx.fillRect(left, top + size, Math.max(size, ctx.measureText(label).width + 6), 16);
        ctx.fillStyle = text;
        ctx.textAlign = 'left';
        ctx.textBaseline = 'top';
        ctx.fillText(label, left + 3, top + size + 2);
      }
    }
    ctx.strokeStyle = grid;
    ctx.strokeRect(x0 + 0.5, y0 + 0.5, x1 - x0 - 1, y1 - y0 - 1);
  }
}

/** A square domain (same scale on both axes, so σ ellipses keep their shape) around the points. */
function squareDomain(xy, n) {
  if (n === 0) return { x: [-3, 3], y: [-3, 3] };
  // Robust extent: the 0.5 % and 99.5 % quantiles, so a few stray codes do not shrink the rest.
  const xs = Float32Array.from({ length: n }, (_, i) => xy[2 * i]).sort();
  const ys = Float32Array.from({ length: n }, (_, i) => xy[2 * i + 1]).sort();
  const q = (a, p) => a[Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))))];
  const [xa, xb, ya, yb] = [q(xs, 0.005), q(xs, 0.995), q(ys, 0.005), q(ys, 0.995)];
  const half = Math.max(xb - xa, yb - ya, 1e-3) * 0.56;
  const cx = (xa + xb) / 2;
  const cy = (ya + yb) / 2;
  return { x: [cx - half, cx + half], y: [cy - half, cy + half] };
}

/** Held-out codes a drawing is placed among on a UMAP layout. */
export const NEIGHBOURS = 5;

/**
 * Where a new code `z` goes on a layout `xy` (n×2) of `codes` (n×`latent`): the mean of its
 * NEIGHBOURS nearest codes' places, each weighted by 1 / distance (an exact match: its place).
 */
export function placeAmong(codes, latent, xy, z) {
  const n = xy.length / 2;
  const near = [];
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0; j < latent; j++) d += (codes[i * latent + j] - z[j]) ** 2;
    near.push([Math.sqrt(d), i]);
  }
  near.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const top = near.slice(0, Math.min(NEIGHBOURS, n));
  if (top[0][0] === 0) return [xy[2 * top[0][1]], xy[2 * top[0][1] + 1]];
  let [x, y, w] = [0, 0, 0];
  for (const [d, i] of top) {
    x += xy[2 * i] / d;
    y += xy[2 * i + 1] / d;
    w += 1 / d;
  }
  return [x / w, y / w];
}

function inside(v, [a, b]) {
  return v >= a && v <= b;
}

/** Four arms from `gap` to `gap + arm` pixels around (x, y). */
function crosshair(ctx, x, y, gap, arm) {
  ctx.beginPath();
  for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
    ctx.moveTo(x + dx * gap, y + dy * gap);
    ctx.lineTo(x + dx * (gap + arm), y + dy * (gap + arm));
  }
  ctx.stroke();
}

function withAlpha(css, alpha) {
  const [r, g, b] = parseColor(css);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
