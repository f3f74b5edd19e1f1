// Latent Lab's engine worker: a module Worker that owns the wasm `Lab` (src/web.rs), so the
// page never waits on the GPU or on CPU training.
//
// Protocol (postMessage, structured clone; typed arrays are transferred where possible)
//
//   page → worker requests:  {id, type, ...args}
//   worker → page replies:   {id, ok: true, result, ms?}  |  {id, ok: false, error: message}
//                            (`ms`: the engine's time for an inference call, queueing excluded)
//   worker → page events:    {type: 'ready' | 'metrics' | 'state' | 'error', ...} (no id)
//
//   request      args                       result
//   ───────────  ─────────────────────────  ─────────────────────────────────────────────────
//   init         spec (JSON string),        info (below); also sent as a 'ready' event. With
//                preferGpu (bool),          `weights`, the model is loaded from that file
//                weights? (URL),            (a failure keeps the fresh model and is reported);
//                restore? {bytes, step,     with `restore`, from a checkpoint of an engine
//                pretrained, condition}     that died (a failure is an error: see 'crash')
//   info         —                          info: {backend, adapter, spec, parameters, step,
//                                           training, trainSize, testSize, pretrained,
//                                           condition}
//                                           (`pretrained`: the file name while the model is
//                                           the one loaded at init, else null)
//   start        steps? (number)            {step}: starts training; without `steps` it runs
//                                           until 'stop'. Replies at once.
//   train        steps (number)             {step, reason}: trains `steps` more steps and
//                                           replies when they are done (or training stopped)
//   stop         —                          {step}: stops training, waits for queued steps
//   reset        spec (JSON string)         info: a fresh model (training stops first)
//   setSpec      spec (JSON string)         info: β, optimizer, noise or sparsity of the
//                                           running model changed (weights, step and
//                                           training kept); any other change is refused
//   loadUrl      url                        info: the model of a .safetensors file fetched
//                                           from `url` (a kind's pretrained weights);
//                                           `pretrained` names it. On error the model is kept
//   corrupt      pixels, kind, amount,      Float32Array n×784: the images corrupted exactly
//                seed, step                 as a dae's training does (never waits on training)
//   encode       pixels (Float32Array n×784) {mu, logvar|null, rows, latent}
//                labels? (Uint8Array n)     (labels: a conditional model's digit per row;
//   decode       z (Float32Array n×Z),      Float32Array n×784      without them every
//                labels?                                            row has the condition)
//   reconstruct  pixels, labels?            Float32Array n×784
//   sample       n, seed, labels?           Float32Array n×784
//   condition    label (0–9)                {condition}: the digit a conditional model
//                                           (cvae) draws when a request gives no labels
//   firstLayer   pixels (784)               {channels, kernel, filters, bias, side, maps}: a
//                                           conv model's first filters and their maps
//   twinEncode   url, pixels                {mu, logvar|null, rows, latent}: encoded by a
//                                           second model, loaded once from `url` on the
//                                           CPU (the contractive view's plain AE)
//   testImages   n                          {images: Float32Array n×784, labels: Uint8Array}
//   preprocess   ink, width, height         Float32Array 784
//   save         —                          Uint8Array (a .safetensors file)
//   load         bytes (Uint8Array)         info; on error the current model is kept
//   memory       —                          {wasmBytes}: the engine's linear memory (it
//                                           only grows: a leak shows here)
//   loseDevice   —                          null (test hook: destroys the WebGPU device)
//   panic        when ('now' | 'async')     never replies (test hook: a panic inside the
//                                           engine, at once or inside an awaited call)
//
//   event        fields
//   ───────────  ─────────────────────────────────────────────────────────────────────────
//   ready        info
//   metrics      items: [{first_step, steps, recon, kl, penalty, beta}], step, stepsPerSec,
//                samplesPerSec, chunk (steps per training call). `beta`: the β those steps
//                trained with (it changes with setSpec)
//   state        info (training started or stopped, backend switched, model replaced),
//                reason?: 'start' | 'stop' | 'done' | 'diverged' | 'fallback' | 'model' |
//                'spec' (a live change by setSpec)
//   error        message, fatal (bool: the engine could not start)
//   checkpoint   bytes (a .safetensors of the last weights known to be good), step,
//                pretrained: sent whenever they change, so the page can restore the model
//                if the engine dies (the page knows the condition itself)
//   rollback     step: a diverged run was undone; the weights are those of `step`
//   crash        message: the engine died (a panic, or out of memory). Nothing more is
//                answered: the page ends this worker and starts another
//
// Faults: a panic in Rust aborts the wasm instance (a `WebAssembly.RuntimeError`, thrown
// from the call or, inside an awaited call, uncaught in a later task, its promise never
// settling). Either way the worker sends 'crash' once, with the panic's message, and
// refuses every later request; the page restarts the engine from the last 'checkpoint'.
//
// Training loop: `lab.train(chunk)` queues (WebGPU) or runs (CPU) a chunk of steps, then
// `poll_metrics()` collects finished ones; between chunks the loop yields to the event loop,
// so requests (inference, stop, save) interleave with training. `chunk` adapts so one chunk
// takes about TARGET_MS, and on WebGPU at most two chunks are queued, which bounds how long
// an inference request waits behind training. Every call into the Lab goes through one
// queue (`exclusive`), so calls never overlap.

