"""Supervision through HTTP and the ledger's read models: departures without audit, the report funnel,
overdue inquiries, a sanction's effect period, and rebuilding the read models from position 0."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from pydantic import BaseModel

from services.ledger.projections import Projection
from services.ledger.read_models.audit_departures import DepartureAuditsProjection
from services.ledger.read_models.audit_findings import AuditFindingsProjection
from services.ledger.read_models.inquiries import InquiriesProjection
from services.ledger.read_models.reports import ReportFunnelProjection
from shared.appointment_blockers import appointment_blockers
from shared.envelope import CloudEvent, new_event
from shared.events.assessment import AppointmentDeferred, NoticePosted, ObjectionReceived, QualificationCancelled
from shared.events.rotation import PostAssigned, PostVacated
from shared.rulesets import ruleset_for
from tests.support import (
    System,
    call,
    new_cadre_id,
    publish,
    rebuilt,
    registered_cadre,
    wait_committed,
    wait_until,
)


async def command(system: System, path: str, cadre: str, body: dict[str, Any], county: str = "431021",
                  expect: int = 202) -> dict[str, Any]:
    status, answer, _ = await call("POST", f"{system.url('audit')}{path}?wait=committed",
                                   {"cadre_id": cadre, "county": county, **body})
    assert status == expect, answer
    return dict(answer)


async def read(system: System, path: str) -> dict[str, Any]:
    status, body, _ = await call("GET", f"{system.url('ledger')}{path}")
    assert status == 200, body
    return dict(body)


def other_service_event(type_: str, cadre: str, data: BaseModel, on: str, county: str = "431021") -> CloudEvent:
    """An event as the rotation or assessment service publishes it."""
    service = "rotation" if type_.startswith("post.") else "assessment"
    return new_event(event_type=type_, cadre_id=cadre, county=county, service=service, data=data,
                     occurred_on=date.fromisoformat(on), ruleset=ruleset_for(county, date.fromisoformat(on)).id)


def post_assigned(cadre: str, post_id: str, leadership: bool, on: str) -> CloudEvent:
    return other_service_event("post.assigned", cadre, PostAssigned(
        post_id=post_id, post="某镇党委书记" if leadership else "某镇党政办科员", unit="某镇党委", township="某镇",
        level="section" if leadership else "clerk", leadership=leadership, kind="lateral",
        decision_date=date.fromisoformat(on)), on)


async def test_a_leader_who_left_a_post_without_departure_audit_is_flagged_until_one_starts(system: System) -> None:
    leader, clerk = await registered_cadre(system, "LD"), new_cadre_id("LD")
    seqs = await publish(system.nats_url, [
        post_assigned(leader, "P-L1", True, "2018-03-01"),
        post_assigned(clerk, "P-C1", False, "2018-03-01"),
        other_service_event("post.vacated", leader, PostVacated(post_id="P-L1", reason="rotation"), "2024-04-01"),
        other_service_event("post.vacated", clerk, PostVacated(post_id="P-C1", reason="rotation"), "2024-04-01")])
    await wait_committed(system.pg_dsn, max(seqs))

    async def flagged() -> dict[str, Any] | None:
        page = await read(system, f"/v1/audits/departures-unaudited?cadre_id={leader}&as_of=2024-05-01")
        return page if page["total"] == 1 else None

    [row] = (await wait_until(flagged))["departures"]
    assert row["post_id"] == "P-L1" and row["vacated_on"] == "2024-04-01" and row["days_since_vacated"] == 30
    assert row["vacate_reason"] == "rotation" and row["assigned_on"] == "2018-03-01"
    assert (await read(system, f"/v1/audits/departures-unaudited?cadre_id={clerk}&as_of=2024-05-01"))["total"] == 0
    assert (await read(system, f"/v1/audits/departures-unaudited?cadre_id={leader}&as_of=2024-03-31"))["total"] == 0

    # an in-office audit, or a departure audit of another post, does not answer for P-L1
    await command(system, "/v1/audits/SJ-D0/start", leader, {
        "occurred_on": "2024-05-06", "audit_type": "departure", "period_from": "2015-01-01",
        "period_to": "2018-02-28", "auditing_body": "桂阳县审计局", "post_id": "P-OLD"})
    await command(system, "/v1/audits/SJ-D1/start", leader, {
        "occurred_on": "2024-05-10", "audit_type": "departure", "period_from": "2018-03-01",
        "period_to": "2024-04-01", "auditing_body": "桂阳县审计局", "post_id": "P-L1"})

    async def cleared() -> bool:
        page = await read(system, f"/v1/audits/departures-unaudited?cadre_id={leader}&as_of=2024-05-10")
        return bool(page["total"] == 0)

    await wait_until(cleared)
    page = await read(system, f"/v1/audits/departures-unaudited?cadre_id={leader}&as_of=2024-05-09")
    assert page["total"] == 1, "flagged on the days before the departure audit started"


async def test_only_a_principals_departure_needs_an_audit(system: System) -> None:
    """Rule 9 (离任经济责任审计) is for principals (正职): a deputy's post left is not listed, a leadership post not
    stated either way is; the dossier shows which is which, and only a leadership post is a principal's."""
    cadre = await registered_cadre(system, "ZZ")
    rotation = system.url("rotation")
    base = {"cadre_id": cadre, "county": "431021"}
    posts = {"P-ZZ-1": ("镇长", {"principal": True}), "P-ZZ-2": ("镇党委副书记", {"principal": False}),
             "P-ZZ-3": ("镇人大主席团主席", {})}
    for post_id, (post, flag) in posts.items():
        status, answer, _ = await call("POST", f"{rotation}/v1/posts/{post_id}/assign?wait=committed", {
            **base, "occurred_on": "2018-03-01", "post": post, "unit": "樟市镇", "township": "樟市镇",
            "level": "section", "leadership": True, "kind": "lateral", **flag})
        assert status == 202, answer
    state = await read(system, f"/v1/cadres/{cadre}/state?as_of=2020-01-01")
    stated = {"P-ZZ-1": True, "P-ZZ-2": False, "P-ZZ-3": None}
    assert {p: v.get("principal") for p, v in state["rotation"]["posts"].items()} == stated

    async def held() -> dict[str, Any] | None:
        page = await read(system, f"/v1/rotation/postings?cadre_id={cadre}")
        return page if page["total"] == 3 else None

    assert {p["post_id"]: p["principal"] for p in (await wait_until(held))["postings"]} == stated
    for post_id in posts:
        status, answer, _ = await call("POST", f"{rotation}/v1/posts/{post_id}/vacate?wait=committed",
                                       {**base, "occurred_on": "2024-04-01", "reason": "term_end"})
        assert status == 202, answer

    async def listed() -> dict[str, Any] | None:
        page = await read(system, f"/v1/audits/departures-unaudited?cadre_id={cadre}&as_of=2024-05-01")
        return page if page["total"] == 2 else None

    page = await wait_until(listed)
    assert [d["post_id"] for d in page["departures"]] == ["P-ZZ-1", "P-ZZ-3"], page

    status, problem, _ = await call("POST", f"{rotation}/v1/posts/P-ZZ-4/assign", {
        **base, "occurred_on": "2024-05-01", "post": "镇政府科员", "unit": "樟市镇", "level": "clerk",
        "leadership": False, "kind": "lateral", "principal": True})
    assert status == 422 and problem["rule"] == "posting.principal_needs_leadership", problem
    assert problem["field"] == "principal" and "正职" in problem["message_zh"], problem


