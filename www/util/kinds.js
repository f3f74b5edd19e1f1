// The model kinds the page offers, as one table: the switcher, the settings form, the loss
// plot, the readouts and the kind's own view all read it. Pure data and functions: no DOM.
//
// Adding a kind is one entry in KINDS: its ModelSpec `kind`, what it is (`variational`: a
// code drawn from N(μ, σ²) under a KL term; `conditional`: a label per digit joins encoder and
// decoder; `convolutional`: convolutions before the dense layers; as ModelKind's is_* in
// src/model/spec.rs), a label and one plain sentence for a learner, the spec of a fresh model (`defaults`; the engine fills in every field left
// out), the pretrained file in www/models/ if there is one, the live settings it shows (keys
// of SETTINGS, or new entries there), the metrics it plots and the part name of its own view
// (null: none), and the shapes of data it takes (`shapes`: 'image', 'vector' for a table row,
// 'series' for a window of a series; all three when left out).

/** Settings the engine changes on a running model (Lab.set_spec): β, noise, sparsity, λ. */
export const SETTINGS = {
  beta: {
    label: 'β (KL weight)',
    hint: '1 = plain VAE',
    type: 'number',
    get: (spec) => spec.beta ?? 1,
    set: (spec, v) => ({ ...spec, beta: v }),
    range: () => [0, 1000],
    field: 'beta', // the engine's name for it, as in its error messages
  },
  noiseKind: {
    label: 'Noise',
    type: 'select',
    options: [
      ['gaussian', 'Gaussian'],
      ['mask', 'Masking'],
      ['salt_pepper', 'Salt and pepper'],
    ],
    get: (spec) => spec.noise?.kind ?? 'gaussian',
    // The amount means something else for each kind: keep it inside the new kind's range.
    set: (spec, v) => {
      const amount = Math.min(spec.noise?.amount ?? 0.5, noiseMax(v));
      return { ...spec, noise: { ...spec.noise, kind: v, amount } };
    },
    field: 'noise.kind',
  },
  noiseAmount: {
    label: 'Noise amount',
    hint: 'σ (Gaussian) or fraction of pixels',
    type: 'number',
    get: (spec) => spec.noise?.amount ?? 0.5,
    set: (spec, v) => ({ ...spec, noise: { ...spec.noise, amount: v } }),
    range: (spec) => [0, noiseMax(spec.noise?.kind ?? 'gaussian')],
    field: 'noise.amount',
  },
  penalty: {
    label: 'Penalty',
    type: 'select',
    options: [
      ['kl', 'KL(ρ ‖ ρ̂)'],
      ['l1', 'L1'],
    ],
    get: (spec) => spec.sparsity?.penalty ?? 'kl',
    set: (spec, v) => ({ ...spec, sparsity: { ...spec.sparsity, penalty: v } }),
    field: 'sparsity.penalty',
  },
  target: {
    label: 'Target ρ',
    hint: 'mean activation, 0 to 1',
    type: 'number',
    get: (spec) => spec.sparsity?.target ?? 0.05,
    set: (spec, v) => ({ ...spec, sparsity: { ...spec.sparsity, target: v } }),
    range: () => [0, 1],
    open: true, // 0 and 1 themselves are refused
    field: 'sparsity.target',
  },
  weight: {
    label: 'Penalty weight',
    hint: '0 to 1000',
    type: 'number',
    get: (spec) => spec.sparsity?.weight ?? 3,
    set: (spec, v) => ({ ...spec, sparsity: { ...spec.sparsity, weight: v } }),
    range: () => [0, 1000],
    field: 'sparsity.weight',
  },
  contraction: {
    label: 'Contraction λ',
    hint: '0 to 1000; 0 = plain AE',
    type: 'number',
    get: (spec) => spec.contractive?.weight ?? 1,
    set: (spec, v) => ({ ...spec, contractive: { ...spec.contractive, weight: v } }),
    range: () => [0, 1000],
    field: 'contractive.weight',
  },
};

/** The largest noise amount the engine accepts for a noise kind. */
export function noiseMax(kind) {
  return kind === 'gaussian' ? 10 : 1;
}

/**
 * Metrics the loss plot and readouts can show. `field`: the engine's metrics field it reads
 * (the key itself when absent); `penalty` is each kind's own penalty, named for the kind.
 */
