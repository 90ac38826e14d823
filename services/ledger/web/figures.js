// The figures a county reports for a period or a year (统计): the ledger's summaries, for the county, the period, the
// assessment year and the day (截至: as they stood then) the auditor chooses, counted as the seed documents count them
// (audited, rotated, noticed: cadres). Each summary renders on its own: one that fails shows its error and leaves the
// others.
'use strict';

const SUMMARIES = [
  { path: '/v1/audits/summary', from: 'completed_from', to: 'completed_to', zh: '经济责任审计及结果运用', en: 'Audits and their results' },
  { path: '/v1/reports/funnel', from: 'received_from', to: 'received_to', zh: '举报受理、核查与处理', en: 'Reports received, verified and followed up' },
  { path: '/v1/rotation/summary', from: 'completed_from', to: 'completed_to', zh: '干部交流情况', en: 'Rotations carried out' },
  { path: '/v1/notices/summary', from: 'posted_from', to: 'posted_to', zh: '任前公示情况', en: 'Pre-appointment notices' },
  { path: '/v1/assessment/summary', year: true, zh: '年度考核情况', en: 'Annual assessment of the year' },
];

// A figure's name (lists.js fieldName), the description in the tooltip.
function figureName(key, meaning) {
  return el('dt', { 'data-figure-name': key, title: meaning?.description || key }, fieldName(key, meaning));
}

// A summary's figures: its counts, and each count per kind with the kind's Chinese name on the Chinese page.
function renderFigures(summary, query, meanings) {
  const shown = Object.entries(summary).filter(([k]) => !['county', 'year', 'as_of', query.from, query.to].includes(k));
  const value = v => v !== null && typeof v === 'object'
    ? el('dl', { class: 'kv per' }, Object.entries(v).flatMap(([k, n]) => [el('dt', {}, shownCode(k) || k), el('dd', {}, n)]))
    : renderValue(v);
  return el('dl', { class: 'kv' }, shown.flatMap(([k, v]) => [figureName(k, meanings[k]), el('dd', { 'data-figure': k }, value(v))]));
}

async function loadFigures() {
  const run = ++asked.figures;
  const root = $('#figure-tables');
  root.textContent = '';
  const county = $('#figures-county').value.trim(), from = $('#figures-from').value, to = $('#figures-to').value;
  const year = $('#figures-year').value.trim(), asOf = $('#figures-as-of').value;
  for (const summary of SUMMARIES) {
    if (!latest('figures', run)) return;
    const block = el('div', { class: 'list-block', 'data-summary': summary.path },
      el('h3', {}, lang === 'zh' ? summary.zh : `${summary.en} (${summary.zh})`));
    root.append(block);
    const q = new URLSearchParams();
    if (county) q.set('county', county);
    if (summary.year) {  // a year's figures, not a period's
      if (!year) { block.append(el('p', { class: 'hint' }, T.figuresYearFirst)); continue; }
      q.set('year', year);
    }
    if (from && summary.from) q.set(summary.from, from);
    if (to && summary.to) q.set(summary.to, to);
    if (asOf) q.set('as_of', asOf);
    try {
      const { json } = await api(`${summary.path}?${q}`);
      block.append(renderFigures(json, summary, await responseFields(summary.path).catch(() => ({}))));
    } catch (err) {
      block.append(el('p', { class: 'error' }, T.error + err.message));
    }
  }
}

$('#figures-form').addEventListener('submit', ev => { ev.preventDefault(); loadFigures(); });
