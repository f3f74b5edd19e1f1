// The views that belong to one model kind (kinds.js's `view`): which one shows, and the
// engine requests behind the denoising, sparse-code, contractive, conditional and
// convolutional views. Like live-views.js, each view keeps at most one request chain in
// flight and runs once more with the latest state when it returns; while training, each
// refreshes at most every REFRESH_MS and at most ~SHARE of the engine's time.

import { kindOf } from './util/kinds.js';
import { DIGIT_SHAPE, isDigitShaped, rowSize } from './util/shape.js';
import { viewUnfit } from './util/settings.js';
import { DENOISE_DIGITS } from './views/denoise-view.js';
import { nudgeBatch, codeMovement, SPREAD_DIGITS } from './views/contractive-view.js';
import { bestLabel, digitLoss, GUESS } from './views/cvae-view.js';

const REFRESH_MS = 800;
// Values in one digit: the denoising, contractive, conditional and filters views show
// 28 × 28 images only (viewUnfit hides them for other data).
const D = rowSize(DIGIT_SHAPE);
const SHARE = 0.2;
// The plain autoencoder the contractive view compares with: the contractive model's shape
// (28 × 28 inputs, 256, 32) without the penalty; see `make models`.
export const PLAIN_TWIN = new URL('./models/ae-256-32.safetensors', import.meta.url).href;

export class KindViews {
  #request;
  #views;
  #parts;
  #showError;
  #onCondition;
  #spec = {};
  #tests = null; // the first held-out rows (n×D, one per class first) and their labels
  #testLabels = null;
  #spread = null; // SPREAD_DIGITS held-out digits: the contractive view's scale
  #drawing = null; // the pad's network input (D values), or null
  #shape = DIGIT_SHAPE; // of the data's rows
  #condition = 0; // the conditional model's label, as the engine has it
  #chains = {};
  #generation = 0; // counts model replacements (see live-views.js)

  /**
   * `request(type, args)`: an engine request. `views`: {beta, denoise, sparsity, contractive,
   * cvae, filters}. `parts`: the views' elements by part name, shown only for their kind.
   * `showError(message)`. `condition(label)`: the conditional model now draws `label`
   * where no label is given (the pad, the sampler, the map's decodings follow).
   */
  constructor({ request, views, parts, showError, condition = () => {} }) {
    this.#request = request;
    this.#views = views;
    this.#parts = parts;
    this.#showError = showError;
    this.#onCondition = condition;
  }

  get kind() {
    return this.#spec.kind;
  }