export const METRICS = {
  recon: { label: 'reconstruction', readout: 'Reconstruction loss' },
  kl: { label: 'KL divergence', readout: 'KL' },
  penalty: { label: 'sparsity penalty', readout: 'Sparsity penalty' },
  contraction: { field: 'penalty', label: 'contraction ‖J‖²', readout: 'Contraction ‖J‖²' },
};

/** The engine's metrics field a METRICS key reads. */
export const metricField = (key) => METRICS[key].field ?? key;

export const KINDS = [
  {
    id: 'vae',
    variational: true,
    label: 'Variational (VAE, β-VAE)',
    short: 'VAE',
    sentence:
      'Encodes each digit as a small cloud of codes and is pulled towards a standard normal by the KL term, ' +
      'so every code decodes to a digit; β sets how hard it is pulled (β = 1 is the plain VAE).',
    defaults: { kind: 'vae', hidden: [400], latent: 2, loss: 'bce', beta: 1 },
    pretrained: 'vae-2d.safetensors',
    settings: ['beta'],
    metrics: ['recon', 'kl'],
    view: 'beta-plot',
  },
  {
    id: 'ae',
    label: 'Plain autoencoder (AE)',
    short: 'AE',
    sentence:
      'Squeezes each digit into a small code and learns to draw it back from that code; nothing else shapes the code.',
    defaults: { kind: 'ae', hidden: [400], latent: 2, loss: 'mse' },
    pretrained: 'ae-2d.safetensors',
    settings: [],
    metrics: ['recon'],
    view: null,
  },
  {
    id: 'dae',
    label: 'Denoising (DAE)',
    short: 'DAE',
    sentence:
      'Sees every digit with noise added but must draw the clean digit, so it learns what digits look like instead of copying pixels.',
    defaults: { kind: 'dae', hidden: [256], latent: 32, loss: 'mse', noise: { kind: 'gaussian', amount: 0.5 } },
    pretrained: 'dae.safetensors',
    settings: ['noiseKind', 'noiseAmount'],
    metrics: ['recon'],
    view: 'denoise',
  },
  {
    id: 'sparse',
    label: 'Sparse',
    short: 'Sparse AE',
    sentence:
      'Has many code units but pays a penalty unless each unit’s average activation stays near a small target ρ, ' +
      'so for any one digit most units stay near 0 and only a few respond.',
    defaults: {
      kind: 'sparse',
      hidden: [256],
      latent: 64,
      loss: 'mse',
      sparsity: { penalty: 'kl', target: 0.05, weight: 3 },
    },
    pretrained: 'sparse.safetensors',
    settings: ['penalty', 'target', 'weight'],
    metrics: ['recon', 'penalty'],
    view: 'sparsity',
  },
  {
    id: 'contractive',
    label: 'Contractive (CAE)',
    short: 'Contractive AE',
    sentence:
      'Pays a penalty λ·‖J‖² whenever a small change of the input would move its code, ' +
      'so the code holds still under nudges and follows only the changes that turn one digit into another.',
    defaults: { kind: 'contractive', hidden: [256], latent: 32, loss: 'mse', contractive: { weight: 1 } },
    pretrained: 'contractive.safetensors',
    settings: ['contraction'],
    metrics: ['recon', 'contraction'],
    view: 'contractive',
  },
  {
    id: 'cvae',
    variational: true, conditional: true,
    label: 'Conditional VAE (CVAE)',
    short: 'CVAE',
    sentence:
      'A VAE that is told which digit it sees: the label joins the encoder’s and the decoder’s input, ' +
      'so the code is free to hold only the style (slant, thickness), and any style can be drawn as any digit.',
    defaults: { kind: 'cvae', hidden: [400], latent: 2, loss: 'bce', beta: 1 },
    pretrained: 'cvae.safetensors',
    settings: ['beta'],
    metrics: ['recon', 'kl'],
    view: 'cvae',
  },
  {
    id: 'conv_ae',
    convolutional: true,
    label: 'Convolutional AE',
    short: 'Conv AE',
    sentence:
      'Looks at the digit through small learned filters slid across the image (strided convolutions) ' +
      'and draws it back with transposed convolutions: fewer weights than a dense layer, and each sees a neighbourhood.',
    defaults: { kind: 'conv_ae', channels: [16, 32], hidden: [], latent: 16, loss: 'mse' },
    shapes: ['image'],
    pretrained: 'conv-ae.safetensors',
    settings: [],
    metrics: ['recon'],
    view: 'filters',
  },
  {
    id: 'conv_vae',
    variational: true, convolutional: true,
    label: 'Convolutional VAE',
    short: 'Conv VAE',
    sentence:
      'The convolutional encoder and decoder around a VAE’s code: learned filters in front, ' +
      'a 2-D standard-normal code in the middle, so its samples and latent map work as the VAE’s do.',
    defaults: { kind: 'conv_vae', channels: [16, 32], hidden: [], latent: 2, loss: 'bce', beta: 1 },
    shapes: ['image'],
    pretrained: 'conv-vae.safetensors',
    settings: ['beta'],
    metrics: ['recon', 'kl'],
    view: 'filters',
  },
  {
    id: 'conv1d_ae',
    convolutional: true,
    label: '1-D convolutional AE',
    short: 'Conv1D AE',
    sentence:
      'Slides small learned filters along the time axis of a window (strided 1-D convolutions) and draws the window back ' +
      'with transposed ones: the same filter finds a beat or a spike wherever it falls in the window.',
    defaults: { kind: 'conv1d_ae', channels: [16, 32], hidden: [], latent: 8, loss: 'mse' },
    shapes: ['series'],
    pretrained: null,
    settings: [],
    metrics: ['recon'],
    view: null,
  },
  {
    id: 'conv1d_vae',
    variational: true, convolutional: true,
    label: '1-D convolutional VAE',
    short: 'Conv1D VAE',
    sentence:
      'The 1-D convolutional encoder and decoder around a VAE’s code: windows become clouds of codes pulled towards N(0, 1), ' +
      'so codes drawn from N(0, 1) decode to plausible windows.',
    defaults: { kind: 'conv1d_vae', channels: [16, 32], hidden: [], latent: 4, loss: 'mse', beta: 1 },
    shapes: ['series'],
    pretrained: null,
    settings: ['beta'],
    metrics: ['recon', 'kl'],
    view: null,
  },
];

