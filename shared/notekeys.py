"""Signed-note keys (c2sp.org/signed-note): names, key IDs, key strings, Ed25519 signers and verifiers.

Two signature types, told apart by the key's type byte (TYPE below):

- 0x01, a plain Ed25519 note signature over the note text: the log signs its checkpoints with it;
- 0x04, a C2SP tlog-cosignature "cosignature/v1" (`shared.cosignature`): a witness's timestamped
  cosignature (联署, with a 时间戳 timestamp) of a checkpoint.

Key strings are those of Go's golang.org/x/mod/sumdb/note, so keys interoperate with the Go tooling and
witnesses:

- verifier key: ``<name>+<key ID as 8 hex digits>+<base64(TYPE || 32-byte public key)>``
- signer key: ``PRIVATE+KEY+<name>+<key ID as 8 hex digits>+<base64(TYPE || 32-byte seed)>``

with key ID = SHA-256(name || 0x0A || TYPE || public key)[:4]. `shared.signednote` builds notes with them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared import cosignature
from shared.cosignature import COSIGNATURE_V1_TYPE

ED25519_TYPE = 0x01
"""Signature type identifier byte of Ed25519 in the signed-note specification."""

KEY_TYPES = {ED25519_TYPE: "Ed25519 signed-note (0x01)", COSIGNATURE_V1_TYPE: "Ed25519 cosignature/v1 (0x04)"}
"""The signature types implemented, with how messages name them."""

KEY_ID_SIZE = 4
"""Bytes of the key ID that starts every signature."""

_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
# Any ASCII control character except newline; the specification forbids them anywhere in a note.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x09\x0b-\x1f]")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note, checkpoint or key string is malformed, or a note's signatures do not verify."""


def key_id(name: str, public_key: bytes, key_type: int = ED25519_TYPE) -> bytes:
    """Return the 4-byte key ID of an Ed25519 key: SHA-256(name || 0x0A || type || public key)[:4]."""
    _check_key_type(key_type)
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:KEY_ID_SIZE]


def _check_key_type(key_type: int) -> None:
    if key_type not in KEY_TYPES:
        raise NoteError(f"signature type 0x{key_type:02x} is not implemented (only 0x01 and 0x04)")


def check_key_name(name: str) -> None:
    """Raise `NoteError` unless ``name`` can be a key name: non-empty UTF-8, no space, '+' or control character."""
    # Names sit between "— " and " " in signature lines and between "+" in key strings.
    if not name:
        raise NoteError("key name must not be empty")
    if "+" in name or any(char.isspace() for char in name):
        raise NoteError(f"key name {name!r} must not contain spaces or '+'")
    if CONTROL_CHARACTERS.search(name) or not is_utf8_encodable(name):
        raise NoteError(f"key name {name!r} must be valid UTF-8 without control characters")


