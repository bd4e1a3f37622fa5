// The Segments section of the results, driven by dashboard.test.mjs in the same browser
// against the same server, on the running experiment `exp` with data. Its dimensions: country
// (2 values of their own: US and FR, DE then counts in (other)) and platform (ios listed,
// android in (other)); some units are exposed without them ((missing)); FR's units split 80/20
// while the experiment's split evenly. The section lists the declared dimensions; its rows are
// the segments GET /results/{exp}/segments answers, in order, with their units, lifts and
// corrected p-values; the exploratory note and the correction are shown; only FR carries the
// SRM badge; switching the dimension shows that dimension's segments.

export async function segmentChecks({ page, BASE, admin, check, assert, f, shot, exp, dimensions }) {
  const segmentsOf = async (dimension) => {
    const res = await fetch(`${BASE}/results/${exp}/segments?dimension=${dimension}`, { headers: admin });
    const body = await res.json();
    assert(res.status === 200, `GET segments of ${dimension}: ${res.status} ${JSON.stringify(body)}`);
    return body.breakdown;
  };
  const rowsShown = () => page.$$eval('#segment-table tbody tr',
    (trs) => trs.map((tr) => [tr.dataset.segment, tr.querySelector('[data-col="units"] .strong').textContent]));
  /** Waits until the table shows the segments of `breakdown` (value and units, in order). */
  const waitRows = async (breakdown) => {
    const want = breakdown.segments.map((s) => [s.value, f.int(s.units)]);
    try {
      await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('#segment-table tbody tr')]
        .map((tr) => [tr.dataset.segment, tr.querySelector('[data-col="units"] .strong').textContent])) === JSON.stringify(w),
      want, { timeout: 15000, polling: 100 });
    } catch {
      throw new Error(`rows ${JSON.stringify(await rowsShown())}, the API's ${JSON.stringify(want)}`);
    }
  };
  let country = null;

  await check('segments: the results list the experiment\'s declared dimensions', async () => {
    await page.evaluate((key) => { location.hash = `#/experiments/${encodeURIComponent(key)}`; }, exp);
    await page.waitForSelector(`.results-page[data-experiment="${exp}"] #segment-dimension`);
    const options = await page.$$eval('#segment-dimension option', (os) => os.map((o) => [o.value, o.textContent]));
    const want = dimensions.map((d) => [d.key, d.attribute ? `${d.key} (${d.attribute})` : d.key]);
    assert(JSON.stringify(options) === JSON.stringify(want), `options: ${JSON.stringify(options)}`);
  });

  await check('segments: the rows are the API\'s segments in order, with (other) and (missing), their lifts and corrected p-values', async () => {
    country = await segmentsOf('country');
    assert(country.segments.map((s) => s.value).sort().join() === '(missing),(other),FR,US', `segments: ${country.segments.map((s) => s.value)}`);
    await waitRows(country);
    const metric = await page.$eval('#segment-metric', (s) => s.value);
    assert(metric === 'purchase:conversion', `metric shown: ${metric}`);
    const us = country.segments[0].results.metrics.find((m) => m.key === 'purchase' && m.kind === 'conversion').variants[1].comparison;
    const cell = (col) => page.textContent(`#segment-table tr[data-segment="US"] [data-col="${col}"][data-variant="treatment"]`);
    const lift = (await cell('lift')).trim();
    assert(lift.startsWith(f.pct(us.relative.estimate, 1, true)) && lift.includes(f.range(us.relative, (v) => f.pct(v, 1, true))), `US lift: ${lift}`);
    assert((await cell('adjusted_pvalue')).trim() === f.pvalue(us.adjusted_pvalue), `US corrected p: ${await cell('adjusted_pvalue')}`);
    assert((await page.getAttribute(`#segment-table tr[data-segment="US"] [data-col="verdict"] .verdict`, 'class')).includes(us.verdict), 'US verdict');
  });

  await check('segments: the exploratory note and the correction across the breakdown are shown', async () => {
    const note = (await page.textContent('#segment-note')).trim();
    assert(note.endsWith(country.note) && /exploratory/i.test(note), `note: ${note}`);
    assert(await page.isVisible('#segment-note'), 'the note is hidden');
    const line = await page.textContent('#segment-correction');
    const name = { holm: 'Holm', bonferroni: 'Bonferroni', benjamini_hochberg: 'Benjamini-Hochberg' }[country.correction];
    assert(line.includes(`${name} correction across ${country.comparisons} comparisons`), `correction line: ${line}`);
  });

  await check('segments: the SRM badge marks only the unbalanced segment (FR, 80/20; the experiment splits evenly)', async () => {
    assert(await page.isHidden('#srm-banner'), 'the experiment itself has an SRM banner');
    const mismatched = country.segments.filter((s) => s.results.srm && s.results.srm.mismatch).map((s) => s.value);
    assert(mismatched.join() === 'FR', `the API's mismatched segments: ${mismatched}`);
    const badged = await page.$$eval('#segment-table tbody tr', (trs) => trs.filter((tr) => tr.querySelector('.srm-mismatch')).map((tr) => tr.dataset.segment));
    assert(badged.join() === 'FR', `badges on: ${badged}`);
    assert(await page.isVisible('#segment-table tr[data-segment="FR"] .srm-mismatch'), 'the badge is hidden');
    await shot(page, 'segments', { fullPage: true });
  });

  await check('segments: switching the dimension shows its segments (listed ios, android in (other))', async () => {
    await page.selectOption('#segment-dimension', 'platform');
    const platform = await segmentsOf('platform');
    assert(platform.segments.map((s) => s.value).sort().join() === '(missing),(other),ios', `segments: ${platform.segments.map((s) => s.value)}`);
    await waitRows(platform);
    assert(!(await page.$('#segment-table .srm-mismatch')), 'an SRM badge on platform');
    const note = await page.textContent('#segment-correction');
    assert(/Values of the attribute os/.test(note) && /Listed values \(ios\)/.test(note), `values line: ${note}`);
  });
}
