// A small chart module: time charts drawn as inline SVG (lines with interval bands, stacked
// areas, stacked bars) with axes, a zero line, a legend that toggles series, and a tooltip
// that follows the pointer or the arrow keys; plus sparklines and inline interval bars.
// Colors come from CSS classes c0..c7 (a color-blind-safe palette) and cc (the control).

import { h, s, showTip, hideTip } from './dom.js';
import { num, dateTime } from './format.js';

let chartIds = 0;
const MINUTE = 60e3;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [1e3, 5e3, 15e3, 30e3, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR,
  3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

/** Evenly spaced round values covering [min, max]. */
export function ticks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  const step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
  const out = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** [min, max] widened to round values. */
function niceDomain(min, max, count = 5) {
  if (!(max > min)) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.5 : 1;
    return [min - pad, max + pad];
  }
  const t = ticks(min, max, count);
  const step = t.length > 1 ? t[1] - t[0] : max - min;
  return [Math.floor(min / step + 1e-9) * step, Math.ceil(max / step - 1e-9) * step];
}

/** Round times (local clock) covering [t0, t1]. */
function timeTicks(t0, t1, count) {
  const span = Math.max(1, t1 - t0);
  const step = TIME_STEPS.find((st) => span / st <= count) || Math.ceil(span / count / DAY) * DAY;
  const offset = new Date(t0).getTimezoneOffset() * MINUTE;
  const first = Math.ceil((t0 - offset) / step) * step + offset;
  const out = [];
  for (let t = first; t <= t1; t += step) out.push(t);
  return { out, step };
}

function timeLabel(t, step) {
  const d = new Date(t);
  if (step >= DAY) return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
  if (step >= HOUR && d.getHours() === 0 && d.getMinutes() === 0) {
    return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
  }
  const hm = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });
  if (step < MINUTE) return d.toLocaleTimeString('en-GB', { hour12: false });
  return hm;
}

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

/** The value at quantile q of the finite numbers in xs. */
function quantile(xs, q) {
  const v = xs.filter(finite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))];
}

