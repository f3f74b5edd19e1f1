// Writes www/vendor/: the npm packages the page runs, as ES modules the browser can import
// without a bundler. umap-js ships one self-contained bundle in the CommonJS/UMD shape; it is
// wrapped so that `import { UMAP } from './vendor/umap.js'` works in the engine's module
// worker (no eval, so the page's strict Content-Security-Policy still holds).
//
// usage: node scripts/build-vendor.mjs   (make vendor; make serve, test and dist run it)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'www', 'vendor');
const pkg = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));

const umap = pkg('umap-js');
const bundle = readFileSync(join(ROOT, 'node_modules', 'umap-js', 'lib', 'umap-js.min.js'), 'utf8');
mkdirSync(OUT, { recursive: true });
writeFileSync(
  join(OUT, 'umap.js'),
  `// umap-js ${umap.version} (${umap.license}, https://github.com/PAIR-code/umap-js), its lib/umap-js.min.js\n` +
    '// wrapped as an ES module by scripts/build-vendor.mjs. Do not edit: make vendor writes it.\n' +
    'const module = { exports: {} };\nconst exports = module.exports;\n' +
    `${bundle}\n` +
    'export const UMAP = module.exports.UMAP;\n',
);
console.log(`vendor: www/vendor/umap.js (umap-js ${umap.version})`);
