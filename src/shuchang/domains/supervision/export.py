"""CSV export of indicator tables (导出): UTF-8 with a byte-order mark, so Excel opens the
Chinese text correctly; the header row names each column in Chinese and English."""

from __future__ import annotations

import csv
import io

from shuchang.domains.supervision.schemas import Table

BOM = "\ufeff"


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(f"{zh} {en}" for zh, en in zip(table.columns_zh, table.columns, strict=True))
    for row in table.rows:
        writer.writerow("" if cell is None else cell for cell in row)
    return out.getvalue().encode("utf-8")


def filename(table: Table, stamp: str) -> str:
    return f"shuchang-{table.name}-{stamp}.csv"
