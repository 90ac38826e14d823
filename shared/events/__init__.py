"""The event catalogue (v1): every event type, its data model, its Chinese name and JSON Schema.

Importing this package registers every type; `CATALOGUE` is the one list.
"""

from shared.events import assessment, audit, rotation
from shared.events.registry import CATALOGUE, EventData, EventSpec, UnknownEventType, spec_for

__all__ = ["CATALOGUE", "EventData", "EventSpec", "UnknownEventType", "assessment", "audit", "rotation", "spec_for"]
