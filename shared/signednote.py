"""C2SP signed notes (c2sp.org/signed-note) and transparency-log checkpoints (c2sp.org/tlog-checkpoint).

A signed note is its text (ending in a newline), a blank line, then one or more signature lines
``— <key name> <base64(key ID || signature)>``. Keys and their two Ed25519 signature types live in
`shared.notekeys` (re-exported here): a type 0x01 signature covers the UTF-8 bytes of the text, final
newline included; a type 0x04 C2SP tlog-cosignature "cosignature/v1" (`shared.cosignature`) is a
timestamp (时间戳) and a signature of that text behind a ``cosignature/v1`` header, a witness's
cosignature (联署). Parsing is strict: anything the specifications do not allow is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.cosignature import COSIGNATURE_V1_TYPE
from shared.notekeys import (
    CONTROL_CHARACTERS,
    ED25519_TYPE,
    KEY_ID_SIZE,
    KEY_TYPES,
    NoteError,
    Signer,
    Verifier,
    b64decode_strict,
    b64encode,
    check_key_name,
    generate_key,
    is_utf8_encodable,
    key_id,
)

__all__ = [
    "COSIGNATURE_V1_TYPE", "ED25519_TYPE", "KEY_TYPES", "MAX_SIGNATURES", "SIGNATURE_PREFIX", "Checkpoint",
    "NoteError", "OpenedNote", "Signer", "VerifiedSignature", "Verifier", "add_signature", "generate_key", "key_id",
    "open_note", "sign_note", "verify_note",
]

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note; the specification requires accepting at least 16."""

SIGNATURE_PREFIX = "\u2014 "
"""Start of every signature line: em dash (U+2014) and a space."""

_ROOT_SIZE = 32
_MAX_TREE_SIZE = 2**64 - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def sign_note(body: str, signers: Sequence[Signer], timestamp: int | None = None) -> str:
    """Sign the note text ``body`` with every signer; return the signed note.

    ``body`` must end with a newline and contain no control characters other than newlines.
    ``timestamp`` (POSIX seconds, default now) is used by cosignature/v1 signers only.
    """
    _check_text(body, "note text")
    if not body.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if not signers:
        raise ValueError("a note needs at least one signer")
    _reject_duplicate_keys((signer.name, signer.key_id) for signer in signers)
    message = body.encode()
    return body + "\n" + "".join(_signature_line(signer, message, timestamp) for signer in signers)


def add_signature(note_text: str, signer: Signer, timestamp: int | None = None) -> str:
    """Append ``signer``'s signature of the note text to an already signed note (cosigning).

    A cosignature/v1 signer (type 0x04) signs ``timestamp`` with the text: the POSIX time in seconds
    at which it vouches for the note, default now. The existing signatures are not verified here: a
    witness must first check the note with `open_note` against the log's key (and check consistency)
    before cosigning it.
    """
    body, signatures = _split_note(note_text)
    if any((name, raw[:KEY_ID_SIZE]) == (signer.name, signer.key_id) for name, raw in signatures):
        raise NoteError(f"note is already signed by key {signer.name!r}")
    return note_text + _signature_line(signer, body.encode(), timestamp)


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature line that verified with a trusted key."""

    name: str
    key_id: bytes
    key_type: int
    timestamp: int | None
    """POSIX seconds signed by a cosignature/v1 (type 0x04) key; None for type 0x01, which has no time."""


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose signatures by trusted keys all verified: its text and those signatures, in line order."""

    body: str
    signatures: tuple[VerifiedSignature, ...]

    @property
    def names(self) -> list[str]:
        """Key names of the verified signatures, in signature-line order."""
        return [signature.name for signature in self.signatures]

    def by(self, verifier: Verifier) -> VerifiedSignature | None:
        """The verified signature made with ``verifier``'s key, if the note carries one."""
        return next((s for s in self.signatures if (s.name, s.key_id) == (verifier.name, verifier.key_id)), None)


def open_note(text: str | bytes, verifiers: Sequence[Verifier]) -> tuple[str, list[str]]:
    """Check the signed note ``text`` against trusted ``verifiers``; return its body and verified names.

    Signatures from unknown keys (by name and key ID) are ignored, as the specification requires.
    Raises `NoteError` if the note is malformed, if a signature from a known key fails to verify, or
    if no known key signed it. Names are returned in signature-line order. `verify_note` also gives
    each signature's type and cosignature timestamp.
    """
    opened = verify_note(text, verifiers)
    return opened.body, opened.names


def verify_note(text: str | bytes, verifiers: Sequence[Verifier]) -> OpenedNote:
    """Like `open_note`, but return every verified signature with its key type and timestamp.

    A cosignature/v1 signature from a known key must be exactly 8 + 64 bytes after its key ID, with a
    timestamp of at most 2^63 - 1, and verify over the ``cosignature/v1`` header, that timestamp and
    the note text: a changed timestamp fails like a changed text.
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
    verified: list[VerifiedSignature] = []
    for name, raw in signatures:
        known = trusted.get((name, raw[:KEY_ID_SIZE]))
        if known is None:
            continue
        timestamp = known.verify_note_signature(message, raw[KEY_ID_SIZE:])
        verified.append(VerifiedSignature(name, known.key_id, known.key_type, timestamp))
    if not verified:
        raise NoteError("note has no signature from a trusted key")
    return OpenedNote(body, tuple(verified))


def note_text(note: str) -> str:
    """The text a signed note signs, read strictly but its signatures not checked (for one's own stored notes)."""
    return _split_note(note)[0]


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
        check_key_name(name)
        raw = b64decode_strict(encoded, f"signature by {name!r}")
        if len(raw) <= KEY_ID_SIZE:
            raise NoteError(f"signature by {name!r} is too short")
        signatures.append((name, raw))
    _reject_duplicate_keys((name, raw[:KEY_ID_SIZE]) for name, raw in signatures)
    return body, signatures


def _signature_line(signer: Signer, message: bytes, timestamp: int | None) -> str:
    signature = signer.key_id + signer.note_signature(message, timestamp)
    return f"{SIGNATURE_PREFIX}{signer.name} {b64encode(signature)}\n"


def _reject_duplicate_keys(keys: Iterable[tuple[str, bytes]]) -> None:
    # One signature per key: a repeat is either a mistake or an attempt to confuse counting.
    seen: set[tuple[str, bytes]] = set()
    for name, identifier in keys:
        if (name, identifier) in seen:
            raise NoteError(f"key {name!r} ({identifier.hex()}) appears twice")
        seen.add((name, identifier))


def _check_text(text: str, what: str) -> None:
    if not is_utf8_encodable(text):
        raise NoteError(f"{what} is not valid UTF-8")
    if CONTROL_CHARACTERS.search(text):
        raise NoteError(f"{what} contains a control character other than newline")




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
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
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
        root = b64decode_strict(root_text, "checkpoint root hash")
        return cls(origin, int(size_text), root, tuple(extensions))
