"""The assessment service through HTTP, NATS and the ledger: a full selection, the seed county's funnel, the
watchlist, and the assessment read models rebuilt from position 0."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from services.ledger.main import writer_dsn
from services.ledger.projections import Projection
from services.ledger.read_models.assessment_watchlist import WatchlistProjection
from services.ledger.read_models.compliance import ComplianceProjection
from services.ledger.read_models.notices import NoticesProjection
from services.ledger.rebuild import rebuild
from shared.envelope import new_event
from shared.events.assessment import AppointmentDeferred, NoticeClosed
from shared.events.rotation import PostAssigned, PostFields, RotationCompleted
from shared.rulesets import ruleset_for
from shared.settings import Settings
from tests.support import System, call, publish, registered_cadre, wait_committed, wait_until

COUNTY = "431021"


async def post(system: System, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A command that must be accepted and committed."""
    status, answer, _ = await call("POST", f"{system.url(service)}{path}?wait=committed", body)
    assert status == 202, answer
    assert answer["committed"] is True, answer
    return dict(answer)


async def refused(system: System, service: str, path: str, body: dict[str, Any], rule: str) -> dict[str, Any]:
    """A command that must be refused with a 422 naming `rule`."""
    status, problem, headers = await call("POST", f"{system.url(service)}{path}", body)
    assert status == 422, problem
    assert headers["Content-Type"].startswith("application/problem+json")
    assert problem["rule"] == rule, problem
    return dict(problem)


def base(cadre: str, on: str) -> dict[str, Any]:
    return {"cadre_id": cadre, "county": COUNTY, "occurred_on": on}


CHECKS = {"dossier_checked": True, "personal_matters_checked": True, "discipline_opinion_obtained": True,
          "petitions_checked": True}


async def select(system: System, cadre: str, sid: str, inspected: str, voted: str,
                 post_name: str = "某镇党委书记") -> None:
    """Inspection and an approved vote (9 of 11 entitled)."""
    await post(system, "assessment", f"/v1/selections/{sid}/inspection",
               {**base(cadre, inspected), "proposed_post": post_name, **CHECKS})
    await post(system, "assessment", f"/v1/selections/{sid}/vote",
               {**base(cadre, voted), "members_entitled": 11, "members_present": 10, "votes_for": 9,
                "votes_against": 1})


async def notice(system: System, cadre: str, sid: str, nid: str, start: str, end: str) -> None:
    await post(system, "assessment", f"/v1/selections/{sid}/notice",
               {**base(cadre, start), "notice_id": nid, "start": start, "end": end,
                "channels": ["县委组织部网站", "桂阳县电视台"]})


async def ledger_get(system: System, path: str) -> Any:
    status, body, _ = await call("GET", f"{system.url('ledger')}{path}")
    assert status == 200, body
    return body


async def projected(system: System, path: str, key: str, ready: Any) -> Any:
    """Poll a read model until `ready(first entry)` holds (projections run behind the ledger)."""
    async def entry() -> Any:
        page = await ledger_get(system, path)
        return page[key][0] if page[key] and ready(page[key][0]) else None

    return await wait_until(entry)


# ---- one cadre from inspection to closed notice ----------------------------------------------

