// The auditor page (干部履历审阅): plain JavaScript, no framework, nothing loaded from elsewhere.
// It reads the ledger's HTTP API with the auditor's token and checks, in the browser, every event's hash,
// hash chain and inclusion proof (proofs.js) and the checkpoint's signatures against the public keys the
// auditor saved on the page (signatures.js).
'use strict';

const I18N = {
  zh: {
    title: '干部履历审阅', subtitle: '只读：查看干部履历、某日状态、待办清单，并在浏览器中核验每条记录的包含性证明。',
    token: '访问令牌（审计员角色）', tokenSave: '使用此令牌', tokenHint: '令牌只保存在本浏览器标签页（sessionStorage）中。',
    tokenSaved: '令牌已设置。', find: '查找干部', prefixPlaceholder: '干部编号或其开头，例如 GY90', search: '查找',
    cadreId: '干部编号', county: '县（区）', eventCount: '事件数', lastEvent: '最近事件', cadre: '干部',
    download: '下载可验证履历包', proofNote: '浏览器核验：每条记录的哈希（SHA-256）、哈希链、到检查点根哈希的包含性证明，以及检查点的签名和见证方联署（Ed25519，用您保存的公钥）。下载的履历包可用命令行离线复核：cadre-ledger verify bundle 文件 --key 公钥。',
    keys: '可信公钥', logKeys: '账本公钥（检查点签名公钥，每行一个；密钥轮换后新旧都保留）',
    witnessKeys: '见证方公钥（每行一个；所列见证方都须已联署检查点）', keysSave: '保存公钥',
    keysHint: '公钥保存在本浏览器（localStorage），请使用运维方线下交付的 .vkey 文件内容，不要使用本页或服务器提供的公钥。',
    keysSaved: (logs, witnesses) => `已保存 ${logs} 个账本公钥、${witnesses} 个见证方公钥。`, keysBad: '公钥有误：',
    timeline: '履历时间线', occurredOn: '发生日期', event: '事件', service: '记录服务', details: '详情', proof: '证明',
    stateAsOf: '某日状态', asOf: '截至日期', show: '查看', actionLists: '待办清单',
    actionHint: '台账读模型中需要处理的事项；本台账未提供的清单显示为“暂不可用”。',
    footer: 'cadre-ledger：只可追加、可验证的干部任用监督台账。',
    searching: '查找中…', found: n => `找到 ${n} 名干部。`, none: '没有匹配的干部。', loading: '加载中…',
    verified: '已验证', failed: '未通过', checking: '核验中', notCovered: '未纳入检查点',
    proofOk: (n, size, origin) => `${n} 条记录全部通过包含性证明核验，检查点：${origin}，树大小 ${size}。`,
    proofBad: n => `${n} 条记录未通过核验，请用命令行复核并报告。`,
    witnessed: list => `见证方联署：${list}。`,
    signatureVerified: names => `检查点签名已用您保存的账本公钥核验（Ed25519）：${names}。`,
    signatureFailed: '检查点签名与您保存的账本公钥不符：本页内容不可信，请报告。',
    signatureUnsigned: '检查点未由您保存的任何账本公钥签名（密钥已轮换？请向运维方核实新公钥）。',
    signatureUnchecked: '检查点签名未核验：请在“可信公钥”中保存账本公钥（运维方提供的 checkpoint.vkey）。',
    witnessVerified: (name, time) => `见证方 ${name} 的联署已核验${time ? '（' + time + '）' : ''}。`,
    witnessFailed: name => `见证方 ${name} 的联署未通过核验：请报告。`,
    witnessMissing: name => `缺少见证方 ${name} 的联署：该见证方尚未联署覆盖此干部记录的检查点。`,
    notWitnessed: '该检查点尚无见证方联署（见证方按计划联署，稍后再看）。',
    proofUnavailable: '无法取得可验证履历包：', rootHash: '根哈希', recordedAt: '记录时间', position: '台账位置',
    ruleset: '规则集', eventId: '事件编号', notAvailable: '暂不可用（本台账未提供此清单）', total: '共',
    needToken: '需要有效的访问令牌（审计员角色）。', error: '出错：', stateAll: '全部事件（不限日期）',
    noRows: '无待办事项。', more: '仅显示前 20 条。',
  },
  en: {
    title: 'Cadre history review', subtitle: 'Read-only: a cadre\'s history, the state on a date, the lists that need action, and each record\'s inclusion proof checked in your browser.',
    token: 'Access token (auditor role)', tokenSave: 'Use this token', tokenHint: 'The token is kept in this browser tab only (sessionStorage).',
    tokenSaved: 'Token set.', find: 'Find a cadre', prefixPlaceholder: 'Cadre id or its beginning, e.g. GY90', search: 'Search',
    cadreId: 'Cadre id', county: 'County', eventCount: 'Events', lastEvent: 'Latest event', cadre: 'Cadre',
    download: 'Download verifiable bundle', proofNote: 'Checked in your browser: each record\'s hash (SHA-256), the hash chain, the inclusion proof up to the checkpoint\'s root hash, and the checkpoint\'s signature and witness cosignatures (Ed25519, with the public keys you saved). The downloaded bundle re-checks offline: cadre-ledger verify bundle FILE --key PUBLIC_KEY.',
    keys: 'Trusted public keys (可信公钥)', logKeys: 'Log keys (the checkpoint-signing public keys, one per line; keep the old one beside the new after a rotation)',
    witnessKeys: 'Witness keys (one per line; each witness listed must have cosigned the checkpoint)', keysSave: 'Save keys',
    keysHint: 'Keys are kept in this browser (localStorage). Paste the .vkey files the operator gave you out of band, never keys this page or a server offers.',
    keysSaved: (logs, witnesses) => `Saved ${logs} log key(s) and ${witnesses} witness key(s).`, keysBad: 'Bad key: ',
    timeline: 'Timeline', occurredOn: 'Occurred on', event: 'Event', service: 'Recorded by', details: 'Details', proof: 'Proof',
    stateAsOf: 'State as of a date', asOf: 'As of', show: 'Show', actionLists: 'Lists that need action',
    actionHint: 'Items the ledger\'s read models flag for action; a list this ledger does not serve shows as "not available".',
    footer: 'cadre-ledger: an append-only, verifiable ledger of cadres\' careers.',
    searching: 'Searching…', found: n => `${n} cadre(s) found.`, none: 'No matching cadre.', loading: 'Loading…',
    verified: 'verified', failed: 'failed', checking: 'checking', notCovered: 'not in checkpoint',
    proofOk: (n, size, origin) => `All ${n} records pass their inclusion proofs; checkpoint ${origin}, tree size ${size}.`,
    proofBad: n => `${n} record(s) failed verification: re-check with the CLI and report it.`,
    witnessed: list => `Cosigned by witnesses: ${list}.`,
    signatureVerified: names => `The checkpoint's signature verifies with the log key you saved (Ed25519): ${names}.`,
    signatureFailed: 'The checkpoint\'s signature does not verify with the log key you saved: do not rely on this page; report it.',
    signatureUnsigned: 'No log key you saved signed this checkpoint (was the key rotated? check the new key with the operator).',
    signatureUnchecked: 'The checkpoint\'s signature is not checked: save the log\'s key (the operator\'s checkpoint.vkey) under trusted public keys.',
    witnessVerified: (name, time) => `Witness ${name}'s cosignature verifies${time ? ' (' + time + ')' : ''}.`,
    witnessFailed: name => `Witness ${name}'s cosignature does not verify: report it.`,
    witnessMissing: name => `No cosignature by witness ${name}: it has not cosigned a checkpoint that covers this cadre yet.`,
    notWitnessed: 'No witness has cosigned this checkpoint yet (witnesses cosign on a schedule: look again later).',
    proofUnavailable: 'Could not get the verifiable bundle: ', rootHash: 'root hash', recordedAt: 'Recorded at', position: 'Ledger position',
    ruleset: 'Rule set', eventId: 'Event id', notAvailable: 'not available (this ledger does not serve this list)', total: 'total',
    needToken: 'A valid access token (auditor role) is required.', error: 'Error: ', stateAll: 'All events (no date limit)',
    noRows: 'Nothing to act on.', more: 'First 20 shown.',
  },
};

