// The model beside PCA and the raw values: the PCA card (reconstructions by PCA of the
// code's width and by the model, PCA's curve with the model's point, the two planes with
// their classifiers) and the feature-extractor card (a nearest-neighbour classifier on the
// code, PCA and the pixels with 10, 100 and 1,000 labels), and the search card (the held-out
// digits nearest to a picked one or the drawing, by code and by pixels); and a wide code on the
// latent map through UMAP and t-SNE; and a linear autoencoder trained in the PCA card, whose
// principal angles to PCA's plane fall as it trains. The figures each card shows are
// checked against el.comparison, and those against recomputations here through the
// element's other calls (reconstruct, encode, testImages). Screenshots go to
// artifacts/screenshots/<project>-compare-*.png.
import { test, expect } from './fixtures.mjs';
import { SEVEN } from './lab-page.mjs';

const SHOTS = 'artifacts/screenshots';

/** Console errors and page errors of `page`, which every test expects to stay empty. */
function watch(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/** Waits until the element's comparison is of the model now open (its `width` and kind). */
async function comparison(page, { timeout = 90_000 } = {}) {
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').comparison !== null), { timeout }).toBe(true);
  return page.evaluate(() => {
    const c = document.querySelector('latent-lab').comparison;
    const plain = (v) => (ArrayBuffer.isView(v) ? Array.from(v) : v);
    return {
      ...c,
      curve: plain(c.curve),
      labels: plain(c.labels),
      examples: Object.fromEntries(Object.entries(c.examples).map(([k, v]) => [k, plain(v)])),
      planes: Object.fromEntries(Object.entries(c.planes).map(([k, v]) => [k, plain(v)])),
    };
  });
}

const messages = (page) => page.evaluate(() => [...document.querySelector('latent-lab').shadowRoot.querySelectorAll('[part=messages] .message .text')].map((m) => m.textContent));

/** A 7 in one mouse stroke on the pad (scrolled into view first). */
async function drawSeven(page) {
  const pad = page.locator('latent-lab [part="pad"] canvas.pad-canvas');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(SEVEN[0]));
  await page.mouse.down();
  for (const p of SEVEN.slice(1)) await page.mouse.move(...at(p), { steps: 6 });
  await page.mouse.up();
}

const close = (a, b, rel = 1e-5) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);

/** The `n` rows of `rows` (width `d`) nearest to row `q` of `query`, leaving out row `skip`. */
function nearest(rows, d, query, q, n, skip) {
  const dist = [];
  for (let j = 0; j < rows.length / d; j++) {
    if (j === skip) continue;
    let s = 0;
    for (let k = 0; k < d; k++) s += (rows[j * d + k] - query[q * d + k]) ** 2;
    dist.push([Math.sqrt(s), j]);
  }
  return dist.sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, n);
}

