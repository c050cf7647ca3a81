"""Metering of downloads: bytes actually sent, resumes that do not count again (but a count
limit still bounds copies), a client that goes away mid-download."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
from dataplane_support import count_limit, gateway_process, policy, problem
from datasets_support import BLOB, data_root, open_dataset
from sqlalchemy import select

from shuchang.domains.contracts.models import Usage
from shuchang.domains.dataplane.delivery_models import DownloadCopy
from shuchang.platform import Platform


def _uses(plane: object) -> int:
    platform: Platform = plane.platform  # type: ignore[attr-defined]
    agreement = plane.pair.agreement_id  # type: ignore[attr-defined]
    with platform.unit(write=False) as s:
        return int(s.scalar(select(Usage.uses).where(Usage.agreement_id == agreement)) or 0)


def test_a_resume_continues_the_copy_and_a_count_limit_still_bounds_copies(
    platform: Platform, tmp_path: Path
) -> None:
    with open_dataset(platform, tmp_path, [BLOB], policy(count_limit(2))) as plane:
        content = (data_root(plane) / "mes" / "scan.bin").read_bytes()
        size, half = len(content), len(content) // 2
        first = plane.get("/data", headers={"Range": f"bytes=0-{half - 1}"})
        etag = first.headers["etag"]
        assert first.status_code == 206 and first.headers["x-shuchang-remaining-uses"] == "1"
        rest = plane.get("/data", headers={"Range": f"bytes={half}-", "If-Range": etag})
        assert rest.status_code == 206 and first.content + rest.content == content
        assert _uses(plane) == 1  # the resume continued the copy paid for by the first

        again = plane.get("/data")  # a second whole copy: the second (last) use
        assert again.status_code == 200 and _uses(plane) == 2
        records = plane.records()
        assert [r.counted for r in records] == [True, False, True]
        assert [r.bytes for r in records] == [half, size - half, size]

        third = plane.get("/data")  # no uses left and no copy left to continue
        problem(third, 403, "dataplane.denied")
        # ... but a tail the second copy did not send can still be fetched? It sent all.
        assert _uses(plane) == 2


def test_a_client_that_goes_away_is_metered_with_the_bytes_sent_and_can_resume(
    platform: Platform, tmp_path: Path
) -> None:
    with open_dataset(platform, tmp_path, [BLOB], policy(count_limit(1))) as plane:
        path = data_root(plane) / "mes" / "scan.bin"
        path.write_bytes(os.urandom(1024 * 1024) * 64)  # 64 MiB: more than socket buffers
        size = path.stat().st_size
        env = {"SHUCHANG_DATA_ROOT": str(data_root(plane))}
        with gateway_process(plane, tmp_path, **env) as (_, base):
            headers = {"Authorization": f"Bearer {plane.token}"}
            with httpx.stream("GET", f"{base}/data", headers=headers, timeout=30) as answer:
                assert answer.status_code == 200
                got = 0
                for chunk in answer.iter_raw(256 * 1024):
                    got += len(chunk)
                    if got >= 1024 * 1024:
                        break
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and plane.records()[0].outcome == "unknown":
                time.sleep(0.1)
            (record,) = plane.records()
            assert record.outcome == "client_gone", record.outcome
            assert got <= record.bytes < size
            with plane.platform.unit(write=False) as s:
                (copy,) = s.scalars(select(DownloadCopy)).all()
            assert copy.reserved == record.bytes  # what was not sent went back to the copy

            resume = {**headers, "Range": f"bytes={record.bytes}-"}
            rest = httpx.get(f"{base}/data", headers=resume, timeout=30)
            assert rest.status_code == 206, rest.text  # the only use is spent; resuming is free
            assert rest.content == path.read_bytes()[record.bytes :]
        assert _uses(plane) == 1
        assert [r.counted for r in plane.records()] == [True, False]


def test_a_token_of_another_consumer_or_forged_gets_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    with open_dataset(platform, tmp_path, [BLOB]) as plane:
        forged = plane.token[:-4] + ("AAAA" if not plane.token.endswith("AAAA") else "BBBB")
        problem(plane.get("/data", token=forged), 401, "transfer.token_forged")
        problem(plane.get("/data", token="not-a-token"), 401, "transfer.token_invalid")
        assert plane.records() == []
        assert isinstance(plane.client, httpx.AsyncClient)
