import { chromium } from 'playwright-core';
import { serveStatic, QUIET_ARGS } from '/work/main/scripts/serve-static.mjs';
const srv = await serveStatic('/work/main/dist');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...QUIET_ARGS] });
const [w, hgt, scheme] = [Number(process.argv[2] ?? 1280), Number(process.argv[3] ?? 900), process.argv[4] ?? 'light'];
const page = await browser.newPage({ viewport: { width: w, height: hgt }, colorScheme: scheme });
await page.goto(srv.base + '/examples/course.html');
const ids = (process.argv[5] ?? 'compress,generate,beta,denoise').split(',');
for (const id of ids) {
  await page.evaluate((id) => document.getElementById(id).scrollIntoView(), id);
  await page.evaluate((id) => Promise.all([...document.querySelectorAll(`#${id} latent-lab`)].map((e) => e.ready)), id);
  await page.waitForTimeout(2500);
  await page.screenshot({ path: `/tmp/sec-${id}-${w}-${scheme}.png` });
}
await browser.close(); await srv.close();
