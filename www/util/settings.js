// What a teacher configures on a widget: the same keys as <latent-lab> attributes, as the
// hash of embed.html and of the full page (#kind=dae&views=denoise,pad), and in the Share
// snippets. Pure functions, no DOM: `readSettings(get)` reads every key through `get(key)`
// (an attribute or a hash value, null when absent) and returns the settings with a plain
// problem for each value it cannot use; the widget shows the problems and goes on with the
// default for that key (for `views`: with the views it knows).

import { KINDS, SETTINGS, kindOf, kindFits, parseSetting } from './kinds.js';
import { DATASETS, DEFAULT_DATA, OUTLIERS, MAX_CONTAMINATION } from './datasets.js';
import { isDigitShaped } from './shape.js';

/** Every view (part) a widget can show, in the full lab's order. */
export const VIEWS = [
  'backend',
  'training',
  'pad',
  'latent-map',
  'beta-plot',
  'denoise',
  'sparsity',
  'contractive',
  'cvae',
  'filters',
  'loss-plot',
  'test-reconstructions',
  'sampler',
  'interpolation',
  'anomaly',
  'anomaly-curves',
  'anomaly-examples',
  'anomaly-series',
  'pca',
  'features',
  'similar',
];

/** The views that belong to one kind (kinds.js's `view`), shown only for a model of that kind. */
export const KIND_VIEWS = [...new Set(KINDS.map((k) => k.view).filter(Boolean))];

/**
 * Why `view` does not show for rows of `shape` (the engine's info), or null when it does: the
 * pad and the image views of the denoising, contractive, conditional and convolutional kinds
 * show 28 × 28 images; the others draw any row through views/renderers.js.
 */
export function viewUnfit(view, shape) {
  if (view === 'anomaly-series' && shape && shape.type !== 'series') return 'the series view of anomalies shows series';
  if (!shape || isDigitShaped(shape)) return null;
  switch (view) {
    case 'pad':
      return 'the drawing pad draws 28 × 28 images';
    case 'denoise':
    case 'contractive':
    case 'cvae':
      return `the ${view === 'cvae' ? 'CVAE' : view === 'denoise' ? 'denoising' : 'contractive'} view shows 28 × 28 images`;
    case 'filters':
      return 'the filters view shows the filters of 2-D convolutions on 28 × 28 images';
    default:
      return null;
  }
}

/** Views that show held-out digits: a widget without any of them never fetches the digits. */
export const NEEDS_DIGITS = new Set(['test-reconstructions', 'latent-map', 'interpolation', 'denoise', 'sparsity', 'contractive', 'cvae', 'filters', 'pca', 'features', 'similar']);

/** The keyword settings: key → allowed values (the first is the default). */
export const CHOICES = {
  controls: ['full', 'minimal', 'none'],
  captions: ['on', 'off'],
  autoplay: ['animations', 'train', 'off'],
  backend: ['auto', 'webgpu', 'cpu'],
  theme: ['auto', 'light', 'dark'],
};

/** A kind's live settings as attribute / hash keys (kinds.js SETTINGS keys, kebab-case). */
export const LIVE_KEYS = Object.fromEntries(Object.keys(SETTINGS).map((k) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), k]));

/** Every key, in the order snippets write them. */
export const KEYS = ['data', 'normal', 'contamination', 'kind', 'model', 'views', 'controls', 'captions', 'autoplay', 'seed', 'backend', 'theme', ...Object.keys(LIVE_KEYS)];

const MAX_SEED = 2 ** 32 - 1;

/** An outside value as a message quotes it, cut short. */
export function quote(value) {
  const text = JSON.stringify(String(value));
  return text.length > 50 ? `${text.slice(0, 48)}…" (${String(value).length} characters)` : text;
}

/**
 * Reads the settings through `get(key)` (string or null). `origins`: the origins a `model`
 * URL may come from (the page's and the lab's); `base`: what relative URLs resolve against.
 * Returns {settings, problems: [{key, value, message}]}; `settings` holds only usable values
 * (absent keys are left out, except the keyword settings, which get their default).
 */
