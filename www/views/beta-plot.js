// The β-VAE view: a β slider that changes the running model's KL weight (no reset), and
// the training run as a path in the plane of reconstruction loss against KL, coloured by the
// β each stretch trained with, so the trade-off β controls is visible as it happens.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { linearScale } from '../util/scale.js';
import { formatTick, formatSig } from '../util/format.js';
import { BETA_STEPS, nearestStep } from '../util/kinds.js';

const MAX_POINTS = 3000; // kept; older ones are merged pairwise beyond this
const SMOOTH_STEPS = 20; // the path is an exponential average over about this many steps

/** A colour for β: blue for small β through purple to orange for large β (same in both themes). */
export function betaColor(beta) {
  const lo = Math.log2(BETA_STEPS[0]);
  const hi = Math.log2(BETA_STEPS[BETA_STEPS.length - 1]);
  const t = Math.min(1, Math.max(0, (Math.log2(Math.max(beta, 1e-6)) - lo) / (hi - lo)));
  return `oklch(0.64 0.17 ${(255 + 150 * t) % 360})`;
}

export class BetaPlot {
  #canvas;
  #slider;
  #output;
  #empty;
  #readout;
  #loop;
  #setBeta;
  #beta = 1; // the model's β
  #points = []; // {step, steps, recon, kl, beta}: one per metrics batch and β
  #send = { busy: false, next: null };

