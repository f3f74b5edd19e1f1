// Seeded random numbers and spherical interpolation for the sampler. Pure: no DOM.

/** A seeded uniform generator on [0, 1) (mulberry32: small, fast, good enough for pictures). */
export function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded standard normal generator (Box–Muller on `uniform`). */
export function normal(seed) {
  const u = uniform(seed);
  let spare = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const phi = 2 * Math.PI * u();
    spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  };
}

/** `n` values drawn from `gen` into a new Float32Array. */
export function draw(gen, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gen();
  return out;
}

/**
 * Spherical interpolation from `a` to `b` (t in [0, 1]) into `out`. Between two N(0, I) draws
 * it keeps the length typical of N(0, I) (a straight line would pass close to the origin,
 * where the decoder sees unusually short codes); nearly parallel vectors fall back to a line.
 */
export function slerp(a, b, t, out = new Float32Array(a.length)) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = dot / (Math.sqrt(na * nb) || 1);
  const theta = Math.acos(Math.min(1, Math.max(-1, cos)));
  const s = Math.sin(theta);
  let wa = 1 - t;
  let wb = t;
  if (s > 1e-4) {
    wa = Math.sin((1 - t) * theta) / s;
    wb = Math.sin(t * theta) / s;
  }
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

/** Smooth start and stop (cubic ease) of t in [0, 1]. */
export const ease = (t) => t * t * (3 - 2 * t);

/** A 32-bit FNV-1a hash of a byte array, for tests that check a picture changed. */
export function hashBytes(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
