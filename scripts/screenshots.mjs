// The README's pictures, made from the page itself in headless Chromium on WebGPU
// (SwiftShader here): `make docs`, or
//
//   node scripts/screenshots.mjs [--out docs] [--seconds 2.5] [--digit 3] [--only anomaly]
//
// (--only: just the pictures of one section: page, compare, views, data, anomaly, phone or
// course)
//
// docs/lab.png        the page at 1280 px wide (light theme), down to the end of the first row of
//                     cards (at most 1300 px), with the pretrained model
//                     and a digit (--digit: 2, 3 or 7) drawn on the pad with the mouse, so
//                     the pad, its input and reconstruction and the latent map's marker show it
// docs/lab-phone.png  the page at 375 × 812 CSS px (2 device px per CSS px) after the same
//                     drawing with a finger, scrolled to the pad: the layout a phone gets
// docs/sampler.gif    the sampler's canvas over --seconds, every frame it drew (at most one
//                     per 40 ms), with the delays it was drawn at
// docs/view-pca.png, docs/view-features.png, docs/view-similar.png
//                     the shipped VAE beside PCA, its encoder as a feature extractor, and
//                     the held-out digits nearest to the drawing (once scrolled into view)
// docs/view-pca-linear.png
//                     the PCA card's linear autoencoder after its 4,000 steps: the principal
//                     angles between its decoder's plane and PCA's as it trained
// docs/map-umap.png, docs/map-tsne.png
//                     the sparse AE's 64-number codes on the latent map through UMAP and t-SNE
// docs/view-cvae.png, docs/view-contractive.png, docs/view-filters.png
//                     the conditional VAE's, the contractive AE's and the convolutional AE's
//                     own views (their shipped models) with the same drawing
// docs/anomaly-detector.png, docs/anomaly-curves.png, docs/anomaly-examples.png
//                     a detector of digits (the zeros normal; a dense AE 784-128-16 trained
//                     400 steps) with the drawing scored against its threshold
// docs/anomaly-series.png
//                     a detector of the bleeding series (a dense AE, 600 steps) along time
// docs/data-bleeding-recon.png, docs/data-bleeding-map.png, docs/data-shuttle-recon.png,
// docs/data-shuttle-map.png
//                     the reconstructions and the latent map of a series (bleeding, a 1-D
//                     convolutional AE trained 600 steps) and of a table (shuttle, an AE
//                     trained 1,500 steps)
//
// Serves the repository on a free loopback port for the duration of the run. Needs
// `make data wasm` first. Every wait is on a condition of the page (no fixed sleeps).
import { chromium } from '@playwright/test';
import gifenc from 'gifenc';
import { fileURLToPath } from 'node:url';
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { QUIET_ARGS, serveStatic } from './serve-static.mjs';

const { GIFEncoder, quantize, applyPalette } = gifenc;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const outDir = path.resolve(root, opt('out', 'docs'));
const seconds = Number(opt('seconds', '2.5'));
// One stroke per digit, in pad units ([0, 1]², y down).
const DIGITS = {
  2: [[0.3, 0.32], [0.36, 0.22], [0.48, 0.17], [0.6, 0.2], [0.66, 0.3], [0.63, 0.42], [0.52, 0.55],
    [0.4, 0.68], [0.3, 0.8], [0.45, 0.79], [0.6, 0.79], [0.72, 0.8]],
  3: [[0.32, 0.24], [0.44, 0.16], [0.58, 0.17], [0.66, 0.27], [0.61, 0.39], [0.48, 0.46], [0.61, 0.52],
    [0.68, 0.64], [0.63, 0.77], [0.49, 0.83], [0.33, 0.78]],
  7: [[0.3, 0.22], [0.5, 0.21], [0.7, 0.22], [0.62, 0.38], [0.54, 0.55], [0.47, 0.7], [0.42, 0.83]],
};
const digit = opt('digit', '3');
const only = opt('only', null);
const SECTIONS = ['page', 'compare', 'views', 'data', 'anomaly', 'phone', 'course'];
if (only !== null && !SECTIONS.includes(only)) throw new Error(`--only: one of ${SECTIONS.join(', ')}`);
const want = (section) => only === null || only === section;
if (!DIGITS[digit]) throw new Error(`--digit: one of ${Object.keys(DIGITS).join(', ')}`);
if (!(seconds > 0 && seconds <= 20)) throw new Error('--seconds must be in (0, 20]');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const MIN_DELAY_MS = 40; // GIF delays are in 10 ms units; browsers slow delays under 20 ms down
mkdirSync(outDir, { recursive: true });

