"""The regulator's indicators (监管指标), each a table read from the owning domain's public
counts; nothing here writes. Figures are as of one read transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shuchang.db import utcnow
from shuchang.domains import evidence
from shuchang.domains.assets import asset_counts
from shuchang.domains.catalog import product_counts, resource_counts
from shuchang.domains.compliance import review_counts
from shuchang.domains.contracts import agreement_facts
from shuchang.domains.participants import Actor, count_by_kind_status, require
from shuchang.domains.supervision import audits, rollup
from shuchang.domains.supervision.schemas import Dashboard, LogFacts, Table
from shuchang.domains.supervision.value import settlement_status, value_table
from shuchang.domains.transfers import transfer_counts
from shuchang.errors import NotFound
from shuchang.platform import Platform

OVERSIGHT = ("operator", "regulator")
DAYS = 30
MONTHS = 12


def _participants(session: Session) -> Table:
    return Table(
        "participants",
        "参与方（按主体类型与状态）",
        "Participants by kind and status",
        ["kind", "status", "count"],
        ["主体类型", "状态", "数量"],
        [[k, s, n] for k, s, n in count_by_kind_status(session)],
    )


def _resources(session: Session) -> Table:
    return Table(
        "resources",
        "数据资源（按分类分级与行业门类）",
        "Resources by classification and industry",
        ["status", "classification", "industry", "count"],
        ["状态", "分类分级", "行业门类", "数量"],
        [list(r) for r in resource_counts(session)],
    )


def _products(session: Session) -> Table:
    return Table(
        "products",
        "数据产品（按状态、类型、分类分级与行业）",
        "Products by status, kind, classification and industry",
        ["status", "kind", "classification", "industry", "count"],
        ["状态", "产品类型", "分类分级", "行业门类", "数量"],
        [list(r) for r in product_counts(session)],
    )


def _agreements(session: Session, now: datetime) -> Table:
    counts: dict[str, int] = {}
    for a in agreement_facts(session):
        state = a.status
        if a.status == "active":
            state = "expired" if a.valid_until <= now else "active"
        counts[state] = counts.get(state, 0) + 1
    return Table(
        "agreements",
        "合约（生效 / 到期）",
        "Agreements (in force / expired)",
        ["status", "count"],
        ["状态", "数量"],
        [[k, v] for k, v in sorted(counts.items())],
    )


def _transfers(session: Session) -> Table:
    return Table(
        "transfers",
        "数据传输（按一侧与状态）",
        "Transfers by side and state",
        ["role", "state", "count"],
        ["本方角色", "状态", "数量"],
        [list(r) for r in transfer_counts(session)],
    )


def _requests(session: Session, now: datetime) -> Table:
    first = (now + timedelta(hours=8)).date() - timedelta(days=DAYS - 1)
    rows = rollup.days_since(session, first)
    return Table(
        "requests",
        f"数据请求（近 {DAYS} 天，按日）",
        f"Data requests per day (last {DAYS} days)",
        ["day", "requests", "permitted", "denied"],
        ["日期", "请求数", "允许", "拒绝"],
        [[d.isoformat(), n, p, n - p] for d, n, p in rows],
    )


def _registry(session: Session) -> Table:
    assets = asset_counts(session)
    pledged = assets.pop("pledged_fen", 0)
    rows: list[list[str | int | None]] = [["asset", k, v] for k, v in sorted(assets.items())]
    rows += [["compliance", k, v] for k, v in sorted(review_counts(session).items())]
    rows.append(["pledge", "registered_fen", pledged])
    return Table(
        "registry",
        "数据资产登记与合规审核",
        "Asset registrations and compliance reviews",
        ["area", "status", "value"],
        ["类别", "状态", "数量或金额（分）"],
        rows,
    )


def _log(session: Session, signer: evidence.Ed25519Signer) -> tuple[LogFacts, Table]:
    status = evidence.log_status(session, signer)
    facts = LogFacts(status.size, status.pending, status.checkpoint_size, status.published_at)
    rows: list[list[str | int | None]] = [
        ["log_size", status.size],
        ["pending", status.pending],
        ["checkpoint_size", status.checkpoint_size],
        ["checkpoint_at", status.published_at.isoformat() if status.published_at else None],
    ]
    return facts, Table(
        "evidence", "存证日志", "Evidence log", ["metric", "value"], ["指标", "值"], rows
    )


BUILDERS = (
    "participants",
    "resources",
    "products",
    "agreements",
    "transfers",
    "requests",
    "transaction_value",
    "settlement_status",
    "registry",
    "evidence",
)


def authorise(session: Session, actor: Actor) -> bool:
    """Admit operator and regulator; whether closed days still need rolling up first."""
    require(actor, *OVERSIGHT)
    return rollup.pending(session)


def fresh(platform: Platform) -> None:
    """Roll up the closed days in a short write transaction of its own (a no-op when done)."""
    with platform.unit() as session:
        rollup.catch_up(session)


def dashboard(session: Session, actor: Actor, signer: evidence.Ed25519Signer) -> Dashboard:
    """Every indicator (operator and regulator only)."""
    require(actor, *OVERSIGHT)
    now = utcnow()
    log, log_table = _log(session, signer)
    tables = [
        _participants(session),
        _resources(session),
        _products(session),
        _agreements(session, now),
        _transfers(session),
        _requests(session, now),
        value_table(session, now - timedelta(days=31 * MONTHS)),
        settlement_status(session),
        _registry(session),
        log_table,
    ]
    last = audits.latest(session)
    headline = {
        "participants": sum(int(r[2] or 0) for r in tables[0].rows if r[1] == "active"),
        "products_listed": sum(int(r[4] or 0) for r in tables[2].rows if r[0] == "listed"),
        "agreements_active": sum(int(r[1] or 0) for r in tables[3].rows if r[0] == "active"),
        "requests_today": int(tables[5].rows[-1][1] or 0)
        if tables[5].rows and tables[5].rows[-1][0] == f"{now + timedelta(hours=8):%Y-%m-%d}"
        else 0,
        "log_size": log.size,
    }
    return Dashboard(now, headline, log, last, tables)


def table(session: Session, actor: Actor, signer: evidence.Ed25519Signer, name: str) -> Table:
    if name not in BUILDERS:
        raise NotFound(
            f"No indicator {name}", f"没有指标 {name}", code="supervision.unknown_indicator"
        )
    return next(t for t in dashboard(session, actor, signer).tables if t.name == name)
