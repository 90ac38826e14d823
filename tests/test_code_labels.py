"""Every code of the event catalogue has its Chinese name on the auditor page (services/ledger/web/i18n.js)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from services.audit.domain import names
from shared.events import assessment, audit, rotation

I18N = Path(__file__).parents[1] / "services" / "ledger" / "web" / "i18n.js"


def _catalogue_codes() -> set[str]:
    codes: set[str] = set()
    for module in (assessment, audit, rotation):
        for value in vars(module).values():
            if typing.get_origin(value) is typing.Literal:
                codes.update(str(arg) for arg in typing.get_args(value))
    return codes


def _labelled() -> dict[str, str]:
    block = I18N.read_text(encoding="utf-8").split("const CODES_ZH = {", 1)[1].split("};", 1)[0]
    return dict(re.findall(r"(\w+): '([^']+)'", block))


def test_every_catalogue_code_has_a_chinese_name() -> None:
    codes, labels = _catalogue_codes(), _labelled()
    assert len(codes) > 60, "the catalogue's codes were found"
    assert sorted(codes - labels.keys()) == []
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels.values())


def test_the_audit_services_messages_name_codes_as_the_page_does() -> None:
    """A clerk reads one name for a code, in a refusal and on the auditor page."""
    labels = _labelled()
    maps = [names.AUDIT_TYPE_ZH, names.CATEGORY_ZH, names.MEASURE_ZH, names.RESULT_ZH, names.OUTCOME_ZH]
    assert [{code: labels.get(code) for code in m} for m in maps] == maps
