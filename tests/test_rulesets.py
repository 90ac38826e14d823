"""The shipped rule sets state every threshold themselves: what a version id means cannot change with the code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from shared.rulesets import (
    NATIONAL,
    Bases,
    RuleSet,
    all_rulesets,
    check_supersessions,
    current_rulesets,
    ruleset_by_id,
    ruleset_for,
)

FILES = sorted((Path(__file__).parents[1] / "shared" / "rulesets").glob("*.json"))


def _paths(obj: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path of a rule set down to its thresholds (a finding category table is one threshold)."""
    for key, value in obj.items():
        yield (*prefix, key)
        if isinstance(value, dict) and key not in {"finding_categories", "sanction_min_effect_months"}:
            yield from _paths(value, (*prefix, key))


def _without(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    copy = orjson.loads(orjson.dumps(obj))
    inner = copy
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return dict(copy)


def test_every_shipped_file_is_a_rule_set() -> None:
    assert FILES and [RuleSet.model_validate_json(f.read_bytes()).id for f in FILES] == [r.id for r in all_rulesets()]
    assert all(f.stem == RuleSet.model_validate_json(f.read_bytes()).id for f in FILES)


@pytest.mark.parametrize("path", [
    (f.name, p) for f in FILES for p in _paths(orjson.loads(f.read_bytes())) if p != ("notes",)
], ids=lambda case: f"{case[0]}:{'.'.join(case[1])}")
def test_a_rule_set_missing_any_threshold_does_not_load(path: tuple[str, tuple[str, ...]]) -> None:
    name, keys = path
    shipped = orjson.loads((FILES[0].parent / name).read_bytes())
    with pytest.raises(ValidationError) as refused:
        RuleSet.model_validate(_without(shipped, keys))
    assert refused.value.errors()[0]["loc"] == keys and refused.value.errors()[0]["type"] == "missing"


def _days(versions: list[RuleSet], last: date) -> set[date]:
    """Every day the versions cover, up to `last` for an open-ended one."""
    out: set[date] = set()
    for rs in versions:
        day, end = rs.valid_from, rs.valid_to or last
        while day < end:
            out.add(day)
            day += timedelta(days=1)
    return out


@pytest.mark.parametrize("county", sorted({rs.county for rs in all_rulesets()}))
def test_a_county_has_exactly_one_rule_set_in_force_on_every_day_it_covers(county: str) -> None:
    """Corrections neither leave a gap nor overlap: every day any version of the county ever covered (a superseded
    one included) has exactly one version in force, which `ruleset_for` answers, and it is never a superseded one."""
    versions = [rs for rs in all_rulesets() if rs.county == county]
    superseded = {old for rs in all_rulesets() for old in rs.supersedes}
    last = max(rs.valid_from for rs in versions) + timedelta(days=3 * 366)
    current = [rs for rs in versions if rs.id not in superseded]
    assert [rs.id for rs in current] == [rs.id for rs in current_rulesets() if rs.county == county]
    for day in sorted(_days(versions, last)):
        in_force = [rs.id for rs in current if rs.valid_on(day)]
        assert len(in_force) == 1, (day, in_force)
        assert ruleset_for(county, day).id == in_force[0]
    assert sum(rs.valid_to is None for rs in current) == 1, "only the newest version is open-ended"


@pytest.mark.parametrize("old", sorted({old for rs in all_rulesets() for old in rs.supersedes}))
def test_a_superseded_version_is_covered_exactly_by_its_corrections_and_still_resolves(old: str) -> None:
    """Its correcting versions cover its days, no more (a correction changes the rules of those days only), and its
    id still answers, as recorded in the events decided under it."""
    superseded = ruleset_by_id(old)
    correctors = [rs for rs in all_rulesets() if old in rs.supersedes]
    last = superseded.valid_from + timedelta(days=20 * 366)
    assert _days(correctors, last) == _days([superseded], last)
    assert all(rs.county == superseded.county and rs.id != old for rs in correctors)
    assert superseded.id == old


@pytest.mark.parametrize("wrong", ["unknown", "other_county", "itself"])
def test_a_version_corrects_only_another_known_version_of_its_county(wrong: str) -> None:
    shipped = next(rs for rs in all_rulesets() if rs.county != NATIONAL)
    other = next(rs for rs in all_rulesets() if rs.county == NATIONAL)
    target = {"unknown": f"{shipped.county}@1999.1", "other_county": other.id, "itself": shipped.id}[wrong]
    others = tuple(rs for rs in all_rulesets() if rs.id != shipped.id)
    with pytest.raises(ValueError, match="supersedes"):
        check_supersessions((*others, shipped.model_copy(update={"supersedes": [target]})))


def test_a_rule_set_without_a_notice_minimum_does_not_load() -> None:
    shipped = orjson.loads(FILES[0].read_bytes())
    shipped["assessment"]["notice_min_working_days"] = shipped["assessment"]["notice_min_calendar_days"] = None
    with pytest.raises(ValidationError, match="a notice needs a minimum"):
        RuleSet.model_validate(shipped)


@pytest.mark.parametrize("both", [True, False], ids=["both-units", "no-unit"])
def test_an_opinion_window_is_counted_in_one_unit(both: bool) -> None:
    """Working days (as every version first shipped) or days (10日内, 2010 规定 第二十七条), never both or neither."""
    shipped = orjson.loads(FILES[0].read_bytes())
    shipped["audit"]["opinion_calendar_days"] = 10 if both else None
    shipped["audit"]["opinion_working_days"] = 10 if both else None
    with pytest.raises(ValidationError, match="the opinion window is counted in one unit"):
        RuleSet.model_validate(shipped)


@pytest.mark.parametrize("ruleset", all_rulesets(), ids=lambda rs: rs.id)
def test_a_basis_cites_documents_and_the_notes_say_how_the_version_came_about(ruleset: RuleSet) -> None:
    """A refusal quotes `basis` as the regulation it applies: under a 2024 version it quoted a paragraph on how that
    version differs from the one before ("As 431021@2008.1, but for ...") instead."""
    others = {rs.id for rs in all_rulesets()}
    assert not any(other in ruleset.basis for other in others), ruleset.basis
    assert "条例" in ruleset.basis or "规定" in ruleset.basis or "办法" in ruleset.basis, ruleset.basis
    assert ruleset.notes, "each shipped version says how it came about"


TOPICS = tuple(Bases.model_fields)
_YEAR = re.compile(r"\((\d{4})\b")
"""A document's year as the bases write it: 条例 (2002), 条例 (2014, 2014-01-14 起施行)."""


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_version_states_the_basis_of_every_topic(path: Path) -> None:
    """Every version states what each topic's refusals cite (`bases`; a version missing one does not load, see
    test_a_rule_set_missing_any_threshold_does_not_load), and never an empty text: none falls back to code."""
    shipped = orjson.loads(path.read_bytes())
    assert set(shipped["bases"]) == set(TOPICS)
    shipped["bases"]["notice"] = ""
    with pytest.raises(ValidationError, match="at least 1 character"):
        RuleSet.model_validate(shipped)


@pytest.mark.parametrize("ruleset", all_rulesets(), ids=lambda rs: rs.id)
def test_each_topic_cites_documents(ruleset: RuleSet) -> None:
    """A topic's basis names documents (a regulation, or a seed's practice), never a rule set version."""
    others = {rs.id for rs in all_rulesets()}
    for topic in TOPICS:
        text = getattr(ruleset.bases, topic)
        assert not any(other in text for other in others), (topic, text)
        assert re.search(r"条例|规定|办法|法|seed S\d|\(S\d\)", text), (topic, text)


@pytest.mark.parametrize("ruleset", current_rulesets(), ids=lambda rs: rs.id)
def test_a_version_in_force_cites_no_document_issued_after_its_period(ruleset: RuleSet) -> None:
    """431021@2008.1 had a refusal about a 2010 fact quote documents of 2019-2023: a version new decisions are taken
    under cites, for every topic, only documents of years up to its last day."""
    last = (ruleset.valid_to - timedelta(days=1)).year if ruleset.valid_to else date.today().year
    for topic in TOPICS:
        text = getattr(ruleset.bases, topic)
        assert all(int(year) <= last for year in _YEAR.findall(text)), (topic, text)
