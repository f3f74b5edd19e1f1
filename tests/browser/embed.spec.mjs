// Teachers embed the lab: dist/ copied under a sub-path of a plain static host (the "lab"
// origin, with CORS as a CDN sends it) and the course page on a second origin; one tag per
// lesson, configured by attributes; embed.html in an iframe, configured by its hash; the
// Share snippets. Every widget shows only its views, the page has one engine Worker, widgets
// below the fold start nothing until scrolled to, attributes changed late take effect, bad
// values are shown in their widget (as text, never markup) and leave the others working.
import { test, expect } from './fixtures.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { serveFiles } from '../../scripts/serve-static.mjs';

const DIST = 'dist';
const CORS = { 'access-control-allow-origin': '*' };
const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self'";
const doc = (head, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A course page</title><link rel="icon" href="data:,">${head}</head><body>${body}</body></html>`;

// The views each widget of examples/course.html shows, in order (a training card first where
// its controls ask for one).
const COURSE = [
  { kind: 'ae', views: ['pad'] },
  { kind: 'ae', views: ['latent-map', 'pad'] },
  { kind: 'vae', views: ['sampler'] },
  { kind: 'vae', views: ['training', 'beta-plot', 'loss-plot'] },
  { kind: 'dae', views: ['training', 'denoise', 'pad'] },
  { kind: 'sparse', views: ['sparsity'] },
  { kind: 'contractive', views: ['contractive'] },
  { kind: 'cvae', views: ['cvae', 'sampler'] },
  { kind: 'conv_ae', views: ['filters', 'test-reconstructions'] },
];

let lab; // dist/ under /lab/v1/, plus test pages of the lab's origin
let course; // the second origin: the course page and pages that point at the lab
let strict; // dist/ under /lab/v1/ again, every response under the strict policy
const libUrl = () => `${lab.base}/lab/v1/latent-lab.js`;

test.beforeAll(async () => {
  if (!existsSync(`${DIST}/examples/course.html`)) throw new Error('dist/ is missing: run `make dist` first');
  const coursePage = readFileSync(`${DIST}/examples/course.html`, 'utf8');
  lab = await serveFiles({ mounts: { '/lab/v1/': DIST }, headers: CORS, pages: { '/blank.html': doc('', '') } });
  const fromLab = coursePage.replace('src="../latent-lab.js"', `src="${libUrl()}"`).replace('href="../favicon.svg"', 'href="data:,"');
  course = await serveFiles({
    pages: { '/course.html': fromLab, '/course.css': readFileSync(`${DIST}/examples/course.css`, 'utf8'), '/blank.html': doc('', '') },
  });
  strict = await serveFiles({ mounts: { '/lab/v1/': DIST }, headers: { 'content-security-policy': STRICT_CSP } });
});

test.afterAll(async () => {
  await Promise.all([lab?.close(), course?.close(), strict?.close()]);
});

/** Console errors, page errors and policy violations of a page; the origins it asked. */
function watch(p) {
  const seen = { problems: [], origins: new Set() };
  p.on('console', (m) => m.type() === 'error' && seen.problems.push(`console.error: ${m.text()}`));
  p.on('pageerror', (e) => seen.problems.push(`pageerror: ${e.message}`));
  p.on('request', (r) => seen.origins.add(new URL(r.url()).origin));
  return seen;
}

const engineWorkers = (p) => p.workers().filter((w) => w.url().includes('engine-worker') || w.url().startsWith('blob:')).length;

/** In the page: the parts each <latent-lab> shows, in order, with whether it has started. */
const widgets = (p) =>
  p.evaluate(() =>
    [...document.querySelectorAll('latent-lab')].map((el) => ({
      started: el.started,
      shown: [...el.shadowRoot.querySelectorAll('.grid > [part]')].filter((x) => x.checkVisibility()).map((x) => x.getAttribute('part')),
      kind: el.info ? JSON.parse(el.info.spec).kind : null,
      problems: el.problems,
    })),
  );

/**
 * Scrolls each widget into view in turn and waits until it is ready. A widget that does not
 * get there fails the test with what it shows: whether it started, its badge and messages.
 */
async function scrollThrough(p) {
  const n = await p.evaluate(() => document.querySelectorAll('latent-lab').length);
  for (let i = 0; i < n; i++) {
    await p.evaluate((i) => {
      const el = document.querySelectorAll('latent-lab')[i];
      el.scrollIntoView();
      el.ready.then(
        () => (el.dataset.testReady = 'ready'),
        (e) => (el.dataset.testReady = `failed: ${e.message}`),
      );
    }, i);
    const state = () =>
      p.evaluate((i) => {
        const el = document.querySelectorAll('latent-lab')[i];
        const text = (part) => el.shadowRoot.querySelector(`[part="${part}"]`)?.textContent.trim() ?? null;
        return { ready: el.dataset.testReady ?? 'waiting', started: el.started, badge: text('backend'), messages: text('messages') };
      }, i);
    await expect.poll(state, { message: `widget ${i + 1} becomes ready`, timeout: 120_000 }).toMatchObject({ ready: 'ready' });
  }
  return n;
}

test('the course page from a second origin: each widget its views, one Worker, nothing below the fold started', async ({ page: p }, testInfo) => {
  test.setTimeout(240_000);
  const seen = watch(p);
  const from = lab.requests.length;
  await p.setViewportSize({ width: 1280, height: 900 });
  await p.goto(`${course.base}/course.html`);
  await p.evaluate(() => document.querySelector('latent-lab').ready);
  const before = await widgets(p);
  expect(before[0].started).toBe(true);
  // The last sections are thousands of pixels down: nothing of theirs has started.
  expect(before.slice(4).map((w) => w.started)).toEqual(before.slice(4).map(() => false));
  expect(engineWorkers(p)).toBe(1);

  expect(await scrollThrough(p)).toBe(COURSE.length);
  const after = await widgets(p);
  for (const [i, w] of after.entries()) {
    expect(w, `widget ${i + 1}`).toMatchObject({ started: true, kind: COURSE[i].kind, shown: COURSE[i].views, problems: [] });
  }
  // One engine for the page: one Worker, one model per widget, the digits fetched once.
  expect(engineWorkers(p)).toBe(1);
  // The digits arrive once a widget that shows them asks (they may still be on their way).
  const memory = () => p.evaluate(() => document.querySelector('latent-lab').memory());
  await expect.poll(async () => (await memory()).digits).toBe(true);
  expect(await memory()).toMatchObject({ models: COURSE.length, digits: true, devices: testInfo.project.name === 'webgpu' ? 1 : 0 });
  expect(lab.requests.slice(from).filter((r) => r.endsWith('/mnist-10k.bin'))).toHaveLength(1);
  // The last widget works: its reconstructions are of its own (convolutional) model.
  const backend = await p.evaluate(() => [...document.querySelectorAll('latent-lab')].map((el) => el.backend));
  expect(new Set(backend)).toEqual(new Set([testInfo.project.name === 'webgpu' ? 'webgpu' : 'cpu']));
  expect([...seen.origins].sort()).toEqual([course.base, lab.base].sort());
  expect(seen.problems).toEqual([]);
});

test('a sampler-only widget fetches no digits; widgets that need them share one fetch', async ({ page: p }) => {
  const seen = watch(p);
  const from = lab.requests.length;
  await p.goto(`${course.base}/blank.html`);
  await p.setContent(doc(`<script type="module" src="${libUrl()}"></script>`, '<latent-lab views="sampler" seed="7"></latent-lab>'), { waitUntil: 'load' });
  const el = p.locator('latent-lab');
  await p.evaluate(() => document.querySelector('latent-lab').ready);
  const canvas = el.locator('canvas.sampler');
  await expect.poll(async () => Number((await canvas.getAttribute('data-frames')) ?? 0)).toBeGreaterThan(3);
  expect(await canvas.getAttribute('data-seed')).toBe('7');
  expect(await p.evaluate(() => document.querySelector('latent-lab').memory())).toMatchObject({ models: 1, digits: false });
  expect(lab.requests.slice(from).filter((r) => r.includes('mnist'))).toEqual([]);

  // Two more widgets that show held-out digits: one fetch between them, one Worker.
  const shown = await p.evaluate(async () => {
    const more = [];
    for (const views of ['test-reconstructions', 'latent-map']) {
      const w = document.createElement('latent-lab');
      w.setAttribute('views', views);
      document.body.prepend(w);
      w.scrollIntoView(); // it starts near the viewport
      await w.ready;
      more.push(w);
    }
    return Promise.all(more.map((w) => w.testImages(3).then((t) => t.labels.length)));
  });
  expect(shown).toEqual([3, 3]);
  expect(lab.requests.slice(from).filter((r) => r.includes('mnist'))).toHaveLength(1);
  expect(engineWorkers(p)).toBe(1);
  expect(await p.evaluate(() => document.querySelector('latent-lab').memory())).toMatchObject({ models: 3, digits: true });
  expect(seen.problems).toEqual([]);
});

test('a widget still opening when another widget\'s model crashes the shared engine opens again', async ({ page: p }) => {
  const seen = watch(p);
  // The second widget's weights are held back, so it is still opening when the engine dies.
  let release;
  const held = new Promise((r) => (release = r));
  const asked = [];
  await p.route('**/models/ae-2d.safetensors', async (route) => {
    asked.push(route.request().url());
    await held;
    await route.continue();
  });
  await p.goto(`${course.base}/blank.html`);
  await p.setContent(doc(`<script type="module" src="${libUrl()}"></script>`, '<latent-lab kind="vae" views="sampler"></latent-lab>'), { waitUntil: 'load' });
  await p.evaluate(() => document.querySelector('latent-lab').ready);
  await p.evaluate(() => {
    const w = document.createElement('latent-lab');
    w.setAttribute('kind', 'ae');
    w.setAttribute('views', 'pad');
    document.body.append(w);
    w.scrollIntoView();
    window.second = { state: 'waiting' };
    w.ready.then(
      (info) => (window.second = { state: 'ready', kind: JSON.parse(info.spec).kind }),
      (e) => (window.second = { state: `failed: ${e.message}` }),
    );
  });
  await expect.poll(() => asked.length).toBe(1);
  // The first widget's model panics: the engine (shared by both) dies, and the first widget
  // comes back from its checkpoint.
  const restarted = await p.evaluate(() => document.querySelector('latent-lab').simulatePanic('now').then((i) => JSON.parse(i.spec).kind));
  expect(restarted).toBe('vae');
  expect(await p.evaluate(() => window.second)).toEqual({ state: 'waiting' });
  release();
  // The second widget had nothing to lose: it opens again in the new engine, and its ready
  // promise (taken before the crash) resolves.
  await expect.poll(() => p.evaluate(() => window.second)).toEqual({ state: 'ready', kind: 'ae' });
  expect(asked.length).toBe(2);
  const [, second] = await widgets(p);
  expect(second).toMatchObject({ started: true, kind: 'ae', shown: ['pad'], problems: [] });
  expect(engineWorkers(p)).toBe(1);
  expect(await p.evaluate(() => document.querySelector('latent-lab').memory())).toMatchObject({ models: 2 });
  expect(seen.problems.filter((m) => !/simulated panic/.test(m))).toEqual([]);
});

test('attributes changed after connection take effect', async ({ page: p }, testInfo) => {
  test.setTimeout(180_000);
  const seen = watch(p);
  await p.goto(`${lab.base}/lab/v1/embed.html`);
  const info = await p.evaluate(() => document.querySelector('latent-lab').ready);
  expect(info.pretrained).toBe('vae-2d.safetensors');
  const state = () =>
    p.evaluate(() => {
      const el = document.querySelector('latent-lab');
      const spec = el.info && JSON.parse(el.info.spec);
      const explain = el.shadowRoot.querySelector('[part="pad"] .explain');
      return {
        kind: spec?.kind,
        noise: spec?.noise?.amount,
        pretrained: el.info?.pretrained,
        backend: el.backend,
        shown: [...el.shadowRoot.querySelectorAll('.grid > [part]')].filter((x) => x.checkVisibility()).map((x) => x.getAttribute('part')),
        kindSelect: el.shadowRoot.querySelector('[part="training"] select')?.checkVisibility() ?? false,
        captions: explain?.checkVisibility() ?? null,
        background: getComputedStyle(el).backgroundColor,
      };
    });
  const set = (name, value) => p.evaluate(([n, v]) => document.querySelector('latent-lab').setAttribute(n, v), [name, value]);

  await set('kind', 'dae');
  await expect.poll(async () => (await state()).pretrained, { timeout: 90_000 }).toBe('dae.safetensors');
  await set('views', 'denoise,pad');
  await set('controls', 'minimal');
  await expect.poll(async () => (await state()).shown).toEqual(['training', 'denoise', 'pad']);
  expect((await state()).kindSelect).toBe(false); // minimal: no switcher
  await set('noise-amount', '0.3');
  await expect.poll(async () => (await state()).noise).toBeCloseTo(0.3, 6);
  const light = (await state()).background;
  await set('theme', 'dark');
  await expect.poll(async () => (await state()).background).not.toBe(light);
  expect((await state()).captions).toBe(true);
  await set('captions', 'off');
  await expect.poll(async () => (await state()).captions).toBe(false);
  // The backend, while the model trains: training stops, the model moves to the CPU engine
  // with the weights of the step it stopped at, and back again, weights and all.
  const progress = () => p.evaluate(() => document.querySelector('latent-lab').metrics.step);
  await p.evaluate(() => document.querySelector('latent-lab').start());
  await expect.poll(progress).toBeGreaterThan(0);
  // The model reopens (a 'ready' event) on the backend asked for.
  const moveTo = (backend) =>
    p.evaluate(
      (backend) =>
        new Promise((resolve) => {
          const el = document.querySelector('latent-lab');
          el.addEventListener('ready', async (e) => resolve({ backend: e.detail.backend, step: e.detail.step, training: e.detail.training, sample: Array.from(await el.sample(2, 5)) }), { once: true });
          el.setAttribute('backend', backend);
        }),
      backend,
    );
  const moved = await moveTo('cpu');
  expect(moved).toMatchObject({ backend: 'cpu', training: false });
  expect(moved.step).toBeGreaterThan(0);
  const back = await moveTo('auto');
  expect(back.backend).toBe(testInfo.project.name === 'webgpu' ? 'webgpu' : 'cpu');
  expect(back.step).toBe(moved.step);
  const diff = Math.max(...moved.sample.map((v, i) => Math.abs(v - back.sample[i])));
  expect(diff).toBeLessThan(testInfo.project.name === 'cpu' ? 1e-6 : 1e-3);
  expect((await state()).kind).toBe('dae');
  // A model file of the lab's origin: the widget runs it.
  await set('model', `${lab.base}/lab/v1/models/sparse.safetensors`);
  await expect.poll(async () => (await state()).pretrained, { timeout: 90_000 }).toBe('sparse.safetensors');
  expect((await state()).kind).toBe('sparse');
  expect(seen.problems).toEqual([]);
});

test('bad values name the attribute, the value and what is allowed; the other widgets work', async ({ page: p }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the messages do not depend on the backend');
  const seen = watch(p);
  await p.goto(`${lab.base}/blank.html`);
  const bad = [
    ['kind="nope"', 'kind="nope" is not allowed: the kinds are vae, ae, dae'],
    ['views="sampler,bogus"', 'views="bogus" is not allowed: the views are backend, training'],
    ['controls="maybe"', 'controls="maybe" is not allowed: use full, minimal, none'],
    ['theme="purple" views="sampler"', 'theme="purple" is not allowed: use auto, light, dark'],
    ['seed="-3" views="sampler"', 'seed="-3" is not allowed: it must be a whole number'],
    ['model="https://elsewhere.example/m.safetensors" views="sampler"', 'the widget loads files only from'],
    ['beta="lots" views="sampler"', 'beta="lots" is not allowed'],
    ['noise-amount="0.3" views="sampler"', 'it is a setting of dae, not of vae'],
    ['views="denoise"', 'denoise is the view of kind dae'],
  ];
  const tags = bad.map(([attrs]) => `<latent-lab ${attrs}></latent-lab>`).join('');
  await p.setContent(doc(`<script type="module" src="${libUrl()}"></script>`, `<latent-lab id="good" views="test-reconstructions"></latent-lab>${tags}`), { waitUntil: 'load' });
  const messages = await p.evaluate(() =>
    [...document.querySelectorAll('latent-lab:not(#good)')].map((el) => el.shadowRoot.querySelector('[part="messages"]').textContent),
  );
  for (const [i, [, expected]] of bad.entries()) expect(messages[i], bad[i][0]).toContain(expected);
  // A misspelt view is left out; the others still show.
  const misspelt = await p.evaluate(() => [...document.querySelectorAll('latent-lab')[2].shadowRoot.querySelectorAll('.grid > [part]')].filter((x) => x.checkVisibility()).map((x) => x.getAttribute('part')));
  expect(misspelt).toEqual(['sampler']);
  // The good widget beside them works; nothing asked the other origin.
  const mse = await p.evaluate(async () => {
    const el = document.getElementById('good');
    await el.ready;
    const { images } = await el.testImages(4);
    const out = await el.reconstruct(images);
    return out.reduce((s, v, i) => s + (v - images[i]) ** 2, 0) / out.length;
  });
  expect(mse).toBeLessThan(0.06);
  expect([...seen.origins].every((o) => o === lab.base)).toBe(true);
  expect(seen.problems).toEqual([]);
});

test('markup in any attribute or hash value is shown as text, never parsed', async ({ page: p }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the DOM does not depend on the backend');
  const seen = watch(p);
  const MARKUP = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
  await p.goto(`${lab.base}/lab/v1/embed.html`);
  const keys = await p.evaluate(async () => (await import('./util/settings.js')).KEYS);
  const checks = await p.evaluate(
    async ([keys, markup]) => {
      const out = [];
      for (const key of [...keys, 'spec']) {
        const el = document.createElement('latent-lab');
        el.setAttribute(key, markup);
        document.body.append(el);
        out.push({
          key,
          markupInside: el.shadowRoot.querySelectorAll('img, b').length,
          shownAsText: el.shadowRoot.querySelector('[part="messages"]').textContent.includes('<img'),
        });
        el.remove();
      }
      return out;
    },
    [keys, MARKUP],
  );
  for (const c of checks) {
    expect(c.markupInside, c.key).toBe(0);
    // Every key but `spec` (a JSON text the engine reads when the widget starts) says so at once.
    if (c.key !== 'spec') expect(c.shownAsText, c.key).toBe(true);
  }
  // The same through embed.html's hash.
  const hash = keys.map((k) => `${k}=${encodeURIComponent(MARKUP)}`).join('&');
  await p.goto(`${lab.base}/lab/v1/embed.html#${hash}`);
  const framed = await p.evaluate(() => {
    const el = document.querySelector('latent-lab');
    return { markup: el.shadowRoot.querySelectorAll('img, b').length, text: el.shadowRoot.querySelector('[part="messages"]').textContent };
  });
  expect(framed.markup).toBe(0);
  expect(framed.text).toContain('kind="<img src=x');
  expect(await p.evaluate(() => window.__pwned)).toBeUndefined();
  expect(seen.problems).toEqual([]);
});

