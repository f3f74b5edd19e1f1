// The browser the other tests rely on: project `webgpu` must expose a WebGPU adapter
// (SwiftShader), project `cpu` must not (requestAdapter() resolves to null), so the page's
// GPU path and its CPU fallback are both exercised.
//
// The page under test is not loaded: a blank document is served by request interception on the
// test server's origin. WebGPU needs a secure context, which http://127.0.0.1 is and
// about:blank / data: URLs are not.
import { test, expect } from './fixtures.mjs';

const BLANK = '/__environment_check__.html';

async function openBlank(page) {
  await page.route(`**${BLANK}`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>environment</title>' }),
  );
  await page.goto(BLANK);
  expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
}

// Runs in the page (or, as a string, in a worker): describes the adapter or returns null.
async function probeAdapter() {
  if (!('gpu' in navigator)) return { gpu: false, adapter: null };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { gpu: true, adapter: null };
  const info = adapter.info ?? {};
  return {
    gpu: true,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    },
  };
}

test('WebGPU adapter matches the project', async ({ page }, testInfo) => {
  await openBlank(page);
  const result = await page.evaluate(probeAdapter);
  testInfo.annotations.push({ type: 'adapter', description: JSON.stringify(result) });
  expect(result.gpu, 'navigator.gpu exists in both projects').toBe(true);
  if (testInfo.project.name === 'webgpu') {
    expect(result.adapter, 'WebGPU adapter (SwiftShader)').not.toBeNull();
    expect(result.adapter.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
  } else {
    expect(result.adapter, 'no WebGPU adapter: CPU fallback path').toBeNull();
  }
});

test('a module Worker sees the same WebGPU as the page', async ({ page }, testInfo) => {
  // The engine runs in a module Worker, so WebGPU must be reachable there too.
  await openBlank(page);
  const result = await page.evaluate(async (probeSource) => {
    const src = `const probe = ${probeSource};\nprobe().then((r) => postMessage(r), (e) => postMessage({ error: String(e) }));`;
    const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    try {
      return await new Promise((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message));
      });
    } finally {
      worker.terminate();
      URL.revokeObjectURL(url);
    }
  }, probeAdapter.toString());
  expect(result.error).toBeUndefined();
  if (testInfo.project.name === 'webgpu') {
    expect(result.adapter).not.toBeNull();
  } else {
    expect(result.adapter).toBeNull();
  }
});