const { base, close: stopServer } = await serveStatic(root);
const quiet = QUIET_ARGS;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...quiet, '--enable-unsafe-webgpu'] });
// The pictures show the WGSL engine: SwiftShader is a software adapter, where `auto` would
// take the CPU engine, so every page starts with the reader's stored choice of WebGPU.
const newContext = browser.newContext.bind(browser);
browser.newContext = async (options) => {
  const context = await newContext(options);
  await context.addInitScript(() => localStorage.setItem('latent-lab:backend', 'webgpu'));
  return context;
};

const written = [];
function note(file) {
  written.push(`${path.relative(root, file)} (${(statSync(file).size / 1024).toFixed(0)} KB)`);
}

try {
  // ── the page, desktop ───────────────────────────────────────────────────────────────────
  const desktop = await openLab({ viewport: { width: 1280, height: 1300 } });
  await drawDigit(desktop);
  await settle(desktop);
  if (want('page')) await pageAndSampler(desktop);
  if (want('compare')) await compareViews(desktop);
  if (want('views')) await familyViews(desktop);
  if (want('data')) await otherData(desktop);
  if (want('anomaly')) await anomalyViews(desktop);
  await desktop.context().close();
  if (want('phone')) await phonePage();
  if (want('course')) await coursePage();
} finally {
  await browser.close();
  stopServer();
}
console.log(`screenshots: wrote ${written.join(', ')}`);

async function pageAndSampler(desktop) {
  const shot = path.join(outDir, 'lab.png');
  // Down to just below the first row of cards (training, pad, latent map), not into the next.
  const bottom = await desktop.evaluate(() => {
    const root = document.querySelector('latent-lab').shadowRoot;
    const box = (el) => el.getBoundingClientRect();
    const row = Math.max(...['training', 'pad', 'latent-map'].map((p) => box(root.querySelector(`[part="${p}"]`)).bottom));
    const below = [...root.querySelectorAll('[part]')].map((el) => box(el).top).filter((top) => top > row);
    return Math.floor(Math.min(row + 16, Math.min(...below) - 4));
  });
  const viewport = desktop.viewportSize();
  await desktop.screenshot({ path: shot, clip: { x: 0, y: 0, width: viewport.width, height: Math.min(viewport.height, bottom) } });
  note(shot);
  if (process.env.FULL) await desktop.screenshot({ path: path.join(outDir, 'lab-full.png'), fullPage: true });

  // ── the sampler, animated ───────────────────────────────────────────────────────────────
  const gif = path.join(outDir, 'sampler.gif');
  await recordSampler(desktop, gif);
  note(gif);
}

