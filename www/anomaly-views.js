// The anomaly views' requests and shared state: the held-out rows' scores (one request,
// `anomalyScores`, for every score and PCA's), the score and threshold in force (shared by
// the detector, the curves, the examples and the series), the drawing's score. Like
// kind-views.js it keeps one request chain in flight and runs once more with the latest state
// when it returns; while training it refreshes at most every REFRESH_MS.

import { confusion, examples } from './util/anomaly.js';

const REFRESH_MS = 2500;
const EXAMPLES = 6;

export class AnomalyViews {
  #request;
  #views;
  #showError;
  #onChange;
  #active = false; // the model's data is an anomaly set
  #result = null; // the engine's anomalyScores, with the shape
  #name = 'reconstruction';
  #threshold = null;
  #chosen = false; // the learner set the threshold (else it follows the best F1)
  #refreshes = 0;
  #chain = { busy: false, again: false, last: 0 };
  #drawing = null; // the pad's input (D values) or null
  #drawingChain = { busy: false, again: false };
  #drawingScores = null;
  #shape = null;
  #generation = 0;

  /**
   * `request(type, args)`: an engine request. `views`: {detector, curves, examples, series}.
   * `showError(message)`. `onChange()`: the scores, score or threshold changed.
   */
  constructor({ request, views, showError, onChange = () => {} }) {
    this.#request = request;
    this.#views = views;
    this.#showError = showError;
    this.#onChange = onChange;
  }

  get active() {
    return this.#active;
  }

  /** The model's data: an anomaly set (`active`) or not; `shape` of its rows. */
  setData({ active, shape }) {
    this.#active = active;
    this.#shape = shape;
    this.modelChanged();
  }

