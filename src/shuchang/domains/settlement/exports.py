"""Statement files (结算单导出): CSV for spreadsheets and accounting systems, JSON as the API.

The CSV has one row per statement line (per agreement and role) and a closing total row;
amounts are integer fen (a column of yuan beside them is for people, never summed).
"""

from __future__ import annotations

import csv
import io

from shuchang.domains.settlement.schemas import StatementOut

HEADER = (
    "period",
    "participant_id",
    "participant_name",
    "invoice_id",
    "agreement_id",
    "product",
    "role",
    "counterparty_id",
    "invoice_net_fen",
    "invoice_tax_fen",
    "invoice_gross_fen",
    "amount_fen",
    "amount_yuan",
)


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def statement_csv(statement: StatementOut) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for line in statement.lines:
        writer.writerow(
            (
                statement.period,
                statement.participant_id,
                statement.participant_name,
                line.invoice_id,
                line.agreement_id,
                line.product_title,
                line.role,
                line.counterparty_id,
                line.net_fen,
                line.tax_fen,
                line.gross_fen,
                line.amount_fen,
                _yuan(line.amount_fen),
            )
        )
    for role, total in (("total_owed", statement.owed_fen), ("total_due", statement.due_fen)):
        writer.writerow(
            (statement.period, statement.participant_id, statement.participant_name)
            + ("",) * 3
            + (role, "", "", "", "", total, _yuan(total))
        )
    return out.getvalue()