test('the PCA, feature and search cards show the engine’s figures, and they hold up against a recomputation', async ({ page }, testInfo) => {
  const problems = watch(page);
  await page.setViewportSize({ width: 1200, height: 1300 });
  await page.goto('/www/embed.html#views=pca,features,similar,pad');
  const c = await comparison(page);

  // PCA's curve: every width of the digits, falling to nothing at full rank.
  expect(c.width).toBe(2);
  expect(c.values).toBe(784);
  expect(c.curve).toHaveLength(784);
  for (let k = 1; k < c.curve.length; k++) expect(c.curve[k]).toBeLessThanOrEqual(c.curve[k - 1] + 1e-9);
  expect(c.curve[783]).toBeLessThan(1e-6);
  expect(c.pcaMse).toBe(c.curve[1]);
  // What the code is worth: the first width at or below the model's error, found here.
  expect(c.equivalentK).toBe(c.curve.findIndex((m) => m <= c.modelMse) + 1);
  // The shipped VAE beats PCA of its width (README: 0.045 against 0.056).
  expect(c.modelMse).toBeLessThan(c.pcaMse);

  // The model's figures through the element's other calls: its reconstructions of every
  // held-out digit, and its codes.
  const again = await page.evaluate(async (rows) => {
    const el = document.querySelector('latent-lab');
    const { images, labels } = await el.testImages(rows);
    let se = 0;
    const parts = [];
    for (let i = 0; i < rows; i += 500) parts.push(await el.reconstruct(images.slice(i * 784, Math.min(rows, i + 500) * 784)));
    let j = 0;
    for (const p of parts) for (const v of p) se += (v - images[j]) ** 2, j++;
    const mu = [];
    for (let i = 0; i < rows; i += 500) mu.push(...(await el.encode(images.slice(i * 784, Math.min(rows, i + 500) * 784))).mu);
    return { mse: se / images.length, mu, labels: Array.from(labels), first: Array.from(images.subarray(0, 8 * 784)), images: Array.from(images) };
  }, c.rows);
  expect(close(again.mse, c.modelMse, 1e-4)).toBe(true);
  expect(c.labels).toEqual(again.labels);
  expect(c.planes.code).toHaveLength(2 * c.rows);
  c.planes.code.forEach((v, i) => expect(Math.abs(v - again.mu[i])).toBeLessThan(1e-4));
  // A 2-D code is its own plane, so the plane's classifier is the code's with 1,000 labels;
  // and PCA's plane is PCA of the code's width.
  expect(c.knn.map((r) => r.labels)).toEqual([10, 100, 1000]);
  expect(c.planes.codeKnn).toBe(c.knn[2].code);
  expect(c.planes.pcaKnn).toBe(c.knn[2].pca);
  expect(c.planes.codeProjected).toBe(false);
  for (const r of c.knn) for (const s of ['code', 'pca', 'pixels']) expect(r[s]).toBeGreaterThan(0.2); // chance is 0.1
  // More labels never hurt the raw pixels' classifier (the first n rows are nested).
  expect(c.knn[2].pixels).toBeGreaterThan(c.knn[0].pixels);

  // The examples: the first held-out digits, with each reconstruction's error recomputed.
  expect(c.examples.indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(c.examples.rows).toEqual(again.first);
  const rowMse = (a, b, i) => {
    let s = 0;
    for (let j = i * 784; j < (i + 1) * 784; j++) s += (a[j] - b[j]) ** 2;
    return s / 784;
  };
  for (let i = 0; i < 8; i++) {
    expect(close(c.examples.modelMse[i], rowMse(c.examples.model, c.examples.rows, i), 1e-5)).toBe(true);
    expect(close(c.examples.pcaMse[i], rowMse(c.examples.pca, c.examples.rows, i), 1e-5)).toBe(true);
  }

  // What the cards show is those figures.
  const card = page.locator('latent-lab [part="pca"]');
  await expect(card.locator('[data-readout="model"]')).toHaveText(c.modelMse.toPrecision(3));
  await expect(card.locator('[data-readout="pca"]')).toHaveText(c.pcaMse.toPrecision(3));
  await expect(card.locator('[data-readout="equivalent"]')).toHaveText(`${c.equivalentK} components`);
  await expect(card.locator('figcaption').first()).toContainText(`${(100 * c.planes.pcaKnn).toFixed(1)} %`);
  await expect(card.locator('figcaption').nth(1)).toContainText(`${(100 * c.planes.codeKnn).toFixed(1)} %`);
  const features = page.locator('latent-lab [part="features"]');
  for (const r of c.knn) {
    for (const s of ['code', 'pca', 'pixels']) {
      await expect(features.locator(`tr[data-labels="${r.labels}"] td[data-space="${s}"]`)).toHaveText(`${(100 * r[s]).toFixed(1)} %`);
    }
  }
  await expect(features.locator('thead')).toContainText('PCA-2');

  // The search card: the digits nearest to the first held-out digit, found again here, by
  // pixels and by code (the codes from el.encode above).
  const search = page.locator('latent-lab [part="similar"]');
  await search.scrollIntoViewIfNeeded();
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').similar !== null), { timeout: 60_000 }).toBe(true);
  const checkSearch = async (q) => {
    const s = await page.evaluate(() => document.querySelector('latent-lab').similar);
    expect(s.query).toEqual({ test: q });
    const byPixels = nearest(again.images, 784, again.images, q, 8, q);
    const byCode = nearest(again.mu, 2, again.mu, q, 8, q);
    expect(s.pixels.indices).toEqual(byPixels.map(([, j]) => j));
    byPixels.forEach(([dist], i) => expect(Math.abs(dist - s.pixels.distances[i])).toBeLessThan(1e-3));
    // Codes from two requests may differ in the last bits: the same neighbours, near ties aside.
    const shared = s.code.indices.filter((j) => byCode.some(([, k]) => k === j)).length;
    expect(shared).toBeGreaterThanOrEqual(7);
    expect(s.code.labels).toEqual(s.code.indices.map((j) => again.labels[j]));
    const same = (set) => set.labels.filter((l) => l === again.labels[q]).length;
    await expect(search.locator('[role="status"]')).toContainText(`${same(s.code)} of the 8 nearest by code, ${same(s.pixels)} of the 8 by pixels`);
    await expect(search.locator('canvas.similar-canvas')).toHaveAttribute('data-code', s.code.indices.join(','));
  };
  await checkSearch(0);
  // Another query picked in the card.
  await search.locator('button[data-test="7"]').click();
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').similar?.query.test ?? null)).toBe(7);
  await checkSearch(7);
  // The drawing becomes the query, and its neighbours are Lab.nearest's of the pad's input.
  await drawSeven(page);
  await search.scrollIntoViewIfNeeded();
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').similar?.query ?? null), { timeout: 60_000 }).toBe('drawing');
  const drawn = await page.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    const direct = await el.nearest(el.drawing.input);
    return { shown: el.similar, direct: { code: Array.from(direct.code.indices), pixels: Array.from(direct.pixels.indices) } };
  });
  expect(drawn.shown.pixels.indices).toEqual(drawn.direct.pixels);
  expect(drawn.shown.code.indices).toEqual(drawn.direct.code);
  await expect(search.locator('button.similar-drawing')).toHaveAttribute('aria-pressed', 'true');

  await page.screenshot({ path: `${SHOTS}/${testInfo.project.name}-compare-desktop.png`, fullPage: true });
  if (testInfo.project.name === 'cpu') {
    await page.setViewportSize({ width: 390, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: `${SHOTS}/cpu-compare-phone-dark.png`, fullPage: true });
  }
  expect(await messages(page)).toEqual([]);
  expect(problems).toEqual([]);
});

