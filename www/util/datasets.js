// The data sets the page offers, as one table: the switcher, the `data` attribute, the
// worker (which file to fetch) and the views (what a label means) all read it. Pure data
// and functions: no DOM. `make data` (scripts/build-data.mjs) writes the files; the README
// says where each comes from and under which licence.
//
// A user's own CSV table joins as a data set named by the worker's addCsv ('csv-1', …): its
// entry is made by `csvEntry`, not listed here.

const ANOMALY = ['normal', 'anomalous'];

export const DATASETS = Object.freeze({
  mnist: {
    shape: { type: 'image', channels: 1, height: 28, width: 28 }, // as the engine reports it (a test checks)
    file: 'mnist-10k.bin',
    label: 'Digits (MNIST)',
    short: 'digits',
    caption: 'Handwritten digits 0–9, 28 × 28 pixels: 8,000 to train on, 2,000 held out.',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    rows: 'digits',
  },
  fashion: {
    shape: { type: 'image', channels: 1, height: 28, width: 28 }, // as the engine reports it (a test checks)
    file: 'fashion-10k.bin',
    label: 'Clothes (Fashion-MNIST)',
    short: 'clothes',
    caption: 'Photos of ten kinds of clothing, 28 × 28 pixels: 1,000 of each, 80 % to train on.',
    classes: ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    rows: 'images',
  },
  shuttle: {
    shape: { type: 'vector', features: 9 }, // as the engine reports it (a test checks)
    file: 'shuttle.bin',
    label: 'Shuttle sensors (table)',
    short: 'shuttle',
    caption:
      'Nine sensor readings per row from the Space Shuttle (Statlog): 49,097 rows, 7 % labelled anomalous. ' +
      'Each feature is standardised (mean 0, deviation 1) on the training rows.',
    classes: ANOMALY,
    rows: 'rows',
  },
  bleeding: {
    shape: { type: 'series', channels: 1, length: 64 }, // as the engine reports it (a test checks)
    file: 'bleeding.bin',
    label: 'Internal bleeding (series)',
    short: 'bleeding',
    caption:
      'A physiological recording (UCR anomaly archive, task 135) in windows of 64 steps: ' +
      '1,200 normal points to train on, 7,501 to test, one labelled anomaly.',
    classes: ANOMALY,
    rows: 'windows',
  },
  ecg: {
    shape: { type: 'series', channels: 1, length: 64 }, // as the engine reports it (a test checks)
    file: 'ecg.bin',
    label: 'ECG (synthetic series)',
    short: 'ECG',
    caption: 'A synthetic electrocardiogram (GutenTAG) in windows of 64 steps, with labelled anomalies. Synthetic, not a patient.',
    classes: ANOMALY,
    rows: 'windows',
  },
});

export const DEFAULT_DATA = 'mnist';

/** Whether `name` is a data set a user's CSV became (made by the worker's addCsv). */
export const isCsvData = (name) => /^csv-\d+$/.test(name);

/** The table entry for a user's CSV, from addCsv's reply and the file's name. */
export function csvEntry(fileName, { shape, columns, label }) {
  return {
    file: null,
    label: `Your table: ${fileName}`,
    short: fileName,
    caption:
      `Your table ${fileName}: ${shape.features} numeric columns` +
      (label ? `, labels from the column “${label}”` : ', no labels') +
      `. The first 60 % of its rows train, the rest are held out; each feature is standardised on the training rows.` +
      (columns ? ` Columns: ${columns.slice(0, 12).join(', ')}${columns.length > 12 ? ', …' : ''}.` : ''),
    classes: null, // labels are shown as numbers
    rows: 'rows',
  };
}

/** The name of label `k` in a data set's entry (the number itself when it has no names). */
export function className(entry, k) {
  return entry?.classes?.[k] ?? String(k);
}

// ── anomaly sets ─────────────────────────────────────────────────────────────────────────
// An anomaly detector trains on the normal rows of a data set only. The engine makes that
// split as a data set of its own, named after what it is made of:
//   base~normal~contamination~seed   e.g. mnist~0.1~0.05~1 (digits 0 and 1 normal, 5 % of
//   the training rows anomalies), fashion~all~0~1 (every image of clothes normal, the digits
//   the anomalies), shuttle~0~0~1 (label 0 normal: a table's or a series' anomalies are 1).

/** The most a training set may be anomalies (the engine's MAX_CONTAMINATION). */
export const MAX_CONTAMINATION = 0.5;

/** The data set whose rows are all anomalies when every row of `base` is normal. */
export const OUTLIERS = Object.freeze({ fashion: 'mnist', mnist: 'fashion' });

/** The engine's name of an anomaly set of `base`: `normal` a list of labels or 'all'. */
export function anomalyData(base, { normal, contamination = 0, seed = 1 }) {
  const classes = normal === 'all' ? 'all' : [...new Set(normal)].sort((a, b) => a - b).join('.');
  return `${base}~${classes}~${contamination}~${seed}`;
}

/** What an anomaly set's name says: {base, normal, contamination, seed, outliers}, or null. */
export function parseAnomalyData(name) {
  const m = /^([a-z]+(?:-\d+)?)~(all|\d(?:\.\d)*)~([0-9.]+)~(\d+)$/.exec(String(name));
  if (!m) return null;
  const normal = m[2] === 'all' ? 'all' : m[2].split('.').map(Number);
  const contamination = Number(m[3]);
  if (!(contamination >= 0 && contamination <= MAX_CONTAMINATION)) return null;
  return { base: m[1], normal, contamination, seed: Number(m[4]), outliers: normal === 'all' ? (OUTLIERS[m[1]] ?? null) : null };
}

/** The data set a name stands on: an anomaly set's base, else the name itself. */
export const baseData = (name) => parseAnomalyData(name)?.base ?? name;
