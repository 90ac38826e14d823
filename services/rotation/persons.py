"""The erasable personal data (`person_data`): clear names and ID numbers with their salts.

The ledger holds only commitments (see shared.personal). This table is the only place the clear
values live; the rotation service reaches it with its own role (`cadre_rotation`: SELECT, INSERT,
UPDATE on this table and nothing else), and erasure sets the values and salts to NULL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import acquire
from shared.problems import RuleViolation


@dataclass(frozen=True)
class Person:
    """One row of person_data (values None once erased)."""

    cadre_id: str
    name: str | None
    id_number: str | None
    name_salt: bytes | None
    id_number_salt: bytes | None
    erased_at: datetime | None


@dataclass(frozen=True)
class PersonStore:
    """person_data through the rotation service's own pool."""

    pool: asyncpg.Pool
    timeout: float

    @asynccontextmanager
    async def reserve(self, cadre_id: str, name: str, id_number: str, name_salt: bytes,
                      id_number_salt: bytes) -> AsyncIterator[None]:
        """Insert the person's row in a transaction that commits only if the block (the publish) succeeds.

        A second registration of the same cadre waits on the first one's row and then fails with
        `cadre.register_once`; a failed publish leaves no row behind.
        """
        async with acquire(self.pool, self.timeout) as conn, conn.transaction():
            inserted = await conn.fetchval(
                """INSERT INTO person_data (cadre_id, name, id_number, name_salt, id_number_salt)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cadre_id) DO NOTHING RETURNING cadre_id""",
                cadre_id, name, id_number, name_salt, id_number_salt)
            if inserted is None:
                raise RuleViolation("cadre.register_once", f"cadre {cadre_id} is already registered",
                                    f"干部 {cadre_id} 已经登记, 不能重复登记")
            yield

    @asynccontextmanager
    async def erase(self, cadre_id: str) -> AsyncIterator[None]:
        """Null the clear values and salts in a transaction that commits only if the block (the publish)
        succeeds; a cadre with no stored values (never registered here, or erased) yields nothing to do."""
        async with acquire(self.pool, self.timeout) as conn, conn.transaction():
            await conn.execute(
                """UPDATE person_data SET name = NULL, id_number = NULL, name_salt = NULL,
                   id_number_salt = NULL, erased_at = now() WHERE cadre_id = $1 AND erased_at IS NULL""",
                cadre_id)
            yield

    async def get(self, cadre_id: str) -> Person | None:
        """The person's row, or None."""
        async with acquire(self.pool, self.timeout) as conn:
            row = await conn.fetchrow(
                """SELECT cadre_id, name, id_number, name_salt, id_number_salt, erased_at FROM person_data
                   WHERE cadre_id = $1""", cadre_id)
        if row is None:
            return None
        return Person(row["cadre_id"], row["name"], row["id_number"],
                      bytes(row["name_salt"]) if row["name_salt"] is not None else None,
                      bytes(row["id_number_salt"]) if row["id_number_salt"] is not None else None, row["erased_at"])
