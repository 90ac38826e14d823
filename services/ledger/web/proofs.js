// What the auditor page checks of a bundle's hashes in the browser, trusting no server: each event's leaf hash
// (SHA-256 of 0x00 and its canonical bytes), the cadre's hash chain and each RFC 9162 inclusion proof up to the
// checkpoint's root, and RFC 9162 consistency proofs between checkpoints. The checkpoint's signatures are
// signatures.js's.
'use strict';

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

// Tree sizes and indexes as plain numbers (exact up to 2^53): JavaScript's bit operators work on 32 bits.
const odd = n => n % 2 === 1;
const half = n => Math.floor(n / 2);
const isPowerOfTwo = n => n > 0 && 2 ** Math.round(Math.log2(n)) === n;
const sameBytes = (a, b) => a.length === b.length && hex(a) === hex(b);

// RFC 9162 section 2.1.3.2: the root an inclusion proof of leaf `index` in a tree of `size` leaves leads to, or
// null when the proof cannot be one (an index outside the tree, a hash not of 32 bytes, too few or too many).
async function rootFromInclusion(leaf, index, size, proof) {
  if (!(index >= 0 && index < size) || [leaf, ...proof].some(h => h.length !== 32)) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  return sn === 0 ? r : null;
}

// RFC 9162 section 2.1.4.2: whether the tree of `size1` leaves with `root1` is a prefix of the tree of `size2`
// leaves with `root2`, by `proof`. Equal sizes need an empty proof and equal roots (the empty tree's root being
// SHA-256 of nothing); a proof from the empty tree proves nothing and is refused, as the CLI refuses it.
async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (!(size1 >= 0 && size1 <= size2)) return false;
  if (size1 === size2) {
    return proof.length === 0 && sameBytes(root1, root2) && (size1 > 0 || sameBytes(root1, await sha256(new Uint8Array())));
  }
  if (size1 === 0 || !proof.length || [root1, root2, ...proof].some(h => h.length !== 32)) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;  // a perfect old tree is its own first node
  let fn = size1 - 1, sn = size2 - 1;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr); sr = await nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  return sn === 0 && sameBytes(fr, root1) && sameBytes(sr, root2);
}

function parseCheckpoint(note) {
  const lines = note.split('\n');
  return { origin: lines[0], size: parseInt(lines[1], 10), root: unb64(lines[2]) };
}

const utf8 = text => new TextEncoder().encode(text);

// JSON with every object's keys sorted by UTF-16 code units: RFC 8785 (JCS) is by design what JavaScript's own
// serialisation of numbers and strings gives with keys in that order, so this is an envelope's canonical form,
// and two parses of one envelope compare equal whatever their key order.
const stableJson = value => JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v)
  ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));

// Position -> { state: 'verified' | 'failed', event } for every event of the bundle of cadre `cadreId`, and the
// checkpoint its proofs lead to. An event passes when its bytes hash to its leaf hash, chain to the event before,
// lead to the checkpoint's root, come in version order 1..n, are the RFC 8785 canonical form of what they hold
// and are an envelope of that very cadre (`subject`); `event` is that envelope, which the page compares with
// what it shows.
async function verifyBundle(bundle, cadreId) {
  const cp = parseCheckpoint(bundle.checkpoint);
  const checked = new Map();
  let previous = null;
  for (const [i, item] of bundle.events.entries()) {
    const bytes = unb64(item.canonical);
    let event = null;
    try { event = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)); } catch (_) { /* fails below */ }
    const leaf = await leafHash(bytes);
    const chained = item.prev_hash === (previous === null ? null : hex(previous));
    const root = await rootFromInclusion(leaf, item.position - 1, cp.size, item.inclusion_proof.map(unhex));
    const ok = hex(leaf) === item.leaf_hash && chained && root !== null && sameBytes(root, cp.root)
      && item.cadre_version === i + 1 && event !== null && event.subject === cadreId
      && sameBytes(utf8(stableJson(event)), bytes);
    checked.set(item.position, { state: ok ? 'verified' : 'failed', event });
    previous = leaf;
  }
  return { cp, checked };
}
