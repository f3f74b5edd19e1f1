// Plot scales and ticks. Pure functions: no DOM.

/** A linear map from [d0, d1] to [r0, r1]. */
export function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0 || 1;
  const f = (x) => r0 + ((x - d0) / span) * (r1 - r0);
  f.ticks = (count = 5) => niceTicks(d0, d1, count);
  return f;
}

/** A log10 map from [d0, d1] (both > 0) to [r0, r1]. */
export function logScale([d0, d1], [r0, r1]) {
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0 || 1;
  const f = (x) => r0 + ((Math.log10(Math.max(x, 1e-12)) - l0) / span) * (r1 - r0);
  f.ticks = () => logTicks(d0, d1);
  return f;
}

/** About `count` round numbers (1, 2, 5 × 10^k steps) covering [a, b]. */
export function niceTicks(a, b, count = 5) {
  if (!(b > a)) return [a];
  const raw = (b - a) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let t = Math.ceil(a / step) * step; t <= b + step * 1e-9; t += step) {
    out.push(Number(t.toPrecision(12)));
  }
  return out;
}

/** Ticks of a log axis: powers of ten, with 2 and 5 in between when the range is short. */
export function logTicks(a, b) {
  if (!(a > 0 && b > a)) return [a];
  const lo = Math.floor(Math.log10(a));
  const hi = Math.ceil(Math.log10(b));
  const span = Math.log10(b / a);
  const mults = span <= 0.8 ? [1, 1.5, 2, 3, 5, 7] : span <= 2.2 ? [1, 2, 5] : [1];
  const out = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of mults) {
      const t = m * 10 ** e;
      if (t >= a * (1 - 1e-9) && t <= b * (1 + 1e-9)) out.push(Number(t.toPrecision(12)));
    }
  }
  return out;
}

/**
 * The y domain of a log plot of positive series: [min, max] padded by a few percent on the
 * log scale, at least a factor 2 wide so a flat line does not fill the plot, and at most
 * `maxDecades` decades below the maximum (smaller values sit on the bottom edge).
 */
export function logDomain(values, maxDecades = 3) {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return [0.1, 1000];
  let hi = Math.log10(Math.max(...positive));
  // A KL that starts near 0 would squash everything else: show at most `maxDecades`.
  let lo = Math.max(Math.log10(Math.min(...positive)), hi - maxDecades);
  if (hi - lo < Math.log10(2)) {
    const mid = (hi + lo) / 2;
    lo = mid - Math.log10(2) / 2;
    hi = mid + Math.log10(2) / 2;
  }
  const pad = (hi - lo) * 0.06;
  return [10 ** (lo - pad), 10 ** (hi + pad)];
}

/**
 * Thins a series of points to at most `max` by averaging neighbours, keeping the last point
 * exact (the plot's right edge shows the newest value).
 */
export function thin(points, max) {
  if (points.length <= max) return points;
  const group = Math.ceil(points.length / max);
  const out = [];
  for (let i = 0; i < points.length - 1; i += group) {
    const chunk = points.slice(i, Math.min(i + group, points.length - 1));
    // Every numeric field but the step is averaged (recon, kl, penalty, …).
    const point = { step: chunk[chunk.length - 1].step };
    for (const k of Object.keys(chunk[0])) {
      if (k !== 'step' && typeof chunk[0][k] === 'number') point[k] = chunk.reduce((s, p) => s + p[k], 0) / chunk.length;
    }
    out.push(point);
  }
  out.push(points[points.length - 1]);
  return out;
}
