// Latent Lab's engine worker: a module Worker that owns the wasm engine (src/web.rs), so the
// page never waits on the GPU or on CPU training. One worker serves every <latent-lab> of a
// page: it holds one `Engine` (one WebGPU device, one copy of each data set, fetched only when
// a model first needs it) and one `Lab` per widget, each with its own model and training.
//
// Protocol: www/protocol.js (one table of request types for both sides, with each
// request's arguments and reply, and the events).
//
// Faults: a panic in Rust aborts the wasm instance (a `WebAssembly.RuntimeError`, thrown
// from the call or, inside an awaited call, uncaught in a later task, its promise never
// settling). Either way the worker sends 'crash' once, with the panic's message, and
// refuses every later request; the page restarts the engine from the last 'checkpoint's.
//
// Training loop (per model): `lab.train(chunk)` queues (WebGPU) or runs (CPU) a chunk of
// steps, then `poll_metrics()` collects finished ones; between chunks the loop yields to the
// event loop, so requests (inference, stop, save, other models) interleave with training.
// `chunk` adapts so one chunk takes about TARGET_MS, and on WebGPU at most two chunks are
// queued, which bounds how long an inference request waits behind training. Every call into
// the engine goes through one queue (`exclusive`), so calls never overlap.

import init, { Engine, Lab } from './pkg/latent_lab.js';
import { checkRequest, REQUESTS, requestsWhere } from './protocol.js';
import { isConditional } from './util/kinds.js';
import { rowSize } from './util/shape.js';
import { DATASETS, DEFAULT_DATA, isCsvData, parseAnomalyData } from './util/datasets.js';
import { uniform } from './util/random.js';
import { UMAP } from './vendor/umap.js';

const TARGET_MS = 40;
const MAX_CHUNK = 500;
const RATE_WINDOW_MS = 2000;
const MAX_MODELS = 32; // models one engine holds at once (a page of many widgets)

let engine = null; // Promise of the wasm Engine, made at the first 'open'
let wasmMemory = null; // the engine's WebAssembly.Memory
const dataSets = new Map(); // name → Promise of that data set loaded into the engine
let csvCount = 0; // the user's CSV tables given so far (their data sets are csv-1, csv-2, …)
let browserAdapter = null; // Promise of vendor and architecture from GPUAdapterInfo
let twin = null; // {url, lab: Promise<Lab>}: the model `twinEncode` encodes with
let crashed = null; // the message, once the engine has died
const sessions = new Map(); // model id → Session

// One widget's model and its training.
class Session {
  constructor(id) {
    this.id = id;
    this.lab = null;
    this.data = DEFAULT_DATA; // the data set the model is opened on
    this.backend = 'auto'; // where the widget asked the model to run: auto, webgpu or cpu
    this.batchSize = 128;
    this.known = { backend: null, adapter: null };
    this.pretrained = null; // the weights file loaded at open, until the model is replaced
    // β in force from each step on ([{step, beta}], oldest first), so every metrics item can
    // say which β it trained with; restarted whenever the model is replaced.
    this.betaLog = [];
    this.condition = 0; // the digit a conditional model draws when a request gives no labels
    this.checkpointSent = -1; // serial of the last checkpoint sent to the page
    this.backendSeen = null; // the backend an inference call last saw (see `inference`)
    this.closed = false;
    this.training = {
      active: false,
      stopRequested: false,
      loop: null, // promise of the running loop: resolves to the reason it ended
      target: Infinity, // step at which to stop
      chunk: 1,
      msPerStep: null, // smoothed time of one step on this model, when measured
      submitted: 0, // step after the last queued chunk
      reported: 0, // step after the last chunk whose metrics have arrived
      busySince: null, // WebGPU: when the engine last started work with nothing queued before
      rates: [], // [{t, steps}] of recent metrics, for steps/s
    };
  }

  // An event about this model.
  post(message, transfer = []) {
    if (!this.closed) post({ ...message, model: this.id }, transfer);
  }
}

// ── faults ───────────────────────────────────────────────────────────────────────────────
// After a trap, wasm-bindgen's objects can be left borrowed: calls then throw these.
const POISONED = /recursive use of an object|attempted to take ownership of Rust value|null pointer passed to rust/;
function isCrash(e) {
  return e instanceof WebAssembly.RuntimeError || (crashed === null && POISONED.test(e?.message ?? ''));
}

function crash(e) {
  if (crashed !== null) return;
  const panic = self.latentLabPanic;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  crashed = panic ? `a panic inside the engine (${panic})` : `a fault inside the engine (${what}; it may have run out of memory)`;
  for (const s of sessions.values()) s.training.stopRequested = true;
  post({ type: 'crash', message: crashed });
}

// A trap inside an awaited call surfaces here, not at the call.
self.addEventListener('error', (e) => {
  if (!isCrash(e.error)) return;
  e.preventDefault();
  crash(e.error);
});
self.addEventListener('unhandledrejection', (e) => {
  if (!isCrash(e.reason)) return;
  e.preventDefault();
  crash(e.reason);
});

