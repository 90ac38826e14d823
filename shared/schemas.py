"""The catalogue's JSON Schemas as committed files (one per event type, plus the envelope)."""

from __future__ import annotations

import json

from shared.envelope import CloudEvent
from shared.events import CATALOGUE
from shared.events.registry import SCHEMA_BASE


def _dump(schema: dict[str, object]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def render_schemas() -> dict[str, str]:
    """File name -> JSON text, for every event type and for the CloudEvents envelope."""
    files = {f"{t}.json": _dump(spec.json_schema()) for t, spec in sorted(CATALOGUE.items())}
    envelope = CloudEvent.model_json_schema()
    files["envelope.json"] = _dump({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                    "$id": f"{SCHEMA_BASE}/envelope.json", **envelope})
    return files
