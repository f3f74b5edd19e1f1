// Writes dist/: the folder a teacher copies next to a course page (or publishes to npm and
// loads from a CDN). Its one entry is dist/latent-lab.js; beside it, exactly what the widget
// loads — the ES modules reachable from the entry and from the engine's worker, the wasm
// engine, the bundled data sets and the pretrained models — and a package.json that makes the
// folder an npm package. Every URL inside is resolved from its module's own URL, so the
// folder works under any sub-path of any static host, and from another origin.
//
// usage: node scripts/build-dist.mjs [--out dist]
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WWW = join(ROOT, 'www');
const args = process.argv.slice(2);
const at = args.indexOf('--out');
const out = resolve(ROOT, at >= 0 && args[at + 1] ? args[at + 1] : 'dist');

// The module graph: static imports (`import … from './x.js'`, `import './x.js'`) from the
// entry and from the worker, which the engine client starts by URL.
const ENTRIES = ['latent-lab.js', 'engine-worker.js', 'embed.js', 'embed-resize.js'];
const IMPORT = /(?:^|[;\s])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"](\.{1,2}\/[^'"]+)['"]/g;

function modules() {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    const path = join(WWW, file);
    if (!existsSync(path)) throw new Error(`${relative(ROOT, path)} is imported but missing (run make wasm?)`);
    seen.add(file);
    const text = readFileSync(path, 'utf8');
    for (const [, spec] of text.matchAll(IMPORT)) visit(relative(WWW, join(dirname(path), spec)));
  };
  ENTRIES.forEach(visit);
  return [...seen].sort();
}

// What the modules fetch by URL: the wasm (next to its glue), the data sets of
// www/util/datasets.js (each fetched only when a widget switches to it), the models.
const { DATASETS } = await import(join(WWW, 'util/datasets.js'));
const ASSETS = ['pkg/latent_lab_bg.wasm', ...Object.values(DATASETS).map((d) => `data/${d.file}`), 'models'];
// The pages beside the widget: embed.html (one widget, settings in the hash, for iframes and
// links) and the example course page.
const PAGES = ['embed.html', 'embed.css', 'favicon.svg', 'examples/course.html', 'examples/course.css'];

const files = [...modules(), ...ASSETS, ...PAGES];
for (const f of [...ASSETS, ...PAGES]) {
  if (!existsSync(join(WWW, f))) throw new Error(`www/${f} is missing: run make data wasm first`);
}
rmSync(out, { recursive: true, force: true });
for (const f of files) {
  mkdirSync(dirname(join(out, f)), { recursive: true });
  cpSync(join(WWW, f), join(out, f), { recursive: true });
}

const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const pkg = {
  name: 'latent-lab',
  version: root.version,
  description: 'Autoencoders that train and run in the browser on the GPU: the <latent-lab> custom element (WebGPU, with a CPU fallback in WebAssembly)',
  license: root.license,
  type: 'module',
  main: './latent-lab.js',
  module: './latent-lab.js',
  exports: { '.': './latent-lab.js', './embed-resize.js': './embed-resize.js', './package.json': './package.json' },
  files: [...new Set(files.map((f) => f.split('/')[0]))].sort(),
  keywords: ['autoencoder', 'vae', 'webgpu', 'wasm', 'custom-element', 'teaching'],
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

let total = 0;
const walk = (p) => {
  if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  else total += statSync(p).size;
};
walk(out);
console.log(`dist: ${relative(ROOT, out)}/ — ${files.length} entries (${files.length - ASSETS.length - PAGES.length} modules), ${(total / 1e6).toFixed(1)} MB`);
