// The <latent-lab> page end to end, in both projects: `webgpu` (SwiftShader) and `cpu` (no
// adapter, so the CPU fallback). One page per project serves the serial tests below: the
// engine starts once (on SwiftShader that alone takes several seconds).
//
// Speed: SwiftShader runs the default VAE 784-400-2 (batch 128) at about 1 step/s on this
// 2-core machine, so the webgpu project trains a smaller model (hidden [64], batch 32) in the
// tests that need many steps; the cpu project trains the default model.
//
// Screenshots go to artifacts/screenshots/<project>-<name>.png.
import { test, expect, unforced } from './fixtures.mjs';
import { mkdirSync } from 'node:fs';

const SHOTS = 'artifacts/screenshots';
mkdirSync(SHOTS, { recursive: true });

const FAST_SPEC = { hidden: [64], batch_size: 32 };
const PARTS = ['backend', 'training', 'loss-plot', 'test-reconstructions'];

test.describe.configure({ mode: 'serial' });

let page;
let problems; // console errors and uncaught exceptions

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
});

test.afterAll(async () => {
  await page?.close();
});

const lab = () => page.locator('latent-lab');
const part = (name) => page.locator(`latent-lab [part="${name}"]`);

/** Reconstructs the first `n` test digits with the current model. */
async function reconstructTest(n = 4) {
  return page.evaluate(async (n) => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(n);
    return Array.from(await el.reconstruct(images));
  }, n);
}

function maxAbsDiff(a, b) {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

test('the page loads without errors and names its backend', async ({}, testInfo) => {
  await page.goto('/');
  await expect(page).toHaveTitle('Latent Lab');
  const info = await page.evaluate(() => document.querySelector('latent-lab').ready);
  testInfo.annotations.push({ type: 'engine', description: `${info.backend}: ${info.adapter}` });
  const badge = part('backend');
  if (testInfo.project.name === 'webgpu') {
    expect(info.backend).toBe('webgpu');
    await expect(badge).toContainText('WebGPU');
  } else {
    expect(info.backend).toBe('cpu');
    await expect(badge).toContainText('CPU');
    await expect(badge).toContainText(/WebGPU/); // says why WebGPU is not used
  }
  expect(await page.evaluate(() => document.querySelector('latent-lab').backend)).toBe(info.backend);
  expect(JSON.parse(info.spec)).toMatchObject({ kind: 'vae', hidden: [400], latent: 2, batch_size: 128 });
  for (const name of PARTS) await expect(part(name)).toBeVisible();
  expect(problems).toEqual([]);
});

test('training a fresh model 100 steps lowers the loss and fills the reconstruction card', async ({}, testInfo) => {
  // A fresh model (the page starts from the pretrained one, whose loss has little left to fall).
  const spec = testInfo.project.name === 'webgpu' ? FAST_SPEC : {};
  await page.evaluate((spec) => document.querySelector('latent-lab').reset(spec), spec);
  const run = await page.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    const t0 = performance.now();
    const result = await el.train({ steps: 100 });
    return { result, ms: performance.now() - t0, metrics: el.metrics };
  });
  const { history } = run.metrics;
  testInfo.annotations.push({
    type: 'speed',
    description: `${(100 / (run.ms / 1000)).toFixed(1)} steps/s over 100 steps (${JSON.stringify(await page.evaluate(() => document.querySelector('latent-lab').info.spec))})`,
  });
  expect(run.result.step).toBe(100);
  expect(history.length).toBeGreaterThan(1);
  expect(history[history.length - 1].step).toBe(100);
  const first = history[0].recon;
  const last = history[history.length - 1].recon;
  expect(last).toBeLessThan(0.75 * first); // ~550 nats per image at the start
  for (const m of history) {
    expect(Number.isFinite(m.recon) && Number.isFinite(m.kl)).toBe(true);
  }
  await expect(part('training').locator('[data-readout="step"]')).toHaveText('100');

  // The card's reconstructions are drawn and not blank.
  const canvas = part('test-reconstructions').locator('canvas');
  await expect(canvas).toHaveAttribute('data-state', 'reconstructed');
  const spread = await canvas.evaluate((c) => {
    const [x, y, w, h] = JSON.parse(c.dataset.firstReconstruction);
    const s = c.width / c.getBoundingClientRect().width;
    const px = c.getContext('2d').getImageData(Math.round(x * s), Math.round(y * s), Math.round(w * s), Math.round(h * s)).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < px.length; i += 4) {
      const v = (px[i] + px[i + 1] + px[i + 2]) / 3;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return hi - lo;
  });
  expect(spread).toBeGreaterThan(60);
  expect(problems).toEqual([]);
});

