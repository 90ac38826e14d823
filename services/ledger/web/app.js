// The auditor page (干部履历审阅): plain JavaScript, no framework, nothing loaded from elsewhere.
// It reads the ledger's HTTP API with the auditor's token and checks, in the browser, every event's hash,
// hash chain and inclusion proof (proofs.js), the checkpoint's signatures against the public keys the
// auditor saved on the page (signatures.js), and that each verified checkpoint is consistent with the
// largest one this browser verified before. Its words are in i18n.js.
'use strict';

const params = new URLSearchParams(location.search);
const lang = params.get('lang') === 'en' ? 'en' : 'zh';
const T = I18N[lang];
const $ = sel => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v; else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

// --- HTTP -------------------------------------------------------------------------------------

function token() { return sessionStorage.getItem('cadre-token') || ''; }

// The counties a county-scoped token covers, read from its claims (the server checks them; [] for an all-county
// token or one the page cannot read): a scoped token must name one of its counties in a list or search, so the
// page names the county under Figures if it is one of them, else the token's first.
function tokenCounties() {
  try {
    const part = token().split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const counties = JSON.parse(atob(part)).counties;
    return Array.isArray(counties) && !counties.includes('*') ? counties : [];
  } catch (_) { return []; }
}

function countyFilter(separator) {
  const counties = tokenCounties();
  if (!counties.length) return '';
  const chosen = $('#figures-county').value.trim();
  return `${separator}county=${encodeURIComponent(counties.includes(chosen) ? chosen : counties[0])}`;
}
// localStorage, where the browser allows it; where it refuses (storage disabled), the page checks all it can
// without keys or a remembered checkpoint rather than failing.
function stored(key) { try { return localStorage.getItem(key); } catch (_) { return null; } }
function store(key, value) { try { localStorage.setItem(key, value); return true; } catch (_) { return false; } }
// Public keys, not secrets: kept across sessions so that the auditor pins them once (trust on first paste).
const savedKeys = () => ({ log: stored('cadre-log-keys') || '', witness: stored('cadre-witness-keys') || '' });

// A problem's detail, then each field it names with what is wrong, in the page's language.
function problemMessage(text) {
  let problem;
  try { problem = JSON.parse(text); } catch (_) { return text; }  // not problem+json
  const fields = (problem.errors || []).map(e => `${e.field}: ${lang === 'zh' ? e.message_zh || e.message : e.message}`);
  return [problem.detail || text, ...fields].join(' · ');
}

async function api(path) {
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  const resp = await fetch(path, { headers });
  const text = await resp.text();
  if (!resp.ok) {
    const detail = problemMessage(text);
    const lead = { 401: T.needToken, 403: T.forbidden }[resp.status];
    const err = new Error(lead ? `${lead} (${detail})` : detail);
    err.status = resp.status;
    throw err;
  }
  return { json: JSON.parse(text), text };
}

// The bundle to check: led to the newest checkpoint every witness cosigned where one covers the cadre, else
// to the newest one (one request, so one access record).
const fetchBundle = id => api(`/v1/cadres/${encodeURIComponent(id)}/bundle?prefer_witnessed=true`);

// --- rendering -------------------------------------------------------------------------------------

// On the Chinese page a catalogue code shows as its Chinese name, the code in the tooltip (i18n.js CODES_ZH).
function shownCode(value) {
  if (lang !== 'zh' || typeof value !== 'string' || !Object.hasOwn(CODES_ZH, value)) return null;
  return el('span', { class: 'code', title: value, 'data-code': value }, CODES_ZH[value]);
}

// A field's name in a record's details and the state: a flag of FLAGS_ZH by its Chinese name (the key in the
// tooltip) on the Chinese page, the key with the Chinese beside it on the English one, as event types show.
function keyName(key) {
  if (!Object.hasOwn(FLAGS_ZH, key)) return key;
  return lang === 'zh' ? FLAGS_ZH[key] : `${key} (${FLAGS_ZH[key]})`;
}

const keyTerm = key => el('dt', { 'data-key': key, ...(keyName(key) !== key && { title: key }) }, keyName(key));

