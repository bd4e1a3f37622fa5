// Number, time and label formatting, in one place so every view reads the same.

const finite = (x) => typeof x === 'number' && Number.isFinite(x);
export const DASH = '–';

/** A whole number with thousands separators. */
export function int(n) {
  return finite(n) ? Math.round(n).toLocaleString('en-US') : DASH;
}

/** A number with about three significant digits (more for large ones). */
export function num(x, signed = false) {
  if (!finite(x)) return DASH;
  const a = Math.abs(x);
  let t;
  if (a === 0) t = '0';
  else if (a >= 1e6) t = `${(a / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  else if (a >= 1000) t = Math.round(a).toLocaleString('en-US');
  else if (a >= 100) t = Number.isInteger(a) ? String(a) : a.toFixed(1);
  else if (a >= 1) t = a.toFixed(2);
  else if (a >= 0.001) t = a.toPrecision(3);
  else t = a.toExponential(1);
  const sign = x < 0 ? '−' : signed && x > 0 ? '+' : '';
  return sign + t;
}

/** A share as a percentage: 0.1234 -> "12.3%". */
export function pct(x, digits = 1, signed = false) {
  if (!finite(x)) return DASH;
  const v = x * 100;
  const a = Math.abs(v);
  const d = a >= 1000 ? 0 : digits;
  const sign = v < 0 && a.toFixed(d) !== (0).toFixed(d) ? '−' : signed && v > 0 ? '+' : '';
  return `${sign}${a.toFixed(d)}%`;
}

/** A p-value. */
export function pvalue(p) {
  if (!finite(p)) return DASH;
  if (p < 0.0001) return '<0.0001';
  if (p < 0.001) return p.toFixed(4);
  return p.toFixed(3);
}

/** A probability as a percentage, never shown as exactly 0% or 100% unless it is. */
export function prob(p) {
  if (!finite(p)) return DASH;
  if (p > 0.999 && p < 1) return '>99.9%';
  if (p < 0.001 && p > 0) return '<0.1%';
  return `${(p * 100).toFixed(1)}%`;
}

/** The value of a metric: a rate as a percentage, a mean as a number. */
export function metricValue(kind, x) {
  return kind === 'conversion' ? pct(x, 2) : num(x);
}

/** A difference on a metric: percentage points for rates. */
export function metricDiff(kind, x) {
  if (!finite(x)) return DASH;
  return kind === 'conversion' ? `${num(x * 100, true)} pp` : num(x, true);
}

/** [lower, upper] of an interval, formatted with `f`. */
export function range(iv, f) {
  if (!iv || !finite(iv.lower) || !finite(iv.upper)) return '';
  return `[${f(iv.lower)}, ${f(iv.upper)}]`;
}

/** The identity of a metric: its key and kind (a key may be measured both ways). */
export const metricId = (m) => `${m.key}:${m.kind}`;

/** A metric's label. */
export function metricLabel(m) {
  return `${m.key} · ${m.kind === 'conversion' ? 'conversion rate' : 'mean per unit'}`;
}

/** Time of day, HH:MM:SS. */
export function clock(ms) {
  return finite(ms) ? new Date(ms).toLocaleTimeString('en-GB', { hour12: false }) : DASH;
}

/** A date and time, short. */
export function dateTime(ms) {
  if (!finite(ms)) return DASH;
  return new Date(ms).toLocaleString('en-GB', {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hour12: false,
  });
}

/** A duration: "3 d 4 h", "2 h 5 min", "40 s". */
export function duration(ms) {
  if (!finite(ms) || ms < 0) return DASH;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h ${m % 60} min`;
  return `${Math.floor(hrs / 24)} d ${hrs % 24} h`;
}

/** "5 s ago", "3 min ago". */
export function ago(ms, now = Date.now()) {
  if (!finite(ms)) return DASH;
  const d = Math.max(0, now - ms);
  if (d < 5000) return 'just now';
  return `${duration(d)} ago`;
}
