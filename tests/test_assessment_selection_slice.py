"""The assessment service's selections through HTTP, NATS and the ledger: one cadre from inspection to closed
notice (任前公示) in the history, the state and the compliance read model, what that read model flags in facts an
older producer recorded, the 4-working-day notice refused, the order and quorum of the steps, the seed county's
funnel (objections, a deferral 缓任, a cancelled qualification) with the notices, compliance and watchlist read
models rebuilt from position 0, and a withdrawn selection. Grades, evaluations and the watchlist are in
tests/test_assessment_watchlist_slice.py."""

from __future__ import annotations

from datetime import date

from services.ledger.read_models.assessment_watchlist import WatchlistProjection
from services.ledger.read_models.compliance import ComplianceProjection
from services.ledger.read_models.notices import NoticesProjection
from shared.envelope import new_event
from shared.events.assessment import AppointmentDeferred, NoticeClosed
from shared.events.rotation import PostAssigned
from shared.rulesets import ruleset_for
from tests.assessment_slice_support import (
    CHECKS,
    COUNTY,
    _rebuilt_equal,
    base,
    ledger_get,
    notice,
    post,
    projected,
    refused,
    select,
)
from tests.support import System, call, publish, registered_cadre, wait_committed, wait_until

# ---- one cadre from inspection to closed notice ---------------------------------------------

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
    # the notices list says the same: the period is over (公示期满) only once its last day has run. Its read model runs
    # apart from the compliance one waited for above: first waited for until it holds the close.
    await projected(system, f"/v1/notices?cadre_id={cadre}&status=all", "notices", lambda e: e["closed_on"])
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


# ---- the seed county's funnel (S1): objections, one deferred then cleared, one cancelled ----

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
