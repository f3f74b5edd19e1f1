// The engine worker's protocol, in one place for both sides: `REQUESTS` lists every request
// type with what the worker needs to know about it; the worker (engine-worker.js) serves
// exactly these and the page's client (engine-client.js) sends nothing else. D below is the
// size of one input row: the model's `shape` in its info (28 × 28 = 784 for the digits).
//
// Protocol (postMessage, structured clone; typed arrays are transferred where possible)
//
//   page → worker requests:  {id, type, model, ...args}   (`model`: the widget's model id)
//   worker → page replies:   {id, ok: true, result, ms?}  |  {id, ok: false, error: message}
//                            (`ms`: the engine's time for an inference call, queueing excluded)
//   worker → page events:    {type, model, ...} ('ready', 'metrics', 'state', 'error',
//                            'checkpoint', 'rollback': about one model) and {type: 'crash'}
//
//   request      args                       result
//   ───────────  ─────────────────────────  ─────────────────────────────────────────────────
//   open         spec (JSON string),        info (below) of a new model `model`; also sent
//                backend (auto | webgpu |   as a 'ready' event. With `weights` (a URL), the
//                cpu; auto: WebGPU unless   model is loaded from that file (a failure keeps
//                its adapter is software),  the fresh model and is reported); with `restore`,
//                weights? (URL),
//                restore? {bytes, step,
//                pretrained, condition},    from a checkpoint of an engine that died (a
//                data? (a data set's name)  failure is an error: see 'crash'). `data`: mnist
//                                           (default), fashion, shuttle, bleeding, ecg
//                                           (www/util/datasets.js), one from addCsv, or an
//                                           anomaly set of one (datasets.js anomalyData);
//                                           the spec's missing fields fit its shape
//   switchData   data, spec (JSON string)   info: a fresh model of `spec` on another data
//                                           set (fetched first); on error the model is kept
//   addCsv       bytes (Uint8Array),        {data, shape, label}: a CSV table as a new
//                label? (a column's name)   data set (csv-1, csv-2, …) for open and
//                                           switchData; an error names the line and column
//                                           of a bad cell. Tables no model uses are dropped
//   close        —                          null: the model stops training and is freed
//   info         —                          info: {backend, adapter, spec, shape, data,
//                                           parameters, step, training, trainSize,
//                                           testSize, pretrained, condition, models,
//                                           softwareAdapter}
//                                           (`shape`: one input row, e.g. {type: 'image',
//                                           channels: 1, height: 28, width: 28}, {type:
//                                           'vector', features} or {type: 'series',
//                                           channels, length})
//                                           (`pretrained`: the file name while the model is
//                                           the one loaded at open, else null; `trainSize`
//                                           and `testSize`: 0 until the data is loaded;
//                                           `models`: how many models the engine holds;
//                                           `softwareAdapter`: the browser's WebGPU adapter
//                                           is a software renderer)
//   start        steps? (number)            {step}: starts training; without `steps` it runs
//                                           until 'stop'. Replies at once.
//   train        steps (number)             {step, reason}: trains `steps` more steps and
//                                           replies when they are done (or training stopped)
//   stop         —                          {step}: stops training, waits for queued steps
//   profile      steps? (number, 50)        {ops: [{op, ms}], totalMs, steps, timer, step}: trains
//                                           `steps` more steps (training stops first) timing
//                                           each op, ms per step (Lab.profile): WebGPU by
//                                           timestamp queries, the CPU by performance.now
//   reset        spec (JSON string)         info: a fresh model (training stops first)
//   setSpec      spec (JSON string)         info: β, optimizer, noise or sparsity of the
//                                           running model changed (weights, step and
//                                           training kept); any other change is refused
//   loadUrl      url                        info: the model of a .safetensors file fetched
//                                           from `url` (a kind's pretrained weights);
//                                           `pretrained` names it. On error the model is kept
//   corrupt      pixels, kind, amount,      Float32Array n×D: the images corrupted exactly
//                seed, step                 as a dae's training does (never waits on training)
//   encode       pixels (Float32Array n×D) {mu, logvar|null, rows, latent}
//                labels? (Uint8Array n)     (labels: a conditional model's digit per row;
//   decode       z (Float32Array n×Z),      Float32Array n×D      without them every
//                labels?                                            row has the condition)
//   reconstruct  pixels, labels?            Float32Array n×D
//   sample       n, seed, labels?           Float32Array n×D
//   condition    label (0–9)                {condition}: the digit a conditional model
//                                           (cvae) draws when a request gives no labels
//   firstLayer   pixels (D)                 {channels, kernel, filters, bias, side, maps}: a
//                                           conv model's first filters and their maps
//   anomalyScores —                         {anomalous, names, scores, curves, pcaDims,
//                                           trainRows, trainAnomalies, series?}: every test
//                                           row of an anomaly set scored (Lab.anomaly_scores)
//   scoreRows    pixels (Float32Array n×D)  {reconstruction, elbo?, encoder?, pca, errors,
//                | test (row indices)       reconstructions, pcaErrors, rows?}: rows scored
//                                           as the test rows are (the drawing, examples)
//   compare      examples? (number, 8)     {width, values, rows, labelled, modelMse, pcaMse,
//                                           equivalentK, curve, examples, knn, labels,
//                                           planes, why}: the model beside PCA and the raw
//                                           values on every test row (Lab.compare; PCA is
//                                           fitted once per data set)
//   angles       —                          {step, linear, angles (Float64Array, degrees,
//                                           smallest first) | why}: a linear model's
//                                           principal angles to PCA's subspace of its
//                                           code's width (Lab.angles)
//   nearest      pixels (D) | test (a test  {code: {indices, distances, rows, labels} | null,
//                row's index), n? (8)       pixels: {…}, queryCode, why}: the n held-out
//                                           rows nearest to the query by code and by value
//   project      codes (Float32Array n×Z),  {xy (Float32Array n×2), epochs, ms, method,
//                latent, method? (umap |    settings} | {cancelled: true}: UMAP of the
//                tsne), neighbors? (15),    codes (umap-js), computed in slices between the
//                minDist? (0.1),            other requests (a newer one of the same model
//                perplexity? (30), epochs?  cancels it), or t-SNE (Engine.tsne, bhtsne) in
//                (200 | 1000), seed? (1)    one call; 'projection' events as they go
//   twinEncode   url, pixels                {mu, logvar|null, rows, latent}: encoded by a
//                                           second model, loaded once from `url` on the
//                                           CPU (the contractive view's plain AE)
//   testImages   n                          {images: Float32Array n×D, labels: Uint8Array}
//                                           (the digits are fetched at the first request
//                                           that needs them: this, start or train; other
//                                           data sets before the model opens)
//   preprocess   ink, width, height         Float32Array 28×28 (the digit pad's input)
//   save         —                          Uint8Array (a .safetensors file)
//   load         bytes (Uint8Array)         info; on error the current model is kept
//   memory       —                          {wasmBytes, models, digits, data, devices}: the
//                                           engine's linear memory (it only grows: a leak
//                                           shows here), the models it holds, whether it
//                                           has the digits, the data sets it holds, the
//                                           WebGPU devices it opened
//   loseDevice   —                          null (test hook: destroys the WebGPU device)
//   panic        when ('now' | 'async')     never replies (test hook: a panic inside the
//                                           engine, at once or inside an awaited call)
//
//   event        fields (all but 'crash' carry `model`)
//   ───────────  ─────────────────────────────────────────────────────────────────────────
//   ready        info
//   metrics      items: [{first_step, steps, recon, kl, penalty, beta}], step, stepsPerSec,
//                samplesPerSec, chunk (steps per training call). `beta`: the β those steps
//                trained with (it changes with setSpec)
//   state        info (training started or stopped, backend switched, model replaced, the
//                digits arrived), reason?: 'start' | 'stop' | 'done' | 'diverged' |
//                'fallback' | 'model' | 'spec' (a live change by setSpec) | 'data'
//   error        message, fatal (bool: the model could not be opened)
//   checkpoint   bytes (a .safetensors of the last weights known to be good), step,
//                pretrained: sent whenever they change, so the page can restore the model
//                if the engine dies (the page knows the condition itself)
//   rollback     step: a diverged run was undone; the weights are those of `step`
//   projection   epoch, epochs, xy (Float32Array n×2): a projection's layout so far
//   crash        message: the engine died (a panic, or out of memory). Nothing more is
//                answered: the page ends this worker and starts another, reopening each
//                widget's model from its last checkpoint
//

