// The training form's values ⇄ a ModelSpec (src/model/spec.rs). Pure functions: no DOM.
// Limits match the engine's; the engine validates again and has the last word.

import { isConvolutional, kindOf } from './kinds.js';
import { rowSize } from './shape.js';

export const LIMITS = {
  latent: [2, 256], // the engine allows 1, but the latent map needs two numbers
  hiddenLayers: 6,
  width: [1, 4096],
  batch: [1, 1024],
  lr: [0, 1], // exclusive of 0
};

/** "512, 256" → {value: [512, 256]} or {error}. An empty text means no hidden layer. */
export function parseHidden(text) {
  const trimmed = String(text ?? '').trim();
  if (trimmed === '') return { value: [] };
  const parts = trimmed.split(/[\s,]+/).filter(Boolean);
  if (parts.length > LIMITS.hiddenLayers) {
    return { error: `at most ${LIMITS.hiddenLayers} layers` };
  }
  const value = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return { error: `"${p}" is not a whole number; write widths like 512,256` };
    const w = Number(p);
    if (w < LIMITS.width[0] || w > LIMITS.width[1]) {
      return { error: `each width must be from ${LIMITS.width[0]} to ${LIMITS.width[1]}` };
    }
    value.push(w);
  }
  return { value };
}

function parseNumber(text) {
  const s = String(text ?? '').trim();
  if (s === '') return NaN;
  return Number(s);
}

function integerIn(text, [lo, hi], what) {
  const n = parseNumber(text);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    return { error: `${what} must be a whole number from ${lo} to ${hi}` };
  }
  return { value: n };
}

/**
 * Validates raw form values ({latent, hidden, lr, batch}: strings; `kind` optional) against
 * the spec they edit. Returns {spec, errors}: `errors` maps field names to messages (empty
 * when valid); `spec` is `base` with the form's fields applied (only meaningful without
 * errors). The kind's own settings (β, noise, sparsity) are not in this form: they change
 * the running model directly (see kinds.js), so `base` carries them.
 */
export function formToSpec(form, base = {}) {
  const errors = {};
  const take = (field, result) => {
    if (result.error) errors[field] = result.error;
    return result.value;
  };
  const kind = form.kind && kindOf(form.kind) ? form.kind : (base.kind ?? 'vae');
  const latent = take('latent', integerIn(form.latent, LIMITS.latent, 'Latent size'));
  const hidden = take('hidden', parseHidden(form.hidden));
  const batch = take('batch', integerIn(form.batch, LIMITS.batch, 'Batch size'));
  const lr = parseNumber(form.lr);
  if (!(Number.isFinite(lr) && lr > 0 && lr <= 1)) {
    errors.lr = 'Learning rate must be a number above 0 and at most 1 (try 0.001)';
  }
  const spec = {
    ...base,
    kind,
    latent,
    hidden,
    // The decoder mirrors the encoder unless a loaded spec said otherwise and the encoder
    // is unchanged.
    decoder_hidden: sameList(hidden, base.hidden) ? (base.decoder_hidden ?? null) : null,
    batch_size: batch,
    optimizer: { ...(base.optimizer ?? {}), lr },
  };
  return { spec, errors };
}

/** The form's values for a spec. */
export function specToForm(spec) {
  return {
    latent: String(spec.latent ?? 2),
    hidden: (spec.hidden ?? [400]).join(','),
    lr: String(spec.optimizer?.lr ?? 0.001),
    batch: String(spec.batch_size ?? 128),
  };
}

/**
 * A short name for a model on inputs of `shape` (the engine's info): "VAE 784-400-2",
 * "β-VAE 784-400-2 (β = 4)", "DAE 784-256-32", "Conv AE 784-c16-c32-16" (cN: a convolution
 * with N channels) for the digits; the first number is the size of an input row.
 */
export function describeSpec(spec, shape) {
  const kind = spec.kind ?? 'vae';
  const convs = isConvolutional(kind) ? (spec.channels ?? []).map((c) => `c${c}`) : [];
  const widths = [rowSize(shape), ...convs, ...(spec.hidden ?? []), spec.latent];
  const beta = spec.beta ?? 1;
  if (kind === 'vae' && beta !== 1) return `β-VAE ${widths.join('-')} (β = ${beta})`;
  const name = `${kindOf(kind)?.short ?? kind.toUpperCase()} ${widths.join('-')}`;
  // Without an activation every layer is linear; the whole model is when its output is too
  // (a table's or a series', or an image's with output "identity").
  if (spec.activation !== 'identity') return name;
  return spec.output === 'identity' || (shape && shape.type !== 'image') ? `${name}, linear` : `${name}, no activation`;
}

function sameList(a, b) {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
}
