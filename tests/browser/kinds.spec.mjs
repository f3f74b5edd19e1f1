// The model switcher and each kind's own view, in both projects (`webgpu` on SwiftShader,
// `cpu`): the switcher builds every kind (family.spec.mjs has the views of the contractive,
// conditional and convolutional kinds), the shipped plain, denoising and sparse models
// reconstruct well, the β slider changes β of the running model and the KL/reconstruction plot follows,
// the denoising view cleans noisy digits, the sparse view's histogram matches the codes.
// One page per project serves the serial tests. Every wait is on a condition.
//
// Screenshots go to artifacts/screenshots/<project>-<name>.png.
import { test, expect } from './fixtures.mjs';
import { mkdirSync } from 'node:fs';
import { useLabPage, SEVEN } from './lab-page.mjs';

const SHOTS = 'artifacts/screenshots';
mkdirSync(SHOTS, { recursive: true });
const KIND_PARTS = {
  vae: 'beta-plot',
  dae: 'denoise',
  sparse: 'sparsity',
  contractive: 'contractive',
  cvae: 'cvae',
  conv_ae: 'filters',
  conv_vae: 'filters',
};
// `make models`, `latent-lab eval` on the 2,004 held-out digits: dae MSE per pixel 0.0186
// (denoise_mse 0.0180 at its Gaussian σ 0.5), sparse 0.0150 with mean code activation 0.062,
// the 2-D plain AE 0.046. A fresh model of any is near 0.11.
const SHIPPED_MSE_MAX = { dae: 0.03, sparse: 0.03, ae: 0.06 };

test.describe.configure({ mode: 'serial' });

const L = useLabPage(test);
const { part, info, spec, frames, switchTo, mouseStroke } = L;
const lab = L.run;

/** Mean squared error per pixel of the current model on the first `n` test digits. */
async function testMse(n) {
  return lab(async (n) => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(n);
    const out = await el.reconstruct(images);
    let s = 0;
    for (let i = 0; i < images.length; i++) s += (images[i] - out[i]) ** 2;
    return s / images.length;
  }, n);
}


test('the switcher builds each kind and says what it is', async ({}, testInfo) => {
  test.setTimeout(300_000); // eight models, two of them convolutional (slow on SwiftShader)
  const expected = {
    ae: { summary: /^AE 784-400-2 ·/, pretrained: 'ae-2d.safetensors', settings: [] },
    dae: { summary: /^DAE 784-256-32 ·/, pretrained: 'dae.safetensors', settings: ['Noise', 'Noise amount'] },
    sparse: { summary: /^Sparse AE 784-256-64 ·/, pretrained: 'sparse.safetensors', settings: ['Penalty', 'Target ρ', 'Penalty weight'] },
    contractive: { summary: /^Contractive AE 784-256-32 ·/, pretrained: 'contractive.safetensors', settings: ['Contraction λ'] },
    cvae: { summary: /^CVAE 784-400-2 ·/, pretrained: 'cvae.safetensors', settings: ['β (KL weight)'] },
    conv_ae: { summary: /^Conv AE 784-c16-c32-16 ·/, pretrained: 'conv-ae.safetensors', settings: [] },
    conv_vae: { summary: /^Conv VAE 784-c16-c32-2 ·/, pretrained: 'conv-vae.safetensors', settings: ['β (KL weight)'] },
    vae: { summary: /^VAE 784-400-2 ·/, pretrained: 'vae-2d.safetensors', settings: ['β (KL weight)'] },
  };
  const allSettings = ['Noise', 'Noise amount', 'Penalty', 'Target ρ', 'Penalty weight', 'Contraction λ', 'β (KL weight)'];
  const training = part('training');
  for (const [kind, want] of Object.entries(expected)) {
    const t0 = Date.now();
    await switchTo(kind);
    const i = await info();
    testInfo.annotations.push({ type: kind, description: `${Date.now() - t0} ms; ${i.parameters} parameters; pretrained ${i.pretrained}` });
    expect(i.pretrained).toBe(want.pretrained);
    expect(i.step).toBe(0);
    await expect(training.locator('.model-summary')).toHaveText(want.summary);
    await expect(training.locator('.kind-sentence')).not.toBeEmpty();
    for (const label of allSettings) {
      const field = training.getByLabel(label, { exact: true });
      if (want.settings.includes(label)) await expect(field).toBeVisible();
      else await expect(field).toBeHidden();
    }
    // Only the kind's own view shows.
    for (const name of new Set(Object.values(KIND_PARTS))) {
      if (name === KIND_PARTS[kind]) await expect(part(name)).toBeVisible();
      else await expect(part(name)).toBeHidden();
    }
    // The readout next to the reconstruction loss names the kind's other term, if any.
    const extra = training.locator('[data-readout="kl"]');
    const second = { vae: 'kl', cvae: 'kl', conv_vae: 'kl', sparse: 'penalty', contractive: 'contraction' }[kind];
    if (second) await expect(extra).toHaveAttribute('data-metric', second);
    else await expect(extra).toBeHidden();
  }
  // The switcher is keyboard reachable and labelled.
  await training.getByLabel('Model kind').focus();
  await expect(training.getByLabel('Model kind')).toBeFocused();
  expect(L.problems).toEqual([]);
});