const ACTION_LISTS = [
  { path: '/v1/rotation/due', zh: '应交流与逾期未交流', en: 'Rotations due and overdue' },
  { path: '/v1/notices', zh: '未办结的任前公示与反映', en: 'Open pre-appointment notices and objections' },
  { path: '/v1/audits/open-findings', zh: '未整改的审计问题', en: 'Unresolved audit findings' },
  { path: '/v1/audits/departures-unaudited', zh: '离任未审计', en: 'Departures without an audit' },
  { path: '/v1/inquiries/overdue', zh: '逾期未回复的函询', en: 'Overdue written inquiries' },
  { path: '/v1/watchlist/assessment', zh: '考核预警名单', en: 'Assessment watchlist' },
];

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
// Public keys, not secrets: kept across sessions so that the auditor pins them once (trust on first paste).
const savedKeys = () => ({ log: localStorage.getItem('cadre-log-keys') || '', witness: localStorage.getItem('cadre-witness-keys') || '' });

async function api(path) {
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  const resp = await fetch(path, { headers });
  const text = await resp.text();
  if (!resp.ok) {
    let detail = text;
    try { detail = JSON.parse(text).detail || text; } catch (_) { /* not problem+json */ }
    const err = new Error(resp.status === 401 || resp.status === 403 ? T.needToken + ' (' + detail + ')' : detail);
    err.status = resp.status;
    throw err;
  }
  return { json: JSON.parse(text), text };
}

