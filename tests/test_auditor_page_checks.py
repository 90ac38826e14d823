"""The auditor page's own cryptography, run in Chromium against reference results: the transparency-dev/merkle
RFC 6962/9162 proof vectors (as `tests/test_merkle_vectors.py` runs the CLI's), and Ed25519 and SHA-512 against
OpenSSL, each through WebCrypto and through the plain JavaScript a browser without it (plain HTTP) runs."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from playwright.async_api import Browser, Page

from services.ledger.auditor_page import add_auditor_page
from shared.canonical import canonical_bytes
from tests.merkle_vectors_support import EXPECTED_CONSISTENCY_CASES, EXPECTED_INCLUSION_CASES, VECTORS, vector_files
from tests.support import WITHOUT_WEBCRYPTO, served


@pytest.fixture(scope="module")
async def page_url() -> AsyncIterator[str]:
    """The page's files, served as the ledger serves them, without a ledger behind them."""
    app = web.Application()
    add_auditor_page(app)
    async with served(app) as url:
        yield f"{url}/?lang=en"


async def _page(browser: Browser, url: str, webcrypto: bool) -> Page:
    context = await browser.new_context()
    if not webcrypto:
        await context.add_init_script(WITHOUT_WEBCRYPTO)
    page = await context.new_page()
    await page.goto(url)
    assert await page.evaluate("Boolean(window.crypto.subtle)") is webcrypto
    return page


@pytest.mark.parametrize("webcrypto", [True, False], ids=["webcrypto", "plain-javascript"])
async def test_the_pages_merkle_proof_checks_pass_the_rfc_9162_vectors(
        browser: Browser, page_url: str, webcrypto: bool) -> None:
    inclusion = [json.loads(path.read_text(encoding="utf-8")) for path in vector_files("inclusion")]
    consistency = [json.loads(path.read_text(encoding="utf-8")) for path in vector_files("consistency")]
    assert (len(inclusion), len(consistency)) == (EXPECTED_INCLUSION_CASES, EXPECTED_CONSISTENCY_CASES), VECTORS
    page = await _page(browser, page_url, webcrypto)
    accepted = await page.evaluate("""async ([inclusion, consistency]) => {
        const proof = c => (c.proof || []).map(unb64);
        const out = { inclusion: [], consistency: [] };
        for (const c of inclusion) {
          const root = await rootFromInclusion(unb64(c.leafHash), c.leafIdx, c.treeSize, proof(c));
          out.inclusion.push(root !== null && sameBytes(root, unb64(c.root)));
        }
        for (const c of consistency) {
          out.consistency.push(await verifyConsistency(c.size1, c.size2, unb64(c.root1), unb64(c.root2), proof(c)));
        }
        return out;
    }""", [inclusion, consistency])
    wrong = [f"inclusion {c['desc']}" for c, ok in zip(inclusion, accepted["inclusion"], strict=True)
             if ok == c["wantErr"]]
    wrong += [f"consistency {c['desc']} ({c['size1']} -> {c['size2']})"
              for c, ok in zip(consistency, accepted["consistency"], strict=True) if ok == c["wantErr"]]
    assert wrong == []
    await page.context.close()


_ORDER = 2**252 + 27742317777372353535851937790883648493  # Ed25519's group order L


def _ed25519_cases() -> list[tuple[str, str, str, bool]]:
    """(public key, signature, message, valid) in hex: signatures OpenSSL made, and broken copies of them."""
    cases = []
    other = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32).public_key().public_bytes_raw()
    for seed, message in ((b"\x01" * 32, b""), (b"\x02" * 32, b"r"), (bytes(range(32)), bytes(range(256)) * 4),
                          (b"\x03" * 32, "检查点\n".encode() * 40)):
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        signature = Ed25519PrivateKey.from_private_bytes(seed).sign(message)
        s = int.from_bytes(signature[32:], "little")
        cases += [(public, signature, message, True),
                  (public, signature, message + b"!", False),
                  (public, bytes([signature[0] ^ 1]) + signature[1:], message, False),
                  (public, signature[:63] + bytes([signature[63] ^ 0x08]), message, False),
                  (public, signature[:32] + (s + _ORDER).to_bytes(32, "little"), message, False),  # S unreduced
                  (other, signature, message, False),
                  (b"\xff" * 31 + b"\x7f", signature, message, False)]  # y >= p: encodes no point
    for public, signature, message, valid in cases:  # the table agrees with OpenSSL
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
            assert valid
        except (InvalidSignature, ValueError):
            assert not valid
    return [(public.hex(), signature.hex(), message.hex(), valid) for public, signature, message, valid in cases]