test('the shipped plain, denoising and sparse models reconstruct held-out digits well', async ({}, testInfo) => {
  const files = { ae: 'ae-2d.safetensors', dae: 'dae.safetensors', sparse: 'sparse.safetensors' };
  for (const [kind, file] of Object.entries(files)) {
    await switchTo(kind);
    expect((await info()).pretrained).toBe(file);
    const mse = await testMse(500);
    testInfo.annotations.push({ type: kind, description: `MSE per pixel on 500 test digits ${mse.toFixed(4)}` });
    expect(mse).toBeLessThan(SHIPPED_MSE_MAX[kind]);
  }
  // The sparse code's mean activation is near its target ρ (the KL penalty's aim).
  const { mean, target } = await lab(async () => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(500);
    const { mu } = await el.encode(images);
    return { mean: mu.reduce((s, v) => s + v, 0) / mu.length, target: JSON.parse(el.info.spec).sparsity.target };
  });
  testInfo.annotations.push({ type: 'sparse code', description: `mean activation ${mean.toFixed(4)}, target ρ ${target}` });
  expect(Math.abs(mean - target) / target).toBeLessThan(0.4);
  // A fresh model of the same kind is far worse: the files carry real training.
  await lab(() => document.querySelector('latent-lab').reset({ kind: 'sparse', hidden: [256], latent: 64, loss: 'mse' }));
  expect(await testMse(200)).toBeGreaterThan(0.05);
  expect(L.problems).toEqual([]);
});

test('the denoising view: noisy digits differ from the clean ones, denoised ones are closer', async ({}, testInfo) => {
  await switchTo('dae');
  const view = part('denoise');
  const canvas = view.locator('canvas');
  await expect(canvas).toHaveAttribute('data-state', 'ready');
  const read = async () => ({
    noisy: Number(await canvas.getAttribute('data-mse-noisy')),
    denoised: Number(await canvas.getAttribute('data-mse-denoised')),
    noise: JSON.parse(await canvas.getAttribute('data-noise')),
    updates: Number(await canvas.getAttribute('data-updates')),
  });
  const shown = await read();
  expect(shown.noise).toMatchObject({ kind: 'gaussian', amount: 0.5 });
  // Measured again in the page, through the script API: the same noise (Lab.corrupt at the
  // view's seed and draw), the same model.
  const measured = await lab(async ({ kind, amount, draw }) => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(6);
    const noisy = await el.corrupt(images, { kind, amount, seed: JSON.parse(el.info.spec).seed, step: draw });
    const out = await el.reconstruct(noisy);
    const mse = (a, b) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length;
    return { noisy: mse(noisy, images), denoised: mse(out, images) };
  }, shown.noise);
  testInfo.annotations.push({
    type: 'denoising (σ 0.5)',
    description: `MSE per pixel over 6 test digits: noisy ${measured.noisy.toFixed(4)}, denoised ${measured.denoised.toFixed(4)}`,
  });
  expect(shown.noisy).toBeCloseTo(measured.noisy, 5);
  expect(shown.denoised).toBeCloseTo(measured.denoised, 5);
  expect(measured.noisy).toBeGreaterThan(0.05);
  expect(measured.denoised).toBeLessThan(0.5 * measured.noisy);

  // More noise, from the keyboard: the view and the model's training noise follow, live.
  const amount = view.getByLabel('Amount');
  await amount.focus();
  for (let i = 0; i < 6; i++) await L.page.keyboard.press('ArrowRight'); // 0.5 → 0.8
  await expect.poll(async () => (await spec()).noise.amount).toBeCloseTo(0.8, 5);
  await expect.poll(async () => (await read()).noise.amount).toBeCloseTo(0.8, 5);
  await expect.poll(async () => (await read()).noisy).toBeGreaterThan(shown.noisy * 1.5);
  const louder = await read();
  expect(louder.denoised).toBeLessThan(louder.noisy);
  expect((await info()).pretrained).toBe('dae.safetensors'); // the same model, not a new one
  await expect(part('training').getByLabel('Noise amount', { exact: true })).toHaveValue('0.8');

  // Another noise kind; "New noise" draws another sample of it.
  await view.getByLabel('Noise', { exact: true }).selectOption('mask');
  await expect.poll(async () => (await spec()).noise.kind).toBe('mask');
  const masked = await read();
  await view.getByRole('button', { name: 'New noise' }).click();
  await expect.poll(async () => (await read()).noise.draw).toBe(masked.noise.draw + 1);
  await expect.poll(async () => (await read()).noisy).not.toBe(masked.noisy);
  await view.getByLabel('Noise', { exact: true }).selectOption('gaussian');
  await expect.poll(async () => (await spec()).noise.kind).toBe('gaussian');

  // Your own drawing, noised and denoised.
  await mouseStroke(SEVEN);
  await expect(canvas).toHaveAttribute('data-state', 'drawn');
  const drawn = {
    noisy: Number(await canvas.getAttribute('data-drawing-mse-noisy')),
    denoised: Number(await canvas.getAttribute('data-drawing-mse-denoised')),
  };
  testInfo.annotations.push({ type: 'drawing', description: `noisy ${drawn.noisy.toFixed(4)}, denoised ${drawn.denoised.toFixed(4)}` });
  expect(drawn.noisy).toBeGreaterThan(0.05);
  expect(drawn.denoised).toBeLessThan(drawn.noisy);
  await view.scrollIntoViewIfNeeded();
  await frames();
  await view.screenshot({ path: `${SHOTS}/${testInfo.project.name}-denoise.png` });
  await part('pad').getByRole('button', { name: 'Clear' }).click();
  await expect(canvas).toHaveAttribute('data-state', 'ready');
  expect(L.problems).toEqual([]);
});