async def test_a_full_selection_is_in_the_history_and_the_compliance_read_model(system: System) -> None:
    cadre = await registered_cadre(system, "SEL")
    await select(system, cadre, "XB-2024-07", "2024-09-10", "2024-09-20")
    # over the National Day week: Thu 26 Sep to Tue 8 Oct is 5 working days (Sun 29 Sep is worked)
    await notice(system, cadre, "XB-2024-07", "GS-2024-031", "2024-09-26", "2024-10-08")
    await refused(system, "assessment", "/v1/notices/GS-2024-031/close",
                  {**base(cadre, "2024-10-07"), "outcome": "clear"}, "notice.period_not_over")
    # the period counts its last day: on Tue 8 Oct the notice is still up, and closes from the day after
    last_day = await refused(system, "assessment", "/v1/notices/GS-2024-031/close",
                             {**base(cadre, "2024-10-08"), "outcome": "clear"}, "notice.period_not_over")
    assert "公示期未满" in last_day["message_zh"] and "2024-10-08" in last_day["message_zh"], last_day
    assert "公示期不少于五个工作日" in last_day["basis"] and "第四十二条" in last_day["basis"], last_day
    assert last_day["closable_from"] == "2024-10-09" and last_day["field"] == "occurred_on", last_day
    closed = await post(system, "assessment", "/v1/notices/GS-2024-031/close",
                        {**base(cadre, "2024-10-09"), "outcome": "clear"})

    history = await ledger_get(system, f"/v1/cadres/{cadre}/history")
    registration, *rows = history["events"]
    assert registration["event"]["type"] == "cadre.registered"
    assert [r["event"]["type"] for r in rows] == ["selection.inspected", "appointment.voted", "notice.posted",
                                                  "notice.closed"]
    assert [r["label_zh"] for r in rows] == ["任前考察", "常委会票决", "任前公示", "公示结束"]
    assert [r["event"]["occurredon"] for r in rows] == ["2024-09-10", "2024-09-20", "2024-09-26", "2024-10-09"]
    assert rows[2]["event"]["data"]["working_days"] == 5 and rows[3]["event"]["id"] == closed["event_id"]
    assert {r["event"]["ruleset"] for r in rows} == {"431021@2024.3"}  # the county's, in force on their days

    entry = await projected(system, f"/v1/appointments?cadre_id={cadre}", "appointments",
                            lambda e: e["stage"] == "notice_closed")
    assert [(s["step"], s["on"]) for s in entry["steps"]] == [
        ("inspected", "2024-09-10"), ("voted", "2024-09-20"), ("notice_posted", "2024-09-26"),
        ("notice_closed", "2024-10-09")]
    assert entry["tally"] == {"members_entitled": 11, "members_present": 10, "votes_for": 9, "votes_against": 1,
                              "votes_deferred": 0, "outcome": "approved"}
    assert entry["notice_working_days"] == 5 and entry["notice_id"] == "GS-2024-031"
    assert entry["outcome"] == "clear" and entry["compliant"] is True and entry["issues"] == []
    assert all(entry["checks"].values())

    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["assessment"]["notices"]["GS-2024-031"]["status"] == "closed"
    assert state["assessment"]["selections"]["XB-2024-07"]["vote"]["outcome"] == "approved"
    earlier = await ledger_get(system, f"/v1/cadres/{cadre}/state?as_of=2024-10-01")
    assert earlier["assessment"]["notices"]["GS-2024-031"]["status"] == "open"
    # the notices list says the same: the period is over (公示期满) only once its last day has run
    for as_of, over in (("2024-10-08", False), ("2024-10-09", True)):
        [entry] = (await ledger_get(system, f"/v1/notices?cadre_id={cadre}&status=all&as_of={as_of}"))["notices"]
        assert entry["period_over"] is over, (as_of, entry)


async def test_the_compliance_read_model_checks_the_post_taken_against_the_post_proposed(system: System) -> None:
    """Two selections for 樟市镇党委书记: one appointment through the rotation service to 党委书记 of 樟市镇党委
    (the same post, its place written apart), one recorded by an older producer to another post under its notice,
    which the rotation service now refuses (posting.notice_post_matches) and the read model shows as an issue."""
    sound, other = await registered_cadre(system, "APS"), await registered_cadre(system, "APO")
    for cadre in (sound, other):
        await select(system, cadre, "XB-AP", "2024-09-10", "2024-09-20", "樟市镇党委书记")
        await notice(system, cadre, "XB-AP", "GS-AP", "2024-09-26", "2024-10-08")
        await post(system, "assessment", "/v1/notices/GS-AP/close", {**base(cadre, "2024-10-09"), "outcome": "clear"})
    taken = {"post": "党委书记", "unit": "樟市镇党委", "township": "樟市镇", "level": "section", "leadership": True,
             "kind": "lateral", "notice_id": "GS-AP"}
    await post(system, "rotation", "/v1/posts/ZS-SJ/assign", {**base(sound, "2024-10-15"), **taken})
    elsewhere = {**taken, "post": "镇长", "unit": "仁义镇人民政府", "township": "仁义镇"}
    await refused(system, "rotation", "/v1/posts/RY-ZZ/assign", {**base(other, "2024-10-15"), **elsewhere},
                  "posting.notice_post_matches")
    on = date(2024, 10, 15)
    data = PostAssigned(**{**elsewhere, "post_id": "RY-ZZ", "decision_date": on})
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [new_event(
        event_type="post.assigned", cadre_id=other, county=COUNTY, service="rotation", data=data, occurred_on=on,
        ruleset=ruleset_for(COUNTY, on).id)]))[0])

    entry = await projected(system, f"/v1/appointments?cadre_id={sound}", "appointments",
                            lambda e: e["stage"] == "appointed")
    assert entry["appointed_post"] == "党委书记" and entry["compliant"] is True, entry
    entry = await projected(system, f"/v1/appointments?cadre_id={other}", "appointments",
                            lambda e: e["stage"] == "appointed")
    assert entry["appointed_post"] == "镇长" and entry["compliant"] is False, entry
    [issue] = entry["issues"]
    assert issue["rule"] == "posting.notice_post_matches" and "樟市镇党委书记" in issue["message_zh"], issue