  /** A new model: the old scores go; the threshold follows the best F1 again. */
  modelChanged() {
    this.#generation++;
    this.#result = null;
    this.#chosen = false;
    this.#threshold = null;
    this.#drawingScores = null;
    this.#paint();
    if (this.#active) this.refresh(true);
  }

  /** Scores again: `force` at once, else at most every REFRESH_MS (while training). */
  async refresh(force = false) {
    if (!this.#active) return;
    const c = this.#chain;
    if (c.busy) {
      c.again = c.again || force;
      return;
    }
    if (!force && performance.now() - c.last < REFRESH_MS) return;
    c.busy = true;
    const generation = this.#generation;
    try {
      const result = await this.#request('anomalyScores', {});
      if (generation !== this.#generation) return;
      this.#result = result;
      this.#refreshes++;
      if (!result.names.includes(this.#name)) this.#name = result.names[0];
      if (!this.#chosen) this.#threshold = result.curves[this.#name].bestThreshold;
      this.#paint();
      await this.#refreshExamples(generation);
      await this.#scoreDrawing();
    } catch (e) {
      if (generation === this.#generation && !e.superseded && !e.crashed) this.#showError(`Could not score the held-out rows: ${e.message}`);
    } finally {
      c.busy = false;
      c.last = performance.now();
      if (c.again) {
        c.again = false;
        this.refresh(true);
      }
    }
  }

  /** Which score the views show: reconstruction, elbo, encoder or pca. */
  setScore(name) {
    if (!this.#result?.names.includes(name)) throw new Error(`no score ${JSON.stringify(name)}: this model gives ${this.#result?.names.join(', ') ?? 'none yet'}`);
    // Each score has its own scale: the threshold starts again at its best F1.
    this.#name = name;
    this.#threshold = this.#result.curves[name].bestThreshold;
    this.#chosen = false;
    this.#paint();
    this.#refreshExamples(this.#generation);
    this.#paintDrawing();
  }

  /** The threshold: rows scoring at or above it are flagged. */
  setThreshold(x) {
    if (!(typeof x === 'number' && Number.isFinite(x))) throw new TypeError(`the threshold is a finite number, got ${x}`);
    this.#threshold = x;
    this.#chosen = true;
    this.#paint();
    this.#paintExamplesOnly();
    this.#paintDrawing();
  }

  /** The pad's network input (D values) or null: scored against the threshold. */
  setDrawing(input) {
    this.#drawing = input ? Float32Array.from(input) : null;
    if (!input) {
      this.#drawingScores = null;
      this.#paintDrawing();
      return;
    }
    this.#scoreDrawing();
  }

  /** The state for the element's API: null before the first scores. */
  state() {
    const r = this.#result;
    if (!r) return null;
    const scores = r.scores[this.#name];
    return {
      score: this.#name,
      names: [...r.names],
      threshold: this.#threshold,
      counts: confusion(scores, r.anomalous, this.#threshold),
      scores: Object.fromEntries(r.names.map((n) => [n, Float64Array.from(r.scores[n])])),
      anomalous: Uint8Array.from(r.anomalous),
      curves: Object.fromEntries(r.names.map((n) => [n, { rocAuc: r.curves[n].rocAuc, prAuc: r.curves[n].prAuc, bestF1: r.curves[n].bestF1, bestThreshold: r.curves[n].bestThreshold }])),
      pcaDims: r.pcaDims,
      trainRows: r.trainRows,
      trainAnomalies: r.trainAnomalies,
      refreshes: this.#refreshes,
      drawing: this.#drawingScores ? { score: this.#drawingScores[this.#name][0], anomalous: this.#drawingScores[this.#name][0] >= this.#threshold } : null,
      series: r.series ? { top: { ...r.series.top }, hit: { ...r.series.hit }, steps: r.series.steps } : null,
    };
  }

  #paint() {
    const r = this.#result;
    const v = this.#views;
    if (!r) {
      v.detector.setScores(null);
      v.curves.setState(null);
      v.examples.setState(null);
      v.series.setState(null);
      this.#onChange();
      return;
    }
    const scores = r.scores[this.#name];
    v.detector.setScores({ scores: r.scores, anomalous: r.anomalous, name: this.#name, names: r.names, threshold: this.#threshold, refreshes: this.#refreshes });
    const c = confusion(scores, r.anomalous, this.#threshold);
    const anomalies = c.tp + c.fn;
    v.curves.setState({ curves: r.curves, name: this.#name, pcaDims: r.pcaDims, point: { fpr: c.fpr, tpr: c.recall, recall: c.recall, precision: c.precision }, anomalies, rows: scores.length });
    v.series.setState(r.series ? { series: r.series, name: this.#name, threshold: this.#threshold } : null);
    this.#onChange();
  }

  #examples = null;

  async #refreshExamples(generation) {
    const r = this.#result;
    if (!r) return;
    const picked = examples(r.scores[this.#name], r.anomalous, EXAMPLES);
    const indices = [...picked.top, ...picked.misses];
    const scored = await this.#request('scoreRows', { test: indices });
    if (generation !== this.#generation) return;
    const D = scored.rows.length / Math.max(1, indices.length);
    const part = (from, n) => ({
      indices: indices.slice(from, from + n),
      rows: scored.rows.subarray(from * D, (from + n) * D),
      reconstructions: scored.reconstructions.subarray(from * D, (from + n) * D),
      errors: (this.#name === 'pca' ? scored.pcaErrors : scored.errors).subarray(from * D, (from + n) * D),
      scores: indices.slice(from, from + n).map((i) => r.scores[this.#name][i]),
      anomalous: indices.slice(from, from + n).map((i) => r.anomalous[i]),
    });
    let maxError = 1e-9;
    for (const e of this.#name === 'pca' ? scored.pcaErrors : scored.errors) maxError = Math.max(maxError, e);
    this.#examples = { top: part(0, picked.top.length), misses: part(picked.top.length, picked.misses.length), shape: this.#shape, maxError };
    this.#paintExamplesOnly();
  }

  #paintExamplesOnly() {
    if (!this.#examples) return;
    this.#views.examples.setState({ ...this.#examples, threshold: this.#threshold });
  }

  async #scoreDrawing() {
    if (!this.#drawing || !this.#result) return;
    const c = this.#drawingChain;
    if (c.busy) {
      c.again = true;
      return;
    }
    c.busy = true;
    const generation = this.#generation;
    try {
      const input = this.#drawing;
      const scored = await this.#request('scoreRows', { pixels: input });
      if (generation !== this.#generation) return;
      this.#drawingScores = scored;
      this.#paintDrawing();
    } catch (e) {
      if (!e.superseded && !e.crashed) this.#showError(`Could not score the drawing: ${e.message}`);
    } finally {
      c.busy = false;
      if (c.again) {
        c.again = false;
        this.#scoreDrawing();
      }
    }
  }

  #paintDrawing() {
    const s = this.#drawingScores;
    if (!s || !this.#result) {
      this.#views.detector.setDrawing(null);
      this.#onChange();
      return;
    }
    const errors = this.#name === 'pca' ? s.pcaErrors : s.errors;
    this.#views.detector.setDrawing({ score: s[this.#name][0], errors, shape: this.#shape });
    this.#onChange();
  }
}
