"""The access trail (查阅记录): every read of a cadre's dossier is itself on record.

A read of a history, a state or a bundle publishes an access record to the `ACCESS` stream as it
starts and answers only once JetStream has acknowledged it; if the record cannot be stored, the read
is refused (503), so no read goes unrecorded. Reads that end in an error (404, or 403 for a county
outside the token's scope) are on record too: the trail lists attempts, not only answers. The
ledger files the records in the append-only `access_trail` table for operators.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from pydantic import BaseModel, ConfigDict, Field

from shared.bus import publish_raw

ACCESS_STREAM = "ACCESS"
ACCESS_SUBJECTS = "access.>"


class AccessRecord(BaseModel):
    """Who read what, when and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    principal: str = Field(description="The token's subject (查阅人).")
    roles: list[str]
    cadre_id: str
    what: str = Field(description="history | state | bundle, with parameters.")
    purpose: str = Field(description="Why (查阅事由), as the caller gave it.")
    request_id: str

    @property
    def subject(self) -> str:
        """NATS subject of the record."""
        return f"access.{self.cadre_id}"


def access_stream_config() -> StreamConfig:
    """The stream holding access records, kept like the ledger: no deletes, no purges."""
    return StreamConfig(name=ACCESS_STREAM, subjects=[ACCESS_SUBJECTS], storage=StorageType.FILE,
                        retention=RetentionPolicy.LIMITS, deny_delete=True, deny_purge=True, duplicate_window=120,
                        description="Access trail: who read which cadre's dossier, when and why.")


async def publish_access(js: JetStreamContext, record: AccessRecord, timeout: float) -> None:
    """Store the record in JetStream (acknowledged); raises BusUnavailable when NATS cannot take it."""
    await publish_raw(js, ACCESS_STREAM, record.subject, orjson.dumps(record.model_dump(mode="json")),
                      {"Nats-Msg-Id": str(record.id)}, timeout)
