"""Push delivery: the provider's connector sends each file part, each page of a table part and
the manifest to the consumer's endpoint, decided and metered like a pull, then completes the
transfer; failures are retried without counting twice, then end the transfer."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path

import anyio
from click.testing import CliRunner
from dataplane_support import count_limit, open_plane, policy
from datasets_support import BLOB, CSV, REELS, TABLE, data_root
from push_support import SINK_KEY, open_push
from transfers_support import (
    PUSH,
    act,
    push_address,
    request_body,
    schema_errors,
    transfer_error,
)

from shuchang import cli
from shuchang.domains.dataplane.digests import sm3_hex
from shuchang.domains.dataplane.push import sink_headers
from shuchang.domains.dataplane.push_jobs import backoff
from shuchang.platform import Platform


def _repr_digest(data: bytes) -> str:
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    sm3 = base64.b64encode(bytes.fromhex(sm3_hex(data))).decode()
    return f"sha-256=:{sha}:, sm3=:{sm3}:"


def test_every_part_table_page_and_the_manifest_arrive_and_the_transfer_completes(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB, CSV, TABLE]) as push:
        push.run_until_done(push.pusher(page_rows=150))
        root = data_root(push.plane)
        blob, csv = (
            (root / "mes" / "scan.bin").read_bytes(),
            (root / "mes" / "reels.csv").read_bytes(),
        )
        parts = {p["resource_id"]: p for p in push.plane.get("/data/manifest").json()["parts"]}
        name = {p.get("name", "table"): rid for rid, p in parts.items()}
        ids = [name["scan.bin"], name["reels.csv"], name["table"]]
        got = push.sink.bodies()
        assert got[f"/inbox/credit/{ids[0]}/scan.bin"] == blob
        assert got[f"/inbox/credit/{ids[1]}/reels.csv"] == csv
        blob_put = push.sink.last("/scan.bin")
        assert blob_put.method == "PUT" and blob_put.headers["authorization"] == SINK_KEY
        assert blob_put.headers["repr-digest"] == _repr_digest(blob)
        assert blob_put.headers["content-length"] == str(len(blob))
        assert blob_put.headers["x-shuchang-consumer-pid"] == push.consumer_view["consumer_pid"]
        pages = [
            got[f"/inbox/credit/{ids[2]}/{n}"]
            for n in ("reels.csv", "reels.p2.csv", "reels.p3.csv")
        ]
        lines = [line for page in pages for line in page.decode().splitlines()[1:]]
        assert (
            len(lines) == len(REELS) and "secret_cost_fen" not in pages[0].decode().splitlines()[0]
        )

        manifest = json.loads(got["/inbox/credit/manifest"])
        assert manifest["consumerPid"] == push.consumer_view["consumer_pid"]
        by_unit = {u["unit"]: u for u in manifest["parts"]}
        assert (
            by_unit[ids[0]]["sha256"] == parts[ids[0]]["sha256"] == hashlib.sha256(blob).hexdigest()
        )
        assert by_unit[ids[0]]["sm3"] == sm3_hex(blob)
        for n, page in enumerate(pages, 1):  # digests of what was sent, computed while sending
            unit = by_unit[f"{ids[2]}:{n}"]
            assert unit["sha256"] == hashlib.sha256(page).hexdigest()
            assert unit["sm3"] == sm3_hex(page) and unit["bytes"] == len(page)

        assert push.provider()["state"] == "COMPLETED" and push.consumer()["state"] == "COMPLETED"
        completion = push.plane.pair.relays[0].last("TransferCompletionMessage").body
        assert schema_errors(completion) == []
        records = push.push_records()
        assert [r.outcome for r in records] == ["delivered"] * 6
        assert [r.counted for r in records] == [True] * 5 + [False]  # the manifest is free
        assert push.uses() == 5
        assert len(blob) in [r.bytes for r in records] and {r.method for r in records} == {"PUT"}
        assert sum(r.rows for r in records) == len(REELS)
        (job,) = push.jobs()
        assert (job.state, job.attempts, job.record_id) == ("done", 1, None)


def test_a_refused_part_is_retried_without_counting_it_again(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB, CSV]) as push:
        push.sink.refuse = 2  # the first part twice
        push.run_until_done()
        (job,) = push.jobs()
        assert (job.state, job.attempts) == ("done", 3)
        records = push.push_records()
        assert [(r.outcome, r.status, r.counted) for r in records] == [
            ("sink_refused", 503, True),
            ("sink_refused", 503, False),
            ("delivered", 201, False),
            ("delivered", 201, True),
            ("delivered", 201, False),
        ]
        assert push.uses() == 2  # one per part, however often it was sent
        assert push.provider()["state"] == "COMPLETED"


def test_attempts_used_up_terminate_the_transfer_with_the_reason(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB], dataplane_push_attempts=3) as push:
        push.sink.refuse, push.sink.refuse_status = 100, 500
        push.run_until_done()
        (job,) = push.jobs()
        assert (job.state, job.attempts) == ("failed", 3)
        assert job.last_error is not None and job.last_error["status"] == 500
        provider, consumer = push.provider(), push.consumer()
        assert provider["state"] == consumer["state"] == "TERMINATED"
        assert consumer["error"]["code"] == "push_failed"
        assert "HTTP 500" in consumer["error"]["reason"][0]
        termination = push.plane.pair.relays[0].last("TransferTerminationMessage").body
        assert schema_errors(termination) == []
        assert push.uses() == 1 and len(push.push_records()) == 3


def test_a_denial_by_the_agreement_terminates_at_once(platform: Platform, tmp_path: Path) -> None:
    with open_push(platform, tmp_path, [BLOB, CSV], policy(count_limit(1))) as push:
        push.run_until_done()
        (job,) = push.jobs()
        assert (job.state, job.attempts) == ("failed", 1)
        records = push.push_records()
        assert [(r.permitted, r.outcome) for r in records] == [
            (True, "delivered"),
            (False, "denied"),
        ]
        consumer = push.consumer()
        assert consumer["state"] == "TERMINATED" and consumer["error"]["code"] == "push_denied"


def test_a_suspension_stops_the_push_at_the_next_chunk_and_a_resume_goes_on(
    platform: Platform, tmp_path: Path
) -> None:
    with open_push(platform, tmp_path, [BLOB, CSV]) as push:
        blob = bytes(range(256)) * 4096 * 24  # 24 MiB
        (data_root(push.plane) / "mes" / "scan.bin").write_bytes(blob)
        push.sink.read_delay = 0.01
        running = push.plane.portal.start_task_soon(push.pusher().run_once)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (push.jobs() and push.jobs()[0].sent):
            time.sleep(0.05)
        provider_id = push.provider()["id"]
        answer = act(push.plane.pair.provider, provider_id, "suspend", reason="核查接收端")
        assert answer.status_code == 200, answer.text
        running.result(timeout=30)
        (first,) = push.jobs()
        assert first.state == "stopped" and first.record_id is None
        (cut,) = [r for r in push.push_records() if r.outcome != "delivered"]
        assert (cut.outcome, cut.counted) == ("stopped", True) and 0 < cut.bytes < len(blob)

        push.sink.read_delay = 0
        assert act(push.plane.pair.provider, provider_id, "resume").status_code == 200
        push.run_until_done()
        second = push.jobs()[-1]
        assert (second.epoch, second.state) == (first.epoch + 1, "done")
        records = [r for r in push.push_records() if r.path != "/data/manifest"]
        blob_records = [(r.outcome, r.counted) for r in records if r.resource_id == cut.resource_id]
        # the part paid for before the suspension is sent again, not paid again
        assert blob_records == [("stopped", True), ("delivered", False)]
        other = [(r.outcome, r.counted) for r in records if r.resource_id != cut.resource_id]
        assert other in ([("delivered", True)], [("delivered", True), ("delivered", False)])
        assert push.uses() == 2 and push.provider()["state"] == "COMPLETED"


def test_an_api_product_refuses_push_at_request_time(platform: Platform, tmp_path: Path) -> None:
    with open_plane(platform, tmp_path) as plane:
        body = request_body(plane.pair.agreement_id, kind=PUSH, dataAddress=push_address())
        answer = plane.pair.provider.send("/dsp/transfers/request", body)
        error = transfer_error(answer, 400, "dsp.format_unsupported")
        assert "HttpData-PULL" in error["reason"][0]


def test_the_headers_a_data_address_asks_for() -> None:
    assert sink_headers(
        {
            "authorization": "Bearer k",
            "authKey": "X-Api-Key",
            "authCode": "secret",
            "header:X-Tenant": "bank-01",
            "format": "jsonl",
        }
    ) == {"authorization": "Bearer k", "X-Api-Key": "secret", "X-Tenant": "bank-01"}
    assert sink_headers({"authKey": "X-Api-Key"}) == {}  # a key without its code sends nothing


def test_backoff_doubles_up_to_five_minutes() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff(30) == 300.0 and backoff(3, base=0.5) == 2.0


def test_push_once_without_a_connector_does_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.cli,
        ["dataplane", "push", "--once"],
        env={"SHUCHANG_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"},
    )
    assert result.exit_code == 0, result.output
    assert "0 push attempt(s) made" in result.output


def test_two_pushers_at_once_push_each_part_once(platform: Platform, tmp_path: Path) -> None:
    with open_push(platform, tmp_path, [BLOB, CSV]) as push:

        async def both() -> list[int]:
            tried: list[int] = []

            async def one() -> None:
                tried.append(await push.pusher().run_once())

            async with anyio.create_task_group() as tg:
                tg.start_soon(one)
                tg.start_soon(one)
            return tried

        assert sorted(push.plane.portal.call(both)) == [0, 1]  # one of them took the job
        (job,) = push.jobs()
        assert (job.state, job.attempts) == ("done", 1)
        assert push.uses() == 2 and len(push.push_records()) == 3
        assert len(push.sink.received) == 3
