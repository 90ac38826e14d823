"""The demo county's assessments and selections (桂阳县 431021), through the assessment service's HTTP API.

Shaped by the seeds (S1, S4), scaled down:
- 30 selections (选拔任用) in 2023-2024: inspection with its four checks, the standing committee's vote
  (票决, 11 members), a notice of exactly 5 working days on the holiday calendar, closed clear; one vote
  rejected; objections through 12380 (recorded by the audit service too, and verified there): unfounded
  ones closed clear, a partly true one closed with a reminder, one deferred (缓任) then cleared, one
  cancelled (取消任职资格, S1: 1 deferred, 1 cancelled), and one notice still waiting on its objection;
- annual grades 2022-2024, a few 基本称职 and one cadre 不称职 twice (dismissal case); one 2024 grade typed
  wrongly as 基本称职 and corrected (更正) to 称职 (GYX037);
- the dual democratic evaluation of 2024 for 8 unit principals (each holding a bureau chief's post, 局长,
  `principal: true`, recorded through the rotation service), one breaching (S4: 末位5名, 40 %/20 %); and for a
  deputy (副局长, `principal: false`) with breaching figures, for whom no breach is recorded (the rule is for
  党政正职: the answer says `threshold_check: not_principal`);
- competency tests (S4: 自学3个月后补测): two failures, one retest passed, one failed with a demotion;
- quarterly scores (千分制) for 2024.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from shared.workdays import add_working_days

COUNTY = "431021"
Post = Callable[[str, dict[str, Any]], dict[str, Any]]
CADRES = 59
"""The demo's cadres are GYX001..GYX059 (selections 1-30, grades 1-37, evaluations 40-48, competency 50-59)."""
UNITS = ("县财政局", "县教育局", "县交通运输局", "县农业农村局", "县水利局", "县住房和城乡建设局", "县自然资源局",
         "县商务局")
"""The bureaus whose chiefs (局长) GYX040..GYX047 are; GYX048 is a deputy chief (副局长) of the first."""


def _cadre(n: int) -> str:
    return f"GYX{n:03d}"


def cadre_ids() -> list[str]:
    """Every cadre the assessment demo records facts about, to be registered first."""
    return [_cadre(n) for n in range(1, CADRES + 1)]
"""POST a JSON body to a URL and return the JSON answer (raises RuntimeError with the problem on error)."""
CHECKS = {"dossier_checked": True, "personal_matters_checked": True, "discipline_opinion_obtained": True,
          "petitions_checked": True}
POSTS = ("镇党委书记", "镇长", "乡党委副书记", "县直局局长", "县直局副局长", "乡长")
TOWNS = ("龙潭镇", "仁义镇", "太和镇", "洋市镇", "樟市镇", "敖泉镇", "四里乡", "桥市乡")
# what happens to selection n during its notice
STORIES = {3: "unfounded", 8: "unfounded", 13: "unfounded", 17: "partly", 21: "deferred", 25: "cancelled",
           29: "rejected", 30: "pending"}


class _Recorder:
    """Posts commands for one cadre at a time, counting the events."""

    def __init__(self, urls: dict[str, str], post: Post) -> None:
        self.urls, self.post, self.count = urls, post, 0

    def __call__(self, service: str, path: str, cadre: str, on: date, **body: Any) -> dict[str, Any]:
        answer = self.post(f"{self.urls[service]}{path}?wait=committed",
                           {"cadre_id": cadre, "county": COUNTY, "occurred_on": on.isoformat(), **body})
        self.count += 1
        return answer


