// The training card: start/pause/reset, the model and training settings (validated inline),
// live readouts, and the model file (download / load).

import { h } from './canvas.js';
import { formToSpec, specToForm, describeSpec, LIMITS } from '../util/spec-form.js';
import { formatInt, formatRate, formatSig, formatEpoch, formatCompact } from '../util/format.js';

let uid = 0;
const APPLY_HINT = 'Reset builds a fresh model with these settings.';
const PENDING_HINT = 'Settings changed: press Reset to build and train this model.';

export class TrainingPanel {
  #els = {};
  #fields = {};
  #errors = {};
  #spec = {};
  #training = false;
  #ready = false;

  /**
   * `root`: the element with part="training". `actions`: {start(), stop(), reset(spec),
   * download(), load(file)}; each may return a promise.
   */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    const id = `ll-training-${++uid}`;
    const field = (name, label, input, hint) => {
      input.id = `${id}-${name}`;
      input.name = name;
      const error = h('small', { class: 'field-error', id: `${id}-${name}-error`, 'aria-live': 'polite' });
      input.setAttribute('aria-describedby', error.id);
      this.#fields[name] = input;
      this.#errors[name] = error;
      input.addEventListener('input', () => this.#validate());
      input.addEventListener('change', () => this.#validate());
      const help = hint ? h('small', { class: 'hint', id: `${id}-${name}-hint` }, hint) : null;
      if (help) input.setAttribute('aria-describedby', `${help.id} ${error.id}`);
      return h('div', { class: `field field-${name}` }, h('label', { for: input.id }, label), input, help, error);
    };
    const e = this.#els;
    e.toggle = h('button', { type: 'button', class: 'primary', disabled: true }, 'Start');
    e.reset = h('button', { type: 'button', disabled: true }, 'Reset');
    e.summary = h('p', { class: 'model-summary' }, '…');
    e.download = h('button', { type: 'button', disabled: true }, 'Download weights');
    e.loadButton = h('button', { type: 'button', disabled: true }, 'Load weights…');
    e.file = h('input', { type: 'file', accept: '.safetensors,application/octet-stream', hidden: true, tabindex: '-1' });
    const readout = (key, label) => {
      e[key] = h('dd', { 'data-readout': key }, '–');
      return h('div', {}, h('dt', {}, label), e[key]);
    };
    const kind = h(
      'select',
      {},
      h('option', { value: 'vae' }, 'VAE'),
      h('option', { value: 'ae' }, 'AE'),
    );
    const text = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });
    e.form = h(
      'form',
      { class: 'settings', novalidate: true },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Model and training'),
        field('kind', 'Model', kind, 'variational or plain'),
        field('latent', 'Latent size', text({ inputmode: 'numeric' }), `${LIMITS.latent[0]} to ${LIMITS.latent[1]}`),
        field('hidden', 'Hidden layers', text({ placeholder: '512,256' }), 'widths, e.g. 512,256'),
        field('lr', 'Learning rate', text({ inputmode: 'decimal' }), 'Adam, e.g. 0.001'),
        field('batch', 'Batch size', text({ inputmode: 'numeric' }), `1 to ${LIMITS.batch[1]}`),
        field('beta', 'β (KL weight)', text({ inputmode: 'decimal' }), 'VAE only; 1 = plain VAE'),
        (e.formHint = h('p', { class: 'form-hint', 'aria-live': 'polite' }, APPLY_HINT)),
      ),
    );
    root.replaceChildren(
      h('h2', {}, 'Training'),
      h(
        'p',
        { class: 'explain' },
        'The autoencoder squeezes each 28×28 digit through a small code (the latent vector) and ' +
          'learns to rebuild the digit from it. Each step shows it a batch of digits and nudges its weights to lower the loss.',
      ),
      h('div', { class: 'buttons' }, e.toggle, e.reset),
      e.summary,
      h(
        'dl',
        { class: 'readouts' },
        readout('step', 'Step'),
        readout('epoch', 'Epoch'),
        readout('sps', 'Steps/s'),
        readout('ips', 'Images/s'),
        readout('recon', 'Reconstruction loss'),
        readout('kl', 'KL'),
      ),
      e.form,
      h('div', { class: 'buttons file-buttons' }, e.download, e.loadButton, e.file),
    );
    e.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#reset();
    });
    e.toggle.addEventListener('click', () => (this.#training ? actions.stop() : actions.start()));
    e.reset.addEventListener('click', () => this.#reset());
    e.download.addEventListener('click', () => actions.download());
    e.loadButton.addEventListener('click', () => e.file.click());
    e.file.addEventListener('change', () => {
      const file = e.file.files?.[0];
      e.file.value = '';
      if (file) actions.load(file);
    });
    kind.addEventListener('change', () => this.#syncKind());
  }

  /** Engine info ({spec, parameters, trainSize, …}): fills the form with the model's spec. */
  setModel(info) {
    this.#ready = true;
    this.#spec = JSON.parse(info.spec);
    const values = specToForm(this.#spec);
    for (const [k, v] of Object.entries(values)) this.#fields[k].value = v;
    this.#syncKind();
    this.#validate();
    // The shipped model: say so, since its step counter starts at 0 although it is trained.
    const origin = info.pretrained ? ' · pretrained: Start trains on, Reset starts fresh' : '';
    this.#els.summary.textContent = `${describeSpec(this.#spec)} · ${formatCompact(info.parameters)} parameters · ${formatInt(info.trainSize)} training digits${origin}`;
    for (const b of [this.#els.toggle, this.#els.reset, this.#els.download, this.#els.loadButton]) b.disabled = false;
  }

  setTraining(training) {
    this.#training = training;
    this.#els.toggle.textContent = training ? 'Pause' : 'Start';
    this.#els.toggle.setAttribute('aria-pressed', String(training));
  }

  /** Readouts: {step, samples, trainSize, stepsPerSec, samplesPerSec, recon, kl}. */
  setMetrics(m) {
    const e = this.#els;
    e.step.textContent = formatInt(m.step);
    e.epoch.textContent = formatEpoch(m.step * (this.#spec.batch_size ?? 0), m.trainSize);
    e.sps.textContent = formatRate(m.stepsPerSec);
    e.ips.textContent = formatRate(m.samplesPerSec);
    e.recon.textContent = formatSig(m.recon);
    e.kl.textContent = this.#spec.kind === 'ae' ? 'n/a (AE)' : formatSig(m.kl);
  }

  /** Shows an error from the engine next to the field it names, or returns false. */
  showEngineError(message) {
    const map = { latent: 'latent', hidden: 'hidden', 'optimizer.lr': 'lr', batch_size: 'batch', beta: 'beta' };
    for (const [needle, name] of Object.entries(map)) {
      if (message.includes(`\`${needle}`)) {
        this.#setError(name, message);
        this.#fields[name].focus();
        return true;
      }
    }
    return false;
  }

  #syncKind() {
    const vae = this.#fields.kind.value === 'vae';
    this.#fields.beta.disabled = !vae;
  }

  #form() {
    return Object.fromEntries(Object.entries(this.#fields).map(([k, el]) => [k, el.value]));
  }

  #validate() {
    const { spec, errors } = formToSpec(this.#form(), this.#spec);
    for (const name of Object.keys(this.#fields)) this.#setError(name, errors[name] ?? '');
    const form = this.#form();
    const current = specToForm(this.#spec);
    const pending = Object.keys(current).some((k) => !this.#fields[k].disabled && form[k].trim() !== current[k]);
    this.#els.formHint.textContent = pending ? PENDING_HINT : APPLY_HINT;
    this.#els.formHint.classList.toggle('pending', pending);
    return { spec, errors };
  }

  #setError(name, message) {
    this.#errors[name].textContent = message;
    this.#fields[name].toggleAttribute('aria-invalid', Boolean(message));
    if (message) this.#fields[name].setAttribute('aria-invalid', 'true');
  }

  async #reset() {
    if (!this.#ready) return;
    const { spec, errors } = this.#validate();
    const first = Object.keys(errors)[0];
    if (first) {
      this.#fields[first].focus();
      return;
    }
    this.#els.reset.disabled = true;
    try {
      await this.actions.reset(spec);
    } finally {
      this.#els.reset.disabled = false;
    }
  }
}
