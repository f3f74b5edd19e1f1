// The sampler: a grid of digits decoded from random codes z ~ N(0, I). Each cell's code
// glides from one random draw to the next by spherical interpolation, so the grid morphs
// continuously and shows what lies between the digits the decoder knows.
//
// Smooth on a slow engine. The path is deterministic, so the codes of the coming frames are
// known ahead: they are decoded K frames (K × 36 codes) per request, with at most two
// requests in flight, and drawn from that buffer at the display rate. Each frame carries its
// position on the path; the playback clock advances by the time elapsed × the speed, shows
// the latest decoded frame that is due and waits (rather than jumps) when the next one is not
// decoded yet. So a speed change moves the picture at the new speed at once (frames already
// made are shown sooner or later; new ones are spaced for it). K and the frame spacing adapt
// to the measured time a request takes: K grows until a batch is decoded in less time than
// it plays; at the largest K the frames are spaced wider instead (fewer frames per second,
// the same speed on screen).
//
// While the model trains, the sampler shares the engine: one request at a time, larger
// batches (replies wait behind training steps), and after each reply a pause if needed so
// that its decodes take at most TRAIN_SHARE of the time. A decode's own cost is the least
// time per frame the worker has measured for this model (on WebGPU the measured time also
// holds the training steps queued before it on the GPU). The frame rate adapts to the rest.
//
// Correctness of the buffer: a new seed or a new model drops every frame (replies to older
// requests are ignored); new weights (training) mark the decoded frames stale, and they are
// decoded again, nearest first, while the stale pictures stand in until then.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintRow, parseColor } from './renderers.js';
import { DIGIT_SHAPE, rowSize } from '../util/shape.js';
import { normal, draw, slerp, ease, hashBytes } from '../util/random.js';
import { isConditional, isVariational } from '../util/kinds.js';

const SIDE = 6; // cells per row and column
const CELLS = SIDE * SIDE;
// Frames per request: 7 × 36 = 252 codes stay within one GPU inference chunk (256 rows);
// twice that while training.
const MAX_BATCH = 7;
const MAX_BATCH_TRAINING = 14;
const IN_FLIGHT = 2; // requests at a time
const AHEAD = 3; // frames made ahead of the one on screen, in batches…
const AHEAD_S = 0.5; // …and in seconds of playback (but always two batches)
const MIN_RATE = 4; // frames per second on the path, at the least
const MARGIN = 1.05; // a batch must decode this much faster than it plays
// New weights while training arrive every few tens of ms: re-decode at most this often.
const STALE_MS = 250;
const TRAIN_SHARE = 0.1; // of the engine's time, at most, while the model trains

const explanation = (rows) =>
  `${rows[0].toUpperCase()}${rows.slice(1)} decoded from random codes drawn from N(0,\u00a01), the distribution a VAE is trained to fill. ` +
  `Each code drifts smoothly to the next, so you see what lies between the ${rows}; a good generative model shows ${rows} all the way.`;

export class Sampler {
  #canvas;
  #play;
  #speed;
  #fpsOut;
  #loop;
  #decode;
  #latent = 0;
  #from = [];
  #to = [];
  #t = []; // per cell, in [0, 1)
  #gen = null;
  #seed = 1;
  #playing = !matchMedia('(prefers-reduced-motion: reduce)').matches;
  #visible = false;
  #raf = 0;
  #observer;
  #note;
  #explain;
  #kind = 'vae';
  #shape = DIGIT_SHAPE; // of the rows it decodes
  #rows = 'digits'; // what they are, in words
  #condition = 0;

  // The buffer: frames in path order, from the one on screen on.
  #queue = []; // [{index, pos, z, images, version, pending}]
  #nextIndex = 0; // index of the next frame made (never reused, even across seeds)
  #pathPos = 0; // path position of the next frame made (seconds × speed)
  #clock = 0; // path position on screen
  #shown = null; // the frame on screen
  #drawn = { index: -1, images: null };
  #epoch = 0; // bumped on reseed and model change: replies from before are ignored
  #version = 0; // bumped when the weights change
  #staleTimer = 0;
  #lastStale = -Infinity;
  #inFlight = 0;
  #lastReply = 0; // when the latest reply arrived (for the decode time of the next one)
  #training = false;
  #notBefore = 0; // while training: no request before this time
  #wake = 0; // timer for that
  #cost = Infinity; // the engine's least time per decoded frame for this model, ms

