"""The dossier fold's running summary (pure): counts, first and last dates, the latest event, as of a date."""

from __future__ import annotations

from datetime import date

from services.ledger.dossier import fold_dossier
from shared.envelope import CloudEvent, StoredEvent, envelope_data, new_event
from shared.events import CATALOGUE, audit


def _completed(audit_id: str, on: date) -> CloudEvent:
    return new_event(event_type="audit.completed", cadre_id="FOLD1", county="431021", service="audit",
                     data=audit.AuditCompleted(audit_id=audit_id, audit_type="in_office", report_number=f"R-{audit_id}",
                                               evaluation="good", findings=[]),
                     occurred_on=on, ruleset="431021@2008.1")


# Ledger order is not occurred-on order: a late record of an earlier fact comes after later ones.
EVENTS = [_completed("A1", date(2020, 5, 1)), _completed("A2", date(2022, 3, 1)), _completed("A0", date(2019, 1, 2))]


def test_the_summary_spans_every_event_in_ledger_order() -> None:
    d = fold_dossier("FOLD1", EVENTS)
    assert (d.events, d.first_occurred_on, d.last_occurred_on) == (3, date(2019, 1, 2), date(2022, 3, 1))
    assert d.last_event == {"type": "audit.completed", "label_zh": "经济责任审计完成", "occurred_on": "2019-01-02",
                            "id": str(EVENTS[2].id)}
    assert d.event_counts == {"audit.completed": 3} and d.counties == ["431021"]


def test_as_of_leaves_later_events_out_of_the_summary() -> None:
    d = fold_dossier("FOLD1", EVENTS, as_of=date(2021, 1, 1))
    assert (d.events, d.first_occurred_on, d.last_occurred_on) == (2, date(2019, 1, 2), date(2020, 5, 1))
    assert d.last_event is not None and d.last_event["id"] == str(EVENTS[2].id)
    assert set(d.audits) == {"A0", "A1"}


def test_nothing_on_or_before_the_date_leaves_an_empty_summary() -> None:
    d = fold_dossier("FOLD1", EVENTS, as_of=date(2018, 1, 1))
    assert (d.events, d.first_occurred_on, d.last_occurred_on, d.last_event) == (0, None, None, None)


def test_events_read_back_from_the_ledger_fold_as_their_envelopes_do() -> None:
    stored = [StoredEvent(e.id, e.type, e.county, e.occurredon, envelope_data(e.canonical())) for e in EVENTS]
    for as_of in (None, date(2021, 1, 1)):
        assert fold_dossier("FOLD1", stored, as_of) == fold_dossier("FOLD1", EVENTS, as_of)


def _correction(target: CloudEvent, fact: audit.AuditCompleted, on: date) -> CloudEvent:
    model = CATALOGUE["audit.completed.corrected"].model
    data = model.model_validate({"corrects": target.id, "reason": "录入错误", "fact": fact})
    return new_event(event_type="audit.completed.corrected", cadre_id="FOLD1", county="431021", service="audit",
                     data=data, occurred_on=on, ruleset="431021@2008.1")


def _revocation(target: CloudEvent) -> CloudEvent:
    model = CATALOGUE["audit.completed.revoked"].model
    return new_event(event_type="audit.completed.revoked", cadre_id="FOLD1", county="431021", service="audit",
                     data=model.model_validate({"revokes": target.id, "reason": "重复录入"}),
                     occurred_on=date(2023, 1, 5), ruleset="431021@2008.1")


def test_the_dossier_reads_corrected_facts_leaves_revoked_ones_out_and_lists_both() -> None:
    fixed = audit.AuditCompleted(audit_id="A1", audit_type="in_office", report_number="R-A1-fixed",
                                 evaluation="good", findings=[])
    corrected, revoked = _correction(EVENTS[0], fixed, date(2020, 5, 3)), _revocation(EVENTS[1])
    d = fold_dossier("FOLD1", [*EVENTS, corrected, revoked])
    assert set(d.audits) == {"A0", "A1"} and d.events == 2 and d.event_counts == {"audit.completed": 2}
    assert d.audits["A1"].report_number == "R-A1-fixed" and d.audits["A1"].completed_on == date(2020, 5, 3)
    assert [(c.kind, c.target_id, c.reason) for c in d.corrections] == [
        ("corrected", str(EVENTS[0].id), "录入错误"), ("revoked", str(EVENTS[1].id), "重复录入")]


def test_a_corrected_date_moves_the_fact_across_as_of() -> None:
    fixed = audit.AuditCompleted(audit_id="A2", audit_type="in_office", report_number="R-A2", evaluation="good",
                                 findings=[])
    history = [*EVENTS, _correction(EVENTS[1], fixed, date(2020, 12, 1))]
    assert set(fold_dossier("FOLD1", history, as_of=date(2021, 1, 1)).audits) == {"A0", "A1", "A2"}
    assert set(fold_dossier("FOLD1", EVENTS, as_of=date(2021, 1, 1)).audits) == {"A0", "A1"}


def test_a_correction_that_counts_for_nothing_is_not_listed() -> None:
    fixed = audit.AuditCompleted(audit_id="A9", audit_type="in_office", report_number="R-A9", evaluation="good",
                                 findings=[])
    stray = _correction(_completed("A9", date(2020, 1, 1)), fixed, date(2020, 1, 2))  # its target is not on record
    d = fold_dossier("FOLD1", [*EVENTS, stray])
    assert d.corrections == [] and set(d.audits) == {"A0", "A1", "A2"}
