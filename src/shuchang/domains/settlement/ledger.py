"""The double-entry ledger (复式记账) of the clearing house (清算账户).

Accounts (``kind:participant``) and what their balances mean:

==============  =========  ==========================================================
kind            type       balance
==============  =========  ==========================================================
``receivable``  asset      what a consumer still owes (invoiced gross, not collected)
``payable``     liability  what is due to a provider or an upstream source
``authority``   liability  the public-data authorizing body's share (公共数据授权收益)
``fee``         liability  the operator's fee income (运营服务费)
``vat``         liability  VAT collected on invoices, to be remitted (应交增值税)
``cash``        asset      the clearing account at the bank (清算备付金)
==============  =========  ==========================================================

A line's ``amount_fen`` is positive for a debit and negative for a credit, so an entry
balances when its lines sum to zero and an account's balance is ``SUM(amount_fen)``
(debit-positive; liabilities show negated). Balances are always derived by that sum over
an index on ``(account_id, amount_fen)`` — never stored. Entries are never edited: a
mistake is undone by a reversal entry (the negated lines) that names what it reverses.

The database enforces all of it, whatever code writes (migration 0011): lines are written
first and the entry row last; the entry's insert is refused unless its lines number two
or more and sum to zero; a line for an entry already written is refused; the lines'
foreign key to the entry is checked at commit; UPDATE and DELETE are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuchang.db import table_of, utcnow
from shuchang.domains import evidence
from shuchang.domains.participants import Actor, require
from shuchang.domains.settlement.models import MAX_FEN, Account, JournalEntry, JournalLine
from shuchang.domains.settlement.schemas import BalanceOut, EntryOut, LineOut
from shuchang.errors import Conflict, NotFound, ValidationFailed

KINDS = {
    "receivable": "asset",
    "payable": "liability",
    "authority": "liability",
    "fee": "liability",
    "vat": "liability",
    "cash": "asset",
}
PLATFORM_KINDS = ("vat", "cash")
ROLE_ACCOUNT = {
    "provider": "payable",
    "upstream": "payable",
    "authority": "authority",
    "fee": "fee",
}

_accounts, _entries, _lines = table_of(Account), table_of(JournalEntry), table_of(JournalLine)
AccountKey = tuple[str, uuid.UUID | None]


class Unbalanced(ValidationFailed):
    default_code = "settlement.entry_unbalanced"
    default_zh = "记账凭证借贷不平衡"
    default_en = "The journal entry does not balance"


def code_of(key: AccountKey) -> str:
    kind, participant = key
    return kind if participant is None else f"{kind}:{participant}"


@dataclass(frozen=True)
class Posting:
    """A journal entry to write: lines as (account, signed amount in fen)."""

    kind: str
    memo: str
    lines: Sequence[tuple[AccountKey, int]]
    batch_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None
    id: uuid.UUID | None = None


def merged(lines: Iterable[tuple[AccountKey, int]]) -> list[tuple[AccountKey, int]]:
    """Lines with one line per account (amounts summed) and no zero lines, in first order."""
    totals: dict[AccountKey, int] = {}
    for key, amount in lines:
        totals[key] = totals.get(key, 0) + amount
    return [(key, amount) for key, amount in totals.items() if amount]


def check(posting: Posting) -> None:
    """Refuse an entry the database would refuse, with a clear problem instead."""
    for (kind, participant), amount in posting.lines:
        if kind not in KINDS or (participant is None) != (kind in PLATFORM_KINDS):
            raise ValidationFailed(
                f"Unknown account {kind}:{participant}",
                f"账户 {kind}:{participant} 不存在",
                code="settlement.account_unknown",
            )
        if amount == 0 or abs(amount) > MAX_FEN:
            raise Unbalanced(
                f"A line of {amount} fen is zero or out of range",
                f"分录金额 {amount} 分为零或超出范围",
            )
    if len(posting.lines) < 2 or sum(a for _, a in posting.lines) != 0:  # noqa: PLR2004
        total = sum(a for _, a in posting.lines)
        raise Unbalanced(
            f"Debits and credits differ by {total} fen (or fewer than two lines)",
            f"借贷相差 {total} 分（或分录少于两条）",
            extra={"difference_fen": total},
        )


def _dialect_insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def account_ids(session: Session, keys: Iterable[AccountKey]) -> dict[AccountKey, int]:
    """The ids of these accounts, opening the missing ones (concurrent openers agree)."""
    wanted = {code_of(k): k for k in keys}
    if not wanted:
        return {}
    rows = [
        {"code": code, "kind": k[0], "participant_id": k[1], "created_at": utcnow()}
        for code, k in wanted.items()
    ]
    stmt = _dialect_insert(session)(_accounts).on_conflict_do_nothing(index_elements=["code"])
    session.execute(stmt, rows)
    found = session.execute(
        select(_accounts.c.code, _accounts.c.id).where(_accounts.c.code.in_(wanted))
    )
    return {wanted[code]: int(account_id) for code, account_id in found}


def post_many(session: Session, postings: Sequence[Posting], actor_ref: str) -> list[uuid.UUID]:
    """Write entries in the caller's transaction: every line first, then every entry."""
    if not postings:
        return []
    for p in postings:
        check(p)
    ids = account_ids(session, (key for p in postings for key, _ in p.lines))
    entry_ids = [p.id or uuid.uuid4() for p in postings]
    now = utcnow()
    session.execute(
        insert(_lines),
        [
            {"entry_id": entry_id, "account_id": ids[key], "amount_fen": amount}
            for entry_id, p in zip(entry_ids, postings, strict=True)
            for key, amount in p.lines
        ],
    )
    session.execute(
        insert(_entries),
        [
            {
                "id": entry_id,
                "kind": p.kind,
                "memo": p.memo[:200],
                "batch_id": p.batch_id,
                "reverses_id": p.reverses_id,
                "posted_by": actor_ref,
                "posted_at": now,
            }
            for entry_id, p in zip(entry_ids, postings, strict=True)
        ],
    )
    return entry_ids