async def test_report_funnel_reproduces_seed_s1(system: System) -> None:
    """S1: 95 reports, 23 leaders checked, 12 given a reminder or admonishment talk, 1 deferred, 1 cancelled, 2 given
    a disciplinary sanction; besides, heart-to-heart talks and an organisational handling, which S1 does not count."""
    county = f"49{random.randrange(10_000):04d}"  # a county of its own (national rule set), so counts are exact
    rng = random.Random(95)
    cadres = [await registered_cadre(system, f"FN{county}", county=county) for _ in range(60)]
    reports: list[tuple[str, str, date]] = []
    for n in range(95):
        cadre, day = cadres[n % 60], date(2020, 1, 6) + timedelta(days=rng.randrange(900))
        await command(system, f"/v1/reports/JB{n:03d}/receive", cadre, {
            "occurred_on": day.isoformat(), "channel": "12380" if n % 3 else "letter", "named": n % 4 == 0},
            county=county)
        reports.append((cadre, f"JB{n:03d}", day))
    firsts = {c: (r, d) for c, r, d in reversed(reports)}  # each cadre's first report
    checked = list(firsts.items())[:23]
    for k, (cadre, (report, day)) in enumerate(checked):
        verified_on = (day + timedelta(days=20)).isoformat()
        outcome = "verified" if k < 6 else ("partly" if k < 14 else "unfounded")
        await command(system, f"/v1/reports/{report}/verify", cadre, {"occurred_on": verified_on, "outcome": outcome},
                      county=county)
        if k < 12:
            await command(system, f"/v1/talks/T-{report}", cadre, {
                "occurred_on": verified_on, "kind": "reminder", "report_id": report}, county=county)
        if k < 2:
            await command(system, f"/v1/sanctions/S-{report}", cadre, {
                "occurred_on": verified_on, "category": "administrative", "measure": "demerit",
                "effective_from": verified_on, "effective_until": None, "report_id": report}, county=county)
        if k in (15, 16):  # neither is a talk of S1's count (提醒和诫勉谈话)
            kind = "heart_to_heart" if k == 15 else "integrity_before_appointment"
            await command(system, f"/v1/talks/T-{report}", cadre, {
                "occurred_on": verified_on, "kind": kind, "report_id": report}, county=county)
        if k == 12:  # organisational handling (组织处理) is no disciplinary sanction (纪律处分)
            await command(system, f"/v1/sanctions/S-{report}", cadre, {
                "occurred_on": verified_on, "category": "organisational", "measure": "job_adjustment",
                "effective_from": verified_on, "effective_until": None, "report_id": report}, county=county)
    # the 13th and 14th were objections to a pre-appointment notice: deferred, and cancelled
    (deferred, (r1, d1)), (cancelled, (r2, d2)) = checked[12], checked[13]
    seqs = await publish(system.nats_url, [
        other_service_event("notice.objection_received", deferred, ObjectionReceived(
            notice_id="N1", report_id=r1, channel="12380", named=True), d1.isoformat(), county),
        other_service_event("appointment.deferred", deferred, AppointmentDeferred(
            notice_id="N1", until=d1 + timedelta(days=60)), (d1 + timedelta(days=25)).isoformat(), county),
        other_service_event("notice.objection_received", cancelled, ObjectionReceived(
            notice_id="N2", report_id=r2, channel="12380", named=False), d2.isoformat(), county),
        other_service_event("appointment.qualification_cancelled", cancelled, QualificationCancelled(
            notice_id="N2", reason="举报问题属实"), (d2 + timedelta(days=25)).isoformat(), county)])
    await wait_committed(system.pg_dsn, max(seqs))

    async def funnel() -> dict[str, Any] | None:
        body = await read(system, f"/v1/reports/funnel?county={county}")
        done = body["sanctioned"] == 2 and body["handled"] == 1 and body["deferred"] == 1
        return body if done and body["qualification_cancelled"] else None

    f = await wait_until(funnel)
    assert (f["received"], f["verified"], f["cadres_verified"], f["talked_to"], f["deferred"],
            f["qualification_cancelled"], f["sanctioned"], f["handled"]) == (95, 23, 23, 12, 1, 1, 2, 1)
    assert f["pending"] == 72 and f["outcomes"] == {"unfounded": 9, "partly": 8, "verified": 6}
    assert f["named"] + f["anonymous"] == 95 and sum(f["by_channel"].values()) == 95
    assert f["cadres_reported"] == 60

    assert f["as_of"] is None

    # As it stood on a report's day: reports received by then, verified (20 days after the first report) and
    # followed by a talk or a sanction (the day of the verification) by then.
    as_of = date(2021, 3, 1)
    then = await read(system, f"/v1/reports/funnel?county={county}&as_of={as_of}")
    verified_by = [k for k, (_, (_, day)) in enumerate(checked) if day + timedelta(days=20) <= as_of]
    assert then["as_of"] == as_of.isoformat(), then
    assert then["received"] == sum(day <= as_of for _, _, day in reports), then
    assert then["verified"] == then["cadres_verified"] == len(verified_by) > 0, then
    assert then["talked_to"] == sum(k < 12 for k in verified_by) and then["sanctioned"] == sum(
        k < 2 for k in verified_by), then
    assert sum(then["outcomes"].values()) == len(verified_by) < 23, then

    narrow = await read(system, f"/v1/reports/funnel?county={county}&received_from=2030-01-01")
    assert narrow["received"] == 0
    status, problem, _ = await call("GET", f"{system.url('ledger')}/v1/reports/funnel?received_from=2024-02-01"
                                           "&received_to=2024-01-01")
    assert status == 422 and "received_from" in problem["errors"][0]["message"]