def _selection(rec: _Recorder, rng: random.Random, n: int) -> None:
    cadre, sid, nid = _cadre(n), f"XB-{n:03d}", f"GS-{n:03d}"
    story = STORIES.get(n, "clear")
    inspected = date(2023, 2, 6) + timedelta(days=23 * n + rng.randrange(5))
    voted = inspected + timedelta(days=10)
    start = add_working_days(voted, 1)   # a notice starts on a working day...
    end = add_working_days(start, 4)     # ...and runs exactly 5 of them, its first included
    rec("assessment", f"/v1/selections/{sid}/inspection", cadre, inspected,
        proposed_post=f"{rng.choice(TOWNS)}{rng.choice(POSTS)}", **CHECKS)
    votes_for = 4 if story == "rejected" else rng.randint(8, 11)
    rec("assessment", f"/v1/selections/{sid}/vote", cadre, voted, members_entitled=11, members_present=11,
        votes_for=votes_for, votes_against=11 - votes_for)
    if story == "rejected":
        return
    rec("assessment", f"/v1/selections/{sid}/notice", cadre, start, notice_id=nid, start=start.isoformat(),
        end=end.isoformat(), channels=["桂阳县人民政府网", "县委组织部公示栏"])
    closable = end + timedelta(days=1)  # the period counts its last day: it has run the day after (公示期满)
    if story == "clear":
        rec("assessment", f"/v1/notices/{nid}/close", cadre, closable, outcome="clear")
        return
    report, received = f"JB-GS-{n:03d}", start + timedelta(days=1)
    rec("audit", f"/v1/reports/{report}/receive", cadre, received, channel="12380", named=story == "cancelled",
        summary="公示期间反映问题")
    rec("assessment", f"/v1/notices/{nid}/objections", cadre, received, report_id=report, channel="12380",
        named=story == "cancelled")
    if story == "pending":
        return
    if story == "deferred":
        until = end + timedelta(days=60)
        rec("assessment", f"/v1/notices/{nid}/deferral", cadre, end, until=until.isoformat(), reason="举报待核查")
        rec("assessment", f"/v1/notices/{nid}/close", cadre, end, outcome="deferred")
        rec("audit", f"/v1/reports/{report}/verify", cadre, end + timedelta(days=40), outcome="unfounded")
        # until is the deferral's last day (缓任至): the appointment is free from the day after
        rec("assessment", f"/v1/notices/{nid}/close", cadre, until + timedelta(days=1), outcome="clear",
            reason="缓任期满, 举报不属实")
        return
    outcome = {"unfounded": "unfounded", "partly": "partly", "cancelled": "verified"}[story]
    rec("audit", f"/v1/reports/{report}/verify", cadre, end, outcome=outcome)
    if story == "cancelled":
        rec("assessment", f"/v1/notices/{nid}/cancellation", cadre, end + timedelta(days=3),
            reason="举报查实, 取消任职资格")
    else:
        rec("assessment", f"/v1/notices/{nid}/close", cadre, closable,
            outcome="clear" if story == "unfounded" else "minor_issue_reminded")


def _grades(rec: _Recorder, rng: random.Random) -> None:
    low = {(31, 2023): "basically_competent", (32, 2024): "basically_competent", (33, 2022): "incompetent",
           (33, 2023): "incompetent"}
    for n in range(1, 37):
        for year in (2022, 2023, 2024):
            grade = low.get((n, year), "excellent" if rng.random() < 0.2 else "competent")
            rec("assessment", "/v1/annual-grades", _cadre(n), date(year + 1, 1, 15), year=year, grade=grade)
    # A grade typed wrongly and corrected (更正): the ledger keeps both, the lists read the corrected one.
    wrong = rec("assessment", "/v1/annual-grades", _cadre(37), date(2025, 1, 15), year=2024,
                grade="basically_competent")
    rec("assessment", "/v1/annual-grades", _cadre(37), date(2025, 1, 15), year=2024, grade="competent",
        correction={"event_id": wrong["event_id"], "reason": "录入错误: 考核等次选错, 据考核委员会确定的等次更正"})


