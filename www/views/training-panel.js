// The training card: the model switcher (kind, one sentence about it, and its live
// settings), start/pause/reset, the architecture and training settings (validated inline),
// live readouts, and the model file (download / load).

import { h } from './canvas.js';
import { formToSpec, specToForm, describeSpec, LIMITS } from '../util/spec-form.js';
import { KINDS, SETTINGS, METRICS, kindOf, kindFits, metricField, parseSetting } from '../util/kinds.js';
import { DATASETS } from '../util/datasets.js';
import { describeShape } from '../util/shape.js';
import { formatInt, formatRate, formatSig, formatEpoch, formatCompact } from '../util/format.js';

let uid = 0;
const APPLY_HINT = 'Reset builds a fresh model with these settings.';
const PENDING_HINT = 'Settings changed: press Reset to build and train this model.';
const CSV = '__csv'; // the data select's "your own CSV" entry

/** A CSV file's column names from its first line (quotes removed), for the label picker. */
export function csvColumns(firstLine) {
  const names = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < firstLine.length; i++) {
    const c = firstLine[i];
    if (quoted) {
      if (c === '"' && firstLine[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      names.push(field.trim());
      field = '';
    } else field += c;
  }
  names.push(field.trim().replace(/\r$/, ''));
  return names;
}

/**
 * A kind's sentence (written for the digits) for rows of another data set: "digit" becomes
 * one of its rows ('image', 'row', 'window'), in the singular and the plural, and "pixels"
 * its values where they are not images.
 */
export function sentenceFor(sentence, rows = 'digits') {
  if (!sentence || rows === 'digits') return sentence ?? '';
  const one = rows.replace(/s$/, '');
  const out = sentence.replace(/\bdigits\b/g, rows).replace(/\bdigit\b/g, one);
  return rows === 'images' ? out : out.replace(/\bpixels\b/g, 'values');
}

/** The column most likely to hold labels: one named label, class, target or anomaly. */
export function guessLabel(columns) {
  return columns.find((c) => /^(label|labels|class|target|anomaly|is_anomaly|y)$/i.test(c)) ?? null;
}

export class TrainingPanel {
  #els = {};
  #fields = {};
  #errors = {};
  #spec = {};
  #shape = null; // the model's input shape, from its info
  #training = false;
  #ready = false;
  #live = {}; // the kind's live settings: key → {input, error, wrap}
  #switching = false;
  #data = null; // the data set's entry (www/util/datasets.js)
  #labelled = true; // whether the data has labels (a conditional kind needs them)
  #csvFile = null; // the last CSV picked: reloaded with another label column

  /**
   * `root`: the element with part="training". `actions`: {start(), stop(), reset(spec),
   * download(), load(file), switchKind(id), setLive(spec), switchData(name),
   * loadCsv(file, label)}; each may return a promise (switchData and loadCsv reject with the
   * reason, shown next to the data select).
   * `setLive` rejects with the engine's message when it refuses a setting.
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
    e.kind = h('select', { id: `${id}-kind`, disabled: true }, KINDS.map((k) => h('option', { value: k.id }, k.label)));
    e.data = h(
      'select',
      { id: `${id}-data`, disabled: true },
      Object.entries(DATASETS).map(([name, d]) => h('option', { value: name }, d.label)),
      (e.tableOption = h('option', { value: '', hidden: true }, '')),
      h('option', { value: CSV }, 'Your own CSV file…'),
    );
    e.dataSentence = h('p', { class: 'data-sentence', id: `${id}-data-sentence`, 'aria-live': 'polite' }, '');
    e.data.setAttribute('aria-describedby', e.dataSentence.id);
    e.dataStatus = h('small', { class: 'field-error', 'aria-live': 'polite' });
    e.csv = h('input', { type: 'file', accept: '.csv,text/csv', hidden: true, tabindex: '-1' });
    e.label = h('select', { id: `${id}-label` });
    e.labelField = h('div', { class: 'field field-label', hidden: true }, h('label', { for: e.label.id }, 'Label column'), e.label);
    e.dataBox = h(
      'fieldset',
      { class: 'switcher data-switcher' },
      h('legend', {}, 'Data'),
      h('div', { class: 'field field-data' }, h('label', { for: e.data.id }, 'Data set'), e.data, e.dataStatus),
      e.dataSentence,
      e.labelField,
      e.csv,
    );
    e.kindSentence = h('p', { class: 'kind-sentence', id: `${id}-kind-sentence`, 'aria-live': 'polite' }, '');
    e.kind.setAttribute('aria-describedby', e.kindSentence.id);
    e.kindStatus = h('small', { class: 'field-error', 'aria-live': 'polite' });
    e.liveBox = h('div', { class: 'live-settings' });
    for (const [key, setting] of Object.entries(SETTINGS)) {
      const input =
        setting.type === 'select'
          ? h('select', {}, setting.options.map(([v, label]) => h('option', { value: v }, label)))
          : h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
      input.id = `${id}-live-${key}`;
      const error = h('small', { class: 'field-error', id: `${input.id}-error`, 'aria-live': 'polite' });
      const hint = setting.hint ? h('small', { class: 'hint', id: `${input.id}-hint` }, setting.hint) : null;
      input.setAttribute('aria-describedby', [hint?.id, error.id].filter(Boolean).join(' '));
      const wrap = h('div', { class: `field field-${key}`, hidden: true }, h('label', { for: input.id }, setting.label), input, hint, error);
      input.addEventListener('change', () => this.#applyLive(key));
      if (setting.type !== 'select') {
        input.addEventListener('keydown', (ev) => ev.key === 'Enter' && this.#applyLive(key));
      }
      this.#live[key] = { input, error, wrap };
      e.liveBox.append(wrap);
    }
    e.liveHint = h('p', { class: 'live-hint' }, 'These act on the model at once, even while it trains.');
    e.switcher = h(
      'fieldset',
      { class: 'switcher' },
      h('legend', {}, 'Model'),
      h('div', { class: 'field field-kind' }, h('label', { for: e.kind.id }, 'Model kind'), e.kind, e.kindStatus),
      e.kindSentence,
      e.liveBox,
      e.liveHint,
    );
    const text = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });
    e.form = h(
      'form',
      { class: 'settings', novalidate: true },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Architecture and training'),
        field('latent', 'Latent size', text({ inputmode: 'numeric' }), `${LIMITS.latent[0]} to ${LIMITS.latent[1]}`),
        field('hidden', 'Hidden layers', text({ placeholder: '512,256' }), 'widths, e.g. 512,256'),
        field('lr', 'Learning rate', text({ inputmode: 'decimal' }), 'Adam, e.g. 0.001'),
        field('batch', 'Batch size', text({ inputmode: 'numeric' }), `1 to ${LIMITS.batch[1]}`),
        (e.formHint = h('p', { class: 'form-hint', 'aria-live': 'polite' }, APPLY_HINT)),
      ),
    );
    e.explain = h('p', { class: 'explain' }, '');
    root.replaceChildren(
      h('h2', {}, 'Training'),
      e.explain,
      e.dataBox,
      e.switcher,
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
        (e.extraReadout = readout('kl', 'KL')),
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
    e.kind.addEventListener('change', () => this.#switchKind());
    e.data.addEventListener('change', () => this.#switchData());
    e.csv.addEventListener('change', () => {
      const file = e.csv.files?.[0];
      e.csv.value = '';
      if (file) this.loadCsv(file);
      else this.#showData();
    });
    e.label.addEventListener('change', () => this.#csvFile && this.loadCsv(this.#csvFile, e.label.value || null));
    this.setData(DATASETS.mnist, { type: 'image', channels: 1, height: 28, width: 28 }, 'mnist');
  }

  /**
   * The data set the model trains on: its entry (www/util/datasets.js, or a CSV's), the
   * shape of its rows and its name. The kinds that cannot take them leave the select.
   */
  setData(entry, shape, name, { labelled = true } = {}) {
    const e = this.#els;
    this.#data = { ...entry, name };
    this.#labelled = labelled;
    this.#shape = shape;
    const table = !Object.hasOwn(DATASETS, name);
    e.tableOption.hidden = !table;
    if (table) {
      e.tableOption.value = name;
      e.tableOption.textContent = entry.label;
    }
    if (!this.#switching) e.data.value = name;
    e.dataSentence.textContent = entry.caption;
    e.labelField.hidden = !table;
    const rows = entry.rows;
    e.explain.textContent =
      `The autoencoder squeezes each ${describeShape(shape)} through a small code (the latent vector) and ` +
      `learns to rebuild it from that code. Each step shows it a batch of ${rows} and nudges its weights to lower the loss.`;
    for (const option of e.kind.options) {
      const fits = kindFits(kindOf(option.value), shape, labelled);
      option.hidden = !fits;
      option.disabled = !fits;
    }
    e.ips.previousSibling.textContent = `${rows[0].toUpperCase()}${rows.slice(1)}/s`;
    if (this.#ready) this.#showKind();
  }

  /** Reads a CSV file's header and loads it, labels from `label` (else a guessed column). */
  async loadCsv(file, label) {
    const e = this.#els;
    let columns = [];
    try {
      const head = await file.slice(0, 64 * 1024).text();
      columns = csvColumns(head.split('\n', 1)[0]);
    } catch {
      // The engine reads the file and says what is wrong with it.
    }
    const pick = label === undefined ? guessLabel(columns) : label;
    const load = async () => {
      await this.actions.loadCsv(file, pick);
      this.#csvFile = file;
      const none = h('option', { value: '' }, 'none (no labels)');
      e.label.replaceChildren(none, ...columns.map((c) => h('option', { value: c }, c)));
      e.label.value = pick ?? '';
    };
    await this.#whileSwitching(e.data, e.dataStatus, load, () => this.#showData(), { focus: false });
  }

  // After a data switch: the select shows the data in force, and the kind's sentence speaks
  // of its rows (it was held while the switch ran).
  #showData() {
    if (this.#data) this.#els.data.value = this.#data.name;
    if (this.#ready) this.#showKind();
  }

  async #switchData() {
    const e = this.#els;
    const name = e.data.value;
    if (!this.#ready || name === this.#data?.name) return;
    e.dataStatus.textContent = '';
    if (name === CSV) {
      e.csv.click();
      return;
    }
    e.dataSentence.textContent = DATASETS[name]?.caption ?? '';
    await this.#whileSwitching(e.data, e.dataStatus, () => this.actions.switchData(name), () => {
      this.#showData();
      if (this.#data) e.dataSentence.textContent = this.#data.caption;
    });
  }

  /** 'full' (everything) or 'minimal' (start, pause, reset and the kind's live settings). */
  setMode(mode) {
    this.root.classList.toggle('minimal', mode === 'minimal');
  }

  /** The model's one-line summary (again when the training digits arrive). */
  setSummary(info) {
    // The shipped model: say so, since its step counter starts at 0 although it is trained.
    const origin = info.pretrained ? ' · pretrained: Start trains on, Reset starts fresh' : '';
    // The data is fetched when first needed (a view that shows it, or training).
    const digits = info.trainSize > 0 ? ` · ${formatInt(info.trainSize)} training ${this.#data?.rows ?? 'rows'}` : '';
    this.#shape = info.shape;
    this.#els.summary.textContent = `${describeSpec(this.#spec, info.shape)} · ${formatCompact(info.parameters)} parameters${digits}${origin}`;
  }

  /** Engine info ({spec, parameters, trainSize, …}): fills the form with the model's spec. */
  setModel(info) {
    this.#ready = true;
    this.#spec = JSON.parse(info.spec);
    const values = specToForm(this.#spec);
    for (const [k, v] of Object.entries(values)) this.#fields[k].value = v;
    this.#showKind();
    this.#validate();
    this.setSummary(info);
    for (const b of [this.#els.toggle, this.#els.reset, this.#els.download, this.#els.loadButton, this.#els.kind, this.#els.data]) b.disabled = false;
  }

  /** The running model's spec after a live change (β, noise, sparsity): same model, same step. */
  setLiveSpec(specJson) {
    this.#spec = JSON.parse(specJson);
    this.#showKind();
    const summary = this.#els.summary.textContent.split(' · ');
    summary[0] = describeSpec(this.#spec, this.#shape);
    this.#els.summary.textContent = summary.join(' · ');
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
    // The kind's second metric (KL, sparsity penalty), if it has one.
    const extra = (kindOf(this.#spec.kind)?.metrics ?? []).find((k) => k !== 'recon');
    e.extraReadout.hidden = !extra;
    if (extra) {
      e.extraReadout.firstChild.textContent = METRICS[extra].readout;
      e.kl.dataset.metric = extra;
      e.kl.textContent = formatSig(m[metricField(extra)]);
    }
  }

  /** Shows an error from the engine next to the field it names, or returns false. */
  showEngineError(message) {
    const map = { latent: 'latent', hidden: 'hidden', 'optimizer.lr': 'lr', batch_size: 'batch' };
    for (const [needle, name] of Object.entries(map)) {
      if (message.includes(`\`${needle}`)) {
        this.#setError(name, message);
        this.#fields[name].focus();
        return true;
      }
    }
    for (const [key, setting] of Object.entries(SETTINGS)) {
      if (message.includes(`\`${setting.field}`) && !this.#live[key].wrap.hidden) {
        this.#live[key].error.textContent = message;
        this.#live[key].input.setAttribute('aria-invalid', 'true');
        this.#live[key].input.focus();
        return true;
      }
    }
    return false;
  }

  // The switcher shows the model's kind, its sentence and its live settings' values.
  #showKind() {
    const kind = kindOf(this.#spec.kind);
    const e = this.#els;
    // While a switch is under way the select and the sentence show the kind asked for.
    if (!this.#switching) {
      e.kind.value = kind ? kind.id : '';
      e.kindSentence.textContent = sentenceFor(kind?.sentence, this.#data?.rows);
    }
    const shown = new Set(kind?.settings ?? []);
    for (const [key, { input, error, wrap }] of Object.entries(this.#live)) {
      wrap.hidden = !shown.has(key);
      // A field being edited keeps its text until it is applied.
      if (this.root.getRootNode().activeElement !== input || input.tagName === 'SELECT') {
        input.value = String(SETTINGS[key].get(this.#spec));
        error.textContent = '';
        input.removeAttribute('aria-invalid');
      }
    }
    e.liveHint.hidden = shown.size === 0;
  }

  async #switchKind() {
    const e = this.#els;
    const id = e.kind.value;
    if (!this.#ready || id === this.#spec.kind) return;
    e.kindSentence.textContent = sentenceFor(kindOf(id)?.sentence, this.#data?.rows);
    await this.#whileSwitching(e.kind, e.kindStatus, () => this.actions.switchKind(id), () => this.#showKind());
  }

  // Runs a switch from `select` (kind, data): the select is disabled and keeps showing what
  // was asked for meanwhile; a refusal goes to `status`; `after` shows the outcome.
  async #whileSwitching(select, status, action, after, { focus = true } = {}) {
    status.textContent = '';
    this.#switching = true;
    select.disabled = true;
    try {
      await action();
    } catch (err) {
      status.textContent = err.message;
    } finally {
      this.#switching = false;
      select.disabled = false;
      after();
      if (focus) select.focus();
    }
  }

  async #applyLive(key) {
    if (!this.#ready) return;
    const { input, error } = this.#live[key];
    const result = parseSetting(key, input.value, this.#spec);
    error.textContent = result.error ?? '';
    input.toggleAttribute('aria-invalid', Boolean(result.error));
    if (result.error) return;
    if (String(SETTINGS[key].get(this.#spec)) === String(result.value)) return;
    try {
      await this.actions.setLive(SETTINGS[key].set(this.#spec, result.value));
    } catch (err) {
      error.textContent = err.message;
      input.setAttribute('aria-invalid', 'true');
    }
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