// The bundle to check: led to the newest checkpoint every witness cosigned where one covers the cadre, else
// to the newest one (one request, so one access record).
const fetchBundle = id => api(`/v1/cadres/${encodeURIComponent(id)}/bundle?prefer_witnessed=true`);

// --- rendering -------------------------------------------------------------------------------------

function renderValue(value) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) {
    if (!value.length) return '—';
    return el('ol', {}, value.map(v => el('li', {}, renderValue(v))));
  }
  if (typeof value === 'object') {
    return el('dl', { class: 'kv' }, Object.entries(value).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, renderValue(v))]));
  }
  if (typeof value === 'boolean') return value ? '✓' : '✗';
  return String(value);
}

function serviceOf(source) { return (source || '').split('/')[3] || '?'; }

function badge(state) {
  const cls = { verified: 'ok', failed: 'bad', checking: 'pending', notCovered: 'pending' }[state];
  return el('span', { class: 'badge ' + cls, 'data-proof': state }, T[state]);
}

function cadreLink(id) {
  const url = new URLSearchParams(location.search);
  url.set('cadre', id);
  return el('a', { href: '?' + url.toString(), class: 'cadre-link', onclick: ev => { ev.preventDefault(); openCadre(id); } }, id);
}

async function search(prefix) {
  const status = $('#search-status'), table = $('#results'), body = table.querySelector('tbody');
  status.textContent = T.searching; status.classList.remove('error');
  body.textContent = ''; table.hidden = true;
  try {
    const { json } = await api('/v1/cadres?limit=50&prefix=' + encodeURIComponent(prefix));
    status.textContent = json.cadres.length ? T.found(json.cadres.length) : T.none;
    for (const c of json.cadres) {
      const last = lang === 'zh' ? c.last_label_zh : c.last_type;
      body.append(el('tr', {}, el('td', {}, cadreLink(c.cadre_id)), el('td', {}, c.county), el('td', {}, c.events),
        el('td', {}, `${last} (${c.last_occurred_on})`)));
    }
    table.hidden = !json.cadres.length;
  } catch (err) {
    status.textContent = T.error + err.message; status.classList.add('error');
  }
}

let current = null;

