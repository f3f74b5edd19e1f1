// The shadow DOM stylesheet of <latent-lab>. Colours are custom properties, so a page can
// restyle the element from outside: latent-lab { --ll-accent: teal; }.

// The dark palette, for theme="dark" and for readers who prefer dark (unless theme="light").
const DARK = `
--ll-bg: #111317;
--ll-card: #1b1e24;
--ll-text: #e7e9ee;
--ll-muted: #a0a7b4;
--ll-border: #353a44;
--ll-grid: #2a2f38;
--ll-accent: #7ea2ff;
--ll-accent-text: #0b1020;
--ll-recon: #7ea2ff;
--ll-kl: #f27aa8;
--ll-ink: #f4f6fa;
--ll-paper: #000000;
--ll-error-bg: #3a1d20;
--ll-error: #ff9b9b;
--ll-info-bg: #1b2a44;
--ll-ok: #56d364;
--ll-warn: #e3b341;
  color-scheme: dark;
`;

export const styles = `
:host {
  --ll-bg: #f6f7f9;
  --ll-card: #ffffff;
  --ll-text: #1c1f24;
  --ll-muted: #5b6270;
  --ll-border: #d9dde3;
  --ll-grid: #e6e9ee;
  --ll-accent: #2f5bd3;
  --ll-accent-text: #ffffff;
  --ll-recon: #2f5bd3;
  --ll-kl: #c2336b;
  --ll-ink: #111418;
  --ll-paper: #ffffff;
  --ll-error-bg: #fdecec;
  --ll-error: #a4161a;
  --ll-info-bg: #e8f1fd;
  --ll-ok: #1a7f37;
  --ll-warn: #9a6700;
  --ll-radius: 10px;
  display: block;
  box-sizing: border-box;
  color: var(--ll-text);
  background: var(--ll-bg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  container-type: inline-size;
}
/* theme="dark", or the reader's preference unless theme="light". */
:host([theme="dark" i]) { ${DARK} }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light" i])) { ${DARK} }
}
:host([theme="light" i]) { color-scheme: light; }
*, *::before, *::after { box-sizing: inherit; }
[hidden] { display: none !important; }
.lab { position: relative; padding: 12px; }
.top { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px; }

.badge {
  display: inline-flex; align-items: baseline; gap: 6px; flex-wrap: wrap;
  padding: 4px 12px; border-radius: 16px; border: 1px solid var(--ll-border);
  background: var(--ll-card); font-size: 0.9em; max-width: 100%;
}
.badge .dot {
  width: 9px; height: 9px; border-radius: 50%; background: var(--ll-muted);
  align-self: center; flex: none;
}
.badge[data-backend="webgpu"] .dot { background: var(--ll-ok); }
.badge[data-backend="cpu"] .dot { background: var(--ll-warn); }
.badge[data-backend="failed"] .dot { background: var(--ll-error); }
.badge .detail { color: var(--ll-muted); overflow-wrap: anywhere; }
.badge button.switch {
  font: inherit; font-size: 0.95em; color: var(--ll-accent); background: none; border: none;
  padding: 0 0 0 4px; cursor: pointer; text-decoration: underline; text-underline-offset: 2px;
}
.badge button.switch:disabled { color: var(--ll-muted); cursor: default; }

.messages { display: grid; gap: 8px; margin-bottom: 12px; }
.messages:empty { display: none; }
.message {
  display: flex; gap: 12px; align-items: flex-start; justify-content: space-between;
  padding: 8px 8px 8px 14px; border-radius: var(--ll-radius);
  background: var(--ll-error-bg); color: var(--ll-error); border: 1px solid currentColor;
}
.message.info { background: var(--ll-info-bg); color: var(--ll-text); border-color: var(--ll-border); }
.message .text { overflow-wrap: anywhere; padding-top: 2px; }
.message .close {
  flex: none; border: none; background: transparent; color: inherit; font-size: 1.3em;
  line-height: 1; padding: 2px 8px; min-height: 0;
}

.data-note { margin: 0 0 12px; color: var(--ll-muted); font-size: 0.92em; }

.grid {
  display: grid; gap: 12px; align-items: start;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 21rem), 1fr));
}
.card {
  background: var(--ll-card); border: 1px solid var(--ll-border); border-radius: var(--ll-radius);
  padding: 14px 16px 16px; min-width: 0;
}
.card h2 { margin: 0 0 4px; font-size: 1.1em; }
.explain { margin: 0 0 12px; color: var(--ll-muted); font-size: 0.92em; }
/* views: the parts not listed; captions="off": the explanatory sentences. */
.off { display: none !important; }
.no-captions .explain, .no-captions .kind-sentence, .no-captions .data-sentence, .no-captions .live-hint { display: none !important; }
/* One or two cards (a lesson's widget) take the width they are given. */
.grid.few { grid-template-columns: repeat(auto-fit, minmax(min(100%, 21rem), 1fr)); }
/* controls="minimal": start, pause, reset and the kind's live settings. */
.card.minimal .field-kind, .card.minimal .settings, .card.minimal .file-buttons,
.card.minimal .model-summary, .card.minimal .readouts > div:has([data-readout="epoch"]),
.card.minimal .readouts > div:has([data-readout="ips"]) { display: none; }
.card.minimal .switcher:not(:has(.live-settings > :not([hidden]))) { display: none; }
.top .share-button { margin-left: auto; }
.share { margin-bottom: 12px; background: var(--ll-card); border: 1px solid var(--ll-border); border-radius: var(--ll-radius); padding: 14px 16px; }
.share h2 { margin: 0 0 4px; font-size: 1.1em; }
.share .snippet { margin: 10px 0 0; }
.share .snippet-head { display: flex; justify-content: space-between; align-items: center; gap: 8px; margin-bottom: 4px; }
.share label { font-weight: 600; font-size: 0.92em; }
.share textarea {
  display: block; width: 100%; resize: vertical; font: 0.85em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: var(--ll-text); background: var(--ll-bg); border: 1px solid var(--ll-border); border-radius: 8px; padding: 8px;
}
.share .copied { color: var(--ll-ok); font-size: 0.85em; }

button {
  font: inherit; color: var(--ll-text); background: var(--ll-card);
  border: 1px solid var(--ll-border); border-radius: 8px; padding: 6px 14px; min-height: 36px;
  cursor: pointer;
}
button:hover:not(:disabled) { border-color: var(--ll-accent); }
button.primary { background: var(--ll-accent); color: var(--ll-accent-text); border-color: var(--ll-accent); min-width: 6.5em; }
button:disabled { opacity: 0.55; cursor: default; }
:focus-visible { outline: 2px solid var(--ll-accent); outline-offset: 2px; }
.buttons { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 10px; }
.file-buttons { margin: 12px 0 0; }
.model-summary { margin: 0 0 8px; font-size: 0.9em; color: var(--ll-muted); }

.readouts {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: 6px 12px;
  margin: 0 0 12px;
}
.readouts div { min-width: 0; }
.readouts dt { font-size: 0.8em; color: var(--ll-muted); }
.readouts dd { margin: 0; font-variant-numeric: tabular-nums; font-size: 1.05em; font-weight: 600; }

fieldset { border: 1px solid var(--ll-border); border-radius: 8px; margin: 0; padding: 8px 12px 10px; min-width: 0; }
legend { padding: 0 4px; font-size: 0.9em; color: var(--ll-muted); }
.settings fieldset { display: grid; grid-template-columns: repeat(auto-fill, minmax(8rem, 1fr)); gap: 6px 12px; }
.field { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.field label { font-size: 0.85em; }
.field .hint { color: var(--ll-muted); font-size: 0.78em; }
.form-hint { grid-column: 1 / -1; margin: 2px 0 0; font-size: 0.82em; color: var(--ll-muted); }
.form-hint.pending { color: var(--ll-text); font-weight: 600; }
input, select {
  font: inherit; color: var(--ll-text); background: var(--ll-bg);
  border: 1px solid var(--ll-border); border-radius: 6px; padding: 5px 8px; min-height: 34px; width: 100%;
}
input:disabled { opacity: 0.5; }
input[aria-invalid="true"] { border-color: var(--ll-error); }
.field-error { color: var(--ll-error); font-size: 0.8em; min-height: 0; }
.field-error:empty { display: none; }

.legend { display: flex; gap: 14px; font-size: 0.85em; margin-bottom: 6px; }
.key::before {
  content: ""; display: inline-block; width: 14px; height: 3px; border-radius: 2px;
  vertical-align: middle; margin-right: 6px; background: var(--ll-recon);
}
.key.kl::before, .key.penalty::before { background: var(--ll-kl); }
.key.bars::before { height: 10px; width: 10px; border-radius: 1px; }
.key.drawn::before { width: 3px; height: 10px; background: var(--ll-ok); }
.plot-box { position: relative; }
canvas.plot { display: block; width: 100%; aspect-ratio: 16 / 10; }
.plot-empty {
  position: absolute; inset: 0; margin: 0; display: grid; place-items: center;
  color: var(--ll-muted); font-size: 0.9em; text-align: center; padding: 12px;
}
canvas.digits { display: block; width: 100%; height: 120px; }
.digits-status { margin: 8px 0 0; font-size: 0.85em; color: var(--ll-muted); }

.pad-row { display: flex; gap: 12px; align-items: flex-start; }
.pad-box { position: relative; flex: 1 1 auto; min-width: 0; max-width: 300px; }
canvas.pad-canvas {
  display: block; width: 100%; aspect-ratio: 1; touch-action: none; cursor: crosshair;
  border: 1px solid var(--ll-border); border-radius: 8px; user-select: none; -webkit-user-select: none;
}
.pad-hint {
  position: absolute; inset: 0; margin: 0; display: grid; place-items: center;
  color: var(--ll-muted); pointer-events: none; font-size: 0.95em;
}
.pad-side { flex: 0 0 auto; display: flex; flex-direction: column; gap: 8px; width: 92px; }
.pad-side figure { margin: 0; }
.pad-side figcaption { font-size: 0.8em; color: var(--ll-muted); }
canvas.digit-canvas { display: block; width: 100%; aspect-ratio: 1; image-rendering: pixelated; }
.pad-readouts { grid-template-columns: 1fr; margin: 0; }
.pad-buttons { margin: 10px 0 0; }

.map-box { position: relative; }
canvas.map { display: block; width: 100%; aspect-ratio: 1; touch-action: pan-y pinch-zoom; cursor: crosshair; }
.map-legend {
  list-style: none; display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 8px 0 4px; padding: 0;
  font-size: 0.85em; font-variant-numeric: tabular-nums;
}
.map-legend li::before {
  content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  background: var(--swatch); margin-right: 5px; vertical-align: -1px;
}
.map-controls { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
.map-note { margin: 0; font-size: 0.85em; color: var(--ll-muted); }
label.check { display: inline-flex; gap: 6px; align-items: center; font-size: 0.9em; cursor: pointer; }
label.check input { width: auto; min-height: 0; }

canvas.sampler { display: block; width: 100%; height: 300px; }
.sampler-controls { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin-top: 10px; }
.sampler-controls .speed { display: inline-flex; gap: 6px; align-items: center; font-size: 0.9em; }
.sampler-controls input[type="range"] { width: 7rem; min-height: 0; padding: 0; background: transparent; border: none; }
.fps { font-size: 0.85em; color: var(--ll-muted); font-variant-numeric: tabular-nums; }

.card.wide { grid-column: 1 / -1; }
/* Three columns (the grid is the element less .lab's 2 × 12px padding): a kind's own card
   makes seven cards before the interpolation, so the sampler would sit alone in the third
   row; the interpolation takes the two columns beside it instead of a row of its own. */
@container (min-width: calc(63rem + 48px)) and (max-width: calc(84rem + 60px - 1px)) {
  .grid:has(> .kind:not([hidden])) > .card.wide { grid-column: span 2; }
}
.ends { display: grid; grid-template-columns: repeat(2, minmax(0, 14rem)); gap: 8px 12px; margin-bottom: 10px; }
canvas.strip { display: block; width: 100%; height: 60px; }
.morph-row { display: flex; gap: 16px; align-items: center; margin-top: 12px; }
.morph-row .explain { margin: 0 0 8px; }
canvas.morph { width: 112px; height: 112px; flex: none; border: 1px solid var(--ll-grid); border-radius: 4px; }

.drop {
  position: absolute; inset: 0; display: grid; place-items: center; z-index: 2;
  background: color-mix(in srgb, var(--ll-bg) 80%, transparent);
  border: 3px dashed var(--ll-accent); border-radius: var(--ll-radius);
  font-size: 1.2em; font-weight: 600; pointer-events: none;
}
/* The model switcher (training card). */
.switcher { margin: 0 0 12px; display: grid; gap: 4px 12px; }
.switcher .field-kind select { max-width: 20rem; }
.kind-sentence, .data-sentence { margin: 2px 0 4px; font-size: 0.9em; }
.live-settings { display: grid; grid-template-columns: repeat(auto-fill, minmax(8rem, 1fr)); gap: 6px 12px; }
.live-settings:not(:has(.field:not([hidden]))) { display: none; }
.live-hint { margin: 0; font-size: 0.82em; color: var(--ll-muted); }

.beta-slider input[type="range"], .slider-row input[type="range"] {
  min-height: 0; padding: 0; background: transparent; border: none; accent-color: var(--ll-accent);
}
.beta-value, .noise-value { font-variant-numeric: tabular-nums; font-weight: 600; white-space: nowrap; }

/* β-VAE view. */
.beta-control { display: flex; gap: 10px; align-items: flex-start; margin-bottom: 10px; }
.beta-control > label { font-weight: 600; padding-top: 2px; }
.beta-slider { flex: 1 1 auto; min-width: 0; }
.beta-slider input { display: block; width: 100%; margin: 4px 0 2px; }
.beta-scale { display: flex; justify-content: space-between; font-size: 0.75em; color: var(--ll-muted); font-variant-numeric: tabular-nums; }
.beta-scale span { width: 0; display: flex; flex-direction: column; align-items: center; white-space: nowrap; }
.beta-scale span::before {
  content: ""; display: block; width: 8px; height: 8px; border-radius: 50%;
  background: var(--swatch); margin: 1px 0 1px; flex: none;
}
.beta-slider .beta-scale { padding: 0 8px; }
.beta-value { min-width: 4.5em; padding-top: 2px; }
.beta-value::before {
  content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  background: var(--swatch, var(--ll-accent)); margin-right: 5px; vertical-align: -1px;
}
canvas.beta-canvas { aspect-ratio: 4 / 3; }

/* Denoising view. */
.noise-controls { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end; margin-bottom: 10px; }
.noise-controls > .field:first-child { flex: 0 1 10rem; }
.noise-controls .noise-amount { flex: 1 1 12rem; }
.slider-row { display: flex; gap: 8px; align-items: center; min-height: 34px; }
.slider-row input { flex: 1 1 auto; min-width: 4rem; }
.noise-value { min-width: 6.5em; font-size: 0.9em; }
canvas.denoise-canvas { display: block; width: 100%; height: 160px; }
.denoise-readouts, .sparsity-readouts { margin: 10px 0 0; }
.sparsity-readouts { grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); }

/* Sparse-code view. */
canvas.sparsity-canvas { aspect-ratio: 4 / 3; }

/* Contractive view. */
canvas.contractive-canvas { aspect-ratio: 16 / 11; margin-top: 4px; }
.contractive-readouts { margin: 10px 0 0; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); }
.key.dot::before { width: 7px; height: 7px; border-radius: 50%; background: var(--ll-text); }
.key.range::before { width: 7px; height: 12px; border-radius: 1px; background: var(--ll-recon); opacity: 0.45; }

/* Conditional VAE view. */
.label-picker { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin-bottom: 10px; }
.label-picker .picker-title { font-size: 0.85em; color: var(--ll-muted); margin-right: 4px; }
.label-picker button { min-width: 2.2em; padding: 4px 6px; }
.label-picker button[aria-pressed="true"] { background: var(--ll-accent); color: var(--ll-accent-text); border-color: var(--ll-accent); }
canvas.cvae-canvas { display: block; width: 100%; height: 72px; }

/* Convolutional view. */
.card h3 { font-size: 0.85em; font-weight: 600; color: var(--ll-muted); margin: 10px 0 6px; }
canvas.filters-canvas, canvas.maps-canvas { display: block; width: 100%; height: 60px; }

/* Anomaly views. */
.anomaly-setup { margin-bottom: 10px; display: grid; gap: 6px; }
.anomaly-setup .label-picker { margin-bottom: 0; }
.anomaly-setup .buttons { margin: 0; }
.anomaly-setup .explain { margin: 0; }
.anomaly-status { margin: 0; }
.anomaly-controls { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-end; margin-bottom: 6px; }
.anomaly-controls .field { flex: 0 1 16rem; }
.check { display: flex; gap: 6px; align-items: center; font-size: 0.9em; min-height: 34px; }
.check input { width: auto; min-height: 0; }
canvas.anomaly-canvas { aspect-ratio: 16 / 9; touch-action: none; cursor: ew-resize; }
.anomaly-readouts { margin: 10px 0 8px; }
.anomaly-drawing-row { display: flex; gap: 10px; align-items: center; }
.anomaly-drawing { width: 56px; height: 56px; flex: none; border: 1px solid var(--ll-border); border-radius: 4px; }
.anomaly-verdict { margin: 0; font-size: 0.92em; }
.anomaly-verdict[data-verdict="anomalous"] { color: var(--ll-kl); font-weight: 600; }
.anomaly-verdict[data-verdict="normal"] { color: var(--ll-ok); font-weight: 600; }
.curves { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 12px; margin-bottom: 10px; }
canvas.curve-canvas { aspect-ratio: 1 / 1; }
canvas.anomaly-examples-canvas { display: block; width: 100%; height: 200px; }
canvas.anomaly-series-canvas { aspect-ratio: 16 / 7; }
.key.bars.kl::before { background: var(--ll-kl); }

.map-controls .projection { flex: 0 1 12rem; }
.projection-note:empty { display: none; }

/* PCA beside the autoencoder. */
.pca-readouts { margin: 0 0 10px; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); }
canvas.pca-examples { display: block; width: 100%; height: 230px; }
canvas.pca-curve { display: block; width: 100%; aspect-ratio: 16 / 6; min-height: 150px; }
.pca-planes { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 12px; }
.pca-planes figure { margin: 0; }
.pca-planes figcaption { font-size: 0.85em; color: var(--ll-muted); margin-top: 4px; }
canvas.pca-plane { display: block; width: 100%; aspect-ratio: 1 / 1; }
canvas.pca-angles { display: block; width: 100%; aspect-ratio: 16 / 6; min-height: 190px; }
canvas.pca-angles[hidden] { display: none; }

/* The encoder as a feature extractor. */
.features-table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; margin-bottom: 10px; font-size: 0.92em; }
.features-table caption { text-align: left; font-size: 0.85em; color: var(--ll-muted); margin-bottom: 4px; }
.features-table th, .features-table td { padding: 4px 6px; border-bottom: 1px solid var(--ll-grid); text-align: right; }
.features-table th:first-child { text-align: left; }
.features-table thead th { font-weight: 600; font-size: 0.9em; }
.features-table td.best { font-weight: 700; }
.key.space.code::before { background: var(--ll-accent); height: 3px; }
.key.space.pca::before { background: var(--ll-kl); }
.key.space.pixels::before { background: repeating-linear-gradient(90deg, var(--ll-muted) 0 4px, transparent 4px 7px); }
canvas.features-plot { display: block; width: 100%; aspect-ratio: 16 / 10; }

/* Rows like this one. */
.similar-picker { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin-bottom: 10px; }
.similar-picker .picker-title { font-size: 0.85em; color: var(--ll-muted); margin-right: 4px; }
.similar-picker button { padding: 2px; min-height: 0; line-height: 0; }
.similar-picker button.similar-drawing { line-height: normal; padding: 4px 8px; min-height: 34px; }
.similar-picker button[aria-pressed="true"] { border-color: var(--ll-accent); box-shadow: 0 0 0 2px var(--ll-accent); }
.similar-tile { width: 32px; height: 32px; display: block; background: var(--ll-paper); border-radius: 2px; }
canvas.similar-canvas { display: block; width: 100%; height: 150px; }

@container (max-width: 420px) {
  .lab { padding: 8px; }
  .card { padding: 12px; }
}
`;