test('the sparse view: the histogram and the fraction active match the codes', async ({}, testInfo) => {
  await switchTo('sparse');
  const canvas = part('sparsity').locator('canvas');
  await expect(canvas).toHaveAttribute('data-values', String(2000 * 64));
  const shown = {
    active: Number(await canvas.getAttribute('data-active-fraction')),
    mean: Number(await canvas.getAttribute('data-mean')),
    target: Number(await canvas.getAttribute('data-target')),
  };
  const codes = await lab(async () => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(2000);
    const { mu } = await el.encode(images);
    let active = 0;
    let sum = 0;
    for (const v of mu) {
      if (v > 0.5) active++;
      sum += v;
    }
    // Per digit: how many of its largest activations it takes to reach half its total.
    let half = 0;
    for (let i = 0; i < 2000; i++) {
      const code = Array.from(mu.subarray(i * 64, (i + 1) * 64)).sort((a, b) => b - a);
      const total = code.reduce((s, v) => s + v, 0);
      let k = 0;
      for (let acc = 0; acc < total / 2; k++) acc += code[k];
      half += k / 2000;
    }
    return { active: active / mu.length, mean: sum / mu.length, half, inside: mu.every((v) => v >= 0 && v <= 1) };
  });
  testInfo.annotations.push({
    type: 'sparse code',
    description: `${(100 * codes.active).toFixed(2)} % of activations above 0.5; mean ${codes.mean.toFixed(4)} (ρ ${shown.target}); half a digit's activation in ${codes.half.toFixed(2)} of 64 units`,
  });
  expect(codes.inside).toBe(true);
  expect(Number(await canvas.getAttribute('data-half-units'))).toBeCloseTo(codes.half, 3);
  // Sparse: far fewer than the 32 units of a code whose units are all alike.
  expect(codes.half).toBeLessThan(16);
  const hand = await lab(async () => {
    const { halfUnits } = await import('/www/views/sparsity-view.js');
    return [halfUnits([0, 0.9, 0, 0]), halfUnits(new Array(64).fill(0.25)), halfUnits([0.5, 0.3, 0.2])];
  });
  expect(hand).toEqual([1, 32, 1]);
  expect(shown.active).toBeCloseTo(codes.active, 5);
  expect(shown.mean).toBeCloseTo(codes.mean, 5);
  expect(shown.target).toBe(0.05);
  // The readout says the same in words: percent, and units per digit.
  await expect(part('sparsity').locator('[data-readout="active"]')).toContainText(`of 64`);
  const pct = (100 * codes.active).toPrecision(3);
  await expect(part('sparsity').locator('[data-readout="active"]')).toContainText(String(Number(pct)));
  // The histogram is drawn: bars in the first bin at least.
  const drawnPixels = await lab(() => {
    const c = document.querySelector('latent-lab').shadowRoot.querySelector('canvas.sparsity-canvas');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
    return n / (c.width * c.height);
  });
  expect(drawnPixels).toBeGreaterThan(0.05);

  // The drawing's code: its active units are counted.
  await mouseStroke(SEVEN);
  await expect(canvas).toHaveAttribute('data-drawing-active', /\d+/);
  await expect
    .poll(async () => {
      const d = await lab(() => document.querySelector('latent-lab').drawing);
      return Number(await canvas.getAttribute('data-drawing-active')) === d.mu.filter((v) => v > 0.5).length;
    })
    .toBe(true);
  const drawn = await lab(() => document.querySelector('latent-lab').drawing.mu);
  const sorted = [...drawn].sort((a, b) => b - a);
  const drawnHalf = sorted.findIndex((_, k) => sorted.slice(0, k + 1).reduce((s, v) => s + v, 0) >= sorted.reduce((s, v) => s + v, 0) / 2) + 1;
  await expect(canvas).toHaveAttribute('data-drawing-half-units', String(drawnHalf));
  // A live change of the target moves the mark; the model stays.
  const target = part('training').getByLabel('Target ρ', { exact: true });
  await target.fill('0.1');
  await target.press('Enter');
  await expect(canvas).toHaveAttribute('data-target', '0.1');
  expect((await spec()).sparsity.target).toBeCloseTo(0.1, 6);
  expect((await info()).pretrained).toBe('sparse.safetensors');
  // An invalid target is refused inline and changes nothing.
  await target.fill('1.5');
  await target.press('Enter');
  await expect(part('training').locator('.field-target .field-error')).toContainText('below 1');
  expect((await spec()).sparsity.target).toBeCloseTo(0.1, 6);
  await target.fill('0.05');
  await target.press('Enter');
  await expect(canvas).toHaveAttribute('data-target', '0.05');
  await part('sparsity').scrollIntoViewIfNeeded();
  await frames();
  await part('sparsity').screenshot({ path: `${SHOTS}/${testInfo.project.name}-sparsity.png` });
  await part('pad').getByRole('button', { name: 'Clear' }).click();
  expect(L.problems).toEqual([]);
});

