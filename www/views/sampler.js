// The sampler: a grid of digits decoded from random codes z ~ N(0, I). Each cell's code
// glides from one random draw to the next by spherical interpolation, so the grid morphs
// continuously and shows what lies between the digits the decoder knows.

import { fitCanvas, cssColor, redrawLoop, h } from './canvas.js';
import { paintDigit, parseColor } from './digit-tile.js';
import { normal, draw, slerp, ease, hashBytes } from '../util/random.js';

const SIDE = 6; // cells per row and column
const CELLS = SIDE * SIDE;

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
  #images = null;
  #playing = !matchMedia('(prefers-reduced-motion: reduce)').matches;
  #visible = false;
  #busy = false;
  #last = null; // time of the previous animation frame
  #frames = 0;
  #frameTimes = [];
  #raf = 0;
  #observer;
  #note;

  /** `root`: the element with part="sampler". `decode(z, n)` → Promise<images n×784>. */
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
      h(
        'p',
        { class: 'explain' },
        'Digits decoded from random codes drawn from N(0,\u00a01), the distribution a VAE is trained to fill. ' +
          'Each code drifts smoothly to the next, so you see what lies between the digits; a good generative model shows digits all the way.',
      ),
      (this.#note = h(
        'p',
        { class: 'explain', hidden: true },
        'This is a plain AE: nothing pushed its codes towards N(0,\u00a01), so many of these codes fall where no digit was ever encoded. Compare with a VAE.',
      )),
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
      this.#kick();
    });
    this.#observer.observe(this.#canvas);
  }

  get frames() {
    return this.#frames;
  }

  /** Decoded frames per second over the last two seconds. */
  get fps() {
    const t = this.#frameTimes;
    if (t.length < 2) return 0;
    return ((t.length - 1) * 1000) / (t[t.length - 1] - t[0]);
  }

  /** A new model with `latent` code numbers: fresh codes. */
  setLatent(latent, kind = 'vae') {
    this.#latent = latent;
    this.#note.hidden = kind !== 'ae';
    this.reseed(this.#seed);
  }

  reseed(seed) {
    this.#seed = seed;
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
    this.#observer.disconnect();
    this.#loop.dispose();
  }

  // One animation frame is scheduled at a time, and one decode is in flight at a time: a
  // frame that finds the engine busy only advances the clock.
  #kick(once = false) {
    if (this.#raf || !this.#latent) return;
    if (!(this.#playing && this.#visible) && !once) return;
    this.#raf = requestAnimationFrame((now) => this.#frame(now, once));
  }

  #frame(now, once) {
    this.#raf = 0;
    if (!this.root.isConnected) return;
    const running = this.#playing && this.#visible;
    if (running && this.#last !== null) {
      const dt = Math.min(0.1, (now - this.#last) / 1000);
      const speed = Number(this.#speed.value);
      for (let i = 0; i < CELLS; i++) {
        this.#t[i] += dt * speed;
        if (this.#t[i] >= 1) {
          this.#t[i] -= 1;
          this.#from[i] = this.#to[i];
          this.#to[i] = draw(this.#gen, this.#latent);
        }
      }
    }
    this.#last = running ? now : null;
    if (!this.#busy) this.#request();
    if (running) this.#kick();
    else if (once) this.#last = null;
  }

  async #request() {
    const Z = this.#latent;
    const z = new Float32Array(CELLS * Z);
    const cell = new Float32Array(Z);
    for (let i = 0; i < CELLS; i++) {
      slerp(this.#from[i], this.#to[i], ease(this.#t[i]), cell);
      z.set(cell, i * Z);
    }
    this.#busy = true;
    try {
      const images = await this.#decode(z, CELLS);
      if (Z !== this.#latent) return; // the model changed meanwhile
      this.#images = images;
      this.#frames++;
      const now = performance.now();
      this.#frameTimes.push(now);
      while (this.#frameTimes.length > 2 && now - this.#frameTimes[0] > 2000) this.#frameTimes.shift();
      this.#loop.schedule();
    } catch {
      // The element reports engine errors; the next frame tries again.
    } finally {
      this.#busy = false;
    }
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
    for (let i = 0; i < CELLS; i++) {
      const x = (i % SIDE) * (cell + gap);
      const y = Math.floor(i / SIDE) * (cell + gap);
      ctx.fillStyle = paper;
      ctx.fillRect(x, y, cell, cell);
      if (this.#images) paintDigit(ctx, this.#images, i, x, y, cell, ink);
      ctx.strokeStyle = border;
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
    }
    if (this.#images) {
      this.#canvas.dataset.frames = String(this.#frames);
      this.#canvas.dataset.hash = String(hashBytes(new Uint8Array(this.#images.buffer, this.#images.byteOffset, this.#images.byteLength)));
      this.#canvas.setAttribute('aria-label', `${CELLS} digits decoded from random codes`);
    }
    const fps = this.fps;
    this.#canvas.dataset.fps = fps.toFixed(1);
    this.#fpsOut.textContent = this.#playing && this.#visible && fps > 0 ? `${fps.toFixed(fps < 10 ? 1 : 0)} frames/s` : '';
  }
}
