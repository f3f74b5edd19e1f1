// The requests of the cards that use the encoder beside its baselines. One `compare` request
// (Lab.compare) feeds the PCA card and the feature-extractor card; `nearest` (Lab.nearest)
// feeds the search card. Each runs only while its cards are on screen.
//
// The comparison's first run on a data set fits PCA to every training row (a few seconds on the CPU, once per data set), and
// each reconstructs and encodes every held-out row. While the model trains it runs again at
// most every REFRESH_MS (or 10× as long as the last one took), and once more when it stops.

const REFRESH_MS = 10_000;
// A linear model's angles to PCA's subspace are read this often while it trains (they only
// read the decoder's weights).
const ANGLES_MS = 150;

/**
 * The linear autoencoder the PCA card trains: no hidden layer, no activation, the identity
 * output (on images too) and MSE, with a code of LINEAR_WIDTH numbers. Adam at this rate
 * brings its decoder within about a degree of PCA's plane in LINEAR_STEPS steps on the digits.
 */
export const LINEAR_WIDTH = 2;
export const LINEAR_STEPS = 4000;
export const linearSpec = (seed) => ({
  kind: 'ae',
  hidden: [],
  decoder_hidden: null,
  activation: 'identity',
  output: 'identity',
  loss: 'mse',
  latent: LINEAR_WIDTH,
  batch_size: 128,
  optimizer: { lr: 0.005 },
  ...(seed === undefined ? {} : { seed }),
});

/**
 * Watches `parts` (cards): `shown()` says whether one of them is laid out and on screen
 * (without IntersectionObserver: laid out); `changed()` is called when one comes on screen.
 */
function watchOnScreen(parts, changed) {
  const onScreen = new Set();
  let observer = null;
  if (typeof IntersectionObserver === 'function') {
    observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (e.isIntersecting) onScreen.add(e.target);
        else onScreen.delete(e.target);
      }
      changed();
    });
    for (const p of parts) observer.observe(p);
  }
  return { shown: () => parts.some((p) => !p.hidden && !p.classList.contains('off') && (!observer || onScreen.has(p))) };
}

export class CompareViews {
  #request;
  #views;
  #report = null;
  #angles = null; // {linear, why, step, angles, history: [{step, angles}]} of this model
  #anglesBusy = false;
  #anglesAgain = false;
  #anglesLast = 0;
  #busy = false;
  #again = false;
  #stale = true; // the report is of another model (or none)
  #last = 0;
  #took = 0;
  #screen;
  #generation = 0;
  #waiters = [];
  #connected;

