// The data sets in the page: the switcher (digits, clothes, a table, two series, a CSV of
// your own), the views drawing each shape's rows, the views that do not fit stepping aside
// with their reason, bad CSVs refused with the line and column while the model stays, and
// the `data` attribute. Both backends.
import { test, expect } from './fixtures.mjs';
import { mkdirSync } from 'node:fs';
import { useLabPage } from './lab-page.mjs';
import { DATASETS } from '../../www/util/datasets.js';

const SHOTS = 'artifacts/screenshots';
test.describe.configure({ mode: 'serial' });
const lab = useLabPage(test);
const { part, run, info, spec } = lab;

const rowSize = (s) => (s.type === 'image' ? s.channels * s.height * s.width : s.type === 'vector' ? s.features : s.channels * s.length);

/** Chooses data set `name` in the training card and waits for the model on it. */
async function chooseData(name) {
  const select = part('training').getByLabel('Data set');
  await select.selectOption(name);
  await expect.poll(async () => (await info()).data, { timeout: 90_000 }).toBe(name);
  await expect(select).toBeEnabled();
}

/** Ink in the first reconstruction's cell of the card: pixels that differ from its paper. */
function inkInFirstReconstruction() {
  return run(() => {
    const canvas = document.querySelector('latent-lab').shadowRoot.querySelector('[part="test-reconstructions"] canvas');
    const [x, y, w, h] = JSON.parse(canvas.dataset.firstReconstruction);
    const k = canvas.width / canvas.getBoundingClientRect().width;
    const data = canvas.getContext('2d').getImageData(Math.round((x + 2) * k), Math.round((y + 2) * k), Math.round((w - 4) * k), Math.round((h - 4) * k)).data;
    const [r, g, b] = data;
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) > 30) ink++;
    return { ink, of: data.length / 4, state: canvas.dataset.state };
  });
}

/** Mean squared error per value of the current model on the first `n` held-out rows. */
function heldOutMse(n = 300) {
  return run(async (n) => {
    const el = document.querySelector('latent-lab');
    const { images, labels } = await el.testImages(n);
    const out = await el.reconstruct(images, labels);
    let s = 0;
    for (let i = 0; i < images.length; i++) s += (out[i] - images[i]) ** 2;
    return s / images.length;
  }, n);
}

/** Trains `steps` steps: the held-out error before and after. */
async function trainAndMeasure(steps) {
  const before = await heldOutMse();
  await run((steps) => document.querySelector('latent-lab').train({ steps }), steps);
  return { before, after: await heldOutMse() };
}

