"""The audit opinion window of 2014-2019 is 10 days, not 10 working days (431021@2014.3 corrects 431021@2014.2).

The whole period of 431021@2014.2 (2014-01-14 .. 2019-03-02) fell under the 党政主要领导干部和国有企业领导人员经济责任
审计规定 of 2010, whose 第二十七条 reads 被审计领导干部及其所在单位应当自接到审计组的审计报告之日起10日内提出书面意见;
10日内未提出书面意见的, 视同无异议. 431021@2014.2 counted 10 working days. Table tests: given the audit's events,
when a command is decided under each version, then its event or rule; the version corrected still decides as
before. Over HTTP, an opinion on the 11th day of 2015 is refused as late, naming the correction and its article.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.audit.domain import audits as a
from services.audit.domain import fold
from shared.envelope import CloudEvent, new_event
from shared.events.audit import AuditOpinionRequested, AuditStarted
from shared.problems import RuleViolation
from shared.rulesets import RuleSet, ruleset_by_id, ruleset_for
from tests.support import System, call, registered_cadre

OLD, NEW = ruleset_by_id("431021@2014.2"), ruleset_by_id("431021@2014.3")
BASE: dict[str, Any] = {"cadre_id": "C1", "county": "431021"}


def ev(type_: str, data: Any, on: str, rules: RuleSet) -> CloudEvent:
    return new_event(event_type=type_, cadre_id="C1", county="431021", service="audit", data=data,
                     occurred_on=date.fromisoformat(on), ruleset=rules.id)


def started(rules: RuleSet) -> CloudEvent:
    return ev("audit.started", AuditStarted(audit_id="A1", audit_type="departure", period_from=date(2012, 1, 1),
                                            period_to=date(2015, 3, 31), auditing_body="桂阳县审计局",
                                            post_id="P1"), "2015-05-04", rules)


def request(on: str = "2015-06-01", received_on: str | None = None) -> a.RequestOpinion:
    return a.RequestOpinion.model_validate({**BASE, "occurred_on": on, "audit_id": "A1", "received_on": received_on})


def requested(rules: RuleSet) -> list[CloudEvent]:
    """The audit started, and its opinion requested on Mon 1 June 2015 as `rules` decide it."""
    first = started(rules)
    data = a.decide_request_opinion(fold([first]), request(), rules).data
    assert isinstance(data, AuditOpinionRequested)
    return [first, ev("audit.opinion_requested", data, "2015-06-01", rules)]


def test_2015_is_decided_under_the_correction_and_the_version_corrected_still_resolves() -> None:
    assert ruleset_for("431021", date(2015, 6, 1)).id == NEW.id and NEW.supersedes == [OLD.id]
    assert (OLD.audit.opinion_working_days, OLD.audit.opinion_calendar_days) == (10, None)
    assert (NEW.audit.opinion_working_days, NEW.audit.opinion_calendar_days) == (None, 10)
    assert "第二十七条" in NEW.bases.audit and "10日内提出书面意见" in NEW.bases.audit
    assert "第五条: 定期考核采取年度考核的方式, 在每年年末或者翌年年初进行" in NEW.bases.grading


@pytest.mark.parametrize(("rules", "received_on", "due"), [
    # Mon 1 June 2015, no holiday before the 20th: the 10th working day is Mon 15 June
    (OLD, None, date(2015, 6, 15)),
    # 10日内, the day of receipt not counted: 11 June
    (NEW, None, date(2015, 6, 11)),
    # from the receipt when recorded: received Wed 3 June, due Sat 13 June (the regulation moves no last day)
    (NEW, "2015-06-03", date(2015, 6, 13)),
], ids=["2014.2-working-days", "2014.3-days", "2014.3-from-the-receipt"])
def test_the_due_day_of_an_opinion_requested_in_2015(rules: RuleSet, received_on: str | None, due: date) -> None:
    decision = a.decide_request_opinion(fold([started(rules)]), request(received_on=received_on), rules)
    assert decision.type == "audit.opinion_requested"
    assert isinstance(decision.data, AuditOpinionRequested)
    assert decision.data.due == due and decision.data.provisional_calendar_years is None


def receive(on: str) -> a.ReceiveOpinion:
    return a.ReceiveOpinion.model_validate({**BASE, "occurred_on": on, "audit_id": "A1", "agrees": True})


def complete(on: str) -> a.CompleteAudit:
    return a.CompleteAudit.model_validate({**BASE, "occurred_on": on, "audit_id": "A1", "audit_type": "departure",
                                           "report_number": "桂审〔2015〕3号", "evaluation": "good", "findings": []})


CASES: list[tuple[str, RuleSet, Any, Any, str]] = [
    ("2014.2: an opinion on the 11th day is within 10 working days", OLD, a.decide_receive_opinion,
     receive("2015-06-12"), "audit.opinion_received"),
    ("2014.2: ... and on the 14th", OLD, a.decide_receive_opinion, receive("2015-06-15"), "audit.opinion_received"),
    ("2014.3: an opinion on the 10th day is in time", NEW, a.decide_receive_opinion, receive("2015-06-11"),
     "audit.opinion_received"),
    ("2014.3: an opinion on the 11th day is late (视同无异议)", NEW, a.decide_receive_opinion, receive("2015-06-12"),
     "audit.opinion_late"),
    ("2014.2: no completion without the opinion on the 11th day", OLD, a.decide_complete, complete("2015-06-12"),
     "audit.opinion_window_open"),
    ("2014.3: no completion without the opinion on the 10th day", NEW, a.decide_complete, complete("2015-06-11"),
     "audit.opinion_window_open"),
    ("2014.3: completion without the opinion on the 11th day", NEW, a.decide_complete, complete("2015-06-12"),
     "audit.completed"),
]


@pytest.mark.parametrize(("name", "rules", "when", "command", "then"), CASES, ids=[c[0] for c in CASES])
def test_the_opinion_window_under_each_version(name: str, rules: RuleSet, when: Any, command: Any,
                                               then: str) -> None:
    state = fold(requested(rules))
    if then in {"audit.opinion_late", "audit.opinion_window_open"}:
        with pytest.raises(RuleViolation) as refused:
            when(state, command, rules)
        assert refused.value.rule == then
        assert refused.value.extra["basis"] == rules.bases.audit
        # the due day the request recorded, in whichever unit its version counted
        due = "2015-06-11" if rules is NEW else "2015-06-15"
        assert due in refused.value.extra["message_zh"] and due in refused.value.extra["message_en"], refused.value
    else:
        assert when(state, command, rules).type == then


async def requested_over_http(system: System, audit_id: str, started_on: str, requested_on: str,
                              period: tuple[str, str]) -> tuple[str, dict[str, str]]:
    """A cadre's audit started and its opinion requested (and received) on `requested_on` under 431021@2014.3: the
    audit's url and the body fields naming the cadre."""
    cadre = await registered_cadre(system, "SJD")
    base = {"cadre_id": cadre, "county": "431021"}
    url = f"{system.url('audit')}/v1/audits/{audit_id}"
    status, answer, _ = await call("POST", f"{url}/start?wait=committed", {
        **base, "occurred_on": started_on, "audit_type": "departure", "period_from": period[0],
        "period_to": period[1], "auditing_body": "桂阳县审计局", "post_id": f"P-{cadre}"})
    assert status == 202, answer
    status, answer, _ = await call("POST", f"{url}/opinion-request?wait=committed",
                                   {**base, "occurred_on": requested_on, "received_on": requested_on})
    assert status == 202 and answer["ruleset"] == "431021@2014.3", answer
    return url, base


