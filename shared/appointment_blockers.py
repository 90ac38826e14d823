"""What blocks a cadre's appointment on a given day (DOMAIN.md rules 3 and 6; S1). Pure: no I/O.

Rotation (a promotion `post.assigned`) and assessment (closing a notice as clear, the committee's
vote) call `appointment_blockers` on the cadre's ledger events. It reads events by type string, so
it depends on no service and on no event model: the four facts of rule 3 it looks for are

- an unverified report (12380 举报 not yet verified): `report.received` without a `report.verified`
  for the same `report_id`;
- a running deferral (缓任): `appointment.deferred` whose `until` (缓任至, the deferral's last day) is on or
  after the day (`deferral_runs`: the day after `until` is the first free one, as with a sanction's
  `effective_until`; the notices read model counts `deferral_overdue` from that day with the same function);
- a cancelled qualification (取消任职资格): `appointment.qualification_cancelled`, for the appointment it
  was cancelled for only (S1: 1名拟提拔人选被取消了任职资格, the proposed appointment): one under the
  notice it names (`notice_id`), or one to the post that notice proposed (`proposed_post` of its
  `notice.posted`, which `names_post` the post), whatever notice or exemption it comes with.
  The cadre's other appointments are not barred by it;
- a running sanction period (处分影响期): `sanction.imposed` with effective_from <= day <= effective_until,
  or with no `effective_until` (open-ended).

and, for a promotion only:

- (rule 6) a year barred by a 基本称职 or 不称职 grade (`assessment.promotion_blocked`): an
  `assessment.annual_graded` whose `promotion_blocked_years` holds the day's year (the assessment service lists
  them when it records the grade, from its rule set's `promotion_block_years` and
  `incompetent_promotion_block_years`);
- (rules 6 and 7) a demotion or removal the assessments require and no decision has yet answered
  (`assessment.demotion_pending`, 待降免职): an `assessment.threshold_breached` with no demotion or removal
  recorded on or after its day, a 不称职 grade that demotes (`grade_demotes`, 待降职) with no demotion or removal
  recorded on or after its day, or two adjacent years graded incompetent (a dismissal case) with no removal
  after the later grade. What answers them is what resolves them on the assessment watchlist: a demotion
  (`post.assigned` kind demotion, `post.vacated` reason demotion, the sanction organisational.demotion) or a
  removal (`post.vacated` reason dismissal, `REMOVALS`), each the items `DEMOTION_ITEMS` and `REMOVAL_ITEMS` name.
  A cadre awaiting a demotion is not promoted meanwhile.

Rule 3's blockers come first, in ledger order, then the promotion's.

`FACT_TYPES` are the event types read; a caller that keeps only part of a cadre's events keeps these.

Only events that occurred on or before the day count (`occurredon`), so the answer is the one the
ledger gave on that day: a report received later does not block an appointment made earlier.

Each reason cites (`basis`) the `bases` of the rule set the caller decides under, the one in force on the day:
rule 3's reasons its `blockers` entry, rule 6's its `grading` entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from shared.envelope import CloudEvent
from shared.problems import RuleViolation
from shared.rulesets import Bases

FACT_TYPES = frozenset({"report.received", "report.verified", "appointment.deferred", "notice.posted",
                        "appointment.qualification_cancelled", "sanction.imposed", "assessment.annual_graded",
                        "assessment.threshold_breached", "post.assigned", "post.vacated"})
REMOVALS = {"organisational.removal": "removed (免职, 组织处理)",
            "administrative.dismissal_from_post": "dismissed from post (撤职, 政务处分)"}
"""Sanctions (category.measure) that remove the cadre from their post, as a removal the assessments require."""


DEMOTION_ITEMS = ("threshold_breach", "incompetent_demotion")
"""The items (assessment watchlist kinds, `item` of `assessment.demotion_pending`) a demotion answers: a breach
requires a demotion or removal, a 不称职 grade a demotion (a removal is more than one)."""
REMOVAL_ITEMS = (*DEMOTION_ITEMS, "dismissal_case")
"""The items a removal answers: those a demotion answers, and a dismissal case, which only a removal does."""


_BARRING_GRADES = {"basically_competent": ("basically competent", "基本称职"), "incompetent": ("incompetent", "不称职")}
"""The grades whose event lists years without promotion (`promotion_blocked_years`), in English and Chinese."""


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def deferral_runs(until: date, on: date) -> bool:
    """An appointment deferral (缓任) runs on `on`: `until` is its last day, counted in (缓任至)."""
    return on <= until


def appointment_blockers(events: Sequence[CloudEvent], on: date, bases: Bases, *, notice_id: str | None = None,
                        post: str | None = None, places: Sequence[str | None] = (),
                        promotion: bool = False, bound_only: bool = False) -> list[RuleViolation]:
    """Every reason the cadre cannot be appointed on `on`: rule 3's in ledger order, then rule 6's; empty when none.

    `events` are the cadre's ledger events in ledger order; `bases` those of the rule set in force on `on`, which
    each reason cites. The appointment is the one under notice
    `notice_id` and to the post titled `post` (of the unit and township `places`, see `names_post`), as far as the
    caller knows them (a cancelled qualification bars only its own appointment); `promotion`: it raises the
    cadre's rank (提拔). `bound_only`: only the reasons bound to this appointment, a qualification cancelled for it
    and a running deferral of it (under its notice, or of a notice that proposed its post), for a posting that is
    neither a promotion nor made through a selection (see docs/rotation.md). Each reason is a
    RuleViolation naming its rule (`appointment.unverified_report`, `appointment.deferral_running`,
    `appointment.qualification_cancelled`, `appointment.sanction_running`, `assessment.promotion_blocked`);
    callers raise the first or report them all.
    """
    known = [e for e in events if e.occurredon <= on]
    verified = {str(e.data["report_id"]) for e in known if e.type == "report.verified"}
    proposed = proposed_posts(known)
    blockers: list[RuleViolation] = []
    for event in known:
        data = event.data
        if event.type == "report.received" and str(data["report_id"]) not in verified and not bound_only:
            report_id = str(data["report_id"])
            blockers.append(RuleViolation(
                "appointment.unverified_report",
                f"report {report_id} (received {event.occurredon.isoformat()}) is not verified yet; "
                "an unverified report blocks appointment",
                f"举报 {report_id} ({event.occurredon.isoformat()} 受理) 尚未核查 (未核查的举报), 不能任用",
                basis=bases.blockers, report_id=report_id))
        elif event.type == "appointment.deferred" and deferral_runs(_day(data["until"]), on) and (
                not bound_only or _for_this(str(data["notice_id"]), proposed, notice_id, post, places)):
            until = _day(data["until"]).isoformat()
            blockers.append(RuleViolation(
                "appointment.deferral_running",
                f"the appointment is deferred until {until}, that day included (notice {data.get('notice_id', '-')})",
                f"缓任期未满 (缓任至 {until}, 含当日), 不能任用",
                basis=bases.blockers, notice_id=data.get("notice_id"), until=until))
        elif event.type == "appointment.qualification_cancelled":
            cancelled = str(data["notice_id"])
            if not _for_this(cancelled, proposed, notice_id, post, places):
                continue
            proposed_post = proposed.get(cancelled)
            for_post = f" to {proposed_post}" if proposed_post else ""
            blockers.append(RuleViolation(
                "appointment.qualification_cancelled",
                f"the qualification for the appointment{for_post} under notice {cancelled} was cancelled on "
                f"{event.occurredon.isoformat()}" + (f": {data['reason']}" if data.get("reason") else ""),
                f"{event.occurredon.isoformat()} 已取消该干部拟任{proposed_post or '职务'}的任职资格 "
                f"(取消任职资格, 任前公示 {cancelled}), 不能任用",
                basis=bases.blockers, notice_id=cancelled, proposed_post=proposed_post))
        elif event.type == "sanction.imposed" and not bound_only:
            start = _day(data["effective_from"])
            end = _day(data["effective_until"]) if data.get("effective_until") else None
            if start <= on and (end is None or on <= end):
                period = f"{start.isoformat()}..{end.isoformat() if end else ''}"
                blockers.append(RuleViolation(
                    "appointment.sanction_running",
                    f"sanction {data['sanction_id']} ({data.get('measure', '')}) is in its effect period "
                    f"{period}" + ("" if end else " (open-ended)"),
                    f"处分 {data['sanction_id']} 在影响期内 (处分影响期 {period}), 不能提拔任用",
                    basis=bases.blockers, sanction_id=str(data["sanction_id"]), effective_from=start.isoformat(),
                    effective_until=end.isoformat() if end else None))
    if promotion:
        blockers.extend(_promotion_barred(known, on, bases))
        blockers.extend(_demotion_pending(known, bases))
    return blockers


def _for_this(notice: str, proposed: dict[str, str], notice_id: str | None, post: str | None,
              places: Sequence[str | None]) -> bool:
    """Whether a fact about the appointment under `notice` is about this one: the same notice, or the post it
    proposed named by this one's."""
    proposed_post = proposed.get(notice)
    return notice == notice_id or (post is not None and proposed_post is not None
                                   and names_post(proposed_post, post, places))