test('profile times each op of the step, and its steps count as trained', async ({}, testInfo) => {
  const run = await page.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    const before = el.metrics.history.at(-1).step;
    const times = await el.profile({ steps: 3 });
    return { before, times, last: el.metrics.history.at(-1).step };
  });
  const { ops, totalMs, steps, timer } = run.times;
  const webgpu = testInfo.project.name === 'webgpu';
  // WebGPU: the GPU's own timestamps (SwiftShader has 'timestamp-query').
  expect(timer).toBe(webgpu ? 'timestamp-query' : 'performance.now');
  expect(steps).toBe(3);
  const names = ops.map((o) => o.op);
  for (const op of ['LinearForward', 'LinearBackward', 'ReconstructionLoss', 'AdamUpdate', 'FinishStep']) {
    expect(names).toContain(op);
  }
  if (webgpu) expect(names).toContain('(between)');
  expect(ops.every((o) => o.ms >= 0)).toBe(true);
  // The ops most first ('(between)' comes last), and the total is the sum of the rows.
  const kernels = ops.filter((o) => o.op !== '(between)').map((o) => o.ms);
  expect(kernels).toEqual([...kernels].sort((a, b) => b - a));
  expect(Math.abs(ops.reduce((t, o) => t + o.ms, 0) - totalMs)).toBeLessThan(1e-6 * totalMs + 1e-9);
  expect(ops[0].ms).toBeGreaterThan(0);
  expect(run.times.step).toBe(run.before + 3);
  expect(run.last).toBe(run.before + 3);
  expect(problems).toEqual([]);
});

test('saving and loading the weights gives identical reconstructions', async () => {
  const before = await reconstructTest();
  // The file stays in the page (window.savedWeights); Node gets a base64 copy, which crosses
  // the protocol far faster than an array of numbers.
  const base64 = await page.evaluate(async () => {
    const saved = await document.querySelector('latent-lab').saveWeights();
    window.savedWeights = saved;
    let s = '';
    for (let i = 0; i < saved.length; i += 0x8000) s += String.fromCharCode(...saved.subarray(i, i + 0x8000));
    return btoa(s);
  });
  const bytes = Buffer.from(base64, 'base64');
  const header = bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8');
  expect(header).toContain('"format":"latent-lab"');
  // Change the model, then load the file back.
  await page.evaluate(() => document.querySelector('latent-lab').reset({ latent: 3 }));
  const other = await reconstructTest();
  expect(maxAbsDiff(before, other)).toBeGreaterThan(1e-3);
  await page.evaluate(() => document.querySelector('latent-lab').loadWeights(window.savedWeights));
  expect(maxAbsDiff(before, await reconstructTest())).toBeLessThan(1e-6);
  // The same file through the page's file picker.
  await part('training').locator('input[type="file"][accept^=".safetensors"]').setInputFiles({
    name: 'model.safetensors',
    mimeType: 'application/octet-stream',
    buffer: bytes,
  });
  await expect(page.locator('latent-lab [part="messages"] .message.info')).toContainText('Loaded model.safetensors');
  expect(maxAbsDiff(before, await reconstructTest())).toBeLessThan(1e-6);
  expect(problems).toEqual([]);
});

