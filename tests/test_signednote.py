"""Signed notes and checkpoints: format, keys, signing, cosigning (0x01 and cosignature/v1), strict verification."""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared import cosignature
from shared.merkle import EMPTY_ROOT, leaf_hash
from shared.signednote import (
    COSIGNATURE_V1_TYPE,
    MAX_SIGNATURES,
    Checkpoint,
    NoteError,
    Signer,
    VerifiedSignature,
    Verifier,
    add_signature,
    generate_key,
    key_id,
    open_note,
    sign_note,
    verify_note,
)
from tests.support import last_signature_bytes, with_last_signature_bytes

# The example key pair and note of Go's golang.org/x/mod/sumdb/note documentation: if these
# round-trip, notes and keys interoperate with Go witnesses and tooling.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIGNATURE = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
GO_NOTE = f"{GO_TEXT}\n\u2014 PeterNeumann {GO_SIGNATURE}\n"

LOG = "ledger.cadre.example/log"
WITNESS = "witness.example/w1"


@pytest.fixture(scope="module")
def log_keys() -> tuple[Signer, Verifier]:
    skey, vkey = generate_key(LOG)
    return Signer.from_skey(skey), Verifier.from_vkey(vkey)


@pytest.fixture(scope="module")
def witness_keys() -> tuple[Signer, Verifier]:
    skey, vkey = generate_key(WITNESS)
    return Signer.from_skey(skey), Verifier.from_vkey(vkey)


def _checkpoint_body() -> str:
    return Checkpoint(LOG, 3, leaf_hash(b"root")).to_note_body()


# ---- keys -------------------------------------------------------------------------------------------


def test_key_id_follows_the_specification() -> None:
    # Spelled out from c2sp.org/signed-note: SHA-256(key name || 0x0A || 0x01 || public key)[:4].
    seed = bytes(range(32))
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    by_hand = hashlib.sha256(b"example.com/log" + b"\x0a" + b"\x01" + public).digest()[:4]
    assert key_id("example.com/log", public) == by_hand
    signer = Signer("example.com/log", Ed25519PrivateKey.from_private_bytes(seed))
    assert signer.key_id == by_hand
    assert signer.verifier().vkey.split("+")[1] == by_hand.hex()


def test_go_reference_key_id() -> None:
    public = base64.b64decode(GO_VKEY.split("+")[2])[1:]
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + public).digest()[:4]
    assert expected.hex() == "c74f20a3"
    assert Verifier.from_vkey(GO_VKEY).key_id == expected


def test_generated_key_strings_round_trip() -> None:
    skey, vkey = generate_key(LOG)
    assert skey.startswith(f"PRIVATE+KEY+{LOG}+")
    assert vkey.startswith(f"{LOG}+")
    signer, verifier = Signer.from_skey(skey), Verifier.from_vkey(vkey)
    assert signer.verifier().vkey == verifier.vkey == vkey
    assert signer.key_id == verifier.key_id
    typed_key = base64.b64decode(vkey.split("+", 2)[2])
    assert typed_key[0] == 0x01
    assert len(typed_key) == 33


def test_go_reference_keys_and_note() -> None:
    signer = Signer.from_skey(GO_SKEY)
    assert signer.verifier().vkey == GO_VKEY
    # Ed25519 is deterministic, so the signature must equal Go's byte for byte.
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.from_vkey(GO_VKEY)]) == (GO_TEXT, ["PeterNeumann"])


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # key ID does not match
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case hex
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcMQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # truncated key
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        GO_SKEY.removeprefix("PRIVATE+KEY+"),
        GO_SKEY.replace("c74f20a3", "00000000"),
        GO_SKEY.replace("+AYEK", "+AoEK"),  # wrong type byte
        GO_SKEY + "AAAA",
    ],
)
def test_malformed_signer_keys_are_rejected(skey: str) -> None:
    with pytest.raises(NoteError):
        Signer.from_skey(skey)


def test_invalid_key_names_are_rejected() -> None:
    for name in ["", "a b", "a+b", "tab\there", "no\u00a0break"]:
        with pytest.raises(NoteError):
            generate_key(name)


# ---- signing and opening ----------------------------------------------------------------------------