async def test_the_compliance_read_model_flags_a_notice_closed_on_its_last_day(system: System) -> None:
    """A clear close dated on the notice's last day, as an older producer recorded it (the service now refuses it):
    the period had not run (公示期未满), and the compliance read model shows the issue; a close the day after has
    none."""
    early, sound = await registered_cadre(system, "LDE"), await registered_cadre(system, "LDS")
    for cadre in (early, sound):
        await select(system, cadre, "XB-LD", "2024-09-10", "2024-09-20")
        await notice(system, cadre, "XB-LD", "GS-LD", "2024-09-26", "2024-10-08")
    await post(system, "assessment", "/v1/notices/GS-LD/close", {**base(sound, "2024-10-09"), "outcome": "clear"})
    on = date(2024, 10, 8)
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [new_event(
        event_type="notice.closed", cadre_id=early, county=COUNTY, service="assessment",
        data=NoticeClosed(notice_id="GS-LD", outcome="clear"), occurred_on=on,
        ruleset=ruleset_for(COUNTY, on).id)]))[0])

    entry = await projected(system, f"/v1/appointments?cadre_id={early}", "appointments",
                            lambda e: e["stage"] == "notice_closed")
    assert entry["compliant"] is False and [i["rule"] for i in entry["issues"]] == ["notice.period_not_over"], entry
    assert "公示期未满" in entry["issues"][0]["message_zh"], entry
    entry = await projected(system, f"/v1/appointments?cadre_id={sound}", "appointments",
                            lambda e: e["stage"] == "notice_closed")
    assert entry["compliant"] is True and entry["issues"] == [], entry


async def test_the_compliance_read_model_flags_a_deferral_longer_than_the_rule_set_allows(system: System) -> None:
    """A deferral (缓任) decided on 2024-10-08 runs at most 3 months counted from that day, until 2025-01-07 (431021
    rule set of the day; shared.tenure.deferral_latest). One until 2025-01-08, as an older producer recorded it
    counting from the day after (the service refuses it), is an issue of the compliance read model; one until the
    last day allowed, taken by the service, is none."""
    late, sound = await registered_cadre(system, "DFL"), await registered_cadre(system, "DFS")
    for cadre in (late, sound):
        await select(system, cadre, "XB-DF", "2024-09-10", "2024-09-20")
        await notice(system, cadre, "XB-DF", "GS-DF", "2024-09-26", "2024-10-08")
    await refused(system, "assessment", "/v1/notices/GS-DF/deferral",
                  {**base(late, "2024-10-08"), "until": "2025-01-08"}, "appointment.deferral_max")
    await post(system, "assessment", "/v1/notices/GS-DF/deferral",
               {**base(sound, "2024-10-08"), "until": "2025-01-07", "reason": "举报待核查"})
    on = date(2024, 10, 8)
    await wait_committed(system.pg_dsn, (await publish(system.nats_url, [new_event(
        event_type="appointment.deferred", cadre_id=late, county=COUNTY, service="assessment",
        data=AppointmentDeferred(notice_id="GS-DF", until=date(2025, 1, 8), reason="举报待核查"), occurred_on=on,
        ruleset=ruleset_for(COUNTY, on).id)]))[0])

    entry = await projected(system, f"/v1/appointments?cadre_id={late}", "appointments",
                            lambda e: e["stage"] == "deferred")
    assert entry["compliant"] is False and [i["rule"] for i in entry["issues"]] == ["appointment.deferral_max"], entry
    assert "2025-01-07" in entry["issues"][0]["message_en"] and "缓任期限最长3个月" in entry["issues"][0]["message_zh"]
    entry = await projected(system, f"/v1/appointments?cadre_id={sound}", "appointments",
                            lambda e: e["stage"] == "deferred")
    assert entry["compliant"] is True and entry["issues"] == [], entry


async def test_a_notice_of_four_working_days_is_a_422_naming_the_rule(system: System) -> None:
    cadre = await registered_cadre(system, "SEL")
    await select(system, cadre, "XB-4", "2024-09-10", "2024-09-20")
    # Fri 27 Sep to Tue 8 Oct: 12 days, but only 27 Sep, Sun 29 Sep (worked), 30 Sep and 8 Oct are working days
    problem = await refused(system, "assessment", "/v1/selections/XB-4/notice",
                            {**base(cadre, "2024-09-27"), "notice_id": "GS-4", "start": "2024-09-27",
                             "end": "2024-10-08", "channels": ["县委组织部网站"]}, "notice.min_working_days")
    assert "任前公示期不少于5个工作日" in problem["message_zh"]
    assert "notice period must be at least 5 working days" in problem["message_en"]
    assert problem["detail"].startswith("任前公示期不少于5个工作日")
    assert "党政领导干部选拔任用工作条例 (2019)" in problem["basis"]
    assert problem["working_days"] == 4 and problem["required"] == 5
    history = await ledger_get(system, f"/v1/cadres/{cadre}/history")
    assert [r["event"]["type"] for r in history["events"]] == ["cadre.registered", "selection.inspected",
                                                               "appointment.voted"]


