"""Command-line arguments several commands share, checked before anything is sent."""

from __future__ import annotations

import re
from datetime import date

import click


def cadre_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A cadre id as the ledger writes it; anything else is a usage error naming the form, never a traceback (an id
    with a space or a slash would otherwise make a URL that cannot be sent, or one that names another route)."""
    from shared.envelope import CADRE_ID_PATTERN  # here, not above: `--help` need not load the event catalogue

    if not re.fullmatch(CADRE_ID_PATTERN, value):
        raise click.BadParameter(f"{value!r}: a cadre id is 1-64 letters, digits, '_' or '-' (干部编号格式不符)")
    return value


def county(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A county code (GB/T 2260, six digits), or None when not given; anything else is a usage error."""
    from shared.envelope import COUNTY_PATTERN  # here, not above: `--help` need not load the event catalogue

    if value is not None and not re.fullmatch(COUNTY_PATTERN, value):
        raise click.BadParameter(f"{value!r}: a county is its six-digit code, e.g. 431021 (县级行政区划代码为六位数字)")
    return value


class Day(click.ParamType[date]):
    """A day written YYYY-MM-DD; a well-written day the calendar lacks (2015-02-30) is named as such, not as a
    format mismatch that would send the user looking for a typo in the digits' layout."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value)
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            self.fail(f"{text!r} is not a day written YYYY-MM-DD (日期须写作 YYYY-MM-DD)", param, ctx)
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            self.fail(f"{text!r} is not a valid day (日期无效): {exc}", param, ctx)
