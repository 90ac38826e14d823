// A bundle file the auditor holds (downloaded here, or received from another office) checked in this browser:
// the checks of the page's own bundles and of `cadre-ledger verify bundle`, with the keys saved on the page.
// The file is read locally and sent nowhere, so no token is needed.
'use strict';

const BUNDLE_FORMAT = 'cadre-ledger-bundle/2';
const UNSIGNED_HEAD_FORMAT = 'cadre-ledger-bundle/1';  // exported before bundles carried the ledger's signed head

let lastFile = null;  // checked again when the auditor saves other keys: its verdict depends on them

function recheckBundleFile() { if (lastFile) checkBundleFile(lastFile); }

async function checkBundleFile(file) {
  lastFile = file;
  const run = ++asked.file;
  const box = $('#bundle-result');
  box.hidden = false;
  box.textContent = T.checking + '…';
  let bundle;
  try {
    bundle = JSON.parse(await file.text());
    if (bundle && bundle.format === UNSIGNED_HEAD_FORMAT) throw new Error(T.oldBundle);
    if (!bundle || bundle.format !== BUNDLE_FORMAT || typeof bundle.checkpoint !== 'string'
        || !Array.isArray(bundle.events) || !bundle.events.length) throw new Error(T.notABundle);
    const { cp, checked } = await verifyBundle(bundle, bundle.cadre_id);
    const failed = [...checked.values()].filter(c => c.state !== 'verified').length;
    const { lines, trusted } = await signatureLines(bundle, false);
    // complete up to its own checkpoint only: a larger checkpoint of the log verified here may hold newer records
    const seen = JSON.parse(stored(seenKey(cp.origin)) || 'null');
    if (seen && seen.size > cp.size) lines.push(...summaryLine('data-freshness', 'hint', 'older', T.fileOlder(cp.size, seen.size)));
    if (!latest('file', run)) return;  // another file, or other keys, were chosen meanwhile
    box.textContent = '';
    box.append(el('strong', {}, `${T.cadre} ${bundle.cadre_id}`), el('br'),
      failed ? el('span', { class: 'error', 'data-file': 'failed' }, T.proofBad(failed))
        : el('span', { 'data-file': 'verified' }, T.proofOk(checked.size, cp.size, cp.origin)),
      ...lines,
      el('table', { class: 'grid' }, el('tbody', {}, [...checked].map(([position, c]) => el('tr', {},
        el('td', {}, position), el('td', { class: 'date' }, c.event ? c.event.occurredon : '—'),
        el('td', {}, c.event ? c.event.type : '—'), el('td', {}, badge(underCheckpoint(c.state, trusted))))))));
  } catch (err) {
    if (!latest('file', run)) return;
    box.textContent = '';
    // the browser's own words (JSON.parse, atob) are English whatever the page's language
    const said = err instanceof SyntaxError ? T.notJson : err.name === 'InvalidCharacterError' ? T.badEncoding
      : err.name === 'NotReadableError' ? T.fileUnreadable : err.message;
    box.append(el('span', { class: 'error', 'data-file': 'unreadable' }, T.bundleUnreadable + said));
  }
}

$('#bundle-input').addEventListener('change', ev => { if (ev.target.files.length) checkBundleFile(ev.target.files[0]); });
