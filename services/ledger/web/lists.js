// The auditor page's action lists (待办清单) and the names of answers' fields, read from the ledger's OpenAPI
// document (figures.js names its figures with them too). Uses app.js's helpers; loaded after it.
'use strict';

const ACTION_LISTS = [
  { path: '/v1/rotation/due', zh: '应交流与逾期未交流', en: 'Rotations due and overdue' },
  { path: '/v1/notices', zh: '未办结的任前公示与反映', en: 'Open pre-appointment notices and objections' },
  { path: '/v1/audits/open-findings', zh: '未整改的审计问题', en: 'Unresolved audit findings' },
  { path: '/v1/audits/results-pending', zh: '审计结果待运用、待归档', en: 'Audit results to apply or file' },
  { path: '/v1/audits/departures-unaudited', zh: '离任未审计', en: 'Departures without an audit' },
  { path: '/v1/inquiries/overdue', zh: '逾期未回复的函询', en: 'Overdue written inquiries' },
  { path: '/v1/watchlist/assessment', zh: '考核预警名单', en: 'Assessment watchlist' },
];

// What each field of an answer means, from the ledger's OpenAPI document (read once): the descriptions of the
// answer's fields (`rows`: of the items of its list, as the action lists show them).
let openApi = null;
async function responseFields(path, rows = false) {
  if (!openApi) openApi = (await api('/openapi.json')).json;
  const schemaOf = ref => openApi.components?.schemas?.[(ref || '').split('/').pop()]?.properties || {};
  const fields = schemaOf(openApi.paths?.[path]?.get?.responses?.['200']?.content?.['application/json']?.schema?.$ref);
  if (!rows) return fields;
  const listed = Object.values(fields).find(f => f.type === 'array' && f.items?.$ref);
  return listed ? schemaOf(listed.items.$ref) : {};
}

// A field's name: on the Chinese page its Chinese term, the first one its description gives in brackets
// ("Audits completed in the period (完成审计, 项)": 完成审计), else the field's own name in words.
function fieldName(key, meaning) {
  const term = lang === 'zh' && ((meaning?.description || '').match(/\(([^()]*\p{Script=Han}[^()]*)\)/u) || [])[1];
  if (term) return term.split(/[,;]/)[0].trim();
  return lang === 'zh' && Object.hasOwn(FIELDS_ZH, key) ? FIELDS_ZH[key] : key.replace(/_/g, ' ');
}

// Each list renders on its own: a list the ledger does not serve, or one that fails, never breaks the page.
async function loadActionLists() {
  const run = ++asked.lists;
  const root = $('#action-lists');
  root.textContent = '';
  let paths = {};
  try {
    openApi = openApi || (await api('/openapi.json')).json;
    paths = openApi.paths || {};
  } catch (_) { /* every list shows as unavailable */ }
  for (const list of ACTION_LISTS) {
    if (!latest('lists', run)) return;
    const block = el('div', { class: 'list-block', 'data-list': list.path },
      el('h3', {}, lang === 'zh' ? list.zh : `${list.en} (${list.zh})`));
    root.append(block);
    if (!paths[list.path] || !paths[list.path].get) {
      block.append(el('p', { class: 'hint unavailable' }, T.notAvailable));
      continue;
    }
    try {
      const { json } = await api(list.path + countyFilter('?'));
      const meanings = await responseFields(list.path, true).catch(() => ({}));
      if (latest('lists', run)) block.append(renderList(json, meanings));
    } catch (err) {
      block.append(el('p', { class: 'error' }, T.error + err.message));
    }
  }
}

function renderList(page, meanings) {
  const rows = Object.values(page).find(Array.isArray) || [];
  const total = page.total ?? page.total_audits ?? rows.length;
  if (!rows.length) return el('p', { class: 'hint' }, T.noRows);
  // Seven columns at most: the cadre, what the row is about (a field with a Chinese twin `X_zh`: the twin on the
  // Chinese page, the code with its Chinese beside it on the English one), then the rest in order.
  const keys = [];
  for (const r of rows.slice(0, 20)) for (const [k, v] of Object.entries(r)) {
    if (!keys.includes(k) && (typeof v !== 'object' || Array.isArray(v))) keys.push(k);
  }
  const twinned = k => keys.includes(k + '_zh');
  const shown = keys.filter(k => lang === 'zh' ? !twinned(k) : !(k.endsWith('_zh') && keys.includes(k.slice(0, -3))));
  const rank = k => k === 'cadre_id' ? 0 : (lang === 'zh' ? k.endsWith('_zh') : twinned(k)) ? 1 : 2;
  const columns = shown.map((k, i) => [rank(k), i, k]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, 7)
    .map(([, , k]) => k);
  const cell = (k, v, row) => {
    if (k === 'cadre_id' && typeof v === 'string') return cadreLink(v);
    if (Array.isArray(v)) return String(v.length);
    if (v === null || v === undefined) return '—';
    if (lang !== 'zh' && twinned(k) && row[k + '_zh']) return `${v} (${row[k + '_zh']})`;
    return shownCode(v) || String(v);
  };
  return el('div', {},
    el('p', { class: 'count' }, `${T.total} ${total}${rows.length > 20 ? ' · ' + T.more : ''}`),
    el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, columns.map(c =>
      el('th', { 'data-field': c, title: meanings[c]?.description || c }, fieldName(c, meanings[c]))))),
      el('tbody', {}, rows.slice(0, 20).map(r => el('tr', {}, columns.map(c => el('td', {}, cell(c, r[c], r))))))));
}