const ALL_SHAPES = ['image', 'vector', 'series'];

/**
 * Whether kind `entry` takes rows of `shape` (the engine's info); a conditional kind needs
 * labels too (`labelled`).
 */
export function kindFits(entry, shape, labelled = true) {
  if (!entry || !(entry.shapes ?? ALL_SHAPES).includes(shape?.type)) return false;
  return !entry.conditional || labelled;
}

/**
 * The spec of a fresh model of kind `entry` for rows of `shape`: its defaults on images (the
 * README's quality setups); on a table or a series only the kind and its live settings, and
 * the engine sizes the rest to the data (ModelSpec::of_kind_for in src/model/spec.rs).
 */
export function defaultsFor(entry, shape) {
  if (shape?.type === 'image') return entry.defaults;
  const { hidden, latent, loss, channels, ...rest } = entry.defaults;
  return rest;
}

/** The table entry of a kind id, or undefined. */
export function kindOf(id) {
  return KINDS.find((k) => k.id === id);
}

/** Whether a kind id is variational, conditional or convolutional (false if unknown). */
export const isVariational = (id) => Boolean(kindOf(id)?.variational);
export const isConditional = (id) => Boolean(kindOf(id)?.conditional);
export const isConvolutional = (id) => Boolean(kindOf(id)?.convolutional);

/**
 * Validates the text of a numeric setting against `spec` (whose other settings give the
 * range): {value} or {error}.
 */
export function parseSetting(key, text, spec) {
  const s = SETTINGS[key];
  if (s.type === 'select') {
    const ok = s.options.some(([v]) => v === text);
    return ok ? { value: text } : { error: `${s.label}: choose one of the listed options` };
  }
  const trimmed = String(text ?? '').trim();
  const v = trimmed === '' ? NaN : Number(trimmed);
  const [lo, hi] = s.range(spec);
  const inside = s.open ? v > lo && v < hi : v >= lo && v <= hi;
  if (!(Number.isFinite(v) && inside)) {
    const span = s.open ? `above ${lo} and below ${hi}` : `from ${lo} to ${hi}`;
    return { error: `${s.label} must be a number ${span}` };
  }
  return { value: v };
}

/** β values the β-VAE view's slider steps through. */
export const BETA_STEPS = [0.1, 0.25, 0.5, 1, 2, 4, 8];

/** The index in `steps` of the value nearest `x` on a log scale. */
export function nearestStep(steps, x) {
  let best = 0;
  const lx = Math.log(Math.max(x, 1e-6));
  steps.forEach((s, i) => {
    if (Math.abs(Math.log(s) - lx) < Math.abs(Math.log(steps[best]) - lx)) best = i;
  });
  return best;
}