/** An SVG path through the points, broken where a value is missing. */
function linePath(xs, ys) {
  let d = '';
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (!finite(ys[i])) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${xs[i].toFixed(1)},${ys[i].toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** A closed path between two lines (a band), one polygon per run of known values. */
function bandPath(xs, lo, hi) {
  let d = '';
  let run = [];
  const flush = () => {
    if (run.length === 1) {
      const [i] = run;
      const [x0, x1] = [(xs[i] - 3).toFixed(1), (xs[i] + 3).toFixed(1)];
      d += `M${x0},${hi[i].toFixed(1)}L${x1},${hi[i].toFixed(1)}L${x1},${lo[i].toFixed(1)}L${x0},${lo[i].toFixed(1)}Z`;
    } else if (run.length) {
      const top = run.map((i) => `${xs[i].toFixed(1)},${hi[i].toFixed(1)}`);
      const bottom = run.slice().reverse().map((i) => `${xs[i].toFixed(1)},${lo[i].toFixed(1)}`);
      d += `M${top.join('L')}L${bottom.join('L')}Z`;
    }
    run = [];
  };
  for (let i = 0; i < xs.length; i++) {
    if (finite(lo[i]) && finite(hi[i])) run.push(i);
    else flush();
  }
  flush();
  return d;
}

/**
 * A chart over time, drawn into `container` and redrawn in place by `update(spec)`:
 * spec = {times: [ms], series: [{name, cls, values: [y|null], lo?: [], hi?: []}],
 *         mode: 'line'|'area'|'bars', zero?: bool, yFormat?: fn, yLabel?, empty?: text,
 *         tooltip?: (i) => nodes}.
 */
export class TimeChart {
  constructor(container, { height = 260, title = 'Chart', xLabel = 'Time' } = {}) {
    this.id = `chart${++chartIds}`;
    this.container = container;
    this.height = height;
    this.title = title;
    this.xLabel = xLabel;
    this.hidden = new Set();
    this.hover = null;
    this.pointer = null;
    this.spec = null;
    this.svg = s('svg', { class: 'chart-svg', role: 'img', tabindex: '0', 'aria-label': title, 'data-points': '0' });
    this.legend = h('div', { class: 'legend', role: 'group', 'aria-label': `${title}: series` });
    container.replaceChildren(this.svg, this.legend);
    this.svg.addEventListener('pointermove', (e) => this.onPointer(e));
    this.svg.addEventListener('pointerleave', () => this.clearHover());
    this.svg.addEventListener('blur', () => this.clearHover());
    this.svg.addEventListener('focus', () => this.moveHover(this.spec ? this.spec.times.length - 1 : 0, true));
    this.svg.addEventListener('keydown', (e) => this.onKey(e));
    this.width = container.clientWidth || 640;
    this.resize = new ResizeObserver(() => {
      const w = this.container.clientWidth;
      if (w && Math.abs(w - this.width) > 1) {
        this.width = w;
        this.draw();
      }
    });
    this.resize.observe(container);
  }

  update(spec) {
    this.spec = spec;
    this.draw();
  }

  destroy() {
    this.resize.disconnect();
    hideTip();
  }

  visible() {
    return this.spec.series.filter((sr) => !this.hidden.has(sr.name));
  }

  draw() {
    const spec = this.spec;
    if (!spec) return;
    const W = Math.max(280, this.width);
    const H = this.height;
    const m = { l: 66, r: 16, t: 12, b: 42 };
    const pw = W - m.l - m.r;
    const ph = H - m.t - m.b;
    const times = spec.times;
    const series = this.visible();
    const mode = spec.mode || 'line';
    const yFormat = spec.yFormat || ((v) => num(v));
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.setAttribute('width', String(W));
    this.svg.setAttribute('height', String(H));
    const nodes = [];
    let points = 0;
    for (const sr of series) points += sr.values.filter(finite).length;
    this.svg.setAttribute('data-points', String(points));
    this.drawLegend();
    if (!times.length || !points) {
      this.geom = null;
      nodes.push(s('text', { x: W / 2, y: H / 2, class: 'empty', 'text-anchor': 'middle' },
        spec.empty || 'No data yet'));
      this.svg.replaceChildren(...nodes);
      return;
    }
    // x: time.
    let t0 = times[0];
    let t1 = times[times.length - 1];
    if (t1 <= t0) {
      t0 -= 30 * MINUTE;
      t1 += 30 * MINUTE;
    }
    const x = (t) => m.l + 6 + ((t - t0) / (t1 - t0)) * (pw - 16);
    // y: what is drawn; for bands, the early (widest) looks do not set the scale.
    let ymin;
    let ymax;
    if (mode === 'area') {
      ymin = 0;
      ymax = 1;
    } else if (mode === 'bars') {
      ymin = 0;
      ymax = 0;
      times.forEach((_, i) => {
        ymax = Math.max(ymax, series.reduce((a, sr) => a + (finite(sr.values[i]) ? sr.values[i] : 0), 0));
      });
      [ymin, ymax] = niceDomain(0, ymax || 1);
    } else {
      const vals = series.flatMap((sr) => sr.values.filter(finite));
      const los = [];
      const his = [];
      for (const sr of series) {
        if (!sr.lo) continue;
        const known = sr.values.map((v, i) => i).filter((i) => finite(sr.lo[i]) && finite(sr.hi[i]));
        const late = known.slice(Math.floor(known.length * 0.25));
        for (const i of late) {
          los.push(sr.lo[i]);
          his.push(sr.hi[i]);
        }
      }
      ymin = Math.min(...vals, spec.zero ? 0 : Infinity, finite(quantile(los, 0.1)) ? quantile(los, 0.1) : Infinity);
      ymax = Math.max(...vals, spec.zero ? 0 : -Infinity, finite(quantile(his, 0.9)) ? quantile(his, 0.9) : -Infinity);
      const pad = (ymax - ymin || Math.abs(ymax) || 1) * 0.08;
      [ymin, ymax] = niceDomain(ymin - pad, ymax + pad);
    }
    const y = (v) => m.t + ph - ((v - ymin) / (ymax - ymin)) * ph;
    const clip = `${this.id}-clip`;
    nodes.push(s('defs', {}, s('clipPath', { id: clip }, s('rect', { x: m.l, y: m.t, width: pw, height: ph }))));
    // Grid and axes.
    const grid = s('g', { class: 'grid', 'aria-hidden': 'true' });
    const yt = ticks(ymin, ymax, Math.max(3, Math.round(ph / 45)));
    const yStep = yt.length > 1 ? yt[1] - yt[0] : 1;
    const tickFormat = spec.yTick ? (v) => spec.yTick(v, yStep) : yFormat;
    for (const v of yt) {
      const yy = y(v);
      grid.append(s('line', { x1: m.l, x2: m.l + pw, y1: yy, y2: yy }),
        s('text', { x: m.l - 8, y: yy, dy: '0.32em', 'text-anchor': 'end', class: 'tick' }, tickFormat(v)));
    }
    const tt = timeTicks(t0, t1, Math.max(2, Math.floor(pw / 90)));
    for (const t of tt.out) {
      grid.append(s('line', { x1: x(t), x2: x(t), y1: m.t + ph, y2: m.t + ph + 4, class: 'xtick' }),
        s('text', { x: x(t), y: m.t + ph + 17, 'text-anchor': 'middle', class: 'tick' }, timeLabel(t, tt.step)));
    }
    grid.append(s('line', { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, class: 'axis' }));
    nodes.push(grid);
    nodes.push(s('text', { class: 'axis-label', 'text-anchor': 'middle', transform: `translate(12 ${m.t + ph / 2}) rotate(-90)` }, spec.yLabel || ''));
    nodes.push(s('text', { class: 'axis-label', 'text-anchor': 'middle', x: m.l + pw / 2, y: H - 4 }, this.xLabel));
    // Data.
    const xs = times.map(x);
    const plot = s('g', { 'clip-path': `url(#${clip})` });
    if (mode === 'line') {
      for (const sr of series) {
        if (sr.lo) {
          const d = bandPath(xs, sr.lo.map((v) => (finite(v) ? y(v) : NaN)), sr.hi.map((v) => (finite(v) ? y(v) : NaN)));
          if (d) plot.append(s('path', { d, class: `band ${sr.cls}` }));
        }
      }
      if (spec.zero && ymin <= 0 && ymax >= 0) {
        plot.append(s('line', { x1: m.l, x2: m.l + pw, y1: y(0), y2: y(0), class: 'zero' }));
      }
      for (const sr of series) {
        const ys = sr.values.map((v) => (finite(v) ? y(v) : NaN));
        plot.append(s('path', { d: linePath(xs, ys), class: `line ${sr.cls}` }));
        let last = -1;
        for (let i = ys.length - 1; i >= 0; i--) if (finite(ys[i])) { last = i; break; }
        if (last >= 0) plot.append(s('circle', { cx: xs[last], cy: ys[last], r: 3.5, class: `end ${sr.cls}` }));
        // A lone point is visible as its dot; runs as their line.
      }
    } else if (mode === 'area') {
      const base = times.map(() => 0);
      for (const sr of series) {
        const top = times.map((_, i) => base[i] + (finite(sr.values[i]) ? sr.values[i] : 0));
        const d = bandPath(xs, base.map(y), top.map(y));
        plot.append(s('path', { d, class: `area ${sr.cls}` }));
        top.forEach((v, i) => { base[i] = v; });
      }
    } else {
      const bw = Math.max(1, (pw / Math.max(1, times.length)) * 0.7);
      const base = times.map(() => 0);
      for (const sr of series) {
        const g = s('g', { class: `bars ${sr.cls}` });
        times.forEach((_, i) => {
          const v = finite(sr.values[i]) ? sr.values[i] : 0;
          if (v > 0) {
            g.append(s('rect', { x: xs[i] - bw / 2, y: y(base[i] + v), width: bw, height: Math.max(0.5, y(base[i]) - y(base[i] + v)) }));
          }
          base[i] += v;
        });
        plot.append(g);
      }
    }
    nodes.push(plot);
    this.hoverLayer = s('g', { class: 'hover', 'aria-hidden': 'true' });
    nodes.push(this.hoverLayer);
    nodes.push(s('rect', { x: m.l, y: m.t, width: pw, height: ph, class: 'overlay' }));
    this.svg.replaceChildren(...nodes);
    this.geom = { xs, y, m, ph, ymin, ymax, mode };
    if (this.hover !== null) this.moveHover(Math.min(this.hover, times.length - 1), !this.pointer);
  }

  drawLegend() {
    const items = this.spec.series.map((sr) => {
      const off = this.hidden.has(sr.name);
      return h('button', {
        type: 'button', class: `key ${sr.cls}${off ? ' off' : ''}`, 'aria-pressed': off ? 'false' : 'true',
        title: off ? `Show ${sr.name}` : `Hide ${sr.name}`,
        onclick: () => {
          if (off) this.hidden.delete(sr.name);
          else if (this.visible().length > 1) this.hidden.add(sr.name);
          this.draw();
        },
      }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), sr.name);
    });
    this.legend.replaceChildren(...items);
  }

  onPointer(e) {
    if (!this.geom) return;
    const r = this.svg.getBoundingClientRect();
    const px = ((e.clientX - r.left) / r.width) * (this.width || r.width);
    const xs = this.geom.xs;
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - px) < Math.abs(xs[best] - px)) best = i;
    this.pointer = { x: e.pageX, y: e.pageY };
    this.moveHover(best, false);
  }

  onKey(e) {
    if (!this.geom || this.hover === null) return;
    const n = this.spec.times.length;
    const step = { ArrowLeft: -1, ArrowRight: 1, Home: -n, End: n }[e.key];
    if (e.key === 'Escape') {
      this.clearHover();
      return;
    }
    if (step === undefined) return;
    e.preventDefault();
    this.pointer = null;
    this.moveHover(Math.max(0, Math.min(n - 1, this.hover + step)), true);
  }

  clearHover() {
    this.hover = null;
    this.pointer = null;
    if (this.hoverLayer) this.hoverLayer.replaceChildren();
    hideTip();
  }

  moveHover(i, fromKeyboard) {
    if (!this.geom || !this.spec || !this.spec.times.length) return;
    this.hover = i;
    const { xs, y, m, ph, mode } = this.geom;
    const xx = xs[i];
    const parts = [s('line', { x1: xx, x2: xx, y1: m.t, y2: m.t + ph, class: 'crosshair' })];
    let anchorY = m.t + ph / 2;
    if (mode === 'line') {
      for (const sr of this.visible()) {
        const v = sr.values[i];
        if (!finite(v)) continue;
        anchorY = y(v);
        parts.push(s('circle', { cx: xx, cy: y(v), r: 4.5, class: `dot ${sr.cls}` }));
      }
    }
    this.hoverLayer.replaceChildren(...parts);
    const content = this.spec.tooltip ? this.spec.tooltip(i, this.visible()) : this.defaultTip(i);
    if (fromKeyboard || !this.pointer) {
      const r = this.svg.getBoundingClientRect();
      const scale = r.width / (this.width || r.width);
      showTip(content, r.left + window.scrollX + xx * scale, r.top + window.scrollY + anchorY * scale);
    } else {
      showTip(content, this.pointer.x, this.pointer.y);
    }
  }

  defaultTip(i) {
    const f = this.spec.yFormat || ((v) => num(v));
    const rows = this.visible().map((sr) => {
      const v = sr.values[i];
      const band = sr.lo && finite(sr.lo[i]) ? ` [${f(sr.lo[i])}, ${f(sr.hi[i])}]` : '';
      return h('div', { class: 'tip-row' }, h('span', { class: `swatch ${sr.cls}` }),
        h('span', { class: 'tip-name' }, sr.name), h('b', {}, finite(v) ? f(v) : '–'), band);
    });
    return [h('div', { class: 'tip-head' }, dateTime(this.spec.times[i])), ...rows];
  }
}

