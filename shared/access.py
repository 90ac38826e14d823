"""The access trail (查阅记录): every read of a cadre's dossier is itself on record, and so is every read of many
cadres at once (the event feed, the lists that name cadres).

A read of a history, a state or a bundle (the ledger), or of a cadre's clear personal data (the rotation
service's `/person`), publishes an access record to the `ACCESS` stream as it starts and answers only once
JetStream has acknowledged it; if the record cannot be stored, the read is refused (503), so no read goes
unrecorded. Reads that end in an error (404, or 403 for a county outside the token's scope) are on record too:
the trail lists attempts, not only answers. A bulk read (`AccessTrail.bulk`) files one record per request, not
per cadre, once it knows what it answered (route, county, filters, rows and cadres, the feed's positions), so
its record follows the query instead of overlapping it. The ledger files the records in the append-only
`access_trail` table for operators, a batch at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.auth import Principal
from shared.bus import BusUnavailable, publish_raw
from shared.envelope import COUNTY_PATTERN
from shared.events.types import VISIBLE_LINE
from shared.guard import PRINCIPAL
from shared.http import REQUEST_ID, BulkRead
from shared.ids import time_ordered_id
from shared.problems import Unavailable

ACCESS_STREAM = "ACCESS"
ACCESS_SUBJECTS = "access.>"
PERSON_READ = "person"
"""`what` of a read of a cadre's clear personal data (the rotation service's `GET /v1/cadres/{id}/person`)."""
PERSON_SUBJECTS = "access.person.>"
BULK_SUBJECTS = "access.bulk.>"
"""Subjects of bulk reads (`access.bulk.<county>`, `access.bulk.all`): three tokens, so no cadre's `access.<cadre>`."""
NO_PURPOSE_ASKED = "(bulk read: no purpose asked / 批量读取，不问事由)"
PURPOSE = Field(None, max_length=200, pattern=VISIBLE_LINE,
                description="Why you read this dossier (查阅事由); kept in the access trail. One line of visible text; "
                            "leave it out when there is none (the trail says 未说明).")
"""Visible text, as the description says: a purpose of spaces or fillers (ONE_LINE took them) was filed as if given,
where the trail says "(none given / 未说明)" for a read without one."""


_BULK_ONLY = ("county", "filters", "returned", "cadres", "first_position", "last_position")
"""`AccessRecord` fields a bulk read's record has and a dossier read's never does."""


class AccessRecord(BaseModel):
    """Who read what, when and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID = Field(default_factory=time_ordered_id)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    principal: str = Field(description="The token's subject (查阅人).")
    roles: list[str]
    cadre_id: str | None = Field(None, description="The cadre read (被查阅干部); null for a bulk read.")
    what: str = Field(description="history | state | bundle | person, with parameters; feed | list for a bulk read.")
    purpose: str = Field(description="Why (查阅事由), as the caller gave it.")
    request_id: str
    # A bulk read's (批量读取) own fields, null on a dossier read's record:
    route: str | None = Field(None, max_length=200, description="The route read (接口), e.g. /v1/events.")
    county: str | None = Field(None, pattern=COUNTY_PATTERN, description=(
        "The county the read was filtered by (县); null: every county, which only an all-county token may read."))
    filters: dict[str, Any] | None = Field(None, description="The other query parameters as given (筛选条件).")
    returned: int | None = Field(None, ge=0, description=(
        "Rows answered (返回条数): events, or list entries; null when nothing was answered (refused, failed)."))
    cadres: int | None = Field(None, ge=0, description="Distinct cadres those rows name (涉及干部人数).")
    first_position: int | None = Field(None, ge=1, description="The feed's first ledger position answered.")
    last_position: int | None = Field(None, ge=1, description="The feed's last ledger position answered (账本位置).")

    @model_validator(mode="after")
    def _one_kind(self) -> AccessRecord:
        if (self.cadre_id is None) == (self.route is None):
            raise ValueError("a record names either the cadre read (cadre_id) or, for a bulk read, the route")
        # a county-scoped operator's listing matches a bulk read by its county: on a dossier read's record one
        # would list the read to that county whatever the cadre's (the rotation service's subjects are not trusted)
        if self.cadre_id is not None and (given := [f for f in _BULK_ONLY if getattr(self, f) is not None]):
            raise ValueError(f"a read of one cadre's dossier has no bulk read's fields: {', '.join(given)} "
                             "(逐人查阅记录不含批量读取字段)")
        return self

    @property
    def subject(self) -> str:
        """NATS subject of the record: `access.person.<cadre>` for reads of personal data (the only records the
        rotation service may publish), `access.bulk.<county or all>` for bulk reads, else `access.<cadre>`."""
        if self.cadre_id is None:
            return f"access.bulk.{self.county or 'all'}"
        return f"access.person.{self.cadre_id}" if self.what == PERSON_READ else f"access.{self.cadre_id}"


def access_stream_config(replicas: int = 1) -> StreamConfig:
    """The stream holding access records, kept like the ledger: no deletes, no purges, as many copies as the
    ledger's own stream (`CADRE_STREAM_REPLICAS`): every dossier read and bulk read waits for its record, so a
    stream on one node would stop the reads, and lose the trail, with that node."""
    return StreamConfig(name=ACCESS_STREAM, subjects=[ACCESS_SUBJECTS], storage=StorageType.FILE,
                        retention=RetentionPolicy.LIMITS, deny_delete=True, deny_purge=True, duplicate_window=120,
                        num_replicas=replicas,
                        description="Access trail: who read which cadre's dossier, when and why.")


async def publish_access(js: JetStreamContext, record: AccessRecord, timeout: float) -> None:
    """Store the record in JetStream (acknowledged); raises BusUnavailable when NATS cannot take it."""
    await publish_raw(js, ACCESS_STREAM, record.subject, orjson.dumps(record.model_dump(mode="json")),
                      {"Nats-Msg-Id": str(record.id)}, timeout)


@dataclass
class Answered:
    """What a bulk read answered, as its handler tells it (`answered`, `answered_rows`)."""

    returned: int
    cadres: int
    first_position: int | None = None
    last_position: int | None = None


_ANSWERED = "access.answered"
"""Request key under which a recorded bulk read's handler leaves its `Answered`."""


