"""Builders for rotation tests: ledger events (given) and commands (when), without servers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from services.rotation import commands as c
from shared.envelope import CloudEvent, new_event
from shared.events.registry import spec_for

COUNTY = "431021"
CADRE = "C1"
RULESET = "431021@2008.1"
D = date.fromisoformat


def ev(type_: str, on: str, **data: Any) -> CloudEvent:
    """A rotation-service event as the service would publish it (validated by its catalogue model)."""
    model = spec_for(type_).model.model_validate(data)
    return new_event(event_type=type_, cadre_id=CADRE, county=COUNTY, service="rotation", data=model,
                     occurred_on=D(on), ruleset=RULESET)


def foreign(type_: str, on: str, service: str, **data: Any) -> CloudEvent:
    """Another service's event (notice, report, sanction), built from the contract's fields only."""
    return CloudEvent(id=uuid.uuid4(), source=f"/counties/{COUNTY}/{service}", type=type_, subject=CADRE,
                      time=datetime.now(UTC), dataschema=f"https://cadre-ledger.dev/schemas/events/v1/{type_}.json",
                      county=COUNTY, occurredon=D(on), ruleset=RULESET, data=data)


def registered(on: str = "2008-01-02") -> CloudEvent:
    """`cadre.registered` with dummy commitments."""
    return ev("cadre.registered", on, name_commitment="a" * 64, id_number_commitment="b" * 64, sex="male",
              birth_month="1980-05", work_start="2002-07-01", unit="桂阳县某镇人民政府")


def post(post_id: str = "P1", **overrides: Any) -> dict[str, Any]:
    """Post fields: by default a general (non-leadership) clerk post in township 樟市镇."""
    fields: dict[str, Any] = {"post_id": post_id, "post": "镇政府科员", "unit": "樟市镇人民政府", "township": "樟市镇",
                              "level": "clerk", "leadership": False}
    fields.update(overrides)
    return fields


def assigned(on: str, post_id: str = "P1", kind: str = "lateral", probation_end: str | None = None,
             notice_id: str | None = None, **overrides: Any) -> CloudEvent:
    """`post.assigned` decided on `on`."""
    extra: dict[str, Any] = {k: v for k, v in (("probation_end", probation_end), ("notice_id", notice_id)) if v}
    return ev("post.assigned", on, **post(post_id, **overrides), kind=kind, decision_date=on, **extra)


def leader(on: str, post_id: str = "L1", **overrides: Any) -> CloudEvent:
    """A lateral leadership posting (镇长, 正科级) in 樟市镇."""
    return assigned(on, post_id, **{"post": "镇长", "level": "section", "leadership": True, **overrides})


def vacated(on: str, post_id: str = "P1", reason: str = "term_end") -> CloudEvent:
    return ev("post.vacated", on, post_id=post_id, reason=reason)


def due(post_id: str, rule: str, since: str, years: int, due_on: str, overdue_on: str) -> CloudEvent:
    return ev("rotation.due", due_on, post_id=post_id, rule=rule, since=since, years=years, due_on=due_on,
              overdue_on=overdue_on)


def deferred(on: str, post_id: str, rule: str, until: str, approval: str = "桂组干〔2024〕3号") -> CloudEvent:
    return ev("rotation.deferred", on, post_id=post_id, rule=rule, until=until, approval_reference=approval)


def notice_closed(on: str, notice_id: str = "N1", outcome: str = "clear") -> CloudEvent:
    return foreign("notice.closed", on, "assessment", notice_id=notice_id, outcome=outcome)


def report_received(on: str, report_id: str = "R1") -> CloudEvent:
    return foreign("report.received", on, "audit", report_id=report_id, channel="12380", named=True,
                   summary="")


def report_verified(on: str, report_id: str = "R1", outcome: str = "unfounded") -> CloudEvent:
    return foreign("report.verified", on, "audit", report_id=report_id, outcome=outcome)


def base(on: str) -> dict[str, Any]:
    return {"cadre_id": CADRE, "county": COUNTY, "occurred_on": on}


def register_cmd(on: str = "2008-01-02") -> c.RegisterCadre:
    return c.RegisterCadre(**base(on), name_commitment="a" * 64, id_number_commitment="b" * 64, sex="female",
                           birth_month="1985-03", work_start="2007-07-01", unit="桂阳县某镇人民政府")


def assign_cmd(on: str, post_id: str = "P2", kind: str = "lateral", **overrides: Any) -> c.AssignPost:
    fields = post(post_id, **overrides)
    return c.AssignPost.model_validate({**base(on), **fields, "kind": kind})


def promote_cmd(on: str, post_id: str = "L2", **overrides: Any) -> c.AssignPost:
    """A promotion to deputy division level (副县级) leadership post, by default with notice N1."""
    values = {"post": "副县长", "unit": "桂阳县人民政府", "township": None, "level": "deputy_division",
              "leadership": True, "notice_id": "N1", **overrides}
    return assign_cmd(on, post_id, "promotion", **values)


def vacate_cmd(on: str, post_id: str = "P1") -> c.VacatePost:
    return c.VacatePost(**base(on), post_id=post_id, reason="term_end")


def conclude_cmd(on: str, post_id: str = "L2", outcome: str = "confirmed",
                 reason: str | None = None) -> c.ConcludeProbation:
    return c.ConcludeProbation.model_validate({**base(on), "post_id": post_id, "outcome": outcome, "reason": reason})


def raise_cmd(post_id: str = "P1", rule: str = "township_8y") -> c.RaiseDue:
    return c.RaiseDue.model_validate({"cadre_id": CADRE, "post_id": post_id, "rule": rule})


def defer_cmd(on: str, until: str, post_id: str = "P1", rule: str = "township_8y",
              approval: str | None = "桂组干〔2024〕3号") -> c.DeferRotation:
    return c.DeferRotation.model_validate({**base(on), "post_id": post_id, "rule": rule, "until": until,
                                           "approval_reference": approval})


def rotate_cmd(on: str, post_id: str = "P1", trigger: str | None = None, to_post_id: str = "P9",
               **to: Any) -> c.CompleteRotation:
    dest = post(to_post_id, **{"post": "镇政府科员", "unit": "仁义镇人民政府", "township": "仁义镇", **to})
    return c.CompleteRotation.model_validate({**base(on), "post_id": post_id, "to": dest, "trigger_rule": trigger})


# Histories shared by the rotation, premise and premise-conformance tests.
POSTING = assigned("2010-03-01")  # P1, a clerk in 樟市镇
ROTATED = ev("rotation.completed", "2012-05-01", from_post_id="P1", from_post="镇政府科员", from_township="樟市镇",
             to={"post_id": "P9", "post": "镇政府科员", "unit": "仁义镇人民政府", "township": "仁义镇",
                 "level": "clerk", "leadership": False}, decision_date="2012-05-01", years_in_old_post=2,
             days_in_old_post=792, trigger_rule="by_need")
PROMOTED = [registered(), assigned("2020-03-01", "L2", kind="promotion", probation_end="2021-03-01", notice_id="N0",
                                   post="副县长", unit="桂阳县人民政府", township=None, level="deputy_division",
                                   leadership=True)]
"""Registered, then promoted to 副县长 (L2) on 2020-03-01 after notice N0, on probation until 2021-03-01."""
