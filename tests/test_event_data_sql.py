"""ledger_event_data (migration 034) reads `data` from a slice of the stored bytes: it must equal parsing them whole."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import orjson
import pytest

from shared.events.registry import spec_for
from tests.support import (
    NOT_LAID_OUT_CANONICALLY,
    System,
    audit_event,
    new_cadre_id,
    publish,
    publish_raw,
    stored_completion,
    wait_committed,
    wait_until,
)

WHOLE = "(convert_from($1::bytea, 'UTF8')::jsonb -> 'data')"


@pytest.mark.parametrize("make", [stored_completion, lambda c: stored_completion(c, traps=True),
                                  lambda c: stored_completion(c, content_type=False)])
async def test_the_slice_read_equals_the_whole_parse_for_stored_envelopes(system: System,
                                                                          make: Callable[[str], bytes]) -> None:
    cadre = new_cadre_id()
    raw: bytes = make(cadre)
    assert spec_for("audit.completed").dataschema.encode() in raw
    seq = await publish_raw(system.nats_url, f"cadre.431021.{cadre}", raw)
    await wait_committed(system.pg_dsn, seq)
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        stored = await conn.fetchval("SELECT canonical FROM ledger_events WHERE stream_seq = $1", seq)
        assert stored == raw, "the ledger stores what was published"
        sliced = await conn.fetchval("SELECT ledger_event_data($1::bytea)::text", stored)
        assert orjson.loads(sliced) == orjson.loads(raw)["data"]
        assert await conn.fetchval(f"SELECT ledger_event_data($1::bytea) = {WHOLE}", stored)
        # and the read model built from it (audit.completed rows are applied straight from the bytes in SQL)
        row = await wait_until(lambda: conn.fetchrow("SELECT report_number FROM rm_audits WHERE cadre_id = $1",
                                                     cadre))
        assert row["report_number"] == orjson.loads(raw)["data"]["report_number"]
    finally:
        await conn.close()


@pytest.mark.parametrize("raw", NOT_LAID_OUT_CANONICALLY)
async def test_bytes_not_laid_out_canonically_are_parsed_whole(system: System, raw: bytes) -> None:
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        assert await conn.fetchval(f"SELECT ledger_event_data($1::bytea) = {WHOLE}", raw)
    finally:
        await conn.close()


async def test_every_stored_event_reads_the_same_either_way(system: System) -> None:
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [audit_event(new_cadre_id())]))[0])
    conn = await asyncpg.connect(system.pg_dsn)
    try:
        total, differ = await conn.fetchrow(
            """SELECT count(*), count(*) FILTER (
                 WHERE ledger_event_data(canonical) IS DISTINCT FROM convert_from(canonical, 'UTF8')::jsonb -> 'data')
               FROM ledger_events""")
        assert total > 0 and differ == 0
    finally:
        await conn.close()

