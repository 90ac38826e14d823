"""The transparency-dev/merkle RFC 6962/9162 proof test vectors, run through the public verifiers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.merkle import ProofError, verify_consistency, verify_inclusion
from tests.merkle_vectors_support import EXPECTED_CONSISTENCY_CASES, EXPECTED_INCLUSION_CASES, VECTORS, vector_files


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(case: dict[str, Any]) -> list[bytes]:
    # The Go generator writes a nil proof as null.
    return [_b64(item) for item in case["proof"] or []]


def _failures(paths: list[Path], run: Callable[[dict[str, Any]], None]) -> list[str]:
    # Every case runs even after a failure, so one report shows all disagreements.
    failures = []
    for path in paths:
        case = json.loads(path.read_text(encoding="utf-8"))
        label = f"{path.relative_to(VECTORS)} ({case['desc']})"
        try:
            run(case)
        except ProofError as error:
            if not case["wantErr"]:
                failures.append(f"{label}: valid proof rejected: {error}")
        else:
            if case["wantErr"]:
                failures.append(f"{label}: invalid proof accepted")
    return failures


def _run_inclusion(case: dict[str, Any]) -> None:
    verify_inclusion(
        _b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case), _b64(case["root"])
    )


def _run_consistency(case: dict[str, Any]) -> None:
    verify_consistency(case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), _proof(case))


def test_inclusion_vectors() -> None:
    """Every inclusion vector: valid ones verify, the wantErr ones raise ProofError."""
    cases = vector_files("inclusion")
    assert _failures(cases, _run_inclusion) == []
    assert len(cases) == EXPECTED_INCLUSION_CASES


def test_consistency_vectors() -> None:
    """Every consistency vector: valid ones verify, the wantErr ones raise ProofError."""
    cases = vector_files("consistency")
    assert _failures(cases, _run_consistency) == []
    assert len(cases) == EXPECTED_CONSISTENCY_CASES


def test_vector_total() -> None:
    """All 196 cases are accounted for, split between valid and invalid as the files say."""
    paths = [*vector_files("inclusion"), *vector_files("consistency")]
    assert len(paths) == 196
    wanted_errors = sum(json.loads(path.read_text(encoding="utf-8"))["wantErr"] for path in paths)
    assert 0 < wanted_errors < len(paths)