async function compareViews(desktop) {
  // ── the model beside PCA: the cards compare once they are on screen ───────────────────
  await settle(desktop, '[part="pca"]');
  await desktop.waitForFunction(() => document.querySelector('latent-lab').comparison !== null);
  await settle(desktop, '[part="similar"]');
  await desktop.waitForFunction(() => document.querySelector('latent-lab').similar?.query === 'drawing');
  for (const name of ['pca', 'features', 'similar']) {
    await settle(desktop, `[part="${name}"]`);
    const file = path.join(outDir, `view-${name}.png`);
    await desktop.locator(`latent-lab [part="${name}"]`).screenshot({ path: file });
    note(file);
  }
  // A wide code through each neighbour layout (the sparse AE's 64 numbers).
  await desktop.evaluate(() => document.querySelector('latent-lab').switchKind('sparse'));
  await desktop.waitForFunction(() => {
    const map = document.querySelector('latent-lab').shadowRoot.querySelector('canvas.map');
    return Number(map?.dataset.points) >= 2000 && !map.dataset.partial && JSON.parse(document.querySelector('latent-lab').info.spec).kind === 'sparse';
  });
  for (const method of ['umap', 'tsne']) {
    await desktop.evaluate((m) => document.querySelector('latent-lab').setProjection(m), method);
    await desktop.waitForFunction((m) => {
      const p = document.querySelector('latent-lab').projection;
      return p.method === m && p.done && p.settings !== null && p.marker !== null;
    }, method);
    await settle(desktop, '[part="latent-map"]');
    const file = path.join(outDir, `map-${method}.png`);
    await desktop.locator('latent-lab [part="latent-map"]').screenshot({ path: file });
    note(file);
  }
  await desktop.evaluate(() => document.querySelector('latent-lab').setProjection('pca'));
  // A linear autoencoder trained from the PCA card, its angles to PCA's plane as it went.
  await settle(desktop, '[part="pca"] [data-action="linear"]');
  await desktop.locator('latent-lab [part="pca"] [data-action="linear"]').click();
  await desktop.waitForFunction(() => document.querySelector('latent-lab').angles?.step === 4000, null, { timeout: 300_000 });
  await settle(desktop, '[part="pca"] .pca-linear');
  const file = path.join(outDir, 'view-pca-linear.png');
  await desktop.locator('latent-lab [part="pca"] .pca-linear').screenshot({ path: file });
  note(file);
}

async function familyViews(desktop) {
  // ── the family's views, each with its shipped model and the drawing ───────────────────
  for (const [kind, name] of [['cvae', 'cvae'], ['contractive', 'contractive'], ['conv_ae', 'filters']]) {
    await desktop.evaluate((kind) => document.querySelector('latent-lab').switchKind(kind), kind);
    // The view shows the finished drawing (its total ink is the pad's input's).
    await desktop.waitForFunction((name) => {
      const el = document.querySelector('latent-lab');
      const c = el.shadowRoot.querySelector(`[part="${name}"] canvas[data-source-ink]`);
      const ink = el.drawing?.input.reduce((s, v) => s + v, 0);
      return c?.dataset.state === 'drawing' && Math.abs(Number(c.dataset.sourceInk) - ink) < 0.01;
    }, name);
    await settle(desktop, `[part="${name}"]`);
    const file = path.join(outDir, `view-${name}.png`);
    await desktop.locator(`latent-lab [part="${name}"]`).screenshot({ path: file });
    note(file);
  }
}

async function otherData(desktop) {  // ── other data: a series with its 1-D convolutional AE, the shuttle table with an AE ──
  for (const [data, kind, steps] of [['bleeding', 'conv1d_ae', 600], ['shuttle', 'ae', 1500]]) {
    await desktop.evaluate(([data, kind]) => document.querySelector('latent-lab').switchData(data, { kind }), [data, kind]);
    await desktop.evaluate((steps) => document.querySelector('latent-lab').train({ steps }), steps);
    // The views show the trained model: the map holds every held-out row of this data.
    await desktop.waitForFunction(async () => {
      const el = document.querySelector('latent-lab');
      const map = el.shadowRoot.querySelector('canvas.map');
      const recon = el.shadowRoot.querySelector('[part="test-reconstructions"] canvas');
      return Number(map.dataset.points) === Math.min(2000, el.info.testSize) && recon.dataset.state === 'reconstructed' && !el.info.training;
    });
    for (const part of ['test-reconstructions', 'latent-map']) {
      await settle(desktop, `[part="${part}"]`);
      const file = path.join(outDir, `data-${data}-${part === 'latent-map' ? 'map' : 'recon'}.png`);
      await desktop.locator(`latent-lab [part="${part}"]`).screenshot({ path: file });
      note(file);
    }
  }
}

