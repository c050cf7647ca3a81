"""The demo region settles last month (S1 the bank pays per call for tax computations, S2 the
insurer per verification): invoices, the authorizing body's share, a clean reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from shuchang.db import utcnow
from shuchang.demo import seed
from shuchang.domains.participants import SYSTEM
from shuchang.domains.settlement import batches, ledger, reconciliation, views
from shuchang.domains.settlement.periods import period_of
from shuchang.domains.settlement.rail import rail_for
from shuchang.platform import Platform


def test_the_demo_has_a_settled_month_with_public_data_shares(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # on PostgreSQL the demo writes its key files here
    seed(platform.engine, platform.settings)
    month = str(period_of(utcnow()).previous())
    with platform.unit(write=False) as s:
        batch = batches.get_batch(s, SYSTEM, month)
        statements = {st.participant_name: st for st in batches.statements(s, SYSTEM, month)}
        invoices = batches.invoices(s, SYSTEM, period=month)
        assert ledger.trial_balance(s) == 0
        assert views.batch_statuses(s)[-1].reconciled_ok is True
    assert batch.status == "settled" and batch.invoices == 3
    bureau = statements["东瓯市数据局"]
    assert bureau.authority_fen > 0 and bureau.fee_fen > 0
    assert statements["东瓯电力有限公司"].authority_fen == 0  # an enterprise: not public data
    assert {i.product_title for i in invoices} >= {"人伤医疗费用核验"}
    with platform.unit() as s:
        rail = rail_for(platform.settings.settlement_rail, platform.unit)
        assert reconciliation.reconcile(s, SYSTEM, month, rail).ok