def test_sign_and_open_round_trip(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    body = _checkpoint_body()
    note = sign_note(body, [signer])
    head, signature_line = note.split("\n\n")
    assert head + "\n" == body
    assert signature_line.startswith(f"\u2014 {LOG} ")
    raw = base64.b64decode(signature_line.split(" ")[2])
    assert raw[:4] == signer.key_id
    assert len(raw) == 4 + 64
    assert verifier.verify(body.encode(), raw[4:])
    assert open_note(note, [verifier]) == (body, [LOG])
    assert open_note(note.encode(), [verifier]) == (body, [LOG])


def test_text_with_blank_lines_is_split_at_the_last_one(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    body = "first paragraph\n\nsecond paragraph\n"
    assert open_note(sign_note(body, [signer]), [verifier]) == (body, [LOG])


def test_cosigning_by_a_witness(
    log_keys: tuple[Signer, Verifier], witness_keys: tuple[Signer, Verifier]
) -> None:
    log_signer, log_verifier = log_keys
    witness_signer, witness_verifier = witness_keys
    body = _checkpoint_body()
    note = sign_note(body, [log_signer])
    cosigned = add_signature(note, witness_signer)
    assert cosigned.startswith(note)
    assert open_note(cosigned, [log_verifier, witness_verifier]) == (body, [LOG, WITNESS])
    assert open_note(cosigned, [witness_verifier]) == (body, [WITNESS])
    # Same result as signing with both keys at once.
    assert cosigned == sign_note(body, [log_signer, witness_signer])
    with pytest.raises(NoteError, match="already signed"):
        add_signature(cosigned, witness_signer)


def test_tampered_body_fails(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    note = sign_note(_checkpoint_body(), [signer])
    tampered = note.replace("\n3\n", "\n4\n", 1)
    assert tampered != note
    with pytest.raises(NoteError, match="does not verify"):
        open_note(tampered, [verifier])


def test_tampered_signature_fails(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    note = sign_note(_checkpoint_body(), [signer])
    body, line = note.split("\n\n")
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 1
    forged = f"{body}\n\n\u2014 {LOG} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match="does not verify"):
        open_note(forged, [verifier])


def test_unknown_signatures_are_ignored(
    log_keys: tuple[Signer, Verifier], witness_keys: tuple[Signer, Verifier]
) -> None:
    log_signer, log_verifier = log_keys
    witness_signer, witness_verifier = witness_keys
    body = _checkpoint_body()
    # A key with the log's name but another key ID is a different key: ignored, not a failure.
    impostor = Signer(LOG, Ed25519PrivateKey.generate())
    note = sign_note(body, [witness_signer, impostor, log_signer])
    assert open_note(note, [log_verifier]) == (body, [LOG])

    only_unknown = sign_note(body, [witness_signer, impostor])
    with pytest.raises(NoteError, match="no signature from a trusted key"):
        open_note(only_unknown, [log_verifier])
    with pytest.raises(NoteError, match="no signature from a trusted key"):
        open_note(only_unknown, [])
    assert open_note(only_unknown, [witness_verifier]) == (body, [WITNESS])


def test_known_key_with_bad_signature_rejects_the_note(
    log_keys: tuple[Signer, Verifier], witness_keys: tuple[Signer, Verifier]
) -> None:
    log_signer, log_verifier = log_keys
    witness_signer, witness_verifier = witness_keys
    body = _checkpoint_body()
    good = sign_note(body, [log_signer])
    # The witness signed a different text: its line is well formed but wrong for this body.
    bad_line = sign_note("something else\n", [witness_signer]).split("\n\n")[1]
    with pytest.raises(NoteError, match=f"{WITNESS!r} does not verify"):
        open_note(good + bad_line, [log_verifier, witness_verifier])
    # Unknown to this client, the same line is simply ignored.
    assert open_note(good + bad_line, [log_verifier]) == (body, [LOG])


def test_duplicate_verifiers_are_a_configuration_error(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    with pytest.raises(ValueError, match="share name"):
        open_note(sign_note("x\n", [signer]), [verifier, Verifier.from_vkey(verifier.vkey)])


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda note: note.replace("\n\n", "\n"), "blank line"),
        (lambda note: note[:-1], "end with a newline"),
        (lambda note: note + "\n", "no signature lines"),
        (lambda note: note + "trailing junk\n", "malformed signature line"),
        (lambda note: note.replace("\u2014 ", "- "), "malformed signature line"),
        (lambda note: note.replace("\u2014 ", "\u2014  "), "malformed signature line"),
        (lambda note: note.replace("=\n", "=x\n"), "base64"),
        (lambda note: note.replace("\n", "\r\n"), "control character"),
        (lambda note: note.replace("ledger", "led\x00ger", 1), "control character"),
        (lambda note: note + note.split("\n\n")[1], "appears twice"),
        (lambda note: note.split("\n\n")[0] + "\n\n\u2014 " + LOG + " AAAA\n", "too short"),
    ],
)
def test_malformed_notes_are_rejected(
    log_keys: tuple[Signer, Verifier], mangle: Callable[[str], str], message: str
) -> None:
    signer, verifier = log_keys
    note = sign_note(_checkpoint_body(), [signer])
    with pytest.raises(NoteError, match=message):
        open_note(mangle(note), [verifier])


def test_invalid_utf8_is_rejected(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    note = sign_note("caf\u00e9\n", [signer]).encode()
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(note.replace("é".encode(), b"\xe9"), [verifier])
    with pytest.raises(NoteError, match="UTF-8"):
        sign_note("lone \udc80 surrogate\n", [signer])


def test_signature_count_is_limited(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    body = "many cosigners\n"
    others = [Signer(f"witness.example/{i}", Ed25519PrivateKey.generate()) for i in range(MAX_SIGNATURES)]
    assert open_note(sign_note(body, [*others[:-1], signer]), [verifier]) == (body, [LOG])
    with pytest.raises(NoteError, match="more than"):
        open_note(sign_note(body, [*others, signer]), [verifier])


def test_sign_note_rejects_bad_text(log_keys: tuple[Signer, Verifier]) -> None:
    signer, _ = log_keys
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("no final newline", [signer])
    with pytest.raises(NoteError, match="control character"):
        sign_note("tab\there\n", [signer])
    with pytest.raises(ValueError, match="at least one signer"):
        sign_note("text\n", [])
    with pytest.raises(NoteError, match="appears twice"):
        sign_note("text\n", [signer, signer])


# ---- checkpoints ------------------------------------------------------------------------------------


def test_checkpoint_body_format() -> None:
    root = bytes(range(32))
    checkpoint = Checkpoint(LOG, 20852163, root)
    body = checkpoint.to_note_body()
    assert body == f"{LOG}\n20852163\n{base64.b64encode(root).decode()}\n"
    assert body == "ledger.cadre.example/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    assert Checkpoint.parse(body) == checkpoint


def test_checkpoint_with_extensions_and_empty_tree() -> None:
    checkpoint = Checkpoint(LOG, 0, EMPTY_ROOT, ("ext one", "ext two"))
    body = checkpoint.to_note_body()
    assert body.splitlines()[1:] == ["0", base64.b64encode(EMPTY_ROOT).decode(), "ext one", "ext two"]
    assert Checkpoint.parse(body) == checkpoint


def test_signed_checkpoint_round_trip(log_keys: tuple[Signer, Verifier]) -> None:
    signer, verifier = log_keys
    checkpoint = Checkpoint(LOG, 42, leaf_hash(b"x"))
    body, names = open_note(sign_note(checkpoint.to_note_body(), [signer]), [verifier])
    assert names == [LOG]
    assert Checkpoint.parse(body) == checkpoint


_ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"{LOG}\n1\n{_ROOT_B64}",  # no final newline
        f"{LOG}\n1\n",  # no root line
        f"\n1\n{_ROOT_B64}\n",  # empty origin
        f"{LOG}\n01\n{_ROOT_B64}\n",  # leading zero
        f"{LOG}\n-1\n{_ROOT_B64}\n",
        f"{LOG}\n+1\n{_ROOT_B64}\n",
        f"{LOG}\n 1\n{_ROOT_B64}\n",
        f"{LOG}\n\u0661\n{_ROOT_B64}\n",  # a non-ASCII digit
        f"{LOG}\n{2**64}\n{_ROOT_B64}\n",
        f"{LOG}\n1\n{base64.b64encode(bytes(31)).decode()}\n",
        f"{LOG}\n1\n{_ROOT_B64[:-1]}\n",
        f"{LOG}\n1\n{_ROOT_B64}\n\n",  # empty extension line
        f"{LOG}\n1\n{_ROOT_B64}\next\n\nmore\n",
    ],
)
def test_malformed_checkpoints_are_rejected(body: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_checkpoint_values_are_validated() -> None:
    with pytest.raises(NoteError):
        Checkpoint("", 1, bytes(32))
    with pytest.raises(NoteError):
        Checkpoint("two\nlines", 1, bytes(32))
    with pytest.raises(NoteError):
        Checkpoint(LOG, -1, bytes(32))
    with pytest.raises(NoteError):
        Checkpoint(LOG, 1, bytes(31))
    with pytest.raises(NoteError):
        Checkpoint(LOG, 1, bytes(32), ("",))
    with pytest.raises(NoteError):
        Checkpoint(LOG, 1, bytes(32), ("bell\x07",))


# ---- cosignature/v1 (c2sp.org/tlog-cosignature, signature type 0x04) --------------------------------

# Published by FiloSottile/sunlight (cmd/skylight/testdata, generated with filippo.io/torchwood): a
# witness's cosignature/v1 verifier key and a checkpoint it cosigned. Verifying it shows the message,
# key ID and byte layout here match the Go implementation the witness ecosystem runs.
SUNLIGHT_WITNESS_VKEY = "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN"
SUNLIGHT_NOTE = (
    "rome2026h1.example.org\n300\nlCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=\n\n"
    "\u2014 rome2026h1.example.org kVB1JgAAAZtxtEwABAMARzBFAiEAi+mTa2xjL1IdWpH82OeciGsGvwRAP+f1WkfKaSZCfFECIHoNPZ/Q"
    "3y6UNzvKOO9cuLr6V16vPNfhwhle9f6r5H/Z\n"
    "\u2014 witness.example.org uKLPIAAAAABpVGeAhm2bOvKc3LaB9PFN1ruG19Y5yqslmcAAbhftnn1Zznmo0LXFZq4LGvqKqLX8jWlwLKasx"
    "EGTLIqAVusneCBmBw==\n"
)
SUNLIGHT_TIMESTAMP = 1767139200  # 2025-12-31T00:00:00Z, the time the generator fixed


def _cosigner(seed: bytes = bytes(range(32)), name: str = WITNESS) -> Signer:
    return Signer(name, Ed25519PrivateKey.from_private_bytes(seed), COSIGNATURE_V1_TYPE)


def test_published_cosignature_verifies_with_its_timestamp() -> None:
    verifier = Verifier.from_vkey(SUNLIGHT_WITNESS_VKEY)
    assert verifier.key_type == COSIGNATURE_V1_TYPE
    public = base64.b64decode(SUNLIGHT_WITNESS_VKEY.split("+", 2)[2])[1:]
    assert hashlib.sha256(b"witness.example.org\n\x04" + public).digest()[:4].hex() == "b8a2cf20"
    opened = verify_note(SUNLIGHT_NOTE, [verifier])  # the log's line (an RFC 6962 key) is unknown: ignored
    assert opened.body == "rome2026h1.example.org\n300\nlCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=\n"
    assert opened.signatures == (VerifiedSignature("witness.example.org", verifier.key_id, 0x04, SUNLIGHT_TIMESTAMP),)
    assert Checkpoint.parse(opened.body).size == 300
    # One second later in the timestamp, and the same signature no longer verifies.
    raw = last_signature_bytes(SUNLIGHT_NOTE)
    shifted = raw[:4] + struct.pack(">Q", SUNLIGHT_TIMESTAMP + 1) + raw[12:]
    with pytest.raises(NoteError, match=r"'witness\.example\.org' does not verify"):
        verify_note(with_last_signature_bytes(SUNLIGHT_NOTE, shifted), [verifier])


def test_published_key_ids_and_timestamps() -> None:
    # transparency-dev/formats note/note_cosigv1_test.go: a native 0x04 verifier key, and a
    # cosignature whose timestamp field holds 1727964367.
    assert Verifier.from_vkey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2").key_type == 4
    formats_sig = base64.b64decode("ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEH"
                                   "WWOworDcFiEBYJXORmnFBOBA==")
    assert cosignature.decode(formats_sig[4:])[0] == 1727964367
    # c2sp.org/tlog-cosignature: the example line's timestamp is the one its example message shows.
    spec_sig = base64.b64decode("jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nN"
                                "o0xUe+mbIUBkBIfZ+qnA==")
    assert cosignature.decode(spec_sig[4:])[0] == 1679315147


def test_cosignature_layout_spelled_out(log_keys: tuple[Signer, Verifier]) -> None:
    # Every byte from c2sp.org/tlog-cosignature and c2sp.org/signed-note, by hand.
    log_signer, log_verifier = log_keys
    seed = bytes(range(32))
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    kid = hashlib.sha256(WITNESS.encode() + b"\x0a" + b"\x04" + public).digest()[:4]
    witness = _cosigner(seed)
    assert witness.key_id == kid == key_id(WITNESS, public, COSIGNATURE_V1_TYPE)
    assert kid != key_id(WITNESS, public)  # the type byte is hashed: same key, another ID than 0x01
    typed_public, typed_seed = base64.b64encode(b"\x04" + public).decode(), base64.b64encode(b"\x04" + seed).decode()
    assert witness.verifier().vkey == f"{WITNESS}+{kid.hex()}+{typed_public}"
    assert witness.skey == f"PRIVATE+KEY+{WITNESS}+{kid.hex()}+{typed_seed}"

    body = _checkpoint_body()
    note = sign_note(body, [log_signer])
    message = f"cosignature/v1\ntime 1700000000\n{body}".encode()
    assert cosignature.signed_message(body.encode(), 1700000000) == message
    line_bytes = kid + (1700000000).to_bytes(8, "big") + private.sign(message)
    expected = f"{note}\u2014 {WITNESS} {base64.b64encode(line_bytes).decode()}\n"
    assert add_signature(note, witness, timestamp=1700000000) == expected  # Ed25519 is deterministic
    opened = verify_note(expected, [log_verifier, witness.verifier()])
    assert opened.names == [LOG, WITNESS]
    assert opened.by(log_verifier) == VerifiedSignature(LOG, log_verifier.key_id, 0x01, None)
    assert opened.by(witness.verifier()) == VerifiedSignature(WITNESS, kid, 0x04, 1700000000)
    assert cosignature.signed_message(b"x\n", 0) == b"cosignature/v1\ntime 0\nx\n"  # no leading zeros


def test_cosignature_key_round_trip_and_default_time(log_keys: tuple[Signer, Verifier]) -> None:
    skey, vkey = generate_key(WITNESS, COSIGNATURE_V1_TYPE)
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    assert base64.b64decode(skey.split("+", 4)[4])[0] == 0x04
    signer, verifier = Signer.from_skey(skey), Verifier.from_vkey(vkey)
    assert (signer.key_type, verifier.key_type) == (COSIGNATURE_V1_TYPE, COSIGNATURE_V1_TYPE)
    assert signer.verifier().vkey == vkey and signer.skey == skey
    before = int(time.time())
    cosigned = add_signature(sign_note(_checkpoint_body(), [log_keys[0]]), signer)
    signature = verify_note(cosigned, [verifier]).by(verifier)
    assert signature is not None and signature.timestamp is not None
    assert before <= signature.timestamp <= time.time()
    assert open_note(cosigned, [log_keys[1], verifier]) == (_checkpoint_body(), [LOG, WITNESS])


def test_a_key_of_the_other_type_does_not_verify(log_keys: tuple[Signer, Verifier]) -> None:
    seed = bytes(range(32))
    witness, plain = _cosigner(seed), Signer(WITNESS, Ed25519PrivateKey.from_private_bytes(seed))
    note = sign_note(_checkpoint_body(), [log_keys[0]])
    cosigned = add_signature(note, witness, timestamp=1700000000)
    # The same Ed25519 key as type 0x01 has another key ID: the cosignature is not its signature.
    with pytest.raises(NoteError, match="no signature from a trusted key"):
        verify_note(cosigned, [plain.verifier()])
    # A plain signature relabelled with the cosignature key's ID is too short to be a cosignature/v1.
    signed_plain = add_signature(note, plain)
    relabelled = with_last_signature_bytes(signed_plain, witness.key_id + last_signature_bytes(signed_plain)[4:])
    with pytest.raises(NoteError, match=r"malformed: a cosignature/v1 signature has 72 bytes .* got 64"):
        verify_note(relabelled, [witness.verifier()])
    # And a cosignature relabelled as the plain key's does not verify as a plain signature.
    as_plain = with_last_signature_bytes(cosigned, plain.key_id + last_signature_bytes(cosigned)[4:])
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(as_plain, [plain.verifier()])


def _cosigned_by_witness(log_keys: tuple[Signer, Verifier]) -> str:
    return add_signature(sign_note(_checkpoint_body(), [log_keys[0]]), _cosigner(), timestamp=1700000000)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda raw: raw[:4] + struct.pack(">Q", 1700000001) + raw[12:], "does not verify"),  # tampered time
        (lambda raw: raw[:-1], "72 bytes .* got 71"),
        (lambda raw: raw + b"\x00", "72 bytes .* got 73"),
        (lambda raw: raw[:4] + raw[12:], "72 bytes .* got 64"),  # no timestamp
        (lambda raw: raw[:4] + struct.pack(">Q", 2**63) + raw[12:], r"outside 0\.\.2\^63-1"),
        (lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]), "does not verify"),
    ],
)
def test_malformed_cosignatures_are_rejected(
    log_keys: tuple[Signer, Verifier], mangle: Callable[[bytes], bytes], message: str
) -> None:
    cosigned = _cosigned_by_witness(log_keys)
    assert verify_note(cosigned, [_cosigner().verifier()]).signatures[0].timestamp == 1700000000
    mangled = with_last_signature_bytes(cosigned, mangle(last_signature_bytes(cosigned)))
    with pytest.raises(NoteError, match=message):
        verify_note(mangled, [log_keys[1], _cosigner().verifier()])


