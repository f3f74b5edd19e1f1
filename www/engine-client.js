// The page's side of the engine worker's protocol (www/protocol.js: the request types both
// sides share). A page
// has one engine Worker however many widgets it holds: `engineModel()` gives each widget its
// own model in the page's engine (an `EngineModel`), starting the Worker with the first.
//
// `model.request(type, args)` returns a promise of the reply (with `{timed: true}`: of
// `{result, ms}`, `ms` the engine's time for an inference call); the worker's events about
// that model are re-dispatched on it as DOM events ('ready', 'metrics', 'state', 'error',
// 'checkpoint', 'rollback'), and 'crash' on every model, each with the message as `detail`.
//
// A 'crash' (the engine died) ends the worker at once: every pending request rejects with
// the crash's message (an EngineError with `crashed: true`), and so does every later one.
// Starting another engine is the caller's choice (the element does, from its last
// checkpoint): the next `engineModel()` starts a new Worker, which the other widgets of the
// page then share too. When the last model closes, the Worker ends.

import { checkRequest } from './protocol.js';

let shared = null; // the page's EngineClient while it lives
let modelCount = 0;

/** A new model in the page's engine (the Worker starts with the first; may throw if a Worker cannot be constructed). */
export function engineModel() {
  if (shared === null || shared.dead) shared = new EngineClient();
  return shared.model(`m${++modelCount}`);
}


export class EngineClient extends EventTarget {
  #worker;
  #next = 1;
  #pending = new Map();
  #models = new Map(); // id → EngineModel
  #dead = null; // the message once the engine has crashed or been stopped

  constructor(workerUrl = new URL('./engine-worker.js', import.meta.url)) {
    super();
    this.#worker = startWorker(workerUrl);
    this.#worker.onmessage = (e) => this.#receive(e.data);
    // A worker that fails to load (a syntax error, a missing wasm file) fails every request.
    this.#worker.onerror = (e) => {
      e.preventDefault?.();
      this.#failAll(`the engine worker failed: ${e.message || 'it could not be loaded'}`);
    };
    this.#worker.onmessageerror = () => this.#failAll('a message from the engine could not be read');
  }

  get dead() {
    return this.#dead !== null;
  }

  /** A model of this engine, named `id` in the protocol (opened by its 'open' request). */
  model(id) {
    const m = new EngineModel(this, id, () => this.#release(id));
    this.#models.set(id, m);
    return m;
  }

  // A model closed: the worker ends with the last.
  #release(id) {
    if (!this.#models.delete(id) || this.#models.size > 0 || this.#dead !== null) return;
    this.terminate();
    if (shared === this) shared = null;
  }

  /** Sends a request; `transfer` lists buffers handed over to the worker. */
  request(type, args = {}, transfer = [], { timed = false } = {}) {
    const id = this.#next++;
    if (this.#dead !== null) return Promise.reject(new EngineError(this.#dead, type, true));
    try {
      checkRequest(type);
    } catch (e) {
      return Promise.reject(new EngineError(e.message, type));
    }
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, type, timed });
      try {
        this.#worker.postMessage({ id, type, ...args }, transfer);
      } catch (e) {
        this.#pending.delete(id);
        reject(e);
      }
    });
  }

  terminate() {
    this.#worker.terminate();
    this.#failAll('the engine was stopped');
    this.#dead ??= 'the engine was stopped';
  }

  #receive(msg) {
    if (msg?.type === 'crash' && msg.id === undefined) {
      this.#dead = msg.message;
      this.#worker.terminate();
      for (const { reject, type } of this.#pending.values()) reject(new EngineError(msg.message, type, true));
      this.#pending.clear();
      this.dispatchEvent(new CustomEvent('crash', { detail: msg }));
      for (const m of [...this.#models.values()]) m.dispatchEvent(new CustomEvent('crash', { detail: msg }));
      return;
    }
    if (msg && msg.id !== undefined && this.#pending.has(msg.id)) {
      const { resolve, reject, type, timed } = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (msg.ok) resolve(timed ? { result: msg.result, ms: msg.ms } : msg.result);
      else reject(new EngineError(msg.error, type));
      return;
    }
    if (msg && typeof msg.type === 'string') {
      // About one model, or (a policy violation) about the engine: every model hears it.
      const targets = msg.model !== undefined ? [this.#models.get(msg.model)].filter(Boolean) : [this, ...this.#models.values()];
      for (const t of targets) t.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    }
  }

  #failAll(message) {
    for (const { reject, type } of this.#pending.values()) reject(new EngineError(message, type));
    this.#pending.clear();
    const detail = { type: 'error', message, fatal: true };
    for (const t of [this, ...this.#models.values()]) t.dispatchEvent(new CustomEvent('error', { detail }));
  }
}

/** One widget's model in the page's engine: requests name it; events about it arrive here. */
export class EngineModel extends EventTarget {
  #client;
  #release;
  #closed = false;

  constructor(client, id, release) {
    super();
    this.#client = client;
    this.id = id;
    this.#release = release;
  }

  request(type, args = {}, transfer = [], options = {}) {
    if (this.#closed) return Promise.reject(new EngineError('the model was closed', type));
    return this.#client.request(type, { ...args, model: this.id }, transfer, options);
  }

  /** Closes the model (the engine frees it); the Worker ends with the page's last model. */
  terminate() {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#client.dead) this.#client.request('close', { model: this.id }).catch(() => {});
    this.#release();
  }
}

/**
 * The engine's module Worker. A page may load the lab from another origin (a CDN, the lab's
 * own site), and a Worker cannot be started from another origin's URL: then it starts from a
 * same-origin blob that imports the worker module — which keeps its own URL, so everything
 * it fetches is still resolved from where the lab was loaded (that host must send CORS
 * headers, as CDNs do; a page with a Content-Security-Policy must allow `worker-src blob:`
 * and the lab's origin in `script-src`).
 */
function startWorker(url) {
  const options = { type: 'module', name: 'latent-lab-engine' };
  const href = new URL(url, globalThis.location?.href).href;
  if (new URL(href).origin === globalThis.location?.origin) return new Worker(href, options);
  const blob = URL.createObjectURL(new Blob([`import ${JSON.stringify(href)};\n`], { type: 'text/javascript' }));
  const worker = new Worker(blob, options);
  // The blob is read once, when the worker starts: its URL can go with the first message.
  worker.addEventListener('message', () => URL.revokeObjectURL(blob), { once: true });
  worker.addEventListener('error', () => URL.revokeObjectURL(blob), { once: true });
  return worker;
}

/** An error the engine reported, with the request that failed; `crashed` when the engine died. */
export class EngineError extends Error {
  constructor(message, request, crashed = false) {
    super(message);
    this.name = 'EngineError';
    this.request = request;
    this.crashed = crashed;
  }
}
