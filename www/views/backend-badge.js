// The badge that says which engine runs: "WebGPU · adapter" or "CPU · why not WebGPU".

import { h } from './canvas.js';

export class BackendBadge {
  #label;
  #detail;

  /** `root`: the element with part="backend". */
  constructor(root) {
    this.root = root;
    root.classList.add('badge');
    root.setAttribute('role', 'status');
    this.#label = h('strong', {}, 'Starting');
    this.#detail = h('span', { class: 'detail' }, 'loading the engine…');
    root.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), this.#label, ' · ', this.#detail);
    root.dataset.backend = 'loading';
  }

  /** `backend`: 'webgpu' | 'cpu'; `adapter`: the adapter's name or why WebGPU is not used. */
  set(backend, adapter) {
    this.root.dataset.backend = backend;
    this.#label.textContent = backend === 'webgpu' ? 'WebGPU' : 'CPU';
    this.#detail.textContent = adapter;
    this.root.title =
      backend === 'webgpu'
        ? `Training runs on the GPU through WebGPU (${adapter}).`
        : `Training runs on the CPU in WebAssembly: ${adapter}.`;
  }

  failed(message) {
    this.root.dataset.backend = 'failed';
    this.#label.textContent = 'Engine failed';
    this.#detail.textContent = message;
  }
}