async def test_order_quorum_and_bad_input(system: System) -> None:
    cadre = await registered_cadre(system, "SEL")
    await refused(system, "assessment", "/v1/selections/XB-9/vote",
                  {**base(cadre, "2024-03-01"), "members_entitled": 11, "members_present": 10, "votes_for": 9,
                   "votes_against": 1}, "selection.order")
    await post(system, "assessment", "/v1/selections/XB-9/inspection",
               {**base(cadre, "2024-03-01"), "proposed_post": "某局局长", **CHECKS})
    problem = await refused(system, "assessment", "/v1/selections/XB-9/vote",
                            {**base(cadre, "2024-03-08"), "members_entitled": 11, "members_present": 7,
                             "votes_for": 7, "votes_against": 0}, "appointment.vote_quorum")
    assert "2/3" in problem["message_en"]
    rejected = await post(system, "assessment", "/v1/selections/XB-9/vote",
                          {**base(cadre, "2024-03-08"), "members_entitled": 11, "members_present": 8,
                           "votes_for": 5, "votes_against": 3})
    assert rejected["type"] == "appointment.voted"
    await refused(system, "assessment", "/v1/selections/XB-9/notice",
                  {**base(cadre, "2024-03-11"), "notice_id": "GS-9", "start": "2024-03-11", "end": "2024-03-15",
                   "channels": ["网站"]}, "selection.order")
    status, problem, _ = await call("POST", f"{system.url('assessment')}/v1/notices/GS-9/close",
                                    {**base(cadre, "2024-03-15"), "outcome": "approved"})
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["outcome"]
    await refused(system, "assessment", "/v1/annual-grades", {**base(cadre, "2099-01-05"), "year": 2098,
                                                             "grade": "competent"}, "command.not_in_future")
    status, problem, _ = await call("POST", f"{system.url('assessment')}/v1/notices/bad%20id/close",
                                    {**base(cadre, "2024-03-15"), "outcome": "clear"})
    assert status == 422 and problem["errors"][0]["field"] == "notice_id"


# ---- the seed county's funnel (S1): objections, one deferred then cleared, one cancelled --------

