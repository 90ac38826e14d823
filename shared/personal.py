"""Personal data (names, ID numbers) as salted commitments. Pure: no I/O.

A `cadre.registered` event never carries a name or an ID number, only their commitments:
`SHA-256(salt || UTF-8(NFC(value)))` in hex, with a fresh random 32-byte salt per value. The clear
value and its salt live outside the ledger, in a table that may be erased (the rotation service's
`person_data`). Erasing them leaves every hash chain, Merkle proof and signed checkpoint valid,
because only the commitments were ever hashed into the ledger; what erasure removes is the ability
to link a commitment back to a person. While the salt is kept, anyone holding the clear value and
the salt can prove it is the one committed (`verify_commitment`). Without the salt a commitment
reveals nothing a dictionary attack could use, even for a low-entropy value like an ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import date

SALT_BYTES = 32
SCHEME = "sha256-salted-v1"
"""Recorded in `cadre.registered` so a verifier knows how a commitment was made."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def new_salt() -> bytes:
    """A fresh random salt (32 bytes from the OS CSPRNG)."""
    return secrets.token_bytes(SALT_BYTES)


def commit_value(salt: bytes, value: str) -> str:
    """The commitment to `value` under `salt`: hex SHA-256 of salt || UTF-8 of the NFC-normalised value."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes, got {len(salt)}")
    return hashlib.sha256(salt + unicodedata.normalize("NFC", value).encode("utf-8")).hexdigest()


def verify_commitment(salt: bytes, value: str, commitment: str) -> bool:
    """True when `value` under `salt` gives `commitment` (constant-time comparison)."""
    return hmac.compare_digest(commit_value(salt, value), commitment.lower())


def resident_id_problem(id_number: str) -> str | None:
    """Why `id_number` is not a valid 18-character resident ID (GB 11643-1999), or None when it is.

    Checks the shape, the birth date and the ISO 7064 MOD 11-2 check character.
    """
    if len(id_number) != 18 or not id_number[:17].isdigit() or id_number[17] not in "0123456789X":
        return "an ID number (身份证号码) is 17 digits and a check digit or X"
    try:
        date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return "the birth date in the ID number is not a date (出生日期码无效)"
    total = sum(int(d) * w for d, w in zip(id_number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != id_number[17]:
        return "the check digit of the ID number is wrong (校验码错误)"
    return None


def resident_id_birth_month(id_number: str) -> str:
    """`YYYY-MM` of the birth date coded in a valid resident ID."""
    return f"{id_number[6:10]}-{id_number[10:12]}"


def resident_id_sex(id_number: str) -> str:
    """`male` or `female`, from the 17th character (odd: male) of a valid resident ID."""
    return "male" if int(id_number[16]) % 2 else "female"


def mask_resident_id(id_number: str) -> str:
    """The ID number with its middle hidden, as it may be shown on screen (4310**********1234)."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]
