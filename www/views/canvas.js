// Canvas helpers shared by the views: device-pixel sizing, theme colours, redraw on resize.

/**
 * Sizes `canvas`'s backing store to its CSS box × devicePixelRatio (crisp on high-DPI
 * screens) and returns a context that draws in CSS pixels.
 */
export function fitCanvas(canvas) {
  const dpr = globalThis.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const width = Math.max(1, rect.width);
  const height = Math.max(1, rect.height);
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

/** A CSS custom property of `el` (e.g. '--ll-text'), or `fallback`. */
export function cssColor(el, name, fallback) {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

/** The event a <latent-lab> sends on `window` when its `theme` attribute changes its colours. */
export const THEME_EVENT = 'latent-lab:theme';

/**
 * Calls `draw` at most once per animation frame after `schedule()`, and again when the
 * element is resized or the colour scheme changes (the reader's, or a widget's `theme`).
 * Returns {schedule, dispose}.
 */
export function redrawLoop(el, draw) {
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      if (el.isConnected) draw();
    });
  };
  const resize = new ResizeObserver(schedule);
  resize.observe(el);
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', schedule);
  addEventListener(THEME_EVENT, schedule);
  return {
    schedule,
    dispose() {
      resize.disconnect();
      scheme.removeEventListener('change', schedule);
      removeEventListener(THEME_EVENT, schedule);
    },
  };
}

/**
 * Creates an element with attributes and children: h('p', {class: 'x'}, 'text'). `style`
 * is an object of properties ({'--swatch': '#f00'}), set through the CSSOM: a strict
 * Content-Security-Policy (style-src 'self') refuses style attributes, not the CSSOM.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style') {
      if (typeof v !== 'object') throw new TypeError('h(): style is an object of CSS properties, not a string');
      for (const [prop, value] of Object.entries(v)) el.style.setProperty(prop, String(value));
    } else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * A plot's frame on `ctx`: the box inside `pad` ({l, r, t, b}), the labels of `xTicks` under
 * it and of `yTicks` beside it (at the scales `x` and `y`, as `xText` and `yText` write them),
 * and the axes' titles (`yTitle` rotated, left out when empty), in `colors` {grid, muted}.
 */
export function plotFrame(ctx, { width, height, pad, x, y, xTicks, yTicks, xText = String, yText = String, xTitle, yTitle = '', colors }) {
  ctx.strokeStyle = colors.grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.l, pad.t, width - pad.l - pad.r, height - pad.t - pad.b);
  ctx.fillStyle = colors.muted;
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (const t of xTicks) ctx.fillText(xText(t), x(t), height - pad.b + 13);
  ctx.fillText(xTitle, (pad.l + width - pad.r) / 2, height - 3);
  ctx.textAlign = 'right';
  for (const t of yTicks) ctx.fillText(yText(t), pad.l - 4, y(t) + 4);
  if (yTitle) {
    ctx.save();
    ctx.translate(10, (pad.t + height - pad.b) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(yTitle, 0, 0);
    ctx.restore();
  }
}
