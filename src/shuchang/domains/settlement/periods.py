"""Settlement periods (结算周期): calendar months in China Standard Time.

A period is written ``YYYY-MM`` and runs from local midnight of the first day to local
midnight of the next month's first day (Asia/Shanghai: UTC+8 all year, no daylight saving
since 1991). Times are stored UTC, so a period is the UTC range ``[start, end)``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from shuchang.errors import ValidationFailed

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FIRST_YEAR, LAST_YEAR = 2000, 2999


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        """The first instant of the period, UTC."""
        return datetime(self.year, self.month, 1, tzinfo=CHINA).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period, UTC."""
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end


def parse(text: str, field: str = "period") -> Period:
    """``YYYY-MM`` (2000-01 … 2999-12), or a 422 problem naming ``field``."""
    match = _PATTERN.match(text or "")
    if not match or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise ValidationFailed(
            f"A period is a month written YYYY-MM, not {text!r}",
            f"结算周期应为 YYYY-MM 形式的月份，而不是 {text!r}",
            code="settlement.period_invalid",
            field=field,
        )
    return Period(int(match.group(1)), int(match.group(2)))


def period_of(when: datetime) -> Period:
    """The period an instant falls in (its Asia/Shanghai calendar month)."""
    local = when.astimezone(CHINA)
    return Period(local.year, local.month)


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved ``months`` calendar months on in China time, the day clamped to the
    month's length (31 January + 1 month = 28 or 29 February)."""
    local = when.astimezone(CHINA)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day).astimezone(UTC)
