// A soak: the page trains on the CPU engine for SOAK_SECONDS (30 in `make test`, 600 with
// `make soak`) with every view live — a digit on the pad, the latent map refreshing, the
// sampler animating, the reconstructions following — while the memory is sampled: the
// engine's wasm memory, and the worker's and the page's JavaScript heaps after a garbage
// collection (through the DevTools protocol). It fails if any of them keeps growing.
// The samples go to artifacts/soak.json.
import { test, expect } from './fixtures.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { SEVEN } from './lab-page.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const SAMPLE_MS = Math.max(2000, (SECONDS * 1000) / 30); // ~30 samples a run
const WARM_UP = 0.25; // the first quarter: buffers, caches and histories fill up
// Largest growth accepted after the warm-up, per minute. A leaked checkpoint (2.5 MB every
// 5 s) grows 30 MB a minute; the loss history grows by ~0.1 MB a minute by design.
const MAX_GROWTH_PER_MIN = 2 * 2 ** 20;

/** The DevTools protocol of the engine's worker, through the browser's session. */
async function workerDevTools(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'worker' && t.url.includes('engine-worker'));
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  let next = 1;
  const waiting = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    waiting.get(m.id)?.(m.result);
    waiting.delete(m.id);
  });
  return (method, params = {}) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    });
}

/** Least-squares slope of `ys` against `xs`. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}

test('a long training run with every view live keeps the memory flat', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the soak runs on the CPU engine');
  test.setTimeout((SECONDS + 120) * 1000);
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/');
  await page.evaluate(() => document.querySelector('latent-lab').ready);
  const worker = await workerDevTools(browser);
  const pageDevTools = await page.context().newCDPSession(page);

  // Every view live: a digit on the pad, the decoded grid on the map, training running.
  const pad = page.locator('latent-lab [part="pad"] canvas.pad-canvas');
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + SEVEN[0][0] * box.width, box.y + SEVEN[0][1] * box.height);
  await page.mouse.down();
  for (const [x, y] of SEVEN.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 6 });
  await page.mouse.up();
  await page.locator('latent-lab [part="latent-map"]').getByLabel('show decoded grid').check();
  await page.evaluate(() => document.querySelector('latent-lab').start());

  const samples = [];
  const t0 = Date.now();
  while (Date.now() - t0 < SECONDS * 1000) {
    // The sampling interval of the measurement itself, not a wait for a condition.
    await page.waitForTimeout(SAMPLE_MS);
    await worker('HeapProfiler.collectGarbage');
    await pageDevTools.send('HeapProfiler.collectGarbage');
    const [{ usedSize: workerHeap }, { usedSize: pageHeap }, state] = await Promise.all([
      worker('Runtime.getHeapUsage'),
      pageDevTools.send('Runtime.getHeapUsage'),
      page.evaluate(async () => {
        const el = document.querySelector('latent-lab');
        return { step: el.metrics.step, training: el.info.training, ...(await el.memory()) };
      }),
    ]);
    samples.push({ s: (Date.now() - t0) / 1000, step: state.step, training: state.training, wasm: state.wasmBytes, workerHeap, pageHeap });
  }
  await page.evaluate(() => document.querySelector('latent-lab').stop());

  const kept = samples.filter((x) => x.s >= WARM_UP * SECONDS);
  const growth = {};
  for (const key of ['wasm', 'workerHeap', 'pageHeap']) {
    growth[key] = slope(kept.map((x) => x.s / 60), kept.map((x) => x[key]));
  }
  const first = samples[0];
  const last = samples.at(-1);
  const summary = {
    seconds: SECONDS,
    steps: last.step - first.step,
    samples: samples.length,
    growthPerMinute: growth,
    first,
    last,
  };
  mkdirSync('artifacts', { recursive: true });
  writeFileSync('artifacts/soak.json', JSON.stringify({ summary, samples }, null, 1));
  const mb = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  testInfo.annotations.push({
    type: 'soak',
    description: `${SECONDS} s, ${summary.steps} steps; wasm ${mb(first.wasm)} → ${mb(last.wasm)}, worker heap ${mb(first.workerHeap)} → ${mb(last.workerHeap)}, page heap ${mb(first.pageHeap)} → ${mb(last.pageHeap)}; growth per minute after warm-up: ${Object.entries(growth).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}`,
  });
  expect(samples.every((x) => x.training)).toBe(true);
  expect(summary.steps).toBeGreaterThan(SECONDS); // it trained throughout (≥ 1 step/s)
  for (const [key, perMinute] of Object.entries(growth)) {
    expect(perMinute, `${key} grows ${mb(perMinute)} a minute`).toBeLessThan(MAX_GROWTH_PER_MIN);
  }
  expect(problems).toEqual([]);
});