  /**
   * `request(type, args)`: an engine request; `views`: {pca, features}; `parts`: their cards
   * (watched: the comparison runs while one of them is on screen); `connected()`: whether the
   * element has an engine with a model open.
   */
  constructor({ request, views, parts, connected }) {
    this.#request = request;
    this.#views = views;
    this.#connected = connected;
    this.#screen = watchOnScreen(parts, () => {
      if (this.#stale) this.refresh(true);
    });
  }

  /** The last report (Lab.compare's), or null. */
  get report() {
    return this.#report;
  }

  /** The linear model's angles to PCA ({linear, why, step, angles, history}), or null. */
  get angles() {
    return this.#angles;
  }

  /** A new model or new data: the report is out of date. */
  modelChanged() {
    this.#generation++;
    this.#stale = true;
    this.#report = null;
    this.#angles = null;
    for (const v of Object.values(this.#views)) v.setReport(null, 'Waiting for the model.');
    this.#views.pca.setAngles(null);
    this.refresh(true);
  }

  /** The data changed shape: the views redraw for it. */
  setData(shape, entry) {
    for (const v of Object.values(this.#views)) v.setData(shape, entry);
    this.modelChanged();
  }

  /** The model trained: runs again if one is due (always with `force`, e.g. training stopped). */
  refresh(force = false) {
    if (force) this.#stale = true;
    if (!this.#connected() || !this.#shown()) return;
    this.#refreshAngles(force);
    if (this.#busy) {
      if (force) this.#again = true;
      return;
    }
    if (!force && performance.now() - this.#last < Math.max(REFRESH_MS, this.#took * 10)) return;
    this.#run();
  }

  /** Runs the comparison now, whether or not a card is on screen; resolves to its report. */
  async compare() {
    if (!this.#busy) this.#run();
    else this.#again = true;
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #shown() {
    return this.#screen.shown();
  }

  // The angles: once for any model (is it linear?), then while a linear one trains.
  #refreshAngles(force) {
    if (this.#angles && !this.#angles.linear) return;
    if (this.#anglesBusy) {
      if (force) this.#anglesAgain = true;
      return;
    }
    if (!force && this.#angles && performance.now() - this.#anglesLast < ANGLES_MS) return;
    this.#runAngles();
  }

  async #runAngles() {
    this.#anglesBusy = true;
    this.#anglesAgain = false;
    this.#anglesLast = performance.now();
    const generation = this.#generation;
    try {
      const r = await this.#request('angles', {});
      if (generation !== this.#generation) return;
      const history = this.#angles?.history ?? [];
      if (r.linear && history.at(-1)?.step !== r.step) history.push({ step: r.step, angles: r.angles });
      this.#angles = { ...r, history };
      this.#views.pca.setAngles(this.#angles);
    } catch (e) {
      if (generation === this.#generation) this.#views.pca.setAnglesStatus(`The angles to PCA could not be measured: ${e.message}`);
    } finally {
      this.#anglesBusy = false;
      if (this.#anglesAgain) this.#refreshAngles(true);
    }
  }

  async #run() {
    this.#busy = true;
    this.#again = false;
    const generation = this.#generation;
    const started = performance.now();
    this.#last = started;
    const first = this.#report === null;
    if (first) for (const v of Object.values(this.#views)) v.setStatus('Comparing with PCA: the first time on a data set, PCA is fitted to every training row (a few seconds)…');
    try {
      const report = await this.#request('compare', { examples: 8 });
      if (generation !== this.#generation) {
        this.#again = true; // of a model that is gone
        return;
      }
      this.#took = performance.now() - started;
      this.#report = report;
      this.#stale = false;
      for (const v of Object.values(this.#views)) v.setReport(report);
      for (const w of this.#waiters.splice(0)) w.resolve(report);
    } catch (e) {
      if (generation === this.#generation) {
        const message = `The comparison with PCA failed: ${e.message}`;
        for (const v of Object.values(this.#views)) v.setStatus(message);
        for (const w of this.#waiters.splice(0)) w.reject(new Error(message));
      }
    } finally {
      this.#busy = false;
      if (this.#again || (this.#waiters.length && this.#stale)) {
        if (this.#waiters.length) this.#run();
        else this.refresh(true);
      }
    }
  }
}

/**
 * The search card's requests: the held-out rows nearest to the query (a picked held-out row
 * or the drawing) by code and by value, again whenever the query or the model changes, and
 * once more when training stops.
 */
export class SimilarViews {
  #request;
  #view;
  #connected;
  #screen;
  #busy = false;
  #again = false;
  #stale = true;
  #drawing = null; // the pad's input (D values), or null
  #result = null;
  #generation = 0;

  /** `request`, `view` (the SimilarView), `part` (its card), `connected()`. */
  constructor({ request, view, part, connected }) {
    this.#request = request;
    this.#view = view;
    this.#connected = connected;
    this.#screen = watchOnScreen([part], () => {
      if (this.#stale) this.refresh();
    });
  }

  /** The latest result with its query ({test: i} or 'drawing'), or null. */
  get state() {
    return this.#result;
  }

  /** The pad's input (D values), or null when it is cleared. */
  setDrawing(input) {
    const had = this.#drawing !== null;
    this.#drawing = input ? Float32Array.from(input) : null;
    this.#view.setDrawing(Boolean(input));
    if (input || had) this.queryChanged();
  }

  /** A new model or new data: the result is out of date. */
  modelChanged() {
    this.#generation++;
    this.#result = null;
    this.#view.setResult(null, 'Waiting for the model.');
    this.queryChanged();
  }

  /** The data changed: the view redraws for its rows; the drawing goes with digit-shaped rows. */
  setData(shape, entry) {
    this.#drawing = null;
    this.#view.setData(shape, entry);
    this.modelChanged();
  }

  /** The query changed (picked, drawn): runs again. */
  queryChanged() {
    this.#stale = true;
    this.refresh();
  }

  /** Runs if its card is on screen and the result is out of date (`force`: it is). */
  refresh(force = false) {
    if (force) this.#stale = true;
    if (!this.#stale || !this.#connected() || !this.#screen.shown()) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#run();
  }

  async #run() {
    this.#busy = true;
    this.#again = false;
    this.#stale = false;
    const generation = this.#generation;
    const query = this.#view.query;
    try {
      const args = query === 'drawing' && this.#drawing ? { pixels: this.#drawing.slice(), n: 8 } : { test: query === 'drawing' ? 0 : query.test, n: 8 };
      const result = await this.#request('nearest', args);
      if (generation !== this.#generation) return;
      this.#result = { query, ...result };
      this.#view.setResult(result);
    } catch (e) {
      if (generation === this.#generation) this.#view.setStatus(`The search failed: ${e.message}`);
    } finally {
      this.#busy = false;
      if (this.#again || generation !== this.#generation) this.refresh(true);
    }
  }
}
