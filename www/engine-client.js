// The page's side of the engine worker's protocol (documented in engine-worker.js):
// `request(type, args)` returns a promise of the reply (with `{timed: true}`: of `{result,
// ms}`, `ms` the engine's time for an inference call); worker events are re-dispatched as
// DOM events ('ready', 'metrics', 'state', 'error', 'checkpoint', 'rollback', 'crash')
// whose `detail` is the message.
//
// A 'crash' (the engine died) ends the worker at once: every pending request rejects with
// the crash's message (an EngineError with `crashed: true`), and so does every later one.
// Starting another engine is the caller's choice (the element does, from its last
// checkpoint).

export class EngineClient extends EventTarget {
  #worker;
  #next = 1;
  #pending = new Map();
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

  /** Sends a request; `transfer` lists buffers handed over to the worker. */
  request(type, args = {}, transfer = [], { timed = false } = {}) {
    const id = this.#next++;
    if (this.#dead !== null) return Promise.reject(new EngineError(this.#dead, type, true));
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
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
    }
  }

  #failAll(message) {
    for (const { reject, type } of this.#pending.values()) reject(new EngineError(message, type));
    this.#pending.clear();
    this.dispatchEvent(new CustomEvent('error', { detail: { type: 'error', message, fatal: true } }));
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
