// Anomaly detection in the page: a detector trained on the normal rows alone, its histogram,
// threshold and counts, the ROC and PR curves beside PCA, the examples, the drawing's
// verdict, a series' view along time, and a table of the user's own with a label column.
// Every figure a view shows is checked against the scores the element's API returns, and
// those against a recomputation here. Both backends.
import { test, expect } from './fixtures.mjs';
import { useLabPage, SEVEN } from './lab-page.mjs';
import { readSettings, hashGetter } from '../../www/util/settings.js';

test.describe.configure({ mode: 'serial' });
const lab = useLabPage(test);
const { part, run, info } = lab;

// A small dense autoencoder: quick to train on both backends, good enough to find anomalies.
const SMALL = (shape) => ({ kind: 'ae', hidden: shape === 'image' ? [64] : [32], latent: { image: 8, series: 4, vector: 2 }[shape], batch_size: 32, seed: 3 });

/** Opens a detector (setAnomaly), swaps in the small model, trains `steps` steps. */
async function detector(choice, steps, shape = 'image') {
  await run((choice) => document.querySelector('latent-lab').setAnomaly(choice), choice);
  await run((spec) => document.querySelector('latent-lab').reset(spec), SMALL(shape));
  await run((steps) => document.querySelector('latent-lab').train({ steps }), steps);
  // The views' scores are the final model's once they equal a fresh request's.
  const fresh = await run(async () => Array.from((await document.querySelector('latent-lab').anomalyScores()).scores.reconstruction));
  await expect
    .poll(async () => JSON.stringify(await run(() => Array.from(document.querySelector('latent-lab').anomalyState?.scores.reconstruction ?? []))), { timeout: 60_000 })
    .toBe(JSON.stringify(fresh));
  return run(() => document.querySelector('latent-lab').anomalyState);
}

/** The chance that an anomaly outscores a normal row, ties half: Mann–Whitney, by pairs. */
function pairAuc(scores, anomalous) {
  const a = [];
  const n = [];
  scores.forEach((s, i) => (anomalous[i] ? a : n).push(s));
  let wins = 0;
  for (const x of a) for (const y of n) wins += x > y ? 1 : x === y ? 0.5 : 0;
  return wins / (a.length * n.length);
}

/** The counts at `threshold`, counted here. */
function counts(scores, anomalous, threshold) {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  scores.forEach((s, i) => {
    const flagged = s >= threshold;
    c[anomalous[i] ? (flagged ? 'tp' : 'fn') : flagged ? 'fp' : 'tn']++;
  });
  return c;
}

const data = (name) => part(name).locator('canvas').first().evaluate((c) => ({ ...c.dataset }));

test('malformed anomaly calls reject with the reason and change nothing', async () => {
  const out = await run(async () => {
    const el = document.querySelector('latent-lab');
    const before = el.info.data;
    const reason = (p) => Promise.resolve().then(p).then(() => 'accepted', (e) => e.message);
    return {
      before,
      notDetector: await reason(() => el.scoreRows(new Float32Array(784))),
      scoresNotDetector: await reason(() => el.anomalyScores()),
      string: await reason(() => el.setAnomaly('zeros')),
      label12: await reason(() => el.setAnomaly({ normal: [12] })),
      empty: await reason(() => el.setAnomaly({ normal: [] })),
      contamination: await reason(() => el.setAnomaly({ normal: [0], contamination: NaN })),
      threshold: await reason(() => el.setAnomalyThreshold('high')),
      score: await reason(() => el.setAnomalyScore('elbo')),
      after: el.info.data,
    };
  });
  expect(out.notDetector).toContain('not split into normal and anomalous rows');
  expect(out.scoresNotDetector).toContain('not split into normal and anomalous rows');
  expect(out.string).toContain('{normal, contamination} or null');
  expect(out.label12).toContain('from 0 to 9');
  expect(out.empty).toContain('a list of labels');
  expect(out.contamination).toContain('from 0 to 0.5');
  expect(out.threshold).toContain('finite number');
  expect(out.score).toContain('no score');
  expect(out.after).toBe(out.before);
  expect(lab.problems).toEqual([]);
});