async def test_the_seed_county_funnel(system: System) -> None:
    cleared, deferred, cancelled = [await registered_cadre(system, "FUN") for _ in range(3)]
    for cadre in (cleared, deferred, cancelled):
        await select(system, cadre, "XB-2024-03", "2024-03-01", "2024-03-08")
        await notice(system, cadre, "XB-2024-03", "GS-2024-012", "2024-03-11", "2024-03-15")

    # 1. an objection through 12380, verified unfounded: the notice closes clear
    objected = await post(system, "assessment", "/v1/notices/GS-2024-012/objections",
                          {**base(cleared, "2024-03-12"), "report_id": "JB-101", "channel": "12380", "named": False})
    # the audit service receives the report just after: recorded, with a word to check the id meanwhile
    assert [w["code"] for w in objected["warnings"]] == ["notice.report_not_on_record"]
    assert "受理记录" in objected["warnings"][0]["message_zh"]
    await post(system, "audit", "/v1/reports/JB-101/receive",
               {**base(cleared, "2024-03-12"), "channel": "12380", "named": False, "summary": "反映其收受礼金"})
    mid = await projected(system, f"/v1/notices?cadre_id={cleared}&as_of=2024-03-13", "notices",
                          lambda n: len(n["objections"]) == 1)
    assert mid["status"] == "open" and mid["working_days_left"] == 3 and mid["period_over"] is False
    assert mid["objections"][0]["report_id"] == "JB-101" and mid["objections"][0]["resolved"] is False
    assert mid["unresolved_objections"] == 1
    await refused(system, "assessment", "/v1/notices/GS-2024-012/close",
                  {**base(cleared, "2024-03-16"), "outcome": "clear"}, "notice.unresolved_objection")
    await post(system, "audit", "/v1/reports/JB-101/verify", {**base(cleared, "2024-03-15"), "outcome": "unfounded"})
    await post(system, "assessment", "/v1/notices/GS-2024-012/close", {**base(cleared, "2024-03-16"),
                                                                       "outcome": "clear"})

    # 2. a report received by the audit service during the notice: deferred (缓任), then cleared
    await post(system, "audit", "/v1/reports/JB-102/receive",
               {**base(deferred, "2024-03-13"), "channel": "letter", "named": True})
    problem = await refused(system, "assessment", "/v1/notices/GS-2024-012/close",
                            {**base(deferred, "2024-03-16"), "outcome": "clear"}, "notice.unresolved_objection")
    assert problem["reports"] == ["JB-102"]
    await refused(system, "assessment", "/v1/notices/GS-2024-012/deferral",
                  {**base(deferred, "2024-03-15"), "until": "2024-06-16"}, "appointment.deferral_max")
    await post(system, "assessment", "/v1/notices/GS-2024-012/deferral",
               {**base(deferred, "2024-03-15"), "until": "2024-05-15", "reason": "举报待核查"})
    await post(system, "assessment", "/v1/notices/GS-2024-012/close",
               {**base(deferred, "2024-03-15"), "outcome": "deferred"})
    waiting = await projected(system, f"/v1/notices?cadre_id={deferred}&as_of=2024-04-01", "notices",
                              lambda n: n["status"] == "deferred")
    assert waiting["deferred_until"] == "2024-05-15" and waiting["deferral_overdue"] is False
    assert waiting["objections"][0]["recorded_as"] == "report" and waiting["objections"][0]["channel"] == "letter"
    # until (缓任至) is the deferral's last day: not overdue on it, nor clear to close; both from the day after
    last_day = await ledger_get(system, f"/v1/notices?cadre_id={deferred}&as_of=2024-05-15")
    assert last_day["notices"][0]["deferral_overdue"] is False
    late = await ledger_get(system, f"/v1/notices?cadre_id={deferred}&as_of=2024-05-16")
    assert late["notices"][0]["deferral_overdue"] is True
    await post(system, "audit", "/v1/reports/JB-102/verify", {**base(deferred, "2024-04-10"), "outcome": "unfounded"})
    await refused(system, "assessment", "/v1/notices/GS-2024-012/close",
                  {**base(deferred, "2024-05-15"), "outcome": "clear"}, "appointment.deferral_running")
    await post(system, "assessment", "/v1/notices/GS-2024-012/close", {**base(deferred, "2024-05-16"),
                                                                       "outcome": "clear"})
    # the list as it stood each day: nothing before the posting; during the deferral the report not verified yet
    # (it was on 10 April); after the last close, closed clear with the verification
    before = await ledger_get(system, f"/v1/notices?cadre_id={deferred}&status=all&as_of=2024-03-10")
    assert before["notices"] == []
    after = await projected(system, f"/v1/notices?cadre_id={deferred}&status=all&as_of=2024-05-20", "notices",
                            lambda n: n["status"] == "closed")
    assert after["outcome"] == "clear" and after["closed_on"] == "2024-05-16"
    assert after["objections"][0]["verification"] == "unfounded" and after["unresolved_objections"] == 0
    [then] = (await ledger_get(system, f"/v1/notices?cadre_id={deferred}&status=all&as_of=2024-04-01"))["notices"]
    assert then["status"] == "deferred" and then["closed_on"] is None and then["outcome"] is None
    assert then["objections"][0]["verification"] is None and then["unresolved_objections"] == 1

    # 3. a named report found true: the notice cannot close clear; the qualification is cancelled
    await post(system, "assessment", "/v1/notices/GS-2024-012/objections",
               {**base(cancelled, "2024-03-12"), "report_id": "JB-103", "channel": "visit", "named": True})
    await post(system, "audit", "/v1/reports/JB-103/receive",
               {**base(cancelled, "2024-03-12"), "channel": "visit", "named": True})
    await post(system, "audit", "/v1/reports/JB-103/verify", {**base(cancelled, "2024-03-14"), "outcome": "verified"})
    await refused(system, "assessment", "/v1/notices/GS-2024-012/close",
                  {**base(cancelled, "2024-03-16"), "outcome": "clear"}, "notice.founded_objection")
    await post(system, "assessment", "/v1/notices/GS-2024-012/cancellation",
               {**base(cancelled, "2024-03-18"), "reason": "举报查实, 取消任职资格"})
    await refused(system, "assessment", "/v1/notices/GS-2024-012/close",
                  {**base(cancelled, "2024-03-19"), "outcome": "clear"}, "notice.not_open")
    # the qualification was cancelled for that appointment (某镇党委书记): a new selection for the same post is
    # refused, one for another post is not barred by it
    vote = {"members_entitled": 11, "members_present": 11, "votes_for": 10, "votes_against": 1}
    await post(system, "assessment", "/v1/selections/XB-2024-08/inspection",
               {**base(cancelled, "2024-09-02"), "proposed_post": "某镇党委书记", **CHECKS})
    problem = await refused(system, "assessment", "/v1/selections/XB-2024-08/vote",
                            {**base(cancelled, "2024-09-10"), **vote}, "appointment.qualification_cancelled")
    assert problem["notice_id"] == "GS-2024-012" and "取消任职资格" in problem["message_zh"]
    await post(system, "assessment", "/v1/selections/XB-2024-09/inspection",
               {**base(cancelled, "2024-09-02"), "proposed_post": "某局副局长", **CHECKS})
    await post(system, "assessment", "/v1/selections/XB-2024-09/vote", {**base(cancelled, "2024-09-10"), **vote})

    # the read models: each appointment step by step, then nothing left open
    finished = {}
    for cadre, stage in ((cleared, "notice_closed"), (deferred, "notice_closed"),
                         (cancelled, "qualification_cancelled")):
        finished[cadre] = await projected(system, f"/v1/appointments?cadre_id={cadre}&selection_id=XB-2024-03",
                                          "appointments", lambda e, stage=stage: e["stage"] == stage)
    assert [s["step"] for s in finished[deferred]["steps"]] == [
        "inspected", "voted", "notice_posted", "deferred", "closed_deferred", "notice_closed"]
    assert finished[deferred]["deferred_until"] == "2024-05-15" and finished[deferred]["outcome"] == "clear"
    assert finished[cleared]["objections"] == 1 and finished[cleared]["outcome"] == "clear"
    assert finished[cancelled]["steps"][-1]["on"] == "2024-03-18"
    assert all(e["compliant"] for e in finished.values())

    async def none_unresolved() -> bool:
        pages = [await ledger_get(system, f"/v1/notices?cadre_id={c}") for c in (cleared, deferred, cancelled)]
        return all(p["notices"] == [] for p in pages)

    await wait_until(none_unresolved)
    everything = await ledger_get(system, f"/v1/notices?cadre_id={deferred}&status=all")
    assert everything["notices"][0]["outcome"] == "clear" and everything["notices"][0]["unresolved_objections"] == 0

    await _rebuilt_equal(system, [NoticesProjection(), ComplianceProjection(), WatchlistProjection()])