async def test_overdue_inquiry_until_answered_and_a_late_answer_needs_its_reason(system: System) -> None:
    cadre = await registered_cadre(system, "HX")
    sent = await command(system, "/v1/inquiries/HX-1/send", cadre, {"occurred_on": "2024-03-01"})
    assert sent["type"] == "supervision.inquiry_sent"

    async def overdue(as_of: str) -> dict[str, Any]:
        return await read(system, f"/v1/inquiries/overdue?cadre_id={cadre}&as_of={as_of}")

    async def listed() -> dict[str, Any] | None:
        page = await overdue("2024-03-25")
        return page if page["total"] == 1 else None

    [row] = (await wait_until(listed))["inquiries"]
    assert row["due"] == "2024-03-22" and row["days_overdue"] == 3 and row["working_days_overdue"] == 1
    assert (await overdue("2024-03-22"))["total"] == 0, "not overdue on its due day"

    problem = await command(system, "/v1/inquiries/HX-1/answer", cadre, {"occurred_on": "2024-03-26"}, expect=422)
    assert problem["rule"] == "supervision.inquiry_answer_late" and "2024-03-22" in problem["message_en"]
    await command(system, "/v1/inquiries/HX-1/answer", cadre, {"occurred_on": "2024-03-26",
                                                               "late_reason": "外出学习", "summary": "已说明"})

    async def answered() -> bool:
        return bool((await overdue("2024-03-27"))["total"] == 0)

    await wait_until(answered)
    assert (await overdue("2024-03-25"))["total"] == 1, "still overdue on the days before the answer"
    state = await read(system, f"/v1/cadres/{cadre}/state")
    assert state["inquiries"]["HX-1"]["late"] is True