// The page runs under a strict Content-Security-Policy; should the engine ever break it,
// the page hears of it (the worker's own console is easy to miss).
self.addEventListener('securitypolicyviolation', (e) => {
  post({ type: 'error', fatal: false, message: `The Content-Security-Policy refused ${e.blockedURI || 'an inline resource'} in the engine (${e.violatedDirective}).` });
});

// Sends the last good weights when they changed since the last time (or with `force`:
// after a live change of the spec, which the file's metadata records). Call in a turn of
// the queue.
function sendCheckpoint(s, force = false) {
  const serial = s.lab.checkpoint_serial();
  if (!force && serial === s.checkpointSent) return;
  s.checkpointSent = serial;
  const bytes = s.lab.checkpoint_weights();
  s.post({ type: 'checkpoint', bytes, step: s.lab.checkpoint_step(), pretrained: s.pretrained }, [bytes.buffer]);
}

// ── one call at a time ───────────────────────────────────────────────────────────────────
let tail = Promise.resolve();
function exclusive(fn) {
  const run = tail.then(fn);
  tail = run.then(
    () => {},
    () => {},
  );
  return run;
}

const nextTask = () =>
  new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Inference calls (encode, decode, reconstruct, sample) read the backend in the same turn of
// the queue: a call may move the model to the CPU (it retries there), and checking in a turn
// of its own would hold the reply back behind the next queued request (the sampler keeps two
// decodes in flight).
const inferenceMs = new WeakMap(); // result → the engine's time for it
function inference(s, fn) {
  return exclusive(async () => {
    const t0 = performance.now();
    const result = await fn();
    inferenceMs.set(result, performance.now() - t0);
    s.backendSeen = s.lab.backend();
    return result;
  });
}
const INFERENCE = requestsWhere((r) => r.inference);
// Requests that never touch the model's backend: no need to check it after them.
const BACKEND_FREE = requestsWhere((r) => r.touches === false);
// Requests about no model in particular.
const ENGINE_WIDE = requestsWhere((r) => r.engine);

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

function info(s) {
  const lab = s.lab;
  const spec = lab.spec_json();
  if (s.betaLog.length === 0) logBeta(s, true);
  s.batchSize = JSON.parse(spec).batch_size;
  return {
    backend: lab.backend(),
    adapter: adapterLabel(lab.backend(), lab.adapter()),
    softwareAdapter,
    spec,
    shape: JSON.parse(lab.shape_json()),
    data: s.data,
    parameters: lab.parameter_count(),
    step: lab.step(),
    training: s.training.active,
    trainSize: lab.train_size(),
    testSize: lab.test_size(),
    pretrained: s.pretrained,
    condition: s.condition,
    models: sessions.size,
  };
}

// A conditional model's label per row: the request's own, else the condition for every
// row; nothing for other models. Called in the request's turn of the queue, so `lab` is the
// model that answers it. `length` counts values `per` input row (D values), latent code or
// row (a sample's count).
// A request of an impossible size gets no labels: the engine refuses its size.
function labelsFor(s, length, labels, per = 'input') {
  const spec = JSON.parse(s.lab.spec_json());
  if (!isConditional(spec.kind)) return undefined;
  if (labels != null) return labels instanceof Uint8Array ? labels : Uint8Array.from(labels);
  const width = { input: () => rowSize(JSON.parse(s.lab.shape_json())), latent: () => spec.latent, rows: () => 1 }[per]();
  const rows = length / width;
  if (!(Number.isInteger(rows) && rows >= 0 && rows <= MAX_LABEL_ROWS)) return undefined;
  return new Uint8Array(rows).fill(s.condition);
}
const MAX_LABEL_ROWS = 1e6;

// wgpu only sees the adapter's `description`, which browsers often leave empty.
let browserAdapterName = '';
// Whether this browser's WebGPU adapter is a software renderer (SwiftShader, WARP): then
// `auto` runs the CPU engine, which is faster, and the badge offers the other one.
let softwareAdapter = false;
function adapterLabel(backend, adapter) {
  if (browserAdapterName && adapter.includes('WebGPU adapter')) {
    return adapter.replace('WebGPU adapter', browserAdapterName);
  }
  return adapter;
}
const BACKENDS = ['auto', 'webgpu', 'cpu'];

// Every model the engine builds goes through here: the engine takes three strings, and
// anything else reaching wasm-bindgen's string passing corrupts the engine's memory.
function openLab(eng, spec, backend, data) {
  if (!BACKENDS.includes(backend)) throw new Error(`open: backend must be ${BACKENDS.join(', ')}, got ${show(backend)}`);
  if (typeof spec !== 'string') throw new Error(`open: spec must be a JSON string, got ${show(spec)}`);
  if (typeof data !== 'string') throw new Error(`open: data must be a data set's name, got ${show(data)}`);
  return exclusive(() => eng.open(spec, backend, data));
}