  /** A new model, or a live change to the running one: the views follow its spec. */
  setSpec(spec, { replaced = false } = {}) {
    const changedNoise = JSON.stringify(spec.noise) !== JSON.stringify(this.#spec.noise);
    this.#spec = spec;
    const view = this.#view(spec);
    for (const [name, el] of Object.entries(this.#parts)) el.hidden = name !== view;
    this.#views.beta.setBeta(spec.beta ?? 1);
    this.#views.denoise.setNoise(spec.noise, { force: replaced });
    this.#views.sparsity.setSpec(spec);
    if (replaced) {
      this.#generation++;
      this.#views.beta.clear();
      this.#views.sparsity.setCodes(null);
      this.#views.contractive.setResult(null);
      this.#views.cvae.setResult(null);
      this.#views.filters.setLayer(null);
    }
    if (replaced || changedNoise) this.refresh(true);
  }

  /** The data's rows have `shape`: its held-out rows come again (setTestDigits). */
  setShape(shape) {
    this.#shape = shape;
    this.#tests = null;
    this.#testLabels = null;
    this.#spread = null;
    if (!isDigitShaped(shape)) this.#drawing = null;
    this.#generation++;
    this.setSpec(this.#spec, { replaced: true });
  }

  // The kind's own view, if it shows for the data (the image views show 28 × 28 images only).
  #view(spec = this.#spec) {
    const view = kindOf(spec.kind)?.view ?? null;
    return view && !viewUnfit(view, this.#shape) ? view : null;
  }

  /** After a refused change: the denoising view shows the model's noise again. */
  noiseRefused() {
    this.#views.denoise.setNoise(this.#spec.noise, { force: true });
    this.refresh(true);
  }

  /** The held-out rows (n×D, one per class first) and their labels. */
  setTestDigits(images, labels) {
    this.#tests = images;
    this.#testLabels = labels;
    this.refresh(true);
  }

  /** Held-out digits that set the contractive view's scale (SPREAD_DIGITS×D). */
  setSpreadDigits(images) {
    this.#spread = images.slice(0, SPREAD_DIGITS * D);
    this.refresh(true);
  }

  /** The latent map's freshly encoded held-out digits (their codes, n × latent). */
  setCodes(mu, latent) {
    if (this.#spec.kind === 'sparse') this.#views.sparsity.setCodes(mu, latent);
  }

  /** The pad's latest result ({input, mu, …}) or null. */
  setDrawing(result) {
    this.#drawing = result?.input ?? null;
    this.#views.sparsity.setDrawing(this.#spec.kind === 'sparse' ? (result?.mu ?? null) : null);
    this.refresh(true);
  }

  /**
   * Refreshes the current kind's view that asks the engine (denoising, contractive,
   * conditional, convolutional): `force` now, else only if it has not refreshed lately.
   */
  refresh(force = false) {
    const view = this.#view();
    if (view === 'denoise') this.#pump('denoise', force, () => this.#denoise());
    if (view === 'contractive') this.#pump('contractive', force, () => this.#contractive());
    if (view === 'cvae') this.#pump('cvae', force, () => this.#cvae());
    if (view === 'filters') this.#pump('filters', force, () => this.#filters());
  }

  // The drawing, or the first held-out digit before there is one: {digit, label, from}.
  #source() {
    if (this.#drawing) return { digit: this.#drawing, label: null, from: 'drawing' };
    if (!this.#tests) return null;
    return { digit: this.#tests.slice(0, D), label: this.#testLabels?.[0] ?? null, from: 'test' };
  }

  // Runs `run` for view `name` with at most one chain in flight; `force` runs it now (or once
  // the running one returns), else only if the view has not refreshed recently.
  async #pump(name, force, run) {
    if (name !== this.#view()) {
      // Another kind's view by now: nothing to refresh, nobody to keep waiting.
      for (const resolve of this.#chain(name).waiters.splice(0)) resolve();
      return;
    }
    const state = this.#chain(name);
    if (state.busy) {
      if (force) state.again = true;
      return;
    }
    const now = performance.now();
    if (!force && now - state.last < Math.max(REFRESH_MS, state.took / SHARE)) return;
    state.busy = true;
    state.last = now;
    const kind = this.#spec.kind;
    const generation = this.#generation;
    try {
      await run();
      state.took = performance.now() - now;
    } catch (e) {
      if (generation !== this.#generation) state.again = true;
      else this.#showError(`The ${kindOf(kind)?.short ?? kind} view could not update: ${e.message}`);
    } finally {
      state.busy = false;
      if (state.again) {
        state.again = false;
        this.#pump(name, true, run);
      } else {
        for (const resolve of state.waiters.splice(0)) resolve();
      }
    }
  }

  #chain(name) {
    return (this.#chains[name] ??= { busy: false, again: false, last: 0, took: 0, waiters: [] });
  }

  /** Resolves when view `name` has no refresh running or pending. */
  refreshed(name) {
    const state = this.#chain(name);
    if (!state.busy && !state.again) return Promise.resolve();
    return new Promise((resolve) => state.waiters.push(resolve));
  }

  // The first convolution's filters and the source digit's feature maps.
  async #filters() {
    const src = this.#source();
    if (!src) return;
    const kind = this.#spec.kind;
    const layer = await this.#request('firstLayer', { pixels: Float32Array.from(src.digit) });
    if (this.#spec.kind === kind) this.#views.filters.setLayer(layer, src.from, src.digit);
  }

  // The source digit's style decoded with every label; the label is the learner's pick, a
  // test digit's own, or the model's guess for a drawing.
  async #cvae() {
    const src = this.#source();
    if (!src) return;
    const kind = this.#spec.kind;
    const picked = this.#views.cvae.picked;
    // Requests take their arrays over (transferred): each gets a fresh one.
    const labels = () => Uint8Array.from({ length: 10 }, (_, k) => k);
    let label = picked;
    let losses = null;
    if (label === GUESS && src.from === 'test' && src.label !== null) label = src.label;
    if (label === GUESS) {
      // The drawing encoded and decoded as each digit: the label with the least loss is the
      // model's reading (a CVAE is a classifier too: the ELBO bounds log p(x | label)).
      const copies = new Float32Array(10 * D);
      for (let k = 0; k < 10; k++) copies.set(src.digit, k * D);
      const enc = await this.#request('encode', { pixels: copies, labels: labels() });
      const out = await this.#request('decode', { z: enc.mu.slice(), labels: labels() });
      const at = (a, k, n) => a.subarray(k * n, (k + 1) * n);
      losses = Array.from(labels(), (k) => digitLoss(this.#spec, src.digit, at(out, k, D), at(enc.mu, k, enc.latent), at(enc.logvar, k, enc.latent)).total);
      label = bestLabel(losses);
    }
    await this.setCondition(label);
    const { mu, latent } = await this.#request('encode', { pixels: Float32Array.from(src.digit), labels: Uint8Array.of(label) });
    const z = new Float32Array(10 * latent);
    for (let k = 0; k < 10; k++) z.set(mu.subarray(0, latent), k * latent);
    const styles = await this.#request('decode', { z, labels: labels() });
    if (this.#spec.kind === kind) this.#views.cvae.setResult({ source: Float32Array.from(src.digit), label, from: src.from, styles, losses, lossKind: this.#spec.loss });
  }

  /** The conditional model's label where none is given; the views that use it follow. */
  async setCondition(label) {
    if (label === this.#condition) return;
    await this.#request('condition', { label });
    this.#condition = label;
    this.#onCondition(label);
  }

  get condition() {
    return this.#condition;
  }

  // The source digit nudged, through this model and through the plain AE.
  async #contractive() {
    const src = this.#source();
    if (!src || !this.#spread) return;
    const kind = this.#spec.kind;
    const epsilon = this.#views.contractive.epsilon;
    const batch = nudgeBatch(src.digit, this.#spread, epsilon);
    const enc = await this.#request('encode', { pixels: batch.slice() });
    const model = codeMovement(enc.mu, enc.latent, epsilon);
    let plain = null;
    let plainError = null;
    try {
      const other = await this.#request('twinEncode', { url: PLAIN_TWIN, pixels: batch });
      plain = codeMovement(other.mu, other.latent, epsilon);
    } catch (e) {
      plainError = e.message;
    }
    if (this.#spec.kind === kind) this.#views.contractive.setResult({ from: src.from, source: src.digit, model, plain, plainError });
  }

  // Test digits (and the drawing) corrupted with the view's noise, then reconstructed.
  async #denoise() {
    if (!this.#tests) return;
    const kind = this.#spec.kind;
    const drawing = this.#drawing;
    const n = DENOISE_DIGITS + (drawing ? 1 : 0);
    const clean = new Float32Array(n * D);
    clean.set(this.#tests.subarray(0, DENOISE_DIGITS * D));
    if (drawing) clean.set(drawing, DENOISE_DIGITS * D);
    const { kind: noise, amount, draw } = this.#views.denoise.noise;
    const noisy = await this.#request('corrupt', { pixels: clean.slice(), kind: noise, amount, seed: this.#spec.seed ?? 1, step: draw });
    const denoised = await this.#request('reconstruct', { pixels: noisy.slice() });
    if (this.#spec.kind === kind) this.#views.denoise.setImages({ clean, noisy, denoised }, { drawing: Boolean(drawing) });
  }
}