async def test_a_sanction_recorded_over_http_blocks_appointment_during_its_effect_period(system: System) -> None:
    cadre = await registered_cadre(system, "CF")
    await command(system, "/v1/reports/JB-1/receive", cadre, {"occurred_on": "2024-01-08", "channel": "12380",
                                                             "named": True})
    await command(system, "/v1/reports/JB-1/verify", cadre, {"occurred_on": "2024-02-01", "outcome": "verified"})
    problem = await command(system, "/v1/sanctions/CF-1", cadre, {
        "occurred_on": "2024-02-05", "category": "party", "measure": "serious_warning", "effective_from": "2024-02-05",
        "effective_until": "2025-02-04", "report_id": "JB-1"}, expect=422)
    assert problem["rule"] == "sanction.effect_period_short" and problem["shortest_until"] == "2025-08-04"
    # the clerk reads the measure in Chinese, not the API's code (it said "party serious_warning 的影响期")
    assert problem["message_zh"].startswith("党纪处分严重警告的影响期为 18 个月"), problem["message_zh"]
    mismatched = await command(system, "/v1/sanctions/CF-1", cadre, {
        "occurred_on": "2024-02-05", "category": "organisational", "measure": "serious_warning",
        "effective_from": "2024-02-05", "effective_until": "2025-08-04", "report_id": "JB-1"}, expect=422)
    assert mismatched["rule"] == "sanction.measure_category"
    assert mismatched["message_zh"].startswith("严重警告 (serious_warning) 不属于组织处理 (organisational)")
    backdated = await command(system, "/v1/sanctions/CF-1", cadre, {
        "occurred_on": "2024-02-05", "category": "party", "measure": "serious_warning", "effective_from": "2022-01-01",
        "effective_until": "2023-06-30", "report_id": "JB-1"}, expect=422)
    assert backdated["rule"] == "sanction.effect_from_decision" and backdated["field"] == "effective_from"
    await command(system, "/v1/sanctions/CF-1", cadre, {
        "occurred_on": "2024-02-05", "category": "party", "measure": "serious_warning", "effective_from": "2024-02-05",
        "effective_until": "2025-08-04", "report_id": "JB-1", "reference": "桂纪〔2024〕5号"})

    history = await read(system, f"/v1/cadres/{cadre}/history")
    events = [CloudEvent.model_validate(r["event"]) for r in history["events"]]

    def blocking(on: date) -> list[str]:
        return [v.rule for v in appointment_blockers(events, on, ruleset_for("431021", on).bases)]

    assert blocking(date(2024, 1, 20)) == ["appointment.unverified_report"]
    assert blocking(date(2025, 8, 4)) == ["appointment.sanction_running"]
    assert blocking(date(2025, 8, 5)) == []
    state = await read(system, f"/v1/cadres/{cadre}/state")
    assert state["sanctions"]["CF-1"]["effective_until"] == "2025-08-04"
    assert state["reports"]["JB-1"]["outcome"] == "verified"