async function probeBrowserAdapter() {
  try {
    const info = (await navigator.gpu?.requestAdapter())?.info;
    const name = [info?.vendor, info?.architecture].filter(Boolean).join(' ');
    const software = Boolean(info?.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|warp|software/i.test(`${name} ${info?.description ?? ''}`);
    return { name, software };
  } catch {
    return { name: '', software: false };
  }
}

// An outside value as a message quotes it: cut short if long.
function show(value) {
  let text;
  try {
    text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 48 ? `${text.slice(0, 48)}… (${text.length} characters)` : text;
}

// A whole number from `min` to `max` from a request, or an error naming it.
function whole(value, what, max, min = 0) {
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  throw new Error(`${what} must be a whole number from ${min} to ${max}, got ${show(value)}`);
}
const MAX_STEPS = 1e9;
// Most steps one profile request times (each dispatch in a pass of its own).
const MAX_PROFILE_STEPS = 1000;
// The most rows one projection lays out, and how long it computes before the worker serves
// its other requests.
const MAX_PROJECT_ROWS = 10_000;
const PROJECT_SLICE_MS = 40;

function errorMessage(e) {
  if (e instanceof Error) return e.message;
  return String(e);
}

// ── the engine and its data ──────────────────────────────────────────────────────────────
function theEngine() {
  engine ??= (async () => {
    const exports = await init({ module_or_path: new URL('./pkg/latent_lab_bg.wasm', import.meta.url) });
    wasmMemory = exports.memory;
    return new Engine();
  })();
  // A failed start is tried again by the next widget.
  engine.catch(() => {
    engine = null;
  });
  return engine;
}

// Data set `name` in the engine: a bundled one is fetched and decoded once for the page; a
// CSV is there from addCsv (or was never given).
async function loadData(name) {
  const eng = await theEngine();
  const anomaly = parseAnomalyData(name);
  if (anomaly && !dataSets.has(name)) {
    // An anomaly set is made in the engine from its base (and the outliers' set).
    const loading = (async () => {
      await loadData(anomaly.base);
      if (anomaly.outliers) await loadData(anomaly.outliers);
      const normal = Uint8Array.from(anomaly.normal === 'all' ? [] : anomaly.normal);
      await exclusive(() => eng.set_anomaly(name, anomaly.base, normal, anomaly.contamination, anomaly.seed, anomaly.outliers ?? undefined));
    })();
    dataSets.set(name, loading);
    loading.catch(() => dataSets.delete(name));
  }
  if (!dataSets.has(name)) {
    const entry = Object.hasOwn(DATASETS, name) ? DATASETS[name] : null;
    if (!entry) {
      const known = Object.keys(DATASETS).join(', ');
      throw new Error(isCsvData(name) ? `the table ${name} is not loaded: add it again` : `unknown data set ${show(name)}: the lab has ${known} or a CSV of your own`);
    }
    const loading = (async () => {
      const bytes = await fetchData(entry.file);
      await exclusive(() => eng.set_data(name, bytes, 0, 0));
    })();
    dataSets.set(name, loading);
    loading.catch(() => dataSets.delete(name)); // the next request tries again
  }
  await dataSets.get(name);
}

// `s`'s data set, loaded and given to its model.
async function needData(s) {
  await loadData(s.data);
  if (s.closed) return;
  const attached = await exclusive(async () => {
    if (s.lab.has_data()) return false;
    await s.lab.attach_data();
    return true;
  });
  if (attached) s.post(await exclusive(() => ({ type: 'state', reason: 'data', ...info(s) })));
}

// ── training loop ────────────────────────────────────────────────────────────────────────
function startTraining(s, steps) {
  const bounded = Number.isFinite(steps);
  const training = s.training;
  if (training.active) {
    // A bounded request while training: stop `steps` steps from now.
    if (bounded) {
      exclusive(() => s.lab.step()).then((step) => {
        training.target = Math.min(training.target, step + steps);
      });
    }
    return training.loop;
  }
  training.active = true;
  training.stopRequested = false;
  training.rates = [];
  training.loop = (async () => {
    const start = await exclusive(() => {
      const step = s.lab.step();
      training.target = bounded ? step + steps : Infinity;
      training.reported = step;
      training.submitted = step;
      training.rates = [{ t: performance.now(), steps: 0 }];
      training.busySince = null;
      return { type: 'state', reason: 'start', ...info(s) };
    });
    s.post(start);
    const reason = await runLoop(s);
    training.active = false;
    if (!s.closed && crashed === null) s.post(await exclusive(() => ({ type: 'state', reason, ...info(s) })));
    return reason;
  })();
  return training.loop;
}

async function stopTraining(s) {
  if (!s.training.active) return;
  s.training.stopRequested = true;
  await s.training.loop;
}

async function runLoop(s) {
  const training = s.training;
  let reason = 'stop';
  try {
    while (!training.stopRequested) {
      const step = await exclusive(() => s.lab.step());
      if (step >= training.target) {
        reason = 'done';
        break;
      }
      const n = Math.max(1, Math.min(training.chunk, training.target - step));
      const elapsed = await exclusive(async () => {
        const t0 = performance.now();
        if (training.submitted <= training.reported) training.busySince = t0;
        await s.lab.train(n);
        training.submitted = s.lab.step();
        sendCheckpoint(s);
        return performance.now() - t0;
      });
      // CPU: `train` ran the steps, so its time measures them.
      if (s.known.backend === 'cpu') measured(s, elapsed / n);
      if (await backendChanged(s)) {
        reason = 'fallback';
        break;
      }
      if (!(await collect(s))) {
        reason = 'diverged';
        break;
      }
      // WebGPU: keep at most two chunks queued so requests do not wait long behind training.
      while (!training.stopRequested && training.submitted - training.reported > 2 * training.chunk) {
        await sleep(4);
        if (!(await collect(s))) return 'diverged';
      }
      await nextTask();
    }
    if (s.closed || crashed !== null) return 'stop';
    // Wait for every queued step and report it.
    const rest = await exclusive(async () => {
      const items = await s.lab.finish();
      sendCheckpoint(s);
      return items;
    });
    if (!report(s, rest)) return 'diverged';
  } catch (e) {
    if (isCrash(e)) crash(e);
    if (crashed !== null) return 'crash';
    if (s.closed) return 'stop';
    s.post({ type: 'error', message: errorMessage(e), fatal: false });
    reason = 'stop';
  }
  if (await backendChanged(s)) reason = 'fallback';
  return reason;
}

// Polls finished steps' metrics and reports them; false when training diverged (the
// weights are then rolled back to the last good checkpoint).
async function collect(s) {
  const items = await exclusive(() => s.lab.poll_metrics());
  return report(s, items);
}

function report(s, items) {
  if (!items || items.length === 0) return true;
  const training = s.training;
  const now = performance.now();
  let steps = 0;
  for (const m of items) {
    training.reported = Math.max(training.reported, m.first_step + m.steps);
    steps += m.steps;
  }
  training.rates.push({ t: now, steps });
  // WebGPU: `train` only queues; with work queued since `busySince`, the time until these
  // metrics arrived measures their steps.
  if (s.known.backend !== 'cpu' && training.busySince !== null && steps > 0) {
    measured(s, (now - training.busySince) / steps);
  }
  training.busySince = training.submitted > training.reported ? now : null;
  // The window keeps at least two reports, so slow training (one report every few
  // seconds) still has a rate.
  while (training.rates.length > 2 && now - training.rates[0].t > RATE_WINDOW_MS) {
    training.rates.shift();
  }
  const bad = items.find((m) => !Number.isFinite(m.recon) || !Number.isFinite(m.kl));
  const stepsPerSec = rate(s, now);
  s.post({
    type: 'metrics',
    items: items.filter((m) => Number.isFinite(m.recon) && Number.isFinite(m.kl)).map((m) => ({ ...m, beta: betaAt(s, m.first_step) })),
    step: training.reported,
    stepsPerSec,
    samplesPerSec: stepsPerSec * s.batchSize,
    chunk: training.chunk,
  });
  if (bad) {
    diverge(s, bad);
    return false;
  }
  return true;
}

// The β of the model as it trained the step after `step`.
function betaAt(s, step) {
  let beta = s.betaLog[0]?.beta ?? 1;
  for (const entry of s.betaLog) if (entry.step <= step) beta = entry.beta;
  return beta;
}

// A new model (or one whose β changed at its current step): log its β from now on.
function logBeta(s, replaced) {
  const step = s.lab.step();
  const beta = JSON.parse(s.lab.spec_json()).beta;
  if (replaced) s.betaLog = [];
  s.betaLog = s.betaLog.filter((e) => e.step < step);
  s.betaLog.push({ step, beta });
}

function rate(s, now) {
  const r = s.training.rates;
  if (r.length < 2) return 0;
  const span = now - r[0].t;
  if (span <= 0) return 0;
  // The first entry's steps finished before the window started.
  const steps = r.slice(1).reduce((sum, x) => sum + x.steps, 0);
  return (steps * 1000) / span;
}

function diverge(s, m) {
  const value = Number.isNaN(m.recon) || Number.isNaN(m.kl) ? 'NaN' : 'infinite';
  s.training.stopRequested = true;
  exclusive(() => s.lab.rollback()).then(
    (step) => {
      s.post({ type: 'rollback', step });
      s.post({
        type: 'error',
        fatal: false,
        message:
          `Training diverged near step ${m.first_step + m.steps}: the loss became ${value}. ` +
          `The weights were restored to step ${step}. Lower the learning rate and reset.`,
      });
    },
    (e) => s.post({ type: 'error', fatal: false, message: errorMessage(e) }),
  );
}

// A measured time per step: adapts the chunk so one chunk takes about TARGET_MS, growing
// at most 1.5× at a time (a single short measurement must not make a huge chunk).
function measured(s, msPerStep) {
  if (!(msPerStep > 0 && Number.isFinite(msPerStep))) return;
  const t = s.training;
  t.msPerStep = t.msPerStep === null ? msPerStep : 0.7 * t.msPerStep + 0.3 * msPerStep;
  const ideal = Math.max(1, Math.min(MAX_CHUNK, Math.round(TARGET_MS / t.msPerStep)));
  t.chunk = Math.max(1, Math.min(ideal, Math.ceil(1.5 * t.chunk)));
}

// A new model: its speed is unknown.
function forgetSpeed(s) {
  s.training.chunk = 1;
  s.training.msPerStep = null;
}

// After a GPU failure the model continues on the CPU: tell the page.
async function backendChanged(s) {
  if (s.closed) return false;
  const [backend, adapter] = await exclusive(() => [s.lab.backend(), s.lab.adapter()]);
  if (backend === s.known.backend) return false;
  s.known = { backend, adapter };
  forgetSpeed(s);
  s.post({ type: 'error', fatal: false, message: `WebGPU stopped working: ${adapter}.` });
  s.post(await exclusive(() => ({ type: 'state', reason: 'fallback', ...info(s) })));
  return true;
}

// A model replaced by `replace(lab)` (reset, load): training stops first; the page hears.
async function replaceModel(s, replace, pretrained = null) {
  await stopTraining(s);
  await exclusive(async () => {
    await replace(s.lab);
    s.betaLog = [];
    s.pretrained = pretrained;
    sendCheckpoint(s);
  });
  forgetSpeed(s);
  const result = await exclusive(() => info(s));
  s.post({ type: 'state', reason: 'model', ...result });
  return result;
}

// ── requests ─────────────────────────────────────────────────────────────────────────────
const handlers = {
  async open(s, { spec = '{}', backend = 'auto', weights = null, restore = null, data = DEFAULT_DATA }) {
    const eng = await theEngine();
    browserAdapter ??= navigator.gpu && backend !== 'cpu' ? probeBrowserAdapter() : null;
    if (typeof data !== 'string') throw new Error(`open: data must be a data set's name, got ${show(data)}`);
    // The digits' shape is known before they arrive; another data set's is read from it.
    if (data !== DEFAULT_DATA) await loadData(data);
    const lab = await openLab(eng, spec, backend, data);
    if (s.closed) {
      lab.free();
      throw new Error('the widget was removed before its model opened');
    }
    s.lab = lab;
    s.data = data;
    s.backend = backend;
    if (browserAdapter) ({ name: browserAdapterName, software: softwareAdapter } = await browserAdapter);
    s.known = { backend: lab.backend(), adapter: lab.adapter() };
    if (restore) {
      await exclusive(async () => {
        await lab.load_weights(restore.bytes);
        lab.resume_at(restore.step);
      });
      s.pretrained = restore.pretrained ?? null;
      s.condition = restore.condition ?? 0;
    } else if (weights) {
      await loadPretrained(s, weights);
    }
    // A model opened after the digits arrived has them already.
    s.betaLog = [];
    const result = await exclusive(() => {
      const r = info(s);
      sendCheckpoint(s, true);
      return r;
    });
    s.post({ type: 'ready', ...result });
    return result;
  },
  async close(s) {
    s.closed = true;
    sessions.delete(s.id);
    s.training.stopRequested = true;
    await s.training.loop;
    await exclusive(() => s.lab?.free());
    s.lab = null;
    await dropUnusedTables();
    return null;
  },
  info: (s) => exclusive(() => info(s)),
  async start(s, { steps }) {
    if (steps !== undefined) whole(steps, 'start: steps', MAX_STEPS, 1);
    await needData(s);
    startTraining(s, steps);
    return exclusive(() => ({ step: s.lab.step() }));
  },
  async train(s, { steps }) {
    whole(steps, 'train: steps', MAX_STEPS, 1);
    await needData(s);
    const reason = await startTraining(s, steps);
    return exclusive(() => ({ step: s.lab.step(), reason }));
  },
  async profile(s, { steps = 50 }) {
    whole(steps, 'profile: steps', MAX_PROFILE_STEPS, 1);
    await stopTraining(s);
    await needData(s);
    const result = await exclusive(() => s.lab.profile(steps));
    // The profiled steps trained the model: report them as training does.
    const items = await exclusive(async () => {
      const done = await s.lab.finish();
      sendCheckpoint(s);
      return done;
    });
    report(s, items);
    return exclusive(() => ({ ...result, step: s.lab.step() }));
  },
  async stop(s) {
    await stopTraining(s);
    return exclusive(() => ({ step: s.lab.step() }));
  },
  reset: (s, { spec }) => replaceModel(s, (lab) => lab.reset(spec)),
  encode: (s, { pixels, labels }) => inference(s, () => s.lab.encode(pixels, labelsFor(s, pixels.length, labels))),
  decode: (s, { z, labels }) => inference(s, () => s.lab.decode(z, labelsFor(s, z.length, labels, 'latent'))),
  reconstruct: (s, { pixels, labels }) => inference(s, () => s.lab.reconstruct(pixels, labelsFor(s, pixels.length, labels))),
  sample: (s, { n, seed = 0, labels }) => inference(s, () => s.lab.sample(n, seed, labelsFor(s, n, labels, 'rows'))),
  condition(s, { label }) {
    if (!(Number.isInteger(label) && label >= 0 && label <= 9)) {
      throw new Error(`condition: the label must be a digit from 0 to 9, got ${show(label)}`);
    }
    s.condition = label;
    return { condition: label };
  },
  firstLayer: (s, { pixels }) => inference(s, () => s.lab.first_layer(pixels)),
  async anomalyScores(s) {
    await needData(s);
    return inference(s, () => s.lab.anomaly_scores());
  },
  async scoreRows(s, { pixels, test }) {
    await needData(s);
    if (test !== undefined && !(Array.isArray(test) && test.every((i) => Number.isInteger(i) && i >= 0 && i < 2 ** 32))) {
      throw new Error(`scoreRows: test must be an array of row indices, got ${show(test)}`);
    }
    return inference(s, () => s.lab.score_rows(pixels, test === undefined ? undefined : Uint32Array.from(test)));
  },
  async compare(s, { examples = 8 }) {
    whole(examples, 'compare: examples', 64, 1);
    await needData(s);
    return inference(s, () => s.lab.compare(examples));
  },
  async angles(s) {
    await needData(s);
    return inference(s, () => s.lab.angles());
  },
  async nearest(s, { pixels, test, n = 8 }) {
    await needData(s);
    whole(n, 'nearest: n', 64, 1);
    if (test !== undefined && !(Number.isInteger(test) && test >= 0 && test < 2 ** 32)) {
      throw new Error(`nearest: test must be a test row's index, got ${show(test)}`);
    }
    return inference(s, () => s.lab.nearest(pixels, test, n));
  },
  // A nonlinear layout of a model's codes: UMAP (umap-js), in slices of PROJECT_SLICE_MS with
  // the worker's other requests served between them, or t-SNE (the engine's, bhtsne), in one
  // call; a 'projection' event with the layout so far as it goes. A newer request of the same
  // model cancels a UMAP still running (it resolves {cancelled}).
  async project(s, { codes, latent, method = 'umap', neighbors = 15, minDist = 0.1, perplexity = 30, epochs = method === 'tsne' ? 1000 : 200, seed = 1 }) {
    if (method !== 'umap' && method !== 'tsne') throw new Error(`project: method is 'umap' or 'tsne', got ${show(method)}`);
    if (!(codes instanceof Float32Array)) throw new Error(`project: codes must be a Float32Array, got ${show(codes)}`);
    whole(latent, 'project: latent', 4096, 1);
    const n = codes.length / latent;
    if (!Number.isInteger(n) || n < 3) throw new Error(`project: codes must hold at least 3 rows of ${latent} numbers, got ${codes.length} numbers`);
    whole(n, 'project: rows', MAX_PROJECT_ROWS, 3);
    whole(neighbors, 'project: neighbors', 200, 2);
    whole(epochs, 'project: epochs', 5000, 10);
    whole(seed, 'project: seed', 2 ** 32 - 1);
    if (!(typeof minDist === 'number' && minDist >= 0 && minDist <= 1)) throw new Error(`project: minDist must be a number from 0 to 1, got ${show(minDist)}`);
    if (!codes.every(Number.isFinite)) throw new Error('project: the codes hold a value that is not a finite number');
    if (method === 'tsne') {
      if (!(typeof perplexity === 'number' && Number.isFinite(perplexity))) throw new Error(`project: perplexity must be a number, got ${show(perplexity)}`);
      const eng = await theEngine();
      if (s.projection) s.projection.cancelled = true;
      const t0 = performance.now();
      const xy = await exclusive(() => eng.tsne(codes, latent, perplexity, epochs, seed, (epoch, layout) => s.post({ type: 'projection', epoch, epochs, xy: layout }), PROJECT_SLICE_MS * 2));
      return { xy, epochs, ms: performance.now() - t0, method, settings: { perplexity, epochs, seed } };
    }
    const job = { cancelled: false };
    if (s.projection) s.projection.cancelled = true;
    s.projection = job;
    const rows = Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * latent, (i + 1) * latent)));
    const t0 = performance.now();
    const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(neighbors, n - 1), minDist, nEpochs: epochs, random: uniform(seed) });
    const total = umap.initializeFit(rows);
    const flat = () => Float32Array.from(umap.getEmbedding().flat());
    for (let done = 0; done < total; ) {
      const end = performance.now() + PROJECT_SLICE_MS;
      while (done < total && performance.now() < end) {
        umap.step();
        done++;
      }
      if (done < total) {
        s.post({ type: 'projection', epoch: done, epochs: total, xy: flat() });
        await new Promise((r) => setTimeout(r, 0));
      }
      if (job.cancelled || s.closed) return { cancelled: true };
    }
    if (s.projection === job) s.projection = null;
    const xy = flat();
    if (!xy.every(Number.isFinite)) throw new Error('UMAP diverged: a coordinate of the layout is not a finite number');
    return { xy, epochs: total, ms: performance.now() - t0, method: 'umap', settings: { neighbors: Math.min(neighbors, n - 1), minDist, epochs: total, seed } };
  },
  async twinEncode(s, { url, pixels }) {
    if (twin?.url !== url) twin = { url, lab: openTwin(url) };
    const current = twin;
    try {
      const other = await current.lab;
      return await exclusive(() => other.encode(pixels, undefined));
    } catch (e) {
      if (twin === current) twin = null; // try again on the next request
      throw e;
    }
  },
  async testImages(s, { n }) {
    await needData(s);
    return exclusive(() => ({ images: s.lab.test_images(n), labels: s.lab.test_labels(n) }));
  },
  preprocess: ({ ink, width, height }) => Lab.preprocess(ink, width, height),
  save: (s) => exclusive(() => s.lab.save_weights()),
  async memory() {
    const eng = engine && (await engine.catch(() => null));
    return {
      wasmBytes: wasmMemory?.buffer.byteLength ?? 0,
      models: sessions.size,
      digits: dataSets.has(DEFAULT_DATA),
      data: [...dataSets.keys()],
      devices: eng?.devices() ?? 0,
    };
  },
  panic: (s, { when }) => exclusive(() => s.lab.simulate_panic(when)),
  load: (s, { bytes }) => replaceModel(s, (lab) => lab.load_weights(bytes)),
  loseDevice: (s) => exclusive(() => s.lab.simulate_device_loss()).then(() => null),
  async setSpec(s, { spec }) {
    // Between two training calls: the steps queued after this one train with the new spec.
    const result = await exclusive(async () => {
      await s.lab.set_spec(spec);
      logBeta(s, false);
      sendCheckpoint(s, true);
      return info(s);
    });
    s.post({ type: 'state', reason: 'spec', ...result });
    return result;
  },
  async switchData(s, { data, spec = '{}' }) {
    if (typeof data !== 'string') throw new Error(`switchData: data must be a data set's name, got ${show(data)}`);
    if (typeof spec !== 'string') throw new Error(`switchData: spec must be a JSON string, got ${show(spec)}`);
    await loadData(data);
    await stopTraining(s);
    const eng = await theEngine();
    // The new model is built before the old one goes: on any error the old one stays.
    const lab = await openLab(eng, spec, s.backend, data);
    if (s.closed) {
      lab.free();
      throw new Error('the widget was removed while its data changed');
    }
    await exclusive(async () => {
      s.lab.free();
      s.lab = lab;
      s.data = data;
      s.known = { backend: lab.backend(), adapter: lab.adapter() };
      if (!lab.has_data()) await lab.attach_data();
      s.betaLog = [];
      s.pretrained = null;
      s.condition = 0;
      sendCheckpoint(s, true);
    });
    forgetSpeed(s);
    await dropUnusedTables();
    const result = await exclusive(() => info(s));
    s.post({ type: 'state', reason: 'model', ...result });
    return result;
  },
  async addCsv({ bytes, label = null }) {
    if (!(bytes instanceof Uint8Array)) throw new Error(`addCsv: bytes must be a Uint8Array, got ${show(bytes)}`);
    if (label !== null && typeof label !== 'string') throw new Error(`addCsv: label must be a column's name or null, got ${show(label)}`);
    const eng = await theEngine();
    await dropUnusedTables();
    const name = `csv-${csvCount + 1}`;
    const shape = JSON.parse(await exclusive(() => eng.set_csv(name, bytes, label)));
    csvCount += 1;
    dataSets.set(name, Promise.resolve());
    return { data: name, shape, label };
  },
  async loadUrl(s, { url }) {
    const bytes = await fetchBytes(url);
    return replaceModel(s, (lab) => lab.load_weights(bytes), fileName(url));
  },
  corrupt({ pixels, kind, amount, seed = 1, step = 0 }) {
    if (typeof kind !== 'string') throw new Error(`corrupt: kind must be a string (gaussian, mask or salt_pepper), got ${show(kind)}`);
    if (typeof amount !== 'number') throw new Error(`corrupt: amount must be a number, got ${show(amount)}`);
    return Lab.corrupt(pixels, kind, amount, whole(seed, 'corrupt: seed', 2 ** 32 - 1), whole(step, 'corrupt: step', 2 ** 32 - 1));
  },
};
// The worker serves exactly the protocol's requests: a handler missing from the table, or a
// request of the table without a handler, stops the worker before it answers anything.
for (const type of new Set([...Object.keys(handlers), ...Object.keys(REQUESTS)])) {
  if (!Object.hasOwn(handlers, type) || !Object.hasOwn(REQUESTS, type)) {
    throw new Error(`engine-worker: the request ${type} is not both in protocol.js and served here`);
  }
}