function renderValue(value) {
  if (value === null || value === undefined) return '—';
  const named = shownCode(value);
  if (named) return named;
  if (Array.isArray(value)) {
    if (!value.length) return '—';
    return el('ol', {}, value.map(v => el('li', {}, renderValue(v))));
  }
  if (typeof value === 'object') {
    return el('dl', { class: 'kv' }, Object.entries(value).flatMap(([k, v]) => [keyTerm(k), el('dd', {}, renderValue(v))]));
  }
  if (typeof value === 'boolean') return value ? '✓' : '✗';
  return String(value);
}

function serviceOf(source) { return (source || '').split('/')[3] || '?'; }

function badge(state) {
  const cls = { verified: 'ok', failed: 'bad', untrusted: 'bad', unchecked: 'bad', checking: 'pending',
    notCovered: 'pending' }[state];
  const hint = T[state + 'Hint'];
  return el('span', { class: 'badge ' + cls, 'data-proof': state, ...(hint && { title: hint }) }, T[state]);
}

// A record's hashes and inclusion proof say nothing once the checkpoint they lead to is not the log's (a failed
// signature, a saved witness missing, a rewritten or rolled-back log): a verified record is then untrusted.
const underCheckpoint = (state, trusted) => state === 'verified' && !trusted ? 'untrusted' : state;

function cadreLink(id) {
  const url = new URLSearchParams(location.search);
  url.set('cadre', id);
  return el('a', { href: '?' + url.toString(), class: 'cadre-link', onclick: ev => { ev.preventDefault(); openCadre(id); } }, id);
}

// Searches, lists, figures, a cadre's state and its check may be asked for again before the last answer came (Enter
// held down, a click after Enter, keys saved twice, another date): only the newest asking fills the page (`latest`).
const asked = { search: 0, lists: 0, figures: 0, file: 0, state: 0, check: 0 };
const latest = (what, run) => run === asked[what];

async function search(prefix) {
  const run = ++asked.search;
  const status = $('#search-status'), table = $('#results'), body = table.querySelector('tbody');
  status.textContent = T.searching; status.classList.remove('error');
  body.textContent = ''; table.hidden = true;
  try {
    const { json } = await api('/v1/cadres?limit=50&prefix=' + encodeURIComponent(prefix) + countyFilter('&'));
    if (!latest('search', run)) return;
    status.textContent = !json.cadres.length ? T.none : json.next_after ? T.foundMore(json.cadres.length)
      : T.found(json.cadres.length);
    for (const c of json.cadres) {
      const last = lang === 'zh' ? c.last_label_zh : c.last_type;
      body.append(el('tr', {}, el('td', {}, cadreLink(c.cadre_id)), el('td', {}, c.county), el('td', {}, c.events),
        el('td', {}, `${last} (${c.last_occurred_on})`)));
    }
    table.hidden = !json.cadres.length;
  } catch (err) {
    if (latest('search', run)) { status.textContent = T.error + err.message; status.classList.add('error'); }
  }
}

let current = null;

async function openCadre(id) {
  const view = current = { id, events: [], bundleText: null };
  const url = new URLSearchParams(location.search);
  url.set('cadre', id);
  history.replaceState(null, '', '?' + url.toString());
  for (const a of document.querySelectorAll('.lang a')) {
    const target = new URLSearchParams(url); target.set('lang', a.dataset.lang); a.href = '?' + target.toString();
  }
  $('#cadre').hidden = false;
  $('#cadre-id').textContent = id;
  const body = $('#timeline tbody');
  body.textContent = '';
  body.append(el('tr', {}, el('td', { colspan: 5 }, T.loading)));
  $('#proof-summary').textContent = T.checking + '…';
  $('#state').textContent = '';
  $('#download').disabled = true;
  try {
    let after = 0;
    for (;;) {
      const { json } = await api(`/v1/cadres/${encodeURIComponent(id)}/history?limit=1000&after_version=${after}`);
      if (view !== current) return;  // the auditor opened another cadre meanwhile
      current.events.push(...json.events);
      if (json.next_after_version === null) break;
      after = json.next_after_version;
    }
  } catch (err) {
    if (view !== current) return;
    body.textContent = '';
    body.append(el('tr', {}, el('td', { colspan: 5, class: 'error' }, T.error + err.message)));
    $('#proof-summary').textContent = '';
    return;
  }
  current.loaded = true;  // its records are all shown: a check of the bundle now compares with every one
  renderTimeline();
  loadState();
  checkProofs();
}