test('the β slider changes β while the model trains; the KL/reconstruction plot follows', async ({}, testInfo) => {
  await switchTo('vae');
  const canvas = part('beta-plot').locator('canvas');
  const points = async () => Number(await canvas.getAttribute('data-points'));
  await expect(canvas).toHaveAttribute('data-points', '0');
  await lab(() => document.querySelector('latent-lab').start());
  await expect.poll(points, { timeout: 60_000 }).toBeGreaterThan(2);
  const before = { step: (await lab(() => document.querySelector('latent-lab').metrics)).step, points: await points() };
  expect(before.step).toBeGreaterThan(0);
  // β 1 → 4 with the keyboard (two steps up the slider's scale), while training runs.
  const slider = part('beta-plot').getByLabel('β', { exact: true });
  await slider.focus();
  await L.page.keyboard.press('ArrowRight');
  await L.page.keyboard.press('ArrowRight');
  await expect(part('beta-plot').locator('output')).toHaveText('β = 4');
  await expect.poll(async () => (await spec()).beta).toBe(4);
  // Same model, step count kept: the steps go on from where they were.
  const after = await info();
  expect(after.training).toBe(true);
  expect(after.pretrained).toBe('vae-2d.safetensors');
  expect(after.step).toBeGreaterThanOrEqual(before.step);
  // Points trained with β = 4 arrive, after the β = 1 ones (and maybe a few at β = 2, passed
  // on the way up).
  await expect.poll(async () => JSON.parse(await canvas.getAttribute('data-betas')).at(-1), { timeout: 60_000 }).toBe(4);
  expect(JSON.parse(await canvas.getAttribute('data-betas'))[0]).toBe(1);
  await expect.poll(points, { timeout: 60_000 }).toBeGreaterThan(before.points + 2);
  const history = (await lab(() => document.querySelector('latent-lab').metrics)).history;
  const firstFour = history.findIndex((m) => m.beta === 4);
  expect(firstFour).toBeGreaterThan(0);
  expect(history.slice(firstFour).every((m) => m.beta === 4)).toBe(true);
  expect(history[firstFour].step).toBeGreaterThan(before.step);
  const stopped = await lab(() => document.querySelector('latent-lab').stop());
  expect(stopped.step).toBeGreaterThan(before.step);
  await expect(part('training').locator('[data-readout="step"]')).not.toHaveText('0');
  await expect(part('training').locator('.model-summary')).toContainText('β-VAE 784-400-2 (β = 4)');
  await expect(part('training').getByLabel('β (KL weight)', { exact: true })).toHaveValue('4');
  testInfo.annotations.push({ type: 'β run', description: `β 1 → 4 at step ≈ ${before.step}; stopped at ${stopped.step}; ${await points()} points` });
  // Back to β = 1 from the switcher's field: the slider follows.
  const field = part('training').getByLabel('β (KL weight)', { exact: true });
  await field.fill('1');
  await field.press('Enter');
  await expect.poll(async () => (await spec()).beta).toBe(1);
  await expect(part('beta-plot').locator('output')).toHaveText('β = 1');
  await expect(slider).toHaveAttribute('aria-valuetext', 'β = 1');
  await part('beta-plot').scrollIntoViewIfNeeded();
  await frames();
  await part('beta-plot').screenshot({ path: `${SHOTS}/${testInfo.project.name}-beta-plot.png` });
  expect(L.problems).toEqual([]);
});