@pytest.mark.parametrize("projection", [AuditFindingsProjection(), DepartureAuditsProjection(),
                                        ReportFunnelProjection(), InquiriesProjection()], ids=lambda p: p.name)
async def test_audit_read_models_rebuild_from_position_zero_to_the_same_rows(system: System,
                                                                           projection: Projection) -> None:
    cadre = await registered_cadre(system, "RB")
    await command(system, "/v1/inquiries/RB-1/send", cadre, {"occurred_on": "2024-05-06"})
    await command(system, "/v1/reports/RB-1/receive", cadre, {"occurred_on": "2024-05-06", "channel": "web",
                                                             "named": False})
    before, after, replayed = await rebuilt(system, projection)
    assert replayed > 0 and after == before
    assert any(before.values()), "the read model had rows to rebuild"


async def test_a_report_received_during_a_notice_follows_the_notice_s_deferral_in_the_funnel(system: System) -> None:
    """A report about the cadre received while the notice is open is one of its objections (docs/assessment.md), filed
    against it or not: the notice's deferral follows from it in the funnel as in the notices list. One recorded late
    (after the deferral, dated during the notice) follows it too; one received before the notice, or during the
    deferral, does not."""
    county = f"48{random.randrange(10_000):04d}"  # a county of its own, so counts are exact
    cadre = await registered_cadre(system, f"FD{county}", county=county)
    async def received(report: str, day: str) -> None:
        await command(system, f"/v1/reports/{report}/receive", cadre, {
            "occurred_on": day, "channel": "12380", "named": True}, county=county)

    async def recorded(event: CloudEvent) -> None:
        await wait_committed(system.pg_dsn, (await publish(system.nats_url, [event]))[0])

    await received("JB-before", "2024-04-01")
    await recorded(other_service_event("notice.posted", cadre, NoticePosted(
        notice_id="N1", selection_id="S1", proposed_post="某镇党委书记", start=date(2024, 4, 16),
        end=date(2024, 4, 22), working_days=5, channels=["12380举报网站"]), "2024-04-16", county))
    await received("JB-during", "2024-04-17")
    await recorded(other_service_event("appointment.deferred", cadre, AppointmentDeferred(
        notice_id="N1", until=date(2024, 7, 22)), "2024-04-23", county))
    await received("JB-late", "2024-04-20")
    await received("JB-after", "2024-05-10")  # during the deferral: the deferral did not follow from it

    async def funnel() -> dict[str, Any] | None:
        body = await read(system, f"/v1/reports/funnel?county={county}")
        return body if body["received"] == 4 else None

    f = await wait_until(funnel)
    assert f["deferred"] == 1, f  # in cadres: the one cadre, for the two reports received during the notice
    async with asyncpg.create_pool(system.pg_dsn, min_size=1, max_size=1) as pool:
        rows = await pool.fetch("SELECT report_id, deferred_on FROM rm_reports WHERE cadre_id = $1 ORDER BY 1", cadre)
    assert [(r["report_id"], r["deferred_on"]) for r in rows] == [
        ("JB-after", None), ("JB-before", None), ("JB-during", date(2024, 4, 23)), ("JB-late", date(2024, 4, 23))]
