"""Signing keys of the log, kept in files (or mounted secrets), never in the database."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from shared.signednote import COSIGNATURE_V1_TYPE, ED25519_TYPE, KEY_TYPES, NoteError, Signer, Verifier, generate_key


class KeyFileError(ValueError):
    """A key file is missing or malformed."""


def load_signer(path: Path, key_types: Collection[int] = (ED25519_TYPE,)) -> Signer:
    """The signer in `path` (a signed-note private key line: PRIVATE+KEY+name+id+key) of one of `key_types`.

    The default admits only type 0x01, the log's checkpoint signing key: a witness's cosignature/v1 key
    (0x04) signing checkpoints would make notes no log client accepts.
    """
    try:
        signer = Signer.from_skey(path.read_text().strip())
    except OSError as exc:
        raise KeyFileError(f"cannot read signing key {path}: {exc.strerror}") from exc
    except (NoteError, ValueError) as exc:
        raise KeyFileError(f"{path} is not a signed-note private key: {exc}") from exc
    if signer.key_type not in key_types:
        hint = ("a witness key (见证方密钥) for cosignatures; the ledger signs checkpoints with a type 0x01 key "
                "made by `cadre-ledger keygen NAME`") if signer.key_type == COSIGNATURE_V1_TYPE else "not usable here"
        raise KeyFileError(f"{path} is an {KEY_TYPES[signer.key_type]} key: {hint}")
    return signer


def load_verifier(text_or_path: str) -> Verifier:
    """A verifier from a vkey string (name+id+key) or a file holding one.

    An existing file wins: a path may hold "+" too (keys+2026/dev.vkey), and a vkey string, which always has "+", is
    no file anyone keeps by that name.
    """
    candidate = Path(text_or_path)
    try:
        on_disk = candidate.exists()
    except (OSError, ValueError):  # a vkey string is too long or odd to be a path on some systems
        on_disk = False
    if "+" not in text_or_path and not on_disk:  # a vkey always has "+": this was meant as a file
        raise KeyFileError(f"no key file {text_or_path} (公钥文件不存在)")
    try:
        text = candidate.read_text().strip() if on_disk else text_or_path
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read public key file {text_or_path} (无法读取公钥文件): {exc}") from exc
    try:
        return Verifier.from_vkey(text.strip())
    except (NoteError, ValueError) as exc:
        raise KeyFileError(f"not a signed-note public key: {exc}") from exc


def ensure_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """The key pair `name.skey` / `name.vkey` in `directory`, generated on first use (dev stack)."""
    directory.mkdir(parents=True, exist_ok=True)
    skey_path, vkey_path = directory / f"{name}.skey", directory / f"{name}.vkey"
    if not skey_path.exists():
        skey, vkey = generate_key(name)
        skey_path.write_text(skey + "\n")
        skey_path.chmod(0o600)
        vkey_path.write_text(vkey + "\n")
    return skey_path, vkey_path
