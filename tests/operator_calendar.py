"""Operator calendar files (CADRE_CALENDAR_FILE) for tests: a year's entry and the file holding them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def year_entry(year: int, **changes: Any) -> dict[str, Any]:
    """An official year with only New Year's Day off, as the operator file spells a year; `changes` override."""
    entry: dict[str, Any] = {
        "provisional": False,
        "source": f"国务院办公厅关于{year}年部分节假日安排的通知",
        "holidays": [f"{year}-01-01"],
        "makeup_workdays": [],
    }
    entry.update(changes)
    return entry


def write_calendar(tmp_path: Path, years: dict[str, Any]) -> Path:
    """Write `years` as an operator calendar file in `tmp_path`; returns its path."""
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"years": years}, ensure_ascii=False), encoding="utf-8")
    return path