class Verifier:
    """An Ed25519 verifier key of one signature type (0x01 or 0x04) with its name, trusted by whoever opens notes."""

    __slots__ = ("key_id", "key_type", "name", "public_key")

    def __init__(self, name: str, public_key: Ed25519PublicKey, key_type: int = ED25519_TYPE) -> None:
        """Wrap ``public_key`` under the key name ``name``, for signatures of type ``key_type``."""
        check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_type = key_type
        self.key_id = key_id(name, public_key.public_bytes(Encoding.Raw, PublicFormat.Raw), key_type)

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``<name>+<hex key ID>+<base64(type || public key)>``."""
        name, id_hex, key_type, raw_key = _parse_key_string(vkey, "verifier key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw_key), key_type)
        _check_key_id(verifier.key_id, id_hex, name)
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string, to publish and configure in clients and witnesses."""
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.key_type]) + raw)}"

    def verify_note_signature(self, text: bytes, signature: bytes) -> int | None:
        """Check a signature line's bytes after the key ID over the note text ``text``, by this key's type.

        Returns the cosignature/v1 timestamp (POSIX seconds), or None for a type 0x01 signature, which
        carries no time. Raises `NoteError` naming the problem when the signature does not verify.
        """
        timestamp = None
        message, ed25519_signature = text, signature
        if self.key_type == COSIGNATURE_V1_TYPE:
            try:
                timestamp, ed25519_signature = cosignature.decode(signature)
            except cosignature.CosignatureError as exc:
                raise NoteError(f"cosignature by known key {self.name!r} is malformed: {exc}") from exc
            message = cosignature.signed_message(text, timestamp)
        if not self.verify(message, ed25519_signature):
            raise NoteError(f"signature by known key {self.name!r} does not verify")
        return timestamp

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
    """An Ed25519 signing key of one signature type with its name; keep the private key out of the database."""

    __slots__ = ("_private_key", "key_id", "key_type", "name")

    def __init__(self, name: str, private_key: Ed25519PrivateKey, key_type: int = ED25519_TYPE) -> None:
        """Wrap ``private_key`` under the key name ``name``, to make signatures of type ``key_type``."""
        check_key_name(name)
        self.name = name
        self._private_key = private_key
        self.key_type = key_type
        raw_public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(name, raw_public, key_type)

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse a signer key string ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>``."""
        if not skey.startswith(_PRIVATE_KEY_PREFIX):
            raise NoteError("signer key must start with 'PRIVATE+KEY+'")
        name, id_hex, key_type, seed = _parse_key_string(skey.removeprefix(_PRIVATE_KEY_PREFIX), "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed), key_type)
        _check_key_id(signer.key_id, id_hex, name)
        return signer

    @property
    def skey(self) -> str:
        """The signer key string (secret: it holds the private key's seed)."""
        typed_seed = bytes([self.key_type]) + self._private_key.private_bytes_raw()
        return f"{_PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{b64encode(typed_seed)}"

    def verifier(self) -> Verifier:
        """Return the matching verifier."""
        return Verifier(self.name, self._private_key.public_key(), self.key_type)

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of ``message``."""
        return self._private_key.sign(message)

    def note_signature(self, text: bytes, timestamp: int | None = None) -> bytes:
        """The bytes after the key ID in this key's signature line over the note text ``text``.

        A cosignature/v1 key signs ``timestamp`` (POSIX seconds; default: now) with the text; a type 0x01
        key ignores it, its signatures carry no time.
        """
        if self.key_type != COSIGNATURE_V1_TYPE:
            return self.sign(text)
        when = int(time.time()) if timestamp is None else timestamp
        try:
            return cosignature.encode(when, self.sign(cosignature.signed_message(text, when)))
        except cosignature.CosignatureError as exc:
            raise NoteError(str(exc)) from exc


def generate_key(name: str, key_type: int = ED25519_TYPE) -> tuple[str, str]:
    """Create a new Ed25519 key of ``key_type`` named ``name``; return its (signer key, verifier key) strings.

    ``key_type`` is 0x01 (`ED25519_TYPE`: signing checkpoints) or 0x04 (`COSIGNATURE_V1_TYPE`: a witness).
    """
    _check_key_type(key_type)
    signer = Signer(name, Ed25519PrivateKey.generate(), key_type)
    return signer.skey, signer.verifier().vkey


def _parse_key_string(encoded: str, what: str) -> tuple[str, str, int, bytes]:
    """Split ``<name>+<hex key ID>+<base64(type || key)>``; return the name, key ID, type and raw key."""
    # Base64 may itself contain '+', so only the first two separate fields.
    parts = encoded.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} must have the form <name>+<key ID>+<key>")
    name, id_hex, key_b64 = parts
    check_key_name(name)
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(f"{what} key ID must be 8 lowercase hex digits, got {id_hex!r}")
    typed_key = b64decode_strict(key_b64, f"{what} key")
    if len(typed_key) != 1 + _ED25519_KEY_SIZE or typed_key[0] not in KEY_TYPES:
        raise NoteError(f"{what} is not an Ed25519 key (type 0x01 or 0x04 followed by 32 bytes)")
    return name, id_hex, typed_key[0], typed_key[1:]


def _check_key_id(computed: bytes, stated_hex: str, name: str) -> None:
    # The key ID in a key string is redundant; a mismatch means a corrupted or tampered key string.
    if stated_hex != computed.hex():
        raise NoteError(f"key string for {name!r} states key ID {stated_hex}, its key has {computed.hex()}")


def is_utf8_encodable(text: str) -> bool:
    """Whether ``text`` has a UTF-8 encoding."""
    # A str can hold lone surrogates, which have no UTF-8 encoding.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def b64encode(data: bytes) -> str:
    """Standard padded base64, the only spelling signed notes accept."""
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(encoded: str, what: str) -> bytes:
    """Decode standard padded base64, rejecting any non-canonical spelling of the same bytes."""
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError(f"{what} is not valid base64") from error
    if b64encode(decoded) != encoded:
        raise NoteError(f"{what} is not canonical base64")
    return decoded
