"""Field types shared by several event models."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:/-]{1,64}$")]
"""An id chosen by the recording system (audit id, notice id, report id...)."""

# What makes text read otherwise than it is stored: control characters, the bidirectional controls that reorder
# what a clerk or an auditor sees (U+202E shows "cba" for "abc"), and invisible marks that let two titles look
# alike and differ (a notice's proposed post is matched to a posting by its title). Line breaks and tabs are text
# in a paragraph, not in a title. Written as patterns, so the JSON Schemas state them and pydantic-core checks
# them without a Python call per field on the ledger's intake.
_BIDI = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"
_INVISIBLE = "\\u00ad\\u200b-\\u200d\\u2060-\\u2064\\ufeff"
_NOT_IN_LINE = f"\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029{_BIDI}{_INVISIBLE}"  # U+2028/9: line, paragraph breaks
_NOT_IN_PARAGRAPHS = f"\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f{_BIDI}"
ONE_LINE = f"^[^{_NOT_IN_LINE}]*$"
"""Text of one line: no control character (line breaks, U+2028/U+2029 and tabs included), no bidirectional control,
no invisible mark (zero-width space, soft hyphen, BOM...)."""
PARAGRAPHS = f"^[^{_NOT_IN_PARAGRAPHS}]*$"
"""Free text: line breaks and tabs allowed; no other control character, no bidirectional control."""


# What shows nothing: the spaces (Unicode's space separators, the line and paragraph separators) and the fillers
# that render as blank (Hangul fillers, the blank Braille pattern). Listed rather than written `\s`, whose members
# differ between pydantic-core's engine, Python's and ECMA-262's (which counts U+FEFF as a space).
_BLANK = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\u115f\\u1160\\u2800\\u3164\\uffa0"


def _visible(excluded: str, blank: str) -> str:
    # Blanks (those the text may hold) first, then one character that is neither excluded nor blank: the two
    # classes are disjoint, so the pattern reads left to right without backtracking, and means the same in
    # pydantic-core's engine, Python's and a JSON Schema validator's (no lookahead, no `\s`).
    return f"^[{blank}]*[^{excluded}{blank}][^{excluded}]*$"


VISIBLE_LINE = _visible(_NOT_IN_LINE, _BLANK)
"""`ONE_LINE` with at least one character that is not blank: "   " or an ideographic space (U+3000) says nothing."""
VISIBLE_PARAGRAPHS = _visible(_NOT_IN_PARAGRAPHS, f"{_BLANK}\\t\\n\\r\\u2028\\u2029{_INVISIBLE}")
"""`PARAGRAPHS` with at least one character that is neither blank nor an invisible mark (a zero-width space alone
says nothing either)."""

_SHOWS = {False: re.compile(VISIBLE_LINE), True: re.compile(VISIBLE_PARAGRAPHS)}


def shows_something(text: str | None, *, paragraphs: bool = False) -> bool:
    """Whether `text` has a character that shows (`VISIBLE_LINE`, or `VISIBLE_PARAGRAPHS` for free text): what a
    rule asking for a reason or a reference must check. `str.strip()` leaves a zero-width space, a Braille blank or
    a Hangul filler, which show nothing, and a text the catalogue's visible types refuse when the event is made."""
    return text is not None and _SHOWS[paragraphs].fullmatch(text) is not None


ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=VISIBLE_LINE)]
"""A title, a unit, a channel, a reason: one line of visible text (`VISIBLE_LINE`)."""
LongText = Annotated[str, StringConstraints(max_length=4000, pattern=PARAGRAPHS)]
"""A summary or a note: free text (`PARAGRAPHS`)."""


AMOUNT_PATTERN = r"^[0-9]{1,14}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


def _amount_is_text(value: Any) -> Any:
    # A JSON number is a binary float in most clients: 0.1 + 0.2 is not 0.3. Money crosses the wire as text, and as
    # the catalogue's schema writes it: Decimal would also read "1e5", "１００" or "1_000" and store "1E+5", "100"...
    if isinstance(value, str) and not _AMOUNT.fullmatch(value):  # match's `$` also passes "12.50\n"
        raise ValueError('an amount is written in digits with at most two decimals, e.g. "12000.50", no sign, '
                         'exponent or separator (金额须写作数字, 最多两位小数, 如 "12000.50")')
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise ValueError('an amount is a decimal string such as "12000.50", never a JSON number '
                         '(金额须写作字符串, 如 "12000.50")')
    return value