test('on the lab page the comparison waits until its card is on screen, then follows the data and the kind', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the comparison itself runs on both backends in the test above; this is the page’s plumbing');
  const problems = watch(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await page.evaluate(() => document.querySelector('latent-lab').ready);
  // Below the fold: nothing is asked of the engine for it (PCA of every training digit costs
  // seconds), and el.compare() still answers.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  expect(await page.evaluate(() => document.querySelector('latent-lab').comparison)).toBeNull();
  const asked = await page.evaluate(async () => (await document.querySelector('latent-lab').compare()).width);
  expect(asked).toBe(2);

  // A table: 9 values a row, a 4-number code, two classes (normal and anomalous).
  await page.evaluate(() => document.querySelector('latent-lab').switchData('shuttle'));
  const card = page.locator('latent-lab [part="pca"]');
  await card.scrollIntoViewIfNeeded();
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').comparison?.values ?? null), { timeout: 90_000 }).toBe(9);
  const t = await comparison(page);
  expect(t.width).toBe(4);
  expect(t.curve).toHaveLength(9);
  expect(t.examples.rows).toHaveLength(8 * 9);
  expect(t.planes.codeProjected).toBe(true);
  expect(t.knn.map((r) => r.labels)).toEqual([10, 100, 1000]);
  await expect(card.locator('[data-readout="equivalent"]')).toHaveText(`${t.equivalentK} component${t.equivalentK === 1 ? '' : 's'}`);
  await expect(page.locator('latent-lab [part="features"] [role="status"]')).toContainText('among 2 classes');

  // A conditional model's code is given the label: reconstructions only, and the cards say why.
  await page.evaluate(() => document.querySelector('latent-lab').switchData('mnist'));
  await page.evaluate(() => document.querySelector('latent-lab').switchKind('cvae'));
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').comparison?.why ?? null), { timeout: 90_000 }).toContain('given the label');
  const v = await comparison(page);
  expect(v.values).toBe(784);
  expect(v.knn).toEqual([]);
  expect(v.planes.code).toBeNull();
  expect(v.planes.pcaKnn).toBeGreaterThan(0.2);
  await expect(page.locator('latent-lab [part="features"] [role="status"]')).toContainText('given the label');
  await expect(card.locator('figcaption').nth(1)).toHaveText('The code: not shown (given the label)');
  expect(await messages(page)).toEqual([]);
  expect(problems).toEqual([]);
});

/** The element's `angles` as plain arrays. */
const angles = (page) =>
  page.evaluate(() => {
    const a = document.querySelector('latent-lab').angles;
    return a && { ...a, angles: a.angles ? Array.from(a.angles) : null, history: a.history.map((p) => ({ step: p.step, angles: Array.from(p.angles) })) };
  });

/** Clicks the PCA card's linear button and waits until its 4,000 steps are measured. */
async function trainLinear(page) {
  await expect.poll(async () => (await angles(page))?.linear ?? null, { timeout: 90_000 }).toBe(false);
  const button = page.locator('latent-lab [part="pca"] [data-action="linear"]');
  await button.scrollIntoViewIfNeeded();
  await button.click();
  await expect.poll(async () => (await angles(page))?.step ?? null, { timeout: 120_000 }).toBe(4000);
  return angles(page);
}

