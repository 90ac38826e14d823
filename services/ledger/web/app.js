// The auditor page (干部履历审阅): plain JavaScript, no framework, nothing loaded from elsewhere.
// It reads the ledger's HTTP API with the auditor's token and checks every event's inclusion proof
// against the signed checkpoint in the browser (SHA-256); the checkpoint's Ed25519 signature is
// verified offline with the CLI, which the page says.
'use strict';

const I18N = {
  zh: {
    title: '干部履历审阅', subtitle: '只读：查看干部履历、某日状态、待办清单，并在浏览器中核验每条记录的包含性证明。',
    token: '访问令牌（审计员角色）', tokenSave: '使用此令牌', tokenHint: '令牌只保存在本浏览器标签页（sessionStorage）中。',
    tokenSaved: '令牌已设置。', find: '查找干部', prefixPlaceholder: '干部编号或其开头，例如 GY90', search: '查找',
    cadreId: '干部编号', county: '县（区）', eventCount: '事件数', lastEvent: '最近事件', cadre: '干部',
    download: '下载可验证履历包', proofNote: '浏览器用 WebCrypto SHA-256 核验：每条记录的哈希、哈希链和到签名检查点根哈希的包含性证明。检查点签名（Ed25519）须用命令行离线核验：cadre-ledger verify bundle 文件 --key 公钥。',
    timeline: '履历时间线', occurredOn: '发生日期', event: '事件', service: '记录服务', details: '详情', proof: '证明',
    stateAsOf: '某日状态', asOf: '截至日期', show: '查看', actionLists: '待办清单',
    actionHint: '台账读模型中需要处理的事项；本台账未提供的清单显示为“暂不可用”。',
    footer: 'cadre-ledger：只可追加、可验证的干部任用监督台账。',
    searching: '查找中…', found: n => `找到 ${n} 名干部。`, none: '没有匹配的干部。', loading: '加载中…',
    verified: '已验证', failed: '未通过', checking: '核验中', notCovered: '未纳入检查点',
    proofOk: (n, size, origin) => `${n} 条记录全部通过包含性证明核验，检查点：${origin}，树大小 ${size}。`,
    proofBad: n => `${n} 条记录未通过核验，请用命令行复核并报告。`,
    witnessed: list => `见证方联署：${list}。联署签名须用命令行核验：cadre-ledger verify bundle 文件 --key 公钥 --witness-key 见证方公钥。`,
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
    download: 'Download verifiable bundle', proofNote: 'Checked in the browser with WebCrypto SHA-256: each record\'s hash, the hash chain and the inclusion proof up to the signed checkpoint\'s root hash. The checkpoint\'s Ed25519 signature must be verified offline with the CLI: cadre-ledger verify bundle FILE --key PUBLIC_KEY.',
    timeline: 'Timeline', occurredOn: 'Occurred on', event: 'Event', service: 'Recorded by', details: 'Details', proof: 'Proof',
    stateAsOf: 'State as of a date', asOf: 'As of', show: 'Show', actionLists: 'Lists that need action',
    actionHint: 'Items the ledger\'s read models flag for action; a list this ledger does not serve shows as "not available".',
    footer: 'cadre-ledger: an append-only, verifiable ledger of cadres\' careers.',
    searching: 'Searching…', found: n => `${n} cadre(s) found.`, none: 'No matching cadre.', loading: 'Loading…',
    verified: 'verified', failed: 'failed', checking: 'checking', notCovered: 'not in checkpoint',
    proofOk: (n, size, origin) => `All ${n} records pass their inclusion proofs; checkpoint ${origin}, tree size ${size}.`,
    proofBad: n => `${n} record(s) failed verification: re-check with the CLI and report it.`,
    witnessed: list => `Cosigned by witnesses: ${list}. Their signatures are checked offline: cadre-ledger verify bundle FILE --key PUBLIC_KEY --witness-key WITNESS_KEY.`,
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

// --- SHA-256 and RFC 9162 inclusion proofs ----------------------------------------------------------

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2]);

// Fallback when WebCrypto is absent (it exists only in secure contexts: HTTPS or localhost).
function sha256Js(bytes) {
  const len = bytes.length, bitLen = len * 8;
  const padded = new Uint8Array(((len + 9 + 63) >> 6) << 6);
  padded.set(bytes); padded[len] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, Math.floor(bitLen / 0x100000000)); dv.setUint32(padded.length - 4, bitLen >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = dv.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  h.forEach((v, i) => new DataView(out.buffer).setUint32(i * 4, v));
  return out;
}

async function sha256(bytes) {
  if (window.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return sha256Js(bytes);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
const unhex = text => new Uint8Array((text.match(/../g) || []).map(h => parseInt(h, 16)));
const unb64 = text => Uint8Array.from(atob(text), ch => ch.charCodeAt(0));
const leafHash = bytes => sha256(concat(new Uint8Array([0]), bytes));
const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

// RFC 9162 section 2.1.3.2: verify an inclusion proof of leaf `index` in a tree of `size` leaves.
async function rootFromInclusion(leaf, index, size, proof) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if ((fn & 1) === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1) === 0) while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1; sn >>= 1;
  }
  return sn === 0 ? r : null;
}

function parseCheckpoint(note) {
  const lines = note.split('\n');
  return { origin: lines[0], size: parseInt(lines[1], 10), root: unb64(lines[2]) };
}

// Position -> 'verified' | 'failed' for every event of the bundle, plus the checkpoint it leads to.
async function verifyBundle(bundle) {
  const cp = parseCheckpoint(bundle.checkpoint);
  const status = new Map();
  let previous = null;
  for (const item of bundle.events) {
    const leaf = await leafHash(unb64(item.canonical));
    const chained = (item.prev_hash === null ? null : item.prev_hash) === (previous === null ? null : hex(previous));
    const root = await rootFromInclusion(leaf, item.position - 1, cp.size, item.inclusion_proof.map(unhex));
    const ok = hex(leaf) === item.leaf_hash && chained && root !== null && hex(root) === hex(cp.root);
    status.set(item.position, ok ? 'verified' : 'failed');
    previous = leaf;
  }
  return { cp, status };
}

// The signature lines of a signed note: key name and, for a C2SP cosignature/v1 (key ID 4 bytes, big-endian
// uint64 time 8, Ed25519 signature 64), the time it states. Names and times only: the page does not check
// Ed25519 signatures, the CLI does (verify bundle --witness-key).
function signatureLines(note) {
  return note.slice(note.lastIndexOf('\n\n') + 2).split('\n').filter(l => l.startsWith('\u2014 ')).map(line => {
    const [, name, encoded] = line.split(' ');
    const raw = unb64(encoded);
    const time = raw.length === 76 ? Number(new DataView(raw.buffer).getBigUint64(4)) : null;
    return { name, time };
  });
}

// Each witness whose cosignature of the bundle's checkpoint the bundle carries, with the time it states.
function witnessesOf(bundle) {
  const log = new Set(signatureLines(bundle.checkpoint).map(s => s.name));
  const seen = new Map();
  for (const note of bundle.cosignatures || []) {
    for (const s of signatureLines(note)) if (!log.has(s.name)) seen.set(s.name, s.time);
  }
  return [...seen].map(([name, time]) => time === null ? name
    : `${name} (${new Date(time * 1000).toISOString().replace('.000Z', 'Z')})`);
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
  } catch (err) {
    summary.textContent = T.proofUnavailable + err.message;
    $('#download').disabled = true;
  }
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
