"""Registration numbers of data assets (数据资产登记编号).

Scheme: ``DZ-<region>-<year>-<serial>-<check>``, e.g. ``DZ-330300-2026-000123-K``:

* ``DZ`` — 数据资产 (data asset);
* region — the six-digit administrative code (GB/T 2260) of the registry
  (``Settings.asset_region``, else the operator's region);
* year — the year of issue (Asia/Shanghai);
* serial — six digits, counted per region and year from 000001 (a counter row, updated in the
  issuing transaction; the database's unique constraint on the number is the last word);
* check — one character of ISO/IEC 7064 MOD 37,36 over the 18 alphanumerics before it, so
  any single wrong character and any swap of two neighbours is caught.
"""

from __future__ import annotations

import re

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import table_of
from shuchang.domains.assets.models import AssetNumberCounter

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PATTERN = re.compile(r"^DZ-(\d{6})-(\d{4})-(\d{6})-([0-9A-Z])$")
_M = 36


def check_character(text: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid system) check character of ``text`` (0-9, A-Z)."""
    product = _M
    for char in text.upper():
        value = ALPHABET.index(char)
        total = (product + value) % _M or _M
        product = (total * 2) % (_M + 1)
    return ALPHABET[(_M + 1 - product) % _M]


def format_number(region: str, year: int, serial: int) -> str:
    body = f"DZ{region}{year:04d}{serial:06d}"
    return f"DZ-{region}-{year:04d}-{serial:06d}-{check_character(body)}"


def is_valid(number: str) -> bool:
    """Well formed and the check character agrees."""
    match = PATTERN.match(number)
    if match is None:
        return False
    region, year, serial, check = match.groups()
    return check_character(f"DZ{region}{year}{serial}") == check


def next_serial(session: Session, region: str, year: int) -> int:
    """The next serial of ``region`` and ``year``, counted in the caller's transaction.

    ``UPDATE … SET last = last + 1`` locks the counter row on PostgreSQL until commit, so
    concurrent issuers queue; SQLite's writer lock does the same.
    """
    table = table_of(AssetNumberCounter)
    key = (table.c.region == region) & (table.c.year == year)
    if session.execute(select(table.c.last).where(key)).first() is None:
        try:
            with session.begin_nested():
                session.execute(insert(table).values(region=region, year=year, last=0))
        except IntegrityError:
            pass  # another issuer created it first; its row is what we increment
    session.execute(update(table).where(key).values(last=table.c.last + 1))
    last = session.execute(select(table.c.last).where(key)).scalar_one()
    return int(last)