const largest = (xs) => Math.max(...xs);

test('a linear autoencoder trained in the PCA card: its angles to PCA’s plane fall, and its error meets PCA’s', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the WGSL kernels of a linear model are those of every dense model (tested on both)');
  const problems = watch(page);
  await page.setViewportSize({ width: 900, height: 1100 });
  await page.goto('/www/embed.html#views=pca');
  const a = await trainLinear(page);
  const spec = await page.evaluate(() => JSON.parse(document.querySelector('latent-lab').info.spec));
  expect(spec).toMatchObject({ kind: 'ae', hidden: [], activation: 'identity', output: 'identity', loss: 'mse', latent: 2 });
  // Measured as it trained: from the fresh decoder, far off, to within 3° of PCA's plane.
  const steps = a.history.map((p) => p.step);
  expect(steps[0]).toBe(0);
  expect(steps.length).toBeGreaterThanOrEqual(4);
  expect(steps).toEqual([...steps].sort((x, y) => x - y));
  expect(largest(a.history[0].angles)).toBeGreaterThan(45);
  expect(a.angles).toHaveLength(2);
  expect(a.angles[0]).toBeLessThanOrEqual(a.angles[1]);
  expect(largest(a.angles)).toBeLessThan(3);
  const card = page.locator('latent-lab [part="pca"]');
  await expect(card).toHaveAttribute('data-largest-angle', String(largest(a.angles)));
  await expect(card.locator('[data-readout="angles"]')).toContainText(/At step 4.000 the largest angle/);
  await expect(card.locator('canvas.pca-angles')).toBeVisible();
  // The same plane rebuilds the held-out digits as PCA does (the best a linear code can).
  const c = await page.evaluate(() => document.querySelector('latent-lab').compare());
  expect(c.linear).toBe(true);
  expect(c.modelMse).toBeLessThan(1.02 * c.pcaMse);
  await expect(card.locator('.digits-status').first()).toContainText('This model is linear');
  await card.screenshot({ path: `${SHOTS}/${testInfo.project.name}-compare-linear.png` });
  expect(await messages(page)).toEqual([]);
  expect(problems).toEqual([]);
});

test('a table from its first load: the views size their requests by its rows', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the element’s layout, not the backend');
  const problems = watch(page);
  // The interpolation's ends are table rows (9 values), not digits: no error.
  await page.goto('/www/embed.html#data=shuttle&views=interpolation,pca');
  const c = await comparison(page);
  expect(c.values).toBe(9);
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').shadowRoot.querySelector('[part=interpolation] canvas[data-steps]')?.dataset.steps ?? null), { timeout: 60_000 }).not.toBeNull();
  // The PCA card's linear autoencoder on 9 standardised values: its plane meets PCA's too.
  const a = await trainLinear(page);
  expect(largest(a.history[0].angles)).toBeGreaterThan(30);
  expect(largest(a.angles)).toBeLessThan(3);
  expect(await messages(page)).toEqual([]);
  expect(problems).toEqual([]);
});