import init, { Lab } from './pkg/latent_lab.js';
import { isConditional } from './util/kinds.js';

const TARGET_MS = 40;
const MAX_CHUNK = 500;
const RATE_WINDOW_MS = 2000;

let lab = null;
let batchSize = 128;
let known = { backend: null, adapter: null };
let browserAdapter = ''; // vendor and architecture from GPUAdapterInfo, when the name is hidden
let pretrained = null; // the weights file loaded at init, until the model is replaced
// β in force from each step on ([{step, beta}], oldest first), so every metrics item can say
// which β it trained with; restarted whenever the model is replaced.
let betaLog = [];
let twin = null; // {url, lab: Promise<Lab>}: the model `twinEncode` encodes with
let condition = 0; // the digit a conditional model draws when a request gives no labels
let wasmMemory = null; // the engine's WebAssembly.Memory
let crashed = null; // the message, once the engine has died
let checkpointSent = -1; // serial of the last checkpoint sent to the page

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
  training.stopRequested = true;
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
function sendCheckpoint(force = false) {
  const serial = lab.checkpoint_serial();
  if (!force && serial === checkpointSent) return;
  checkpointSent = serial;
  const bytes = lab.checkpoint_weights();
  post({ type: 'checkpoint', bytes, step: lab.checkpoint_step(), pretrained }, [bytes.buffer]);
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
// the queue: a call may move the engine to the CPU (it retries there), and checking in a turn
// of its own would hold the reply back behind the next queued request (the sampler keeps two
// decodes in flight).
let backendSeen = null;
const inferenceMs = new WeakMap(); // result → the engine's time for it
function inference(fn) {
  return exclusive(async () => {
    const t0 = performance.now();
    const result = await fn();
    inferenceMs.set(result, performance.now() - t0);
    backendSeen = lab.backend();
    return result;
  });
}
const INFERENCE = new Set(['encode', 'decode', 'reconstruct', 'sample', 'firstLayer']);
// Requests that never touch the model's backend: no need to check it after them.
const BACKEND_FREE = new Set(['init', 'preprocess', 'corrupt', 'condition', 'twinEncode']);

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

function info() {
  const spec = lab.spec_json();
  if (betaLog.length === 0) logBeta(true);
  batchSize = JSON.parse(spec).batch_size;
  return {
    backend: lab.backend(),
    adapter: adapterLabel(lab.backend(), lab.adapter()),
    spec,
    parameters: lab.parameter_count(),
    step: lab.step(),
    training: training.active,
    trainSize: lab.train_size(),
    testSize: lab.test_size(),
    pretrained,
    condition,
  };
}

// A conditional model's label per row: the request's own, else the condition for every
// row; nothing for other models. Called in the request's turn of the queue, so `lab` is the
// model that answers it. `rows`: of pixels (784 values) or, with `perLatent`, of codes.
// A request of an impossible size gets no labels: the engine refuses its size.
function labelsFor(length, labels, perLatent = false) {
  const spec = JSON.parse(lab.spec_json());
  if (!isConditional(spec.kind)) return undefined;
  if (labels != null) return labels instanceof Uint8Array ? labels : Uint8Array.from(labels);
  const rows = length / (perLatent ? spec.latent : 784);
  if (!(Number.isInteger(rows) && rows >= 0 && rows <= MAX_LABEL_ROWS)) return undefined;
  return new Uint8Array(rows).fill(condition);
}
const MAX_LABEL_ROWS = 1e6;

// wgpu only sees the adapter's `description`, which browsers often leave empty.
function adapterLabel(backend, adapter) {
  if (backend === 'webgpu' && browserAdapter && adapter.startsWith('WebGPU adapter')) {
    return adapter.replace('WebGPU adapter', browserAdapter);
  }
  return adapter;
}

async function probeBrowserAdapter() {
  try {
    const info = (await navigator.gpu?.requestAdapter())?.info;
    return [info?.vendor, info?.architecture].filter(Boolean).join(' ');
  } catch {
    return '';
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

function errorMessage(e) {
  if (e instanceof Error) return e.message;
  return String(e);
}

// ── training loop ────────────────────────────────────────────────────────────────────────
const training = {
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

function startTraining(steps) {
  const bounded = Number.isFinite(steps);
  if (training.active) {
    // A bounded request while training: stop `steps` steps from now.
    if (bounded) {
      exclusive(() => lab.step()).then((step) => {
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
      const step = lab.step();
      training.target = bounded ? step + steps : Infinity;
      training.reported = step;
      training.submitted = step;
      training.rates = [{ t: performance.now(), steps: 0 }];
      training.busySince = null;
      return { type: 'state', reason: 'start', ...info() };
    });
    post(start);
    const reason = await runLoop();
    training.active = false;
    post(await exclusive(() => ({ type: 'state', reason, ...info() })));
    return reason;
  })();
  return training.loop;
}

async function stopTraining() {
  if (!training.active) return;
  training.stopRequested = true;
  await training.loop;
}

async function runLoop() {
  let reason = 'stop';
  try {
    while (!training.stopRequested) {
      const step = await exclusive(() => lab.step());
      if (step >= training.target) {
        reason = 'done';
        break;
      }
      const n = Math.max(1, Math.min(training.chunk, training.target - step));
      const elapsed = await exclusive(async () => {
        const t0 = performance.now();
        if (training.submitted <= training.reported) training.busySince = t0;
        await lab.train(n);
        training.submitted = lab.step();
        sendCheckpoint();
        return performance.now() - t0;
      });
      // CPU: `train` ran the steps, so its time measures them.
      if (known.backend === 'cpu') measured(elapsed / n);
      if (await backendChanged()) {
        reason = 'fallback';
        break;
      }
      if (!(await collect())) {
        reason = 'diverged';
        break;
      }
      // WebGPU: keep at most two chunks queued so requests do not wait long behind training.
      while (!training.stopRequested && training.submitted - training.reported > 2 * training.chunk) {
        await sleep(4);
        if (!(await collect())) return 'diverged';
      }
      await nextTask();
    }
    // Wait for every queued step and report it.
    const rest = await exclusive(async () => {
      const items = await lab.finish();
      sendCheckpoint();
      return items;
    });
    if (!report(rest)) return 'diverged';
  } catch (e) {
    if (isCrash(e)) crash(e);
    if (crashed !== null) return 'crash';
    post({ type: 'error', message: errorMessage(e), fatal: false });
    reason = 'stop';
  }
  if (await backendChanged()) reason = 'fallback';
  return reason;
}

// Polls finished steps' metrics and reports them; false when training diverged (the
// weights are then rolled back to the last good checkpoint).
async function collect() {
  const items = await exclusive(() => lab.poll_metrics());
  return report(items);
}

function report(items) {
  if (!items || items.length === 0) return true;
  const now = performance.now();
  let steps = 0;
  for (const m of items) {
    training.reported = Math.max(training.reported, m.first_step + m.steps);
    steps += m.steps;
  }
  training.rates.push({ t: now, steps });
  // WebGPU: `train` only queues; with work queued since `busySince`, the time until these
  // metrics arrived measures their steps.
  if (known.backend !== 'cpu' && training.busySince !== null && steps > 0) {
    measured((now - training.busySince) / steps);
  }
  training.busySince = training.submitted > training.reported ? now : null;
  // The window keeps at least two reports, so slow training (one report every few
  // seconds) still has a rate.
  while (training.rates.length > 2 && now - training.rates[0].t > RATE_WINDOW_MS) {
    training.rates.shift();
  }
  const bad = items.find((m) => !Number.isFinite(m.recon) || !Number.isFinite(m.kl));
  const stepsPerSec = rate(now);
  post({
    type: 'metrics',
    items: items.filter((m) => Number.isFinite(m.recon) && Number.isFinite(m.kl)).map((m) => ({ ...m, beta: betaAt(m.first_step) })),
    step: training.reported,
    stepsPerSec,
    samplesPerSec: stepsPerSec * batchSize,
    chunk: training.chunk,
  });
  if (bad) {
    diverge(bad);
    return false;
  }
  return true;
}

// The β of the model as it trained the step after `step`.
function betaAt(step) {
  let beta = betaLog[0]?.beta ?? 1;
  for (const entry of betaLog) if (entry.step <= step) beta = entry.beta;
  return beta;
}

// A new model (or one whose β changed at its current step): log its β from now on.
function logBeta(replaced) {
  const step = lab.step();
  const beta = JSON.parse(lab.spec_json()).beta;
  if (replaced) betaLog = [];
  betaLog = betaLog.filter((e) => e.step < step);
  betaLog.push({ step, beta });
}

function rate(now) {
  const r = training.rates;
  if (r.length < 2) return 0;
  const span = now - r[0].t;
  if (span <= 0) return 0;
  // The first entry's steps finished before the window started.
  const steps = r.slice(1).reduce((s, x) => s + x.steps, 0);
  return (steps * 1000) / span;
}

function diverge(m) {
  const value = Number.isNaN(m.recon) || Number.isNaN(m.kl) ? 'NaN' : 'infinite';
  training.stopRequested = true;
  exclusive(() => lab.rollback()).then(
    (step) => {
      post({ type: 'rollback', step });
      post({
        type: 'error',
        fatal: false,
        message:
          `Training diverged near step ${m.first_step + m.steps}: the loss became ${value}. ` +
          `The weights were restored to step ${step}. Lower the learning rate and reset.`,
      });
    },
    (e) => post({ type: 'error', fatal: false, message: errorMessage(e) }),
  );
}

// A measured time per step: adapts the chunk so one chunk takes about TARGET_MS, growing
// at most 1.5× at a time (a single short measurement must not make a huge chunk).
function measured(msPerStep) {
  if (!(msPerStep > 0 && Number.isFinite(msPerStep))) return;
  training.msPerStep = training.msPerStep === null ? msPerStep : 0.7 * training.msPerStep + 0.3 * msPerStep;
  const ideal = Math.max(1, Math.min(MAX_CHUNK, Math.round(TARGET_MS / training.msPerStep)));
  training.chunk = Math.max(1, Math.min(ideal, Math.ceil(1.5 * training.chunk)));
}

// A new model: its speed is unknown.
function forgetSpeed() {
  training.chunk = 1;
  training.msPerStep = null;
}

// After a GPU failure the Lab continues on the CPU: tell the page.
async function backendChanged() {
  const [backend, adapter] = await exclusive(() => [lab.backend(), lab.adapter()]);
  if (backend === known.backend) return false;
  known = { backend, adapter };
  forgetSpeed();
  post({ type: 'error', fatal: false, message: `WebGPU stopped working: ${adapter}.` });
  post(await exclusive(() => ({ type: 'state', reason: 'fallback', ...info() })));
  return true;
}

// ── requests ─────────────────────────────────────────────────────────────────────────────
const handlers = {
  async init({ spec = '{}', preferGpu = true, weights = null, restore = null }) {
    if (lab) return exclusive(info);
    const exports = await init({ module_or_path: new URL('./pkg/latent_lab_bg.wasm', import.meta.url) });
    wasmMemory = exports.memory;
    lab = await Lab.create(spec, await fetchDigits(), preferGpu);
    if (lab.backend() === 'webgpu') browserAdapter = await probeBrowserAdapter();
    known = { backend: lab.backend(), adapter: lab.adapter() };
    if (restore) {
      await lab.load_weights(restore.bytes);
      lab.resume_at(restore.step);
      pretrained = restore.pretrained ?? null;
      condition = restore.condition ?? 0;
    } else if (weights) {
      await loadPretrained(weights);
    }
    betaLog = [];
    const result = info();
    sendCheckpoint(true);
    post({ type: 'ready', ...result });
    return result;
  },
  info: () => exclusive(info),
  start({ steps }) {
    if (steps !== undefined) whole(steps, 'start: steps', MAX_STEPS, 1);
    startTraining(steps);
    return exclusive(() => ({ step: lab.step() }));
  },
  async train({ steps }) {
    whole(steps, 'train: steps', MAX_STEPS, 1);
    const reason = await startTraining(steps);
    return exclusive(() => ({ step: lab.step(), reason }));
  },
  async stop() {
    await stopTraining();
    return exclusive(() => ({ step: lab.step() }));
  },
  async reset({ spec }) {
    await stopTraining();
    pretrained = null;
    // The next info() logs the new model's β.
    await exclusive(async () => {
      await lab.reset(spec);
      betaLog = [];
      sendCheckpoint();
    });
    forgetSpeed();
    const result = await exclusive(info);
    post({ type: 'state', reason: 'model', ...result });
    return result;
  },
  encode: ({ pixels, labels }) => inference(() => lab.encode(pixels, labelsFor(pixels.length, labels))),
  decode: ({ z, labels }) => inference(() => lab.decode(z, labelsFor(z.length, labels, true))),
  reconstruct: ({ pixels, labels }) => inference(() => lab.reconstruct(pixels, labelsFor(pixels.length, labels))),
  sample: ({ n, seed = 0, labels }) => inference(() => lab.sample(n, seed, labelsFor(n * 784, labels))),
  condition({ label }) {
    if (!(Number.isInteger(label) && label >= 0 && label <= 9)) {
      throw new Error(`condition: the label must be a digit from 0 to 9, got ${show(label)}`);
    }
    condition = label;
    return { condition };
  },
  firstLayer: ({ pixels }) => inference(() => lab.first_layer(pixels)),
  async twinEncode({ url, pixels }) {
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
  testImages: ({ n }) => exclusive(() => ({ images: lab.test_images(n), labels: lab.test_labels(n) })),
  preprocess: ({ ink, width, height }) => Lab.preprocess(ink, width, height),
  save: () => exclusive(() => lab.save_weights()),
  memory: () => ({ wasmBytes: wasmMemory.buffer.byteLength }),
  panic: ({ when }) => exclusive(() => lab.simulate_panic(when)),
  async load({ bytes }) {
    await stopTraining();
    await exclusive(async () => {
      await lab.load_weights(bytes);
      betaLog = [];
      pretrained = null;
      sendCheckpoint();
    });
    forgetSpeed();
    const result = await exclusive(info);
    post({ type: 'state', reason: 'model', ...result });
    return result;
  },
  loseDevice: () => exclusive(() => lab.simulate_device_loss()).then(() => null),
  async setSpec({ spec }) {
    // Between two training calls: the steps queued after this one train with the new spec.
    const result = await exclusive(async () => {
      await lab.set_spec(spec);
      logBeta(false);
      sendCheckpoint(true);
      return info();
    });
    post({ type: 'state', reason: 'spec', ...result });
    return result;
  },
  async loadUrl({ url }) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${new URL(url).pathname.split('/').pop()}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    await stopTraining();
    await exclusive(async () => {
      await lab.load_weights(bytes);
      betaLog = [];
      pretrained = new URL(url).pathname.split('/').pop();
      sendCheckpoint();
    });
    forgetSpeed();
    const result = await exclusive(info);
    post({ type: 'state', reason: 'model', ...result });
    return result;
  },
  corrupt({ pixels, kind, amount, seed = 1, step = 0 }) {
    if (typeof kind !== 'string') throw new Error(`corrupt: kind must be a string (gaussian, mask or salt_pepper), got ${show(kind)}`);
    if (typeof amount !== 'number') throw new Error(`corrupt: amount must be a number, got ${show(amount)}`);
    return Lab.corrupt(pixels, kind, amount, whole(seed, 'corrupt: seed', 2 ** 32 - 1), whole(step, 'corrupt: step', 2 ** 32 - 1));
  },
};

// The shipped weights: the lab starts with a model that already knows digits. Without them
// (a missing file, an old format) it goes on with the fresh model and says why.
async function loadPretrained(url) {
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    await lab.load_weights(bytes);
    pretrained = new URL(url).pathname.split('/').pop();
  } catch (e) {
    post({
      type: 'error',
      fatal: false,
      message: `The pretrained model could not be loaded (${errorMessage(e)}); starting from a fresh one.`,
    });
  }
}

// The bundled digits (fetched again for a twin: the browser's cache serves them, and the
// worker need not hold a copy for a comparison that may never be asked for).
async function fetchDigits() {
  const response = await fetch(new URL('./data/mnist-10k.bin', import.meta.url));
  if (!response.ok) {
    throw new Error(`could not load the digits (data/mnist-10k.bin): HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

// A second model on the CPU, from a .safetensors file, for comparisons.
async function openTwin(url) {
  const response = await fetch(url);
  const name = new URL(url).pathname.split('/').pop();
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  const weights = new Uint8Array(await response.arrayBuffer());
  const other = await Lab.create('{}', await fetchDigits(), false);
  await other.load_weights(weights);
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
  const { id, type, ...args } = event.data ?? {};
  const handler = handlers[type];
  if (crashed !== null) {
    post({ id, ok: false, error: crashed });
    return;
  }
  try {
    if (!handler) throw new Error(`unknown request type ${show(type)}`);
    if (!lab && type !== 'init') throw new Error('the engine is not initialised yet');
    const result = await handler(args);
    // An inference call may have moved the engine to the CPU (it retries there). Not after
    // `preprocess`: it never touches the model, so it need not wait behind training. After
    // inference only when the backend it saw differs (see `inference`).
    const check = INFERENCE.has(type)
      ? backendSeen !== known.backend
      : !BACKEND_FREE.has(type);
    if (lab && check) await backendChanged();
    const ms = result && typeof result === 'object' ? inferenceMs.get(result) : undefined;
    post(ms === undefined ? { id, ok: true, result } : { id, ok: true, result, ms }, transferables(result));
  } catch (e) {
    if (isCrash(e)) crash(e);
    const message = crashed ?? errorMessage(e);
    if (type === 'init' && crashed === null) post({ type: 'error', message, fatal: true });
    post({ id, ok: false, error: message });
  }
};
