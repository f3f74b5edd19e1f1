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
    this.#worker = new Worker(workerUrl, { type: 'module', name: 'latent-lab-engine' });
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

/** An error the engine reported, with the request that failed; `crashed` when the engine died. */
export class EngineError extends Error {
  constructor(message, request, crashed = false) {
    super(message);
    this.name = 'EngineError';
    this.request = request;
    this.crashed = crashed;
  }
}