AmountCNY = Annotated[Decimal, BeforeValidator(_amount_is_text), Field(ge=0, max_digits=16, decimal_places=2),
                      PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
                      WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN,
                                      "description": "Decimal yuan as a string (元, 保留到分), e.g. \"12000.50\"."})]
"""An amount in yuan with fen precision; a JSON string in and out (always in plain digits), never a float."""

DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
"""How a day is written (YYYY-MM-DD); pydantic alone also reads Unix times and date-times as days."""


def written_as_day(value: Any) -> bool:
    """Whether `value` is a day as the wire writes one (YYYY-MM-DD), a date, or None."""
    if isinstance(value, str):
        return DAY.fullmatch(value) is not None
    return value is None or (isinstance(value, date) and not isinstance(value, datetime))


STORED = {"stored": True}
"""The validation context of an envelope read back from the ledger (`CloudEvent.model_validate(obj, context=STORED)`):
its days and its time are taken as pydantic reads them. The ledger appended them written otherwise (a Unix time)
before its intake checked them; those bytes stay for good, and the command services must still decide on the cadre's
history."""


def _day_as_written(value: Any, info: ValidationInfo) -> Any:
    # The ledger stores and hashes an event's bytes as they came, and every reader parses those bytes, not what the
    # model made of them: the folds (date.fromisoformat), the read models' SQL, verify (which compares a date column
    # with the envelope's text). Left to pydantic, 1704067200, "1704067200" and "2024-01-01T00:00:00Z" were days, and
    # the ledger appended events that answered 500 to every read of the cadre, or failed verification for good.
    if info.context == STORED:
        return value
    if value is None or not written_as_day(value):
        raise ValueError("a day is written YYYY-MM-DD, e.g. \"2024-06-30\" (日期须写作 YYYY-MM-DD, 如 \"2024-06-30\")")
    return value


Day = Annotated[date, BeforeValidator(_day_as_written)]
"""A calendar day, on the wire as its JSON Schema says (`format: date`, YYYY-MM-DD) and nothing else."""

# RFC 3339's date-time, the form the schema (JSON Schema `format: date-time`) and CloudEvents give `time`.
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                      r"([Zz]|[+-][0-9]{2}:[0-9]{2})")


def _instant_as_written(value: Any, info: ValidationInfo) -> Any:
    # The stored envelope is the bytes as published: left to pydantic, 1719792000 and "1719792000" were instants,
    # and the ledger kept a number where its schema, and every reader of the envelope, expects RFC 3339 text. What it
    # kept before it checked is read as it was (STORED).
    if info.context == STORED or isinstance(value, datetime) or (isinstance(value, str) and _INSTANT.fullmatch(value)):
        return value
    raise ValueError("time is an RFC 3339 date-time with its offset, e.g. \"2024-06-30T08:00:00Z\" "
                     "(时间须写作带时区的 RFC 3339 格式, 如 \"2024-06-30T08:00:00Z\")")


Instant = Annotated[AwareDatetime, BeforeValidator(_instant_as_written)]
"""When an event was recorded (`time`), on the wire as RFC 3339 text with its offset and nothing else."""

ProvisionalCalendarYears = Annotated[
    list[Annotated[StrictInt, Field(ge=1900, le=9999)]] | None,
    Field(min_length=1, max_length=10, description=(
        "Years whose working-day calendar was provisional when this was counted (日历暂定): only their statutory "
        "holidays were known, and the State Council's holiday notice may still move the count. Absent (in an "
        "event) or null (in an answer) when every year counted was official."))]
"""The provisional calendar years a count of working days touched (`shared.workdays.provisional_years`)."""

PG_BIGINT_MAX = 2**63 - 1
Cursor = Annotated[int, Field(ge=0, le=PG_BIGINT_MAX)]
"""A pagination cursor or position: what fits PostgreSQL's bigint, so no input overflows a query."""
