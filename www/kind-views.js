// The views that belong to one model kind (kinds.js's `view`): which one shows, and the
// engine requests of the denoising and sparse-code views. Like live-views.js, each keeps at
// most one request chain in flight and runs once more with the latest state when it returns.

import { kindOf } from './util/kinds.js';
import { DENOISE_DIGITS } from './views/denoise-view.js';

// While training, the denoised digits follow the model at most this often, and at most
// ~20 % of the engine's time.
const DENOISE_INTERVAL_MS = 800;
const DENOISE_SHARE = 0.2;

export class KindViews {
  #request;
  #views;
  #parts;
  #showError;
  #spec = {};
  #tests = null; // the first DENOISE_DIGITS test digits
  #drawing = null; // the pad's network input (784), or null
  #denoise = { busy: false, again: false, last: 0, took: 0 };

  /**
   * `request(type, args)`: an engine request. `views`: {beta, denoise, sparsity}. `parts`:
   * the views' elements by part name, shown only for their kind. `showError(message)`.
   */
  constructor({ request, views, parts, showError }) {
    this.#request = request;
    this.#views = views;
    this.#parts = parts;
    this.#showError = showError;
  }

  get kind() {
    return this.#spec.kind;
  }

  /** A new model, or a live change to the running one: the views follow its spec. */
  setSpec(spec, { replaced = false } = {}) {
    const changedNoise = JSON.stringify(spec.noise) !== JSON.stringify(this.#spec.noise);
    this.#spec = spec;
    const view = kindOf(spec.kind)?.view ?? null;
    for (const [name, el] of Object.entries(this.#parts)) el.hidden = name !== view;
    this.#views.beta.setBeta(spec.beta ?? 1);
    this.#views.denoise.setNoise(spec.noise, { force: replaced });
    this.#views.sparsity.setSpec(spec);
    if (replaced) {
      this.#views.beta.clear();
      this.#views.sparsity.setCodes(null);
    }
    if (replaced || changedNoise) this.refreshDenoise(true);
  }

  /** After a refused change: the denoising view shows the model's noise again. */
  noiseRefused() {
    this.#views.denoise.setNoise(this.#spec.noise, { force: true });
    this.refreshDenoise(true);
  }

  /** The held-out digits (n×784, one per class first). */
  setTestDigits(images) {
    this.#tests = images.slice(0, DENOISE_DIGITS * 784);
    this.refreshDenoise(true);
  }

  /** The latent map's freshly encoded held-out digits (their codes, n × latent). */
  setCodes(mu, latent) {
    if (this.#spec.kind === 'sparse') this.#views.sparsity.setCodes(mu, latent);
  }

  /** The pad's latest result ({input, mu, …}) or null. */
  setDrawing(result) {
    this.#drawing = result?.input ?? null;
    this.#views.sparsity.setDrawing(this.#spec.kind === 'sparse' ? (result?.mu ?? null) : null);
    this.refreshDenoise(true);
  }

  // Test digits (and the drawing) corrupted with the view's noise, then reconstructed.
  async refreshDenoise(force = false) {
    const state = this.#denoise;
    if (this.#spec.kind !== 'dae' || !this.#tests) return;
    if (state.busy) {
      if (force) state.again = true;
      return;
    }
    const now = performance.now();
    if (!force && now - state.last < Math.max(DENOISE_INTERVAL_MS, state.took / DENOISE_SHARE)) return;
    state.busy = true;
    state.last = now;
    try {
      const drawing = this.#drawing;
      const n = DENOISE_DIGITS + (drawing ? 1 : 0);
      const clean = new Float32Array(n * 784);
      clean.set(this.#tests);
      if (drawing) clean.set(drawing, DENOISE_DIGITS * 784);
      const { kind, amount, draw } = this.#views.denoise.noise;
      const noisy = await this.#request('corrupt', { pixels: clean.slice(), kind, amount, seed: this.#spec.seed ?? 1, step: draw });
      const denoised = await this.#request('reconstruct', { pixels: noisy.slice() });
      state.took = performance.now() - now;
      if (this.#spec.kind === 'dae') this.#views.denoise.setImages({ clean, noisy, denoised }, { drawing: Boolean(drawing) });
    } catch (e) {
      this.#showError(`Could not denoise the digits: ${e.message}`);
    } finally {
      state.busy = false;
      if (state.again) {
        state.again = false;
        this.refreshDenoise(true);
      }
    }
  }
}
