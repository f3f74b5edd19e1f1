// What a learner feels, in headless Chromium through the page's own element, per backend:
//   reset_to_mse_s   training seconds from a fresh model (the page's default VAE) until its
//                    held-out reconstructions reach MSE 0.05 per pixel (256 test digits,
//                    checked every `--chunk` steps; the checks are not counted)
//   epoch_s          seconds per epoch of the bundled digits, at the steady training speed
//   sampler_fps      frames per second the sampler card draws while the model trains
//
// usage: node scripts/bench-learner.mjs [--backend webgpu,cpu] [--chunk 25] [--limit 300]
// Prints one JSON line per backend. Needs `make data wasm` first.
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
const chunk = Number(opt('chunk', '25'));
const limit = Number(opt('limit', '300')); // seconds of training before giving up
const TARGET = 0.05;

const { base, close: stopServer } = await serveStatic(root);
try {
  for (const backend of backends) {
    if (!['webgpu', 'cpu'].includes(backend)) throw new Error(`--backend: ${backend} is not webgpu or cpu`);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: backend === 'webgpu' ? [...QUIET_ARGS, '--enable-unsafe-webgpu'] : QUIET_ARGS,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 2400 } });
    await page.route(`${base}/learner.html`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><script type="module" src="/www/latent-lab.js"></script>
             <latent-lab backend="${backend}" spec="{}" views="training,sampler"></latent-lab>`,
    }));
    await page.goto(`${base}/learner.html`);
    const result = await page.evaluate(async ({ chunk, limit, target }) => {
      const el = document.querySelector('latent-lab');
      const info = await el.ready;
      const spec = JSON.parse(info.spec);
      const { images } = await el.testImages(256);
      const mse = async () => {
        const out = await el.reconstruct(images);
        let s = 0;
        for (let i = 0; i < out.length; i++) s += (out[i] - images[i]) ** 2;
        return s / out.length;
      };
      let trained = 0;
      let seconds = 0;
      let reached = null;
      let error = await mse();
      while (seconds < limit) {
        const t0 = performance.now();
        await el.train({ steps: chunk });
        seconds += (performance.now() - t0) / 1000;
        trained += chunk;
        error = await mse();
        if (error <= target) {
          reached = seconds;
          break;
        }
      }
      // The sampler while training: frames drawn over a few seconds of a long run.
      const canvas = el.shadowRoot.querySelector('canvas.sampler');
      const run = el.train({ steps: 100000 });
      await new Promise((r) => setTimeout(r, 1000));
      const f0 = Number(canvas.dataset.frames ?? 0);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 5000));
      const fps = ((Number(canvas.dataset.frames ?? 0) - f0) * 1000) / (performance.now() - t0);
      await el.stop();
      await run.catch(() => {});
      const trainSize = el.info.trainSize; // known once the digits have arrived
      return {
        backend: el.backend,
        adapter: info.adapter,
        spec: { kind: spec.kind, hidden: spec.hidden, latent: spec.latent, batch_size: spec.batch_size },
        train_size: trainSize,
        steps: trained,
        mse: +error.toFixed(4),
        reset_to_mse_s: reached === null ? null : +reached.toFixed(2),
        epoch_s: +(((seconds / trained) * trainSize) / spec.batch_size).toFixed(2),
        sampler_fps: +fps.toFixed(1),
      };
    }, { chunk, limit, target: TARGET });
    console.log(JSON.stringify({ target_mse: TARGET, ...result }));
    await browser.close();
  }
} finally {
  stopServer();
}
