// Training speed of a VAE inside headless Chromium, through the page's own engine (the
// module Worker and the wasm Lab): on WebGPU (SwiftShader here) and on the CPU fallback.
//
// usage: node scripts/bench-browser.mjs [--backend webgpu|cpu] [--steps N] [--profile]
//                                      [--spec '{"hidden":[400],"latent":20,"batch_size":128}']
//                                      [--views training|all|LIST]
// Prints one JSON line per backend: {backend, adapter, spec, views, steps, steps_per_s,
// samples_per_s}.
// --views: the widget's `views` while it trains. `training` (the default) shows the training
// card alone, so the figure is training and nothing else, as the peers' training loops are
// (../shared/bench/); `all` keeps every view live, as in the page, where the latent map, the
// sampler and the interpolation strip run the model on the same engine between the steps.
// --profile: then times each op of up to 50 more steps (the element's `profile`: WebGPU's
// kernels by timestamp queries, Chromium started with --enable-webgpu-developer-features so
// they are not rounded to 100 µs) and prints a table after the line: op, ms/step, share.
// Serves the repository on a free loopback port for the duration of the run. Needs
// `make data wasm` first. Steady state: a warm-up of a few steps is not timed.
import { chromium } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { QUIET_ARGS, serveStatic } from './serve-static.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const backends = opt('backend', 'webgpu,cpu').split(',');
const steps = Number(opt('steps', '60'));
const profile = args.includes('--profile');
const spec = opt('spec', '{"kind":"vae","hidden":[400],"latent":20,"batch_size":128}');
const views = opt('views', 'training');
if (!/^[a-z, -]+$/.test(views)) throw new Error(`--views: ${views} is not a list of view names`);
for (const b of backends) {
  if (!['webgpu', 'cpu'].includes(b)) throw new Error(`--backend: ${b} is not webgpu or cpu`);
}
if (!(steps > 0)) throw new Error('--steps must be a positive number');

const { base, close: stopServer } = await serveStatic(root);
const quiet = QUIET_ARGS;
try {
  for (const backend of backends) {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: backend === 'webgpu'
        ? [...quiet, '--enable-unsafe-webgpu', ...(profile ? ['--enable-webgpu-developer-features'] : [])]
        : quiet,
    });
    const page = await browser.newPage();
    await page.route(`${base}/bench.html`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><script type="module" src="/www/latent-lab.js"></script>
             <latent-lab backend="${backend}" spec='${spec}'${views === 'all' ? '' : ` views="${views}"`}></latent-lab>`,
    }));
    await page.goto(`${base}/bench.html`);
    const result = await page.evaluate(async ({ steps, profile }) => {
      const el = document.querySelector('latent-lab');
      const info = await el.ready;
      await el.train({ steps: 5 }); // warm-up: pipelines compiled, buffers resident
      const t0 = performance.now();
      await el.train({ steps });
      const seconds = (performance.now() - t0) / 1000;
      const times = profile ? await el.profile({ steps: Math.min(steps, 50) }) : null;
      return { backend: el.backend, adapter: info.adapter, seconds, times };
    }, { steps, profile });
    const batch = JSON.parse(spec).batch_size ?? 128;
    console.log(JSON.stringify({
      backend: result.backend,
      adapter: result.adapter,
      spec: JSON.parse(spec),
      views,
      steps,
      steps_per_s: +(steps / result.seconds).toFixed(2),
      samples_per_s: Math.round((steps * batch) / result.seconds),
    }));
    if (result.times) {
      const { ops, totalMs, timer } = result.times;
      console.log(`${'op'.padEnd(28)} ${'ms/step'.padStart(10)} ${'share'.padStart(7)}   (${timer})`);
      for (const { op, ms } of ops) {
        console.log(`${op.padEnd(28)} ${ms.toFixed(3).padStart(10)} ${(100 * ms / totalMs).toFixed(1).padStart(6)}%`);
      }
      console.log(`${'total'.padEnd(28)} ${totalMs.toFixed(3).padStart(10)}`);
    }
    await browser.close();
  }
} finally {
  stopServer();
}