test('a wide code on the latent map through UMAP and t-SNE: animated, separating the digits better than PCA, the drawing among its neighbours', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the layouts run on the CPU in the worker whatever the backend, which only encodes (tested elsewhere)');
  const problems = watch(page);
  await page.setViewportSize({ width: 900, height: 1100 });
  await page.goto('/www/embed.html#views=latent-map,pad&kind=sparse');
  const el = (fn, arg) => page.evaluate(fn, arg);
  await expect.poll(() => el(() => Number(document.querySelector('latent-lab').shadowRoot.querySelector('canvas.map')?.dataset.points ?? 0)), { timeout: 60_000 }).toBe(2000);
  const pca = await el(() => document.querySelector('latent-lab').projection);
  expect(pca.method).toBe('pca');

  // Every line the projection's status shows while it runs, from the switch to the end.
  await el(() => {
    const note = document.querySelector('latent-lab').shadowRoot.querySelector('.projection-note');
    window.notes = [];
    new MutationObserver(() => window.notes.push(note.textContent)).observe(note, { childList: true, characterData: true, subtree: true });
    document.querySelector('latent-lab').setProjection('umap');
  });
  await expect.poll(() => el(() => document.querySelector('latent-lab').projection.done), { timeout: 60_000 }).toBe(true);
  const u = await el(() => document.querySelector('latent-lab').projection);
  expect(u.method).toBe('umap');
  expect(u.settings).toEqual({ neighbors: 15, minDist: 0.1, epochs: 200, seed: 1 });
  expect(u.xy).toHaveLength(4000);
  expect(u.xy.every(Number.isFinite)).toBe(true);
  // It was animated: the layout arrived epoch by epoch before the end.
  const epochs = (await el(() => window.notes)).map((t) => /epoch (\d+) of 200/.exec(t)?.[1]).filter(Boolean).map(Number);
  expect(epochs.length).toBeGreaterThan(2);
  expect(epochs.every((e, i) => i === 0 || e > epochs[i - 1])).toBe(true);
  await expect(page.locator('latent-lab .projection-note')).toContainText('UMAP of the 2 000 codes (15 neighbours, min. distance 0.1, 200 epochs, seed 1;');

  // Separation: the accuracy of each point's nearest other point's label, on each layout.
  const { labels } = await el(async () => ({ labels: Array.from((await document.querySelector('latent-lab').testImages(2000)).labels) }));
  const looAccuracy = (xy) => {
    let right = 0;
    for (let i = 0; i < 2000; i++) {
      let best = Infinity;
      let label = -1;
      for (let j = 0; j < 2000; j++) {
        if (j === i) continue;
        const d = (xy[2 * i] - xy[2 * j]) ** 2 + (xy[2 * i + 1] - xy[2 * j + 1]) ** 2;
        if (d < best) [best, label] = [d, labels[j]];
      }
      right += label === labels[i];
    }
    return right / 2000;
  };
  const [byPca, byUmap] = [looAccuracy(pca.xy), looAccuracy(u.xy)];
  expect(byUmap).toBeGreaterThan(byPca + 0.2);

  // The drawing sits at the 1/distance-weighted mean of its 5 nearest codes' places.
  await drawSeven(page);
  await expect.poll(() => el(() => document.querySelector('latent-lab').projection.marker !== null), { timeout: 30_000 }).toBe(true);
  const placed = await el(async () => {
    const lab = document.querySelector('latent-lab');
    const { images } = await lab.testImages(2000);
    const codes = [];
    for (let i = 0; i < 2000; i += 500) codes.push(...(await lab.encode(images.slice(i * 784, (i + 500) * 784))).mu);
    return { codes, z: lab.drawing.mu, marker: lab.projection.marker, xy: lab.projection.xy };
  });
  const latent = placed.z.length;
  const near = placed.codes
    .reduce((acc, _, i) => (i % latent === 0 ? [...acc, i / latent] : acc), [])
    .map((i) => [Math.hypot(...placed.z.map((v, j) => v - placed.codes[i * latent + j])), i])
    .sort((a, b) => a[0] - b[0])
    .slice(0, 5);
  const w = near.reduce((s, [d]) => s + 1 / d, 0);
  const want = [0, 1].map((k) => near.reduce((s, [d, i]) => s + placed.xy[2 * i + k] / d, 0) / w);
  want.forEach((v, k) => expect(Math.abs(v - placed.marker[k])).toBeLessThan(1e-3 * Math.max(1, Math.abs(v))));
  await page.locator('latent-lab [part="latent-map"]').screenshot({ path: `${SHOTS}/cpu-map-umap.png` });

  // t-SNE (the engine's, bhtsne) the same way: animated, and separating the digits too.
  await el(() => {
    window.notes = [];
    document.querySelector('latent-lab').setProjection('tsne');
  });
  await expect.poll(() => el(() => document.querySelector('latent-lab').projection.done), { timeout: 60_000 }).toBe(true);
  const t = await el(() => document.querySelector('latent-lab').projection);
  expect(t.method).toBe('tsne');
  expect(t.settings).toEqual({ perplexity: 30, epochs: 1000, seed: 1 });
  expect(t.xy.every(Number.isFinite)).toBe(true);
  const tsneEpochs = (await el(() => window.notes)).map((x) => /epoch (\d+) of 1000/.exec(x)?.[1]).filter(Boolean).map(Number);
  expect(tsneEpochs.length).toBeGreaterThan(2);
  expect(looAccuracy(t.xy)).toBeGreaterThan(byPca + 0.2);
  await expect(page.locator('latent-lab .projection-note')).toContainText('t-SNE of the 2 000 codes (perplexity 30, Barnes-Hut θ 0.5, 1000 epochs, seed 1;');

  // Back to PCA: the linear layout again.
  await el(() => document.querySelector('latent-lab').setProjection('pca'));
  const back = await el(() => document.querySelector('latent-lab').projection);
  expect(back.method).toBe('pca');
  back.xy.forEach((v, i) => expect(Math.abs(v - pca.xy[i])).toBeLessThan(1e-4));
  expect(problems).toEqual([]);
});
