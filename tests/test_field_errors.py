"""Each invalid field of a 422 in English and Chinese (shared/field_errors.py)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.field_errors import message_zh


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
    # an error kind with no translation keeps the English
    ("url_parsing", "Input should be a valid URL", None, "字段无效: Input should be a valid URL"),
])
def test_a_field_error_is_said_in_chinese_too(error_type: str, message: str, ctx: dict[str, Any] | None,
                                              zh: str) -> None:
    assert message_zh(error_type, message, ctx) == zh
