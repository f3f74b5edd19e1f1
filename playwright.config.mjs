// Playwright configuration for Latent Lab's browser tests.
//
// The browser is Debian's Chromium (/usr/bin/chromium, installed by `scripts/setup.sh --test`):
// `npx playwright install` (browser download) does not work on this project's machines.
//
// Two projects run every test in tests/browser/:
//   webgpu  Chromium with WebGPU on SwiftShader (CPU-emulated Vulkan). Only
//           `--enable-unsafe-webgpu` is needed for headless Chromium to return an adapter
//           (vendor "google", architecture "swiftshader", isFallbackAdapter true); the flags
//           --enable-features=Vulkan, --use-angle=swiftshader and --use-webgpu-adapter=swiftshader
//           were tried and change nothing, so they are left out.
//   cpu     the same Chromium without that flag: `navigator.gpu` exists but
//           `requestAdapter()` resolves to null, so the page must take its CPU fallback.
// Tests can branch on `testInfo.project.name` ('webgpu' | 'cpu').
//
// WebGPU needs a secure context: http://127.0.0.1 counts, about:blank and data: URLs do not.
// The page is served from the repo root by `python3 -m http.server` on 127.0.0.1:8081
// (`make serve` uses 8080, so both can run at once).
//
// Playwright's own output (failure screenshots, traces) goes to test-results/; screenshots a
// test takes on purpose go to artifacts/screenshots/ (tests write them there themselves).
import { defineConfig } from '@playwright/test';

const PORT = 8081;
const BASE_URL = `http://127.0.0.1:${PORT}`;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Keep Chromium quiet on a closed network (see shared docs/ENVIRONMENT.md).
const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];

const chromium = (extraArgs) => ({
  browserName: 'chromium',
  headless: true,
  launchOptions: { executablePath: CHROMIUM, args: [...QUIET_FLAGS, ...extraArgs] },
});

export default defineConfig({
  testDir: 'tests/browser',
  testMatch: /.*\.spec\.m?js$/,
  outputDir: 'test-results',
  // 'list' for people; the JSON file lets `make test` print a plain 'N passed, N failed' line.
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  // 2 cores, and WebGPU on SwiftShader is CPU heavy: one test at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  use: {
    baseURL: BASE_URL,
    actionTimeout: 30_000,
    navigationTimeout: 60_000,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    { name: 'webgpu', use: chromium(WEBGPU_FLAGS) },
    { name: 'cpu', use: chromium([]) },
  ],
  webServer: {
    // Static files from the repo root (index.html, www/, www/pkg, www/data), loopback only.
    command: `python3 -m http.server --bind 127.0.0.1 ${PORT}`,
    url: `${BASE_URL}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 30_000,
    // http.server logs every request on stderr; that noise would bury the test report.
    stdout: 'ignore',
    stderr: 'ignore',
  },
});
