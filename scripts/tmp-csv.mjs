import { chromium } from '@playwright/test';
import { QUIET_ARGS, serveStatic } from './serve-static.mjs';
import path from 'node:path';
const { base, close } = await serveStatic(path.resolve('.'));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...QUIET_ARGS, '--enable-unsafe-webgpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
page.on('pageerror', (e) => console.log('pageerror', e.message));
await page.goto(`${base}/www/embed.html#backend=${process.argv[2] ?? 'cpu'}&kind=dae`);
await page.evaluate(() => document.querySelector('latent-lab').ready);
const el = 'document.querySelector("latent-lab")';
// A good table: 3 features + label, through the drop target.
let rows = ['a,b,c,label'];
for (let i = 0; i < 300; i++) rows.push(`${Math.sin(i)},${Math.cos(i) * 2},${(i % 7) / 7},${i % 50 === 0 ? 1 : 0}`);
const good = rows.join('\n');
const bad = 'a,b\n1,2\n3,x\n';
for (const [name, text] of [['bad.csv', bad], ['good.csv', good]]) {
  await page.evaluate(([name, text]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], name, { type: 'text/csv' }));
    document.querySelector('latent-lab').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [name, text]);
  await page.waitForTimeout(1500);
  const r = await page.evaluate(() => {
    const root = document.querySelector('latent-lab').shadowRoot;
    const i = document.querySelector('latent-lab').info;
    return { status: root.querySelector('.data-switcher .field-error').textContent, data: i.data, shape: i.shape, spec: JSON.parse(i.spec).kind, label: root.querySelector('.field-label select').value, hidden: root.querySelector('.field-label').hidden, sentence: root.querySelector('.data-sentence').textContent };
  });
  console.log(name, JSON.stringify(r));
}
const t = await page.evaluate(() => document.querySelector('latent-lab').train({ steps: 200 }));
console.log(JSON.stringify(t));
await page.waitForTimeout(1500);
await page.screenshot({ path: '/tmp/shot-csv.png', fullPage: true });
await browser.close();
await close();