test('screenshots of the kinds views and the switcher: desktop and phone, light and dark', async ({}, testInfo) => {
  const project = testInfo.project.name;
  // The pictures and the overflow checks do not depend on the backend: taken once, on the
  // CPU engine (a β run on SwiftShader takes a minute; the views are the same).
  test.skip(project !== 'cpu', 'the pictures are taken once, on the CPU engine');
  const views = [
    ['vae', 'beta-plot'],
    ['dae', 'denoise'],
    ['sparse', 'sparsity'],
    ['contractive', 'contractive'],
    ['cvae', 'cvae'],
    ['conv_ae', 'filters'],
  ];
  // The β plot: the run of the previous test goes on through β 4, 0.25 and 1 again, so the
  // picture shows the trade-off (fewer steps on SwiftShader, where a step takes ~0.5 s).
  test.setTimeout(300_000);
  const steps = project === 'webgpu' ? 30 : 120;
  await lab(async (steps) => {
    const el = document.querySelector('latent-lab');
    for (const beta of [4, 0.25, 1]) {
      await el.setSpec({ beta });
      await el.train({ steps });
    }
  }, steps);
  // The other views need a drawing.
  await mouseStroke(SEVEN);
  for (const [kind, name] of views) {
    if ((await spec()).kind !== kind) await switchTo(kind);
    if (kind === 'dae') await expect(part('denoise').locator('canvas')).toHaveAttribute('data-state', 'drawn');
    if (kind === 'sparse') {
      // The drawing's ticks and the held-out digits' histogram arrive separately.
      await expect(part('sparsity').locator('canvas')).toHaveAttribute('data-drawing-active', /\d+/);
      await expect(part('sparsity').locator('canvas')).toHaveAttribute('data-values', /\d+/);
    }
    if (['contractive', 'cvae', 'filters'].includes(name)) {
      await expect(part(name).locator('canvas[data-state="drawing"]').first()).toBeVisible();
    }
    for (const [device, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['phone', { width: 375, height: 800 }],
    ]) {
      await L.page.setViewportSize(viewport);
      for (const scheme of ['light', 'dark']) {
        await L.page.emulateMedia({ colorScheme: scheme });
        await part(name).scrollIntoViewIfNeeded();
        await frames();
        await part(name).screenshot({ path: `${SHOTS}/${project}-${device}-${scheme}-${name}.png` });
        if (name === 'sparsity') {
          await part('training').scrollIntoViewIfNeeded();
          await frames();
          await part('training').screenshot({ path: `${SHOTS}/${project}-${device}-${scheme}-switcher.png` });
        }
        const overflow = await L.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${device} ${scheme} ${name}: horizontal overflow`).toBeLessThanOrEqual(0);
      }
    }
    await L.page.setViewportSize({ width: 1280, height: 900 });
    await L.page.emulateMedia({ colorScheme: 'light' });
    // The β plot is gone with its model when the kind changes.
    if (kind === 'vae') await switchTo('dae');
  }
  await part('pad').getByRole('button', { name: 'Clear' }).click();
  expect(L.problems).toEqual([]);
});
