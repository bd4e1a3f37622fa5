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

/** Kinds whose value is a share of units (shown as a percentage, differences in points). */
const RATES = new Set(['conversion', 'retention', 'funnel']);

/** A metric's kind, from the metric (a result or a definition) or the kind itself. */
const kindOf = (m) => (typeof m === 'string' ? m : (m && m.kind) || 'mean');
const formatOf = (m) => (typeof m === 'string' ? null : (m && m.format) || null);

/** Whether a metric's values are shares (rates, or a metric formatted as percent). */
export function isShare(m) {
  return RATES.has(kindOf(m)) || formatOf(m) === 'percent';
}

/** A duration given in milliseconds, for figures: "850 ms", "1.23 s", "2.5 min", "1.2 h". */
export function ms(x, signed = false) {
  if (!finite(x)) return DASH;
  const a = Math.abs(x);
  let t;
  if (a === 0) t = '0 ms';
  else if (a < 1000) t = `${a >= 100 ? Math.round(a) : a >= 1 ? a.toPrecision(3).replace(/\.?0+$/, '') : a.toPrecision(2)} ms`;
  else if (a < 60e3) t = `${(a / 1000).toPrecision(3)} s`;
  else if (a < 3600e3) t = `${(a / 60e3).toPrecision(3)} min`;
  else t = `${num(a / 3600e3)} h`;
  const sign = x < 0 ? '−' : signed && x > 0 ? '+' : '';
  return sign + t;
}

/** An amount of money in `currency` (ISO 4217): "€12.50", "$1,234". */
export function money(x, currency, signed = false) {
  if (!finite(x)) return DASH;
  const a = Math.abs(x);
  let t;
  try {
    // The currency's own minor unit (cents; none for yen), whole amounts from 1,000 up.
    const whole = a >= 1000 ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {};
    t = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency || 'USD', ...whole }).format(a);
  } catch {
    t = `${num(a)} ${currency || ''}`.trim();
  }
  const sign = x < 0 && t.replace(/[^1-9]/g, '') !== '' ? '−' : signed && x > 0 ? '+' : '';
  return sign + t;
}

/**
 * The value of a metric (a result or definition, or a kind): a rate as a percentage; ratios,
 * quantiles and means as numbers, or by the metric's `format` (percent, currency, duration).
 */
export function metricValue(m, x) {
  if (isShare(m)) return pct(x, 2);
  switch (formatOf(m)) {
    case 'currency':
      return money(x, m.currency);
    case 'duration':
      return ms(x);
    default:
      return num(x);
  }
}

/** A difference on a metric: percentage points for shares, else in the metric's format. */
export function metricDiff(m, x) {
  if (!finite(x)) return DASH;
  if (isShare(m)) return `${num(x * 100, true)} pp`;
  switch (formatOf(m)) {
    case 'currency':
      return money(x, m.currency, true);
    case 'duration':
      return ms(x, true);
    default:
      return num(x, true);
  }
}

/** [lower, upper] of an interval, formatted with `f`. */
export function range(iv, f) {
  if (!iv || !finite(iv.lower) || !finite(iv.upper)) return '';
  return `[${f(iv.lower)}, ${f(iv.upper)}]`;
}

/**
 * The identity of a metric result: its key and kind (an event may be measured both ways),
 * and a funnel step's index: `purchase:conversion`, `checkout:funnel#1`.
 */
export const metricId = (m) => `${m.key}:${m.kind}${m.step ? `#${m.step.index}` : ''}`;

/** "p90" for a quantile of 0.9. */
export function quantileName(q) {
  if (!finite(q)) return 'quantile';
  const p = Math.round(q * 1000) / 10;
  return `p${p}`;
}

/** What a metric's value is, in words: "conversion rate", "ratio", "p90", "step 2 of 3". */
export function kindLabel(m, q) {
  switch (m.kind) {
    case 'conversion':
      return 'conversion rate';
    case 'mean':
      return 'mean per unit';
    case 'ratio':
      return 'ratio';
    case 'quantile':
      return finite(q) ? `${quantileName(q)} quantile` : 'quantile';
    case 'retention':
      return 'retention';
    case 'funnel':
      return m.step ? `funnel · step ${m.step.index + 1} of ${m.step.of}` : 'funnel';
    default:
      return m.kind || '';
  }
}

/** A metric's label: its name or key, and its kind (and step). */
export function metricLabel(m) {
  return `${m.name || m.key} · ${kindLabel(m)}`;
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
