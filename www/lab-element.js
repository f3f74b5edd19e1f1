// <latent-lab>: the whole Latent Lab in one custom element (registered by latent-lab.js).
// The engine runs in a Worker (engine-worker.js); this element only draws and sends messages.
//
// Attributes (www/util/settings.js reads them; the same keys work in embed.html's hash).
// Each is read when the element connects and again whenever it changes. A value the element
// cannot use is named in a message inside the widget, with what is allowed, and the
// default is used instead (a misspelt view is left out); the rest of the page is not affected.
//   data      the data set: mnist (default: the digits), fashion (clothes), shuttle (a
//             table of sensor rows), bleeding or ecg (series, in windows of 64 steps);
//             www/util/datasets.js. A CSV of your own is picked or dropped on the widget
//   normal    an anomaly detector: the labels of the normal rows (0, or 1,7), or all (mnist,
//             fashion: every image normal, the other set's the anomalies); the model trains
//             on those rows alone, from a fresh model
//   contamination  with normal: the share of anomalies mixed into the training rows (0–0.5)
//   kind      the model: vae (default), ae, dae, sparse, contractive, cvae, conv_ae,
//             conv_vae, conv1d_ae, conv1d_vae (www/util/kinds.js), from its pretrained
//             file in models/ (the digits' kinds); one that cannot take the data's rows
//             is refused
//   model     URL of a .safetensors file to start from (this page's origin or the lab's)
//   spec      a ModelSpec as JSON: a fresh model of that spec instead
//   views     the parts to show, in this order (comma- or space-separated; default all):
//             backend, training, pad, latent-map, beta-plot, denoise, sparsity,
//             contractive, cvae, filters, loss-plot, test-reconstructions, sampler,
//             interpolation, anomaly, anomaly-curves, anomaly-examples, anomaly-series,
//             pca, features, similar (a kind's own view shows for a model of that kind only; the anomaly cards
//             but the first while the model is a detector)
//   controls  full (default: the training card, Share, loading files), minimal (start,
//             pause, reset and the kind's live settings) or none (default when `views`
//             does not list `training`)
//   captions  on (default) or off: the explanatory sentences
//   autoplay  animations (default: the sampler and the morph play while visible), train
//             (also trains while the widget is visible) or off (nothing moves until asked)
//   seed      a whole number: the sampler's draws and a fresh model's weights
//   backend   auto (default: WebGPU when the browser offers a hardware adapter, else the
//             CPU engine, which outruns a software one; the badge then offers the other,
//             and the reader's choice is remembered for the site), webgpu, or cpu
//   theme     auto (default: the reader's light or dark preference), light or dark
//   beta, noise-kind, noise-amount, penalty, target, weight, contraction
//             the kind's live settings (as the training card's fields)
// A widget starts nothing (no engine, no download) until it comes near the viewport. All
// the widgets of a page share one engine Worker, one WebGPU device and one copy of the
// digits, which are fetched only if a shown view or training needs them.
//
// Script API
//   el.ready                 Promise of the engine's info {backend, adapter, spec, parameters,
//                            step, trainSize, testSize, pretrained}; rejects if the engine
//                            cannot start. `pretrained` names the shipped weights file when
//                            the model came from it (until Reset or Load).
//   el.backend               'webgpu' | 'cpu' (null before ready)
//   el.info                  the latest engine info
//   el.metrics               {step, recon, kl, stepsPerSec, samplesPerSec, history:
//                            [{step, recon, kl}]} (a copy)
//   await el.train({steps})  trains `steps` more steps; resolves {step, reason}
//   await el.profile({steps}) trains `steps` (default 50) more steps timing each op:
//                            {ops: [{op, ms}], totalMs, steps, timer, step}, ms per step
//   el.start() / el.stop()   train until stopped / stop (both return promises)
//   await el.reset(spec)     a fresh model from a spec object or JSON
//   await el.switchData(name)  another data set (a name of www/util/datasets.js or one
//                            loadCsv made): a fresh model of the kind in force, or of one
//                            that fits the data (ae for a table, conv1d_ae for a series);
//                            on error the model and data are kept; resolves to the info
//   await el.loadCsv(file, {label})  a CSV table (a File, Blob, text or bytes; `label`: the
//                            column of labels 0–9, or null) as the data: the first 60 % of
//                            rows train; an error names the line and column of a bad cell
//                            and changes nothing; resolves to the info
//   await el.switchKind(kind)  the model switcher: a model of another kind ('vae', 'ae',
//                            'dae', 'sparse', 'contractive', 'cvae', 'conv_ae', 'conv_vae';
//                            www/util/kinds.js), from its pretrained file in www/models/ if
//                            it has one, else fresh; resolves to the info
//   await el.setSpec(changes)  changes β, noise, sparsity, contraction or the optimizer of the running
//                            model without a reset (weights and step kept): `changes` is
//                            merged into the spec ({beta: 4}, {noise: {amount: 0.3}}); any
//                            other change is refused with the engine's message
//   el.anomaly               the detector's choice {normal, contamination, data, outliers}
//                            while the model is one, else null
//   await el.setAnomaly({normal, contamination})  a detector: a fresh model of the kind in
//                            force (not a cvae) on the normal rows alone; null: every row
//   el.anomalyState          {score, names, threshold, counts {tp, fp, tn, fn, precision,
//                            recall, fpr, f1}, scores {name: Float64Array}, anomalous
//                            (Uint8Array), curves {name: {rocAuc, prAuc, bestF1,
//                            bestThreshold}}, pcaDims, trainRows, trainAnomalies, refreshes,
//                            drawing {score, anomalous} | null, series} as the cards show it
//   await el.anomalyScores() the engine's scores of every held-out row (every score, PCA,
//                            the curves' points; a series' steps): Lab.anomaly_scores
//   await el.scoreRows(pixels)  rows scored as the held-out ones are
//   el.setAnomalyThreshold(x), el.setAnomalyScore(name)  what the cards show
//   el.projection            the latent map's projection of a code wider than 2: {method
//                            ('pca' | 'umap' | 'tsne' | 'none'), done, epoch, epochs, ms, settings,
//                            xy (the map's points, n×2), marker (the drawing's place)}
//   el.setProjection(m)      'pca', 'umap' (umap-js in the worker) or 'tsne' (bhtsne in the
//                            engine), animated; the drawing goes among its 5 nearest codes
//   el.comparison            the PCA and feature cards' figures (null until they first ran:
//                            they run while one of them is on screen): Lab.compare's
//                            {width, values, rows, labelled, modelMse, pcaMse, equivalentK,
//                            curve (PCA's MSE at 1..values components), examples {indices,
//                            rows, pca, model, pcaMse, modelMse}, knn [{labels, code, pca,
//                            pixels}], labels, planes {pca, code, codeProjected, pcaKnn,
//                            codeKnn}, why}
//   await el.compare()       runs that comparison now (on screen or not); resolves to it;
//                            `linear` says whether the model is linear (see el.angles)
//   el.angles                a linear model's principal angles to PCA's subspace of its
//                            code's width, as the PCA card plots them: {linear, step, angles
//                            (degrees, smallest first), history [{step, angles}]}, or
//                            {linear: false, why}; null before the card first ran. The
//                            card's button trains one: an ae with no hidden layer,
//                            activation and output "identity", mse, a code of 2
//   el.similar               the search card's {query ({test: i} | 'drawing'), code, pixels:
//                            {indices, distances, labels}, why} (null until it ran on screen)
//   await el.nearest(q, n)   the n (default 8) held-out rows nearest to q (a test row's index,
//                            or one row of pixels) by code and by value: Lab.nearest
//   await el.corrupt(pixels, {kind, amount, seed, step})  → Float32Array n×784: the images
//                            with a dae's training noise (the same RNG, seed and step)
//   await el.reconstruct(pixels, labels?)  Float32Array n×784 in [0, 1] → Float32Array n×784
//   await el.encode(pixels, labels?)  → {mu, logvar|null, rows, latent}
//   await el.decode(z, labels?)  Float32Array n×Z → Float32Array n×784
//   await el.sample(n, seed, labels?)  → Float32Array n×784 decoded from z ~ N(0, I)
//                            `labels` (one digit 0–9 per row) matter to a conditional model
//                            (cvae) only; without them every row gets `el.condition`
//   el.condition             the digit a conditional model draws where no label is given:
//                            the CVAE view's pick, or its guess of the drawing
//   await el.setCondition(label)  picks that label (0–9) in the CVAE view, or null to let
//                            the model guess; resolves once the view and the engine follow
//   await el.firstLayer(pixels)  a convolutional model's first filters and their feature
//                            maps of one digit: {channels, kernel, filters, side, maps}
//   await el.testImages(n)   → {images: Float32Array n×D, labels: Uint8Array}: the first
//                            held-out rows (D: the values of one row of info.shape)
//   await el.saveWeights()   → Uint8Array (.safetensors)
//   await el.loadWeights(bytes)  a model from .safetensors bytes; on error the model is kept
//   await el.preprocess(ink, w, h)  ink coverage (w×h in [0, 1]) → the 28×28 network input
//   el.drawing               the pad's latest result: {strokes, input, reconstruction, error,
//                            mu, logvar, updates} (arrays are copies; null before a drawing)
//   el.clearDrawing()        empties the pad
//   await el.simulateDeviceLoss()  test hook: destroys the WebGPU device; the engine goes on
//                            on the CPU with the last checkpoint of the weights
//   await el.simulatePanic(when)  test hook: a panic inside the engine, 'now' or 'async'
//                            (inside an awaited call); resolves once the element has
//                            restarted its engine with the last good model (the info)
//   el.memory()              → {wasmBytes, models, digits, devices}: the engine's memory, the
//                            models it holds (one per widget), whether it fetched the
//                            digits, the WebGPU devices it opened (one per page)
//   el.started               whether the widget has started its engine (near the viewport)
//   el.settings              the settings in force (attributes read; bad values replaced)
//   el.problems              the attribute values it could not use: [{key, value, message}]
//   el.share()               the snippets of the current configuration: {tag, iframe, link}
//
// Faults: if the engine dies (a panic, out of memory), every pending call rejects with the
// reason, an 'error' event says it, and the element starts a new engine with the last
// weights known to be good (spec, weights, step, condition; Adam's moments start afresh)
// and says so. A fourth crash within a minute stops it, with a message to reload the page.
//
// Events (CustomEvent; `detail` as listed)
//   ready     engine info (again after a restart)
//   restart   engine info + {message, step}: the engine died and was restarted
//   progress  {step, recon, kl, stepsPerSec, samplesPerSec, items} after each metrics batch
//   state     engine info + {reason} when training starts/stops or the model changes
//             (reason 'spec': a live change by setSpec)
//   error     {message} — also shown in the element as a dismissible message
//   drawing   the drawing's new reconstruction: {error, mu, updates}
//
// Parts (for ::part styling): messages, data-note (the views the data cannot show, and why), backend, share, training, loss-plot, test-reconstructions,
// pad, input, reconstruction (the drawing's), latent-map, sampler, interpolation, and each kind's own
// view, shown only for that kind: beta-plot (vae), denoise (dae), sparsity (sparse),
// contractive (contractive), cvae (cvae), filters (conv_ae, conv_vae); anomaly, and while
// the model is a detector anomaly-curves, anomaly-examples, anomaly-series (a series);
// pca (the model beside PCA), features (the encoder as a feature extractor), similar (the
// held-out rows nearest to a query: the encoder kept for search).