test('embed.html in an iframe honours its hash and reports its height', async ({ page: p }) => {
  const seen = watch(p);
  const src = `${lab.base}/lab/v1/embed.html#kind=dae&views=denoise,pad&controls=minimal`;
  const parent = doc(`<script type="module" src="${lab.base}/lab/v1/embed-resize.js"></script>`, `<h1>Lesson 5</h1><iframe src="${src}" title="Latent Lab" style="width: 100%; height: 150px; border: 0"></iframe>`);
  await p.goto(`${course.base}/blank.html`);
  await p.setContent(parent, { waitUntil: 'load' });
  const frame = p.frameLocator('iframe');
  const inFrame = p.frames().find((f) => f.url().startsWith(lab.base));
  const info = await inFrame.evaluate(() => document.querySelector('latent-lab').ready);
  expect(info.pretrained).toBe('dae.safetensors');
  const shown = await inFrame.evaluate(() => [...document.querySelector('latent-lab').shadowRoot.querySelectorAll('.grid > [part]')].filter((x) => x.checkVisibility()).map((x) => x.getAttribute('part')));
  expect(shown).toEqual(['training', 'denoise', 'pad']);
  await expect(frame.locator('latent-lab')).toBeVisible();
  // The parent's iframe grows to the frame's content.
  const content = () => inFrame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
  const framed = () => p.evaluate(() => document.querySelector('iframe').getBoundingClientRect().height);
  await expect.poll(framed).toBeGreaterThan(400);
  await expect.poll(async () => Math.abs((await framed()) - (await content()))).toBeLessThanOrEqual(1);
  expect(seen.problems).toEqual([]);
});

