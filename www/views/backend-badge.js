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

  /**
   * `backend`: 'webgpu' | 'cpu'; `adapter`: the adapter's name or why WebGPU is not used.
   * `other`: a button that moves the model to the other backend ({label, run}), or null.
   */
  set(backend, adapter, other = null) {
    this.root.dataset.backend = backend;
    this.#label.textContent = backend === 'webgpu' ? 'WebGPU' : 'CPU';
    this.#detail.textContent = adapter;
    this.root.title =
      backend === 'webgpu'
        ? `Training runs on the GPU through WebGPU (${adapter}).`
        : `Training runs on the CPU in WebAssembly: ${adapter}.`;
    this.root.querySelector('button.switch')?.remove();
    if (other) {
      const button = h('button', { type: 'button', class: 'switch' }, other.label);
      button.addEventListener('click', () => {
        button.disabled = true;
        other.run();
      });
      this.root.append(button);
    }
  }

  failed(message) {
    this.root.dataset.backend = 'failed';
    this.#label.textContent = 'Engine failed';
    this.#detail.textContent = message;
  }
}