import { engineModel } from './engine-client.js';
import { rowSize } from './util/shape.js';
import { styles } from './lab-style.js';
import { h, THEME_EVENT } from './views/canvas.js';
import { BackendBadge } from './views/backend-badge.js';
import { MessageBar } from './views/message-bar.js';
import { TrainingPanel } from './views/training-panel.js';
import { LossPlot } from './views/loss-plot.js';
import { DigitGrid } from './views/digit-grid.js';
import { DrawPad } from './views/draw-pad.js';
import { LatentMap } from './views/latent-map.js';
import { Sampler } from './views/sampler.js';
import { Interpolation } from './views/interpolation.js';
import { LiveViews, MAP_DIGITS } from './live-views.js';
import { describeSpec } from './util/spec-form.js';
import { BetaPlot } from './views/beta-plot.js';
import { DenoiseView } from './views/denoise-view.js';
import { SparsityView } from './views/sparsity-view.js';
import { ContractiveView } from './views/contractive-view.js';
import { CvaeView } from './views/cvae-view.js';
import { FiltersView } from './views/filters-view.js';
import { KindViews } from './kind-views.js';
import { kindOf, kindFits, defaultsFor, KINDS } from './util/kinds.js';
import { readSettings, VIEWS, KIND_VIEWS, NEEDS_DIGITS, KEYS, LIVE_KEYS, specWith, liveOf, settingPairs, toHash, attributeText, viewUnfit } from './util/settings.js';
import { DATASETS, DEFAULT_DATA, isCsvData, csvEntry, anomalyData, parseAnomalyData, baseData, OUTLIERS, MAX_CONTAMINATION } from './util/datasets.js';
import { AnomalyDetector, AnomalyCurves, AnomalyExamples, AnomalySeries } from './views/anomaly-view.js';
import { AnomalyViews } from './anomaly-views.js';
import { isDigitShaped } from './util/shape.js';
import { SharePanel } from './views/share-panel.js';
import { PcaView } from './views/pca-view.js';
import { FeaturesView } from './views/features-view.js';
import { SimilarView } from './views/similar-view.js';
import { CompareViews, SimilarViews, linearSpec, LINEAR_STEPS } from './compare-views.js';

const RECON_DIGITS = 10; // the first ten test digits: one of each class
// Live reconstructions while training: at most this often, and at most ~20 % of the
// engine's time (a reconstruction on a software GPU can take 200 ms).
const RECON_INTERVAL_MS = 600;
const RECON_SHARE = 0.2;
// Start the engine this far before the widget scrolls into view.
const NEAR_VIEWPORT = '400px 0px';
const LAB_ORIGIN = new URL(import.meta.url).origin;
const EMBED_PAGE = new URL('./embed.html', import.meta.url).href;
// More crashes than this within CRASH_WINDOW_MS and the element stops restarting its engine.
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 60_000;
// The detector card trains its fresh model this many passes over the normal rows (at most
// DETECTOR_MAX_STEPS steps, and at least DETECTOR_MIN_STEPS: a small set needs many passes).
const DETECTOR_EPOCHS = 20;
const DETECTOR_MIN_STEPS = 200;
const DETECTOR_MAX_STEPS = 3000;
const modelUrl = (file) => new URL(`./models/${file}`, import.meta.url).href;

export class LatentLabElement extends HTMLElement {
  #engine = null;
  #info = null;
  #ready;
  #resolveReady;
  #rejectReady;
  #readyPending = false;
  #views;
  #metrics = { step: 0, recon: NaN, kl: NaN, stepsPerSec: 0, samplesPerSec: 0 };
  #history = [];
  #testImages = null;
  #testLabels = null;
  #recon = { busy: false, again: false, last: 0, took: 0 };
  #live;
  #kinds;
  #noiseSend = { busy: false, next: null };
  #dragDepth = 0;
  #drop;
  #lastGood = null; // the engine's last checkpoint: {bytes, step, pretrained}
  #crashes = []; // times of recent crashes
  #restarting = null; // {message, notice} of the crash while a new engine starts
  #restartWaiters = []; // simulatePanic's promises
  #stopped = false; // the engine died too often and was not restarted
  #settings = readSettings(() => null).settings; // the settings in force
  #problems = []; // [{key, value, message}] of the attributes it could not use
  #shownProblems = []; // their messages as shown
  #explicitControls = false; // whether `controls` was given (else it follows `views`)
  #parts = {}; // view name → its element
  #grid;
  #lab;
  #top;
  #share;
  #near = null; // IntersectionObserver: starts the engine near the viewport, autoplay
  #visible = false;
  #opened = null; // the model source the engine opened: {kind, model, spec, seed}
  #autoTrained = false; // training was started by autoplay=train (and stops with it)
  #digitsWanted = false;
  #dataName = DEFAULT_DATA; // the data set the model runs on (info.data)
  #dataShape = DATASETS[DEFAULT_DATA].shape;
  #csv = null; // the user's table: {data, fileName, bytes, label}, kept to restore a crashed engine
  #dataNote; // why views listed are not shown for this data
  #anomaly; // the anomaly views' requests and state (anomaly-views.js)
  #anomalyParts;
  #compare; // the comparison cards' requests (compare-views.js)
  #similar; // the search card's

