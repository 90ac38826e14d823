"""C2SP signed notes (c2sp.org/signed-note) and transparency-log checkpoints (c2sp.org/tlog-checkpoint).

Only Ed25519 (signature type 0x01) is implemented. Keys use the string encodings of Go's
golang.org/x/mod/sumdb/note, so keys and notes interoperate with the Go tooling and witnesses:

- verifier key: ``<name>+<key ID as 8 hex digits>+<base64(0x01 || 32-byte public key)>``
- signer key: ``PRIVATE+KEY+<name>+<key ID as 8 hex digits>+<base64(0x01 || 32-byte seed)>``

with key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4].

A signed note is its text (ending in a newline), a blank line, then one or more signature lines
``— <key name> <base64(key ID || signature)>``; the signature covers the UTF-8 bytes of the text,
final newline included. Parsing is strict: anything the specification does not allow is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_TYPE = 0x01
"""Signature type identifier byte of Ed25519 in the signed-note specification."""

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note; the specification requires accepting at least 16."""

SIGNATURE_PREFIX = "\u2014 "
"""Start of every signature line: em dash (U+2014) and a space."""

_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_ROOT_SIZE = 32
_MAX_TREE_SIZE = 2**64 - 1
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
# Any ASCII control character except newline; the specification forbids them anywhere in a note.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note, checkpoint or key string is malformed, or a note's signatures do not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + public_key).digest()[:_KEY_ID_SIZE]


def _check_key_name(name: str) -> None:
    # Names sit between "— " and " " in signature lines and between "+" in key strings.
    if not name:
        raise NoteError("key name must not be empty")
    if "+" in name or any(char.isspace() for char in name):
        raise NoteError(f"key name {name!r} must not contain spaces or '+'")
    if _CONTROL.search(name) or not _is_utf8_encodable(name):
        raise NoteError(f"key name {name!r} must be valid UTF-8 without control characters")