def test_non_canonical_cosignature_encodings_are_rejected(log_keys: tuple[Signer, Verifier]) -> None:
    cosigned = _cosigned_by_witness(log_keys)
    witness = _cosigner().verifier()
    last = cosigned.rstrip("\n").rsplit(" ", 1)[1]
    # 76 bytes: two padding characters; the last data character has 4 spare bits, which must be zero.
    assert last.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    spare_bits = last[:-3] + alphabet[alphabet.index(last[-3]) + 1] + "=="
    assert base64.b64decode(spare_bits) == base64.b64decode(last)
    with pytest.raises(NoteError, match="not canonical base64"):
        verify_note(cosigned.replace(last, spare_bits), [witness])
    with pytest.raises(NoteError, match="not valid base64"):
        verify_note(cosigned.replace(last, last[:-1]), [witness])
    with pytest.raises(NoteError, match="appears twice"):
        verify_note(cosigned + cosigned.rstrip("\n").rsplit("\n", 1)[1] + "\n", [witness])
    with pytest.raises(NoteError, match="already signed"):
        add_signature(cosigned, _cosigner(), timestamp=1700000001)
    # The vkey's key ID must be the one computed with type 0x04.
    wrong_id = witness.vkey.replace(witness.key_id.hex(), key_id(WITNESS, witness.public_key.public_bytes_raw()).hex())
    with pytest.raises(NoteError, match="states key ID"):
        Verifier.from_vkey(wrong_id)
    with pytest.raises(NoteError, match="outside"):
        add_signature(sign_note("x\n", [log_keys[0]]), _cosigner(), timestamp=-1)


def test_timestamps_ahead_of_the_clock_or_before_the_checkpoint() -> None:
    cosignature.check_timestamp(1000 + cosignature.MAX_AHEAD_S, now=1000)
    with pytest.raises(cosignature.CosignatureError, match="601 s ahead"):
        cosignature.check_timestamp(1000 + cosignature.MAX_AHEAD_S + 1, now=1000)
    cosignature.check_timestamp(5000 - cosignature.MAX_AHEAD_S, now=9000, signed_at=5000)
    with pytest.raises(cosignature.CosignatureError, match="601 s before the checkpoint was signed"):
        cosignature.check_timestamp(5000 - cosignature.MAX_AHEAD_S - 1, now=9000, signed_at=5000)
    assert cosignature.format_time(SUNLIGHT_TIMESTAMP) == "2025-12-31T00:00:00Z"
