// The page under the strictest Content-Security-Policy that still allows WebAssembly, sent
// as a response header on every file: no inline script or style, no eval, workers and
// fetches from the page's own origin only. Any violation fails the test, in the page or in
// the engine's worker (which forwards its own).
import { test, expect } from './fixtures.mjs';
import { SEVEN } from './lab-page.mjs';

export const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self'; img-src 'self' data:";

test('the page and its engine work under a strict Content-Security-Policy', async ({ page }) => {
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.route('**/*', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': POLICY } });
  });
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  await page.goto('/');
  const info = await page.evaluate(() => document.querySelector('latent-lab').ready);
  expect(['webgpu', 'cpu']).toContain(info.backend);

  // Use it: draw, train, switch kind (a fetched model), look at the legend's colours.
  const part = (name) => page.locator(`latent-lab [part="${name}"]`);
  const canvas = part('pad').locator('canvas.pad-canvas');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + SEVEN[0][0] * box.width, box.y + SEVEN[0][1] * box.height);
  await page.mouse.down();
  for (const [x, y] of SEVEN.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 6 });
  await page.mouse.up();
  await expect.poll(() => page.evaluate(() => document.querySelector('latent-lab').drawing?.updates ?? 0)).toBeGreaterThan(0);
  await page.evaluate(() => document.querySelector('latent-lab').train({ steps: 2 }));
  const select = part('training').getByLabel('Model kind');
  await select.selectOption('dae');
  await expect.poll(async () => JSON.parse((await page.evaluate(() => document.querySelector('latent-lab').info)).spec).kind, { timeout: 60_000 }).toBe('dae');
  await select.selectOption('vae');
  await expect.poll(async () => JSON.parse((await page.evaluate(() => document.querySelector('latent-lab').info)).spec).kind, { timeout: 60_000 }).toBe('vae');
  // The swatches' colours are set through the CSSOM, which the policy allows.
  const swatch = await part('latent-map').locator('.map-legend li').first().evaluate((li) => li.style.getPropertyValue('--swatch'));
  expect(swatch).not.toBe('');
  // The page's own stylesheet applied (it is a file now, not an inline <style>).
  expect(await page.evaluate(() => getComputedStyle(document.querySelector('latent-lab')).display)).toBe('block');

  expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
  expect(problems).toEqual([]);

  // And the policy was in force, in the page and in the worker: an inline style is refused
  // in the page, a fetch to another origin in the worker.
  const probe = await page.evaluate(() => {
    const style = document.createElement('style');
    style.textContent = 'body { --csp-probe: 1; }';
    document.head.append(style);
    return getComputedStyle(document.body).getPropertyValue('--csp-probe');
  });
  expect(probe).toBe('');
  await expect.poll(() => page.evaluate(() => window.cspViolations)).toEqual(["style-src-elem: inline"]);
  const worker = page.workers().find((w) => w.url().includes('engine-worker'));
  const refused = await worker.evaluate(
    () =>
      new Promise((resolve) => {
        self.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
        fetch('http://192.0.2.1/').catch(() => {});
      }),
  );
  expect(refused).toBe('connect-src');
  // The engine told the page, which shows it.
  await expect(part('messages')).toContainText('Content-Security-Policy refused http://192.0.2.1/', { timeout: 20_000 });
  await page.unrouteAll({ behavior: 'ignoreErrors' }); // requests still in flight as the page closes
});

test('a policy that forbids the engine’s worker: the element says so instead of waiting forever', async ({ page }) => {
  const policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'none'; style-src 'self'; img-src 'self' data:";
  await page.route('**/*', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': policy } });
  });
  await page.goto('/');
  const error = await page.evaluate(() => document.querySelector('latent-lab').ready.then(() => null, (e) => e.message));
  expect(error).toBeTruthy();
  await expect(page.locator('latent-lab [part="messages"] .message.error')).toContainText('The engine could not start');
  await expect(page.locator('latent-lab [part="backend"]')).toContainText('could not start');
  // Calls reject with the reason rather than hang.
  const call = await page.evaluate(() => document.querySelector('latent-lab').sample(1, 0).then(() => 'answered', (e) => e.message));
  expect(call).toBe(error);
  await page.unrouteAll({ behavior: 'ignoreErrors' }); // requests still in flight as the page closes
});