// A corrected or revoked event stays in the history where it was recorded; its row says so and where the
// correction (更正) or revocation (撤销) is, whose own row follows later.
function correctionsOf(rows) {
  const marks = new Map(), revoked = new Set();
  for (const row of rows) {
    const d = row.event.data;
    if (row.type.endsWith('.revoked')) {
      revoked.add(d.revokes);
      marks.set(d.revokes, T.revokedAt(row.position));
    } else if (row.type.endsWith('.corrected') && !revoked.has(d.corrects)) {
      marks.set(d.corrects, T.correctedAt(row.position));
    }
  }
  return marks;
}

function renderTimeline() {
  const body = $('#timeline tbody');
  body.textContent = '';
  const marks = correctionsOf(current.events);
  for (const row of current.events) {
    const e = row.event;
    const label = lang === 'zh' ? row.label_zh : `${row.label_en} (${row.label_zh})`;
    const short = Object.entries(e.data).filter(([, v]) => typeof v !== 'object').slice(0, 3)
      .map(([k, v]) => `${keyName(k)}: ${typeof v === 'boolean' ? renderValue(v) : shownCode(v)?.textContent ?? v}`).join(' · ');
    const meta = { [T.eventId]: e.id, [T.position]: row.position, [T.recordedAt]: row.recorded_at, [T.ruleset]: e.ruleset };
    body.append(el('tr', { 'data-position': row.position },
      el('td', { class: 'date' }, row.occurred_on),
      el('td', {}, el('strong', {}, label), el('span', { class: 'type' }, row.type),
        marks.has(e.id) ? el('span', { class: 'corrected' }, marks.get(e.id)) : ''),
      el('td', {}, el('span', { class: 'svc' }, serviceOf(e.source))),
      el('td', {}, el('details', {}, el('summary', {}, short || T.details), renderValue(e.data), renderValue(meta))),
      el('td', { class: 'proof-cell' }, badge('checking'))));
  }
}

// Each await may end after the auditor opened another cadre: what comes back for one no longer shown is dropped,
// never shown under the other's rows nor downloaded as its bundle.
async function checkProofs() {
  const summary = $('#proof-summary'), view = current, run = ++asked.check;
  const superseded = () => view !== current || !latest('check', run);
  try {
    const { json, text } = await fetchBundle(view.id);
    const { cp, checked } = await verifyBundle(json, view.id);
    const { lines, trusted } = await signatureLines(json);
    if (superseded()) return;
    current.bundleText = text;
    const shown = new Map(current.events.map(row => [row.position, row.event]));
    // A failure is an event shown or proved that does not match: every bundle event must be shown, and every
    // event shown within the checkpoint must be proved.
    const failing = new Set([...checked].filter(([position, c]) => c.state === 'failed' || !shown.has(position))
      .map(([position]) => position));
    for (const tr of document.querySelectorAll('#timeline tbody tr[data-position]')) {
      const position = Number(tr.dataset.position), proved = checked.get(position);
      let state = proved ? proved.state : position <= cp.size ? 'failed' : 'notCovered';
      // What the row shows must be the envelope the verified bytes hold, not merely sit at the same position.
      if (state === 'verified' && stableJson(shown.get(position)) !== stableJson(proved.event)) state = 'failed';
      if (state === 'failed') failing.add(position);
      const cell = tr.querySelector('.proof-cell');
      cell.textContent = '';
      cell.append(badge(underCheckpoint(state, trusted)));
    }
    summary.textContent = '';
    summary.append(failing.size ? el('span', { class: 'error' }, T.proofBad(failing.size)) : T.proofOk(checked.size, cp.size, cp.origin),
      el('br'), `${T.rootHash}: `, el('code', {}, hex(cp.root)));
    const witnesses = witnessesOf(json);
    summary.append(el('br'), el('span', { class: 'witnesses' },
      witnesses.length ? T.witnessed(witnesses.join(', ')) : T.notWitnessed));
    $('#download').disabled = false;
    summary.append(...lines);
  } catch (err) {
    if (superseded()) return;
    // a check that could not be made confirms nothing: rows verified by an earlier check say so no longer
    for (const cell of document.querySelectorAll('#timeline .proof-cell')) {
      cell.textContent = '';
      cell.append(badge('unchecked'));
    }
    current.bundleText = null;
    summary.textContent = T.proofUnavailable + err.message;
    $('#download').disabled = true;
  }
}

