// The conditional VAE's view: "your handwriting as every digit". The drawing is encoded
// together with the digit it shows; its code then holds only the style, and decoding that
// code with each label 0–9 writes every digit in that style. Which digit the drawing shows
// is the learner's to say, or the model's guess: the label under which the model's own loss
// for the drawing (reconstruction + β·KL, the negative ELBO at β = 1) is lowest.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { formatSig } from '../util/format.js';

export const GUESS = null; // the picker's "let the model guess"

/** The label with the least loss: the model's reading of a digit. */
export function bestLabel(losses) {
  let best = 0;
  losses.forEach((e, k) => {
    if (e < losses[best]) best = k;
  });
  return best;
}

const EPS = 1e-7; // keeps log() finite where a decoded pixel is exactly 0 or 1

/**
 * The model's training loss for one digit `x` (784 values in [0, 1]), as the engine sums
 * it: the reconstruction term over the pixels of its decoding `xHat` of μ (binary
 * cross-entropy or squared error, after the model's `loss`), plus β × KL(N(μ, σ²) ‖ N(0, 1)).
 * Returns {recon, kl, total} in nats (BCE) or squared units (MSE).
 */
export function digitLoss({ loss = 'bce', beta = 1 }, x, xHat, mu, logvar) {
  let recon = 0;
  for (let i = 0; i < x.length; i++) {
    const p = Math.min(1 - EPS, Math.max(EPS, xHat[i]));
    recon += loss === 'mse' ? (xHat[i] - x[i]) ** 2 : -(x[i] * Math.log(p) + (1 - x[i]) * Math.log(1 - p));
  }
  let kl = 0;
  for (let j = 0; j < mu.length; j++) kl += -0.5 * (1 + logvar[j] - mu[j] ** 2 - Math.exp(logvar[j]));
  return { recon, kl, total: recon + beta * kl };
}

export class CvaeView {
  #canvas;
  #buttons = [];
  #status;
  #loop;
  #onPick;
  #picked = GUESS;
  #result = null; // {source, label, from, styles (10×784), losses (10) | null}