export function readSettings(get, { base = 'http://localhost/', origins = [] } = {}) {
  const settings = {};
  const problems = [];
  const problem = (key, value, allowed) => problems.push({ key, value, message: `${key}=${quote(value)} is not allowed: ${allowed}.` });
  const raw = (key) => {
    const v = get(key);
    return v === null || v === undefined ? null : String(v);
  };

  const kind = raw('kind');
  if (kind !== null) {
    const k = kind.trim().toLowerCase();
    if (kindOf(k)) settings.kind = k;
    else problem('kind', kind, `the kinds are ${KINDS.map((x) => x.id).join(', ')}`);
  }

  const data = raw('data');
  if (data !== null) {
    const d = data.trim().toLowerCase();
    if (Object.hasOwn(DATASETS, d)) settings.data = d;
    else problem('data', data, `the data sets are ${Object.keys(DATASETS).join(', ')} (a CSV of your own is dropped on the widget)`);
  }
  // A kind that cannot take the data's rows (conv_ae on a table): the kind is left out.
  if (settings.kind && settings.data) {
    const shape = DATASETS[settings.data].shape;
    if (!kindFits(kindOf(settings.kind), shape)) {
      const fits = KINDS.filter((k) => kindFits(k, shape)).map((k) => k.id);
      problem('kind', settings.kind, `the data ${settings.data} takes ${fits.join(', ')}`);
      delete settings.kind;
    }
  }

  // An anomaly detector: which rows are normal (labels, or every row of a set that has
  // another set of the same rows for anomalies), and the share of anomalies mixed in.
  const normal = raw('normal');
  if (normal !== null) {
    const d = settings.data ?? DEFAULT_DATA;
    const classes = DATASETS[d].classes;
    const v = normal.trim().toLowerCase();
    const labels = v.split(/[\s,]+/).filter(Boolean);
    if (v === 'all' && OUTLIERS[d]) settings.normal = 'all';
    else if (labels.length && labels.every((k) => /^\d$/.test(k) && Number(k) < classes.length) && new Set(labels).size < classes.length) {
      settings.normal = [...new Set(labels.map(Number))].sort((a, b) => a - b);
    } else {
      const all = OUTLIERS[d] ? `, or all (every ${DATASETS[d].rows.replace(/s$/, '')} normal, ${DATASETS[OUTLIERS[d]].short} the anomalies)` : '';
      problem('normal', normal, `name the normal labels of ${d} (0 to ${classes.length - 1}, comma-separated, leaving at least one out)${all}`);
    }
  }
  const contamination = raw('contamination');
  if (contamination !== null) {
    const x = Number(contamination.trim());
    if (contamination.trim() !== '' && x >= 0 && x <= MAX_CONTAMINATION) settings.contamination = x;
    else problem('contamination', contamination, `it is the share of anomalies in the training rows, from 0 to ${MAX_CONTAMINATION}`);
  }

  const model = raw('model');
  if (model !== null && model.trim() !== '') {
    let url = null;
    try {
      url = new URL(model.trim(), base);
    } catch {
      problem('model', model, 'it must be the URL of a .safetensors file');
    }
    if (url && (!['http:', 'https:', 'blob:'].includes(url.protocol) || !(url.protocol === 'blob:' || url.pathname.endsWith('.safetensors')))) {
      problem('model', model, 'it must be an http(s) URL of a .safetensors file');
    } else if (url && origins.length && !origins.includes(url.origin)) {
      problem('model', model, `the widget loads files only from ${origins.join(' and ')} (put the file next to the page)`);
    } else if (url) {
      settings.model = url.href;
    }
  }

  const views = raw('views');
  if (views !== null) {
    const names = views
      .split(/[\s,]+/)
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean);
    const unknown = names.filter((v) => !VIEWS.includes(v));
    const known = names.filter((v) => VIEWS.includes(v));
    if (names.length === 0) problem('views', views, `name at least one view: ${VIEWS.join(', ')}`);
    if (unknown.length) problem('views', unknown.join(','), `the views are ${VIEWS.join(', ')}`);
    // A misspelt view is left out; the others still show.
    if (known.length) settings.views = [...new Set(known)];
  }

  // A kind's own view listed for another kind would never show: say so (unless the model
  // comes from a file or a spec, whose kind is known only once it is open).
  if (settings.views && !settings.model && raw('spec') === null) {
    const kind = settings.kind ?? 'vae';
    for (const v of settings.views.filter((x) => KIND_VIEWS.includes(x) && x !== kindOf(kind).view)) {
      const owners = KINDS.filter((k) => k.view === v).map((k) => k.id);
      problems.push({ key: 'views', value: v, message: `views: ${v} is the view of kind ${owners.join(' or ')}, and this widget's kind is ${kind}.` });
    }
  }

  for (const [key, allowed] of Object.entries(CHOICES)) {
    const v = raw(key);
    const value = v === null ? null : v.trim().toLowerCase();
    // `autoplay` alone (a boolean attribute) means the animations play.
    if (key === 'autoplay' && value === '') settings[key] = 'animations';
    else if (value === null) settings[key] = allowed[0];
    else if (allowed.includes(value)) settings[key] = value;
    else {
      problem(key, v, `use ${allowed.join(', ')}`);
      settings[key] = allowed[0];
    }
  }

  const seed = raw('seed');
  if (seed !== null) {
    const n = Number(seed.trim());
    if (seed.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= MAX_SEED) settings.seed = n;
    else problem('seed', seed, `it must be a whole number from 0 to ${MAX_SEED}`);
  }

  // A kind's live settings: checked against that kind (its own or the pretrained spec's range).
  const entry = kindOf(settings.kind ?? 'vae');
  const live = {};
  for (const [attr, key] of Object.entries(LIVE_KEYS)) {
    const v = raw(attr);
    if (v === null) continue;
    if (!entry.settings.includes(key)) {
      const owners = KINDS.filter((k) => k.settings.includes(key)).map((k) => k.id);
      problem(attr, v, `it is a setting of ${owners.join(', ')}, not of ${entry.id}`);
      continue;
    }
    const spec = specWith(entry.defaults, live);
    const parsed = parseSetting(key, v.trim(), spec);
    if (parsed.error) problem(attr, v, parsed.error.replace(/^[^:]*: /, ''));
    else live[key] = parsed.value;
  }
  if (Object.keys(live).length) settings.live = live;
  return { settings, problems };
}