/**
 * Every request type. `engine`: about no model in particular (no `model` id); `inference`:
 * an inference call (it may fall back to the CPU, and its engine time is reported); `touches`:
 * false for a request that never touches the model's backend (no need to check it after).
 */
export const REQUESTS = Object.freeze({
  open: { touches: false },
  close: { touches: false },
  info: {},
  start: {},
  train: {},
  stop: {},
  profile: {},
  reset: {},
  setSpec: {},
  loadUrl: {},
  switchData: {},
  addCsv: { engine: true, touches: false },
  corrupt: { engine: true, touches: false },
  encode: { inference: true },
  decode: { inference: true },
  reconstruct: { inference: true },
  sample: { inference: true },
  condition: { touches: false },
  firstLayer: { inference: true },
  anomalyScores: { inference: true },
  scoreRows: { inference: true },
  compare: { inference: true },
  angles: { inference: true },
  nearest: { inference: true },
  project: { touches: false },
  twinEncode: { touches: false },
  testImages: {},
  preprocess: { engine: true, touches: false },
  save: {},
  load: {},
  memory: { engine: true, touches: false },
  loseDevice: {},
  panic: {},
});

/** The request types for which `flag` holds. */
export function requestsWhere(flag) {
  return new Set(Object.keys(REQUESTS).filter((type) => flag(REQUESTS[type])));
}

/** Throws unless `type` is a request of the protocol. */
export function checkRequest(type) {
  if (!Object.hasOwn(REQUESTS, type)) {
    const known = Object.keys(REQUESTS).join(', ');
    throw new Error(`unknown request type ${JSON.stringify(String(type)).slice(0, 60)}: the engine serves ${known}`);
  }
}
