"""Kill the gateway (SIGKILL) while downloads are in flight: each counted use has exactly one
counted record, the downloads cut off stay ``unknown`` (still uses), and all of it seals."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
from datasets_support import BLOB, data_root, open_dataset
from sqlalchemy import select

from shuchang.domains.contracts.models import Usage
from shuchang.domains.dataplane import seal, verify_batch
from shuchang.domains.dataplane.metering import DELIVERED, UNKNOWN
from shuchang.platform import Platform


def test_killing_the_gateway_mid_download_loses_and_doubles_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    with open_dataset(platform, tmp_path, [BLOB]) as plane:
        path = data_root(plane) / "mes" / "scan.bin"
        path.write_bytes(os.urandom(1024 * 1024) * 32)  # 32 MiB
        env = {"SHUCHANG_DATA_ROOT": str(data_root(plane))}
        from dataplane_support import gateway_process

        with gateway_process(plane, tmp_path, **env) as (process, base):
            headers = {"Authorization": f"Bearer {plane.token}"}
            done: list[int] = []
            assert httpx.get(f"{base}/data", headers=headers, timeout=30).status_code == 200

            def slow_reader() -> None:
                try:
                    with httpx.stream("GET", f"{base}/data", headers=headers, timeout=30) as r:
                        for _ in r.iter_raw(64 * 1024):
                            time.sleep(0.01)  # a slow consumer: the download stays in flight
                    done.append(1)
                except httpx.HTTPError:
                    pass

            readers = [threading.Thread(target=slow_reader) for _ in range(4)]
            for t in readers:
                t.start()
            time.sleep(1.5)
            os.killpg(process.pid, signal.SIGKILL)
            for t in readers:
                t.join(timeout=30)
        assert not done  # every slow download was cut off

        with plane.platform.unit(write=False) as s:
            uses = s.scalar(select(Usage.uses).where(Usage.agreement_id == plane.pair.agreement_id))
        records = plane.records()
        assert uses == sum(r.counted for r in records) == len(records) == 5
        assert [r.outcome for r in records].count(DELIVERED) == 1
        assert [r.outcome for r in records].count(UNKNOWN) == 4

        with plane.platform.unit() as s:
            batch = seal(s, limit=10_000, in_flight_seconds=0)
        assert batch is not None and batch.count == len(records)
        with plane.platform.unit(write=False) as s:
            assert verify_batch(s, batch.id)[1]