def proposed_posts(events: Sequence[CloudEvent]) -> dict[str, str]:
    """The post each notice among `events` proposed (`proposed_post` of its `notice.posted`), by notice id."""
    return {str(e.data["notice_id"]): str(e.data["proposed_post"]) for e in events if e.type == "notice.posted"}


def same_title(title: str) -> str:
    """A post title as compared with another: full-width and half-width forms alike (NFKC), no spaces around or
    inside (a title typed "副 镇长 " in one service is "副镇长" in another)."""
    return "".join(unicodedata.normalize("NFKC", title).split())


def names_post(proposed: str, post: str, places: Sequence[str | None] = ()) -> bool:
    """Whether the title a notice proposed (拟任职务) names the post titled `post`, of the unit and township `places`.

    A notice writes the post with its place (樟市镇副镇长), a posting records the title and the place apart (副镇长
    of 樟市镇人民政府, in 樟市镇). So the two name one post when their titles are the same (`same_title`), or when
    one is the other preceded by a place: the whole or the end of one of `places` (樟市镇副镇长 and 副镇长 in 樟市镇;
    县审计局局长 and 局长 of 桂阳县审计局). 副县长 does not name 县长, nor 仁义镇镇长 the 镇长 of 樟市镇. A notice
    that proposes several posts (樟市镇党委副书记、镇长) names each of them.
    """
    b = same_title(post)
    return any(_names(same_title(part), b, places) for part in _SEVERAL.split(proposed) if part.strip())


