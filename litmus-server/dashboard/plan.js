// The planning calculator of an experiment (#/experiments/<key>/plan): for one of its metrics,
// the units and days needed to detect a lift, or the lift detectable in a number of days, from
// its control's baseline, its units a day and its analysis settings (POST /planning). The
// server checks every value; its errors show at the field their path names.

import { h } from './dom.js';
import { api, ApiError } from './api.js';
import { clearErrors, showErrors, problemsOf } from './errors.js';
import * as f from './format.js';
import { field, numberOr } from './metric-fields.js';

/** Mounts the calculator for experiment `key` into `main`. */
export function mountPlan(main, key, { setTitle }) {
  let alive = true;
  setTitle(`Plan ${key}`);
  main.replaceChildren(h('div', { class: 'card loading' }, 'Loading…'));
  api('GET', `/results/${encodeURIComponent(key)}?points=1`).then((data) => {
    if (alive) build(data.results.metrics);
  }).catch((e) => {
    main.replaceChildren(h('div', { class: 'banner critical', role: 'alert' }, e instanceof ApiError ? e.explanation : String(e)));
  });

  function build(metrics) {
    const metric = h('select', { name: 'metric', 'data-path': 'metric' },
      metrics.map((m, i) => h('option', { value: String(i) }, f.metricLabel(m))));
    const mode = h('select', { name: 'mode' },
      h('option', { value: 'lift' }, 'Units and days to detect a lift'),
      h('option', { value: 'days' }, 'The lift detectable in some days'));
    const lift = h('input', { type: 'number', name: 'lift', 'data-path': 'lift', value: '5', step: 'any', class: 'short' });
    const days = h('input', { type: 'number', name: 'days', 'data-path': 'days', value: '14', step: 'any', class: 'short' });
    const power = h('input', { type: 'number', name: 'power', 'data-path': 'power', value: '80', step: 'any', class: 'short' });
    const perDay = h('input', { type: 'number', name: 'units_per_day', 'data-path': 'units_per_day', placeholder: 'the experiment\'s', step: 'any', class: 'short' });
    const liftField = field('Lift to detect (%)', lift, 'Relative to the control: 5 is +5%.');
    const daysField = field('Days', days, 'How long the experiment runs.');
    const summary = h('div', { id: 'plan-errors', class: 'banner critical', role: 'alert', tabindex: '-1', hidden: true });
    const answer = h('section', { class: 'card', id: 'plan-answer', hidden: true });
    const sync = () => {
      liftField.hidden = mode.value !== 'lift';
      daysField.hidden = mode.value !== 'days';
    };
    mode.addEventListener('change', sync);
    sync();
    const form = h('form', { class: 'page form-page', novalidate: true, 'aria-label': `Plan ${key}` },
      h('header', { class: 'page-head' },
        h('div', {},
          h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / ',
            h('a', { href: `#/experiments/${encodeURIComponent(key)}` }, key)),
          h('h1', {}, `Plan ${key}`))),
      summary,
      h('section', { class: 'card form-section' },
        h('p', { class: 'hint' }, 'From the control\'s baseline on the metric, the experiment\'s units a day, its variants and its analysis settings, with the tests its results use.'),
        h('div', { class: 'row' }, field('Metric', metric), field('Question', mode)),
        h('div', { class: 'row' }, liftField, daysField, field('Power (%)', power), field('Units a day', perDay, 'All variants; empty: the experiment\'s so far.'))),
      h('div', { class: 'form-actions' }, h('span', { class: 'spacer' }), h('button', { type: 'submit', class: 'btn primary', id: 'plan-submit' }, 'Calculate')),
      answer);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form, summary);
      const m = metrics[Number(metric.value)];
      const body = { experiment: key, metric: m.key };
      if (m.step) body.step = m.step.index;
      const pct = (el) => {
        const v = numberOr(el.value);
        return typeof v === 'number' ? v / 100 : v;
      };
      if (mode.value === 'lift') body.lift = pct(lift);
      else body.days = numberOr(days.value);
      const p = pct(power);
      if (p !== undefined) body.power = p;
      const u = numberOr(perDay.value);
      if (u !== undefined) body.units_per_day = u;
      try {
        const res = await api('POST', '/planning', body);
        show(res);
      } catch (err) {
        answer.hidden = true;
        showErrors(form, summary, problemsOf(err), { collection: 'planning', key, what: 'plan', failed: 'made' });
      }
    });

    function show(res) {
      const p = res.plan;
      const b = res.baseline;
      const baseline = b.kind === 'rate' ? `a rate of ${f.pct(b.rate, 2)}` : `a mean of ${f.num(b.mean)} (sd ${f.num(b.sd)})`;
      const src = res.source || {};
      answer.hidden = false;
      answer.replaceChildren(
        h('h2', {}, 'Plan'),
        h('div', { class: 'kpis' },
          h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Units per variant'), h('div', { class: 'kpi-value', id: 'plan-units' }, f.int(p.units_per_variant)),
            h('div', { class: 'muted small' }, `${f.int(p.total_units)} in all`)),
          h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Days'), h('div', { class: 'kpi-value', id: 'plan-days' }, p.days === null ? f.DASH : p.days.toFixed(1)),
            h('div', { class: 'muted small' }, src.units ? `at ${f.int(src.units / Math.max(src.days, 1e-9))} units a day so far` : '')),
          h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, 'Lift'), h('div', { class: 'kpi-value', id: 'plan-lift' }, `+${(p.lift * 100).toFixed(2)}%`),
            h('div', { class: 'muted small' }, `${f.num(p.difference)} in the metric's units`))),
        h('p', { class: 'muted small', id: 'plan-basis' },
          `From ${baseline}; ${p.basis === 'sequential' ? 'always-valid (sequential)' : 'fixed-horizon'} ${p.test === 'one_sided' ? 'one-sided' : 'two-sided'} test at α = ${p.alpha} per comparison, power ${Math.round(p.power * 100)}%. `
          + (p.basis === 'sequential' ? `A fixed-horizon test would need ${f.int(p.fixed_horizon_units)} per variant.` : '')));
    }

    main.replaceChildren(form);
  }

  return {
    unmount() {
      alive = false;
    },
  };
}