test('each data set: its shape, kinds that fit, views that draw its rows, training that lowers the loss', async ({}, testInfo) => {
  test.setTimeout(240_000);
  mkdirSync(SHOTS, { recursive: true });
  const select = part('training').getByLabel('Model kind');
  for (const name of ['shuttle', 'bleeding', 'fashion']) {
    await chooseData(name);
    const i = await info();
    // The page's table says what the engine reads from the file.
    expect(i.shape).toEqual(DATASETS[name].shape);
    expect(i.trainSize).toBeGreaterThan(0);
    await expect(part('training').locator('.data-sentence')).toHaveText(DATASETS[name].caption);
    // The kinds offered fit the rows: 2-D convolutions on images, 1-D on series.
    const offered = await select.locator('option:not([hidden])').evaluateAll((os) => os.map((o) => o.value));
    expect(offered.includes('conv_ae'), `${name}: conv_ae`).toBe(i.shape.type === 'image');
    expect(offered.includes('conv1d_ae'), `${name}: conv1d_ae`).toBe(i.shape.type === 'series');
    expect(offered).toContain('ae');
    // The pad draws 28 × 28 images: for other rows it steps aside, and one line says why.
    const note = lab.page.locator('latent-lab [part="data-note"]');
    if (i.shape.type === 'image') {
      await expect(note).toBeHidden();
      await expect(part('pad')).toBeVisible();
    } else {
      await expect(note).toContainText('the drawing pad draws 28 × 28 images');
      await expect(part('pad')).toBeHidden();
    }
    // Held-out rows of the data's width, and their reconstructions drawn by its renderer.
    const rows = await run(async () => {
      const el = document.querySelector('latent-lab');
      const { images, labels } = await el.testImages(4);
      const out = await el.reconstruct(images, labels);
      return { values: images.length, labels: labels.length, out: out.length };
    });
    expect(rows).toEqual({ values: 4 * rowSize(i.shape), labels: 4, out: 4 * rowSize(i.shape) });
    await expect.poll(async () => (await inkInFirstReconstruction()).state, { timeout: 30_000 }).toBe('reconstructed');
    const drawn = await inkInFirstReconstruction();
    expect(drawn.ink, `${name}: ink in the first reconstruction`).toBeGreaterThan(0.01 * drawn.of);
    // Training on it rebuilds held-out rows better (a table's batches are too uneven, with
    // its outliers, for the training loss of a few steps to say so).
    // (A table's model is tiny, and its outliers slow it: more steps, at little cost.)
    const steps = i.shape.type === 'vector' ? 300 : 100;
    const mse = await trainAndMeasure(steps);
    testInfo.annotations.push({ type: name, description: `${JSON.stringify(i.shape)}; ${(await spec()).kind}; held-out MSE per value ${mse.before.toFixed(4)} → ${mse.after.toFixed(4)} in ${steps} steps` });
    expect(mse.after, `${name}: held-out MSE`).toBeLessThan(0.9 * mse.before);
    if (name !== 'fashion') {
      for (const [device, viewport, scheme] of [
        ['desktop', { width: 1280, height: 900 }, 'light'],
        ['phone', { width: 375, height: 800 }, 'dark'],
      ]) {
        await lab.page.setViewportSize(viewport);
        await lab.page.emulateMedia({ colorScheme: scheme });
        await lab.frames();
        await lab.page.screenshot({ path: `${SHOTS}/${testInfo.project.name}-data-${name}-${device}-${scheme}.png`, fullPage: true });
        const overflow = await run(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${name} ${device}: horizontal overflow`).toBeLessThanOrEqual(0);
      }
      await lab.page.setViewportSize({ width: 1280, height: 900 });
      await lab.page.emulateMedia({ colorScheme: 'light' });
    }
  }
  // A series keeps a dense kind it can take; the 1-D convolutional AE trains on it too.
  await chooseData('ecg');
  await lab.switchTo('conv1d_ae');
  expect((await info()).shape).toEqual(DATASETS.ecg.shape);
  // A kind that cannot take the rows is refused with the reason, and the model stays.
  const refused = await run(() => document.querySelector('latent-lab').switchKind('conv_ae').then(() => null, (e) => e.message));
  expect(refused).toMatch(/conv_ae cannot train on ECG/);
  expect((await spec()).kind).toBe('conv1d_ae');
  // Back on the digits: the kind's pretrained model, and the pad.
  await chooseData('mnist');
  await expect.poll(async () => (await info()).pretrained).toBe('vae-2d.safetensors');
  await expect(part('pad')).toBeVisible();
  await expect(lab.page.locator('latent-lab [part="data-note"]')).toBeHidden();
  expect(lab.problems).toEqual([]);
});

test('your CSV: a bad one names the line and the column and changes nothing; a good one trains, with its label column', async () => {
  const picker = part('training').locator('input[type="file"][accept^=".csv"]');
  const status = part('training').locator('.data-switcher .field-error');
  const before = await info();
  for (const [text, want] of [
    ['a,b\n1,2\n3,x\n', /line 3, column `b`: `x` is not a finite number/],
    ['a,b\n1,2\n3\n', /line 3/],
    ['a,b\n', /no rows|empty|at least two/],
    [`${Array.from({ length: 4097 }, (_, k) => `c${k}`).join(',')}\n${'1,'.repeat(4096)}1\n`, /4,097 columns, more than the 4,096 a table may have/],
  ]) {
    await picker.setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
    await expect(status).toContainText(want);
    const now = await info();
    expect([now.data, now.spec, now.step]).toEqual([before.data, before.spec, before.step]);
  }
  // A good table, its label column guessed from its name.
  const lines = ['speed,load,heat,label'];
  for (let r = 0; r < 400; r++) lines.push(`${Math.sin(r / 7).toFixed(4)},${(Math.cos(r / 5) * 3).toFixed(4)},${((r % 11) / 11).toFixed(4)},${r % 40 === 0 ? 1 : 0}`);
  await picker.setInputFiles({ name: 'plant.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
  await expect.poll(async () => (await info()).shape).toEqual({ type: 'vector', features: 3 });
  await expect(status).toBeEmpty();
  const label = part('training').getByLabel('Label column');
  await expect(label).toHaveValue('label');
  await expect(part('training').locator('.data-sentence')).toContainText('plant.csv: 3 numeric columns, labels from the column “label”');
  const first = (await info()).data;
  expect(first).toMatch(/^csv-\d+$/);
  const mse = await trainAndMeasure(200);
  expect(mse.after).toBeLessThan(0.9 * mse.before);
  // No label column: four features now; the old table is forgotten by the engine.
  await label.selectOption('');
  await expect.poll(async () => (await info()).shape).toEqual({ type: 'vector', features: 4 });
  const memory = await run(() => document.querySelector('latent-lab').memory());
  expect(memory.data).not.toContain(first);
  expect(memory.data).toContain((await info()).data);
  // A conditional model needs labels, which this table no longer has.
  const refused = await run(() => document.querySelector('latent-lab').switchKind('cvae').then(() => null, (e) => e.message));
  expect(refused).toMatch(/cvae cannot train on plant\.csv/);
  expect(lab.problems).toEqual([]);
});

test('the data attribute: a widget of a series with its 1-D convolutional AE; a bad value is named', async ({ browser }) => {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto('/www/embed.html#data=bleeding&kind=conv1d_ae&views=training,test-reconstructions,pad');
  const i = await page.evaluate(() => document.querySelector('latent-lab').ready);
  expect(i.data).toBe('bleeding');
  expect(JSON.parse(i.spec).kind).toBe('conv1d_ae');
  expect(i.shape).toEqual(DATASETS.bleeding.shape);
  // The pad was asked for, and cannot show this data: the note says so.
  await expect(page.locator('latent-lab [part="data-note"]')).toContainText('drawing pad');
  await expect(page.locator('latent-lab [part="pad"]')).toBeHidden();
  // Changing the attribute moves the widget to that data.
  await page.evaluate(() => document.querySelector('latent-lab').setAttribute('data', 'shuttle'));
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').info.data), { timeout: 60_000 }).toBe('shuttle');
  expect(JSON.parse(await page.evaluate(() => document.querySelector('latent-lab').info.spec)).kind).toBe('ae');
  // A value it cannot use is named, and the default (the digits) is used instead.
  await page.goto('/www/embed.html#data=weather&kind=conv_ae');
  await expect(page.locator('latent-lab [part="messages"]')).toContainText('data="weather" is not allowed: the data sets are mnist, fashion, shuttle, bleeding, ecg');
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').info.data), { timeout: 60_000 }).toBe('mnist');
  await expect.poll(() => page.evaluate(() => JSON.parse(document.querySelector('latent-lab').info.spec).kind)).toBe('conv_ae');
  expect(problems).toEqual([]);
  await page.close();
});