async function openCadre(id) {
  current = { id, events: [], bundleText: null };
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
  try {
    let after = 0;
    for (;;) {
      const { json } = await api(`/v1/cadres/${encodeURIComponent(id)}/history?limit=1000&after_version=${after}`);
      current.events.push(...json.events);
      if (json.next_after_version === null) break;
      after = json.next_after_version;
    }
  } catch (err) {
    body.textContent = '';
    body.append(el('tr', {}, el('td', { colspan: 5, class: 'error' }, T.error + err.message)));
    $('#proof-summary').textContent = '';
    return;
  }
  renderTimeline();
  loadState();
  checkProofs();
}

function renderTimeline() {
  const body = $('#timeline tbody');
  body.textContent = '';
  for (const row of current.events) {
    const e = row.event;
    const label = lang === 'zh' ? row.label_zh : `${row.label_en} (${row.label_zh})`;
    const short = Object.entries(e.data).filter(([, v]) => typeof v !== 'object').slice(0, 3)
      .map(([k, v]) => `${k}: ${v}`).join(' · ');
    const meta = { [T.eventId]: e.id, [T.position]: row.position, [T.recordedAt]: row.recorded_at, [T.ruleset]: e.ruleset };
    body.append(el('tr', { 'data-position': row.position },
      el('td', { class: 'date' }, row.occurred_on),
      el('td', {}, el('strong', {}, label), el('span', { class: 'type' }, row.type)),
      el('td', {}, el('span', { class: 'svc' }, serviceOf(e.source))),
      el('td', {}, el('details', {}, el('summary', {}, short || T.details), renderValue(e.data), renderValue(meta))),
      el('td', { class: 'proof-cell' }, badge('checking'))));
  }
}

async function checkProofs() {
  const summary = $('#proof-summary');
  try {
    const { json, text } = await fetchBundle(current.id);
    current.bundleText = text;
    const { cp, status } = await verifyBundle(json);
    let failed = 0;
    for (const tr of document.querySelectorAll('#timeline tbody tr[data-position]')) {
      const state = status.get(Number(tr.dataset.position)) || 'notCovered';
      if (state === 'failed') failed++;
      const cell = tr.querySelector('.proof-cell');
      cell.textContent = '';
      cell.append(badge(state));
    }
    summary.textContent = '';
    summary.append(failed ? el('span', { class: 'error' }, T.proofBad(failed)) : T.proofOk(status.size, cp.size, cp.origin),
      el('br'), `${T.rootHash}: `, el('code', {}, hex(cp.root)));
    const witnesses = witnessesOf(json);
    summary.append(el('br'), el('span', { class: 'witnesses' },
      witnesses.length ? T.witnessed(witnesses.join(', ')) : T.notWitnessed));
    $('#download').disabled = false;
    summary.append(...await signatureLines(json));
  } catch (err) {
    summary.textContent = T.proofUnavailable + err.message;
    $('#download').disabled = true;
  }
}

const isoTime = seconds => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

// Each witness whose cosignature of the bundle's checkpoint the bundle carries, with the time it states.
function witnessesOf(bundle) {
  const log = new Set(statedSignatures(bundle.checkpoint).map(s => s.name));
  const seen = new Map();
  for (const note of bundle.cosignatures || []) {
    for (const s of statedSignatures(note)) if (!log.has(s.name)) seen.set(s.name, s.time);
  }
  return [...seen].map(([name, time]) => time === null ? name : `${name} (${isoTime(time)})`);
}

// The summary's lines on the checkpoint's signature and each saved witness's cosignature.
async function signatureLines(bundle) {
  const line = (cls, state, text) => [el('br'), el('span', { class: cls, 'data-signature': state }, text)];
  let logKeys, witnessKeys;
  try {
    const saved = savedKeys();
    [logKeys, witnessKeys] = [await parseVerifierKeys(saved.log), await parseVerifierKeys(saved.witness)];
  } catch (err) {
    return line('error', 'unchecked', T.keysBad + err.message);
  }
  const { log, signedBy, witnesses } = await checkSignatures(bundle, logKeys, witnessKeys);
  const logText = { verified: T.signatureVerified(signedBy.join(', ')), failed: T.signatureFailed,
    unsigned: T.signatureUnsigned, unchecked: T.signatureUnchecked }[log];
  const lines = line({ verified: 'signature ok', unchecked: 'signature hint' }[log] || 'signature error', log, logText);
  for (const w of witnesses) {
    const text = { verified: T.witnessVerified(w.name, w.time === null ? '' : isoTime(w.time)),
      failed: T.witnessFailed(w.name), missing: T.witnessMissing(w.name) }[w.state];
    lines.push(...line(w.state === 'verified' ? 'witness ok' : 'witness error', w.state, text));
  }
  return lines;
}

