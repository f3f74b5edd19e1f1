// The encoder kept as a feature extractor: a nearest-neighbour classifier guesses each
// held-out row's label from a few labelled training rows, by distances between codes,
// between PCA coordinates of the code's width, or between the raw values. A table and a
// plot of its accuracy against the number of labelled rows (Lab.compare's `knn`).

import { fitCanvas, cssColor, redrawLoop, h, plotFrame } from './canvas.js';
import { logScale, linearScale } from '../util/scale.js';
import { formatInt } from '../util/format.js';

const percent = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '–');
const SPACES = ['code', 'pca', 'pixels'];

export class FeaturesView {
  #table;
  #plot;
  #legend;
  #status;
  #loop;
  #report = null;
  #values = 'pixels';
  #rows = 'digits';
  #classes = 10;

  /** `root`: the element with part="features". */
  constructor(root) {
    this.root = root;
    this.#table = h('table', { class: 'features-table' });
    this.#plot = h('canvas', { class: 'features-plot', role: 'img', 'aria-label': 'Accuracy against labelled rows (loading)' });
    this.#legend = h('div', { class: 'legend' });
    this.#status = h('p', { class: 'digits-status', role: 'status' }, 'Waiting for the model.');
    root.replaceChildren(
      h('h2', {}, 'The encoder as a feature extractor'),
      h(
        'p',
        { class: 'explain' },
        'After training, the encoder alone can be kept: its codes are features for another task. Here a nearest-neighbour classifier labels each held-out row like the closest of a few labelled training rows. ' +
          'With few labels, how well it does depends on the space the distances are measured in. A code that puts like with like helps most when labels are scarce.',
      ),
      this.#table,
      this.#legend,
      this.#plot,
      this.#status,
    );
    this.#loop = redrawLoop(this.#plot, () => this.#paint());
    this.#header();
  }

  /** The data's table entry (www/util/datasets.js). */
  setData(shape, entry) {
    this.#values = shape?.type === 'image' ? 'pixels' : 'raw values';
    this.#rows = entry?.rows ?? 'rows';
    this.#classes = entry?.classes?.length ?? 10;
    this.setReport(null, 'Waiting for the model.');
  }

  /** Lab.compare's report (null: none yet) and a line about it. */
  setReport(report, status = '') {
    this.#report = report;
    this.#header();
    const r = report;
    const d = this.root.dataset;
    if (r && r.knn.length) {
      const body = h('tbody');
      for (const row of r.knn) {
        body.append(
          h(
            'tr',
            { 'data-labels': row.labels },
            h('th', { scope: 'row' }, formatInt(row.labels)),
            ...SPACES.map((s) => {
              const best = SPACES.every((o) => row[s] >= row[o]);
              return h('td', { 'data-space': s, 'data-value': row[s], class: best ? 'best' : null }, percent(row[s]));
            }),
          ),
        );
      }
      this.#table.append(body);
      d.state = 'ready';
      d.knn = JSON.stringify(r.knn);
      const few = r.knn[0];
      this.#status.textContent =
        `1-nearest-neighbour accuracy on the ${formatInt(r.rows)} held-out ${this.#rows}; guessing among ${this.#classes} classes gets about ${percent(1 / this.#classes)}. ` +
        `With ${formatInt(few.labels)} labels the code gets ${percent(few.code)} right and the ${this.#values} ${percent(few.pixels)}. ${status}`;
    } else {
      d.state = r ? 'none' : 'empty';
      delete d.knn;
      this.#status.textContent = r ? r.why ?? 'These rows have no labels to classify by.' : status;
    }
    this.#loop.schedule();
  }

  setStatus(text) {
    if (this.#report) this.setReport(this.#report, text);
    else this.#status.textContent = text;
  }

  dispose() {
    this.#loop.dispose();
  }

  #names() {
    const w = this.#report?.width;
    return { code: w ? `code (${w})` : 'code', pca: w ? `PCA-${Math.min(w, this.#report.values)}` : 'PCA', pixels: `${this.#values}${this.#report ? ` (${formatInt(this.#report.values)})` : ''}` };
  }

  #header() {
    const names = this.#names();
    this.#table.replaceChildren(
      h('caption', {}, 'Held-out accuracy by labelled training rows'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'labelled'), ...SPACES.map((s) => h('th', { scope: 'col', class: `space ${s}` }, names[s])))),
    );
    this.#legend.replaceChildren(...SPACES.map((s) => h('span', { class: `key space ${s}` }, names[s])));
  }

  #paint() {
    const { ctx, width, height } = fitCanvas(this.#plot);
    const c = (name, fallback) => cssColor(this.root, name, fallback);
    const col = { grid: c('--ll-grid', '#ddd'), muted: c('--ll-muted', '#666'), code: c('--ll-accent', '#2f5bd3'), pca: c('--ll-kl', '#d1495b'), pixels: c('--ll-muted', '#888') };
    ctx.clearRect(0, 0, width, height);
    const pad = { l: 40, r: 22, t: 8, b: 30 };
    const x = logScale([10, 1000], [pad.l, width - pad.r]);
    const y = linearScale([0, 1], [height - pad.b, pad.t]);
    plotFrame(ctx, {
      width, height, pad, x, y, colors: col,
      xTicks: [10, 100, 1000], xText: formatInt, xTitle: 'labelled training rows (log scale)',
      yTicks: [0, 0.5, 1], yText: (t) => `${t * 100} %`,
    });
    const r = this.#report;
    if (!r || !r.knn.length) return;
    for (const s of SPACES) {
      ctx.strokeStyle = col[s];
      ctx.fillStyle = col[s];
      ctx.lineWidth = s === 'code' ? 2.5 : 1.5;
      ctx.setLineDash(s === 'pixels' ? [4, 3] : []);
      ctx.beginPath();
      r.knn.forEach((row, i) => (i === 0 ? ctx.moveTo(x(row.labels), y(row[s])) : ctx.lineTo(x(row.labels), y(row[s]))));
      ctx.stroke();
      ctx.setLineDash([]);
      for (const row of r.knn) {
        ctx.beginPath();
        ctx.arc(x(row.labels), y(row[s]), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    this.#plot.setAttribute('aria-label', `Accuracy against labelled rows: ${r.knn.map((row) => `${row.labels} labels: code ${percent(row.code)}, PCA ${percent(row.pca)}, ${this.#values} ${percent(row.pixels)}`).join('; ')}`);
  }
}