test('a bad weights file shows an error and keeps the model', async () => {
  const before = await reconstructTest();
  const step = await page.evaluate(() => document.querySelector('latent-lab').metrics.step);
  // Dropped onto the element, as a person would.
  await page.evaluate(() => {
    const el = document.querySelector('latent-lab');
    const garbage = new Uint8Array(1000).map((_, i) => (i * 7919) % 251);
    const dt = new DataTransfer();
    dt.items.add(new File([garbage], 'garbage.safetensors'));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const message = page.locator('latent-lab [part="messages"] .message.error');
  await expect(message).toContainText('Could not load garbage.safetensors');
  await expect(message).toContainText('unchanged');
  expect(maxAbsDiff(before, await reconstructTest())).toBe(0);
  expect(await page.evaluate(() => document.querySelector('latent-lab').metrics.step)).toBe(step);
  // The API rejects with the engine's message.
  const error = await page.evaluate(() =>
    document.querySelector('latent-lab').loadWeights(new Uint8Array([1, 2, 3])).then(() => null, (e) => e.message),
  );
  expect(error).toMatch(/safetensors/);
  // Messages can be dismissed.
  await message.first().getByRole('button', { name: 'Dismiss message' }).click();
  await expect(message).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('invalid settings give an inline message and change nothing', async () => {
  const spec = await page.evaluate(() => document.querySelector('latent-lab').info.spec);
  const hidden = part('training').getByLabel('Hidden layers');
  await hidden.fill('512,abc');
  await expect(part('training').locator('.field-hidden .field-error')).toContainText('not a whole number');
  await part('training').getByRole('button', { name: 'Reset' }).click();
  await expect(hidden).toBeFocused();
  await part('training').getByLabel('Latent size').fill('999');
  await expect(part('training').locator('.field-latent .field-error')).toContainText('2 to 256');
  expect(await page.evaluate(() => document.querySelector('latent-lab').info.spec)).toBe(spec);
  await expect(part('training').locator('.form-hint')).toContainText('Settings changed');
  // Putting the model's values back clears the messages.
  const { hidden: widths, latent } = JSON.parse(spec);
  await hidden.fill(widths.join(','));
  await part('training').getByLabel('Latent size').fill(String(latent));
  await expect(part('training').locator('.field-error:not(:empty)')).toHaveCount(0);
  await expect(part('training').locator('.form-hint')).not.toContainText('Settings changed');
  expect(problems).toEqual([]);
});

test('the page stays responsive while training', async ({}, testInfo) => {
  const toggle = part('training').getByRole('button', { name: 'Start' });
  // Wait for the first progress event of a run started with the Start button.
  const firstProgress = page.evaluate(
    () => new Promise((resolve) => document.querySelector('latent-lab').addEventListener('progress', (e) => resolve(e.detail), { once: true })),
  );
  await toggle.click();
  await firstProgress;
  await expect(part('training').getByRole('button', { name: 'Pause' })).toBeVisible();

  // A trivial evaluation and an animation frame on the page, while the worker trains.
  const t0 = Date.now();
  const frame = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const t = performance.now();
        requestAnimationFrame(() => resolve(performance.now() - t));
      }),
  );
  const roundTrip = Date.now() - t0;
  // An inference request interleaves with training instead of waiting for it to end.
  const inference = await page.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    const t = performance.now();
    await el.sample(4, 7);
    return { ms: performance.now() - t, training: el.info.training };
  });
  testInfo.annotations.push({
    type: 'responsiveness',
    description: `evaluate round trip ${roundTrip} ms, frame ${frame.toFixed(0)} ms, sample() ${inference.ms.toFixed(0)} ms while training`,
  });
  expect(roundTrip).toBeLessThan(1000);
  expect(frame).toBeLessThan(1000);
  expect(inference.training).toBe(true);
  expect(inference.ms).toBeLessThan(10_000);

  await part('training').getByRole('button', { name: 'Pause' }).click();
  await expect(part('training').getByRole('button', { name: 'Start' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('screenshots: desktop and phone, light and dark', async ({}, testInfo) => {
  const project = testInfo.project.name;
  // A model with some training behind it, so the plot and reconstructions have content.
  await page.evaluate(() => document.querySelector('latent-lab').train({ steps: 20 }));
  for (const [device, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 375, height: 800 }],
  ]) {
    await page.setViewportSize(viewport);
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      // Let the views redraw (they do on resize and on a colour-scheme change).
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const name = `${project}-${device}-${scheme}`;
      await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
      for (const p of PARTS) await part(p).screenshot({ path: `${SHOTS}/${name}-${p}.png` });
      // Nothing overflows the viewport sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name}: horizontal overflow`).toBeLessThanOrEqual(0);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(problems).toEqual([]);
});

test('a diverging run stops with advice and keeps usable weights', async () => {
  const errors = [];
  await page.exposeFunction('recordLabError', (m) => errors.push(m));
  const result = await page.evaluate(async (spec) => {
    const el = document.querySelector('latent-lab');
    el.addEventListener('error', (e) => window.recordLabError(e.detail.message));
    await el.reset(spec); // learning rate 1: the loss explodes within a few steps
    return el.train({ steps: 50 });
  }, { ...FAST_SPEC, optimizer: { lr: 1 } });
  expect(result.reason).toBe('diverged');
  await expect(page.locator('latent-lab [part="messages"] .message.error')).toContainText('lower the learning rate', {
    ignoreCase: true,
  });
  expect(errors.some((m) => /diverged/.test(m))).toBe(true);
  // The weights were rolled back to the last good checkpoint: reconstructions are finite.
  expect((await reconstructTest(2)).every(Number.isFinite)).toBe(true);
  await part('training').getByLabel('Learning rate').fill('0.001');
  await part('training').getByRole('button', { name: 'Reset' }).click();
  await expect(part('training').locator('.form-hint')).not.toContainText('Settings changed');
  await page.locator('latent-lab [part="messages"] .message .close').first().click();
  expect(problems).toEqual([]);
});

test('backend="cpu" runs the CPU engine even where WebGPU exists', async () => {
  const info = await page.evaluate(async () => {
    const el = document.createElement('latent-lab');
    el.setAttribute('backend', 'cpu');
    el.id = 'second';
    document.querySelector('main').append(el);
    el.scrollIntoView(); // a widget starts when it comes near the viewport
    try {
      return await el.ready;
    } finally {
      el.remove(); // closes its model in the page's engine
    }
  });
  expect(info.backend).toBe('cpu');
  expect(info.adapter).toContain('asked for');
  expect(problems).toEqual([]);
});

test('backend="auto" passes over a software WebGPU adapter for the CPU engine, and the badge offers it', async ({ browser }, testInfo) => {
  // A context where the reader has chosen nothing (the fixtures choose WebGPU elsewhere).
  const context = await unforced(browser);
  const fresh = await context.newPage();
  const seen = [];
  fresh.on('pageerror', (e) => seen.push(e.message));
  await fresh.goto('/');
  const info = await fresh.evaluate(() => document.querySelector('latent-lab').ready);
  const badge = fresh.locator('latent-lab [part="backend"]');
  const button = badge.getByRole('button');
  expect(info.backend).toBe('cpu');
  if (testInfo.project.name === 'cpu') {
    // No adapter at all: the CPU engine, saying why, and nothing to switch to.
    expect(info.softwareAdapter).toBe(false);
    expect(info.adapter).toContain('no WebGPU adapter');
    await expect(button).toHaveCount(0);
  } else {
    expect(info.softwareAdapter).toBe(true);
    expect(info.adapter).toMatch(/faster here than WebGPU on a software renderer \(.*swiftshader.*\)/i);
    await expect(badge).toContainText('CPU');
    // The reader's choice moves the model to WebGPU and is remembered for the site.
    await button.filter({ hasText: 'Use WebGPU' }).click();
    await expect.poll(() => fresh.evaluate(() => document.querySelector('latent-lab').backend), { timeout: 60_000 }).toBe('webgpu');
    await expect(badge).toContainText('WebGPU');
    await expect(badge.getByRole('button', { name: 'Use the CPU' })).toBeVisible();
    expect(await fresh.evaluate(() => localStorage.getItem('latent-lab:backend'))).toBe('webgpu');
  }
  expect(seen).toEqual([]);
  await context.close();
});

test('a lost WebGPU device falls back to the CPU and keeps the weights', async ({}, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs a WebGPU device to lose');
  // Settle: a finished run checkpoints the weights.
  await page.evaluate(() => document.querySelector('latent-lab').stop());
  const before = await reconstructTest();
  await page.evaluate(() => document.querySelector('latent-lab').simulateDeviceLoss());
  // The next GPU call notices; an inference call is retried on the CPU.
  const after = await reconstructTest();
  expect(maxAbsDiff(before, after)).toBeLessThan(1e-3);
  await expect(part('backend')).toContainText('CPU');
  await expect(part('backend')).toContainText('lost');
  expect(await page.evaluate(() => document.querySelector('latent-lab').backend)).toBe('cpu');
  // Training goes on, on the CPU.
  const result = await page.evaluate(() => document.querySelector('latent-lab').train({ steps: 5 }));
  expect(result.reason).toBe('done');
});
