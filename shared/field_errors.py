"""One invalid field of a request, as the `errors[]` of a 422 name it: in English (pydantic's words) and Chinese.

Clerks read these messages: a problem's `detail` already carries Chinese, and each field's entry does too
(`message_zh`), from the kind of error pydantic reports (`type`) and the bound it names.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails

from shared.events.types import ONE_LINE, PARAGRAPHS, VISIBLE_LINE, VISIBLE_PARAGRAPHS

_ZH_BY_TYPE: dict[str, str] = {
    "missing": "必填字段缺失",
    "extra_forbidden": "本接口没有此字段",
    "string_type": "须为文本",
    "string_too_short": "文本过短, 至少 {min_length} 个字符",
    "string_too_long": "文本过长, 至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符, 须匹配 {pattern}",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "literal_error": "取值须为 {expected} 之一",
    "enum": "取值须为 {expected} 之一",
    "date_type": "须为日期 YYYY-MM-DD",
    "date_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "须为日期 YYYY-MM-DD",
    "datetime_type": "须为日期时间 (RFC 3339)",
    "datetime_parsing": "须为日期时间 (RFC 3339)",
    "timezone_aware": "日期时间须带时区",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "list_type": "须为数组",
    "dict_type": "须为 JSON 对象",
    "model_type": "须为 JSON 对象",
    "model_attributes_type": "须为 JSON 对象",
    "uuid_type": "须为 UUID",
    "uuid_parsing": "须为 UUID",
    "decimal_type": "须为十进制数",
    "decimal_parsing": "须为十进制数",
    "decimal_max_digits": "数字至多 {max_digits} 位",
    "decimal_max_places": "小数至多 {decimal_places} 位",
    "decimal_whole_digits": "整数部分至多 {whole_digits} 位",
    "finite_number": "须为有限数值",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def message_zh(error_type: str, message: str, ctx: dict[str, Any] | None = None) -> str:
    """The Chinese message for one pydantic error. A validator's own message (`value_error`) names its rule in
    Chinese already: the Chinese that closes it in brackets (`English (中文)`), else the message as it is; an
    error kind without a translation keeps the English beside 字段无效."""
    template = _ZH_BY_TYPE.get(error_type)
    if template is not None:
        bounds = dict(ctx or {})
        if isinstance(bounds.get("expected"), str):  # pydantic lists choices as "'a', 'b' or 'c'"
            bounds["expected"] = bounds["expected"].replace(" or ", ", ")
        try:
            return template.format(**bounds)
        except (KeyError, IndexError):  # a bound pydantic did not report: said as an untranslated kind is
            pass
    elif _CJK.search(message):
        return _chinese_after(message) or message
    return f"字段无效: {message}"


def _chinese_after(message: str) -> str | None:
    """The Chinese that closes a validator's message written the house way, `English (中文)`; None otherwise.
    Read from the last bracket back, in one pass (a pattern searched over a long message would not be)."""
    text = message.rstrip()
    opening = text.rfind("(")
    inner = text[opening + 1:-1]
    if opening < 0 or not text.endswith(")") or ")" in inner or not _CJK.search(inner):
        return None
    return inner


def field_error(field: str, where: str, message: str, zh: str, error_type: str | None = None) -> dict[str, str]:
    """One entry of a 422's `errors[]`: the field, where it was (body, query, path, header) and what is wrong."""
    entry = {"field": field, "in": where, "message": message, "message_zh": zh}
    if error_type is not None:
        entry["type"] = error_type
    return entry


_TEXT_RULES = {
    ONE_LINE: ("text of one line must not contain line breaks, control characters, bidirectional controls or "
               "invisible characters (zero-width space, soft hyphen...)",
               "单行文本不能含换行、控制字符、双向控制符或不可见字符"),
    PARAGRAPHS: ("text must not contain control characters (line breaks and tabs aside) or bidirectional controls",
                 "文本不能含控制字符 (换行、制表符除外) 或双向控制符"),
    VISIBLE_LINE: ("one line of visible text: not blank, and no line breaks, control characters, bidirectional "
                   "controls or invisible characters (zero-width space, soft hyphen...)",
                   "须为一行可见文字: 不能全是空白, 不能含换行、控制字符、双向控制符或不可见字符"),
    VISIBLE_PARAGRAPHS: ("text with a visible character: not blank, and no control characters (line breaks and "
                         "tabs aside) or bidirectional controls",
                         "须有可见文字: 不能全是空白, 不能含控制字符 (换行、制表符除外) 或双向控制符"),
}
"""What the catalogue's text patterns forbid, said instead of the pattern itself."""


def from_pydantic(error: ErrorDetails, where: str, field: str | None = None) -> dict[str, str]:
    """The entry for one pydantic error; `field` defaults to its dotted location (`where` when it has none)."""
    name = field or ".".join(str(p) for p in error["loc"]) or where
    if error["type"] == "string_pattern_mismatch" and (said := _TEXT_RULES.get(str(error.get("ctx", {})["pattern"]))):
        return field_error(name, where, *said, error["type"])
    return field_error(name, where, error["msg"], message_zh(error["type"], error["msg"], error.get("ctx")),
                       error["type"])