test('the course page under a strict Content-Security-Policy', async ({ page: p }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the policy does not depend on the backend (csp.spec.mjs runs the lab page under it on both)');
  test.setTimeout(240_000);
  const seen = watch(p);
  await p.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await p.goto(`${strict.base}/lab/v1/examples/course.html`);
  expect(await scrollThrough(p)).toBe(COURSE.length);
  const out = await widgets(p);
  expect(out.map((w) => w.shown)).toEqual(COURSE.map((c) => c.views));
  expect(await p.evaluate(() => window.__violations)).toEqual([]);
  expect(seen.problems).toEqual([]);
});

test('the Share snippets reproduce the configuration: tag, iframe and link', async ({ page: p, context }) => {
  test.setTimeout(180_000);
  const seen = watch(p);
  await p.goto(`${lab.base}/lab/v1/embed.html#kind=dae&views=training,denoise,pad&seed=5`);
  await p.evaluate(() => document.querySelector('latent-lab').ready);
  // The reader changes the noise: the configuration, and the page's own hash, follow.
  await p.evaluate(() => document.querySelector('latent-lab').setSpec({ noise: { kind: 'mask', amount: 0.4 } }));
  await expect.poll(() => p.evaluate(() => location.hash)).toContain('noise-kind=mask');
  // The panel shows the same snippets as the API.
  await p.locator('latent-lab [part="share"]').click();
  const panel = p.locator('latent-lab [part="share-panel"]');
  await expect(panel).toBeVisible();
  const snippets = await p.evaluate(() => document.querySelector('latent-lab').share());
  for (const key of ['tag', 'iframe', 'link']) await expect(panel.locator(`textarea[data-snippet="${key}"]`)).toHaveValue(snippets[key]);

  const expected = { kind: 'dae', noise: { kind: 'mask', amount: 0.4 }, views: ['training', 'denoise', 'pad'], seed: 5 };
  const configOf = (frame) =>
    frame.evaluate(async () => {
      await customElements.whenDefined('latent-lab');
      const el = document.querySelector('latent-lab');
      await el.ready;
      const spec = JSON.parse(el.info.spec);
      return { kind: spec.kind, noise: spec.noise, views: el.settings.views, seed: el.settings.seed };
    });
  // The tag, pasted into a page of another origin.
  const fresh = await context.newPage();
  await fresh.goto(`${course.base}/blank.html`);
  await fresh.setContent(doc('', snippets.tag), { waitUntil: 'load' });
  await expect.poll(() => configOf(fresh), { timeout: 90_000 }).toEqual(expected);
  // The iframe.
  await fresh.setContent(doc('', snippets.iframe), { waitUntil: 'load' });
  let frame; // a lazy iframe: the page's load does not wait for it
  await expect.poll(() => (frame = fresh.frames().find((f) => f.url().startsWith(lab.base))) !== undefined).toBe(true);
  await expect.poll(() => configOf(frame), { timeout: 90_000 }).toEqual(expected);
  // The link.
  await fresh.goto(snippets.link);
  await expect.poll(() => configOf(fresh), { timeout: 90_000 }).toEqual(expected);
  await fresh.close();
  expect(seen.problems).toEqual([]);
});