  static get observedAttributes() {
    return [...KEYS, 'spec'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(styles);
    root.adoptedStyleSheets = [sheet];
    const part = (name, tag = 'section', cls = 'card') =>
      h(tag, { part: name, class: cls, 'aria-label': name.replace('-', ' ') });
    const badge = h('div', { part: 'backend' });
    const shareButton = h('button', { type: 'button', part: 'share', class: 'share-button', 'aria-expanded': 'false' }, 'Share');
    const sharePart = h('section', { part: 'share-panel', class: 'share', hidden: true, 'aria-label': 'share this configuration' });
    const messages = h('div', { part: 'messages', class: 'messages' });
    const training = part('training');
    const loss = part('loss-plot');
    const recon = part('test-reconstructions');
    const pad = part('pad');
    const map = part('latent-map');
    const sampler = part('sampler');
    const interp = part('interpolation', 'section', 'card wide');
    const pcaPart = part('pca', 'section', 'card wide');
    const featuresPart = part('features');
    const similarPart = part('similar', 'section', 'card wide');
    const kindPart = (name) => part(name, 'section', 'card kind');
    const kindParts = {
      'beta-plot': kindPart('beta-plot'),
      denoise: kindPart('denoise'),
      sparsity: kindPart('sparsity'),
      contractive: kindPart('contractive'),
      cvae: kindPart('cvae'),
      filters: kindPart('filters'),
    };
    for (const el of Object.values(kindParts)) el.hidden = true;
    const anomalyParts = {
      anomaly: part('anomaly'),
      'anomaly-curves': part('anomaly-curves', 'section', 'card wide'),
      'anomaly-examples': part('anomaly-examples', 'section', 'card wide'),
      'anomaly-series': part('anomaly-series', 'section', 'card wide'),
    };
    for (const [name, el] of Object.entries(anomalyParts)) el.hidden = name !== 'anomaly';
    this.#drop = h('div', { class: 'drop', hidden: true }, 'Drop a .safetensors file to load the model, or a .csv table to train on it');
    this.#grid = h('div', { class: 'grid' }, training, pad, map, ...Object.values(kindParts), ...Object.values(anomalyParts), loss, recon, sampler, interp, pcaPart, featuresPart, similarPart);
    this.#top = h('div', { class: 'top' }, badge, shareButton);
    this.#dataNote = h('p', { part: 'data-note', class: 'data-note', hidden: true, role: 'note' });
    this.#lab = h('div', { class: 'lab' }, this.#top, messages, sharePart, this.#dataNote, this.#grid, this.#drop);
    root.append(this.#lab);
    this.#parts = { backend: badge, training, pad, 'latent-map': map, ...kindParts, ...anomalyParts, 'loss-plot': loss, 'test-reconstructions': recon, sampler, interpolation: interp, pca: pcaPart, features: featuresPart, similar: similarPart };
    this.#anomalyParts = anomalyParts;
    this.#share = new SharePanel(sharePart, shareButton, () => this.share());
    this.#views = {
      badge: new BackendBadge(badge),
      messages: new MessageBar(messages),
      training: new TrainingPanel(training, {
        start: () => this.start().catch(() => {}),
        stop: () => this.stop().catch(() => {}),
        reset: (spec) => this.#resetFromForm(spec),
        download: () => this.#download(),
        load: (file) => this.#loadFile(file),
        switchKind: (kind) => this.#fromPanel(() => this.switchKind(kind)),
        switchData: (name) => this.#fromPanel(() => this.switchData(name)),
        loadCsv: (file, label) => this.#fromPanel(() => this.loadCsv(file, { label })),
        // The panel shows the engine's refusal next to the field itself.
        setLive: (spec) => this.setSpec(spec),
      }),
      loss: new LossPlot(loss),
      recon: new DigitGrid(recon, {
        title: 'Reconstructions',
        explanation:
          'Digits the model has never trained on, and what it rebuilds from their codes. ' +
          'A fresh model (Reset) gives blurry blobs; watch them sharpen as the loss falls.',
      }),
      pad: new DrawPad(pad, { onInk: (ink, w, h) => this.#live.onInk(ink, w, h) }),
      map: new LatentMap(map, {
        probe: (z) => this.decode(z),
        manifold: (zs) => this.decode(zs),
        project: (codes, latent, method) => this.#request('project', { codes, latent, method, seed: this.#settings.seed ?? 1 }),
      }),
      sampler: new Sampler(sampler, { decode: (z) => this.#request('decode', { z: toF32(z) }, { timed: true }) }),
      interp: new Interpolation(interp, { onChange: () => this.#live.refreshInterpolation() }),
      beta: new BetaPlot(kindParts['beta-plot'], { setBeta: (beta) => this.#setLive({ beta }) }),
      denoise: new DenoiseView(kindParts.denoise, { onChange: (noise) => this.#noiseChanged(noise) }),
      sparsity: new SparsityView(kindParts.sparsity),
      contractive: new ContractiveView(kindParts.contractive, { onChange: () => this.#kinds.refresh(true) }),
      cvae: new CvaeView(kindParts.cvae, { onPick: () => this.#kinds.refresh(true) }),
      filters: new FiltersView(kindParts.filters),
      detector: new AnomalyDetector(anomalyParts.anomaly, {
        apply: (choice) => this.#fromDetector(() => this.setAnomaly(choice)),
        score: (name) => this.#anomaly.setScore(name),
        threshold: (x) => this.#anomaly.setThreshold(x),
      }),
      curves: new AnomalyCurves(anomalyParts['anomaly-curves']),
      examples: new AnomalyExamples(anomalyParts['anomaly-examples']),
      series: new AnomalySeries(anomalyParts['anomaly-series']),
      pca: new PcaView(pcaPart, { onLinear: () => this.#trainLinear() }),
      features: new FeaturesView(featuresPart),
      similar: new SimilarView(similarPart, { onPick: () => this.#similar.queryChanged() }),
    };
    this.#compare = new CompareViews({
      request: (type, args) => this.#request(type, args),
      views: { pca: this.#views.pca, features: this.#views.features },
      parts: [pcaPart, featuresPart],
      connected: () => this.#engine !== null && this.#info !== null,
    });
    this.#similar = new SimilarViews({
      request: (type, args) => this.#request(type, args),
      view: this.#views.similar,
      part: similarPart,
      connected: () => this.#engine !== null && this.#info !== null,
    });
    this.#anomaly = new AnomalyViews({
      request: (type, args) => this.#request(type, args),
      views: this.#views,
      showError: (message) => this.#showError(message),
    });
    this.#kinds = new KindViews({
      request: (type, args) => this.#request(type, args),
      views: this.#views,
      parts: kindParts,
      showError: (message) => this.#showError(message),
      // A conditional model's label changed: whatever it drew without one is redrawn.
      condition: (label) => {
        this.#views.sampler.setCondition(label);
        this.#live.redraw();
        this.#live.refreshMap(true);
        this.#views.sampler.modelUpdated();
      },
    });
    this.#live = new LiveViews({
      request: (type, args) => this.#request(type, args),
      views: this.#views,
      showError: (message) => this.#showError(message),
      emit: (name, detail) => this.dispatchEvent(new CustomEvent(name, { detail })),
      connected: () => this.#engine !== null,
      codes: (mu, latent) => this.#kinds.setCodes(mu, latent),
      drawing: (result) => {
        this.#kinds.setDrawing(result);
        this.#anomaly.setDrawing(result?.input ?? null);
        this.#similar.setDrawing(result?.input ?? null);
      },
      condition: () => this.#kinds.condition,
    });
    this.#newReadyPromise();
    this.addEventListener('dragenter', this.#onDrag);
    this.addEventListener('dragover', this.#onDrag);
    this.addEventListener('dragleave', this.#onDragLeave);
    this.addEventListener('drop', this.#onDrop);
  }

  connectedCallback() {
    this.#readAttributes();
    if (this.#engine) return;
    // Nothing starts until the widget comes near the viewport.
    if (typeof IntersectionObserver !== 'function') {
      this.#visible = true;
      this.#startEngine();
      return;
    }
    this.#near ??= new IntersectionObserver((entries) => this.#nearViewport(entries.some((e) => e.isIntersecting)), { rootMargin: NEAR_VIEWPORT });
    this.#near.observe(this);
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.isConnected) return;
    this.#readAttributes();
    if (!this.#info) return; // the engine opens with the settings as they are then
    if (name === 'backend') this.#reopen();
    else if (['data', 'kind', 'model', 'spec', 'seed'].includes(name) || LIVE_KEYS[name]) this.#applyModelSettings();
  }

  #nearViewport(near) {
    this.#visible = near;
    if (near && !this.#engine && this.isConnected) this.#startEngine();
    this.#autoplay();
  }

  disconnectedCallback() {
    // A move within the document disconnects and reconnects at once: keep the engine then.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#near?.disconnect();
      this.#near = null;
      this.#visible = false;
      if (!this.#engine) return;
      const engine = this.#engine;
      this.#engine = null; // first: the engine's "stopped" errors are then ignored
      this.#info = null;
      this.#opened = null;
      engine.terminate();
      // Anyone still waiting for the old engine hears why it will not come (a no-op if it did).
      this.#rejectReady(new Error('<latent-lab> was removed from the document'));
      this.#newReadyPromise();
    });
  }

  // ── script API ─────────────────────────────────────────────────────────────────────────
  get ready() {
    return this.#ready;
  }
  get backend() {
    return this.#info?.backend ?? null;
  }
  get info() {
    return this.#info ? { ...this.#info } : null;
  }
  get metrics() {
    return { ...this.#metrics, history: this.#history.map((p) => ({ ...p })) };
  }

  async train({ steps } = {}) {
    return this.#request('train', { steps });
  }
  // Trains `steps` more steps timing each op of the step: {ops: [{op, ms}], totalMs, steps,
  // timer, step} (ms per step; `step`: the model's step after them). WebGPU times its kernels with timestamp queries where the device
  // has them (Chromium: the 'timestamp-query' feature); the CPU engine with performance.now.
  async profile({ steps = 50 } = {}) {
    return this.#request('profile', { steps });
  }
  // The anomaly detector: which rows are normal ({normal, contamination, data}) while the
  // model is one, else null.
  get anomaly() {
    const a = parseAnomalyData(this.#dataName);
    return a && { normal: a.normal === 'all' ? 'all' : [...a.normal], contamination: a.contamination, data: a.base, outliers: a.outliers };
  }
  async setAnomaly(choice) {
    await this.#ready;
    const base = baseData(this.#dataName);
    if (choice === null) return this.switchData(base);
    if (!choice || typeof choice !== 'object') throw new TypeError(`setAnomaly: {normal, contamination} or null, got ${describe(choice)}`);
    const entry = this.#dataEntry();
    const { normal = [0], contamination = 0 } = choice;
    if (normal === 'all') {
      if (!OUTLIERS[base]) throw new Error(`setAnomaly: normal 'all' needs another set of the same rows for anomalies; ${entry.short} has none: name its normal labels`);
    } else if (!(Array.isArray(normal) && normal.length > 0 && normal.every((k) => Number.isInteger(k) && k >= 0 && k <= 9 && (!entry.classes || k < entry.classes.length)))) {
      throw new Error(`setAnomaly: normal is 'all' or a list of labels${entry.classes ? ` from 0 to ${entry.classes.length - 1}` : ' 0–9'}, got ${describe(normal)}`);
    }
    if (!(typeof contamination === 'number' && contamination >= 0 && contamination <= MAX_CONTAMINATION)) {
      throw new Error(`setAnomaly: contamination is the share of anomalies in the training rows, from 0 to ${MAX_CONTAMINATION}; got ${describe(contamination)}`);
    }
    const name = anomalyData(base, { normal, contamination: Math.round(contamination * 1000) / 1000, seed: this.#settings.seed ?? 1 });
    return this.switchData(name);
  }
  // The held-out rows' scores, the score and threshold in force, the counts, the curves'
  // figures and the drawing's verdict (see anomaly-views.js state()); null before any.
  get anomalyState() {
    return this.#anomaly.state();
  }
  // The latent map's projection of a code wider than 2 (views/latent-map.js).
  get projection() {
    return this.#views.map.projection;
  }
  setProjection(method) {
    this.#views.map.setProjection(method);
  }
  // The comparison with PCA and the raw values (compare-views.js), as the cards show it.
  get comparison() {
    return this.#compare.report;
  }
  get angles() {
    const a = this.#compare.angles;
    return a && { ...a, history: a.history.slice() };
  }
  async compare() {
    return this.#compare.compare();
  }
  // The search card's query and its nearest held-out rows (compare-views.js), or null.
  get similar() {
    const s = this.#similar.state;
    if (!s) return null;
    const copy = (set) => set && { indices: Array.from(set.indices), distances: Array.from(set.distances), labels: set.labels ? Array.from(set.labels) : null };
    return { query: s.query, code: copy(s.code), pixels: copy(s.pixels), why: s.why };
  }
  async nearest(query, n = 8) {
    const q = typeof query === 'number' ? { test: query } : { pixels: toF32(query) };
    return this.#request('nearest', { ...q, n });
  }
  async anomalyScores() {
    return this.#request('anomalyScores', {});
  }
  async scoreRows(pixels) {
    return this.#request('scoreRows', { pixels: toF32(pixels) });
  }
  setAnomalyThreshold(x) {
    this.#anomaly.setThreshold(x);
  }
  setAnomalyScore(name) {
    this.#anomaly.setScore(name);
  }
  async start() {
    return this.#request('start', {});
  }
  async stop() {
    return this.#request('stop', {});
  }
  async reset(spec = {}) {
    const json = typeof spec === 'string' ? spec : JSON.stringify(spec);
    const info = await this.#request('reset', { spec: json });
    this.#modelChanged(info);
    return info;
  }
  async switchKind(kind) {
    const entry = kindOf(kind);
    if (!entry) throw new Error(`unknown model kind ${JSON.stringify(kind)}`);
    await this.#ready;
    if (!kindFits(entry, this.#dataShape, this.#labelled())) {
      const fits = KINDS.filter((k) => kindFits(k, this.#dataShape, this.#labelled())).map((k) => k.id);
      throw new Error(`the kind ${kind} cannot train on ${this.#dataEntry().short}: choose ${fits.join(', ')}`);
    }
    if (entry.pretrained && this.#dataName === DEFAULT_DATA) {
      try {
        const info = await this.#request('loadUrl', { url: modelUrl(entry.pretrained) });
        this.#modelChanged(info);
        return info;
      } catch (e) {
        this.#views.messages.show(`The pretrained ${entry.short} could not be loaded (${e.message}); starting from a fresh one.`, 'info');
      }
    }
    return this.reset(defaultsFor(entry, this.#dataShape));
  }
  async switchData(name, { kind } = {}) {
    await this.#ready;
    const base = typeof name === 'string' ? baseData(name) : name;
    if (typeof name !== 'string' || !(Object.hasOwn(DATASETS, base) || (isCsvData(base) && this.#csv?.data === base))) {
      throw new Error(`switchData: the data sets are ${Object.keys(DATASETS).join(', ')}${this.#csv ? ` and ${this.#csv.data}` : ''}; got ${describe(name)}`);
    }
    const shape = Object.hasOwn(DATASETS, base) ? DATASETS[base].shape : this.#csv.shape;
    const labelled = Object.hasOwn(DATASETS, base) || Boolean(this.#csv.label);
    if (kind !== undefined && !kindFits(kindOf(kind), shape, labelled)) {
      throw new Error(`switchData: the kind ${describe(kind)} cannot train on ${name}: choose ${KINDS.filter((k) => kindFits(k, shape, labelled)).map((k) => k.id).join(', ')}`);
    }
    // The kind in force, unless it cannot take the new rows: then the plain choice for them.
    const current = kindOf(kind ?? (this.#info ? JSON.parse(this.#info.spec).kind : (this.#settings.kind ?? 'vae')));
    // A detector is not told a row's label: a conditional kind gives way to the plain one.
    const fits = (k) => kindFits(k, shape, labelled) && !(parseAnomalyData(name) && k.conditional);
    const chosen = fits(current) ? current : kindOf(plainKind(shape));
    const spec = { ...defaultsFor(chosen, shape), ...(this.#settings.seed !== undefined ? { seed: this.#settings.seed } : {}) };
    const info = await this.#request('switchData', { data: name, spec: JSON.stringify(spec) });
    this.#modelChanged(info);
    // The digits' kinds start from their pretrained weights, as at first.
    if (name === DEFAULT_DATA && chosen.pretrained) return this.switchKind(chosen.id);
    return info;
  }
  async loadCsv(input, { label = null, name } = {}) {
    await this.#ready;
    let bytes;
    let fileName = name;
    if (typeof input === 'string') bytes = new TextEncoder().encode(input);
    else if (input instanceof Blob) {
      bytes = new Uint8Array(await input.arrayBuffer());
      fileName ??= input.name;
    } else if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) bytes = new Uint8Array(input instanceof ArrayBuffer ? input : input.buffer).slice();
    else throw new TypeError(`loadCsv: a File, Blob, string or bytes, got ${describe(input)}`);
    if (label !== null && typeof label !== 'string') throw new TypeError(`loadCsv: label is a column's name or null, got ${describe(label)}`);
    fileName = String(fileName || 'table.csv');
    // The bytes are kept (a crashed engine gets them again); the worker takes a copy.
    const added = await this.#request('addCsv', { bytes: bytes.slice(), label });
    const previous = this.#csv;
    this.#csv = { data: added.data, fileName, bytes, label, shape: added.shape };
    try {
      return await this.switchData(added.data);
    } catch (e) {
      this.#csv = previous;
      throw e;
    }
  }
  async setSpec(changes) {
    await this.#ready;
    const current = JSON.parse(this.#info.spec);
    let parsed = changes;
    if (typeof changes === 'string') {
      try {
        parsed = JSON.parse(changes);
      } catch (e) {
        throw new Error(`setSpec: the changes are not valid JSON (${e.message})`);
      }
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new TypeError(`setSpec: the changes are an object such as {beta: 4}, got ${describe(parsed)}`);
    }
    const spec = mergeSpec(current, parsed);
    const info = await this.#request('setSpec', { spec: JSON.stringify(spec) });
    this.#specChanged(info);
    return info;
  }
  async corrupt(pixels, { kind = 'gaussian', amount = 0.5, seed = 1, step = 0 } = {}) {
    return this.#request('corrupt', { pixels: toF32(pixels), kind, amount, seed, step });
  }
  async reconstruct(pixels, labels) {
    return this.#request('reconstruct', { pixels: toF32(pixels), labels: toU8(labels) });
  }
  async encode(pixels, labels) {
    return this.#request('encode', { pixels: toF32(pixels), labels: toU8(labels) });
  }
  async decode(z, labels) {
    return this.#request('decode', { z: toF32(z), labels: toU8(labels) });
  }
  async sample(n, seed = 0, labels) {
    return this.#request('sample', { n, seed, labels: toU8(labels) });
  }
  get condition() {
    return this.#kinds.condition;
  }
  async setCondition(label) {
    if (label !== null && !(Number.isInteger(label) && label >= 0 && label <= 9)) {
      throw new Error(`setCondition: a digit from 0 to 9, or null to let the model guess; got ${JSON.stringify(label)}`);
    }
    this.#views.cvae.pick(label);
    await this.#kinds.refreshed('cvae');
    return this.#kinds.condition;
  }
  async firstLayer(pixels) {
    return this.#request('firstLayer', { pixels: toF32(pixels) });
  }
  async testImages(n) {
    return this.#request('testImages', { n });
  }
  async saveWeights() {
    return this.#request('save', {});
  }
  async loadWeights(bytes) {
    const data = bytes instanceof Uint8Array ? bytes.slice() : new Uint8Array(bytes).slice();
    const info = await this.#request('load', { bytes: data });
    this.#modelChanged(info);
    return info;
  }

  async preprocess(ink, width, height) {
    return this.#request('preprocess', { ink: toF32(ink), width, height });
  }
  get drawing() {
    return this.#live.drawing;
  }
  clearDrawing() {
    this.#views.pad.clear();
  }

  async simulateDeviceLoss() {
    return this.#request('loseDevice', {});
  }

  async simulatePanic(when = 'now') {
    await this.#ready;
    const restarted = new Promise((resolve, reject) => this.#restartWaiters.push({ resolve, reject }));
    // Straight to the engine (not behind #request's own wait), so calls made after this one
    // reach the engine after the panic. Never answered (the engine dies), unless `when` is
    // refused.
    this.#engine.request('panic', { when }).catch((e) => {
      if (!e.crashed) this.#settleRestart(null, e);
    });
    return restarted;
  }

  // Settles the promises of simulatePanic: with the new engine's info, or the failure.
  #settleRestart(info, error) {
    for (const { resolve, reject } of this.#restartWaiters.splice(0)) error ? reject(error) : resolve(info);
  }

  async memory() {
    return this.#request('memory', {});
  }

  get started() {
    return this.#engine !== null;
  }
  get settings() {
    return structuredClone(this.#settings);
  }
  get problems() {
    return this.#problems.map((p) => ({ ...p }));
  }

  /**
   * The current configuration as snippets: `tag` (the module and the element), `iframe`
   * (embed.html with the settings in its hash) and `link` (a page that opens it).
   */
  share() {
    const pairs = settingPairs(this.#configuration());
    const attrs = pairs.map(([k, v]) => ` ${k}="${attributeText(v)}"`).join('');
    const script = new URL('./latent-lab.js', import.meta.url).href;
    const hash = toHash(pairs);
    const embed = `${EMBED_PAGE}${hash ? `#${hash}` : ''}`;
    const link = `${this.linkBase ?? EMBED_PAGE}${hash ? `#${hash}` : ''}`;
    return {
      tag: `<script type="module" src="${attributeText(script)}"></script>\n<latent-lab${attrs}></latent-lab>`,
      iframe: `<iframe src="${attributeText(embed)}" title="Latent Lab" loading="lazy" style="width: 100%; height: 720px; border: 0"></iframe>`,
      link,
      pairs,
    };
  }

  // What the widget shows now, as settings: the model's kind and live settings, the views
  // and keywords in force (a model loaded from a file the reader chose cannot travel: its kind does).
  #configuration() {
    const s = this.#settings;
    const spec = this.#info ? JSON.parse(this.#info.spec) : null;
    const kind = spec?.kind ?? s.kind ?? 'vae';
    // The `model` file, while the widget still runs it.
    const fromAttribute = s.model && this.#info?.pretrained === s.model.split('/').pop();
    // A kind's own view listed for another kind stands for the running kind's view.
    const own = kindOf(kind)?.view;
    const views = s.views && [...new Set(s.views.map((v) => (KIND_VIEWS.includes(v) ? own : v)).filter(Boolean))];
    return {
      ...s,
      kind,
      // A user's table cannot travel in a link; a bundled data set does, and a detector's
      // choice of normal rows with it.
      data: isCsvData(baseData(this.#dataName)) ? undefined : baseData(this.#dataName),
      normal: isCsvData(baseData(this.#dataName)) ? undefined : this.anomaly?.normal,
      contamination: isCsvData(baseData(this.#dataName)) ? undefined : this.anomaly?.contamination,
      views: views?.length ? views : s.views,
      model: fromAttribute ? s.model : undefined,
      controls: this.#explicitControls ? s.controls : undefined,
      live: spec ? liveOf(spec) : s.live,
    };
  }

  // ── attributes ─────────────────────────────────────────────────────────────────────────
  #readAttributes() {
    const origins = [...new Set([globalThis.location?.origin, LAB_ORIGIN].filter(Boolean))];
    const { settings, problems } = readSettings((k) => this.getAttribute(k), { base: document.baseURI, origins });
    this.#settings = settings;
    this.#problems = problems;
    this.#explicitControls = this.getAttribute('controls') !== null && !problems.some((p) => p.key === 'controls');
    for (const m of this.#shownProblems) this.#views.messages.remove(m);
    // One message for them all (the bar keeps only a few messages).
    this.#shownProblems = problems.length ? [`Some attribute values cannot be used (the widget goes on without them): ${problems.map((p) => p.message).join(' ')}`] : [];
    for (const m of this.#shownProblems) this.#views.messages.show(m, 'error');
    if (problems.length) this.dispatchEvent(new CustomEvent('error', { detail: { message: this.#shownProblems.join(' ') } }));
    this.#layout();
  }

  // Shows the listed views in their order, the controls asked for, the captions or not.
  #layout() {
    const s = this.#settings;
    const listed = s.views ?? VIEWS;
    let controls = s.controls;
    if (!this.#explicitControls && s.views && !listed.includes('training')) controls = 'none';
    let cards = listed.filter((v) => v !== 'backend');
    if (controls === 'none') cards = cards.filter((v) => v !== 'training');
    else if (!cards.includes('training')) cards.unshift('training');
    // Views that cannot show this data's rows step aside, and one line says why.
    const kindView = this.#kindView();
    // The series view of anomalies steps aside quietly unless it was asked for by name.
    const unfit = cards.filter((v) => (!KIND_VIEWS.includes(v) || v === kindView) && viewUnfit(v, this.#dataShape) && (s.views || v !== 'anomaly-series'));
    cards = cards.filter((v) => !unfit.includes(v));
    this.#dataNote.hidden = unfit.length === 0;
    this.#dataNote.textContent = unfit.length
      ? `Not shown for ${this.#dataEntry().short}: ${unfit.map((v) => viewUnfit(v, this.#dataShape)).join('; ')}.`
      : '';
    this.#dataNote.dataset.views = unfit.join(',');
    const rest = VIEWS.filter((v) => v !== 'backend' && !cards.includes(v));
    this.#grid.append(...[...cards, ...rest].map((n) => this.#parts[n]));
    for (const v of VIEWS) this.#parts[v].classList.toggle('off', v === 'backend' ? !listed.includes(v) : !cards.includes(v));
    this.#share.button.hidden = controls !== 'full';
    if (controls !== 'full') this.#share.toggle(false);
    this.#top.classList.toggle('off', !listed.includes('backend') && controls !== 'full');
    this.#views.training.setMode(controls);
    this.#views.loss.setHasStart(controls !== 'none');
    this.#views.beta.setHasStart(controls !== 'none');
    this.#lab.classList.toggle('no-captions', s.captions === 'off');
    // The canvases read their colours when they draw: a new theme redraws them.
    if (this.#themeSetting !== s.theme) {
      const first = this.#themeSetting === null;
      this.#themeSetting = s.theme;
      if (!first) dispatchEvent(new Event(THEME_EVENT));
    }
    this.#grid.classList.toggle('few', cards.filter((v) => !KIND_VIEWS.includes(v) || v === kindView).length <= 2);
    this.#controls = controls;
    const play = s.autoplay !== 'off' && !matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (this.#autoplaySetting !== s.autoplay) {
      this.#autoplaySetting = s.autoplay;
      this.#views.sampler.setPlaying(play);
      this.#views.interp.setPlaying(play);
    }
    // The seed attribute's draws (when it changes: "New codes" moves on from it).
    if (this.#seedSetting !== (s.seed ?? 1)) {
      this.#seedSetting = s.seed ?? 1;
      this.#views.sampler.reseed(this.#seedSetting);
    }
    if (this.#info) this.#wantDigits();
  }
  #controls = 'full';
  #autoplaySetting = 'animations';
  #seedSetting = 1;
  #themeSetting = null;

  #kindView() {
    const spec = this.#info ? JSON.parse(this.#info.spec) : null;
    return kindOf(spec?.kind ?? this.#settings.kind ?? 'vae')?.view ?? null;
  }

  // Views on show that need the held-out digits: fetch them (once) if any does.
  #wantDigits() {
    if (this.#testImages || this.#digitsWanted) return;
    const listed = this.#settings.views ?? VIEWS;
    const kindView = this.#kindView();
    const needs = listed.some((v) => NEEDS_DIGITS.has(v) && (!KIND_VIEWS.includes(v) || v === kindView));
    if (!needs) return;
    this.#digitsWanted = true;
    this.#loadTestDigits();
  }

  // The model the attributes ask for: `spec` (fresh), `model` (a file), or `kind` (its
  // pretrained file, else fresh). `key` tells whether it changed.
  #source() {
    const s = this.#settings;
    const specAttr = this.getAttribute('spec');
    if (specAttr) {
      let spec = specAttr;
      if (s.seed !== undefined) {
        try {
          spec = JSON.stringify({ ...JSON.parse(specAttr), seed: s.seed });
        } catch {
          // Not JSON: the engine says so.
        }
      }
      return { key: JSON.stringify(['spec', spec]), specJson: spec, weights: null };
    }
    const base = s.data ?? DEFAULT_DATA;
    const shape = DATASETS[base].shape;
    // A detector trains on the normal rows alone, from a fresh model.
    const data = s.normal ? anomalyData(base, { normal: s.normal, contamination: s.contamination ?? 0, seed: s.seed ?? 1 }) : base;
    let entry = kindOf(s.kind ?? plainKind(shape));
    if (s.normal && entry.conditional) entry = kindOf(plainKind(shape));
    const fresh = JSON.stringify({ ...defaultsFor(entry, shape), ...(s.seed !== undefined ? { seed: s.seed } : {}) });
    if (s.model) return { key: JSON.stringify(['model', s.model, data]), specJson: fresh, weights: s.model, data };
    const weights = entry.pretrained && data === DEFAULT_DATA ? modelUrl(entry.pretrained) : null;
    return { key: JSON.stringify(['kind', entry.id, weights ? null : (s.seed ?? null), data]), specJson: fresh, weights, data };
  }

  // After a change of kind, model, spec, seed or a live setting: the model follows (one
  // change at a time; the latest attributes win).
  #applyModelSettings() {
    this.#applying = this.#applying.then(() => this.#followAttributes()).catch((e) => this.#showError(e.message));
    return this.#applying;
  }
  #applying = Promise.resolve();

  async #followAttributes() {
    if (!this.#info) return;
    const source = this.#source();
    if (source.key !== this.#opened) {
      this.#opened = source.key;
      if (source.data !== this.#dataName) {
        // Another data set: a model for it first (the file, if any, is loaded on it next).
        const info = await this.#request('switchData', { data: source.data, spec: source.specJson });
        this.#modelChanged(info);
        if (!source.weights) {
          this.#layout();
          await this.#applyLive();
          if (this.#settings.autoplay === 'animations') this.#trainDetector(info);
          return;
        }
      }
      if (source.weights) {
        try {
          const info = await this.#request('loadUrl', { url: source.weights });
          this.#modelChanged(info);
        } catch (e) {
          this.#views.messages.show(`The model ${source.weights.split('/').pop()} could not be loaded (${e.message}); starting from a fresh one.`, 'info');
          await this.reset(source.specJson);
        }
      } else {
        await this.reset(source.specJson);
      }
      this.#layout();
      this.#wantDigits();
    }
    await this.#applyLive();
  }

  // The kind's live settings from the attributes, where they apply to the running model.
  // Straight to the engine: this runs while the widget opens, before `ready`.
  async #applyLive() {
    const live = this.#settings.live;
    if (!live || !this.#info || !this.#engine) return;
    const current = JSON.parse(this.#info.spec);
    const own = kindOf(current.kind)?.settings ?? [];
    const mine = Object.fromEntries(Object.entries(live).filter(([k]) => own.includes(k)));
    const next = specWith(current, mine);
    if (JSON.stringify(liveOf(next)) === JSON.stringify(liveOf(current))) return;
    try {
      this.#specChanged(await this.#engine.request('setSpec', { spec: JSON.stringify(next) }));
    } catch (e) {
      this.#showError(`Could not apply the settings of the attributes: ${e.message}`);
    }
  }

  // A change of backend: the model moves (training stops, which checkpoints the weights;
  // that checkpoint reopens on the new backend).
  // Where the model is asked to run: the backend attribute; under auto, the reader's own
  // choice from the badge when they made one on this site, else the engine's rule.
  #backendWanted() {
    const asked = this.#settings.backend;
    return asked === 'auto' ? (storedBackend() ?? 'auto') : asked;
  }

  // The badge, and under auto with a software WebGPU adapter a button to the other backend
  // (the attribute, when a page sets one, is the page's choice: no button then).
  #showBackend(info) {
    const offer = this.#settings.backend === 'auto' && info.softwareAdapter;
    const other = info.backend === 'webgpu' ? 'cpu' : 'webgpu';
    const label = other === 'webgpu' ? 'Use WebGPU' : 'Use the CPU';
    const run = () => {
      storeBackend(other);
      this.#reopen();
    };
    this.#views.badge.set(info.backend, info.adapter, offer ? { label, run } : null);
  }

  async #reopen() {
    if (!this.#engine) return;
    if (this.#info?.training) await this.stop().catch(() => {});
    if (!this.#engine || !this.#lastGood) return;
    const restore = { ...this.#lastGood, condition: this.#kinds.condition, quiet: true };
    const old = this.#engine;
    this.#engine = null;
    old.terminate();
    this.#info = null;
    this.#newReadyPromise();
    this.#startEngine(restore);
  }

  // autoplay="train": trains while visible, pauses when the widget leaves the viewport.
  #autoplay() {
    if (!this.#info) return;
    const want = this.#settings.autoplay === 'train' && this.#visible;
    if (want && !this.#info.training) {
      this.#autoTrained = true;
      this.start().catch(() => {});
    } else if (!want && this.#autoTrained && this.#info.training) {
      this.#autoTrained = false;
      this.stop().catch(() => {});
    }
  }

  // ── engine ─────────────────────────────────────────────────────────────────────────────
  // A promise still pending is kept: whoever awaits it (the engine crashed or was reopened
  // before it was first ready) hears of the engine that takes over.
  #newReadyPromise() {
    if (this.#readyPending) return;
    this.#readyPending = true;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolveReady = (info) => {
        this.#readyPending = false;
        resolve(info);
      };
      this.#rejectReady = (error) => {
        this.#readyPending = false;
        reject(error);
      };
    });
    // Awaiting `ready` is optional: an engine that fails is also shown in the page.
    this.#ready.catch(() => {});
  }

  async #request(type, args, options) {
    if (!this.#engine) {
      if (this.isConnected) await this.#ready; // an engine that could not start: its reason
      throw new Error('<latent-lab> is not connected to a document');
    }
    await this.#ready;
    // Typed arrays in `args` are the element's own copies: hand them over instead of cloning.
    const transfer = Object.values(args)
      .filter((v) => ArrayBuffer.isView(v))
      .map((v) => v.buffer);
    const engine = this.#engine;
    try {
      return await engine.request(type, args, transfer, options);
    } catch (e) {
      // The element replaced this engine (a change of backend) while the request ran: the
      // answer is moot, and the caller need not show why it never came.
      if (engine !== this.#engine && e instanceof Error) e.superseded = true;
      throw e;
    }
  }

  // Starts an engine: from the attributes, or with `restore` (the last checkpoint of an
  // engine that died) from that model. The page's widgets share one engine Worker: this
  // opens this widget's model in it.
  #startEngine(restore = null) {
    let engine;
    try {
      engine = engineModel();
    } catch (e) {
      // The Worker could not even be constructed (a policy, another origin): say why.
      const message = `The engine could not start: ${e.message}`;
      this.#views.badge.failed('the engine could not start');
      this.#views.messages.show(message, 'error');
      this.dispatchEvent(new CustomEvent('error', { detail: { message } }));
      this.#rejectReady(e);
      return;
    }
    this.#engine = engine;
    if (!restore) this.#stopped = false;
    const mine = (handler) => (e) => engine === this.#engine && handler(e.detail);
    engine.addEventListener('metrics', mine((d) => this.#onMetrics(d)));
    engine.addEventListener('state', mine((d) => this.#onState(d)));
    engine.addEventListener('error', mine((d) => this.#onEngineError(d)));
    engine.addEventListener('checkpoint', mine(({ bytes, step, pretrained }) => (this.#lastGood = { bytes, step, pretrained })));
    engine.addEventListener('rollback', mine(({ step }) => this.#dropAfter(step)));
    engine.addEventListener('projection', mine((d) => this.#views.map.projectionProgress(d)));
    engine.addEventListener('crash', mine(({ message }) => this.#onCrash(message)));
    const backend = this.#backendWanted();
    const source = this.#source();
    // The restore's bytes are copied: the worker takes them, and another crash needs them again.
    // A restored model opens on its data again; a user's table is given to the new engine first.
    const data = restore ? this.#dataName : source.data;
    const args = restore
      ? { spec: '{}', backend, restore: { ...restore, bytes: restore.bytes.slice() } }
      : { spec: source.specJson, backend, weights: source.weights };
    if (!restore) this.#opened = source.key;
    const csv = restore && isCsvData(baseData(data)) ? this.#csv : null;
    const opened = csv
      ? engine.request('addCsv', { bytes: csv.bytes.slice(), label: csv.label }).then((added) => {
          this.#csv = { ...csv, data: added.data };
          // A detector on the table stands on its new name.
          const a = parseAnomalyData(data);
          this.#dataName = a ? anomalyData(added.data, a) : added.data;
          return engine.request('open', { ...args, data: this.#dataName });
        })
      : engine.request('open', { ...args, data });
    opened.then(
      async (info) => {
        if (engine !== this.#engine) return;
        this.#info = info;
        this.#showBackend(info);
        if (restore) this.#restarted(info, restore);
        else this.#modelChanged(info, { quiet: true });
        // The kind's live settings from the attributes, before anyone sees the model.
        if (!restore) await this.#applyLive().catch(() => {});
        if (engine !== this.#engine) return;
        this.#resolveReady(this.#info);
        this.dispatchEvent(new CustomEvent('ready', { detail: this.#info }));
        this.#wantDigits();
        // Attributes changed while the model opened: follow them now.
        if (!restore && this.#source().key !== this.#opened) this.#applyModelSettings();
        this.#autoplay();
        if (!restore && this.#settings.autoplay === 'animations') this.#trainDetector(this.#info);
      },
      (err) => {
        if (engine !== this.#engine || err.crashed) return; // a crash is handled by #onCrash
        this.#restarting = null;
        this.#views.badge.failed('the engine could not start');
        this.#showError(restore ? `The engine could not be restarted: ${err.message} Reload the page.` : `The engine could not start: ${err.message}`);
        this.#rejectReady(err);
        this.#settleRestart(null, err);
      },
    );
  }

  // The engine died: every call waiting on it has been rejected. Start another from the
  // last good model, unless it keeps dying.
  #onCrash(message) {
    const now = performance.now();
    this.#crashes = [...this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    // With the condition as the element has it now (it changes without a checkpoint).
    const restore = this.#lastGood && { ...this.#lastGood, condition: this.#kinds.condition };
    if (!restore && this.#readyPending && this.#crashes.length <= MAX_CRASHES) {
      // Another widget's model took the shared engine down while this one was still
      // opening: nothing of this widget's was lost, so it opens again in the new engine.
      this.#startEngine();
      return;
    }
    this.#info = { ...this.#info, training: false };
    this.#views.training.setTraining(false);
    this.#views.sampler.setTraining(false);
    this.#newReadyPromise();
    this.#restarting = null;
    if (this.#crashes.length > MAX_CRASHES || !restore) {
      const why = restore ? `it failed ${this.#crashes.length} times within a minute` : 'no model was saved to restore';
      this.#views.badge.failed('the engine stopped');
      this.#showError(`The engine stopped: ${message}. It was not restarted (${why}): reload the page.`);
      // That message says it all: the views' calls that died with the engine say nothing more.
      this.#stopped = true;
      const error = new Error(`the engine stopped: ${message}`);
      this.#rejectReady(error);
      this.#settleRestart(null, error);
      return;
    }
    const notice = `The engine stopped: ${message}. Restarting it with the last good model (step ${restore.step})…`;
    this.#showError(notice);
    this.#restarting = { message, notice };
    this.#views.badge.failed('restarting the engine');
    this.#startEngine(restore);
  }

  // A new engine runs the restored model: the views follow it; the history after the
  // restored step is gone with the engine that trained it.
  #restarted(info, restore) {
    const history = this.#history.filter((p) => p.step <= restore.step);
    this.#modelChanged(info);
    this.#history = history;
    // Each history point as a one-step metrics item ending at its step (the plots' input).
    const items = history.map((p) => ({ first_step: p.step - 1, steps: 1, recon: p.recon, kl: p.kl, penalty: p.penalty, beta: p.beta }));
    this.#views.loss.push(items);
    if (this.#kinds.kind === 'vae') this.#views.beta.push(items);
    // One message for the whole episode: why it stopped, and that it is back.
    const { message: cause, notice } = this.#restarting ?? {};
    this.#restarting = null;
    if (notice) this.#views.messages.remove(notice);
    if (restore.quiet) {
      // Moved to another backend on request: nothing went wrong.
      this.#settleRestart(info);
      return;
    }
    const message = `The engine was restarted after a crash (${cause ?? 'a fault'}): the model is back as it was at step ${restore.step}. Training was stopped; press Start to go on.`;
    this.#views.messages.show(message, 'info');
    const detail = { ...info, message, step: restore.step };
    this.dispatchEvent(new CustomEvent('restart', { detail }));
    this.#settleRestart(detail);
  }

  // A diverged run was rolled back to `step`: its points leave the history and the plots.
  #dropAfter(step) {
    this.#history = this.#history.filter((p) => p.step <= step);
    this.#views.loss.truncate(step);
    this.#views.beta.truncate(step);
    this.#metrics = { ...this.#metrics, step };
  }

  async #loadTestDigits() {
    const data = this.#dataName;
    try {
      const { images, labels } = await this.#request('testImages', { n: RECON_DIGITS });
      if (data !== this.#dataName) return; // the data changed meanwhile: its own rows come
      this.#testImages = images;
      this.#testLabels = labels;
      this.#views.recon.setOriginals(images, labels.length);
      this.#refreshReconstructions(true);
      this.#live.setTestDigits(images, labels);
      this.#kinds.setTestDigits(images, labels);
      this.#views.similar.setCandidates(images, labels);
      this.#similar.refresh(true);
      const many = await this.#request('testImages', { n: MAP_DIGITS });
      if (data !== this.#dataName) return;
      this.#live.setMapDigits(many.images, many.labels);
      this.#kinds.setSpreadDigits(many.images);
    } catch (e) {
      if (data !== this.#dataName) return;
      this.#digitsWanted = false; // a later change of views tries again
      if (e.superseded) return;
      this.#showError(`Could not load the held-out ${this.#dataEntry().rows}: ${e.message}`);
    }
  }

  // Reconstructs the test digits with the current model; one request at a time.
  async #refreshReconstructions(force = false) {
    if (!this.#testImages) return;
    const now = performance.now();
    if (this.#recon.busy) {
      this.#recon.again = true;
      return;
    }
    const interval = Math.max(RECON_INTERVAL_MS, this.#recon.took / RECON_SHARE);
    if (!force && now - this.#recon.last < interval) return;
    this.#recon.busy = true;
    this.#recon.last = now;
    try {
      // Send a copy: the buffer is transferred to the worker.
      const out = await this.#request('reconstruct', { pixels: this.#testImages.slice(), labels: this.#testLabels.slice() });
      this.#recon.took = performance.now() - now;
      this.#views.recon.setReconstructions(out);
    } catch (e) {
      this.#showError(`Could not reconstruct the held-out ${this.#dataEntry().rows}: ${e.message}`);
    } finally {
      this.#recon.busy = false;
      if (this.#recon.again) {
        this.#recon.again = false;
        this.#refreshReconstructions(true);
      }
    }
  }

  #onMetrics(msg) {
    const items = msg.items ?? [];
    for (const m of items) {
      this.#history.push({ step: m.first_step + m.steps, recon: m.recon, kl: m.kl, penalty: m.penalty, beta: m.beta });
    }
    const last = items[items.length - 1];
    this.#metrics = {
      step: msg.step,
      recon: last ? last.recon : this.#metrics.recon,
      kl: last ? last.kl : this.#metrics.kl,
      penalty: last ? last.penalty : this.#metrics.penalty,
      stepsPerSec: msg.stepsPerSec,
      samplesPerSec: msg.samplesPerSec,
    };
    this.#views.loss.push(items);
    if (this.#kinds.kind === 'vae') this.#views.beta.push(items);
    this.#views.training.setMetrics({ ...this.#metrics, trainSize: this.#info?.trainSize });
    this.dispatchEvent(new CustomEvent('progress', { detail: { ...this.#metrics, items } }));
    this.#refreshReconstructions();
    this.#live.refreshMap();
    this.#kinds.refresh();
    this.#anomaly.refresh();
    this.#compare.refresh();
    if (items.length) this.#views.sampler.modelUpdated();
  }

  #onState(msg) {
    const { type, reason, ...info } = msg;
    const backendChanged = this.#info && info.backend !== this.#info.backend;
    this.#info = { ...this.#info, ...info };
    this.#views.training.setTraining(info.training);
    this.#views.sampler.setTraining(Boolean(info.training));
    // A model on another data set: the reply to that switch brings the views along.
    if (info.data && info.data !== this.#dataName) {
      this.dispatchEvent(new CustomEvent('state', { detail: { reason, ...info } }));
      return;
    }
    if (reason === 'spec') this.#specChanged(info);
    if (reason === 'data') this.#views.training.setSummary(this.#info);
    if (backendChanged || reason === 'fallback') this.#showBackend(this.#info);
    if (!info.training) {
      this.#metrics = { ...this.#metrics, step: info.step };
      this.#views.training.setMetrics({ ...this.#metrics, trainSize: this.#info.trainSize });
      this.#refreshReconstructions(true);
      this.#kinds.refresh(true);
      this.#anomaly.refresh(true);
      this.#compare.refresh(true);
      this.#similar.refresh(true);
      this.#live.refreshMap(true);
      this.#views.sampler.modelUpdated();
    }
    this.dispatchEvent(new CustomEvent('state', { detail: { reason, ...info } }));
  }

  #onEngineError(msg) {
    if (msg.fatal && this.#info === null) return; // reported by the init request's failure
    this.#showError(msg.message);
  }

  // A new model (reset or loaded): clear the history and show its settings.
  #modelChanged(info, { quiet = false } = {}) {
    this.#info = { ...this.#info, ...info };
    if (info.data && (info.data !== this.#dataName || JSON.stringify(info.shape) !== JSON.stringify(this.#dataShape) || !this.#dataShown)) this.#dataChanged(info);
    this.#history = [];
    this.#metrics = { step: info.step, recon: NaN, kl: NaN, penalty: NaN, stepsPerSec: 0, samplesPerSec: 0 };
    const spec = JSON.parse(info.spec);
    this.#views.training.setModel(info);
    this.#views.training.setTraining(Boolean(info.training));
    this.#views.sampler.setTraining(Boolean(info.training));
    this.#views.training.setMetrics({ ...this.#metrics, trainSize: info.trainSize });
    this.#views.loss.clear();
    this.#views.loss.setSeries(kindOf(spec.kind)?.metrics ?? ['recon']);
    this.#kinds.setSpec(spec, { replaced: true });
    this.#anomaly.modelChanged();
    this.#compare.modelChanged();
    this.#similar.modelChanged();
    this.#live.modelChanged();
    this.#views.map.reset();
    this.#views.sampler.setLatent(spec.latent, spec.kind, info.shape ?? this.#dataShape, this.#dataEntry().rows);
    if (!quiet) {
      this.#refreshReconstructions(true);
      this.#live.refreshMap(true);
    }
  }

  // The model runs on another data set (or the first time): the views take its rows' shape,
  // its held-out rows come again, and the views that do not fit it step aside.
  #dataChanged(info) {
    const first = !this.#dataShown;
    this.#dataShown = true;
    this.#dataName = info.data;
    this.#dataShape = info.shape;
    const entry = this.#dataEntry();
    const shape = info.shape;
    this.#views.training.setData(entry, shape, baseData(info.data), { labelled: this.#labelled() });
    this.#anomalyData(info.data, shape, entry);
    this.#views.recon.setData(shape, entry.rows);
    this.#views.map.setData(shape, entry);
    this.#views.interp.setData(shape, entry.rows.replace(/s$/, ''));
    this.#compare.setData(shape, entry);
    this.#similar.setData(shape, entry);
    // The live and kind views size their requests by the rows' shape, the first data too.
    this.#live.setShape(shape);
    this.#kinds.setShape(shape);
    if (!first) {
      this.#testImages = null;
      this.#testLabels = null;
      this.#digitsWanted = false;
      if (!isDigitShaped(shape)) this.#views.pad.clear();
    }
    this.#layout();
  }
  #dataShown = false;

  // The data set's entry: www/util/datasets.js's, or the user's table's.
  #dataEntry() {
    const base = baseData(this.#dataName);
    if (Object.hasOwn(DATASETS, base)) return DATASETS[base];
    if (this.#csv && this.#csv.data === base) return csvEntry(this.#csv.fileName, this.#csv);
    return { label: base, short: base, caption: '', classes: null, rows: 'rows' };
  }

  // Whether the data has labels (a conditional model needs them).
  #labelled() {
    return !isCsvData(baseData(this.#dataName)) || Boolean(this.#csv?.label);
  }

  // The anomaly views follow the data: the detector offers the choice of normal rows this
  // data allows, and the other anomaly cards show while the model is a detector.
  #anomalyData(name, shape, entry) {
    const anomaly = parseAnomalyData(name);
    const base = baseData(name);
    const series = shape.type === 'series';
    const twoLabels = entry.classes?.length === 2 || (isCsvData(base) && this.#csv?.label);
    const unlabelled = isCsvData(base) && !this.#csv?.label;
    const fixed = unlabelled
      ? 'This table has no label column, so no row can be called anomalous: load it again with a label column (0 normal, 1 anomalous).'
      : series
        ? 'The labelled steps are the anomalies; the detector trains on the normal training series.'
        : twoLabels
          ? 'The rows labelled 0 are normal, those labelled 1 the anomalies.'
          : null;
    const other = OUTLIERS[base];
    this.#views.detector.setSetup({
      classes: fixed ? null : entry.classes,
      allowAll: Boolean(other),
      allName: other ? `every ${entry.rows.replace(/s$/, '')} (${DATASETS[other].short} are the anomalies)` : '',
      fixed,
      canContaminate: series ? 'the training series has no labelled anomaly to mix in' : unlabelled ? 'no labels' : true,
      normal: anomaly?.normal ?? [0],
      contamination: anomaly?.contamination ?? 0,
      active: Boolean(anomaly),
      disabled: unlabelled,
      drawable: isDigitShaped(shape),
    });
    this.#views.detector.setStatus(anomaly ? '' : `The model now trains on every ${entry.rows.replace(/s$/, '')}. Pick the normal ones to train a detector on them alone.`);
    this.#anomaly.setData({ active: Boolean(anomaly), shape });
    for (const [part, el] of Object.entries(this.#anomalyParts)) {
      if (part !== 'anomaly') el.hidden = !anomaly || (part === 'anomaly-series' && !series);
    }
  }

  // The detector card's request: its refusal is shown in the card.
  async #fromDetector(action) {
    try {
      this.#views.detector.setStatus('Opening a fresh model on the normal rows…');
      const info = await action();
      this.#trainDetector(info);
      return info;
    } catch (e) {
      this.#views.detector.setStatus(`Could not train a detector: ${e.message}`);
      return null;
    }
  }

  // The PCA card's linear autoencoder: a fresh one, trained LINEAR_STEPS steps (unless the
  // engine already trains), its angles to PCA's subspace read as it goes.
  async #trainLinear() {
    const before = this.#views.messages.texts('error');
    const info = await this.reset(linearSpec(this.#settings.seed));
    this.#clearErrors(before);
    if (!info.training) this.train({ steps: LINEAR_STEPS }).catch(() => {});
  }

  // A fresh detector is worth looking at after a few passes over its rows: it trains them
  // (from the detector card, or when the `normal` attribute opened it with autoplay on its
  // default: `train` trains anyway, `off` waits to be asked).
  #trainDetector(info) {
    const a = this.anomaly;
    if (!a || info.training) return;
    const rows = `${info.trainSize} training rows${a.contamination ? ` (${Math.round(100 * a.contamination)} % of them anomalies)` : ', all normal'}`;
    const batch = JSON.parse(info.spec).batch_size;
    const steps = Math.min(DETECTOR_MAX_STEPS, Math.max(DETECTOR_MIN_STEPS, Math.ceil((DETECTOR_EPOCHS * info.trainSize) / batch)));
    const passes = Math.round((steps * batch) / Math.max(1, info.trainSize));
    this.#views.detector.setStatus(`Training ${steps} steps (${passes} passes) over ${rows}: watch the normal and anomalous scores pull apart.`);
    this.train({ steps }).then(
      () => this.#views.detector.setStatus(`Trained ${steps} steps on ${rows}. Drag the threshold${isDigitShaped(this.#dataShape) ? '; draw on the pad' : ''}.`),
      () => {},
    );
  }

  // A switch from the training card (kind, data): its refusal goes back to the card (shown
  // next to the select); on success the errors shown before it go, one shown while it ran
  // stays.
  async #fromPanel(action) {
    const before = this.#views.messages.texts('error');
    const info = await action();
    this.#clearErrors(before);
    return info;
  }

  // A live change of the running model's spec (β, noise, sparsity): same weights, same step.
  #specChanged(info) {
    if (!info?.spec) return;
    this.#info = { ...this.#info, ...info };
    const spec = JSON.parse(info.spec);
    this.#views.training.setLiveSpec(info.spec);
    this.#kinds.setSpec(spec);
  }

  // A live setting from the switcher or a view: the engine's refusal is shown in the element.
  async #setLive(spec) {
    try {
      return await this.setSpec(spec);
    } catch (e) {
      this.#showError(`Could not change the setting: ${e.message}`);
      throw e;
    }
  }

  // The denoising view's noise: shown at once; the model trains with it from its next step
  // (one change in flight, the latest wins).
  async #noiseChanged(noise) {
    this.#kinds.refresh(true);
    const send = this.#noiseSend;
    send.next = noise;
    if (send.busy) return;
    send.busy = true;
    try {
      while (send.next) {
        const next = send.next;
        send.next = null;
        const current = JSON.parse(this.#info.spec).noise;
        if (current.kind === next.kind && current.amount === next.amount) continue;
        await this.#setLive({ noise: next }).catch(() => this.#kinds.noiseRefused());
      }
    } finally {
      send.busy = false;
    }
  }

  // The errors shown when a form action started are cleared when it succeeds; one that came
  // while it ran (from the engine, say) stays, and so do the attribute problems until fixed.
  #clearErrors(before) {
    for (const m of before) if (!this.#shownProblems.includes(m)) this.#views.messages.remove(m);
  }

  #showError(message) {
    if (!this.#engine) return; // disconnected: nothing to tell
    // While the engine restarts, or once it has stopped for good, the views' calls that died
    // with it say nothing new.
    if (this.#restarting !== null || this.#stopped) return;
    this.#views.messages.show(message, 'error');
    this.dispatchEvent(new CustomEvent('error', { detail: { message } }));
  }

  async #resetFromForm(spec) {
    try {
      // The widget's seed, if it has one, makes the fresh weights.
      const seed = this.#settings.seed;
      const before = this.#views.messages.texts('error');
      await this.reset(seed === undefined ? spec : { ...(typeof spec === 'string' ? JSON.parse(spec) : spec), seed });
      this.#clearErrors(before);
    } catch (e) {
      if (!this.#views.training.showEngineError(e.message)) this.#showError(e.message);
    }
  }

  async #download() {
    try {
      const bytes = await this.saveWeights();
      const spec = JSON.parse(this.#info.spec);
      const widths = [rowSize(this.#info.shape), ...(spec.hidden ?? []), spec.latent].join('-');
      const name = `latent-lab-${spec.kind}-${widths}-step${this.#metrics.step}.safetensors`;
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      const a = h('a', { href: url, download: name, hidden: true });
      this.shadowRoot.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      this.#showError(`Could not save the weights: ${e.message}`);
    }
  }

  async #loadFile(file) {
    try {
      const before = this.#views.messages.texts('error');
      const bytes = new Uint8Array(await file.arrayBuffer());
      const info = await this.loadWeights(bytes);
      this.#clearErrors(before);
      this.#views.messages.show(`Loaded ${file.name}: ${describeSpec(JSON.parse(info.spec), info.shape)}.`, 'info');
    } catch (e) {
      this.#showError(`Could not load ${file.name}: ${e.message} The current model is unchanged.`);
    }
  }

  // ── drag and drop of weights files ─────────────────────────────────────────────────────
  #onDrag = (e) => {
    if (this.#controls !== 'full' || ![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    if (e.type === 'dragenter') this.#dragDepth++;
    this.#drop.hidden = false;
  };
  #onDragLeave = () => {
    this.#dragDepth = Math.max(0, this.#dragDepth - 1);
    if (this.#dragDepth === 0) this.#drop.hidden = true;
  };
  #onDrop = (e) => {
    if (this.#controls !== 'full') return;
    e.preventDefault();
    this.#dragDepth = 0;
    this.#drop.hidden = true;
    const file = e.dataTransfer?.files?.[0];
    if (!file) return;
    if (/\.csv$/i.test(file.name) || file.type === 'text/csv') {
      this.#views.training.loadCsv(file).catch(() => {});
    } else {
      this.#loadFile(file);
    }
  };
}

// The kind a data set starts with when none is asked for: the VAE on images, the plain AE on
// a table, the 1-D convolutional AE on a series.
function plainKind(shape) {
  return shape.type === 'series' ? 'conv1d_ae' : shape.type === 'vector' ? 'ae' : 'vae';
}

// `changes` merged into `spec`, one level deep for the nested settings (noise, sparsity,
// optimizer), so {noise: {amount: 0.3}} keeps the noise kind.
function mergeSpec(spec, changes) {
  const out = { ...spec };
  for (const [k, v] of Object.entries(changes)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && spec[k] && typeof spec[k] === 'object' ? { ...spec[k], ...v } : v;
  }
  return out;
}

// Labels of a request: one digit 0–9 per row (checked here: a Uint8Array would wrap 300
// to 44 silently).
function toU8(x) {
  if (x === undefined || x === null) return undefined;
  if (!(ArrayBuffer.isView(x) || Array.isArray(x))) throw new TypeError(`labels must be an array of digits 0–9, got ${describe(x)}`);
  const bad = Array.prototype.findIndex.call(x, (v) => !(Number.isInteger(v) && v >= 0 && v <= 9));
  if (bad >= 0) throw new RangeError(`labels[${bad}] is ${describe(x[bad])}: each label must be a digit from 0 to 9`);
  return Uint8Array.from(x); // a copy: the buffer is transferred
}


// The reader's choice of backend from the badge, per site (localStorage; none where storage
// is blocked, as in some sandboxed frames).
const BACKEND_KEY = 'latent-lab:backend';
function storedBackend() {
  try {
    const v = localStorage.getItem(BACKEND_KEY);
    return v === 'webgpu' || v === 'cpu' ? v : null;
  } catch {
    return null;
  }
}
function storeBackend(backend) {
  try {
    localStorage.setItem(BACKEND_KEY, backend);
  } catch {
    // Not remembered; this widget still moves.
  }
}

// Values of a request: a typed array or an array of numbers, copied (the buffer is
// transferred). The engine checks their count and that each is finite.
function toF32(x) {
  if (x instanceof Float32Array) return x.slice();
  if (!(ArrayBuffer.isView(x) || Array.isArray(x)) || x instanceof DataView) {
    throw new TypeError(`expected a Float32Array or an array of numbers, got ${describe(x)}`);
  }
  const bad = Array.prototype.findIndex.call(x, (v) => typeof v !== 'number' && typeof v !== 'bigint');
  if (bad >= 0) throw new TypeError(`element ${bad} is ${describe(x[bad])}, not a number`);
  return Float32Array.from(x, Number);
}

// A value as an error message shows it, cut short.
function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of ${v.length}`;
  let text = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? 'an object' : typeof v === 'function' ? 'a function' : String(v);
  if (text.length > 48) text = `${text.slice(0, 48)}… (${text.length} characters)`;
  return text;
}