async function saveKeys() {
  const status = $('#keys-status');
  const [log, witness] = [$('#log-keys').value.trim(), $('#witness-keys').value.trim()];
  const fail = text => { status.textContent = text; status.classList.add('error'); };
  let counts;
  try {
    counts = [(await parseVerifierKeys(log)).length, (await parseVerifierKeys(witness)).length];
  } catch (err) {
    return fail(T.keysBad + err.message);
  }
  if (!store('cadre-log-keys', log) || !store('cadre-witness-keys', witness)) return fail(T.storageRefused);
  status.textContent = T.keysSaved(...counts);
  status.classList.remove('error');
  if (current && current.loaded) checkProofs();
  recheckBundleFile();
}

function downloadBundle() {
  if (!current || !current.bundleText) return;
  const blob = new Blob([current.bundleText], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `${current.id}.bundle.json` });
  document.body.append(a);
  a.click();
  a.remove();
}

async function loadState() {
  const box = $('#state'), view = current, run = ++asked.state;
  const superseded = () => view !== current || !latest('state', run);
  const asOf = $('#as-of').value;
  box.textContent = T.loading;
  try {
    const q = asOf ? '?as_of=' + asOf : '';
    const { json } = await api(`/v1/cadres/${encodeURIComponent(view.id)}/state${q}`);
    if (superseded()) return;
    box.textContent = '';
    box.append(el('p', { class: 'hint' }, asOf ? `${T.asOf} ${asOf}` : T.stateAll), renderValue(json));
  } catch (err) {
    if (!superseded()) box.textContent = T.error + err.message;
  }
}

// --- start --------------------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `${T.title} · cadre-ledger`;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = T[node.dataset.i18n];
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = T[node.dataset.i18nPlaceholder];
  for (const a of document.querySelectorAll('.lang a')) {
    a.classList.toggle('active', a.dataset.lang === lang);
    const target = new URLSearchParams(location.search); target.set('lang', a.dataset.lang); a.href = '?' + target.toString();
  }
}

function start() {
  applyLanguage();
  $('#token').value = token();
  $('#log-keys').value = savedKeys().log;
  $('#witness-keys').value = savedKeys().witness;
  $('#keys-save').addEventListener('click', saveKeys);
  $('#token-save').addEventListener('click', () => {
    sessionStorage.setItem('cadre-token', $('#token').value.trim());
    $('#search-status').textContent = T.tokenSaved;
    $('#action-lists').textContent = '';
    loadActionLists();
    if (params.get('cadre') && !current) openCadre(params.get('cadre'));
  });
  $('#token').addEventListener('keydown', ev => { if (ev.key === 'Enter') $('#token-save').click(); });
  $('#search').addEventListener('submit', ev => { ev.preventDefault(); search($('#prefix').value.trim()); });
  $('#state-form').addEventListener('submit', ev => { ev.preventDefault(); if (current) loadState(); });
  $('#download').addEventListener('click', downloadBundle);
  $('#download').disabled = true;
  if (!token()) {  // every /v1 call would answer 401: ask for the token instead
    $('#action-lists').append(el('p', { class: 'hint', 'data-list': 'token' }, T.tokenFirst));
    return;
  }
  loadActionLists();
  if (params.get('cadre')) openCadre(params.get('cadre'));
}

// Every script of the page has run by then (lists.js, figures.js and bundle_file.js come after this one).
document.addEventListener('DOMContentLoaded', start);