test('screenshots of the course page: desktop and phone, light and dark', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the pictures are taken once, on the CPU engine');
  test.setTimeout(300_000);
  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 390, height: 844 }],
  ]) {
    for (const colorScheme of ['light', 'dark']) {
      const ctx = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: name === 'phone' ? 2 : 1 });
      const p = await ctx.newPage();
      const seen = watch(p);
      await p.goto(`${course.base}/course.html`);
      await scrollThrough(p);
      // The sampler plays while it is on screen: its frames, then the picture.
      await p.evaluate(() => document.getElementById('generate').scrollIntoView());
      await expect.poll(() => p.evaluate(() => Number(document.querySelectorAll('latent-lab')[2].shadowRoot.querySelector('canvas.sampler').dataset.frames ?? 0))).toBeGreaterThan(2);
      await p.screenshot({ path: `artifacts/screenshots/course-${name}-${colorScheme}-sampler.png` });
      await p.evaluate(() => window.scrollTo(0, 0));
      await p.screenshot({ path: `artifacts/screenshots/course-${name}-${colorScheme}.png`, fullPage: name === 'desktop' });
      expect(seen.problems).toEqual([]);
      await ctx.close();
    }
  }
});

test('the full page keeps its configuration in the hash: a link reopens it', async ({ page: p }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'the hash does not depend on the backend');
  const seen = watch(p);
  const shown = () => p.evaluate(() => [...document.querySelector('latent-lab').shadowRoot.querySelectorAll('.grid > [part]')].filter((x) => x.checkVisibility()).map((x) => x.getAttribute('part')));
  await p.goto('/#kind=sparse&views=training,sparsity,pad');
  expect((await p.evaluate(() => document.querySelector('latent-lab').ready)).pretrained).toBe('sparse.safetensors');
  expect(await shown()).toEqual(['training', 'sparsity', 'pad']);
  // The reader switches to a denoising AE and turns its noise up: the hash follows.
  await p.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    await el.switchKind('dae');
    await el.setSpec({ noise: { amount: 0.7 } });
  });
  await expect.poll(() => p.evaluate(() => location.hash)).toBe('#kind=dae&views=training,denoise,pad&noise-amount=0.7');
  await p.reload();
  const info = await p.evaluate(() => document.querySelector('latent-lab').ready);
  await expect.poll(async () => JSON.parse((await p.evaluate(() => document.querySelector('latent-lab').info)).spec).noise.amount).toBeCloseTo(0.7, 6);
  expect(info.pretrained).toBe('dae.safetensors');
  expect(await shown()).toEqual(['training', 'denoise', 'pad']);
  expect(seen.problems).toEqual([]);
});

