"""The daily rollup: closed days are summed once per agreement, open days are read live, and
the figures are the same either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import func, select
from supervision_support import agreement, transfer, usage

import factories
from shuchang.cli import cli
from shuchang.domains.supervision import rollup
from shuchang.domains.supervision.models import UsageDay
from shuchang.platform import Platform

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _seed(platform: Platform) -> None:
    provider = factories.participant(platform, roles=("provider",))
    bank = factories.participant(platform, roles=("consumer",))
    a = agreement(
        platform,
        provider.id,
        bank.id,
        price_model="per_call",
        price_fen=10,
        concluded=NOW - timedelta(days=10),
    )
    b = agreement(
        platform,
        provider.id,
        bank.id,
        price_model="per_call",
        price_fen=20,
        concluded=NOW - timedelta(days=10),
    )
    t = transfer(platform, a, provider.id, "STARTED")
    for days_ago, count in ((3, 5), (2, 4), (0, 2)):
        usage(platform, a, t, bank.id, NOW - timedelta(days=days_ago), permitted=count, denied=1)
    usage(platform, b, t, bank.id, NOW - timedelta(days=2), permitted=7)
    # 23:59:30 in Shanghai two days ago belongs to that day, not the next one.
    late = datetime(2026, 6, 13, 15, 59, 30, tzinfo=UTC)
    usage(platform, b, t, bank.id, late, permitted=1)


def _daily(rows: list[tuple[object, object, int, int]]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for day, _, n, p in rows:
        old = out.get(str(day), (0, 0))
        out[str(day)] = (old[0] + n, old[1] + p)
    return out


def test_closed_days_are_rolled_up_once_and_agree_with_the_live_figures(platform: Platform) -> None:
    _seed(platform)
    since = (NOW + timedelta(hours=8)).date() - timedelta(days=5)
    with platform.unit(write=False) as s:
        live = _daily([(d, None, n, p) for d, n, p in rollup.days_since(s, since)])
        assert rollup.pending(s, NOW)
    with platform.unit() as s:
        assert rollup.catch_up(s, NOW) == 3  # the 12th, 13th and 14th are closed
        assert rollup.catch_up(s, NOW) == 0  # nothing left: idempotent
    with platform.unit(write=False) as s:
        assert not rollup.pending(s, NOW)
        assert _daily([(d, None, n, p) for d, n, p in rollup.days_since(s, since)]) == live
        stored = s.scalar(select(func.count()).select_from(UsageDay))
    assert live == {"2026-06-12": (6, 5), "2026-06-13": (13, 12), "2026-06-15": (3, 2)}
    assert stored == 3  # the 12th (one agreement), the 13th (two agreements)


def test_a_day_closes_only_after_the_grace(platform: Platform) -> None:
    midnight = datetime(2026, 6, 14, 16, 0, tzinfo=UTC)  # 00:00 on the 15th in Shanghai
    assert rollup.last_closed(midnight + timedelta(minutes=5)).isoformat() == "2026-06-13"
    assert rollup.last_closed(midnight + timedelta(minutes=11)).isoformat() == "2026-06-14"
    del platform


def test_the_rollup_command(platform: Platform) -> None:
    env = {
        "SHUCHANG_DATABASE_URL": platform.settings.database_url,
        "SHUCHANG_LOG_KEY_FILE": platform.settings.log_key_file,
    }
    result = CliRunner().invoke(cli, ["supervision", "rollup"], env=env)
    assert result.exit_code == 0 and "day(s) rolled up" in result.output