  /**
   * `root`: the element with part="beta-plot". `setBeta(beta)` changes the running model's
   * β and returns a promise (rejecting with the engine's message).
   */
  constructor(root, { setBeta }) {
    this.root = root;
    this.#setBeta = setBeta;
    const uid = Math.random().toString(36).slice(2, 8);
    this.#slider = h('input', {
      type: 'range',
      id: `ll-beta-${uid}`,
      min: '0',
      max: String(BETA_STEPS.length - 1),
      step: '1',
      value: String(BETA_STEPS.indexOf(1)),
      'aria-describedby': `ll-beta-scale-${uid}`,
    });
    this.#output = h('output', { for: this.#slider.id, class: 'beta-value' }, 'β = 1');
    this.#slider.addEventListener('input', () => this.#moved());
    const scale = h(
      'div',
      { class: 'beta-scale', id: `ll-beta-scale-${uid}`, 'aria-hidden': 'true' },
      BETA_STEPS.map((b) => h('span', { style: { '--swatch': betaColor(b) } }, formatTick(b))),
    );
    this.#canvas = h('canvas', {
      class: 'plot beta-canvas',
      role: 'img',
      'aria-label': 'KL against reconstruction loss while training (no data yet)',
      'data-points': '0',
    });
    this.#empty = h('p', { class: 'plot-empty' }, 'Press Start, then move β: the path of the losses appears here.');
    this.#readout = h('p', { class: 'digits-status', 'aria-live': 'off' }, '');
    root.replaceChildren(
      h('h2', {}, 'β-VAE: reconstruction against KL'),
      h(
        'p',
        { class: 'explain' },
        'β weighs the KL term against reconstruction. Raise it while the model trains and the codes are pressed towards N(0,\u00a01): ' +
          'KL falls, reconstructions blur and the latent map tightens; lower it and the codes spread out to rebuild the inputs sharply.',
      ),
      h(
        'div',
        { class: 'beta-control' },
        h('label', { for: this.#slider.id }, 'β'),
        h('div', { class: 'beta-slider' }, this.#slider, scale),
        this.#output,
      ),
      h('div', { class: 'plot-box' }, this.#canvas, this.#empty),
      this.#readout,
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
    this.#show(1);
  }

  /** The empty plot's hint: with a Start button in the widget, or without one. */
  setHasStart(hasStart) {
    this.#empty.textContent = hasStart ? 'Press Start, then move β: the path of the losses appears here.' : 'Move β while the model trains: the path of the losses appears here.';
  }

  /** The model's β (after a reset, a load or a live change). */
  setBeta(beta) {
    this.#beta = beta;
    if (!this.#send.busy && this.#send.next === null) this.#show(beta);
  }

  /** Adds metrics items ({first_step, steps, recon, kl, beta}) of one batch, in step order. */
  push(items) {
    for (const m of items) {
      const beta = m.beta ?? this.#beta;
      const last = this.#points[this.#points.length - 1];
      const step = m.first_step + m.steps;
      // One point per metrics batch and β: merge items of the same batch.
      if (last && last.beta === beta && last.open) {
        const n = last.steps + m.steps;
        last.recon = (last.recon * last.steps + m.recon * m.steps) / n;
        last.kl = (last.kl * last.steps + m.kl * m.steps) / n;
        last.steps = n;
        last.step = step;
      } else {
        if (last) last.open = false;
        this.#points.push({ step, steps: m.steps, recon: m.recon, kl: m.kl, beta, open: true });
      }
    }
    const last = this.#points[this.#points.length - 1];
    if (last) last.open = false;
    if (this.#points.length > MAX_POINTS) this.#points = mergePairs(this.#points);
    this.#loop.schedule();
  }

  /** Drops the points after `step` (a diverged run that was rolled back). */
  truncate(step) {
    this.#points = this.#points.filter((p) => p.step <= step);
    this.#loop.schedule();
  }

  clear() {
    this.#points = [];
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #show(beta) {
    this.#slider.value = String(nearestStep(BETA_STEPS, beta));
    this.#slider.setAttribute('aria-valuetext', `β = ${formatTick(beta)}`);
    this.#output.textContent = `β = ${formatTick(beta)}`;
    this.#output.style.setProperty('--swatch', betaColor(beta));
  }

  // The slider moved: show the value at once, send the latest value when the engine is free.
  #moved() {
    const beta = BETA_STEPS[Number(this.#slider.value)];
    this.#output.textContent = `β = ${formatTick(beta)}`;
    this.#output.style.setProperty('--swatch', betaColor(beta));
    this.#slider.setAttribute('aria-valuetext', `β = ${formatTick(beta)}`);
    this.#send.next = beta;
    this.#pump();
  }

  async #pump() {
    const s = this.#send;
    if (s.busy) return;
    s.busy = true;
    try {
      while (s.next !== null) {
        const beta = s.next;
        s.next = null;
        if (beta === this.#beta) continue;
        try {
          await this.#setBeta(beta);
        } catch {
          // The element shows the engine's message; the slider goes back to the model's β.
          s.next = null;
        }
      }
    } finally {
      s.busy = false;
      this.#show(this.#beta);
    }
  }

  // The path: an exponential average over ~SMOOTH_STEPS steps of the per-batch losses.
  #smoothed() {
    const out = [];
    let r = null;
    let k = null;
    for (const p of this.#points) {
      if (r === null) {
        r = p.recon;
        k = p.kl;
      } else {
        const a = 1 - Math.exp(-p.steps / SMOOTH_STEPS);
        r += a * (p.recon - r);
        k += a * (p.kl - k);
      }
      out.push({ recon: r, kl: k, beta: p.beta, step: p.step });
    }
    return out;
  }

  #draw() {
    const { ctx, width, height } = fitCanvas(this.#canvas);
    const text = cssColor(this.root, '--ll-muted', '#666');
    const grid = cssColor(this.root, '--ll-grid', '#ddd');
    const fg = cssColor(this.root, '--ll-text', '#000');
    const card = cssColor(this.root, '--ll-card', '#fff');
    ctx.clearRect(0, 0, width, height);
    const path = this.#smoothed();
    this.#empty.hidden = path.length > 0;
    this.#canvas.dataset.points = String(this.#points.length);
    this.#canvas.dataset.betas = JSON.stringify([...new Set(this.#points.map((p) => p.beta))]);
    if (path.length === 0) {
      this.#readout.textContent = '';
      return;
    }

    // Domains: the whole path, except that a fresh model's first huge losses may run off the
    // right edge (the interesting part is where the path settles).
    const xs = path.map((p) => p.recon).sort((a, b) => a - b);
    const ys = path.map((p) => p.kl);
    const last = path[path.length - 1];
    const x1 = Math.max(xs[Math.floor(0.9 * (xs.length - 1))], last.recon);
    const pad = (lo, hi) => {
      const span = Math.max(hi - lo, Math.abs(hi) * 0.02, 0.5);
      return [lo - span * 0.08, hi + span * 0.08];
    };
    const xDomain = pad(xs[0], x1);
    const yDomain = pad(Math.min(...ys), Math.max(...ys));
    ctx.font = '11px system-ui, sans-serif';
    const y0 = linearScale(yDomain, [0, 1]);
    const labelWidth = Math.max(...y0.ticks(5).map((t) => ctx.measureText(formatTick(t)).width), 16);
    const m = { left: labelWidth + 24, right: 12, top: 10, bottom: 36 };
    const x = linearScale(xDomain, [m.left, width - m.right]);
    const y = linearScale(yDomain, [height - m.bottom, m.top]);

    // Grid, ticks and axis titles.
    ctx.lineWidth = 1;
    ctx.strokeStyle = grid;
    ctx.fillStyle = text;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of y.ticks(5)) {
      const yy = Math.round(y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(m.left, yy);
      ctx.lineTo(width - m.right, yy);
      ctx.stroke();
      ctx.fillText(formatTick(t), m.left - 5, yy);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of x.ticks(Math.max(2, Math.floor((width - m.left) / 70)))) {
      const xx = Math.round(x(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(xx, m.top);
      ctx.lineTo(xx, height - m.bottom);
      ctx.stroke();
      ctx.fillText(formatTick(t), xx, height - m.bottom + 4);
    }
    ctx.fillText('reconstruction loss (nats per input) →', (m.left + width - m.right) / 2, height - 15);
    ctx.save();
    ctx.translate(11, (m.top + height - m.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText('KL (nats per input) →', 0, 0);
    ctx.restore();

    // The path, clipped to the plot: one segment per point, in the colour of its β.
    ctx.save();
    ctx.beginPath();
    ctx.rect(m.left, m.top, width - m.left - m.right, height - m.top - m.bottom);
    ctx.clip();
    ctx.lineWidth = 2.5;
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    for (let i = 1; i < path.length; i++) {
      ctx.strokeStyle = betaColor(path[i].beta);
      ctx.beginPath();
      ctx.moveTo(x(path[i - 1].recon), y(path[i - 1].kl));
      ctx.lineTo(x(path[i].recon), y(path[i].kl));
      ctx.stroke();
    }
    // Each stretch of one β gets a label where it ended (where that β had taken the path),
    // newest first, so that on a collision the older label gives way.
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textBaseline = 'bottom';
    const placed = [];
    const inside = (px, py) => px >= m.left && px <= width - m.right && py >= m.top && py <= height - m.bottom;
    for (let i = path.length - 1; i >= 0; i--) {
      const p = path[i];
      if (i < path.length - 1 && path[i + 1].beta === p.beta) continue;
      const px = x(p.recon);
      const py = y(p.kl);
      if (!inside(px, py)) continue;
      const label = `β ${formatTick(p.beta)}`;
      const w = ctx.measureText(label).width;
      const right = px + 10 + w <= width - m.right;
      const box = { x: right ? px + 8 : px - 8 - w, y: Math.max(py - 18, m.top), w, h: 13 };
      if (placed.some((q) => box.x < q.x + q.w + 4 && q.x < box.x + box.w + 4 && box.y < q.y + q.h && q.y < box.y + box.h)) continue;
      placed.push(box);
      ctx.fillStyle = betaColor(p.beta);
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.fill();
      ctx.textAlign = 'left';
      ctx.fillText(label, box.x, box.y + box.h);
    }
    // The model now: a ringed dot.
    const lx = x(last.recon);
    const ly = y(last.kl);
    ctx.fillStyle = betaColor(last.beta);
    ctx.strokeStyle = card;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(lx, ly, 6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.strokeStyle = fg;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(lx, ly, 8, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();

    this.#canvas.dataset.last = JSON.stringify([Number(last.recon.toFixed(3)), Number(last.kl.toFixed(3))]);
    const summary = `at step ${last.step} with β ${formatTick(last.beta)}: reconstruction ${formatSig(last.recon)}, KL ${formatSig(last.kl)}`;
    this.#readout.textContent = `Now ${summary} (averaged over about ${SMOOTH_STEPS} steps). The ringed dot is the model now.`;
    this.#canvas.setAttribute('aria-label', `KL against reconstruction loss while training: ${summary}`);
  }
}

// Halves a long series: neighbours with the same β are merged (weighted by their steps).
function mergePairs(points) {
  const out = [];
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (b && a.beta === b.beta && i < points.length - 2) {
      const n = a.steps + b.steps;
      out.push({
        step: b.step,
        steps: n,
        recon: (a.recon * a.steps + b.recon * b.steps) / n,
        kl: (a.kl * a.steps + b.kl * b.steps) / n,
        beta: a.beta,
        open: false,
      });
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}