def answered(request: web.Request, tally: Answered) -> None:
    """Tell the trail what a bulk read answered (its handler calls this, or `answered_rows`, before returning)."""
    if _ANSWERED not in request:
        raise RuntimeError(f"{request.path} counts what it answered but is not declared recorded")
    request[_ANSWERED] = tally


class Row(Protocol):
    """A row of a list (a dict, an asyncpg record): what `answered_rows` reads of it is its `cadre_id`."""

    def __getitem__(self, key: str, /) -> Any: ...


def answered_rows(request: web.Request, rows: Sequence[Row]) -> None:
    """Tell the trail that a list answered `rows`, each naming a cadre by `cadre_id`."""
    answered(request, Answered(len(rows), len({r["cadre_id"] for r in rows})))


class AccessTrail:
    """Records reads: a dossier read's record is published while the read runs, a bulk read's once it is done;
    either is acknowledged before the answer leaves."""

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

    @contextlib.asynccontextmanager
    async def bulk(self, request: web.Request, what: BulkRead, route: str,
                   query: BaseModel | None) -> AsyncIterator[None]:
        """Put a bulk read on record once its body has run: one record for the request, with what the handler
        said it answered (`answered`), or with nothing answered when the body raised (a county outside the
        token's scope, no database): a refused attempt leaves its trace, as a dossier read's does.

        Waiting for the body costs the JetStream round trip after the query rather than beside it; the
        record's counts are worth it (a record published first could not say what the read took away).
        """
        request[_ANSWERED] = None
        try:
            yield
        except BaseException:
            request[_ANSWERED] = None  # whatever it counted, nothing left
            raise
        finally:
            tally: Answered | None = request[_ANSWERED]
            given = query.model_dump(mode="json", exclude_unset=True) if query is not None else {}
            await self._publish(request, route=route, what=what, purpose=NO_PURPOSE_ASKED,
                                county=given.pop("county", None), filters=given, **(asdict(tally) if tally else {}))

    async def _record(self, request: web.Request, cadre_id: str, what: str, purpose: str | None) -> None:
        await self._publish(request, cadre_id=cadre_id, what=what, purpose=purpose or "(none given / 未说明)")

    async def _publish(self, request: web.Request, **fields: Any) -> None:
        principal: Principal | None = request.get(PRINCIPAL)
        record = AccessRecord(principal=principal.subject if principal else "anonymous (auth disabled)",
                              roles=sorted(principal.roles) if principal else [], request_id=request[REQUEST_ID],
                              **fields)
        try:
            await publish_access(self.js, record, self.timeout)
        except BusUnavailable as exc:
            raise Unavailable(f"the read cannot be put on record, so it is refused (无法记录查阅): {exc}") from exc
