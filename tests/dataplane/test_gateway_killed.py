"""Kill the gateway (SIGKILL, mid-load) and count: every counted use has exactly one usage
record, requests in flight are left ``unknown`` (still uses), and all of it seals."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from dataplane_support import COMPANIES, gateway_process, open_plane
from sqlalchemy import select

from shuchang.domains.contracts.models import Usage
from shuchang.domains.dataplane import seal, verify_batch
from shuchang.domains.dataplane.metering import DELIVERED, UNKNOWN
from shuchang.platform import Platform

DELAY = 0.3  # the backend's think time: keeps requests in flight when the gateway dies


class SlowBackend(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(DELAY)
        body = json.dumps(COMPANIES).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def backend() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowBackend)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/companies"
    finally:
        server.shutdown()
        server.server_close()


def test_killing_the_gateway_mid_load_loses_and_doubles_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    with backend() as url, open_plane(platform, tmp_path, backend_url=url) as plane:
        with gateway_process(plane, tmp_path) as (process, base):
            headers = {"Authorization": f"Bearer {plane.token}"}

            def one(_: int) -> int:
                try:
                    return httpx.get(f"{base}/data", headers=headers, timeout=10).status_code
                except httpx.HTTPError:
                    return 0  # the gateway died under this request

            with ThreadPoolExecutor(8) as pool:
                pending = pool.map(one, range(200))
                time.sleep(2.0)
                os.killpg(process.pid, signal.SIGKILL)
                statuses = list(pending)
        received = statuses.count(200)
        assert 0 < received < 200 and statuses.count(0) > 0, statuses

        with plane.platform.unit(write=False) as s:
            uses = s.scalar(select(Usage.uses).where(Usage.agreement_id == plane.pair.agreement_id))
        records = plane.records()
        assert all(r.permitted for r in records)
        assert uses == len(records)  # each counted use has exactly one record, and no more
        assert received <= len(records)
        outcomes = {r.outcome for r in records}
        assert outcomes <= {DELIVERED, UNKNOWN} and UNKNOWN in outcomes, outcomes
        assert sum(r.outcome == DELIVERED for r in records) >= received - 8

        with plane.platform.unit() as s:
            batch = seal(s, limit=10_000, in_flight_seconds=0)
        assert batch is not None and batch.count == len(records)
        with plane.platform.unit(write=False) as s:
            assert verify_batch(s, batch.id)[1]