  // Adaptation.
  #batch = 2; // K
  #rate = 30; // frames made per second of playback
  #samples = []; // the latest replies: [{k, ms}]
  #display = 60; // the display's frame rate, measured from requestAnimationFrame
  #lastTick = null;

  // Counters for tests and the readout.
  #frames = 0;
  #frameTimes = [];

  /**
   * `root`: the element with part="sampler". `decode(z)` → Promise<{result: images n×784,
   * ms}>, `ms` the engine's time for the call (if known).
   */
  constructor(root, { decode }) {
    this.root = root;
    this.#decode = decode;
    this.#canvas = h('canvas', { class: 'sampler', role: 'img', 'aria-label': 'Digits decoded from random codes (loading)' });
    this.#play = h('button', { type: 'button', class: 'primary', 'aria-pressed': String(this.#playing) }, this.#playing ? 'Pause' : 'Play');
    this.#play.addEventListener('click', () => this.setPlaying(!this.#playing));
    const reseed = h('button', { type: 'button' }, 'New codes');
    reseed.addEventListener('click', () => this.reseed(this.#seed + 1));
    const speedId = `ll-speed-${Math.random().toString(36).slice(2, 8)}`;
    this.#speed = h('input', { type: 'range', id: speedId, min: '0.05', max: '1.5', step: '0.05', value: '0.35' });
    this.#fpsOut = h('span', { class: 'fps', 'aria-live': 'off' }, '');
    root.replaceChildren(
      h('h2', {}, 'Sampler'),
      (this.#explain = h('p', { class: 'explain' }, explanation('digits'))),
      (this.#note = h('p', { class: 'explain sampler-note', hidden: true }, '')),
      this.#canvas,
      h(
        'div',
        { class: 'sampler-controls' },
        this.#play,
        reseed,
        h('label', { for: speedId, class: 'speed' }, 'speed', this.#speed),
        this.#fpsOut,
      ),
    );
    this.#loop = redrawLoop(this.#canvas, () => this.#draw());
    this.#observer = new IntersectionObserver((entries) => {
      this.#visible = entries.some((e) => e.isIntersecting);
      this.#kick(this.#visible); // once: frames gone stale while off screen are decoded again
    });
    this.#observer.observe(this.#canvas);
  }

  /** Distinct frames drawn so far (each a new point on the path). */
  get frames() {
    return this.#frames;
  }

  /** Distinct frames drawn per second over the last two seconds. */
  get fps() {
    const t = this.#frameTimes;
    if (t.length < 2) return 0;
    return ((t.length - 1) * 1000) / (t[t.length - 1] - t[0]);
  }

  /**
   * A new model with `latent` code numbers, decoding rows of `shape` (`rows`: what they are
   * in words, e.g. 'digits', 'windows'): fresh codes.
   */
  setLatent(latent, kind = 'vae', shape = DIGIT_SHAPE, rows = 'digits') {
    if (rowSize(shape) !== rowSize(this.#shape) || shape.type !== this.#shape.type) this.#drawn = { index: -1, images: null };
    this.#shape = shape;
    this.#rows = rows;
    this.#explain.textContent = explanation(rows);
    this.#latent = latent;
    this.#cost = Infinity;
    this.#kind = kind;
    this.#showNote();
    this.reseed(this.#seed);
  }

  /** A conditional model's label: the digit every sample is decoded as. */
  setCondition(label) {
    this.#condition = label;
    this.#showNote();
  }

  // What the samples mean for this kind, when it differs from a VAE.
  #showNote() {
    let text = '';
    if (isConditional(this.#kind)) {
      text =
        `Every code here is decoded with the label ${this.#condition} (set in the CVAE card): ` +
        'the label fixes the digit, the code only its style.';
    } else if (!isVariational(this.#kind)) {
      text =
        `This model is not a VAE: nothing pushed its codes towards N(0,\u00a01), so many of these codes fall where none of the ${this.#rows} was ever encoded. Compare with a VAE.`;
    }
    this.#note.textContent = text;
    this.#note.hidden = !text;
  }

  /**
   * The weights changed (training): frames decoded before are stale. At most every
   * STALE_MS, and once more after the last change.
   */
  modelUpdated() {
    const now = performance.now();
    if (now - this.#lastStale >= STALE_MS) {
      this.#markStale(now);
    } else if (!this.#staleTimer) {
      this.#staleTimer = setTimeout(() => this.#markStale(performance.now()), STALE_MS - (now - this.#lastStale));
    }
  }

  /** The model trains (or stops): the sampler takes a smaller share of the engine. */
  setTraining(training) {
    if (training === this.#training) return;
    this.#training = training;
    this.#notBefore = 0;
    this.#samples = []; // measured afresh: replies now wait behind training, or no longer
    this.#batch = Math.min(this.#batch, this.#maxBatch);
    this.#kick(true);
  }

  reseed(seed) {
    this.#seed = seed;
    this.#epoch++;
    this.#queue = [];
    this.#shown = null;
    this.#inFlight = 0;
    this.#notBefore = 0;
    this.#pathPos = 0;
    this.#clock = 0;
    if (!this.#latent) return;
    this.#gen = normal(0x5eed + seed * 7919);
    this.#from = [];
    this.#to = [];
    this.#t = [];
    for (let i = 0; i < CELLS; i++) {
      this.#from.push(draw(this.#gen, this.#latent));
      this.#to.push(draw(this.#gen, this.#latent));
      this.#t.push(i / CELLS); // staggered, so the cells do not change in step
    }
    this.#canvas.dataset.seed = String(seed);
    this.#kick(true);
  }

  setPlaying(playing) {
    this.#playing = playing;
    this.#play.textContent = playing ? 'Pause' : 'Play';
    this.#play.setAttribute('aria-pressed', String(playing));
    this.#kick(true);
  }

  dispose() {
    cancelAnimationFrame(this.#raf);
    clearTimeout(this.#staleTimer);
    clearTimeout(this.#wake);
    this.#observer.disconnect();
    this.#loop.dispose();
    this.#epoch++;
  }

  #markStale(now) {
    clearTimeout(this.#staleTimer);
    this.#staleTimer = 0;
    this.#lastStale = now;
    this.#version++;
    this.#kick(true);
  }

  get #speedValue() {
    return Number(this.#speed.value);
  }

  get #maxBatch() {
    return this.#training ? MAX_BATCH_TRAINING : MAX_BATCH;
  }

  get #running() {
    return this.#playing && this.#visible && this.#latent > 0;
  }

  // One animation frame is scheduled at a time. `once`: a single frame even when paused
  // (a new seed, model or weights must reach the screen).
  #kick(once = false) {
    if (this.#raf || !this.#latent) return;
    if (!this.#running && !once) return;
    this.#raf = requestAnimationFrame((now) => this.#tick(now));
  }

  #tick(now) {
    this.#raf = 0;
    if (!this.root.isConnected) return;
    const running = this.#running;
    // Back on screen or playing again: the frame rate counts from now, not from before.
    if (running && this.#lastTick === null) this.#frameTimes = [];
    if (running && this.#lastTick !== null) {
      const dt = (now - this.#lastTick) / 1000;
      if (dt > 0 && dt < 0.25) this.#display += (Math.min(240, Math.max(10, 1 / dt)) - this.#display) * 0.05;
      this.#clock += Math.min(0.1, dt) * this.#speedValue;
    }
    this.#lastTick = running ? now : null;
    this.#advance(running);
    this.#fill(running);
    this.#request(running);
    if (running) this.#kick();
  }

  // Shows the latest decoded frame that is due; the clock never passes a frame that is
  // not decoded yet. Frames before the one shown are dropped. Paused, the frame on screen
  // stays (redrawn when decoded again); only a new seed's first frame is shown.
  #advance(running) {
    const q = this.#queue;
    if (!running && this.#shown) {
      if (this.#shown.images !== this.#drawn.images) this.#draw();
      return;
    }
    // Half a display interval of slack: a frame due within it counts as due (rAF jitter).
    const due = this.#clock + (0.5 / this.#display) * this.#speedValue;
    let k = -1;
    for (let i = 0; i < q.length && q[i].images && q[i].pos <= due; i++) k = i;
    const waiting = q.find((f) => !f.images);
    if (waiting && this.#clock > waiting.pos) this.#clock = waiting.pos;
    if (k > 0) q.splice(0, k);
    if (k >= 0) this.#shown = q[0];
    const f = this.#shown;
    if (f && (f.index !== this.#drawn.index || f.images !== this.#drawn.images)) this.#draw();
  }

  // Makes frames ahead of the clock: AHEAD batches of K, at most AHEAD_S of playback (frames
  // made at a low rate must not linger once it rises), at least two batches (one plays while
  // the next is decoded).
  #fill(running) {
    const K = this.#batch;
    const want = running ? 1 + Math.max(2 * K, Math.min(AHEAD * K, Math.ceil(AHEAD_S * this.#rate))) : 1;
    while (this.#queue.length < want) this.#queue.push(this.#makeFrame());
  }

  #makeFrame() {
    const Z = this.#latent;
    const z = new Float32Array(CELLS * Z);
    const cell = new Float32Array(Z);
    for (let i = 0; i < CELLS; i++) {
      slerp(this.#from[i], this.#to[i], ease(this.#t[i]), cell);
      z.set(cell, i * Z);
    }
    const frame = { index: this.#nextIndex++, pos: this.#pathPos, z, images: null, version: -1, pending: -1 };
    // The next frame: one frame interval later, at the current speed.
    const step = this.#speedValue / this.#rate;
    this.#pathPos += step;
    for (let i = 0; i < CELLS; i++) {
      this.#t[i] += step;
      if (this.#t[i] >= 1) {
        this.#t[i] -= 1;
        this.#from[i] = this.#to[i];
        this.#to[i] = draw(this.#gen, this.#latent);
      }
    }
    return frame;
  }

  // Sends the nearest frames that lack a current decode, K at a time, IN_FLIGHT at most.
  // While playing, the frame on screen is not decoded again (it is gone in a moment); while
  // paused, only that frame is; off screen, stale frames wait until they are seen.
  #request(running) {
    if (this.#training && performance.now() < this.#notBefore) return;
    const q = this.#queue;
    const inFlight = this.#training ? 1 : IN_FLIGHT;
    const limit = running ? q.length : Math.min(1, q.length);
    const needs = (f) =>
      f.pending < this.#version && (f.images === null || (this.#visible && f.version < this.#version));
    while (this.#inFlight < inFlight) {
      let start = running && q.length > 1 && q[0] === this.#shown ? 1 : 0;
      while (start < limit && !needs(q[start])) start++;
      if (start >= limit) return;
      let end = start;
      while (end < limit && end - start < this.#batch && needs(q[end])) end++;
      // A partial batch only for the very next frame; otherwise wait until K are made.
      if (end - start < this.#batch && running && start > 1) return;
      this.#send(q.slice(start, end));
    }
  }

  async #send(frames) {
    const Z = this.#latent;
    const epoch = this.#epoch;
    const version = this.#version;
    const z = new Float32Array(frames.length * CELLS * Z);
    frames.forEach((f, j) => {
      z.set(f.z, j * CELLS * Z);
      f.pending = version;
    });
    this.#inFlight++;
    const sent = performance.now();
    let images;
    let engineMs;
    try {
      ({ result: images, ms: engineMs } = await this.#decode(z));
    } catch {
      // The element reports engine errors; the next animation frame tries again.
      if (epoch === this.#epoch) {
        this.#inFlight--;
        for (const f of frames) if (f.pending === version) f.pending = -1;
        this.#kick(true);
      }
      return;
    }
    if (epoch !== this.#epoch) return; // a new seed or model meanwhile
    this.#inFlight--;
    const now = performance.now();
    // The time this request took: from when it was sent or when the previous reply came
    // back, whichever was later (the engine serves one request at a time), and at least the
    // engine's own time (replies can reach the page in bursts when its main thread is busy).
    let took = Math.max(now - Math.max(sent, this.#lastReply), engineMs > 0 ? engineMs : 0);
    this.#lastReply = now;
    if (engineMs > 0) this.#cost = Math.min(this.#cost, engineMs / frames.length);
    if (this.#training) {
      // Training gets the rest: the next request waits until this decode's own cost is
      // TRAIN_SHARE of the time since it was sent (time behind training counts). A batch
      // then takes the whole cycle: its wait behind training, the decode and the pause.
      const cost = Number.isFinite(this.#cost) ? this.#cost * frames.length : took;
      const pause = Math.min(2000, Math.max(0, cost / TRAIN_SHARE - (now - sent)));
      this.#notBefore = now + pause;
      took = now - sent + pause;
      clearTimeout(this.#wake);
      this.#wake = setTimeout(() => this.#kick(true), pause);
    }
    this.#adapt(frames.length, took);
    frames.forEach((f, j) => {
      if (f.pending === version) f.pending = -1;
      if (version < f.version) return; // a newer decode is already there
      const d = rowSize(this.#shape);
      f.images = images.subarray(j * CELLS * d, (j + 1) * CELLS * d);
      f.version = version;
    });
    this.#kick(true);
  }

  // `k` frames took `ms` to decode. A batch must decode MARGIN× faster than it plays:
  // otherwise K grows, and at the largest K the frames are spaced wider; with room to
  // spare, the frame rate goes up to the display's, then K comes down (fresher frames).
  #adapt(k, ms) {
    if (!(ms > 0)) return;
    // Frames decoded per second over the last two and the last four replies, the better:
    // one slow reply (a busy moment) must not hold the frame rate down for long.
    this.#samples.push({ k, ms });
    if (this.#samples.length > 4) this.#samples.shift();
    const rate = (xs) => (1000 * xs.reduce((sum, x) => sum + x.k, 0)) / xs.reduce((sum, x) => sum + x.ms, 0);
    const tp = Math.max(rate(this.#samples), rate(this.#samples.slice(-2)));
    const need = this.#rate * MARGIN;
    const top = Math.min(60, this.#display);
    if (tp < need) {
      // Larger batches spread a request's fixed cost (and its wait behind training) over
      // more frames. At once as large as this shortfall asks, and the rate that batch would
      // keep up with if a request's time did not grow with it (the next reply corrects).
      const batch = Math.min(this.#maxBatch, Math.ceil((this.#batch * need) / tp));
      this.#rate = Math.max(MIN_RATE, Math.min(this.#rate, (tp * batch) / this.#batch / MARGIN));
      this.#batch = batch;
    } else if (this.#rate < top) {
      this.#rate = Math.min(top, tp / MARGIN);
    } else if (tp > 2 * need && this.#batch > 1) {
      this.#batch--;
    }
    this.#rate = Math.min(this.#rate, top);
    this.#canvas.dataset.batch = String(this.#batch);
    this.#canvas.dataset.rate = this.#rate.toFixed(1);
  }

  #draw() {
    const width = this.#canvas.getBoundingClientRect().width;
    const gap = 2;
    const cell = Math.floor((width - gap * (SIDE - 1)) / SIDE);
    const want = cell * SIDE + gap * (SIDE - 1);
    if (Math.abs(this.#canvas.getBoundingClientRect().height - want) > 0.5) this.#canvas.style.height = `${want}px`;
    const { ctx, width: w, height: hh } = fitCanvas(this.#canvas);
    ctx.clearRect(0, 0, w, hh);
    const paper = cssColor(this.root, '--ll-paper', '#fff');
    const border = cssColor(this.root, '--ll-grid', '#ddd');
    const ink = parseColor(cssColor(this.root, '--ll-ink', '#000'));
    // Until a new seed's first frame is decoded, the last picture stays.
    const frame = this.#shown;
    const images = frame?.images ?? this.#drawn.images;
    for (let i = 0; i < CELLS; i++) {
      const x = (i % SIDE) * (cell + gap);
      const y = Math.floor(i / SIDE) * (cell + gap);
      ctx.fillStyle = paper;
      ctx.fillRect(x, y, cell, cell);
      if (images) paintRow(ctx, images, i, x, y, cell, ink, { shape: this.#shape });
      ctx.strokeStyle = border;
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
    }
    if (frame?.images) {
      // A frame counts once: the first time its point on the path is drawn (a redraw, or
      // the same frame decoded again with new weights, is not a new frame).
      if (frame.index !== this.#drawn.index) {
        this.#frames++;
        const now = performance.now();
        this.#frameTimes.push(now);
        while (this.#frameTimes.length > 2 && now - this.#frameTimes[0] > 2000) this.#frameTimes.shift();
      }
      this.#drawn = { index: frame.index, images };
      this.#canvas.dataset.frames = String(this.#frames);
      this.#canvas.dataset.frame = String(frame.index);
      this.#canvas.dataset.hash = String(hashBytes(new Uint8Array(images.buffer, images.byteOffset, images.byteLength)));
      this.#canvas.setAttribute('aria-label', `${CELLS} ${this.#rows} decoded from random codes`);
    }
    const fps = this.fps;
    this.#canvas.dataset.fps = fps.toFixed(1);
    this.#fpsOut.textContent = this.#playing && this.#visible && fps > 0 ? `${fps.toFixed(fps < 10 ? 1 : 0)} frames/s` : '';
  }
}
