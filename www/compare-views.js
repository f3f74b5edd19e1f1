// The comparison cards' requests: one `compare` request (Lab.compare) feeds the PCA card and
// the feature-extractor card. It runs only while one of them is on screen: the first one on a
// data set fits PCA to every training row (a few seconds on the CPU, once per data set), and
// each reconstructs and encodes every held-out row. While the model trains it runs again at
// most every REFRESH_MS (or 10× as long as the last one took), and once more when it stops.

const REFRESH_MS = 10_000;

export class CompareViews {
  #request;
  #views;
  #parts;
  #report = null;
  #busy = false;
  #again = false;
  #stale = true; // the report is of another model (or none)
  #last = 0;
  #took = 0;
  #onScreen = new Set();
  #observer = null;
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
    this.#parts = parts;
    this.#connected = connected;
    if (typeof IntersectionObserver === 'function') {
      this.#observer = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (e.isIntersecting) this.#onScreen.add(e.target);
          else this.#onScreen.delete(e.target);
        }
        if (this.#stale) this.refresh(true);
      });
      for (const p of parts) this.#observer.observe(p);
    }
  }

  /** The last report (Lab.compare's), or null. */
  get report() {
    return this.#report;
  }

  /** A new model or new data: the report is out of date. */
  modelChanged() {
    this.#generation++;
    this.#stale = true;
    this.#report = null;
    for (const v of Object.values(this.#views)) v.setReport(null, 'Waiting for the model.');
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

  // Whether a card is laid out and on screen (without IntersectionObserver: laid out).
  #shown() {
    return this.#parts.some((p) => !p.hidden && !p.classList.contains('off') && (!this.#observer || this.#onScreen.has(p)));
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