def post(session: Session, posting: Posting, actor_ref: str) -> uuid.UUID:
    return post_many(session, [posting], actor_ref)[0]


def _lines_of(session: Session, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[LineOut]]:
    rows = session.execute(
        select(_lines.c.entry_id, _accounts.c.code, _accounts.c.kind, _lines.c.amount_fen)
        .join(_accounts, _accounts.c.id == _lines.c.account_id)
        .where(_lines.c.entry_id.in_(entry_ids))
        .order_by(_lines.c.id)
    )
    out: dict[uuid.UUID, list[LineOut]] = {}
    for entry_id, code, kind, amount in rows:
        debit, credit = (amount, 0) if amount > 0 else (0, -amount)
        out.setdefault(entry_id, []).append(LineOut(code, kind, debit, credit))
    return out


def entry_out(session: Session, rows: Sequence[JournalEntry]) -> list[EntryOut]:
    lines = _lines_of(session, [r.id for r in rows])
    return [
        EntryOut(
            id=r.id,
            kind=r.kind,
            memo=r.memo,
            batch_id=r.batch_id,
            reverses_id=r.reverses_id,
            posted_by=r.posted_by,
            posted_at=r.posted_at,
            lines=lines.get(r.id, []),
        )
        for r in rows
    ]


def entries(
    session: Session, actor: Actor, batch_id: uuid.UUID | None = None, limit: int = 200
) -> list[EntryOut]:
    """Journal entries, newest first (the operator and the regulator read the books)."""
    require(actor, "operator", "regulator")
    stmt = select(JournalEntry).order_by(JournalEntry.posted_at.desc()).limit(limit)
    if batch_id is not None:
        stmt = stmt.where(JournalEntry.batch_id == batch_id)
    return entry_out(session, list(session.scalars(stmt)))


def balances(
    session: Session, actor: Actor, participant_id: uuid.UUID | None = None
) -> list[BalanceOut]:
    """Every account's balance (a participant sees its own), summed from the lines."""
    if participant_id is None or actor.participant_id != participant_id:
        require(actor, "operator", "regulator")
    stmt = (
        select(
            _accounts.c.code,
            _accounts.c.kind,
            _accounts.c.participant_id,
            func.coalesce(func.sum(_lines.c.amount_fen), 0),
        )
        .join(_lines, _lines.c.account_id == _accounts.c.id, isouter=True)
        .group_by(_accounts.c.id, _accounts.c.code, _accounts.c.kind, _accounts.c.participant_id)
        .order_by(_accounts.c.code)
    )
    if participant_id is not None:
        stmt = stmt.where(_accounts.c.participant_id == participant_id)
    out = []
    for code, kind, participant, total in session.execute(stmt):
        normal = -1 if KINDS[kind] == "liability" else 1
        out.append(BalanceOut(code, kind, KINDS[kind], participant, int(total) * normal))
    return out


def balance(session: Session, key: AccountKey) -> int:
    """One account's balance in its normal direction (0 for an account never used)."""
    total = session.scalar(
        select(func.coalesce(func.sum(_lines.c.amount_fen), 0))
        .join(_accounts, _accounts.c.id == _lines.c.account_id)
        .where(_accounts.c.code == code_of(key))
    )
    return int(total or 0) * (-1 if KINDS[key[0]] == "liability" else 1)


def trial_balance(session: Session) -> int:
    """The sum of every line ever written: zero in balanced books."""
    return int(session.scalar(select(func.coalesce(func.sum(_lines.c.amount_fen), 0))) or 0)


def reverse(session: Session, actor: Actor, entry_id: uuid.UUID, reason: str) -> EntryOut:
    """Undo an entry by posting its negation (冲正); the original stays as it was."""
    require(actor, "operator")
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound(
            "Journal entry not found", "记账凭证不存在", code="settlement.entry_not_found"
        )
    if original.kind == "reversal":
        raise Conflict(
            "A reversal is not reversed; post the original again instead",
            "冲正凭证不能再冲正，请重新记账",
            code="settlement.reversal_of_reversal",
        )
    rows = session.execute(
        select(_accounts.c.kind, _accounts.c.participant_id, _lines.c.amount_fen)
        .join(_accounts, _accounts.c.id == _lines.c.account_id)
        .where(_lines.c.entry_id == entry_id)
    )
    lines = [((kind, participant), -amount) for kind, participant, amount in rows]
    memo = f"冲正 reversal of {entry_id}: {reason}"
    posting = Posting("reversal", memo, lines, original.batch_id, reverses_id=entry_id)
    try:
        with session.begin_nested():
            new_id = post(session, posting, actor.ref)
    except IntegrityError as exc:
        raise Conflict(
            "The entry is already reversed", "该凭证已冲正", code="settlement.already_reversed"
        ) from exc
    evidence.record(
        session,
        "settlement.entry_reversed",
        f"settlement-entry:{entry_id}",
        actor.ref,
        {"reversal": str(new_id), "reason": reason},
    )
    return entry_out(session, [session.get_one(JournalEntry, new_id)])[0]
