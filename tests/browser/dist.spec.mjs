// The static build (`make dist`) as a teacher uses it: the folder copied under a sub-path of
// a plain static host, the course page on the same host; and the same folder on another
// origin (a CDN, or the lab's own site), the course page elsewhere — where the engine's
// Worker must start from a same-origin blob. Both backends; no console errors; every
// request goes to the lab's host or the course page's.
import { test, expect } from './fixtures.mjs';
import { existsSync } from 'node:fs';
import { serveFiles } from '../../scripts/serve-static.mjs';

const DIST = 'dist';
const CORS = { 'access-control-allow-origin': '*' };
const page = (src) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A course page</title><link rel="icon" href="data:,">
<script type="module" src="${src}"></script></head>
<body><h1>Autoencoders, lesson 1</h1><p>Draw a digit:</p><latent-lab></latent-lab></body></html>`;

let lab; // the host that serves dist/ under /lab/v1/
let course; // another origin, with only the course page

test.beforeAll(async () => {
  if (!existsSync(`${DIST}/latent-lab.js`)) throw new Error('dist/ is missing: run `make dist` first');
  lab = await serveFiles({
    mounts: { '/lab/v1/': DIST },
    pages: { '/course/same-origin.html': page('../lab/v1/latent-lab.js') },
    headers: CORS,
  });
  course = await serveFiles({ pages: { '/lesson.html': page(`${lab.base}/lab/v1/latent-lab.js`) } });
});

test.afterAll(async () => {
  await lab?.close();
  await course?.close();
});

async function openLesson(browserPage, url) {
  const problems = [];
  const hosts = new Set();
  browserPage.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  browserPage.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  browserPage.on('request', (r) => hosts.add(new URL(r.url()).origin));
  await browserPage.goto(url);
  const info = await browserPage.evaluate(() => document.querySelector('latent-lab').ready);
  return { info, problems, hosts };
}

/** The element works: the shipped model reconstructs digits, trains, switches kind. */
async function exercise(browserPage) {
  return browserPage.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(4);
    const recon = await el.reconstruct(images);
    let se = 0;
    for (let i = 0; i < images.length; i++) se += (recon[i] - images[i]) ** 2;
    const trained = await el.train({ steps: 2 });
    const dae = await el.switchKind('dae');
    // Another data set, fetched from the lab's folder wherever the page is.
    const table = await el.switchData('shuttle');
    return { mse: se / images.length, trained, pretrained: dae.pretrained, kind: JSON.parse(dae.spec).kind, table: table.shape };
  });
}

test('dist/ under a sub-path of a static host, with the course page beside it', async ({ page: p }, testInfo) => {
  const { info, problems, hosts } = await openLesson(p, `${lab.base}/course/same-origin.html`);
  expect(info.backend).toBe(testInfo.project.name === 'webgpu' ? 'webgpu' : 'cpu');
  expect(info.pretrained).toBe('vae-2d.safetensors');
  // The engine says what the model eats: the digits' shape, from the data, not a constant.
  expect(info.shape).toEqual({ type: 'image', channels: 1, height: 28, width: 28 });
  const worker = p.workers().find((w) => w.url().includes('engine-worker'));
  expect(worker.url()).toBe(`${lab.base}/lab/v1/engine-worker.js`);
  const out = await exercise(p);
  expect(out.mse).toBeLessThan(0.06); // the shipped model, not a fresh one (≈ 0.23)
  expect(out.trained.reason).toBe('done');
  expect(out).toMatchObject({ pretrained: 'dae.safetensors', kind: 'dae', table: { type: 'vector', features: 9 } });
  expect([...hosts]).toEqual([lab.base]);
  // Only dist/'s files were asked for (and the page): nothing from the repository's www/.
  expect(lab.requests.filter((r) => !r.startsWith('/lab/v1/') && r !== '/course/same-origin.html')).toEqual([]);
  expect(problems).toEqual([]);
});

test('dist/ on another origin: the worker starts from a blob and fetches from the lab’s host', async ({ page: p }, testInfo) => {
  const { info, problems, hosts } = await openLesson(p, `${course.base}/lesson.html`);
  expect(info.backend).toBe(testInfo.project.name === 'webgpu' ? 'webgpu' : 'cpu');
  expect(info.pretrained).toBe('vae-2d.safetensors');
  expect(p.workers().some((w) => w.url().startsWith('blob:'))).toBe(true);
  const out = await exercise(p);
  expect(out.mse).toBeLessThan(0.06);
  expect(out.trained.reason).toBe('done');
  expect(out).toMatchObject({ pretrained: 'dae.safetensors', kind: 'dae', table: { type: 'vector', features: 9 } });
  expect([...hosts].sort()).toEqual([course.base, lab.base].sort());
  expect(course.requests).toEqual(['/lesson.html']);
  expect(problems).toEqual([]);
});

test('dist/ is an npm package: `npm pack` takes its files and nothing else', async ({}, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'no browser needed: once is enough');
  const { execFileSync } = await import('node:child_process');
  const listing = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: DIST, encoding: 'utf8' }));
  const files = listing[0].files.map((f) => f.path).sort();
  expect(files).toContain('latent-lab.js');
  expect(files).toContain('engine-worker.js');
  expect(files).toContain('pkg/latent_lab_bg.wasm');
  const { DATASETS } = await import('../../www/util/datasets.js');
  for (const { file } of Object.values(DATASETS)) expect(files).toContain(`data/${file}`);
  expect(files).toContain('models/vae-2d.safetensors');
  expect(files.filter((f) => /README|\.rs$|\.mjs$|tests\//.test(f))).toEqual([]);
  const pkg = (await import(`../../${DIST}/package.json`, { with: { type: 'json' } })).default;
  expect(pkg).toMatchObject({ name: 'latent-lab', type: 'module', exports: { '.': './latent-lab.js' } });
  expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
});