_SEVERAL = re.compile(r"[、，,；;]")
"""What separates the posts a notice proposes together (樟市镇党委副书记、镇长)."""


def _names(a: str, b: str, places: Sequence[str | None]) -> bool:
    if a == b:
        return True
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    if not shorter or not longer.endswith(shorter):
        return False
    place = longer[:-len(shorter)]
    return any(p is not None and same_title(p).endswith(place) for p in places)


def _promotion_barred(known: Sequence[CloudEvent], on: date, bases: Bases) -> list[RuleViolation]:
    """Rule 6: each 基本称职 or 不称职 grade recorded by `on` that bars promotion in `on`'s year."""
    barred = []
    for event in known:
        if event.type != "assessment.annual_graded":
            continue
        years = [int(y) for y in event.data.get("promotion_blocked_years") or []]
        if on.year in years:
            graded = int(event.data["year"])
            en, zh = _BARRING_GRADES.get(str(event.data.get("grade")), ("low", "较低等次"))
            barred.append(RuleViolation(
                "assessment.promotion_blocked",
                f"the annual grade of {graded} is {en}, which bars promotion in {on.year} "
                f"(barred: {', '.join(map(str, years))})",
                f"{graded}年度考核被确定为{zh}, {on.year}年不得提拔 ({zh}次年不得提拔)",
                basis=bases.grading, year=on.year, graded_year=graded, promotion_blocked_years=years))
    return barred


