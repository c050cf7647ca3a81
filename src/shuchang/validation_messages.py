"""msgspec's validation messages, said in Chinese too, and the field they name."""

from __future__ import annotations

import re

# msgspec's validation messages, said in Chinese too (the English stays as msgspec wrote it).
_ZH_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Expected `(\w+)`, got `(\w+)`"), r"类型错误：应为 \1，实际为 \2"),
    (re.compile(r"Expected `str` of length <= (\d+)"), r"文本过长：最多 \1 个字符"),
    (re.compile(r"Expected `str` of length >= (\d+)"), r"文本过短：至少 \1 个字符"),
    (re.compile(r"Expected `array` of length <= (\d+)"), r"列表过长：最多 \1 项"),
    (re.compile(r"Expected `array` of length >= (\d+)"), r"列表过短：至少 \1 项"),
    (re.compile(r"Expected `str` matching regex .*"), "格式不符合要求"),
    (re.compile(r"Object missing required field `(\w+)`"), r"缺少必填字段 \1"),
    (re.compile(r"Object contains unknown field `(\w+)`"), r"包含未知字段 \1"),
    (re.compile(r"Invalid enum value (.*)"), r"取值不在允许范围内：\1"),
    (re.compile(r"Expected `int` >= (\d+)"), r"数值过小：至少为 \1"),
    (re.compile(r"Expected `int` <= (\d+)"), r"数值过大：至多为 \1"),
]
_FIELD_IN_MESSAGE = re.compile(r"field `(\w+)`|at `\$\.([\w.\[\]]+)`")


def say_in_chinese(message: str) -> str:
    for pattern, replacement in _ZH_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.expand(replacement)
    return f"取值不合法：{message}"


def field_of(message: str) -> str | None:
    """The field a msgspec message names (`$.roles[0]` → ``roles[0]``), if any."""
    found = _FIELD_IN_MESSAGE.search(message)
    return next((g for g in found.groups() if g), None) if found else None
