// One page of the lab shared by the serial tests of a spec file, and the helpers those tests
// use on it: a part of the element, a call in the page, the engine's info and spec, a kind
// chosen in the switcher, a mouse stroke on the pad.
import { expect } from '@playwright/test';

/** A 7 in one stroke, in pad units ([0, 1]², y down). */
export const SEVEN = [
  [0.28, 0.22],
  [0.72, 0.22],
  [0.42, 0.8],
];

/**
 * Registers beforeAll/afterAll on `test` that open the page (and wait for the engine) and
 * close it. `lab.page` and `lab.problems` (console errors and page errors, which every test
 * expects to stay empty) are set once beforeAll has run.
 */
export function useLabPage(test, { viewport = { width: 1280, height: 900 } } = {}) {
  const lab = {
    page: null,
    problems: [],
    part: (name) => lab.page.locator(`latent-lab [part="${name}"]`),
    run: (fn, arg) => lab.page.evaluate(fn, arg),
    info: () => lab.run(() => document.querySelector('latent-lab').info),
    spec: async () => JSON.parse((await lab.info()).spec),
    frames: () => lab.run(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))),

    /**
     * Chooses a kind in the switcher and waits until the element runs a model of it. The
     * load waits in the engine's queue behind the views' requests, which on a software GPU
     * take seconds each for a convolutional model: hence the long wait.
     */
    async switchTo(kind) {
      const select = lab.part('training').getByLabel('Model kind');
      await select.selectOption(kind);
      await expect.poll(async () => (await lab.spec()).kind, { timeout: 90_000 }).toBe(kind);
      await expect(select).toBeEnabled();
    },

    /** A stroke with the mouse across the pad, through points in pad units ([0, 1]). */
    async mouseStroke(points) {
      const canvas = lab.part('pad').locator('canvas.pad-canvas');
      await canvas.scrollIntoViewIfNeeded();
      const box = await canvas.boundingBox();
      const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
      await lab.page.mouse.move(...at(points[0]));
      await lab.page.mouse.down();
      for (const p of points.slice(1)) await lab.page.mouse.move(...at(p), { steps: 6 });
      await lab.page.mouse.up();
    },
  };
  test.beforeAll(async ({ browser }) => {
    lab.page = await browser.newPage({ viewport });
    lab.problems = [];
    lab.page.on('console', (m) => {
      if (m.type() === 'error') lab.problems.push(`console.error: ${m.text()}`);
    });
    lab.page.on('pageerror', (e) => lab.problems.push(`pageerror: ${e.message}`));
    await lab.page.goto('/');
    await lab.page.evaluate(() => document.querySelector('latent-lab').ready);
  });
  test.afterAll(async () => {
    await lab.page?.close();
  });
  return lab;
}