async def test_over_http_an_opinion_on_the_11th_day_of_2015_is_late(system: System) -> None:
    """Requested and received on Mon 1 June 2015: 431021@2014.2 took an opinion up to the 10th working day (15 June);
    under the 2010 规定 it is due by the 10th day (11 June), so the one of 12 June is refused, citing 第二十七条."""
    url, base = await requested_over_http(system, "SJ-2015", "2015-05-04", "2015-06-01", ("2012-01-01", "2015-03-31"))
    status, problem, _ = await call("POST", f"{url}/opinion?wait=committed",
                                    {**base, "occurred_on": "2015-06-12", "agrees": False, "summary": "有异议"})
    assert status == 422 and problem["rule"] == "audit.opinion_late", problem
    assert problem["ruleset"] == "431021@2014.3" and problem["basis"] == NEW.bases.audit
    assert "第二十七条" in problem["basis"] and "2015-06-11" in problem["detail"], problem
    status, answer, _ = await call("POST", f"{url}/complete?wait=committed", {
        **base, "occurred_on": "2015-06-12", "audit_type": "departure", "report_number": "桂审〔2015〕3号",
        "evaluation": "good", "findings": []})
    assert status == 202, answer


async def test_a_window_counted_under_one_version_is_not_named_in_the_units_of_the_next(system: System) -> None:
    """Found by review: requested and received on Mon 25 Feb 2019 under 431021@2014.3, the opinion is due on 7 March
    (10 days). A completion on 5 March and an opinion on 8 March are decided under 431021@2019.2, which counts
    working days: the refusals named the window as "10 working days" (10 个工作日), which it never was. They name
    the due day recorded when the opinion was requested, not a count the rule set of a later day would make."""
    url, base = await requested_over_http(system, "SJ-2019", "2019-01-07", "2019-02-25", ("2016-01-01", "2018-12-31"))
    status, problem, _ = await call("POST", f"{url}/complete?wait=committed", {
        **base, "occurred_on": "2019-03-05", "audit_type": "departure", "report_number": "桂审〔2019〕3号",
        "evaluation": "good", "findings": []})
    assert status == 422 and problem["rule"] == "audit.opinion_window_open", problem
    assert problem["ruleset"] == "431021@2019.2" and "2019-03-07" in problem["detail"], problem
    assert "working days" not in problem["detail"] and "工作日" not in problem["message_zh"], problem
    status, problem, _ = await call("POST", f"{url}/opinion?wait=committed",
                                    {**base, "occurred_on": "2019-03-08", "agrees": False, "summary": "有异议"})
    assert status == 422 and problem["rule"] == "audit.opinion_late", problem
    assert "2019-03-07" in problem["detail"] and "2019-03-07" in problem["message_zh"], problem
    assert "working days" not in problem["detail"] and "工作日" not in problem["message_zh"], problem
