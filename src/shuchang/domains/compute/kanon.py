# ruff: noqa: S608 - SQL is built from pattern-checked column names (quoted) and typed numbers
"""k-anonymity over declared quasi-identifiers (准标识符), computed in DuckDB.

An equivalence class is the set of rows that agree on every quasi-identifier (NULL equals
NULL, as a suppressed value hides in one class). A release is k-anonymous when every class
holds at least k rows. The report names the smallest class, how many classes and rows fall
below k, and a sample of the violating classes (their quasi-identifier values and sizes) so
the provider can see which generalisation is too fine.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shuchang.domains.compute.deidentify import quote

SAMPLE = 20


class KReport(msgspec.Struct, frozen=True):
    """What the k-anonymity check found (before any suppression)."""

    k: int
    quasi_identifiers: list[str]
    rows: int
    classes: int
    smallest_class: int
    violating_classes: int
    violating_rows: int
    sample: list[dict[str, Any]]

    @property
    def satisfied(self) -> bool:
        return self.violating_rows == 0


def _classes(relation: str, qi: list[str]) -> str:
    columns = ", ".join(quote(c) for c in qi)
    return f"SELECT {columns}, count(*) AS n FROM {relation} GROUP BY ALL"


def report(con: Any, relation: str, qi: list[str], k: int) -> KReport:
    """Check ``relation`` (a table or view in ``con``, a DuckDB connection)."""
    classes = _classes(relation, qi)
    totals = con.execute(
        f"SELECT count(*), coalesce(sum(n), 0), coalesce(min(n), 0), "
        f"count(*) FILTER (WHERE n < {k}), coalesce(sum(n) FILTER (WHERE n < {k}), 0) "
        f"FROM ({classes}) AS c"
    ).fetchone()
    order = ", ".join(quote(c) for c in qi)
    rows = con.execute(
        f"SELECT * FROM ({classes}) AS c WHERE n < {k} ORDER BY n, {order} LIMIT {SAMPLE}"
    ).fetchall()
    sample = [
        {"values": {name: _plain(v) for name, v in zip(qi, row[:-1], strict=True)}, "rows": row[-1]}
        for row in rows
    ]
    return KReport(
        k=k,
        quasi_identifiers=list(qi),
        classes=int(totals[0]),
        rows=int(totals[1]),
        smallest_class=int(totals[2]),
        violating_classes=int(totals[3]),
        violating_rows=int(totals[4]),
        sample=sample,
    )


def suppress_violations(con: Any, relation: str, qi: list[str], k: int) -> int:
    """Delete the rows of classes smaller than k from the table ``relation``; how many."""
    on = " AND ".join(f"t.{quote(c)} IS NOT DISTINCT FROM v.{quote(c)}" for c in qi)
    before = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    con.execute(
        f"DELETE FROM {relation} AS t WHERE EXISTS (SELECT 1 FROM "
        f"({_classes(relation, qi)}) AS v WHERE v.n < {k} AND {on})"
    )
    after = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    return int(before - after)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
