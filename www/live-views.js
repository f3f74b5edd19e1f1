// The views that run the model on demand: the drawing pad (preprocess → encode → decode),
// the latent map (encode 2,000 test digits) and the interpolation strip. They share the
// engine with training through one queue, so each keeps at most one request chain in flight
// and, when it returns, runs once more with the latest state.

import { STEPS as INTERP_STEPS, MORPH_FRAMES, DRAWING } from './views/interpolation.js';
import { meanSquaredError } from './views/renderers.js';
import { DIGIT_SHAPE, isDigitShaped, rowSize } from './util/shape.js';

export const MAP_DIGITS = 2000; // held-out digits on the latent map
const MAP_INTERVAL_MS = 2500; // latent map refresh while training, at most this often
const MAP_CHUNK = 250; // map digits per encode request

export class LiveViews {
  #request;
  #views;
  #showError;
  #emit;
  #connected;
  #onCodes;
  #onDrawing;
  #testDigits = null; // the reconstruction card's digits (one per class): interpolation ends
  #testLabels = null;
  #condition;
  #map = { busy: false, again: false, last: 0, took: 0, images: null, labels: null, shown: -1 };
  #interp = { busy: false, again: false };
  #drawing = { busy: false, next: null, last: null, updates: 0, result: null, strokes: 0 };
  // Counts model replacements: a chain of requests that spans one (an encode by the old model,
  // a decode by the new) fails for no fault of its own, and runs again instead of reporting.
  #generation = 0;
  #d = rowSize(DIGIT_SHAPE); // values in one row of the data

  /**
   * `request(type, args)`: an engine request; `views`: the element's views; `showError(m)`,
   * `emit(name, detail)`; `connected()`: whether the element still has an engine.
   * Optional: `codes(mu, latent)` after the map's digits are encoded, `drawing(result)` after
   * each new result of the pad (null when cleared), for the kinds' own views; `condition()`:
   * the label a conditional model gives the drawing (the engine's default for rows without
   * a label). Held-out digits always go with their own labels.
   */
  constructor({ request, views, showError, emit, connected, codes = () => {}, drawing = () => {}, condition = () => 0 }) {
    this.#request = request;
    this.#views = views;
    this.#showError = showError;
    this.#emit = emit;
    this.#connected = connected;
    this.#onCodes = codes;
    this.#onDrawing = drawing;
    this.#condition = condition;
  }

  /** The model was replaced: chains in flight start over with the new one. */
  modelChanged() {
    this.#generation++;
    this.refreshInterpolation();
    this.redraw();
  }

