// Figures for the README's "Embed it" section, from dist/ in headless Chromium (the CPU
// engine, or with --webgpu WebGPU on SwiftShader):
//   - the bytes a first visit transfers, gzip-compressed as a static host serves them, for
//     the whole lab (one <latent-lab>), a sampler-only widget and a six-widget lesson page;
//   - start-up (until every widget is ready) and memory (the engine's wasm memory, the
//     page's and the worker's JS heaps) of the six-widget page against one full lab.
// The transfer is each requested file's gzip size (level 6, what hosts use) — the server here
// sends them uncompressed. Figures, not pass/fail; run `make dist` first.
//
// usage: node scripts/embed-figures.mjs [--webgpu] [--json]   (--webgpu: WebGPU on SwiftShader)
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveFiles, QUIET_ARGS } from './serve-static.mjs';

const DIST = 'dist';
const doc = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>figures</title><link rel="icon" href="data:,">
<script type="module" src="/lab/latent-lab.js"></script></head><body>${body}</body></html>`;
const SIX = ['kind="ae" views="pad"', 'kind="ae" views="latent-map,pad"', 'views="sampler"', 'views="beta-plot,loss-plot" controls="minimal"', 'kind="dae" views="denoise,pad" controls="minimal"', 'kind="cvae" views="cvae,sampler"'];
const PAGES = {
  '/full.html': doc('<latent-lab></latent-lab>'),
  '/sampler.html': doc('<latent-lab views="sampler"></latent-lab>'),
  '/six.html': doc(SIX.map((a) => `<latent-lab ${a}></latent-lab>`).join('\n')),
};

const server = await serveFiles({ mounts: { '/lab/': DIST }, pages: PAGES });
const WEBGPU = process.argv.includes('--webgpu');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: [...QUIET_ARGS, ...(WEBGPU ? ['--enable-unsafe-webgpu'] : [])] });

const gz = (path) => {
  const body = PAGES[path] !== undefined ? Buffer.from(PAGES[path]) : readFileSync(join(DIST, path.replace(/^\/lab\//, '')));
  return { raw: body.length, gzip: gzipSync(body, { level: 6 }).length };
};

async function visit(path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const from = server.requests.length;
  const t0 = Date.now();
  await page.goto(server.base + path);
  const count = await page.evaluate(() => document.querySelectorAll('latent-lab').length);
  // Every widget brought into view in turn, as a reader scrolling through would.
  for (let i = 0; i < count; i++) {
    await page.evaluate(async (i) => {
      const el = document.querySelectorAll('latent-lab')[i];
      el.scrollIntoView();
      await el.ready;
    }, i);
  }
  const readyMs = Date.now() - t0;
  // Let the views finish their first requests (the map's 2,000 digits, the sampler's frames).
  await page.waitForTimeout(4000);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize: pageHeap } = await cdp.send('Runtime.getHeapUsage');
  const mem = await page.evaluate(() => document.querySelector('latent-lab').memory());
  const workers = page.workers().filter((w) => w.url().includes('engine-worker')).length;
  const paths = [...new Set(server.requests.slice(from))];
  const sizes = paths.map((p) => ({ path: p, ...gz(p) }));
  await page.close();
  return {
    path,
    widgets: count,
    workers,
    readyMs,
    wasmMiB: mem.wasmBytes / 2 ** 20,
    models: mem.models,
    devices: mem.devices,
    digits: mem.digits,
    pageHeapMiB: pageHeap / 2 ** 20,
    files: paths.length,
    rawMB: sizes.reduce((a, s) => a + s.raw, 0) / 1e6,
    gzipMB: sizes.reduce((a, s) => a + s.gzip, 0) / 1e6,
    fetchedDigits: paths.some((p) => p.includes('mnist')),
  };
}

const rows = [];
for (const path of Object.keys(PAGES)) rows.push(await visit(path));
await browser.close();
await server.close();
if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`${WEBGPU ? 'WebGPU' : 'CPU engine'}\npage            widgets workers devices ready(s)  wasm(MiB) models  page heap(MiB)  files  raw(MB)  gzip(MB)  digits`);
  for (const r of rows) {
    console.log(
      `${r.path.padEnd(15)} ${String(r.widgets).padStart(7)} ${String(r.workers).padStart(7)} ${String(r.devices).padStart(7)} ${(r.readyMs / 1000).toFixed(1).padStart(9)} ${r.wasmMiB.toFixed(1).padStart(10)} ${String(r.models).padStart(6)} ${r.pageHeapMiB.toFixed(1).padStart(15)} ${String(r.files).padStart(6)} ${r.rawMB.toFixed(2).padStart(8)} ${r.gzipMB.toFixed(2).padStart(9)}  ${r.fetchedDigits ? 'yes' : 'no'}`,
    );
  }
}
