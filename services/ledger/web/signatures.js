// The signatures of a bundle's checkpoint, checked in the browser against keys the auditor saved (pinned) on
// this page, never against keys a server hands out: the log's Ed25519 signature of the checkpoint (C2SP signed
// note, type 0x01) and each witness's cosignature (type 0x01, or C2SP cosignature/v1, type 0x04, which signs a
// time with the text). The same rules as `cadre-ledger verify bundle --key --witness-key`: a signature by a
// saved key must verify, at least one saved log key must have signed, and every saved witness must have cosigned
// the checkpoint's very text. WebCrypto's Ed25519 where the browser has it; otherwise (no secure context, or an
// older browser) RFC 8032 verification in plain JavaScript below, which the page's tests run against RFC 8032's
// vectors. Uses proofs.js's hashing helpers.
'use strict';

const ED25519_TYPE = 1;
const COSIGNATURE_V1_TYPE = 4;
const KEY_ID_SIZE = 4;

// --- SHA-512 (what Ed25519 hashes with), for when WebCrypto is absent ----------------------------------------

const K512 = [
  '428a2f98d728ae22', '7137449123ef65cd', 'b5c0fbcfec4d3b2f', 'e9b5dba58189dbbc', '3956c25bf348b538',
  '59f111f1b605d019', '923f82a4af194f9b', 'ab1c5ed5da6d8118', 'd807aa98a3030242', '12835b0145706fbe',
  '243185be4ee4b28c', '550c7dc3d5ffb4e2', '72be5d74f27b896f', '80deb1fe3b1696b1', '9bdc06a725c71235',
  'c19bf174cf692694', 'e49b69c19ef14ad2', 'efbe4786384f25e3', '0fc19dc68b8cd5b5', '240ca1cc77ac9c65',
  '2de92c6f592b0275', '4a7484aa6ea6e483', '5cb0a9dcbd41fbd4', '76f988da831153b5', '983e5152ee66dfab',
  'a831c66d2db43210', 'b00327c898fb213f', 'bf597fc7beef0ee4', 'c6e00bf33da88fc2', 'd5a79147930aa725',
  '06ca6351e003826f', '142929670a0e6e70', '27b70a8546d22ffc', '2e1b21385c26c926', '4d2c6dfc5ac42aed',
  '53380d139d95b3df', '650a73548baf63de', '766a0abb3c77b2a8', '81c2c92e47edaee6', '92722c851482353b',
  'a2bfe8a14cf10364', 'a81a664bbc423001', 'c24b8b70d0f89791', 'c76c51a30654be30', 'd192e819d6ef5218',
  'd69906245565a910', 'f40e35855771202a', '106aa07032bbd1b8', '19a4c116b8d2d0c8', '1e376c085141ab53',
  '2748774cdf8eeb99', '34b0bcb5e19b48a8', '391c0cb3c5c95a63', '4ed8aa4ae3418acb', '5b9cca4f7763e373',
  '682e6ff3d6b2b8a3', '748f82ee5defb2fc', '78a5636f43172f60', '84c87814a1f0ab72', '8cc702081a6439ec',
  '90befffa23631e28', 'a4506cebde82bde9', 'bef9a3f7b2c67915', 'c67178f2e372532b', 'ca273eceea26619c',
  'd186b8c721c0c207', 'eada7dd6cde0eb1e', 'f57d4f7fee6ed178', '06f067aa72176fba', '0a637dc5a2c898a6',
  '113f9804bef90dae', '1b710b35131c471b', '28db77f523047d84', '32caab7b40c72493', '3c9ebe0a15c9bebc',
  '431d67c49c100d4c', '4cc5d4becb3e42b6', '597f299cfc657e2a', '5fcb6fab3ad6faec', '6c44198c4a475817',
].map(h => BigInt('0x' + h));
const H512 = ['6a09e667f3bcc908', 'bb67ae8584caa73b', '3c6ef372fe94f82b', 'a54ff53a5f1d36f1', '510e527fade682d1',
  '9b05688c2b3e6c1f', '1f83d9abfb41bd6b', '5be0cd19137e2179'].map(h => BigInt('0x' + h));