  /**
   * The data changed to rows of `shape`: the held-out rows of the old data go, and so does the
   * drawing unless the new rows are digit-shaped (the pad draws those only).
   */
  setShape(shape) {
    this.#generation++;
    this.#d = rowSize(shape);
    this.#testDigits = null;
    this.#testLabels = null;
    // In place: a chain in flight holds this object and clears its `busy` when it returns.
    Object.assign(this.#map, { images: null, labels: null, shown: -1 });
    if (!isDigitShaped(shape)) {
      this.#drawing.last = null;
      this.#drawing.next = null;
      this.#drawing.result = null;
      this.#onDrawing(null);
    }
  }

  /** The held-out rows at the interpolation's ends (n×D, one per class first) and their labels. */
  setTestDigits(images, labels) {
    this.#testDigits = images;
    this.#testLabels = labels;
    this.refreshInterpolation();
  }

  /** The map's digits and labels; encodes them at once. */
  setMapDigits(images, labels) {
    this.#map.images = images;
    this.#map.labels = labels;
    this.refreshMap(true);
  }

  /** The pad's latest result: {strokes, input, reconstruction, error, mu, logvar, updates}. */
  get drawing() {
    const r = this.#drawing.result;
    if (!r) return null;
    const copy = (a) => (a ? Array.from(a) : null);
    return {
      strokes: this.#drawing.strokes,
      input: copy(r.input),
      reconstruction: copy(r.reconstruction),
      error: r.error,
      mu: copy(r.mu),
      logvar: copy(r.logvar),
      updates: this.#drawing.updates,
    };
  }

  // Encodes the map's test digits with the current model; one request at a time, and while
  // training at most every MAP_INTERVAL_MS (or 5× as long as one refresh takes).
  async refreshMap(force = false) {
    const m = this.#map;
    if (!m.images) return;
    if (m.busy) {
      if (force) m.again = true;
      return;
    }
    const now = performance.now();
    if (!force && now - m.last < Math.max(MAP_INTERVAL_MS, m.took * 5)) return;
    m.busy = true;
    m.last = now;
    const generation = this.#generation;
    try {
      // A new model's first map appears chunk by chunk (on a slow GPU the whole map can take
      // many seconds); later refreshes replace the map at once.
      const partial =
        m.shown === generation
          ? null
          : (mu, done, latent) => this.#views.map.setPoints(mu.subarray(0, done * latent), m.labels.subarray(0, done), latent, { partial: true });
      const enc = await this.#encodeInChunks(m.images, m.labels, partial);
      if (generation !== this.#generation) {
        m.again = Boolean(m.images); // chunks from two models: encode again with the new one
        return;
      }
      m.took = performance.now() - now;
      this.#views.map.setPoints(enc.mu, m.labels, enc.latent);
      m.shown = generation;
      this.#onCodes(enc.mu, enc.latent);
      // The drawing's code moves with the model too.
      if (this.#drawing.last) this.onInk(...this.#drawing.last);
      this.refreshInterpolation();
    } catch (e) {
      if (generation !== this.#generation) m.again = true;
      else this.#showError(`Could not encode the test digits: ${e.message}`);
    } finally {
      m.busy = false;
      if (m.again) {
        m.again = false;
        this.refreshMap(true);
      }
    }
  }

  // Encodes many digits in requests of MAP_CHUNK, so other requests (the pad, a switch of
  // model) wait behind one chunk at most: on a software GPU a convolutional encoder takes
  // seconds for the whole map. Resolves to {mu, latent} of all of them; `progress(mu, done,
  // latent)`, if given, sees the first `done` after each chunk but the last.
  async #encodeInChunks(images, labels, progress = null) {
    const n = labels.length;
    const generation = this.#generation;
    let mu = null;
    let latent = 0;
    for (let start = 0; start < n; start += MAP_CHUNK) {
      const end = Math.min(n, start + MAP_CHUNK);
      const d = this.#d;
      const enc = await this.#request('encode', { pixels: images.slice(start * d, end * d), labels: labels.slice(start, end) });
      if (!mu) {
        latent = enc.latent;
        mu = new Float32Array(n * latent);
      } else if (enc.latent !== latent) {
        throw new Error('the model changed while its codes were computed');
      }
      mu.set(enc.mu, start * latent);
      if (progress && end < n && this.#generation === generation) progress(mu, end, latent);
    }
    return { mu, latent };
  }

  // Decodes INTERP_STEPS points on the line between the μ of the two chosen digits.
  async refreshInterpolation() {
    const state = this.#interp;
    if (!this.#testDigits) return;
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    const generation = this.#generation;
    try {
      const d = this.#d;
      const picks = this.#views.interp.ends.map((end) =>
        end === DRAWING ? this.#drawing.result?.input : this.#testDigits.subarray(end * d, (end + 1) * d),
      );
      if (picks.some((p) => !p)) {
        this.#views.interp.setStrip(null, null, 'Draw a digit on the pad first: it becomes that end of the line.');
        return;
      }
      const ends = new Float32Array(2 * d);
      ends.set(picks[0], 0);
      ends.set(picks[1], d);
      const labels = Uint8Array.from(this.#views.interp.ends, (end) => (end === DRAWING ? this.#condition() : (this.#testLabels?.[end] ?? 0)));
      const { mu, latent } = await this.#request('encode', { pixels: ends.slice(), labels });
      // One request: the strip's points, then the animation's finer ones.
      const ts = [
        ...Array.from({ length: INTERP_STEPS }, (_, i) => i / (INTERP_STEPS - 1)),
        ...Array.from({ length: MORPH_FRAMES }, (_, i) => i / (MORPH_FRAMES - 1)),
      ];
      const z = new Float32Array(ts.length * latent);
      ts.forEach((t, i) => {
        for (let j = 0; j < latent; j++) z[i * latent + j] = (1 - t) * mu[j] + t * mu[latent + j];
      });
      const decoded = await this.#request('decode', { z });
      if (generation !== this.#generation) {
        state.again = true; // the data or the model changed meanwhile
        return;
      }
      const strip = decoded.subarray(0, INTERP_STEPS * d);
      this.#views.interp.setStrip(ends, strip, '', decoded.subarray(INTERP_STEPS * d));
    } catch (e) {
      if (generation !== this.#generation) state.again = true;
      else this.#showError(`Could not interpolate: ${e.message}`);
    } finally {
      state.busy = false;
      if (state.again) {
        state.again = false;
        this.refreshInterpolation();
      }
    }
  }

  /** Runs the drawing through the model again (a conditional model's label changed). */
  redraw() {
    if (this.#drawing.last) this.onInk(...this.#drawing.last);
  }

  // ── the drawing pad's pipeline: preprocess → encode → decode, latest drawing wins ──────
  onInk(ink, width, height) {
    this.#drawing.last = ink ? [ink, width, height] : null;
    this.#drawing.strokes = this.#views.pad.strokeCount;
    this.#drawing.next = { ink, width, height };
    this.#pumpDrawing();
  }

  async #pumpDrawing() {
    const d = this.#drawing;
    if (d.busy || !this.#connected()) return;
    d.busy = true;
    let generation = this.#generation;
    try {
      while (d.next) {
        generation = this.#generation;
        const { ink, width, height } = d.next;
        d.next = null;
        if (!ink) {
          d.result = null;
          this.#views.pad.setInput(null);
          this.#views.pad.setReconstruction(null);
          this.#views.map.setDrawn(null);
          this.#onDrawing(null);
          continue;
        }
        const input = await this.#request('preprocess', { ink: ink.slice(), width, height });
        this.#views.pad.setInput(input);
        const enc = await this.#request('encode', { pixels: input.slice() });
        this.#views.map.setDrawn(enc.mu, enc.logvar);
        const reconstruction = await this.#request('decode', { z: enc.mu.slice() });
        const error = meanSquaredError(input, reconstruction);
        this.#views.pad.setReconstruction(reconstruction, error);
        d.result = { input, reconstruction, error, mu: enc.mu, logvar: enc.logvar };
        d.updates++;
        this.#onDrawing(d.result);
        if (this.#views.interp.ends.includes(DRAWING)) this.refreshInterpolation();
        this.#emit('drawing', { error, mu: Array.from(enc.mu), updates: d.updates });
      }
    } catch (e) {
      if (generation === this.#generation) this.#showError(`Could not reconstruct the drawing: ${e.message}`);
    } finally {
      d.busy = false;
      // A replaced model's chain ends early: the drawing runs again through the new one.
      if (generation !== this.#generation && d.last && !d.next) this.redraw();
    }
  }
}
