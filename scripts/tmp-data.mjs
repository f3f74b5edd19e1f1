import { chromium } from '@playwright/test';
import { QUIET_ARGS, serveStatic } from './serve-static.mjs';
import path from 'node:path';
const root = path.resolve('.');
const { base, close } = await serveStatic(root);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...QUIET_ARGS, '--enable-unsafe-webgpu'] });
const backend = process.argv[2] ?? 'cpu';
const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
await page.goto(`${base}/www/embed.html#backend=${backend}`);
const info = await page.evaluate(() => document.querySelector('latent-lab').ready);
console.log('ready', info.backend, info.data, JSON.stringify(info.shape));
for (const data of (process.argv[3] ?? 'shuttle,bleeding,fashion').split(',')) {
  const t = Date.now();
  const i = await page.evaluate((d) => document.querySelector('latent-lab').switchData(d).then((x) => x, (e) => ({ error: e.message })), data);
  console.log(data, Date.now() - t, 'ms', JSON.stringify({ error: i.error, spec: i.spec, shape: i.shape, data: i.data, train: i.trainSize, test: i.testSize }));
  const r = await page.evaluate(() => document.querySelector('latent-lab').train({ steps: 100 }).then((x) => x, (e) => ({ error: e.message })));
  console.log('train', JSON.stringify(r), JSON.stringify((await page.evaluate(() => document.querySelector('latent-lab').metrics.history)).filter((_, k, a) => k === 0 || k === a.length - 1)));
  await page.waitForTimeout(2500);
  const note = await page.evaluate(() => document.querySelector('latent-lab').shadowRoot.querySelector('[part=data-note]').textContent);
  console.log('note', note, await page.evaluate(() => { const c = document.querySelector('latent-lab').shadowRoot.querySelector('[part=latent-map] canvas'); return JSON.stringify({ ...c.dataset }); }));
  await page.screenshot({ path: `/tmp/shot-${data}.png`, fullPage: true });
  for (const p of ['test-reconstructions', 'sampler', 'interpolation']) await page.locator(`latent-lab [part="${p}"]`).screenshot({ path: `/tmp/part-${data}-${p}.png` });
}
await browser.close();
await close();