test('autoplay="train" trains while the widget is visible and pauses when it leaves; so do the animations', async ({ page: p }, testInfo) => {
  test.skip(testInfo.project.name !== 'cpu', 'visibility does not depend on the backend');
  const seen = watch(p);
  await p.goto(`${lab.base}/blank.html`);
  await p.setContent(
    doc(`<script type="module" src="${libUrl()}"></script>`, '<div style="height: 3000px">scroll down</div><latent-lab views="loss-plot,interpolation" autoplay="train"></latent-lab><div style="height: 3000px"></div>'),
    { waitUntil: 'load' },
  );
  const training = () => p.evaluate(() => document.querySelector('latent-lab').info?.training ?? null);
  // The morph's position on its line (t in [0, 1]): it moves only while the animation plays
  // (a redraw of new decodes keeps it).
  const morphAt = () => p.evaluate(() => document.querySelector('latent-lab').shadowRoot.querySelector('canvas.morph').dataset.t ?? null);
  expect(await p.evaluate(() => document.querySelector('latent-lab').started)).toBe(false);
  await p.evaluate(() => document.querySelector('latent-lab').scrollIntoView());
  await p.evaluate(() => document.querySelector('latent-lab').ready);
  await expect.poll(training).toBe(true);
  await expect.poll(() => p.evaluate(() => document.querySelector('latent-lab').metrics.step)).toBeGreaterThan(0);
  await expect.poll(morphAt).not.toBeNull();
  const playing = await morphAt();
  await expect.poll(morphAt).not.toBe(playing); // the morph plays on screen
  await p.evaluate(() => window.scrollTo(0, 0));
  await expect.poll(training).toBe(false);
  // Off screen the morph stands still: twenty display frames later it has not moved.
  const held = await morphAt();
  await p.evaluate(() => new Promise((resolve) => {
    let n = 0;
    const tick = () => (++n >= 20 ? resolve() : requestAnimationFrame(tick));
    requestAnimationFrame(tick);
  }));
  expect(await morphAt()).toBe(held);
  await p.evaluate(() => document.querySelector('latent-lab').scrollIntoView());
  await expect.poll(training).toBe(true);
  await expect.poll(morphAt).not.toBe(held);
  await p.evaluate(() => document.querySelector('latent-lab').stop());
  expect(seen.problems).toEqual([]);
});
