"""The AsyncAPI 3.0 document of the NATS side, generated from the event catalogue.

One channel carries every cadre event (`cadre.{county}.{cadre_id}` on stream CADRE), one message
per catalogue type: the CloudEvents envelope with that type's `data` schema. A second channel
carries the ledger's signed checkpoints. The committed file (docs/asyncapi.json) is checked for
drift by a test, like the JSON Schemas.
"""

from __future__ import annotations

import json
from typing import Any

from shared.bus import CHECKPOINT_STREAM, CHECKPOINT_SUBJECT
from shared.envelope import CONTENT_TYPE, COUNTY_PATTERN, TRACEPARENT_PATTERN, CloudEvent
from shared.events import CATALOGUE
from shared.events.registry import HOLDINGS, EventSpec

STREAM = "CADRE"
_SCHEMAS = "#/components/schemas/"


def _message_id(event_type: str) -> str:
    return event_type.replace(".", "_")


def _relocate(schema: Any, prefix: str) -> Any:
    """Point a schema's local `#/$defs/X` references at `#/components/schemas/<prefix>X`."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = _SCHEMAS + prefix + value.removeprefix("#/$defs/")
            else:
                out[key] = _relocate(value, prefix)
        return out
    if isinstance(schema, list):
        return [_relocate(item, prefix) for item in schema]
    return schema


def _data_schemas(spec: EventSpec) -> dict[str, Any]:
    """The type's `data` schema and its definitions, keyed for components.schemas.

    `$id` and `$schema` are dropped inside the document (an `$id` would re-base the references);
    the published URI stays in `x-dataschema`.
    """
    schema = spec.json_schema()
    prefix = f"{spec.type}."
    definitions = schema.pop("$defs", {})
    schema.pop("$schema", None)
    schema.pop("$id", None)
    out = {spec.type: {**_relocate(schema, prefix), "x-dataschema": spec.dataschema}}
    for name, definition in definitions.items():
        out[prefix + name] = _relocate(definition, prefix)
    return out


def _headers() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "Content-Type": {"const": CONTENT_TYPE, "description": "Structured-mode CloudEvents."},
            "Nats-Msg-Id": {"type": "string", "format": "uuid",
                            "description": "The event id: JetStream de-duplicates redeliveries on it (去重)."},
            "Nats-Expected-Last-Subject-Sequence": {
                "type": "string", "pattern": "^[0-9]+$",
                "description": "Optimistic concurrency (乐观并发): the stream sequence of the cadre's last message, "
                               "quarantined ones included; JetStream refuses the publish when another came first."},
            "Nats-Expected-Last-Subject-Sequence-Subject": {
                "type": "string", "pattern": r"^cadre\.\*\.[A-Za-z0-9_-]{1,64}$",
                "description": "`cadre.*.<cadre_id>`: the sequence above is over the cadre's subjects in every "
                               "county."},
            "traceparent": {"type": "string", "pattern": TRACEPARENT_PATTERN,
                            "description": "W3C trace context of the command that produced the event (also in the "
                                           "envelope)."},
        },
        "required": ["Content-Type", "Nats-Msg-Id"],
    }


def _envelope_schema() -> dict[str, Any]:
    schema = CloudEvent.model_json_schema()
    schema["description"] = ("CloudEvents 1.0 envelope, JSON event format (事件信封). Stored and hashed as its "
                             "RFC 8785 canonical bytes.")
    return schema


def _message(spec: EventSpec) -> dict[str, Any]:
    return {
        "name": spec.type,
        "title": f"{spec.label_zh} / {spec.label_en}",
        "summary": f"{spec.label_en} ({spec.label_zh}), recorded by the {spec.service} service.",
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": _SCHEMAS + "NatsHeaders"},
        "payload": {
            "allOf": [
                {"$ref": _SCHEMAS + "CloudEvent"},
                {"type": "object",
                 "properties": {
                     "type": {"const": spec.type},
                     "source": {"type": "string", "pattern": f"^/counties/[0-9]{{6}}/{spec.service}$"},
                     "dataschema": {"const": spec.dataschema},
                     "data": {"$ref": _SCHEMAS + spec.type}}},
            ],
        },
        "x-service": spec.service,
        "x-label-zh": spec.label_zh,
        "x-label-en": spec.label_en,
        **({"x-rests-on": [p.as_json() for p in spec.rests_on]} if spec.rests_on else {}),
    }


def build_asyncapi(version: str = "1.0") -> dict[str, Any]:
    """The whole AsyncAPI 3.0.0 document, deterministic for a given catalogue."""
    specs = [CATALOGUE[t] for t in sorted(CATALOGUE)]
    schemas: dict[str, Any] = {"CloudEvent": _envelope_schema(), "NatsHeaders": _headers()}
    for spec in specs:
        schemas.update(_data_schemas(spec))
    messages: dict[str, Any] = {_message_id(s.type): _message(s) for s in specs}
    messages["checkpoint"] = {
        "name": "checkpoint",
        "title": "签名检查点 / Signed checkpoint",
        "summary": "A C2SP signed note (tlog-checkpoint): origin, tree size, root hash, Ed25519 signature lines.",
        "contentType": "text/plain; charset=utf-8",
        "payload": {"type": "string",
                    "examples": ["cadre-ledger.dev/log/CADRE\n42\n<base64 root hash>\n\n— cadre-ledger-dev <sig>\n"]},
    }
    event_refs = [{"$ref": f"#/channels/cadreEvents/messages/{_message_id(s.type)}"} for s in specs]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "cadre-ledger events (干部任用监督事件)",
            "version": version,
            "description": (
                "The NATS JetStream side of cadre-ledger. Services publish one CloudEvents 1.0 event per command to "
                f"`cadre.<county>.<cadre_id>` on stream `{STREAM}`; the ledger consumes the stream with one "
                "durable consumer and appends every event to its hash-chained, Merkle-logged ledger. "
                "服务把每条命令产生的事件发布到 JetStream 流 CADRE 的 `cadre.<县代码>.<干部编号>` 主题；"
                "台账服务消费并写入台账。"
                " Generated from the event catalogue (shared/events) by `cadre-ledger asyncapi --write`."),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {"host": "127.0.0.1:4222", "protocol": "nats",
                      "description": "The dev stack's NATS (`make run`); production: CADRE_NATS_URL."},
        },
        "channels": {
            "cadreEvents": {
                "address": "cadre.{county}.{cadre_id}",
                "title": "Cadre events (干部事件)",
                "description": (f"Stream `{STREAM}` (subjects `cadre.>`, or `cadre.<county>.>` for each county of "
                                "a partition's `CADRE_COUNTIES`; file storage, no deletes or purges, "
                                "de-duplication on `Nats-Msg-Id`). One subject per cadre and county."),
                "parameters": {
                    "county": {"description": f"County code, GB/T 2260, six digits ({COUNTY_PATTERN}).",
                               "examples": ["431021"]},
                    "cadre_id": {"description": "Cadre id, `[A-Za-z0-9_-]{1,64}`; the envelope's `subject`.",
                                 "examples": ["GY9001"]},
                },
                "messages": {_message_id(s.type): {"$ref": f"#/components/messages/{_message_id(s.type)}"}
                             for s in specs},
            },
            "checkpoints": {
                "address": CHECKPOINT_SUBJECT,
                "title": "Signed checkpoints (签名检查点)",
                "description": f"Stream `{CHECKPOINT_STREAM}`: every checkpoint the ledger signs, for witnesses.",
                "messages": {"checkpoint": {"$ref": "#/components/messages/checkpoint"}},
            },
        },
        "operations": {
            "recordEvent": {
                "action": "send", "channel": {"$ref": "#/channels/cadreEvents"},
                "title": "A domain service records a fact (记录事实)",
                "description": "Published with `Nats-Msg-Id` and the cadre's expected last subject sequence.",
                "messages": event_refs,
            },
            "appendToLedger": {
                "action": "receive", "channel": {"$ref": "#/channels/cadreEvents"},
                "title": "The ledger appends every event (写入台账)",
                "description": ("Durable pull consumer `ledger`, ack after commit. A message that is not a valid "
                                "catalogue event is quarantined with its raw bytes, never dropped or blocking."),
                "messages": event_refs,
            },
            "publishCheckpoint": {
                "action": "send", "channel": {"$ref": "#/channels/checkpoints"},
                "title": "The ledger publishes a signed checkpoint (发布检查点)",
                "messages": [{"$ref": "#/channels/checkpoints/messages/checkpoint"}],
            },
        },
        "components": {"schemas": dict(sorted(schemas.items())), "messages": messages},
        "x-holdings": [h.as_json() for h in HOLDINGS],
    }


def render_asyncapi() -> str:
    """The document as committed: pretty JSON, Chinese kept readable, one trailing newline."""
    return json.dumps(build_asyncapi(), ensure_ascii=False, indent=2) + "\n"
