"""Metering: usage summaries, sealed batches whose digest anyone can recompute, what a crash
between the decision and the outcome leaves, and counts that hold under concurrency."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from dataplane_support import Plane, count_limit, open_plane, policy
from sqlalchemy import select, update

from shuchang.canonical import canonical_json
from shuchang.cli import cli
from shuchang.domains.dataplane import seal, usage_summary, verify_batch
from shuchang.domains.dataplane.metering import UNKNOWN, Closing, close_records
from shuchang.domains.dataplane.models import UsageRecord
from shuchang.domains.dataplane.service import DataRequest, admit
from shuchang.domains.evidence.models import OutboxEntry
from shuchang.domains.transfers import verify_token
from shuchang.platform import Platform


def test_usage_is_summarised_per_agreement_and_day(platform: Platform, tmp_path: Path) -> None:
    with open_plane(platform, tmp_path, policy(count_limit(2))) as plane:
        for _ in range(3):
            plane.get()
        with plane.platform.unit(write=False) as s:
            summary = usage_summary(s, plane.pair.agreement_id)
        assert (summary.requests, summary.permitted, summary.denied) == (3, 2, 1)
        assert summary.rows == 4 and summary.bytes > 0 and summary.unknown == 0
        (day,) = summary.days
        assert day.day == (datetime.now(UTC) + timedelta(hours=8)).date()
        later = datetime.now(UTC) + timedelta(minutes=1)
        with plane.platform.unit(write=False) as s:
            assert usage_summary(s, plane.pair.agreement_id, since=later).requests == 0

        consumer = plane.pair.consumer
        answer = consumer.client.get(
            "/api/v1/dataplane/usage",
            params={"agreement_id": str(plane.pair.agreement_id)},
            headers=consumer.local.headers,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["requests"] == 3 and answer.json()["days"][0]["permitted"] == 2
        stranger = consumer.client.get(
            "/api/v1/dataplane/usage", params={"agreement_id": str(plane.pair.agreement_id)}
        )
        assert stranger.status_code == 401


def _digest_of(plane: Plane, batch_id: int) -> str:
    """Recompute a batch's digest from its records, by the published rule (not our code)."""
    h = hashlib.sha256()
    for r in plane.records():
        if r.batch_id == batch_id:
            line = {
                "id": r.id,
                "agreement_id": str(r.agreement_id),
                "transfer_id": str(r.transfer_id),
                "consumer_id": str(r.consumer_id),
                "method": r.method,
                "path": r.path,
                "permitted": r.permitted,
                "outcome": r.outcome,
                "status": r.status,
                "bytes": r.bytes,
                "rows": r.rows,
                "duration_ms": r.duration_ms,
                "started_at": r.started_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
            h.update(canonical_json(line) + b"\n")
    return h.hexdigest()


def test_sealing_records_a_digest_anyone_can_recompute(plane: Plane) -> None:
    for _ in range(4):
        plane.get()
    (batch,) = plane.portal.call(plane.gateway.seal_now)
    assert (batch.count, batch.first_id, batch.last_id) == (4, 1, 4)
    assert batch.digest == _digest_of(plane, batch.id)
    with plane.platform.unit(write=False) as s:
        entry = s.get(OutboxEntry, batch.evidence_id)
        assert entry is not None and entry.kind == "dataplane.metering_batch"
        assert entry.payload["digest"] == batch.digest and entry.payload["count"] == 4
        assert verify_batch(s, batch.id)[1] is True
    assert plane.portal.call(plane.gateway.seal_now) == []  # nothing new

    plane.get()
    (second,) = plane.portal.call(plane.gateway.seal_now)
    assert second.count == 1 and second.first_id > batch.last_id
    with plane.platform.unit() as s:  # tampering after sealing is detected
        s.execute(update(UsageRecord).where(UsageRecord.id == 2).values(bytes=1))
    with plane.platform.unit(write=False) as s:
        assert verify_batch(s, batch.id)[1] is False


def test_the_cli_seals_and_verifies(plane: Plane, monkeypatch: pytest.MonkeyPatch) -> None:
    plane.get()
    monkeypatch.setenv("SHUCHANG_DATABASE_URL", plane.platform.settings.database_url)
    monkeypatch.setenv("SHUCHANG_LOG_KEY_FILE", plane.platform.settings.log_key_file)
    runner = CliRunner()
    sealed = runner.invoke(cli, ["dataplane", "seal"])
    assert sealed.exit_code == 0, sealed.output
    assert '"count": 1' in sealed.output
    checked = runner.invoke(cli, ["dataplane", "verify", "1"])
    assert checked.exit_code == 0 and "digest verified" in checked.output, checked.output
    shown = runner.invoke(cli, ["dataplane", "usage", "--agreement", str(plane.pair.agreement_id)])
    assert shown.exit_code == 0 and '"requests": 1' in shown.output, shown.output


def test_a_crash_before_the_outcome_leaves_a_counted_unknown_record(plane: Plane) -> None:
    """The decision's transaction committed (use counted, record written), then the gateway
    died: the record says ``unknown``, counts as a use, and is sealed once it is old enough;
    a late outcome never rewrites a sealed record."""
    claims = verify_token(plane.token, plane.gateway.keys)
    request = DataRequest("GET", "/data", (), None, datetime.now(UTC), time.monotonic())
    with plane.platform.unit() as s:
        admission = admit(s, claims, plane.gateway.targets, request)
    assert admission.decision.permitted and admission.decision.uses == 1
    with plane.platform.unit(write=False) as s:
        summary = usage_summary(s, plane.pair.agreement_id)
        assert (summary.permitted, summary.unknown) == (1, 1)
        assert seal(s, limit=100, in_flight_seconds=3600) is None  # maybe still in flight
    with plane.platform.unit() as s:
        batch = seal(s, limit=100, in_flight_seconds=0)
    assert batch is not None and batch.count == 1
    with plane.platform.unit() as s:
        late = close_records(s, [Closing(admission.record_id, "delivered", 200, 9, 1, 5)])
    assert late == 0
    (record,) = plane.records()
    assert (record.outcome, record.status, record.batch_id) == (UNKNOWN, None, batch.id)


def test_parallel_requests_never_exceed_the_count(platform: Platform, tmp_path: Path) -> None:
    with open_plane(platform, tmp_path, policy(count_limit(7))) as plane:
        answers = plane.many(24)
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 7 + [403] * 17, statuses
        with plane.platform.unit(write=False) as s:
            permitted = s.scalars(
                select(UsageRecord.id).where(UsageRecord.permitted.is_(True))
            ).all()
        assert len(permitted) == 7 and len(plane.records()) == 24
        assert len(plane.backend.seen) == 7


def test_the_running_gateway_seals_on_its_own(platform: Platform, tmp_path: Path) -> None:
    with open_plane(platform, tmp_path, dataplane_seal_seconds=1) as plane:
        plane.get()
        plane.get()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(r.batch_id is None for r in plane.records()):
            time.sleep(0.2)
        records = plane.records()
        assert len(records) == 2 and all(r.batch_id is not None for r in records)
        with plane.platform.unit(write=False) as s:
            assert verify_batch(s, records[0].batch_id or 0)[1]


def test_a_download_record_line_names_its_part_range_channel_and_uncounted_use() -> None:
    from types import SimpleNamespace

    from shuchang.domains.dataplane.sealing import record_line

    ids = [uuid.UUID(int=i) for i in range(4)]
    base = {
        "id": 7,
        "agreement_id": ids[0],
        "transfer_id": ids[1],
        "consumer_id": ids[2],
        "method": "GET",
        "path": "/data/x",
        "permitted": True,
        "outcome": "delivered",
        "status": 206,
        "bytes": 100,
        "rows": 0,
        "duration_ms": 3,
        "started_at": datetime(2026, 12, 6, 8, 0, tzinfo=UTC),
        "counted": True,
        "resource_id": None,
        "byte_range": None,
        "channel": None,
    }
    plain = record_line(SimpleNamespace(**base))
    assert b"counted" not in plain and b"channel" not in plain  # as sealed before downloads
    download = {
        **base,
        "counted": False,
        "resource_id": ids[3],
        "byte_range": "100-199",
        "channel": "pull",
    }
    line = canonical_json(
        {
            **{k: v for k, v in download.items() if k not in ("started_at",)},
            "agreement_id": str(ids[0]),
            "transfer_id": str(ids[1]),
            "consumer_id": str(ids[2]),
            "resource_id": str(ids[3]),
            "started_at": "2026-12-06T08:00:00.000000Z",
        }
    )
    assert record_line(SimpleNamespace(**download)) == line + b"\n"


def test_a_batch_whose_records_changed_after_hashing_is_not_written(plane: Plane) -> None:
    from shuchang.domains.dataplane.models import MeteringBatch
    from shuchang.domains.dataplane.sealing import SealConflict, commit, prepare

    claims = verify_token(plane.token, plane.gateway.keys)
    request = DataRequest("GET", "/data", (), None, datetime.now(UTC), time.monotonic())
    with plane.platform.unit() as s:
        admission = admit(s, claims, plane.gateway.targets, request)
    with plane.platform.unit(write=False) as s:  # hashed as unknown (past the grace of 0 s)
        prepared = prepare(s, limit=100, in_flight_seconds=0)
    assert prepared is not None and prepared.unknown == [admission.record_id]
    with plane.platform.unit() as s:  # its outcome arrives late
        assert close_records(s, [Closing(admission.record_id, "delivered", 200, 9, 1, 5)]) == 1
    with pytest.raises(SealConflict), plane.platform.unit() as s:
        commit(s, prepared)
    with plane.platform.unit(write=False) as s:
        assert s.scalars(select(MeteringBatch)).all() == []
    (record,) = plane.records()
    assert (record.outcome, record.batch_id) == ("delivered", None)
    with plane.platform.unit() as s:  # the next round hashes what it is now
        batch = seal(s, limit=100, in_flight_seconds=0)
    assert batch is not None and batch.digest == _digest_of(plane, batch.id)