/** A small line of a series (cumulative counts), with a filled area under it. */
export function sparkline(values, { width = 110, height = 26, cls = 'c0', label = '' } = {}) {
  const v = values.filter(finite);
  const el = s('svg', { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  if (v.length < 2) {
    el.append(s('line', { x1: 1, x2: width - 1, y1: height - 2, y2: height - 2, class: `spark-line ${cls}` }));
    return el;
  }
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const xs = v.map((_, i) => 1 + (i / (v.length - 1)) * (width - 2));
  const ys = v.map((val) => height - 2 - (hi > lo ? ((val - lo) / (hi - lo)) * (height - 4) : 0));
  el.append(s('path', { d: `${linePath(xs, ys)}L${xs[xs.length - 1]},${height}L${xs[0]},${height}Z`, class: `spark-area ${cls}` }),
    s('path', { d: linePath(xs, ys), class: `spark-line ${cls}` }));
  return el;
}

/**
 * An interval bar on a shared scale: the fixed-horizon interval [lo, hi] as a bar, the
 * always-valid interval [seqLo, seqHi] as a thin whisker (clipped, with an arrow, when it
 * runs off the scale), the estimate as a dot, and the zero line.
 */
export function ciBar({ est, lo, hi, seqLo, seqHi, domain, verdict = 'inconclusive', label = '', width = 150, height = 22 }) {
  const [a, b] = domain;
  const pad = 5;
  const x = (v) => pad + ((Math.max(a, Math.min(b, v)) - a) / (b - a)) * (width - 2 * pad);
  const mid = height / 2;
  const el = s('svg', { class: 'ci', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  el.append(s('title', {}, label));
  el.append(s('line', { x1: x(0), x2: x(0), y1: 1, y2: height - 1, class: 'zero' }));
  if (finite(seqLo) && finite(seqHi)) {
    el.append(s('line', { x1: x(seqLo), x2: x(seqHi), y1: mid, y2: mid, class: 'seq' }));
    if (seqLo < a) el.append(s('path', { d: `M${pad - 3},${mid}l5,-3.5v7z`, class: 'seq-arrow' }));
    if (seqHi > b) el.append(s('path', { d: `M${width - pad + 3},${mid}l-5,-3.5v7z`, class: 'seq-arrow' }));
  }
  if (finite(lo) && finite(hi)) {
    el.append(s('rect', { x: x(lo), y: mid - 4, width: Math.max(2, x(hi) - x(lo)), height: 8, rx: 4, class: `bar ${verdict}` }));
  }
  if (finite(est)) el.append(s('circle', { cx: x(est), cy: mid, r: 3.5, class: `est ${verdict}` }));
  return el;
}

/** A symmetric domain around zero covering every interval given (for ciBar). */
export function ciDomain(intervals) {
  let m = 0;
  for (const iv of intervals) {
    for (const v of [iv.lo, iv.hi, iv.est]) if (finite(v)) m = Math.max(m, Math.abs(v));
  }
  m = m > 0 ? m * 1.15 : 1;
  return [-m, m];
}
