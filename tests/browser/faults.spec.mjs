// Faults contained, on both backends: a panic inside the engine (the test hook, at once and
// inside an awaited call, and the panics users found: batch size 1, a huge decode, a huge
// model) never leaves a call hanging or the page stuck. The element restarts its engine
// from the last good model, and says so.
import { test, expect } from './fixtures.mjs';
import { useLabPage } from './lab-page.mjs';

test.describe.configure({ mode: 'serial' });
const lab = useLabPage(test);

const FAST_SPEC = { hidden: [64], batch_size: 32 };

/** Reconstructions of the first `n` test digits, and the engine's step. */
function snapshot(n = 3) {
  return lab.run(async (n) => {
    const el = document.querySelector('latent-lab');
    const { images } = await el.testImages(n);
    return { recon: Array.from(await el.reconstruct(images)), step: el.info.step, spec: el.info.spec };
  }, n);
}

/** Errors the element reports, from now on (the `error` events' messages). */
async function recordErrors() {
  await lab.run(() => {
    window.labErrors = [];
    document.querySelector('latent-lab').addEventListener('error', (e) => window.labErrors.push(e.detail.message));
  });
  return () => lab.run(() => window.labErrors);
}

for (const when of ['now', 'async']) {
  test(`a panic inside the engine (${when}) rejects the pending calls; the engine restarts with the last good model`, async ({}, testInfo) => {
    // A trained model that differs from the shipped one: the restart must restore it, not the file.
    await lab.run(async (spec) => {
      const el = document.querySelector('latent-lab');
      await el.reset(spec);
      await el.train({ steps: 7 });
    }, FAST_SPEC);
    const before = await snapshot();
    expect(before.step).toBe(7);
    const errors = await recordErrors();
    const outcome = await lab.run(async (when) => {
      const el = document.querySelector('latent-lab');
      const { images } = await el.testImages(2);
      const restarted = el.simulatePanic(when);
      // Calls made while the engine dies: each settles (none hangs), with the reason.
      const pending = await Promise.allSettled([el.reconstruct(images), el.sample(2, 1), el.encode(images)]);
      const info = await restarted;
      return { pending: pending.map((p) => p.status === 'rejected' ? `rejected: ${p.reason.message}` : 'fulfilled'), info };
    }, when);
    testInfo.annotations.push({ type: 'pending calls', description: outcome.pending.join(' | ') });
    // The calls sent before the crash reached the engine were rejected with the panic's message;
    // any sent after waited for the new engine and were answered by it.
    expect(outcome.pending.some((p) => /rejected: .*panic inside the engine \(simulated panic/.test(p))).toBe(true);
    for (const p of outcome.pending) expect(p === 'fulfilled' || /panic inside the engine/.test(p)).toBe(true);
    // Restored: same spec, same step, same weights (identical reconstructions on the same backend).
    expect(outcome.info.step).toBe(7);
    expect(outcome.info.backend).toBe(testInfo.project.name === 'webgpu' ? 'webgpu' : 'cpu');
    const after = await snapshot();
    expect(after.spec).toBe(before.spec);
    expect(after.step).toBe(7);
    expect(after.recon).toEqual(before.recon);
    // Said plainly, as an error event and in the element.
    expect((await errors()).some((m) => /The engine stopped: a panic inside the engine/.test(m))).toBe(true);
    await expect(lab.part('messages')).toContainText('The engine was restarted after a crash');
    // The plots keep the run up to the restored step: the loss plot and the β path.
    await expect(lab.part('loss-plot').locator('canvas')).toHaveAttribute('data-last-step', '7');
    await expect(lab.part('beta-plot').locator('canvas.beta-canvas')).not.toHaveAttribute('data-points', '0');
    await expect(lab.part('messages')).toContainText('step 7');
    await expect(lab.part('backend')).toContainText(testInfo.project.name === 'webgpu' ? 'WebGPU' : 'CPU');
    // The new engine trains on from step 7.
    const result = await lab.run(() => document.querySelector('latent-lab').train({ steps: 3 }));
    expect(result).toEqual({ step: 10, reason: 'done' });
    // The panic hook's report is the one console error a panic makes.
    const panics = lab.problems.filter((p) => /simulated panic/.test(p));
    lab.problems.splice(0, lab.problems.length, ...lab.problems.filter((p) => !/simulated panic/.test(p)));
    expect(panics.length).toBeGreaterThan(0);
    expect(lab.problems).toEqual([]);
    // One message tells the whole episode: the "restarting" notice gave way to it.
    const messages = lab.page.locator('latent-lab [part="messages"] .message');
    await expect(messages).toHaveCount(1);
    await expect(messages).toContainText('(a panic inside the engine (simulated panic');
    await messages.locator('.close').click();
  });
}

test('a conditional model comes back with its label', async () => {
  await lab.switchTo('cvae');
  await lab.run(() => document.querySelector('latent-lab').setCondition(7));
  const before = await lab.run(async () => {
    const el = document.querySelector('latent-lab');
    return Array.from(await el.sample(3, 5)); // drawn with the condition: 7
  });
  const info = await lab.run(() => document.querySelector('latent-lab').simulatePanic('now'));
  expect(info.condition).toBe(7);
  expect(JSON.parse(info.spec).kind).toBe('cvae');
  const after = await lab.run(async () => Array.from(await document.querySelector('latent-lab').sample(3, 5)));
  expect(after).toEqual(before);
  lab.problems.splice(0, lab.problems.length, ...lab.problems.filter((p) => !/simulated panic/.test(p)));
  expect(lab.problems).toEqual([]);
  // A fresh page (and crash count) for the tests after this one.
  await lab.page.reload();
  await lab.run(() => document.querySelector('latent-lab').ready);
});

test('an abort without a panic message (as out of memory is) is contained too', async ({}, testInfo) => {
  const before = await snapshot();
  const errors = await recordErrors();
  const info = await lab.run(() => document.querySelector('latent-lab').simulatePanic('abort'));
  expect(info.step).toBe(before.step);
  expect((await snapshot()).recon).toEqual(before.recon);
  expect((await errors()).some((m) => /a fault inside the engine \(RuntimeError: unreachable.*out of memory\)/.test(m))).toBe(true);
  await expect(lab.part('backend')).toContainText(testInfo.project.name === 'webgpu' ? 'WebGPU' : 'CPU');
  expect(lab.problems).toEqual([]);
});

test('more than three crashes within a minute stop the restarts, with a message to reload', async () => {
  // A fresh page: three crashes are restarted (seconds apart on any machine this runs on)…
  await lab.page.reload();
  await lab.run(() => document.querySelector('latent-lab').ready);
  for (let i = 0; i < 3; i++) await lab.run(() => document.querySelector('latent-lab').simulatePanic('now'));
  // …a fourth is not.
  const refused = await lab.run(() => document.querySelector('latent-lab').simulatePanic('now').then(() => null, (e) => e.message));
  expect(refused).toMatch(/the engine stopped: a panic inside the engine/);
  await expect(lab.part('messages')).toContainText('It was not restarted (it failed 4 times within a minute): reload the page.');
  await expect(lab.part('backend')).toContainText('stopped');
  // Calls now reject at once instead of hanging.
  const call = await lab.run(() => document.querySelector('latent-lab').sample(2, 1).then(() => 'answered', (e) => e.message));
  expect(call).toMatch(/engine stopped/);
  lab.problems.splice(0, lab.problems.length, ...lab.problems.filter((p) => !/simulated panic/.test(p)));
  expect(lab.problems).toEqual([]);
  // A fresh page for the tests after this one.
  await lab.page.reload();
  await lab.run(() => document.querySelector('latent-lab').ready);
});

test('the panics users found are refused with the reason instead', async ({}, testInfo) => {
  const results = await lab.run(async () => {
    const el = document.querySelector('latent-lab');
    const settle = (p) => p.then((v) => ({ ok: true, value: v }), (e) => ({ ok: false, message: e.message }));
    const out = {};
    // Batch size 1 works (it used to panic while the model was built).
    out.batch1 = await settle(el.reset({ hidden: [32], batch_size: 1 }).then(() => el.train({ steps: 3 })));
    out.batch1Loss = el.metrics.history.map((p) => p.recon);
    // A decode of 1.4 million rows is refused before anything is allocated.
    out.decode = await settle(el.decode(new Float32Array(2_800_000)));
    // A model of 174 M parameters is refused by validation, with the model kept.
    out.huge = await settle(el.reset({ hidden: [4096, 4096, 4096, 4096, 4096, 4096] }));
    out.spec = JSON.parse(el.info.spec);
    out.afterwards = await settle(el.sample(2, 3).then((s) => s.length));
    return out;
  });
  expect(results.batch1).toMatchObject({ ok: true, value: { step: 3, reason: 'done' } });
  expect(results.batch1Loss.length).toBeGreaterThan(0);
  expect(results.batch1Loss.every(Number.isFinite)).toBe(true);
  expect(results.decode.ok).toBe(false);
  expect(results.decode.message).toMatch(/decode asks for 1,400,000 rows; the limit is 10,000 rows per request in the browser/);
  expect(results.huge.ok).toBe(false);
  expect(results.huge.message).toMatch(/174,269,204 parameters; the limit is 4,000,000 parameters in the browser/);
  expect(results.spec).toMatchObject({ hidden: [32], batch_size: 1 });
  expect(results.afterwards).toEqual({ ok: true, value: 2 * 784 });
  // The Reset form takes batch size 1 too.
  const form = lab.part('training');
  await form.getByLabel('Batch size').fill('1');
  await form.getByRole('button', { name: 'Reset' }).click();
  await expect.poll(async () => (await lab.spec()).batch_size).toBe(1);
  expect(lab.problems).toEqual([]);
});

test('a weights file whose spec says batch 1 loads; one that overflows in use is refused and the model kept', async () => {
  const out = await lab.run(async () => {
    const el = document.querySelector('latent-lab');
    await el.reset({ hidden: [16], batch_size: 1, latent: 3 });
    const bytes = await el.saveWeights();
    await el.reset({ hidden: [24] });
    const loaded = await el.loadWeights(bytes).then((info) => JSON.parse(info.spec));
    // The same file with every weight set to f32::MAX: finite, but it overflows in use.
    const header = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const huge = bytes.slice();
    const data = new DataView(huge.buffer, 8 + header);
    for (let i = 0; i + 4 <= data.byteLength; i += 4) data.setFloat32(i, 3.4028234663852886e38, true);
    const { images } = await el.testImages(2);
    const before = Array.from(await el.reconstruct(images));
    const refused = await el.loadWeights(huge).then(() => null, (e) => e.message);
    const after = Array.from(await el.reconstruct(images));
    return { loaded, refused, same: before.every((v, i) => v === after[i]), spec: JSON.parse(el.info.spec) };
  });
  expect(out.loaded).toMatchObject({ hidden: [16], batch_size: 1, latent: 3 });
  expect(out.refused).toMatch(/overflow in use/);
  expect(out.same).toBe(true);
  expect(out.spec).toMatchObject({ hidden: [16], batch_size: 1, latent: 3 });
  expect(lab.problems).toEqual([]);
});

test('after a divergence is rolled back, the loss history and the plot drop its points', async () => {
  const out = await lab.run(async (spec) => {
    const el = document.querySelector('latent-lab');
    await el.reset(spec);
    await el.train({ steps: 20 }); // a good start (lr 1e-3)
    const good = el.metrics.history.at(-1).step;
    await el.setSpec({ optimizer: { lr: 1 } }); // then the learning rate explodes
    const rolledBack = new Promise((resolve) => el.addEventListener('state', (e) => e.detail.reason === 'diverged' && resolve(e.detail.step)));
    const result = await el.train({ steps: 400 });
    const step = await rolledBack;
    return { good, result, step, history: el.metrics.history.map((p) => p.step), plot: el.shadowRoot.querySelector('[part="loss-plot"] canvas').dataset.lastStep };
  }, FAST_SPEC);
  expect(out.result.reason).toBe('diverged');
  expect(out.step).toBeGreaterThanOrEqual(out.good - 1);
  expect(out.history.length).toBeGreaterThan(0);
  expect(Math.max(...out.history)).toBeLessThanOrEqual(out.step);
  await expect.poll(() => lab.part('loss-plot').locator('canvas').getAttribute('data-last-step')).toBe(String(Math.max(...out.history)));
  await lab.page.locator('latent-lab [part="messages"] .message .close').first().click();
  expect(lab.problems).toEqual([]);
});