async def test_a_selection_ended_before_its_notice_is_withdrawn_and_goes_no_further(system: System) -> None:
    cadre = await registered_cadre(system, "WD")
    await post(system, "assessment", "/v1/selections/XB-WD-1/inspection",
               {**base(cadre, "2024-04-01"), "proposed_post": "某镇副镇长", **CHECKS})
    await post(system, "assessment", "/v1/selections/XB-WD-1/withdrawal",
               {**base(cadre, "2024-04-08"), "reason": "考察发现不宜提拔, 终止选拔"})
    await refused(system, "assessment", "/v1/selections/XB-WD-1/vote",
                  {**base(cadre, "2024-04-10"), "members_entitled": 11, "members_present": 10, "votes_for": 9,
                   "votes_against": 1}, "selection.withdrawn")
    await refused(system, "assessment", "/v1/selections/XB-WD-1/withdrawal",
                  {**base(cadre, "2024-04-12"), "reason": "再次终止"}, "selection.withdrawn")

    entry = await projected(system, f"/v1/appointments?cadre_id={cadre}", "appointments",
                            lambda a: a["stage"] == "withdrawn")
    assert [(st["step"], st["label_zh"], st["on"]) for st in entry["steps"]] == [
        ("inspected", "任前考察", "2024-04-01"), ("withdrawn", "终止选拔", "2024-04-08")]
    assert entry["compliant"] is True and entry["steps"][-1]["detail"] == "考察发现不宜提拔, 终止选拔"
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["assessment"]["selections"]["XB-WD-1"]["withdrawn_on"] == "2024-04-08"


# ---- the watchlist ----------------------------------------------------------------------------

async def test_grades_evaluations_and_tests_reach_the_watchlist(system: System) -> None:
    cadre = await registered_cadre(system, "WL")
    for year, grade in ((2021, "basically_competent"), (2022, "incompetent")):
        await post(system, "assessment", "/v1/annual-grades", {**base(cadre, f"{year + 1}-01-20"), "year": year,
                                                              "grade": grade})
    graded = await post(system, "assessment", "/v1/annual-grades",
                        {**base(cadre, "2024-01-20"), "year": 2023, "grade": "incompetent"})
    await refused(system, "assessment", "/v1/annual-grades", {**base(cadre, "2024-02-01"), "year": 2023,
                                                             "grade": "competent"}, "assessment.annual_grade_once")

    status, first, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed", {
        **base(cadre, "2024-12-20"), "year": 2024, "scope": "county_wide", "ballots": 120, "rank": 58, "of": 60,
        "counts": {"excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}})
    assert status == 202 and first["threshold_check"] == "not_applicable", first
    status, second, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed", {
        **base(cadre, "2024-12-22"), "year": 2024, "scope": "own_unit", "ballots": 40,
        "counts": {"excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}})
    assert status == 202 and second["threshold_check"] == "recorded", second
    assert second["threshold_breached"]["type"] == "assessment.threshold_breached"
    await refused(system, "assessment", "/v1/threshold-checks", {**base(cadre, "2024-12-23"), "year": 2024},
                  "assessment.breach_once")

    await post(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-03-15"), "attempt": 1,
                                                             "score": "52.5", "passed": False})
    await refused(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-06-14"), "attempt": 2,
                                                                "score": "70", "passed": True},
                  "assessment.retest_too_early")
    await refused(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-06-20"), "attempt": 2,
                                                                "score": "48", "passed": False},
                  "assessment.second_failure_action")
    await post(system, "assessment", "/v1/competency-tests", {**base(cadre, "2024-06-20"), "attempt": 2,
                                                             "score": "48", "passed": False, "action": "demotion"})
    await post(system, "assessment", "/v1/periodic-scores", {**base(cadre, "2024-04-03"), "period": "2024-Q1",
                                                            "score": "912.5"})

    history = await ledger_get(system, f"/v1/cadres/{cadre}/history")
    types = [r["event"]["type"] for r in history["events"]]
    assert types.count("assessment.threshold_breached") == 1
    assert history["events"][3]["event"]["id"] == graded["event_id"]
    assert history["events"][3]["event"]["data"]["dismissal_case"] is True

    async def items() -> list[dict[str, Any]] | None:
        page = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&state=all&as_of=2025-01-01")
        found = page["items"]
        return found if len(found) == 9 else None

    # each 不称职 awaits its demotion (the cadre has no post on record to say it cannot be lowered); 2023's opens
    # the dismissal case too
    listed = sorted((i["kind"], i["year"], i["status"]) for i in await wait_until(items))
    assert listed == [("basically_competent", 2021, "open"), ("consecutive_low_grades", 2022, "open"),
                      ("consecutive_low_grades", 2023, "open"), ("dismissal_case", 2023, "open"),
                      ("incompetent_demotion", 2022, "open"), ("incompetent_demotion", 2023, "open"),
                      ("retest_due", None, "resolved"), ("second_failure", None, "open"),
                      ("threshold_breach", 2024, "open")]
    # as it stood on 2024-06-16: the retest due since the day before, no second failure, no breach yet
    earlier = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&state=all&as_of=2024-06-16")
    assert sorted((i["kind"], i["status"], i["resolved_on"]) for i in earlier["items"]) == [
        ("basically_competent", "open", None), ("consecutive_low_grades", "open", None),
        ("consecutive_low_grades", "open", None), ("dismissal_case", "open", None),
        ("incompetent_demotion", "open", None), ("incompetent_demotion", "open", None), ("retest_due", "due", None)]
    open_page = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&kind=second_failure")
    assert open_page["items"][0]["detail"]["action"] == "demotion"
    state = await ledger_get(system, f"/v1/cadres/{cadre}/state")
    assert state["assessment"]["annual_grades"]["2023"]["dismissal_case"] is True
    assert state["assessment"]["threshold_breaches"]["2024"]["required_decision"] == "demotion_or_removal"
    assert state["assessment"]["periodic_scores"] == {"2024-Q1": "912.5"}


