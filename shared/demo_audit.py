"""The demo county's audits and supervision (桂阳县 431021), recorded through the audit service's HTTP API.

- 40 cadres (GY0001..) each with an economic responsibility audit through its whole lifecycle, some
  findings rectified, the result applied and filed;
- the report funnel of seed S1 over 2020-2022: 95 reports, 23 cadres checked (查核), 12 talked to, 2 sanctioned
  (the 1 deferral and 1 cancelled qualification are the assessment service's to record);
- written inquiries: answered in time, answered late with a reason, and one still unanswered (overdue).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

COUNTY = "431021"
Post = Callable[[str, dict[str, Any]], dict[str, Any]]
"""POST a JSON body to a URL and return the JSON answer (raises RuntimeError with the problem on error)."""
AUDITED, REPORTED, REPORTED_CADRES = "GY{:04d}", "GYJ{:03d}", 60
INQUIRED = ("GYH001", "GYH002", "GYH003")


def cadre_ids(cadres: int = 40) -> list[str]:
    """Every cadre the audit demo records facts about (with `cadres` audits), to be registered first."""
    return ([AUDITED.format(n) for n in range(1, cadres + 1)]
            + [REPORTED.format(n) for n in range(1, REPORTED_CADRES + 1)] + list(INQUIRED))


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days))


def _audits(url: str, post: Post, rng: random.Random, cadres: int) -> int:
    count = 0
    for n in range(1, cadres + 1):
        cadre, done = AUDITED.format(n), _day(rng, date(2020, 6, 1), date(2025, 3, 1))
        audit_type = rng.choice(["departure", "in_office", "pre_appointment"])
        base = {"cadre_id": cadre, "county": COUNTY}
        audit = f"{url}/v1/audits/SJ-{done.year}-{n:03d}"
        findings = [{"finding_id": f"F{k}", "category": rng.randint(1, 20),
                     "amount": f"{rng.randint(0, 500000)}.{rng.randint(0, 99):02d}",
                     "responsibility": rng.choice(["direct", "leadership"])} for k in range(1, rng.randint(0, 3) + 1)]
        steps: list[tuple[str, dict[str, Any]]] = [
            ("start", {"occurred_on": (done - timedelta(days=70)).isoformat(), "audit_type": audit_type,
                       "period_from": (done - timedelta(days=5 * 365)).isoformat(),
                       "period_to": (done - timedelta(days=75)).isoformat(),
                       "auditing_body": "桂阳县审计局经济责任审计室",
                       "post_id": f"{cadre}-P1" if audit_type == "departure" else None}),
            ("opinion-request", {"occurred_on": (done - timedelta(days=30)).isoformat()})]
        if rng.random() < 0.7:  # otherwise the window closes without an opinion (视同无异议)
            steps.append(("opinion", {"occurred_on": (done - timedelta(days=25)).isoformat(),
                                      "agrees": rng.random() < 0.8}))
        steps.append(("complete", {"occurred_on": done.isoformat(), "audit_type": audit_type,
                                   "report_number": f"桂审经责〔{done.year}〕{n}号",
                                   "evaluation": rng.choice(["good", "fairly_good", "average", "poor"]),
                                   "findings": findings}))
        if findings:
            result = rng.choice(["talk", "admonishment", "organisational_handling", "referral"])
            steps.append(("result", {"occurred_on": (done + timedelta(days=20)).isoformat(), "result": result,
                                     "filed_to_dossier": rng.random() < 0.8}))
            steps += [(f"findings/{f['finding_id']}/rectify",
                       {"occurred_on": (done + timedelta(days=30 + 10 * k)).isoformat(), "measures": "已整改"})
                      for k, f in enumerate(findings) if rng.random() < 0.6]
        for step, body in steps:
            post(f"{audit}/{step}?wait=committed", {**base, **body})
            count += 1
    return count


def _report_funnel(url: str, post: Post, rng: random.Random) -> int:
    """Seed S1 (2020-2022): 95 reports, 23 cadres checked (查核), 12 talked to, 2 sanctioned."""
    count = 0
    reports: list[tuple[str, str, date]] = []
    for n in range(1, 96):
        cadre, day = REPORTED.format(rng.randint(1, REPORTED_CADRES)), _day(rng, date(2020, 1, 6), date(2022, 10, 1))
        report_id = f"JB-{day.year}-{n:03d}"
        post(f"{url}/v1/reports/{report_id}/receive?wait=committed", {
            "cadre_id": cadre, "county": COUNTY, "occurred_on": day.isoformat(),
            "channel": rng.choice(["12380", "12380", "letter", "web"]), "named": rng.random() < 0.3,
            "summary": "反映领导干部思想、工作和作风问题"})
        reports.append((cadre, report_id, day))
        count += 1
    checked: dict[str, tuple[str, date]] = {}
    for cadre, report_id, day in reports:
        if cadre not in checked and len(checked) < 23:
            checked[cadre] = (report_id, day + timedelta(days=30))
    for k, (cadre, (report_id, day)) in enumerate(checked.items()):
        outcome = "unfounded" if k >= 14 else ("verified" if k < 4 else "partly")
        post(f"{url}/v1/reports/{report_id}/verify?wait=committed", {
            "cadre_id": cadre, "county": COUNTY, "occurred_on": day.isoformat(), "outcome": outcome})
        count += 1
        if k < 12:
            post(f"{url}/v1/talks/TH-{report_id}?wait=committed", {
                "cadre_id": cadre, "county": COUNTY, "occurred_on": (day + timedelta(days=7)).isoformat(),
                "kind": "admonishment" if k < 5 else "reminder", "report_id": report_id})
            count += 1
        if k < 2:
            start = day + timedelta(days=14)
            post(f"{url}/v1/sanctions/CF-{report_id}?wait=committed", {
                "cadre_id": cadre, "county": COUNTY, "occurred_on": start.isoformat(), "category": "party",
                "measure": "warning", "effective_from": start.isoformat(),
                "effective_until": (start + timedelta(days=365)).isoformat(),
                "report_id": report_id, "reference": f"桂纪〔{start.year}〕{k + 1}号"})
            count += 1
    return count


def _inquiries(url: str, post: Post) -> int:
    base = {"county": COUNTY}
    sends = list(zip(INQUIRED, ("HX-2024-001", "HX-2024-002", "HX-2025-001"), ("2024-03-01", "2024-04-01",
                                                                                "2025-03-03"), strict=True))
    for cadre, inquiry, day in sends:
        post(f"{url}/v1/inquiries/{inquiry}/send?wait=committed",
             {**base, "cadre_id": cadre, "occurred_on": day, "summary": "就群众反映问题函询本人"})
    post(f"{url}/v1/inquiries/HX-2024-001/answer?wait=committed",
         {**base, "cadre_id": "GYH001", "occurred_on": "2024-03-15", "summary": "已书面说明"})
    post(f"{url}/v1/inquiries/HX-2024-002/answer?wait=committed",
         {**base, "cadre_id": "GYH002", "occurred_on": "2024-05-06", "summary": "已书面说明",
          "late_reason": "外出培训"})
    return 5


def load_audit_demo(url: str, post: Post, cadres: int = 40, seed: int = 431021) -> int:
    """Record the demo county's audits and supervision; returns how many events were recorded.

    A second run against the same data (`make run` again) finds the first audit already started and
    records nothing.
    """
    rng = random.Random(seed)
    try:
        count = _audits(url, post, rng, cadres)
    except RuntimeError as exc:
        if "audit.start_once" in str(exc):
            return 0
        raise
    return count + _report_funnel(url, post, rng) + _inquiries(url, post)
