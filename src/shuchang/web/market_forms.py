"""Form handling shared by the data-market pages: convert a posted form into a request
schema, or say what is wrong in both languages; yuan to fen."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from shuchang.errors import ValidationFailed
from shuchang.web.forms import explain

T = TypeVar("T")


def convert(values: dict[str, Any], into: type[T]) -> T:
    """``values`` as ``into``, or a ValidationFailed naming the field in zh-CN and English."""
    try:
        return msgspec.convert(values, into, strict=False)
    except msgspec.ValidationError as exc:
        field, message = explain(exc)
        raise ValidationFailed(
            message.en, message.zh, code="request.invalid_field", field=field
        ) from exc


def fen(raw: str, field: str) -> int:
    """``"1,234.56"`` yuan as 123456 fen."""
    try:
        amount = Decimal(raw.replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        amount = Decimal(-1)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            "Give an amount in yuan above 0, at most to the fen",
            "请填写大于 0 的金额（元），最多两位小数",
            code="request.invalid_field",
            field=field,
        )
    return int(amount * 100)