test('a detector of digits: the views show the scores the API returns, and a digit left out is flagged', async () => {
  test.setTimeout(240_000);
  const state = await detector({ normal: [0] }, 250);
  const i = await info();
  expect(i.data).toBe('mnist~0~0~1');
  expect(await run(() => document.querySelector('latent-lab').anomaly)).toEqual({ normal: [0], contamination: 0, data: 'mnist', outliers: null });
  // Training rows are the 800 zeros alone; every held-out digit is scored, the others anomalies.
  expect(i.trainSize).toBe(800);
  expect(state.trainAnomalies).toBe(0);
  const scores = Array.from(state.scores.reconstruction);
  const anomalous = Array.from(state.anomalous);
  expect(scores.length).toBe(i.testSize);
  expect(anomalous.filter(Boolean).length).toBe(i.testSize - 201);
  expect(state.names).toEqual(['reconstruction', 'pca']);
  const nan = await run(() => {
    const x = new Float32Array(784).fill(0.5);
    x[7] = NaN;
    return document.querySelector('latent-lab').scoreRows(x).then(() => 'accepted', (e) => e.message);
  });
  expect(nan).toMatch(/not a finite|NaN/);

  // The engine's AUC is the pairwise chance, ties half; the detector beats chance clearly.
  expect(state.curves.reconstruction.rocAuc).toBeCloseTo(pairAuc(scores, anomalous), 9);
  expect(state.curves.pca.rocAuc).toBeCloseTo(pairAuc(Array.from(state.scores.pca), anomalous), 9);
  expect(state.curves.reconstruction.rocAuc).toBeGreaterThan(0.85);

  // The histogram counts each score in its bin, normal and anomalous apart.
  const hist = await data('anomaly');
  expect(hist.score).toBe('reconstruction');
  const edges = hist.edges.split(',').map(Number);
  const normalBins = new Array(edges.length - 1).fill(0);
  const anomalousBins = new Array(edges.length - 1).fill(0);
  // Bin k holds [edge k, edge k + 1); the largest score goes in the last bin.
  scores.forEach((s, k) => {
    const b = s >= edges[edges.length - 1] ? edges.length - 2 : Math.max(0, edges.findIndex((e) => s < e) - 1);
    (anomalous[k] ? anomalousBins : normalBins)[b]++;
  });
  expect(hist.binsNormal.split(',').map(Number)).toEqual(normalBins);
  expect(hist.binsAnomalous.split(',').map(Number)).toEqual(anomalousBins);
  // The counts at the threshold add up and agree with counting here, in the view too.
  const at = (t) => counts(scores, anomalous, t);
  const c = at(state.threshold);
  expect(state.counts).toMatchObject(c);
  expect(c.tp + c.fp + c.tn + c.fn).toBe(scores.length);
  expect({ tp: Number(hist.tp), fp: Number(hist.fp), tn: Number(hist.tn), fn: Number(hist.fn) }).toEqual(c);
  const roc = await part('anomaly-curves').locator('canvas[data-curve="roc"]').evaluate((e) => ({ ...e.dataset }));
  expect(Number(roc.auc)).toBe(state.curves.reconstruction.rocAuc);
  expect(Number(roc.pcaAuc)).toBe(state.curves.pca.rocAuc);
  const [fpr, tpr] = roc.point.split(',').map(Number);
  expect(fpr).toBeCloseTo(c.fp / (c.fp + c.tn), 12);
  expect(tpr).toBeCloseTo(c.tp / (c.tp + c.fn), 12);

  // Dragging across the histogram moves the threshold; the counts follow.
  const canvas = part('anomaly').locator('canvas.anomaly-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await lab.page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  await lab.page.mouse.down();
  await lab.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 4 });
  await lab.page.mouse.up();
  const dragged = await run(() => document.querySelector('latent-lab').anomalyState);
  expect(dragged.threshold).not.toBe(state.threshold);
  expect(dragged.threshold).toBeGreaterThan(Math.min(...scores));
  expect(dragged.counts).toMatchObject(at(dragged.threshold));
  await expect.poll(async () => Number((await data('anomaly')).tp)).toBe(at(dragged.threshold).tp);

  // The examples are the highest scores and the lowest-scoring anomalies.
  const ex = await part('anomaly-examples').locator('canvas').evaluate((e) => ({ ...e.dataset }));
  const order = scores.map((s, k) => k).sort((a, b) => scores[b] - scores[a] || a - b);
  expect(ex.top.split(',').map(Number)).toEqual(order.slice(0, 6));
  expect(ex.misses.split(',').map(Number)).toEqual(order.filter((k) => anomalous[k]).slice(-6).reverse());

  // A 7 drawn on the pad, a digit the detector never saw: above the threshold that lets only
  // 5 % of the normal held-out digits through.
  const normalScores = scores.filter((_, k) => !anomalous[k]).sort((a, b) => a - b);
  const strict = normalScores[Math.floor(0.95 * normalScores.length)];
  await run((t) => document.querySelector('latent-lab').setAnomalyThreshold(t), strict);
  await lab.mouseStroke(SEVEN);
  await expect(part('anomaly').locator('.anomaly-verdict')).toHaveAttribute('data-verdict', 'anomalous', { timeout: 30_000 });
  const drawn = await run(async () => {
    const el = document.querySelector('latent-lab');
    const own = await el.scoreRows(el.drawing.input);
    return { state: el.anomalyState.drawing, own: own.reconstruction[0] };
  });
  expect(drawn.state.score).toBe(drawn.own);
  expect(drawn.state.score).toBeGreaterThan(strict);
  expect(lab.problems).toEqual([]);
});

