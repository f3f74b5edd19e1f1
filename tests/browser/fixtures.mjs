// The `test` every spec uses: Playwright's, with the webgpu project kept on WebGPU.
//
// SwiftShader is a software adapter, so there `backend="auto"` runs the CPU engine (it trains
// faster). The webgpu project exists to run the WGSL kernels in a browser, so every page it
// opens starts with the reader's stored choice of WebGPU — what the badge's "Use WebGPU"
// button stores — and `auto` honours it. `unforced(browser)` opens a context without that
// choice, for the tests of the rule itself.
import { test as base, expect } from '@playwright/test';

export { expect };

const CHOOSE_WEBGPU = `try { localStorage.setItem('latent-lab:backend', 'webgpu'); } catch {}`;
const PLAIN = Symbol('newContext without the stored choice');

export const test = base.extend({
  browser: [
    async ({ browser }, use, workerInfo) => {
      if (workerInfo.project.name === 'webgpu' && !browser[PLAIN]) {
        const plain = browser.newContext.bind(browser);
        browser[PLAIN] = plain;
        browser.newContext = async (options) => {
          const context = await plain(options);
          await context.addInitScript(CHOOSE_WEBGPU);
          return context;
        };
        browser.newPage = async (options) => {
          const context = await browser.newContext(options);
          const page = await context.newPage();
          page.on('close', () => context.close().catch(() => {}));
          return page;
        };
      }
      await use(browser);
    },
    { scope: 'worker' },
  ],
  context: async ({ context }, use, testInfo) => {
    if (testInfo.project.name === 'webgpu') await context.addInitScript(CHOOSE_WEBGPU);
    await use(context);
  },
});

/** A context of `browser` in which no backend was chosen (`options`: newContext's). */
export function unforced(browser, options) {
  return (browser[PLAIN] ?? browser.newContext.bind(browser))(options);
}