const fileName = (url) => new URL(url).pathname.split('/').pop();

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${fileName(url)}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// The shipped weights: the widget starts with a model that already knows digits. Without
// them (a missing file, an old format) it goes on with the fresh model and says why.
async function loadPretrained(s, url) {
  try {
    const bytes = await fetchBytes(url);
    await exclusive(() => s.lab.load_weights(bytes));
    s.pretrained = fileName(url);
  } catch (e) {
    if (isCrash(e)) throw e;
    s.post({
      type: 'error',
      fatal: false,
      message: `The model ${fileName(url)} could not be loaded (${errorMessage(e)}); starting from a fresh one.`,
    });
  }
}

// A bundled data set: fetched once per page, when a model first needs it.
async function fetchData(file) {
  const response = await fetch(new URL(`./data/${file}`, import.meta.url));
  if (!response.ok) {
    throw new Error(`could not load the data (data/${file}): HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

// The tables and anomaly sets no model uses any more are forgotten (a user may drop many
// tables, or try many contaminations, in turn). An anomaly set keeps its table.
async function dropUnusedTables() {
  const used = new Set([...sessions.values()].map((s) => s.data));
  for (const name of used) {
    const a = parseAnomalyData(name);
    if (a) used.add(a.base);
  }
  for (const name of [...dataSets.keys()]) {
    if (!(isCsvData(name) || parseAnomalyData(name)) || used.has(name)) continue;
    dataSets.delete(name);
    const eng = await theEngine();
    await exclusive(() => eng.remove_data(name));
  }
}

// A second model on the CPU, from a .safetensors file, for comparisons.
async function openTwin(url) {
  const weights = await fetchBytes(url);
  const eng = await theEngine();
  const other = await openLab(eng, '{}', 'cpu', DEFAULT_DATA);
  await exclusive(() => other.load_weights(weights));
  return other;
}

// Typed arrays inside a result are transferred, not copied.
function transferables(value) {
  const out = [];
  const add = (v) => {
    if (ArrayBuffer.isView(v) && !out.includes(v.buffer)) out.push(v.buffer);
  };
  add(value);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) Object.values(value).forEach(add);
  return out;
}

self.onmessage = async (event) => {
  const { id, type, model, ...args } = event.data ?? {};
  const handler = handlers[type];
  if (crashed !== null) {
    post({ id, ok: false, error: crashed });
    return;
  }
  let s = null;
  try {
    checkRequest(type);
    if (!ENGINE_WIDE.has(type)) {
      if (typeof model !== 'string' || model === '') throw new Error(`${type}: the request names no model`);
      if (type === 'open') {
        if (sessions.has(model)) throw new Error(`open: a model ${show(model)} is open already`);
        if (sessions.size >= MAX_MODELS) throw new Error(`open: the engine holds ${MAX_MODELS} models already; remove a widget first`);
        sessions.set(model, new Session(model));
      }
      s = sessions.get(model);
      if (!s) throw new Error(`${type}: no model ${show(model)} is open`);
      if (!s.lab && type !== 'open' && type !== 'close') throw new Error('the model is not open yet');
    }
    const result = await (s ? handler(s, args) : handler(args));
    // An inference call may have moved the model to the CPU (it retries there). Not after
    // `preprocess`: it never touches the model, so it need not wait behind training. After
    // inference only when the backend it saw differs (see `inference`).
    const check = s && (INFERENCE.has(type) ? s.backendSeen !== s.known.backend : !BACKEND_FREE.has(type));
    if (check && s.lab) await backendChanged(s);
    const ms = result && typeof result === 'object' ? inferenceMs.get(result) : undefined;
    post(ms === undefined ? { id, ok: true, result } : { id, ok: true, result, ms }, transferables(result));
  } catch (e) {
    if (isCrash(e)) crash(e);
    const message = crashed ?? errorMessage(e);
    if (type === 'open' && s && crashed === null) {
      // A model that failed to open is not kept (the widget may try again).
      s.closed = true;
      if (sessions.get(model) === s) sessions.delete(model);
      post({ type: 'error', model, message, fatal: true });
    }
    post({ id, ok: false, error: message });
  }
};