test('contamination mixes anomalies into the training rows, and a series view flags its labelled region', async () => {
  test.setTimeout(240_000);
  // 10 % of the training rows are other digits: 800 zeros and 89 of the rest.
  await run(() => document.querySelector('latent-lab').setAnomaly({ normal: [0], contamination: 0.1 }));
  const i = await info();
  expect(i.data).toBe('mnist~0~0.1~1');
  expect(i.trainSize).toBe(889);
  // A bad choice is refused with the reason, and the detector stays.
  const refused = await run(() =>
    document
      .querySelector('latent-lab')
      .setAnomaly({ normal: [0], contamination: 0.7 })
      .then(
        () => null,
        (e) => e.message,
      ),
  );
  expect(refused).toContain('from 0 to 0.5');
  expect((await info()).data).toBe('mnist~0~0.1~1');

  await run(() => document.querySelector('latent-lab').switchData('bleeding'));
  await expect(part('anomaly-series')).toBeHidden();
  const state = await detector({ normal: [0] }, 300, 'series');
  await expect(part('anomaly-series')).toBeVisible();
  await expect(part('pad')).toBeHidden();
  const s = await data('anomaly-series');
  expect(s.top).toBe(String(state.series.top.reconstruction));
  expect(s.hit).toBe(String(state.series.hit.reconstruction));
  const [first, last] = s.labelled.split(',').map(Number);
  expect(last).toBeGreaterThan(first);
  // PCA finds the labelled region (the UCR archive's rule: top step within it ± 100), and
  // at the threshold of the top step's score the view flags steps inside it.
  await run(() => document.querySelector('latent-lab').setAnomalyScore('pca'));
  const top = state.series.top.pca;
  expect(state.series.hit.pca).toBe(true);
  expect(top).toBeGreaterThanOrEqual(first - 100);
  expect(top).toBeLessThanOrEqual(last + 100);
  const points = await run(async () => Array.from((await document.querySelector('latent-lab').anomalyScores()).series.points.pca));
  await run((t) => document.querySelector('latent-lab').setAnomalyThreshold(t), points[top]);
  await expect.poll(async () => Number((await data('anomaly-series')).flagged)).toBeGreaterThan(0);
  const flagged = await data('anomaly-series');
  expect(flagged.score).toBe('pca');
  expect(Number(flagged.flaggedInLabel) > 0 || Math.abs(top - first) <= 100 || Math.abs(top - last) <= 100).toBe(true);
  expect(lab.problems).toEqual([]);
});

test('a table of your own with a label column: trained on its normal rows, its anomalies found', async () => {
  test.setTimeout(180_000);
  // Three features on two hidden factors; every tenth row (label 1) breaks the pattern.
  let csv = 'a,b,c,kind\n';
  for (let r = 0; r < 600; r++) {
    const [u, v] = [Math.sin(r * 1.3), Math.cos(r * 0.7)];
    const odd = r % 10 === 0;
    csv += odd ? `${2 * v},${-3 * u},${u + v + 2},1\n` : `${u},${v},${u + v},0\n`;
  }
  await run((csv) => document.querySelector('latent-lab').loadCsv(csv, { label: 'kind', name: 'sensors.csv' }), csv);
  await expect(part('anomaly').locator('.anomaly-normal')).toContainText('labelled 0 are normal');
  const state = await detector({ normal: [0] }, 300, 'vector');
  const i = await info();
  expect(i.data).toMatch(/^csv-\d+~0~0~1$/);
  // 60 % of 600 rows train: 324 of them normal.
  expect(i.trainSize).toBe(324);
  expect(state.curves.reconstruction.rocAuc).toBeGreaterThan(0.9);
  expect(state.curves.pca.rocAuc).toBeCloseTo(pairAuc(Array.from(state.scores.pca), Array.from(state.anomalous)), 9);
  expect(lab.problems).toEqual([]);
});

test('the normal and contamination settings, and what they refuse', () => {
  const read = (hash) => readSettings(hashGetter(hash));
  expect(read('normal=3,1').settings.normal).toEqual([1, 3]);
  expect(read('data=fashion&normal=all&contamination=0.05').settings).toMatchObject({ normal: 'all', contamination: 0.05 });
  expect(read('data=shuttle&normal=all').problems[0].message).toContain('name the normal labels of shuttle');
  expect(read('normal=0,1,2,3,4,5,6,7,8,9').problems[0].key).toBe('normal');
  expect(read('data=shuttle&normal=2').problems[0].message).toContain('0 to 1');
  expect(read('contamination=0.9').problems[0].message).toContain('from 0 to 0.5');
});
