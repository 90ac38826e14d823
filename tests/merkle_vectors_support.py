"""Where the transparency-dev/merkle RFC 6962/9162 proof test vectors are, and how many there are: run through the
CLI's verifiers (tests/test_merkle_vectors.py) and through the auditor page's (tests/test_auditor_page_checks.py)."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parent / "vectors" / "merkle"
"""A copy of the vectors the project brief gives in ../shared/testdata/merkle (tests/vectors/merkle/SOURCE.md)."""

# Counted in the vector directory; a change means vectors were added or lost, which must be noticed.
EXPECTED_INCLUSION_CASES = 98
EXPECTED_CONSISTENCY_CASES = 98


def vector_files(kind: str) -> list[Path]:
    """The vector files of `kind` ("inclusion" or "consistency"), in name order."""
    # Collected at test time, not import time, so a missing directory fails the tests instead of
    # collecting zero parametrised cases and passing vacuously.
    folder = VECTORS / kind
    assert folder.is_dir(), f"Merkle test vectors not found at {folder}"
    return sorted(folder.rglob("*.json"))