  /** `root`: the element with part="cvae". `onPick(label | null)`: the picker changed. */
  constructor(root, { onPick }) {
    this.root = root;
    this.#onPick = onPick;
    const pick = (label) => this.pick(label);
    const button = (label, text) => {
      const b = h('button', { type: 'button', 'aria-pressed': 'false', 'data-label': label === GUESS ? 'guess' : String(label) }, text);
      b.addEventListener('click', () => pick(label));
      this.#buttons.push([label, b]);
      return b;
    };
    this.#canvas = h('canvas', { class: 'cvae-canvas', role: 'img', 'aria-label': 'Your style as every digit (loading)', 'data-state': 'empty' });
    this.#status = h('p', { class: 'digits-status', 'aria-live': 'polite' }, '');
    root.replaceChildren(
      h('h2', {}, 'Your handwriting as every digit'),
      h(
        'p',
        { class: 'explain' },
        'This model is told which digit it sees. Its code is then free to hold only how the digit is written — slant, thickness, width — ' +
          'so the code of your drawing, decoded with each label from 0 to 9, writes every digit in your hand.',
      ),
      h(
        'div',
        { class: 'label-picker', role: 'group', 'aria-label': 'Which digit the drawing shows' },
        h('span', { class: 'picker-title' }, 'My digit is'),
        button(GUESS, 'Guess'),
        Array.from({ length: 10 }, (_, k) => button(k, String(k))),
      ),
      this.#canvas,
      this.#status,
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#paint());
    this.#showPicked();
  }

  /** Picks a label (0–9), or GUESS (null) to let the model guess. */
  pick(label) {
    this.#picked = label;
    this.#showPicked();
    this.#onPick(label);
  }

  /** The picked label, or GUESS (null). */
  get picked() {
    return this.#picked;
  }

  /**
   * The source digit (784), its label, where it came from ('drawing' | 'test'), the ten
   * decodings of its style (10×784) and, when the model guessed, the digit's loss with each
   * label (10, see digitLoss) and the model's `lossKind` ('bce' in nats, or 'mse'). null
   * clears.
   */
  setResult(result) {
    this.#result = result;
    const d = this.#canvas.dataset;
    if (result) {
      d.state = result.from;
      d.label = String(result.label);
      d.sourceInk = result.source.reduce((s, v) => s + v, 0).toFixed(3); // total ink of the source digit
      d.updates = String(Number(d.updates ?? 0) + 1);
      if (result.losses) d.losses = JSON.stringify(Array.from(result.losses, (e) => Number(e.toFixed(4))));
      else delete d.losses;
      const whose = result.from === 'drawing' ? 'your drawing' : 'a held-out digit';
      let how = `${whose[0].toUpperCase()}${whose.slice(1)}, encoded as a ${result.label}.`;
      if (result.losses) {
        const runnerUp = bestLabel(result.losses.map((e, k) => (k === result.label ? Infinity : e)));
        const unit = result.lossKind === 'mse' ? '' : ' nats';
        const loss = (k) => `${formatSig(result.losses[k], 3)}${unit}`;
        how =
          `The model reads ${whose} as a ${result.label}: with that label its loss (reconstruction + KL) is lowest, ` +
          `${loss(result.label)} against ${loss(runnerUp)} as a ${runnerUp}, the next best.`;
      }
      this.#status.textContent = how + (result.from === 'drawing' ? '' : ' Draw on the pad to see your own handwriting.');
      this.#canvas.setAttribute('aria-label', `The style of ${whose}, read as a ${result.label}, decoded as each digit from 0 to 9`);
    } else {
      d.state = 'empty';
      this.#status.textContent = '';
    }
    this.#loop.schedule();
  }

  dispose() {
    this.#loop.dispose();
  }

  #showPicked() {
    for (const [label, b] of this.#buttons) b.setAttribute('aria-pressed', String(label === this.#picked));
  }

  #paint() {
    const width = this.#canvas.getBoundingClientRect().width;
    const gap = 4;
    const sep = 16; // between the source and its ten decodings
    const headH = 16;
    // One row of 1 + 10 tiles when they get 40 px or more; else the source, then two rows of
    // five beside it.
    const wide = (width - sep - 10 * gap) / 11 >= 40;
    const cell = wide
      ? Math.min(56, Math.floor((width - sep - 10 * gap) / 11))
      : Math.min(64, Math.floor((width - sep - 4 * gap) / 6));
    const height = wide ? headH + cell : 2 * (headH + cell) + gap;
    if (Math.abs(this.#canvas.getBoundingClientRect().height - height) > 0.5) this.#canvas.style.height = `${height}px`;
    const { ctx, width: w, height: hh } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, w, hh);
    const r = this.#result;
    if (!r) return;
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const muted = cssColor(this.root, '--ll-muted', '#666');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    const accent = cssColor(this.root, '--ll-accent', '#2f5bd3');
    const tile = (images, index, x, y, label, strong) => {
      ctx.fillStyle = paper;
      ctx.fillRect(x, y, cell, cell);
      paintRow(ctx, images, index, x, y, cell, ink);
      ctx.strokeStyle = strong ? accent : border;
      ctx.lineWidth = strong ? 2 : 1;
      ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      ctx.fillStyle = strong ? accent : muted;
      ctx.fillText(label, x + cell / 2, y - headH / 2);
    };
    ctx.font = '12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const source = r.from === 'drawing' ? 'yours' : 'test';
    tile(r.source, 0, 0, headH, source, false);
    const perRow = wide ? 10 : 5;
    for (let k = 0; k < 10; k++) {
      const x = cell + sep + (k % perRow) * (cell + gap);
      const y = headH + Math.floor(k / perRow) * (cell + gap + headH);
      tile(r.styles, k, x, y, String(k), k === r.label);
    }
  }
}
