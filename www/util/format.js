// Number formatting for readouts and axes. Pure functions: no DOM.

const THIN = '\u202f'; // narrow no-break space between thousands groups

/** 1234567 → "1 234 567" (narrow spaces), for step counters and parameter counts. */
export function formatInt(n) {
  if (!Number.isFinite(n)) return '–';
  const s = String(Math.round(Math.abs(n)));
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, THIN);
  return n < 0 ? `−${grouped}` : grouped;
}

/** A loss or rate with `digits` significant digits: 143.2, 5.871, 0.0312. */
export function formatSig(x, digits = 4) {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 10 ** digits) return formatInt(x);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return x.toFixed(Math.min(decimals, 6));
}

/** Compact counts: 950, 12.3 k, 4.56 M. */
export function formatCompact(n) {
  if (!Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs < 1000) return formatSig(n, 3);
  if (abs < 1e6) return `${formatSig(n / 1e3, 3)}${THIN}k`;
  if (abs < 1e9) return `${formatSig(n / 1e6, 3)}${THIN}M`;
  return `${formatSig(n / 1e9, 3)}${THIN}G`;
}

/** A per-second rate: "23.4 /s". */
export function formatRate(x) {
  if (!Number.isFinite(x) || x <= 0) return '–';
  return `${formatCompact(x)}${THIN}/s`;
}

/** An axis tick label: short, no trailing zeros. */
export function formatTick(x) {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e4 || abs < 1e-3) {
    return x.toExponential(0).replace('e+', 'e');
  }
  return String(Number(x.toPrecision(3)));
}

/** Epochs completed, "1.60": `samples` seen, `size` images per epoch. */
export function formatEpoch(samples, size) {
  if (!(size > 0) || !Number.isFinite(samples)) return '–';
  const epochs = samples / size;
  return epochs < 100 ? epochs.toFixed(2) : formatInt(epochs);
}
