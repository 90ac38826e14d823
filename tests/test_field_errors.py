"""Each invalid field of a 422 in English and Chinese (shared/field_errors.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.events.assessment import Reason
from shared.events.registry import CorrectionReason
from shared.events.types import VISIBLE_LINE, VISIBLE_PARAGRAPHS, LongText, ShortText
from shared.field_errors import from_pydantic, message_zh


@pytest.mark.parametrize(("error_type", "message", "ctx", "zh"), [
    ("missing", "Field required", None, "必填字段缺失"),
    ("extra_forbidden", "Extra inputs are not permitted", None, "本接口没有此字段"),
    ("literal_error", "Input should be 'male' or 'female'", {"expected": "'male' or 'female'"},
     "取值须为 'male', 'female' 之一"),
    ("greater_than_equal", "Input should be greater than or equal to 1", {"ge": 1}, "须不小于 1"),
    ("string_too_long", "String should have at most 64 characters", {"max_length": 64}, "文本过长, 至多 64 个字符"),
    ("too_long", "List should have at most 20 items", {"max_length": 20, "actual_length": 21}, "至多 20 项"),
    # a bound pydantic did not report: the English kept, never a KeyError
    ("string_too_long", "String too long", {}, "字段无效: String too long"),
    # a validator's own message names its rule in Chinese already
    ("value_error", "Value error, 姓名含不可见字符 (name holds an invisible character)", {"error": "x"},
     "Value error, 姓名含不可见字符 (name holds an invisible character)"),
    # ... and when written English first, the Chinese closing it is the Chinese message, not both languages
    ("value_error", "Value error, a day is written YYYY-MM-DD (日期须写作 YYYY-MM-DD)", {"error": "x"},
     "日期须写作 YYYY-MM-DD"),
    ("value_error", 'Value error, an amount is written in digits (金额须写作数字, 如 "12000.50")', {"error": "x"},
     '金额须写作数字, 如 "12000.50"'),
    ("value_error", "Value error, event id (事件标识) must be a UUID", {"error": "x"},
     "Value error, event id (事件标识) must be a UUID"),
    # an error kind with no translation keeps the English
    ("url_parsing", "Input should be a valid URL", None, "字段无效: Input should be a valid URL"),
])
def test_a_field_error_is_said_in_chinese_too(error_type: str, message: str, ctx: dict[str, Any] | None,
                                              zh: str) -> None:
    assert message_zh(error_type, message, ctx) == zh


VISIBLE_LINE_ZH = "须为一行可见文字: 不能全是空白, 不能含换行、控制字符、双向控制符或不可见字符"
PARAGRAPHS_ZH = "文本不能含控制字符 (换行、制表符除外) 或双向控制符"
VISIBLE_PARAGRAPHS_ZH = "须有可见文字: 不能全是空白, 不能含控制字符 (换行、制表符除外) 或双向控制符"


@pytest.mark.parametrize(("kind", "text", "said"), [
    (ShortText, "乡镇党委\u202e记书", VISIBLE_LINE_ZH),  # shows as 乡镇党委书记
    (ShortText, "乡镇党委\u200b书记", VISIBLE_LINE_ZH),  # looks like 乡镇党委书记, and differs
    (ShortText, "乡镇党委书记\n副镇长", VISIBLE_LINE_ZH),
    (ShortText, "乡镇党委书记\u2028副镇长", VISIBLE_LINE_ZH),  # a line separator breaks the line where it shows
    (ShortText, "\u2029镇长", VISIBLE_LINE_ZH),
    # blank says nothing: a reason of spaces, or of an ideographic space (U+3000), is no reason
    (ShortText, "   ", VISIBLE_LINE_ZH),
    (ShortText, "\u3000", VISIBLE_LINE_ZH),
    (Reason, " \n\t ", VISIBLE_PARAGRAPHS_ZH),
    (CorrectionReason, "\u3000\u3000", VISIBLE_PARAGRAPHS_ZH),
    # ... nor do marks that show nothing: a zero-width space, a BOM, a Hangul filler, the blank Braille pattern
    (CorrectionReason, "\u200b", VISIBLE_PARAGRAPHS_ZH),
    (Reason, "\ufeff\n", VISIBLE_PARAGRAPHS_ZH),
    (ShortText, "\u3164", VISIBLE_LINE_ZH),
    (ShortText, "\u2800 ", VISIBLE_LINE_ZH),
    (LongText, "经查\x1b[2J属实", PARAGRAPHS_ZH),  # a terminal escape: clears the screen of whoever prints it
    (LongText, "经查\u2066不\u2069属实", PARAGRAPHS_ZH),
])
def test_text_that_reads_otherwise_than_stored_is_refused_in_words(kind: Any, text: str, said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(text)
    entry = from_pydantic(caught.value.errors()[0], "body", "post")
    assert entry["message_zh"] == said and "pattern" not in entry["message"] and entry["field"] == "post"


@pytest.mark.parametrize(("kind", "text"), [
    (ShortText, "乡镇党委书记 (正科级)"), (ShortText, "Ａ县 “十四五” 审计 — 第1号"),
    (LongText, "第一段。\n\t第二段：属实。\r\n"), (LongText, ""), (LongText, "  "),
    (ShortText, " 副镇长 "), (Reason, "\n录入错误"), (Reason, "第一段\u2029第二段"),
])
def test_visible_text_and_a_paragraph_s_line_breaks_pass(kind: Any, text: str) -> None:
    assert TypeAdapter(kind).validate_python(text) == text


@pytest.mark.parametrize("text", ["", " ", "\u3000", "\ufeff", "\u200b", "\u3164", "\u2800", " a ", "副镇长", "a\nb",
                                  "\n\t录入错误", "x\ufeff", "\u00a0镇长", "a\u2028b", "\u2028", "\u2029a"])
def test_the_visible_text_patterns_mean_the_same_to_pydantic_and_to_a_json_schema_validator(text: str) -> None:
    """pydantic-core checks the patterns on intake, the published JSON Schemas state them for other validators
    (Python's re here): a character class like `\\s` differs between engines, so the patterns list their blanks."""
    for kind, pattern in ((ShortText, VISIBLE_LINE), (Reason, VISIBLE_PARAGRAPHS)):
        try:
            TypeAdapter(kind).validate_python(text)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == bool(re.fullmatch(pattern, text)), (kind, text)