const MASK64 = (1n << 64n) - 1n;

// FIPS 180-4 SHA-512 on BigInt words: slow, but Ed25519 hashes a few hundred bytes per signature.
function sha512Js(bytes) {
  const len = bytes.length;
  const padded = new Uint8Array(((len + 17 + 127) >> 7) << 7);
  padded.set(bytes); padded[len] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setBigUint64(padded.length - 8, BigInt(len) * 8n);
  const h = H512.slice();
  const w = new Array(80);
  const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & MASK64;
  for (let off = 0; off < padded.length; off += 128) {
    for (let i = 0; i < 16; i++) w[i] = dv.getBigUint64(off + i * 8);
    for (let i = 16; i < 80; i++) {
      const s0 = rotr(w[i - 15], 1n) ^ rotr(w[i - 15], 8n) ^ (w[i - 15] >> 7n);
      const s1 = rotr(w[i - 2], 19n) ^ rotr(w[i - 2], 61n) ^ (w[i - 2] >> 6n);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & MASK64;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 80; i++) {
      const t1 = (hh + (rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n)) + ((e & f) ^ (~e & MASK64 & g)) + K512[i] + w[i]) & MASK64;
      const t2 = ((rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n)) + ((a & b) ^ (a & c) ^ (b & c))) & MASK64;
      hh = g; g = f; f = e; e = (d + t1) & MASK64; d = c; c = b; b = a; a = (t1 + t2) & MASK64;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => { h[i] = (h[i] + v) & MASK64; });
  }
  const out = new Uint8Array(64);
  h.forEach((v, i) => new DataView(out.buffer).setBigUint64(i * 8, v));
  return out;
}