// ── anomaly detection: digits (the zeros normal) with the drawing, and a series ─────────
async function anomalyViews(desktop) {
  const call = (fn, arg) => desktop.evaluate(fn, arg);
  const shoot = async (part, name) => {
    await settle(desktop, `[part="${part}"]`);
    const file = path.join(outDir, `${name}.png`);
    await desktop.locator(`latent-lab [part="${part}"]`).screenshot({ path: file });
    note(file);
  };
  // The views' scores are the trained model's once they equal a fresh request's.
  const scored = () =>
    desktop.waitForFunction(async () => {
      const el = document.querySelector('latent-lab');
      const fresh = await el.anomalyScores();
      const shown = el.anomalyState?.scores.reconstruction;
      return shown && fresh.scores.reconstruction.every((v, i) => v === shown[i]);
    }, null, { timeout: 120_000, polling: 1000 });
  for (const [data, spec, steps] of [
    ['mnist', { kind: 'ae', hidden: [128], latent: 16, batch_size: 32, seed: 1 }, 400],
    ['bleeding', { kind: 'ae', seed: 1 }, 600],
  ]) {
    await call((data) => document.querySelector('latent-lab').switchData(data), data);
    await call(() => document.querySelector('latent-lab').setAnomaly({ normal: [0] }));
    await call((spec) => document.querySelector('latent-lab').reset(spec), spec);
    await call((steps) => document.querySelector('latent-lab').train({ steps }), steps);
    await scored();
    if (data === 'mnist') {
      await call(() => document.querySelector('latent-lab').clearDrawing());
      await drawDigit(desktop);
      await desktop.waitForFunction(() => document.querySelector('latent-lab').anomalyState?.drawing);
      await shoot('anomaly', 'anomaly-detector');
      await shoot('anomaly-curves', 'anomaly-curves');
      await shoot('anomaly-examples', 'anomaly-examples');
    } else {
      await shoot('anomaly-series', 'anomaly-series');
    }
  }
}

async function phonePage() {
  // ── the page, phone ─────────────────────────────────────────────────────────────────────
  const phone = await openLab({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await drawDigit(phone, { touch: true });
  await settle(phone, '[part="pad"]');
  const phoneShot = path.join(outDir, 'lab-phone.png');
  await phone.screenshot({ path: phoneShot });
  note(phoneShot);
  await phone.context().close();
}

async function coursePage() {
  // ── the example course page: desktop light, phone dark ─────────────────────────────────
  for (const [file, options] of [
    ['course.png', { viewport: { width: 1280, height: 1180 }, colorScheme: 'light' }],
    ['course-phone.png', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, colorScheme: 'dark' }],
  ]) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    await page.goto(`${base}/www/examples/course.html`);
    // Each widget starts near the viewport: scroll to each, wait for it.
    const count = await page.evaluate(() => document.querySelectorAll('latent-lab').length);
    for (let i = 0; i < count; i++) {
      await page.evaluate((i) => {
        const el = document.querySelectorAll('latent-lab')[i];
        el.scrollIntoView();
        return el.ready;
      }, i);
    }
    // The VAE section, its sampler playing.
    await page.evaluate(() => document.getElementById('generate').scrollIntoView());
    await page.waitForFunction(() => Number(document.querySelectorAll('latent-lab')[2].shadowRoot.querySelector('canvas.sampler').dataset.frames ?? 0) > 20);
    const out = path.join(outDir, file);
    await page.screenshot({ path: out });
    note(out);
    await context.close();
  }
}