COUNTY_WIDE = {"scope": "county_wide", "ballots": 120, "rank": 58, "of": 60,
               "counts": {"excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}}
OWN_UNIT = {"scope": "own_unit", "ballots": 40,
            "counts": {"excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}}


async def test_the_dual_threshold_is_for_unit_principals(system: System) -> None:
    """Rule 7's demotion or removal is for 党政正职 (S4): a deputy (副职, `principal: false`) with the same figures as
    a principal has both evaluations recorded, but no breach: the automatic check answers `not_principal` and the
    explicit one is a 422 naming `assessment.dual_evaluation_principals_only`."""
    deputy, principal = await registered_cadre(system, "DP"), await registered_cadre(system, "PR")
    post_fields = {"unit": "桂阳县财政局", "level": "section", "leadership": True, "kind": "lateral"}
    await post(system, "rotation", "/v1/posts/CZJ-FJZ/assign",
               {**base(deputy, "2021-03-01"), **post_fields, "post": "副局长", "principal": False})
    await post(system, "rotation", "/v1/posts/CZJ-JZ/assign",
               {**base(principal, "2021-03-01"), **post_fields, "post": "局长", "principal": True})
    answers = {}
    for cadre in (deputy, principal):
        for on, scope in (("2024-12-20", COUNTY_WIDE), ("2024-12-22", OWN_UNIT)):
            status, answers[cadre], _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed",
                                                   {**base(cadre, on), "year": 2024, **scope})
            assert status == 202, answers[cadre]
            if scope is COUNTY_WIDE:
                assert answers[cadre]["threshold_check"] == "not_applicable", answers[cadre]

    told = answers[deputy]
    assert told["evaluation"]["type"] == "assessment.evaluation_recorded" and told["evaluation"]["committed"]
    assert told["threshold_check"] == "not_principal" and told["threshold_breached"] is None, told
    problem = told["threshold_problem"]
    assert problem["rule"] == "assessment.dual_evaluation_principals_only" and problem["status"] == 422
    assert [p["post_id"] for p in problem["posts"]] == ["CZJ-FJZ"] and "党政正职" in problem["message_zh"]
    refusal = await refused(system, "assessment", "/v1/threshold-checks", {**base(deputy, "2024-12-23"), "year": 2024},
                            "assessment.dual_evaluation_principals_only")
    assert "副局长" in refusal["message_zh"] and "principals (正职) only" in refusal["message_en"]
    assert "对党政正职优秀票率排在最后5位" in refusal["basis"] and refusal["year"] == 2024
    assert answers[principal]["threshold_check"] == "recorded", answers[principal]

    for cadre, breaches in ((deputy, 0), (principal, 1)):
        history = await ledger_get(system, f"/v1/cadres/{cadre}/history")
        types = [r["event"]["type"] for r in history["events"]]
        assert types.count("assessment.evaluation_recorded") == 2
        assert types.count("assessment.threshold_breached") == breaches, types

    # moved on 2024-12-27 (平级转任) to the principal's post of another bureau: from then on the cadre held a
    # principal's post in 2024, which a check dated before the move does not know of
    await post(system, "rotation", "/v1/posts/CZJ-FJZ/vacate", {**base(deputy, "2024-12-27"), "reason": "rotation"})
    await post(system, "rotation", "/v1/posts/SJJ-JZ/assign",
               {**base(deputy, "2024-12-27"), **post_fields, "unit": "桂阳县审计局", "post": "局长", "principal": True})
    await refused(system, "assessment", "/v1/threshold-checks", {**base(deputy, "2024-12-26"), "year": 2024},
                  "assessment.dual_evaluation_principals_only")
    breached = await post(system, "assessment", "/v1/threshold-checks", {**base(deputy, "2024-12-28"), "year": 2024})
    assert breached["type"] == "assessment.threshold_breached"


async def test_a_demotion_removal_or_rotation_another_service_records_resolves_the_watchlist_item(
        system: System) -> None:
    breached, failed = await registered_cadre(system, "WR"), await registered_cadre(system, "WR")
    for year in (2022, 2023):
        await post(system, "assessment", "/v1/annual-grades",
                   {**base(breached, f"{year + 1}-01-20"), "year": year, "grade": "incompetent"})
    for scope, extra in (("county_wide", {"ballots": 120, "rank": 58, "of": 60, "counts": {
            "excellent": 36, "competent": 70, "basically_competent": 6, "incompetent": 8}}),
                         ("own_unit", {"ballots": 40, "counts": {
            "excellent": 12, "competent": 18, "basically_competent": 1, "incompetent": 9}})):
        status, answer, _ = await call("POST", f"{system.url('assessment')}/v1/evaluations?wait=committed",
                                       {**base(breached, "2024-12-20"), "year": 2024, "scope": scope, **extra})
        assert status == 202, answer
    sanction = {**base(breached, "2025-02-10"), "effective_from": "2025-02-10", "effective_until": "2027-02-09"}
    # a party warning is not the decision a breach requires; an organisational removal (免职) is
    await post(system, "audit", "/v1/sanctions/CF-WR-1", {**sanction, "category": "party", "measure": "warning"})
    await post(system, "audit", "/v1/sanctions/CF-WR-2", {**sanction, "category": "organisational",
                                                         "measure": "removal"})

    await post(system, "assessment", "/v1/competency-tests", {**base(failed, "2024-03-15"), "attempt": 1,
                                                             "score": "52.5", "passed": False})
    await post(system, "assessment", "/v1/competency-tests", {**base(failed, "2024-06-20"), "attempt": 2,
                                                             "score": "48", "passed": False,
                                                             "action": "reverse_rotation"})
    seqs = await publish(system.nats_url, [new_event(
        event_type="rotation.completed", cadre_id=failed, county=COUNTY, service="rotation",
        occurred_on=date(2024, 8, 1), ruleset=ruleset_for(COUNTY, date(2024, 8, 1)).id, data=RotationCompleted(
            from_post_id="P-WR-1", from_post="县财政局副局长", decision_date=date(2024, 7, 25), years_in_old_post=3,
            days_in_old_post=1200, trigger_rule="by_need", to=PostFields(
                post_id="P-WR-2", post="某镇副镇长", unit="某镇人民政府", township="某镇", level="deputy_section",
                leadership=True)))])
    await wait_committed(system.pg_dsn, max(seqs))

    async def resolved(cadre: str, count: int) -> dict[str, str] | None:
        page = await ledger_get(system, f"/v1/watchlist/assessment?cadre_id={cadre}&state=all&as_of=2025-03-01")
        done = {i["kind"]: i["resolution"] for i in page["items"] if i["status"] == "resolved"}
        return done if len(done) == count else None

    assert await wait_until(lambda: resolved(breached, 3)) == {
        "threshold_breach": "removed (免职, 组织处理)", "dismissal_case": "removed (免职, 组织处理)",
        "incompetent_demotion": "removed (免职, 组织处理)"}
    assert await wait_until(lambda: resolved(failed, 2)) == {
        "retest_due": "retest failed (补测不合格)", "second_failure": "reverse rotation (逆向交流)"}
    await _rebuilt_equal(system, [WatchlistProjection()])


# ---- rebuild ----------------------------------------------------------------------------------

async def _rebuilt_equal(system: System, projections: list[Projection]) -> None:
    """Each projection, rebuilt from position 0, gives the tables it had (once caught up)."""
    conn = await asyncpg.connect(writer_dsn(Settings(pg_dsn=system.pg_dsn)))
    try:
        async def caught_up() -> bool:
            top = await conn.fetchval("SELECT coalesce(max(position), 0) FROM ledger_events")
            done = await conn.fetch("SELECT name, position FROM projection_checkpoints")
            at = {r["name"]: r["position"] for r in done}
            return all(at.get(p.name, 0) >= top for p in projections)

        await wait_until(caught_up, timeout=30)
        for projection in projections:
            before = {t: await conn.fetch(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in projection.tables}
            assert await rebuild(conn, projection) > 0
            after = {t: await conn.fetch(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in projection.tables}
            for table in projection.tables:
                assert [dict(r) for r in after[table]] == [dict(r) for r in before[table]], table
    finally:
        await conn.close()