class Verifier:
    """An Ed25519 verifier key with its name, as trusted by whoever opens notes."""

    __slots__ = ("key_id", "name", "public_key")

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        """Wrap ``public_key`` under the key name ``name``."""
        _check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        name, id_hex, raw_key = _parse_key_string(vkey, "verifier key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw_key))
        _check_key_id(verifier.key_id, id_hex, name)
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string, to publish and configure in clients and witnesses."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(bytes([ED25519_TYPE]) + raw)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """An Ed25519 signing key with its name; keep the private key out of the database."""

    __slots__ = ("_private_key", "key_id", "name")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        """Wrap ``private_key`` under the key name ``name``."""
        _check_key_name(name)
        self.name = name
        self._private_key = private_key
        raw_public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, raw_public)

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse a signer key string ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``."""
        if not skey.startswith(_PRIVATE_KEY_PREFIX):
            raise NoteError("signer key must start with 'PRIVATE+KEY+'")
        name, id_hex, seed = _parse_key_string(skey.removeprefix(_PRIVATE_KEY_PREFIX), "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        _check_key_id(signer.key_id, id_hex, name)
        return signer

    def verifier(self) -> Verifier:
        """Return the matching verifier."""
        return Verifier(self.name, self._private_key.public_key())

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of ``message``."""
        return self._private_key.sign(message)


def generate_key(name: str) -> tuple[str, str]:
    """Create a new Ed25519 key named ``name``; return its (signer key, verifier key) strings."""
    private_key = Ed25519PrivateKey.generate()
    signer = Signer(name, private_key)
    seed = private_key.private_bytes_raw()
    skey = f"{_PRIVATE_KEY_PREFIX}{name}+{signer.key_id.hex()}+{_b64encode(bytes([ED25519_TYPE]) + seed)}"
    return skey, signer.verifier().vkey


def _parse_key_string(encoded: str, what: str) -> tuple[str, str, bytes]:
    """Split ``<name>+<hex key ID>+<base64(type || key)>``; return the name, key ID and raw key."""
    # Base64 may itself contain '+', so only the first two separate fields.
    parts = encoded.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} must have the form <name>+<key ID>+<key>")
    name, id_hex, key_b64 = parts
    _check_key_name(name)
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(f"{what} key ID must be 8 lowercase hex digits, got {id_hex!r}")
    typed_key = _b64decode(key_b64, f"{what} key")
    if len(typed_key) != 1 + _ED25519_KEY_SIZE or typed_key[0] != ED25519_TYPE:
        raise NoteError(f"{what} is not an Ed25519 key (type 0x01 followed by 32 bytes)")
    return name, id_hex, typed_key[1:]


def _check_key_id(computed: bytes, stated_hex: str, name: str) -> None:
    # The key ID in a key string is redundant; a mismatch means a corrupted or tampered key string.
    if stated_hex != computed.hex():
        raise NoteError(f"key string for {name!r} states key ID {stated_hex}, its key has {computed.hex()}")


def sign_note(body: str, signers: Sequence[Signer]) -> str:
    """Sign the note text ``body`` with every signer; return the signed note.

    ``body`` must end with a newline and contain no control characters other than newlines.
    """
    _check_text(body, "note text")
    if not body.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if not signers:
        raise ValueError("a note needs at least one signer")
    _reject_duplicate_keys((signer.name, signer.key_id) for signer in signers)
    message = body.encode()
    return body + "\n" + "".join(_signature_line(signer, message) for signer in signers)


def add_signature(note_text: str, signer: Signer) -> str:
    """Append ``signer``'s signature of the note text to an already signed note (cosigning).

    The existing signatures are not verified here: a witness must first check the note with
    `open_note` against the log's key (and check consistency) before cosigning it.
    """
    body, signatures = _split_note(note_text)
    if any((name, raw[:_KEY_ID_SIZE]) == (signer.name, signer.key_id) for name, raw in signatures):
        raise NoteError(f"note is already signed by key {signer.name!r}")
    return note_text + _signature_line(signer, body.encode())


def open_note(text: str | bytes, verifiers: Sequence[Verifier]) -> tuple[str, list[str]]:
    """Check the signed note ``text`` against trusted ``verifiers``; return its body and verified names.

    Signatures from unknown keys (by name and key ID) are ignored, as the specification requires.
    Raises `NoteError` if the note is malformed, if a signature from a known key fails to verify, or
    if no known key signed it. Names are returned in signature-line order.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NoteError("note is not valid UTF-8") from error
    trusted: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        if (verifier.name, verifier.key_id) in trusted:
            raise ValueError(f"two verifiers share name {verifier.name!r} and key ID {verifier.key_id.hex()}")
        trusted[(verifier.name, verifier.key_id)] = verifier

    body, signatures = _split_note(text)
    message = body.encode()
    verified: list[str] = []
    for name, raw in signatures:
        known = trusted.get((name, raw[:_KEY_ID_SIZE]))
        if known is None:
            continue
        if not known.verify(message, raw[_KEY_ID_SIZE:]):
            raise NoteError(f"signature by known key {name!r} does not verify")
        verified.append(name)
    if not verified:
        raise NoteError("note has no signature from a trusted key")
    return body, verified


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a signed note into its text and its (key name, key ID || signature) pairs, strictly."""
    _check_text(note, "note")
    # The text may itself contain blank lines; it ends at the last one.
    separator = note.rfind("\n\n")
    if separator < 0:
        raise NoteError("note has no blank line before its signatures")
    body, block = note[: separator + 1], note[separator + 2 :]
    if not block:
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    signatures: list[tuple[str, bytes]] = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        fields = line.removeprefix(SIGNATURE_PREFIX).split(" ")
        if len(fields) != 2:
            raise NoteError(f"malformed signature line {line!r}")
        name, encoded = fields
        _check_key_name(name)
        raw = _b64decode(encoded, f"signature by {name!r}")
        if len(raw) <= _KEY_ID_SIZE:
            raise NoteError(f"signature by {name!r} is too short")
        signatures.append((name, raw))
    _reject_duplicate_keys((name, raw[:_KEY_ID_SIZE]) for name, raw in signatures)
    return body, signatures


def _signature_line(signer: Signer, message: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{signer.name} {_b64encode(signer.key_id + signer.sign(message))}\n"


def _reject_duplicate_keys(keys: Iterable[tuple[str, bytes]]) -> None:
    # One signature per key: a repeat is either a mistake or an attempt to confuse counting.
    seen: set[tuple[str, bytes]] = set()
    for name, identifier in keys:
        if (name, identifier) in seen:
            raise NoteError(f"key {name!r} ({identifier.hex()}) appears twice")
        seen.add((name, identifier))


def _check_text(text: str, what: str) -> None:
    if not _is_utf8_encodable(text):
        raise NoteError(f"{what} is not valid UTF-8")
    if _CONTROL.search(text):
        raise NoteError(f"{what} contains a control character other than newline")


def _is_utf8_encodable(text: str) -> bool:
    # A str can hold lone surrogates, which have no UTF-8 encoding.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(encoded: str, what: str) -> bytes:
    """Decode standard padded base64, rejecting any non-canonical spelling of the same bytes."""
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError(f"{what} is not valid base64") from error
    if _b64encode(decoded) != encoded:
        raise NoteError(f"{what} is not canonical base64")
    return decoded


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A transparency-log checkpoint: the note text stating a log's tree size and root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject values that cannot be written as a valid checkpoint text."""
        if not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin must be a non-empty single line")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise NoteError(f"checkpoint tree size {self.size} is out of range")
        if len(self.root) != _ROOT_SIZE:
            raise NoteError(f"checkpoint root must be {_ROOT_SIZE} bytes, got {len(self.root)}")
        for extension in self.extensions:
            if not extension or "\n" in extension:
                raise NoteError("checkpoint extension lines must be non-empty single lines")
        _check_text(self.to_note_body(), "checkpoint")

    def to_note_body(self) -> str:
        """Return the note text: origin, size and base64 root lines, extension lines, final newline."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note text (as returned by `open_note`); raise `NoteError` if malformed."""
        if not body.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("checkpoint text needs origin, tree size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise NoteError(f"checkpoint tree size {size_text!r} is not a decimal without leading zeros")
        root = _b64decode(root_text, "checkpoint root hash")
        return cls(origin, int(size_text), root, tuple(extensions))