/** A page with the lab on WebGPU, the pretrained model, the test digits and the map ready. */
async function openLab(contextOptions) {
  const context = await browser.newContext({ colorScheme: 'light', reducedMotion: 'no-preference', ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.problems = problems;
  await page.goto(`${base}/`);
  const info = await page.evaluate(() => document.querySelector('latent-lab').ready);
  if (info.backend !== 'webgpu') throw new Error(`WebGPU is not available here (${info.adapter})`);
  if (!info.pretrained) throw new Error('the pretrained model did not load (make models?)');
  const lab = (name) => page.locator(`latent-lab [part="${name}"]`);
  await lab('test-reconstructions').locator('canvas[data-state="reconstructed"]').waitFor();
  await page.waitForFunction(() => {
    const map = document.querySelector('latent-lab').shadowRoot.querySelector('canvas.map');
    return Number(map?.dataset.points) >= 2000;
  });
  return page;
}

/** The --digit in one stroke with the mouse (or a finger), then waits for its reconstruction. */
async function drawDigit(page, { touch = false } = {}) {
  const canvas = page.locator('latent-lab [part="pad"] canvas.pad-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const at = ([x, y]) => ({ x: box.x + x * box.width, y: box.y + y * box.height });
  const points = DIGITS[digit];
  if (touch) {
    const cdp = await page.context().newCDPSession(page);
    const send = (type, p) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [at(p)] : [] });
    await send('touchStart', points[0]);
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      for (let s = 1; s <= 4; s++) await send('touchMove', [x0 + ((x1 - x0) * s) / 4, y0 + ((y1 - y0) * s) / 4]);
    }
    await send('touchEnd');
  } else {
    const start = at(points[0]);
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    for (const p of points.slice(1)) {
      const q = at(p);
      await page.mouse.move(q.x, q.y, { steps: 4 });
    }
    await page.mouse.up();
  }
  // The reconstruction of the finished stroke: the pad keeps one request in flight and sends
  // the latest ink when it returns, so the result is final once two engine round trips in a
  // row (the engine serves requests in order) brought no new one.
  await page.waitForFunction(() => document.querySelector('latent-lab').drawing?.strokes === 1);
  await page.evaluate(async () => {
    const el = document.querySelector('latent-lab');
    const z = new Float32Array(JSON.parse(el.info.spec).latent);
    for (let quiet = 0; quiet < 2; ) {
      const before = el.drawing.updates;
      await el.decode(z);
      quiet = el.drawing.updates === before ? quiet + 1 : 0;
    }
  });
  await page.waitForFunction(() => {
    const map = document.querySelector('latent-lab').shadowRoot.querySelector('canvas.map');
    return /\[/.test(map?.dataset.marker ?? '');
  });
}

/** Scrolled to the top (or to a part: 8 px under it), the pointer away, two painted frames. */
async function settle(page, part = null) {
  await page.mouse.move(0, 0);
  await page.evaluate((part) => {
    const el = part && document.querySelector('latent-lab').shadowRoot.querySelector(part);
    window.scrollTo(0, el ? el.getBoundingClientRect().top + window.scrollY - 8 : 0);
  }, part);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  if (page.problems.length) throw new Error(`the page reported: ${page.problems.join('; ')}`);
}

/**
 * Records every frame the sampler draws for `seconds` (at most one per MIN_DELAY_MS) as RGBA
 * from its canvas, and writes them as an animated GIF with the delays they were drawn at.
 */
async function recordSampler(page, file) {
  const card = page.locator('latent-lab [part="sampler"]');
  await card.scrollIntoViewIfNeeded();
  // Running, and its frame rate settled (it adapts to the engine over the first frames).
  await page.waitForFunction(() => {
    const c = document.querySelector('latent-lab').shadowRoot.querySelector('canvas.sampler');
    return Number(c.dataset.frames) > 60;
  });
  // While recording, each new frame is only copied (cheap, so the sampler runs as usual);
  // the pixels are read afterwards. The copy has the card's background under the canvas
  // (the gaps between cells are transparent) and is cut to the square grid the canvas draws.
  const frames = await page.evaluate(
    ({ ms, minDelay }) =>
      new Promise((resolve) => {
        const c = document.querySelector('latent-lab').shadowRoot.querySelector('canvas.sampler');
        const background = getComputedStyle(c.closest('[part="sampler"]')).backgroundColor;
        const copies = [];
        let last = c.dataset.frames;
        let lastT = -Infinity;
        const t0 = performance.now();
        const tick = (now) => {
          if (c.dataset.frames !== last && now - lastT >= minDelay) {
            last = c.dataset.frames;
            lastT = now;
            const side = Math.min(c.width, c.height);
            const copy = new OffscreenCanvas(side, side);
            const ctx = copy.getContext('2d');
            ctx.fillStyle = background;
            ctx.fillRect(0, 0, side, side);
            ctx.drawImage(c, 0, 0);
            copies.push({ t: now, copy });
          }
          if (now - t0 < ms) requestAnimationFrame(tick);
          else resolve(copies.map(({ t, copy }) => {
            const { data } = copy.getContext('2d').getImageData(0, 0, copy.width, copy.height);
            let bin = '';
            for (let i = 0; i < data.length; i += 0x8000) bin += String.fromCharCode(...data.subarray(i, i + 0x8000));
            return { t, width: copy.width, height: copy.height, rgba: btoa(bin) };
          }));
        };
        requestAnimationFrame(tick);
      }),
    { ms: seconds * 1000, minDelay: MIN_DELAY_MS },
  );
  if (frames.length < 5) throw new Error(`the sampler drew only ${frames.length} frames in ${seconds} s`);
  const { width, height } = frames[0];
  const pixels = frames.map((f) => new Uint8Array(Buffer.from(f.rgba, 'base64')));
  // One palette for all frames, from eight of them: the picture is ink over paper and grey
  // cell borders, so a few shades suffice.
  const picks = [...new Set(Array.from({ length: 8 }, (_, i) => Math.floor((i * pixels.length) / 8)))];
  const sample = new Uint8Array(picks.length * width * height * 4);
  picks.forEach((p, i) => sample.set(pixels[p], i * width * height * 4));
  // 31 shades, and index 31 for "as in the frame before" (transparent; frames are not disposed).
  const palette = quantize(sample, 31, { format: 'rgb565' });
  while (palette.length < 31) palette.push([255, 255, 255]);
  const KEEP = palette.length;
  palette.push([255, 0, 255]);
  const gif = GIFEncoder();
  let previous = null;
  const span = frames[frames.length - 1].t - frames[0].t;
  const mean = span / (frames.length - 1);
  let shown = 0; // ms of the animation written so far, to keep rounding from drifting
  for (let i = 0; i < frames.length; i++) {
    const end = i + 1 < frames.length ? frames[i + 1].t - frames[0].t : span + mean;
    const delay = Math.max(20, Math.round((end - shown) / 10) * 10);
    shown += delay;
    const index = applyPalette(pixels[i], palette.slice(0, KEEP), 'rgb565');
    const out = index.slice();
    if (previous) for (let p = 0; p < out.length; p++) if (index[p] === previous[p]) out[p] = KEEP;
    previous = index;
    gif.writeFrame(out, width, height, {
      palette: i === 0 ? palette : undefined,
      colorDepth: 5,
      delay,
      repeat: 0,
      transparent: i > 0,
      transparentIndex: KEEP,
      dispose: 1,
    });
  }
  gif.finish();
  writeFileSync(file, gif.bytes());
  console.log(`sampler: ${frames.length} frames over ${(span / 1000).toFixed(2)} s (${(1000 / mean).toFixed(1)} frames/s recorded), ${width}×${height} px`);
}
