"""Fixtures: one running system per test session (real NATS JetStream and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import System


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Every service, started as `make run` starts it, shared by the session's tests."""
    root: Path = tmp_path_factory.mktemp("system")
    sys_ = System(root, services=("ledger", "assessment", "audit", "rotation")).start()
    yield sys_
    sys_.stop()