async function sha512(bytes) {
  if (window.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-512', bytes));
  return sha512Js(bytes);
}

// --- Ed25519 verification, RFC 8032 section 5.1.7 (cofactorless, as OpenSSL and the CLI check) ---------------

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;  // the base point's order
const mod = (a, m = P) => { const r = a % m; return r >= 0n ? r : r + m; };
function powMod(base, exponent, m = P) {
  let result = 1n;
  for (let b = mod(base, m), e = exponent; e > 0n; e >>= 1n, b = b * b % m) if (e & 1n) result = result * b % m;
  return result;
}
const invert = a => powMod(a, P - 2n);
const D = mod(-121665n * invert(121666n));
const SQRT_M1 = powMod(2n, (P - 1n) / 4n);
const BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
const BASE_Y = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;
const BASE = [BASE_X, BASE_Y, 1n, mod(BASE_X * BASE_Y)];  // extended coordinates (X, Y, Z, T)
const NEUTRAL = [0n, 1n, 1n, 0n];

// RFC 8032 5.1.4: the twisted Edwards addition, complete, so it doubles as well.
function pointAdd([x1, y1, z1, t1], [x2, y2, z2, t2]) {
  const a = mod((y1 - x1) * (y2 - x2)), b = mod((y1 + x1) * (y2 + x2));
  const c = mod(t1 * 2n * D * t2), d = mod(z1 * 2n * z2);
  const e = b - a, f = d - c, g = d + c, h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function scalarMult(scalar, point) {
  let result = NEUTRAL;
  for (let k = scalar, q = point; k > 0n; k >>= 1n, q = pointAdd(q, q)) if (k & 1n) result = pointAdd(result, q);
  return result;
}

const littleEndian = bytes => bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);

// RFC 8032 5.1.3: a point from its 32 bytes, or null for bytes that encode none (or not canonically).
function decodePoint(bytes) {
  const n = littleEndian(bytes), sign = n >> 255n, y = n & ((1n << 255n) - 1n);
  if (y >= P) return null;
  const u = mod(y * y - 1n), v = mod(D * y * y + 1n);
  let x = mod(u * powMod(v, 3n) * powMod(u * powMod(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === mod(-u)) x = mod(x * SQRT_M1);
  else if (vx2 !== u) return null;
  if (x === 0n && sign === 1n) return null;
  if ((x & 1n) !== sign) x = P - x;
  return [x, y, 1n, mod(x * y)];
}

function encodePoint([x, y, z]) {
  const zi = invert(z);
  let n = mod(y * zi) | ((mod(x * zi) & 1n) << 255n);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 255n);
  return out;
}

// Whether `signature` (64 bytes) is the Ed25519 signature of `message` by `publicKey` (32 bytes): [S]B = R + [k]A.
async function ed25519VerifyJs(publicKey, signature, message) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const a = decodePoint(publicKey), r = signature.subarray(0, 32), s = littleEndian(signature.subarray(32));
  if (a === null || decodePoint(r) === null || s >= L) return false;
  const k = mod(littleEndian(await sha512(concat(r, publicKey, message))), L);
  const [x, y, z, t] = scalarMult(k, a);
  return hex(encodePoint(pointAdd(scalarMult(s, BASE), [mod(-x), y, z, mod(-t)]))) === hex(r);
}

async function ed25519Verify(publicKey, signature, message) {
  if (window.crypto && crypto.subtle) {
    try {
      const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
    } catch (_) { /* no Ed25519 in this browser's WebCrypto, or a key it will not import: check it below */ }
  }
  return ed25519VerifyJs(publicKey, signature, message);
}

// --- keys and signed notes --------------------------------------------------------------------------------------

// A verifier key string `<name>+<hex key ID>+<base64(type || public key)>` (a `.vkey` file's line), checked as the
// CLI checks it: an Ed25519 key of type 0x01 or 0x04 whose key ID is SHA-256(name || 0x0A || type || key)[:4].
async function parseVerifierKey(text) {
  const first = text.indexOf('+'), second = text.indexOf('+', first + 1);  // base64 itself may hold '+'
  if (first <= 0 || second < 0) throw new Error('公钥格式应为 名称+密钥编号+公钥 (a key is <name>+<key ID>+<key>)');
  const name = text.slice(0, first), id = text.slice(first + 1, second);
  if (/[\s+]/.test(name)) throw new Error(`密钥名称 ${name} 不得含空格 (a key name has no spaces)`);
  if (!/^[0-9a-f]{8}$/.test(id)) throw new Error(`密钥编号应为 8 位小写十六进制 (the key ID is 8 lowercase hex digits): ${id}`);
  let typed;
  try { typed = unb64(text.slice(second + 1)); } catch (_) { typed = new Uint8Array(); }
  if (typed.length !== 33 || ![ED25519_TYPE, COSIGNATURE_V1_TYPE].includes(typed[0])) {
    throw new Error(`${name}：不是 Ed25519 公钥 (not an Ed25519 key of type 0x01 or 0x04)`);
  }
  const key = typed.slice(1);
  const computed = (await sha256(concat(utf8(name), new Uint8Array([0x0a, typed[0]]), key))).slice(0, KEY_ID_SIZE);
  if (hex(computed) !== id) {
    throw new Error(`${name}：密钥编号与公钥不符 (the key ID ${id} is not the key's, ${hex(computed)})`);
  }
  return { name, keyId: id, type: typed[0], key };
}

// Every key of a textarea, one per line (blank lines ignored); an error names the line.
async function parseVerifierKeys(text) {
  const keys = [];
  const lines = text.split('\n').map(line => line.trim());
  for (const [i, line] of lines.entries()) {
    if (!line) continue;
    try { keys.push(await parseVerifierKey(line)); } catch (err) { throw new Error(`第 ${i + 1} 行 (line ${i + 1})：${err.message}`); }
  }
  return keys;
}

// A signed note's text (up to its last blank line) and signature lines: key name, key ID (hex), the bytes after it.
function noteParts(note) {
  const at = note.lastIndexOf('\n\n');
  const lines = at < 0 ? [] : note.slice(at + 2).split('\n').filter(l => l.startsWith('\u2014 ')).map(line => {
    const [, name, encoded] = line.split(' ');
    let raw;
    try { raw = unb64(encoded || ''); } catch (_) { raw = new Uint8Array(); }
    return { name, keyId: hex(raw.subarray(0, KEY_ID_SIZE)), signed: raw.subarray(KEY_ID_SIZE) };
  });
  return { body: at < 0 ? note : note.slice(0, at + 1), lines };
}

// The note's signatures by any of `keys`, each { key, ok, time } (time: what a cosignature/v1 states, else null).
async function signaturesBy(note, keys) {
  const { body, lines } = noteParts(note);
  const text = utf8(body), found = [];
  for (const line of lines) {
    const key = keys.find(k => k.name === line.name && k.keyId === line.keyId);
    if (!key) continue;  // a key this auditor did not save: ignored, as the signed-note specification says
    if (key.type !== COSIGNATURE_V1_TYPE) {
      found.push({ key, time: null, ok: await ed25519Verify(key.key, line.signed, text) });
    } else if (line.signed.length !== 8 + 64) {
      found.push({ key, time: null, ok: false });
    } else {
      const time = new DataView(line.signed.buffer, line.signed.byteOffset).getBigUint64(0);
      const message = concat(utf8(`cosignature/v1\ntime ${time}\n`), text);
      found.push({ key, time: Number(time), ok: await ed25519Verify(key.key, line.signed.subarray(8), message) });
    }
  }
  return { body, found };
}

// The text the ledger signs with a bundle (履历完整性声明, shared/bundle.py's head_text): in the log up to the
// checkpoint, the cadre has exactly the bundle's events, the last with the bundle's last leaf hash. Inclusion
// proofs and the chain cannot show that no newer event was cut off; this signed statement does.
function headText(bundle) {
  const [origin, size, root] = noteParts(bundle.checkpoint).body.split('\n');
  const last = bundle.events[bundle.events.length - 1];
  return ['cadre-ledger bundle head v1', origin, size, root, `cadre ${bundle.cadre_id}`,
    `events ${bundle.events.length}`, `last ${last.leaf_hash}`].join('\n') + '\n';
}

// The bundle's signatures against the saved keys. `log`: 'verified' (every signature by a saved log key verifies,
// and there is one), 'failed' (one does not), 'unsigned' (none of the saved keys signed it) or 'unchecked' (no
// log key saved); `signedBy`: the key names that verified. `witnesses`: for each saved witness key, its
// cosignature of the checkpoint's text, { name, state: 'verified' | 'failed' | 'missing', time }. `head`: the
// ledger's signed head, 'verified' (by a saved log key, stating exactly these events), 'incomplete' (it states
// other events: some were cut off or changed), 'failed', 'missing' or 'unchecked' (no log key saved).
async function checkSignatures(bundle, logKeys, witnessKeys) {
  const checkpoint = await signaturesBy(bundle.checkpoint, logKeys);
  let log = 'unchecked';
  if (logKeys.length) log = !checkpoint.found.length ? 'unsigned' : checkpoint.found.every(s => s.ok) ? 'verified' : 'failed';
  const signedBy = checkpoint.found.filter(s => s.ok).map(s => s.key.name);
  const witnesses = [];
  for (const key of witnessKeys) {
    let entry = { name: key.name, state: 'missing', time: null };
    for (const note of bundle.cosignatures || []) {
      const { body, found } = await signaturesBy(note, [key]);
      if (!found.length) continue;
      // A cosignature of another text vouches for another checkpoint, not this one.
      entry = { name: key.name, state: found[0].ok && body === checkpoint.body ? 'verified' : 'failed', time: found[0].time };
      break;
    }
    witnesses.push(entry);
  }
  let head = 'unchecked';
  if (logKeys.length) {
    const signed = typeof bundle.head === 'string' ? await signaturesBy(bundle.head, logKeys) : { found: [] };
    head = !signed.found.length ? 'missing' : !signed.found.every(s => s.ok) ? 'failed'
      : signed.body === headText(bundle) ? 'verified' : 'incomplete';
  }
  return { log, signedBy, witnesses, head };
}

// The signature lines of a signed note: key name and, for a C2SP cosignature/v1 (key ID 4 bytes, big-endian
// uint64 time 8, Ed25519 signature 64), the time it states, read without checking the signature: what the page
// shows of witnesses whose keys the auditor has not saved.
function statedSignatures(note) {
  return noteParts(note).lines.map(({ name, signed }) => ({
    name, time: signed.length === 72 ? Number(new DataView(signed.buffer, signed.byteOffset).getBigUint64(0)) : null,
  }));
}