function saveKeys() {
  const status = $('#keys-status');
  const [log, witness] = [$('#log-keys').value.trim(), $('#witness-keys').value.trim()];
  Promise.all([parseVerifierKeys(log), parseVerifierKeys(witness)]).then(([logKeys, witnessKeys]) => {
    localStorage.setItem('cadre-log-keys', log);
    localStorage.setItem('cadre-witness-keys', witness);
    status.textContent = T.keysSaved(logKeys.length, witnessKeys.length);
    status.classList.remove('error');
    if (current) checkProofs();
  }, err => {
    status.textContent = T.keysBad + err.message;
    status.classList.add('error');
  });
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
  const box = $('#state');
  const asOf = $('#as-of').value;
  box.textContent = T.loading;
  try {
    const q = asOf ? '?as_of=' + asOf : '';
    const { json } = await api(`/v1/cadres/${encodeURIComponent(current.id)}/state${q}`);
    box.textContent = '';
    box.append(el('p', { class: 'hint' }, asOf ? `${T.asOf} ${asOf}` : T.stateAll), renderValue(json));
  } catch (err) {
    box.textContent = T.error + err.message;
  }
}

// Each list renders on its own: a list the ledger does not serve, or one that fails, never breaks the page.
async function loadActionLists() {
  const root = $('#action-lists');
  let paths = {};
  try { paths = (await api('/openapi.json')).json.paths || {}; } catch (_) { /* every list shows as unavailable */ }
  for (const list of ACTION_LISTS) {
    const block = el('div', { class: 'list-block', 'data-list': list.path },
      el('h3', {}, lang === 'zh' ? list.zh : `${list.en} (${list.zh})`));
    root.append(block);
    if (!paths[list.path] || !paths[list.path].get) {
      block.append(el('p', { class: 'hint unavailable' }, T.notAvailable));
      continue;
    }
    try {
      const { json } = await api(list.path);
      block.append(renderList(json));
    } catch (err) {
      block.append(el('p', { class: 'error' }, T.error + err.message));
    }
  }
}

function renderList(page) {
  const rows = Object.values(page).find(Array.isArray) || [];
  const total = page.total ?? page.total_audits ?? rows.length;
  if (!rows.length) return el('p', { class: 'hint' }, T.noRows);
  const columns = [];
  for (const r of rows.slice(0, 20)) for (const [k, v] of Object.entries(r)) {
    if (!columns.includes(k) && columns.length < 7 && (typeof v !== 'object' || Array.isArray(v))) columns.push(k);
  }
  const cell = (k, v) => {
    if (k === 'cadre_id' && typeof v === 'string') return cadreLink(v);
    if (Array.isArray(v)) return String(v.length);
    return v === null || v === undefined ? '—' : String(v);
  };
  return el('div', {},
    el('p', { class: 'count' }, `${T.total} ${total}${rows.length > 20 ? ' · ' + T.more : ''}`),
    el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, columns.map(c => el('th', {}, c)))),
      el('tbody', {}, rows.slice(0, 20).map(r => el('tr', {}, columns.map(c => el('td', {}, cell(c, r[c]))))))));
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
  });
  $('#search').addEventListener('submit', ev => { ev.preventDefault(); search($('#prefix').value.trim()); });
  $('#state-form').addEventListener('submit', ev => { ev.preventDefault(); if (current) loadState(); });
  $('#download').addEventListener('click', downloadBundle);
  $('#download').disabled = true;
  loadActionLists();
  if (params.get('cadre')) openCadre(params.get('cadre'));
}

start();
