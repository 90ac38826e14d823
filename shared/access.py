"""The access trail (查阅记录): every read of a cadre's dossier is itself on record.

A read of a history, a state or a bundle (the ledger), or of a cadre's clear personal data (the rotation
service's `/person`), publishes an access record to the `ACCESS` stream as it starts and answers only once
JetStream has acknowledged it; if the record cannot be stored, the read is refused (503), so no read goes
unrecorded. Reads that end in an error (404, or 403 for a county outside the token's scope) are on record too:
the trail lists attempts, not only answers. The ledger files the records in the append-only `access_trail`
table for operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal
from shared.bus import BusUnavailable, publish_raw
from shared.events.types import VISIBLE_LINE
from shared.ids import time_ordered_id
from shared.problems import Unavailable

ACCESS_STREAM = "ACCESS"
ACCESS_SUBJECTS = "access.>"
PERSON_READ = "person"
"""`what` of a read of a cadre's clear personal data (the rotation service's `GET /v1/cadres/{id}/person`)."""
PERSON_SUBJECTS = "access.person.>"
PURPOSE = Field(None, max_length=200, pattern=VISIBLE_LINE,
                description="Why you read this dossier (查阅事由); kept in the access trail. One line of visible text; "
                            "leave it out when there is none (the trail says 未说明).")
"""Visible text, as the description says: a purpose of spaces or fillers (ONE_LINE took them) was filed as if given,
where the trail says "(none given / 未说明)" for a read without one."""


class AccessRecord(BaseModel):
    """Who read what, when and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID = Field(default_factory=time_ordered_id)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    principal: str = Field(description="The token's subject (查阅人).")
    roles: list[str]
    cadre_id: str
    what: str = Field(description="history | state | bundle | person, with parameters.")
    purpose: str = Field(description="Why (查阅事由), as the caller gave it.")
    request_id: str

    @property
    def subject(self) -> str:
        """NATS subject of the record: `access.person.<cadre>` for reads of personal data (the only records the
        rotation service may publish), else `access.<cadre>` (the ledger's)."""
        return f"access.person.{self.cadre_id}" if self.what == PERSON_READ else f"access.{self.cadre_id}"


def access_stream_config(replicas: int = 1) -> StreamConfig:
    """The stream holding access records, kept like the ledger: no deletes, no purges, as many copies as the
    ledger's own stream (`CADRE_STREAM_REPLICAS`): every dossier read waits for its record, so a stream on one
    node would stop the reads, and lose the trail, with that node."""
    return StreamConfig(name=ACCESS_STREAM, subjects=[ACCESS_SUBJECTS], storage=StorageType.FILE,
                        retention=RetentionPolicy.LIMITS, deny_delete=True, deny_purge=True, duplicate_window=120,
                        num_replicas=replicas,
                        description="Access trail: who read which cadre's dossier, when and why.")


async def publish_access(js: JetStreamContext, record: AccessRecord, timeout: float) -> None:
    """Store the record in JetStream (acknowledged); raises BusUnavailable when NATS cannot take it."""
    await publish_raw(js, ACCESS_STREAM, record.subject, orjson.dumps(record.model_dump(mode="json")),
                      {"Nats-Msg-Id": str(record.id)}, timeout)


class AccessTrail:
    """Records reads: published while the read runs, acknowledged before the answer leaves."""

    def __init__(self, nc: NATS, timeout: float) -> None:
        self.js = nc.jetstream()
        self.timeout = timeout

    @contextlib.asynccontextmanager
    async def recording(self, request: web.Request, cadre_id: str, what: str,
                        purpose: str | None) -> AsyncIterator[None]:
        """Put a read on record while its body runs; the answer waits for the record's acknowledgement.

        The record is published as the read starts, so the JetStream round trip overlaps the query
        instead of following it. A read that ends in an error (no such cadre, a county outside the
        token's scope) is therefore on record too: an attempt to read a dossier leaves a trace whether
        or not it was answered. When the record cannot be stored the read is refused with 503 (无法记录查阅).
        """
        recorded = asyncio.ensure_future(self._record(request, cadre_id, what, purpose))
        try:
            yield
        finally:
            await recorded

    async def _record(self, request: web.Request, cadre_id: str, what: str, purpose: str | None) -> None:
        principal: Principal | None = request.get("principal")
        record = AccessRecord(principal=principal.subject if principal else "anonymous (auth disabled)",
                              roles=sorted(principal.roles) if principal else [], cadre_id=cadre_id, what=what,
                              purpose=purpose or "(none given / 未说明)", request_id=request["request_id"])
        try:
            await publish_access(self.js, record, self.timeout)
        except BusUnavailable as exc:
            raise Unavailable(f"the read cannot be put on record, so it is refused (无法记录查阅): {exc}") from exc
