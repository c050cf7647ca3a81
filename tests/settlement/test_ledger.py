"""The ledger (复式记账): balanced entries only — refused by the service and, bypassing it, by
the database — append-only history, reversals, and balances derived by summing lines."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from settlement_support import Region
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from shuchang.domains.settlement import ledger
from shuchang.domains.settlement.ledger import Posting, Unbalanced
from shuchang.errors import Conflict
from shuchang.platform import Platform


def _accounts(r: Region) -> list[ledger.AccountKey]:
    return [
        ("receivable", r.bank.id),
        ("payable", r.tax.id),
        ("fee", r.bureau.id),
        ("authority", r.bureau.id),
        ("vat", None),
        ("cash", None),
    ]


def _ids(platform: Platform, keys: list[ledger.AccountKey]) -> list[int]:
    with platform.unit() as s:
        found = ledger.account_ids(s, keys)
    return [found[k] for k in keys]


def _raw(platform: Platform, *statements: tuple[str, dict[str, object]]) -> None:
    """Write straight to the tables, as a buggy or hostile client would."""
    with platform.engine.begin() as conn:
        for sql, params in statements:
            conn.execute(text(sql), params)


def _line(entry: str, account: int, amount: int) -> tuple[str, dict[str, object]]:
    return (
        "INSERT INTO settlement_lines (entry_id, account_id, amount_fen) VALUES (:e, :a, :n)",
        {"e": entry, "a": account, "n": amount},
    )


def _entry(entry: str) -> tuple[str, dict[str, object]]:
    return (
        "INSERT INTO settlement_entries (id, kind, memo, posted_by, posted_at)"
        " VALUES (:e, 'adjustment', 'raw', 'test', CURRENT_TIMESTAMP)",
        {"e": entry},
    )


def _uuid_param(platform: Platform) -> str:
    """How the Uuid column stores an id on this backend (hex on SQLite, text on PostgreSQL)."""
    value = uuid.uuid4()
    return value.hex if platform.engine.dialect.name == "sqlite" else str(value)


def test_the_service_refuses_an_unbalanced_entry_and_changes_nothing(world: Region) -> None:
    bank, tax = ("receivable", world.bank.id), ("payable", world.tax.id)
    with pytest.raises(Unbalanced) as off, world.platform.unit() as s:
        ledger.post(s, Posting("adjustment", "off by one", [(bank, 100), (tax, -99)]), "test")
    assert off.value.extra["difference_fen"] == 1
    for lines in ([(bank, 100)], [(bank, 0), (tax, 0)], [(bank, 10**16), (tax, -(10**16))]):
        with pytest.raises(Unbalanced), world.platform.unit() as s:
            ledger.post(s, Posting("adjustment", "bad", lines), "test")
    with world.platform.unit(write=False) as s:
        assert ledger.balances(s, world.operator) == []


def test_the_database_refuses_unbalanced_entries_written_behind_the_service(world: Region) -> None:
    bank, tax = _ids(world.platform, [("receivable", world.bank.id), ("payable", world.tax.id)])
    e = _uuid_param(world.platform)
    with pytest.raises(DBAPIError, match="not balanced"):  # the entry's insert checks its lines
        _raw(world.platform, _line(e, bank, 100), _line(e, tax, -99), _entry(e))
    with pytest.raises(DBAPIError, match="not balanced"):  # a one-line entry
        _raw(world.platform, _line(e, bank, 100), _entry(e))
    with pytest.raises(IntegrityError):  # lines without their entry never commit
        _raw(world.platform, _line(e, bank, 100), _line(e, tax, -100))
    with pytest.raises(IntegrityError):  # a zero line breaks the CHECK
        _raw(world.platform, _line(e, bank, 0), _line(e, tax, 0), _entry(e))

    _raw(world.platform, _line(e, bank, 100), _line(e, tax, -100), _entry(e))  # balanced: fine
    with pytest.raises(DBAPIError, match="already posted"):  # an entry never grows
        _raw(world.platform, _line(e, bank, 5), _line(e, tax, -5))
    for sql in (
        "UPDATE settlement_lines SET amount_fen = 1000",
        "DELETE FROM settlement_lines",
        "UPDATE settlement_entries SET memo = 'rewritten'",
        "DELETE FROM settlement_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            _raw(world.platform, (sql, {}))
    with world.platform.unit(write=False) as s:
        assert ledger.trial_balance(s) == 0
        assert ledger.balance(s, ("receivable", world.bank.id)) == 100


def test_a_reversal_negates_an_entry_once_and_leaves_it_as_it_was(world: Region) -> None:
    bank, tax = ("receivable", world.bank.id), ("payable", world.tax.id)
    with world.platform.unit() as s:
        entry = ledger.post(s, Posting("adjustment", "invoice", [(bank, 500), (tax, -500)]), "t")
    with world.platform.unit() as s:
        reversal = ledger.reverse(s, world.operator, entry, "开错了账单")
    assert reversal.reverses_id == entry
    assert {(line.account, line.credit_fen) for line in reversal.lines if line.credit_fen} == {
        (f"receivable:{world.bank.id}", 500)
    }
    with pytest.raises(Conflict) as twice, world.platform.unit() as s:
        ledger.reverse(s, world.operator, entry, "again")
    assert twice.value.code == "settlement.already_reversed"
    with pytest.raises(Conflict), world.platform.unit() as s:
        ledger.reverse(s, world.operator, reversal.id, "undo the undo")
    with world.platform.unit(write=False) as s:
        assert ledger.balance(s, bank) == 0 and ledger.balance(s, tax) == 0
        assert len(ledger.entries(s, world.operator)) == 2


AMOUNTS = st.integers(min_value=1, max_value=10**12)


@st.composite
def entries(draw: st.DrawFn) -> list[list[tuple[int, int]]]:
    """Random balanced entries: (account index, signed amount) lines that sum to zero."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        debits = draw(st.lists(st.tuples(st.integers(0, 5), AMOUNTS), min_size=1, max_size=4))
        total = sum(a for _, a in debits)
        credits = draw(st.integers(0, 5))
        out.append([*debits, (credits, -total)])
    return out


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=entries())
def test_balances_are_the_sums_of_their_lines_and_the_books_always_balance(
    world: Region, drawn: list[list[tuple[int, int]]]
) -> None:
    keys = _accounts(world)
    with world.platform.unit(write=False) as s:
        before = {b.account: b.balance_fen for b in ledger.balances(s, world.operator)}
    expected: dict[str, int] = {}
    with world.platform.unit() as s:
        for lines in drawn:
            merged = ledger.merged((keys[i], amount) for i, amount in lines)
            if len(merged) < 2:  # everything cancelled out on one account: nothing to post
                continue
            ledger.post(s, Posting("adjustment", "hypothesis", merged), "test")
            for key, amount in merged:
                sign = -1 if ledger.KINDS[key[0]] == "liability" else 1
                code = ledger.code_of(key)
                expected[code] = expected.get(code, 0) + sign * amount
    with world.platform.unit(write=False) as s:
        assert ledger.trial_balance(s) == 0
        after = {b.account: b.balance_fen for b in ledger.balances(s, world.operator)}
    for code, change in expected.items():
        assert after[code] - before.get(code, 0) == change
