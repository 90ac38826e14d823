"""Who may do what: signed bearer tokens with roles and county scopes.

Tokens are `cadre1.<payload>.<signature>` (base64url, no padding): the payload is JSON
{sub, roles, counties, exp, iat}; the signature is Ed25519 over `cadre1.<payload>`. Services hold
only the public key, so a compromised service cannot mint tokens. Roles:

- `recorder` (记录员): may record facts (commands) for its counties;
- `auditor` (审计员): may read histories, states and bundles for its counties, or all (`*`);
- `operator` (运维员): quarantine, checkpoints, rebuilds, the access trail.
"""

from __future__ import annotations

import base64
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

Role = Literal["recorder", "auditor", "operator"]
ROLES: tuple[Role, ...] = ("recorder", "auditor", "operator")
ALL_COUNTIES = "*"
_PREFIX = "cadre1"


class TokenError(ValueError):
    """The token is missing, malformed, badly signed or expired."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    subject: str
    roles: frozenset[str]
    counties: frozenset[str]
    expires: int

    def has(self, role: Role) -> bool:
        """True when the principal holds `role`."""
        return role in self.roles

    def covers(self, county: str) -> bool:
        """True when the principal's scope includes `county`."""
        return ALL_COUNTIES in self.counties or county in self.counties


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


SUBJECT_RULE = ("1-128 printable characters, not only spaces: who the token is for (令牌持有者), as the access trail "
                "names it")


def _valid_subject(subject: str) -> bool:
    """Whether `subject` may name a token's holder (`SUBJECT_RULE`)."""
    return 0 < len(subject) <= 128 and subject.isprintable() and not subject.isspace()


def issue_token(key: Ed25519PrivateKey, subject: str, roles: list[Role], counties: list[str],
                ttl_s: int, now: float | None = None) -> str:
    """A token for `subject` with `roles` over `counties` (`*`: all), valid for `ttl_s` seconds.

    The subject is who the access trail will name for every read made with the token: `SUBJECT_RULE`.
    """
    if not _valid_subject(subject):
        raise ValueError(f"subject {subject!r}: {SUBJECT_RULE}")
    issued = int(now if now is not None else time.time())
    payload = _b64(orjson.dumps({"sub": subject, "roles": sorted(set(roles)), "counties": sorted(set(counties)),
                                 "iat": issued, "exp": issued + ttl_s}))
    signed = f"{_PREFIX}.{payload}"
    return f"{signed}.{_b64(key.sign(signed.encode()))}"


def verify_token(public_key: Ed25519PublicKey, token: str, now: float | None = None) -> Principal:
    """The principal a token names; TokenError when it is not valid now."""
    principal = _signed_principal(public_key.public_bytes_raw(), token)
    if principal.expires <= (now if now is not None else time.time()):
        raise TokenError("token expired (令牌已过期)")
    return principal


@functools.lru_cache(maxsize=4096)
def _signed_principal(public_key: bytes, token: str) -> Principal:
    """The principal of a well-signed token. Cached: a client sends the same token on every request and the
    signature check (~0.1 ms) was the largest share of a read's CPU; only valid tokens are kept (an exception
    is not cached), and expiry is checked on every call by the caller."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _PREFIX:
        raise TokenError("malformed token (令牌格式错误)")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode())
        claims = orjson.loads(_unb64(parts[1]))
        return Principal(str(claims["sub"]), frozenset(claims["roles"]), frozenset(claims["counties"]),
                         int(claims["exp"]))
    except InvalidSignature as exc:
        raise TokenError("token signature is not valid (令牌签名无效)") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed token (令牌格式错误)") from exc


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The token-issuing key (PEM, PKCS#8); TokenError naming the file when it cannot be read as one."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TokenError(f"{path} is not a readable PEM private key (无法读取私钥): {_first_line(exc)}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TokenError(f"{path} is not an Ed25519 private key (不是 Ed25519 私钥)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The token-verifying key (PEM, SubjectPublicKeyInfo); TokenError naming the file when it cannot be read as one."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        raise TokenError(f"{path} is not a readable PEM public key (无法读取公钥): {_first_line(exc)}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise TokenError(f"{path} is not an Ed25519 public key (不是 Ed25519 公钥)")
    return key


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def ensure_token_keys(directory: Path) -> tuple[Path, Path]:
    """The dev stack's token key pair (`token-issuer.pem`, `token-verify.pem`), generated on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "token-issuer.pem", directory / "token-verify.pem"
    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        private_path.chmod(0o600)
        public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path
