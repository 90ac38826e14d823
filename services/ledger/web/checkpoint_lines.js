// The proof summary's lines on the bundle's checkpoint (检查点): its signature by the log's saved keys, each saved
// witness's cosignature, and its consistency with the largest checkpoint this browser has verified. Uses app.js's
// and signatures.js's helpers; loaded after app.js, called once the page has started.
'use strict';

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

// One line of the proof summary, its verdict in a data attribute (`data-signature`, `data-consistency`).
const summaryLine = (attribute, cls, state, text) => [el('br'), el('span', { class: cls, [attribute]: state }, text)];

// States of the checkpoint's checks that show it is not the log's as the auditor's keys and memory know it.
const DISTRUSTED = new Set(['failed', 'unsigned', 'missing', 'inconsistent', 'rolled-back', 'incomplete']);

// The summary's lines on the checkpoint's signature and each saved witness's cosignature, and whether the checkpoint
// can be trusted (no saved key says otherwise); `consistency`: also check the verified checkpoint against the
// largest one remembered (this ledger's bundles, not files).
async function signatureLines(bundle, consistency = true) {
  const line = (cls, state, text) => summaryLine('data-signature', cls, state, text);
  let logKeys, witnessKeys;
  try {
    const saved = savedKeys();
    [logKeys, witnessKeys] = [await parseVerifierKeys(saved.log), await parseVerifierKeys(saved.witness)];
  } catch (err) {
    return { lines: line('error', 'unchecked', T.keysBad + err.message), trusted: true };
  }
  const { log, signedBy, witnesses, head } = await checkSignatures(bundle, logKeys, witnessKeys);
  const logText = { verified: T.signatureVerified(signedBy.join(', ')), failed: T.signatureFailed,
    unsigned: T.signatureUnsigned, unchecked: T.signatureUnchecked }[log];
  const lines = line({ verified: 'signature ok', unchecked: 'signature hint' }[log] || 'signature error', log, logText);
  if (head !== 'unchecked') {
    const headLine = { verified: T.headVerified(bundle.events.length), incomplete: T.headIncomplete,
      failed: T.headFailed, missing: T.headMissing }[head];
    lines.push(...summaryLine('data-head', head === 'verified' ? 'head ok' : 'head error', head, headLine));
  }
  if (log === 'verified' && consistency) lines.push(...await consistencyLine(parseCheckpoint(bundle.checkpoint)));
  for (const w of witnesses) {
    const text = { verified: T.witnessVerified(w.name, w.time === null ? '' : isoTime(w.time)),
      failed: T.witnessFailed(w.name), missing: T.witnessMissing(w.name) }[w.state];
    lines.push(...line(w.state === 'verified' ? 'witness ok' : 'witness error', w.state, text));
  }
  const verdicts = lines.map(node => node.dataset.signature || node.dataset.consistency || node.dataset.head);  // <br>s have none
  return { lines, trusted: !verdicts.some(verdict => DISTRUSTED.has(verdict)) };
}

// The largest checkpoint of each log (by its origin line) this browser verified the signature of: every later
// checkpoint must be consistent with it, as a witness checks, so a rewritten ledger or a split view (different
// auditors shown different trees) shows here even before any witness sees it.
const seenKey = origin => 'cadre-seen-checkpoint:' + origin;

async function consistencyLine(cp) {
  const line = (cls, state, text) => summaryLine('data-consistency', cls, state, text);
  const remembered = JSON.parse(stored(seenKey(cp.origin)) || 'null');
  const remember = () => store(seenKey(cp.origin), JSON.stringify({ size: cp.size, root: hex(cp.root) }));
  if (!remembered) {
    return remember() ? line('consistency hint', 'first', T.consistencyFirst(cp.size))
      : line('consistency error', 'unavailable', T.consistencyUnavailable + T.storageRefused);
  }
  const seen = { size: remembered.size, root: unhex(remembered.root) };
  const [older, newer] = seen.size <= cp.size ? [seen, cp] : [cp, seen];
  try {
    const proof = older.size === newer.size ? []
      : (await api(`/v1/proofs/consistency?first=${older.size}&second=${newer.size}`)).json.proof.map(unhex);
    if (!await verifyConsistency(older.size, newer.size, older.root, newer.root, proof)) {
      return line('consistency error', 'inconsistent', T.consistencyBad(seen.size));
    }
  } catch (err) {
    // A log now smaller than a checkpoint it signed has lost signed entries: rolled back, not merely unreachable.
    if (err.status === 422 && seen.size > cp.size) return line('consistency error', 'rolled-back', T.consistencyRolledBack(seen.size));
    return line('consistency error', 'unavailable', T.consistencyUnavailable + err.message);
  }
  if (cp.size > seen.size) remember();
  return line('consistency ok', 'consistent', T.consistencyOk(seen.size));
}
