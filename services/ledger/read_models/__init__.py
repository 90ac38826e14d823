"""Read models the auditors need, one module each, found automatically.

A module here exposes `PROJECTIONS` (the projections that keep its `rm_*` tables) and may expose
`add_routes(api, pool, settings)` to serve them over HTTP. Its tables come from a migration in
`services/ledger/migrations/`. Adding a read model is adding a module: nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import asyncpg

from services.ledger.projections import Projection
from shared.http import Api
from shared.settings import Settings


def modules() -> list[ModuleType]:
    """Every read-model module, in name order."""
    return [importlib.import_module(f"{__name__}.{m.name}") for m in sorted(pkgutil.iter_modules(__path__),
                                                                        key=lambda m: m.name)]


def all_projections() -> list[Projection]:
    """The projections of every read model."""
    return [p for m in modules() for p in getattr(m, "PROJECTIONS", [])]


def add_all_routes(api: Api, pool: asyncpg.Pool, settings: Settings) -> None:
    """Let every read model add its HTTP routes to the ledger's API."""
    for m in modules():
        add = getattr(m, "add_routes", None)
        if add is not None:
            add(api, pool, settings)