def _measure(event: CloudEvent) -> str:
    return f"{event.data.get('category')}.{event.data.get('measure')}"


def _demotes(event: CloudEvent) -> bool:
    d = event.data
    return (event.type == "post.assigned" and d.get("kind") == "demotion") or (
        event.type == "post.vacated" and d.get("reason") == "demotion") or (
        event.type == "sanction.imposed" and _measure(event) == "organisational.demotion")


def _removes(event: CloudEvent) -> bool:
    return (event.type == "post.vacated" and event.data.get("reason") == "dismissal") or (
        event.type == "sanction.imposed" and _measure(event) in REMOVALS)


def grade_demotes(data: Mapping[str, Any]) -> bool:
    """Whether an `assessment.annual_graded` (its `data`) requires a demotion (不称职, 降低一个职务或者职级层次任职).

    The grade states it (`demotion_required`); a grade recorded before it did is read as the regulation reads every
    不称职 grade, one that demotes (whether the cadre's rank could be lowered was not checked then)."""
    stated = data.get("demotion_required")
    return bool(stated) if stated is not None else data.get("grade") == "incompetent"


def _demotion_pending(known: Sequence[CloudEvent], bases: Bases) -> list[RuleViolation]:
    """Rules 6 and 7: each breach, 不称职 grade and dismissal case that no demotion or removal answers.

    Read in ledger order, as the assessment watchlist reads them: an item arises on its event's day (a dismissal
    case on the day of the grade that completes it), and a demotion or removal recorded after it and dated on or
    after that day answers it (`DEMOTION_ITEMS`, `REMOVAL_ITEMS`).
    """
    pending: dict[tuple[str, int], tuple[date, RuleViolation]] = {}
    grades: dict[int, str] = {}
    for event in known:
        day = event.occurredon
        if event.type == "assessment.threshold_breached":
            year = int(event.data["year"])
            pending.setdefault(("threshold_breach", year), (day, RuleViolation(
                "assessment.demotion_pending",
                f"the democratic evaluation of {year} breached the dual threshold (recorded {day.isoformat()}), "
                "which requires a demotion or removal decision; none is recorded, so the cadre cannot be promoted",
                f"{year}年度民主测评触及降免职线 ({day.isoformat()} 记录), 应作降职或免职处理, 尚无处理决定, 不得提拔",
                basis=bases.grading, year=year, item="threshold_breach")))
        elif event.type == "assessment.annual_graded":
            year = int(event.data["year"])
            if grade_demotes(event.data):
                pending.setdefault(("incompetent_demotion", year), (day, RuleViolation(
                    "assessment.demotion_pending",
                    f"graded incompetent for {year} (recorded {day.isoformat()}), which demotes one level; no "
                    "demotion or removal is recorded since, so the cadre cannot be promoted",
                    f"{year}年度考核被确定为不称职 ({day.isoformat()} 记录), 应降低一个职务或者职级层次任职, "
                    "尚无降职决定, 不得提拔", basis=bases.grading, year=year, item="incompetent_demotion")))
            grades[year] = str(event.data["grade"])  # a later grade of a year (a correction's effect) replaces it
            for first in (year - 1, year):
                if grades.get(first) == grades.get(first + 1) == "incompetent":
                    pending.setdefault(("dismissal_case", first + 1), (day, RuleViolation(
                        "assessment.demotion_pending",
                        f"graded incompetent in {first} and {first + 1}: the dismissal case opened on "
                        f"{day.isoformat()} has no removal decision, so the cadre cannot be promoted",
                        f"{first}、{first + 1}年度连续两年考核不称职, 应予免职 ({day.isoformat()} 起), 尚无处理决定, "
                        "不得提拔", basis=bases.grading, year=first + 1, item="dismissal_case",
                        consecutive_incompetent_years=[first, first + 1])))
        answered = REMOVAL_ITEMS if _removes(event) else DEMOTION_ITEMS if _demotes(event) else ()
        for key in [k for k, (since, _) in pending.items() if k[0] in answered and since <= day]:
            del pending[key]
    return [violation for _, violation in pending.values()]
