"""Kill a pusher (``shuchang dataplane push``, SIGKILL) while it sends a part: its lease runs
out, the next pusher closes the dead attempt's record as ``interrupted`` with the bytes last
reported, sends the part again without counting it again, completes the transfer — and every
record seals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from datasets_support import BLOB, CSV, data_root
from push_support import open_push

from shuchang.domains.dataplane import seal, verify_batch
from shuchang.domains.dataplane.metering import DELIVERED, UNKNOWN
from shuchang.platform import Platform


def _pusher_process(push: object, tmp_path: Path) -> subprocess.Popen[bytes]:
    s = push.platform.settings  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "SHUCHANG_DATABASE_URL": s.database_url,
        "SHUCHANG_LOG_KEY_FILE": s.log_key_file,
        "SHUCHANG_CONNECTOR_KEY_FILE": s.connector_key_file,
        "SHUCHANG_CONNECTOR_URL": s.connector_url,
        "SHUCHANG_CONNECTOR_PARTICIPANT": s.connector_participant,
        "SHUCHANG_DATA_ROOT": s.data_root,
        "SHUCHANG_DATAPLANE_PUSH_SECONDS": "1",
        "SHUCHANG_DATAPLANE_PUSH_LEASE_SECONDS": "2",
    }
    log = (tmp_path / "pusher.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "shuchang", "dataplane", "push"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def test_killing_the_pusher_mid_part_loses_and_doubles_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB, CSV], dataplane_push_lease_seconds=2) as push:
        blob = os.urandom(1024 * 1024) * 24  # 24 MiB
        (data_root(push.plane) / "mes" / "scan.bin").write_bytes(blob)
        push.sink.read_delay = 0.01  # ~6 MB/s: the part stays in flight
        process = _pusher_process(push, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                jobs = push.jobs()
                if jobs and jobs[0].record_id is not None and jobs[0].sent > 1024 * 1024:
                    break
                assert process.poll() is None, (tmp_path / "pusher.log").read_text()
                time.sleep(0.1)
            else:
                raise AssertionError((tmp_path / "pusher.log").read_text()[-3000:])
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        (dead,) = push.jobs()
        assert dead.state == "running" and dead.attempts == 1
        (in_flight,) = [r for r in push.push_records() if r.outcome == UNKNOWN]
        assert in_flight.counted and in_flight.id == dead.record_id

        push.sink.read_delay = 0
        push.run_until_done()  # waits for the dead pusher's lease to run out, then takes over
        (job,) = push.jobs()
        assert (job.state, job.attempts, job.record_id) == ("done", 2, None)
        assert push.provider()["state"] == "COMPLETED"
        assert push.sink.bodies()[f"/inbox/credit/{in_flight.resource_id}/scan.bin"] == blob

        records = push.push_records()
        interrupted = next(r for r in records if r.id == in_flight.id)
        assert interrupted.outcome == "interrupted" and interrupted.counted
        assert 1024 * 1024 <= interrupted.bytes <= len(blob)  # the last heartbeat's count
        again = [
            r
            for r in records
            if r.resource_id == in_flight.resource_id
            and r.id != in_flight.id
            and r.path != "/data/manifest"
        ]
        assert [(r.outcome, r.counted, r.bytes) for r in again] == [(DELIVERED, False, len(blob))]
        assert push.uses() == 2 == sum(r.counted for r in records)  # one per part

        with push.platform.unit() as s:
            batch = seal(s, limit=10_000, in_flight_seconds=0)
        assert batch is not None and batch.count == len(push.plane.records())
        with push.platform.unit(write=False) as s:
            assert verify_batch(s, batch.id)[1]
