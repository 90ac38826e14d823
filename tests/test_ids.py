"""Ids that sort by creation (UUIDv7, RFC 9562): events' and access records' default ids."""

from __future__ import annotations

import uuid
from datetime import date

from shared.envelope import new_event
from shared.events.audit import AuditOpinionReceived
from shared.ids import time_ordered_id


def test_a_time_ordered_id_is_a_version_7_uuid_opening_with_its_millisecond() -> None:
    made = time_ordered_id(1_765_000_000_123)
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert made.int >> 80 == 1_765_000_000_123


def test_ids_made_later_sort_later_as_uuids_and_as_text() -> None:
    earlier, later = time_ordered_id(1_765_000_000_123), time_ordered_id(1_765_000_000_124)
    assert earlier < later and str(earlier) < str(later)


def test_ids_of_one_millisecond_differ_in_their_random_bits() -> None:
    made = {time_ordered_id(1_765_000_000_123) for _ in range(10_000)}
    assert len(made) == 10_000


def test_a_new_event_gets_a_time_ordered_id_unless_given_one() -> None:
    def event(event_id: uuid.UUID | None = None) -> uuid.UUID:
        return new_event(event_type="audit.opinion_received", cadre_id="GY1", county="431021", service="audit",
                         data=AuditOpinionReceived(audit_id="A1", agrees=True), occurred_on=date(2024, 1, 5),
                         ruleset="431021@2024.1", event_id=event_id).id

    first, second = event(), event()
    assert first.version == 7 and second.version == 7 and first != second
    given = uuid.uuid4()
    assert event(given) == given
