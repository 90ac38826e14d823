"""The SQL a projection sends for a batch: set-based where it can, with the effect of event-by-event application.

A projection adds one statement execution per event, naming the key of the rows that execution reads
and writes (by default its first argument, a cadre id; or e.g. an audit). Executions for different
keys touch disjoint rows, so they commute; only each key's own order matters. `Statements` therefore
gathers executions into runs of one statement in which every key appears at most once, placed after
every earlier execution of the same keys, and sends each run as one statement over all its rows (a
`Bulk`) or one executemany (plain SQL). A key seen twice in a batch lands in a later run, so an
upsert never meets its own row twice and the outcome is the one of applying the events one by one.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import orjson


def day(value: Any) -> date | None:
    """An ISO date from event data (None stays None)."""
    return None if value is None else date.fromisoformat(str(value))


_COLUMN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s+([a-z0-9_ ()]+?)\s*$")


@dataclass(frozen=True, slots=True, eq=False)
class Bulk:
    """One statement applied to many rows at once; `sql` reads them from the relation `v`.

    Compared and hashed by identity (each is a module constant): `Statements` looks one up per execution queued,
    and a generated `__hash__` over the text cost a Python call each time.
    """

    sql: str


def bulk(columns: str, template: str) -> Bulk:
    """A `Bulk` whose `template` reads `{rows}`: a relation `v` of `columns` ("name type, ...").

    `v` has one row per execution; the rows travel as one JSON array of arrays (its only parameter),
    so a run of any length is one statement and is encoded in one call to orjson rather than value by
    value by the driver.
    """
    parsed = [_COLUMN.match(c) for c in columns.split(",")]
    if not all(parsed):
        raise ValueError(f"columns must read 'name type, ...': {columns!r}")
    fields = ", ".join(f"(r.value ->> {i})::{m[2]} AS {m[1]}" for i, m in enumerate(parsed) if m)
    rows = f"(SELECT {fields} FROM jsonb_array_elements($1::jsonb) AS r(value)) AS v"
    return Bulk(template.replace("{rows}", rows))


def _json(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a bulk column value")


async def execute_bulk(conn: asyncpg.Connection, sql: Bulk, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run `sql` once over all `rows` (tuples in the order of its columns)."""
    await conn.execute(sql.sql, orjson.dumps(rows, default=_json).decode())


class Statements:
    """Statement executions of a batch, gathered into runs that keep each key's order (see the module)."""

    def __init__(self) -> None:
        self.runs: list[tuple[str | Bulk, list[tuple[Any, ...]]]] = []
        self._last_run: dict[Hashable, int] = {}
        self._runs_of: dict[str | Bulk, list[int]] = {}

    def add(self, sql: str | Bulk, *args: Any) -> None:
        """Queue one execution of `sql` that reads and writes only rows of its first argument (e.g. a cadre id)."""
        self._queue(args[0], sql, args)

    def add_for(self, key: Hashable, sql: str | Bulk, *args: Any) -> None:
        """Queue one execution of `sql` that reads and writes only rows of `key`."""
        self._queue(key, sql, args)

    def _queue(self, key: Hashable, sql: str | Bulk, args: tuple[Any, ...]) -> None:
        # the first run of `sql` after the key's last run, else a new run at the end
        after = self._last_run.get(key, -1)
        indexes = self._runs_of.get(sql)
        if indexes is not None and indexes[-1] > after:
            run = indexes[bisect.bisect_right(indexes, after)]
        else:
            run = len(self.runs)
            self.runs.append((sql, []))
            if indexes is None:
                self._runs_of[sql] = [run]
            else:
                indexes.append(run)
        self.runs[run][1].append(args)
        self._last_run[key] = run

    async def run(self, conn: asyncpg.Connection) -> None:
        """Execute every run, in order."""
        for sql, rows in self.runs:
            if isinstance(sql, Bulk):
                await execute_bulk(conn, sql, rows)
            else:
                await conn.executemany(sql, rows)