def _evaluations(rec: _Recorder, rng: random.Random) -> None:
    # Rule 7 is for unit principals (党政正职): the posts come first, so that the check knows who is one. A bureau's
    # chief and deputies are appointed (委任: the county people's congress standing committee decides the 局长,
    # 第四十三条 counts 政府工作部门副职 among the non-elected posts), so the postings say elected: false.
    for k, unit in enumerate(UNITS):
        rec("rotation", f"/v1/posts/GY-PA-{k + 1:02d}/assign", _cadre(40 + k), date(2022, 3, 1), post="局长",
            unit=f"桂阳{unit}", level="section", leadership=True, principal=True, elected=False,
            kind="lateral")
    rec("rotation", "/v1/posts/GY-PA-01-F/assign", _cadre(48), date(2022, 3, 1), post="副局长",
        unit=f"桂阳{UNITS[0]}", level="deputy_section", leadership=True, principal=False, elected=False,
        kind="lateral")
    for k, n in enumerate(range(40, 49)):
        breaching = k in (0, 8)  # GYX040, a principal, and GYX048, a deputy
        cadre, rank = _cadre(n), 60 - k if k == 0 else 57 if k == 8 else 10 + 5 * k
        excellent = 30 if breaching else rng.randint(55, 90)
        rec("assessment", "/v1/evaluations", cadre, date(2024, 12, 20), year=2024, scope="county_wide", ballots=100,
            rank=rank, of=60, counts={"excellent": excellent, "competent": 90 - excellent, "basically_competent": 5,
                                      "incompetent": 5})
        own = 12 if breaching else rng.randint(20, 35)
        answer = rec("assessment", "/v1/evaluations", cadre, date(2024, 12, 27), year=2024, scope="own_unit",
                     ballots=40, counts={"excellent": own, "competent": 40 - own - 1, "basically_competent": 0,
                                         "incompetent": 1})
        expected = "recorded" if k == 0 else "not_principal" if k == 8 else "not_applicable"
        if answer["threshold_check"] != expected:  # the demo shows the rule: say so when it does not
            raise RuntimeError(f"{cadre}'s threshold check: {answer['threshold_check']}, expected {expected}")


def _competency(rec: _Recorder) -> None:
    for n in range(50, 60):
        rec("assessment", "/v1/competency-tests", _cadre(n), date(2024, 3, 15), attempt=1,
            score="52.0" if n in (50, 51) else "78.5", passed=n not in (50, 51))
    rec("assessment", "/v1/competency-tests", "GYX050", date(2024, 6, 17), attempt=2, score="71.0", passed=True)
    rec("assessment", "/v1/competency-tests", "GYX051", date(2024, 6, 17), attempt=2, score="49.0", passed=False,
        action="demotion")


def _scores(rec: _Recorder, rng: random.Random) -> None:
    for n in range(1, 6):
        for quarter in range(1, 5):
            economy, other = rng.randint(500, 600), rng.randint(300, 380)
            rec("assessment", "/v1/periodic-scores", _cadre(n), date(2024, 3 * quarter, 28) + timedelta(days=7),
                period=f"2024-Q{quarter}", score=str(economy + other),
                indicators=[{"name": "主要经济指标", "score": str(economy)},
                            {"name": "计生、政法综治、财政、组织工作", "score": str(other)}])


def load_assessment_demo(urls: dict[str, str], post: Post, seed: int = 431021) -> int:
    """Record the demo county's assessments and selections; returns how many events were recorded.

    Needs the assessment, the audit and the rotation service (reports are the audit service's, the evaluated
    principals' posts the rotation service's). A second run against
    the same data finds the first selection already inspected and records nothing.
    """
    rng = random.Random(seed)
    rec = _Recorder(urls, post)
    try:
        _selection(rec, rng, 1)
    except RuntimeError as exc:
        if "selection.once" in str(exc):
            return 0
        raise
    for n in range(2, 31):
        _selection(rec, rng, n)
    _grades(rec, rng)
    _evaluations(rec, rng)
    _competency(rec)
    _scores(rec, rng)
    return rec.count