async def test_the_pages_ed25519_and_sha512_agree_with_openssl_in_webcrypto_and_in_plain_javascript(
        browser: Browser, page_url: str) -> None:
    """`ed25519VerifyJs` is what a browser without WebCrypto's Ed25519 (or over plain HTTP) runs."""
    page = await _page(browser, page_url, webcrypto=True)
    cases = _ed25519_cases()
    results = await page.evaluate("""async cases => {
        const out = [];
        for (const [key, sig, msg] of cases) {
          const args = [unhex(key), unhex(sig), unhex(msg)];
          out.push([await ed25519VerifyJs(...args), await ed25519Verify(...args)]);
        }
        return out;
    }""", [list(case[:3]) for case in cases])
    assert results == [[valid, valid] for *_, valid in cases]
    messages = [bytes(range(256))[:n] * (1 + n // 256) for n in (0, 1, 111, 112, 127, 128, 129, 255)] + [b"x" * 1000]
    digests = await page.evaluate("hexes => hexes.map(h => hex(sha512Js(unhex(h))))", [m.hex() for m in messages])
    assert digests == [hashlib.sha512(m).hexdigest() for m in messages]
    await page.context.close()


def _one_event_bundle(raw: bytes, cadre_id: str, version: int = 1) -> dict[str, Any]:
    """A bundle of one event in a tree of one leaf (its root is the leaf), as the page receives bundles."""
    leaf = hashlib.sha256(b"\x00" + raw).digest()
    return {"cadre_id": cadre_id, "checkpoint": f"cadre-ledger.test/log\n1\n{base64.b64encode(leaf).decode()}\n",
            "events": [{"position": 1, "cadre_version": version, "prev_hash": None, "leaf_hash": leaf.hex(),
                        "canonical": base64.b64encode(raw).decode(), "inclusion_proof": []}]}


async def test_the_page_passes_only_an_envelope_in_rfc_8785_canonical_form_of_the_cadre_asked_for(
        browser: Browser, page_url: str) -> None:
    envelope = {"id": "e-1", "subject": "GY9001", "type": "audit.completed", "data": {
        "amount": 1.0, "unit": "桂阳县审计局", "note": "é\u2028", "big": 1e21, "z": [1, {"b": 2, "a": 1}]}}
    canonical = canonical_bytes(envelope)
    cases = {
        "canonical": (canonical, "GY9001", 1, "verified"),
        "a space after a colon": (canonical.replace(b'"id":', b'"id": '), "GY9001", 1, "failed"),
        "keys out of order": (orjson.dumps({"subject": "GY9001", **envelope}), "GY9001", 1, "failed"),
        "an escaped letter": (canonical.replace("é".encode(), b"\\u00e9"), "GY9001", 1, "failed"),
        "1.0 where JCS writes 1": (canonical.replace(b'"amount":1', b'"amount":1.0'), "GY9001", 1, "failed"),
        "another cadre's envelope": (canonical, "GY9002", 1, "failed"),
        "version 2 first": (canonical, "GY9001", 2, "failed"),
        "not UTF-8": (canonical.replace("桂".encode(), b"\xff\xfe\xfd"), "GY9001", 1, "failed"),
    }
    # JCS: 1.0 is written 1, 1e21 is 1e+21, U+2028 stays literal
    assert b'"amount":1,' in canonical and b'"big":1e+21' in canonical and b"\\u2028" not in canonical
    page = await _page(browser, page_url, webcrypto=True)
    states = await page.evaluate("""async cases => {
        const out = {};
        for (const [name, [bundle, cadre]] of Object.entries(cases)) {
          out[name] = (await verifyBundle(bundle, cadre)).checked.get(1).state;
        }
        return out;
    }""", {name: [_one_event_bundle(raw, "GY9001", version), cadre]
           for name, (raw, cadre, version, _) in cases.items()})
    assert states == {name: want for name, (*_, want) in cases.items()}
    await page.context.close()
