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
_NAMED = re.compile(r"field `(\w+)`")
_AT = re.compile(r"at `\$\.?([\w.\[\]]*)`")


def say_in_chinese(message: str) -> str:
    for pattern, replacement in _ZH_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.expand(replacement)
    return f"取值不合法：{message}"


def field_of(message: str) -> str | None:
    """The field a msgspec message names, as a path: `$.roles[0]` → ``roles[0]``; a missing
    member of a nested object → ``fields[0].type``."""
    named = _NAMED.search(message)
    at = _AT.search(message)
    parts = [p for p in ((at.group(1) if at else None), (named.group(1) if named else None)) if p]
    return ".".join(parts) or None