/** `spec` with the live settings `live` ({beta: 4, noiseAmount: 0.3}) applied. */
export function specWith(spec, live = {}) {
  let out = { ...spec };
  for (const [key, value] of Object.entries(live)) out = SETTINGS[key].set(out, value);
  return out;
}

/** The live settings of `spec` that its kind shows, as {key: value}. */
export function liveOf(spec) {
  const entry = kindOf(spec.kind);
  return Object.fromEntries((entry?.settings ?? []).map((k) => [k, SETTINGS[k].get(spec)]));
}

/**
 * Settings as [key, value] pairs for a snippet: only what differs from the defaults.
 * `settings`: {kind, views, controls, captions, autoplay, seed, backend, theme, model, live}.
 */
export function settingPairs(settings) {
  const pairs = [];
  const put = (k, v) => v !== undefined && v !== null && pairs.push([k, String(v)]);
  if (settings.data && settings.data !== DEFAULT_DATA) put('data', settings.data);
  if (settings.normal) put('normal', settings.normal === 'all' ? 'all' : settings.normal.join(','));
  if (settings.normal && settings.contamination) put('contamination', settings.contamination);
  if (settings.kind && settings.kind !== 'vae') put('kind', settings.kind);
  put('model', settings.model);
  if (settings.views) put('views', settings.views.join(','));
  for (const [key, allowed] of Object.entries(CHOICES)) if (settings[key] && settings[key] !== allowed[0]) put(key, settings[key]);
  put('seed', settings.seed);
  const entry = kindOf(settings.kind ?? 'vae');
  for (const [attr, key] of Object.entries(LIVE_KEYS)) {
    const v = settings.live?.[key];
    if (v === undefined || !entry.settings.includes(key)) continue;
    if (v === SETTINGS[key].get(entry.defaults)) continue;
    put(attr, v);
  }
  return pairs;
}

/** A hash (`#a=1&b=2`, or without `#`) as a getter for readSettings. */
export function hashGetter(hash) {
  const params = new URLSearchParams(String(hash).replace(/^#/, ''));
  return (key) => params.get(key);
}

/** Pairs as a hash: `kind=dae&views=denoise,pad` (commas kept readable). */
export function toHash(pairs) {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/g, ',')}`).join('&');
}

/** Escapes text for an HTML attribute value in a snippet. */
export function attributeText(value) {
  return String(value).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
