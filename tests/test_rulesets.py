"""The shipped rule sets state every threshold themselves: what a version id means cannot change with the code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from shared.rulesets import RuleSet, all_rulesets

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
    (f.name, p) for f in FILES for p in _paths(orjson.loads(f.read_bytes())) if p not in {("valid_to",), ("notes",)}
], ids=lambda case: f"{case[0]}:{'.'.join(case[1])}")
def test_a_rule_set_missing_any_threshold_does_not_load(path: tuple[str, tuple[str, ...]]) -> None:
    name, keys = path
    shipped = orjson.loads((FILES[0].parent / name).read_bytes())
    with pytest.raises(ValidationError) as refused:
        RuleSet.model_validate(_without(shipped, keys))
    assert refused.value.errors()[0]["loc"] == keys and refused.value.errors()[0]["type"] == "missing"


def test_a_county_has_one_rule_set_in_force_on_any_day() -> None:
    by_county: dict[str, list[RuleSet]] = {}
    for rs in all_rulesets():
        by_county.setdefault(rs.county, []).append(rs)
    for county, versions in by_county.items():
        versions.sort(key=lambda rs: rs.valid_from)
        # each version ends the day the next begins; only the newest is open-ended
        assert [rs.valid_to for rs in versions[:-1]] == [rs.valid_from for rs in versions[1:]], county
        assert versions[-1].valid_to is None, county


@pytest.mark.parametrize("ruleset", all_rulesets(), ids=lambda rs: rs.id)
def test_a_basis_cites_documents_and_the_notes_say_how_the_version_came_about(ruleset: RuleSet) -> None:
    """A refusal quotes `basis` as the regulation it applies: under a 2024 version it quoted a paragraph on how that
    version differs from the one before ("As 431021@2008.1, but for ...") instead."""
    others = {rs.id for rs in all_rulesets()}
    assert not any(other in ruleset.basis for other in others), ruleset.basis
    assert "条例" in ruleset.basis or "规定" in ruleset.basis or "办法" in ruleset.basis, ruleset.basis
    assert ruleset.notes, "each shipped version says how it came about"
