"""The same transfer step arriving several times at once: exactly one is taken, the others are
refused as the protocol says, and the history holds each step once. (On SQLite the writers
queue on the database lock; on PostgreSQL they overlap and the row lock decides.)"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from transfers_support import Pair, message, request_body, start, steps

from shuchang.domains.transfers.models import TransferProcess

COPIES = 6


def at_once(pair: Pair, path: str, bodies: list[dict[str, object]]) -> Counter[tuple[int, str]]:
    """POST every body (each signed on its own) to the provider's ``path`` at one moment."""
    signed = [pair.provider.sign(path, body) for body in bodies]
    gate = threading.Barrier(len(signed))

    def send(i: int) -> tuple[int, str]:
        raw, headers = signed[i]
        gate.wait()
        answer = pair.provider.client.post(path, content=raw, headers=headers)
        return answer.status_code, str(answer.json().get("code", ""))

    with ThreadPoolExecutor(len(signed)) as pool:
        return Counter(pool.map(send, range(len(signed))))


def test_one_of_several_identical_requests_opens_a_transfer(pair: Pair) -> None:
    body = request_body(pair.agreement_id)
    outcomes = at_once(pair, "/dsp/transfers/request", [body] * COPIES)
    assert outcomes == {(201, ""): 1, (409, "dsp.duplicate_request"): COPIES - 1}
    with pair.provider.platform.unit(write=False) as s:
        count = s.scalar(
            select(func.count())
            .select_from(TransferProcess)
            .where(TransferProcess.consumer_pid == body["consumerPid"])
        )
    assert count == 1


def test_one_of_several_identical_suspensions_is_taken(pair: Pair) -> None:
    mine = start(pair)
    ppid, cpid = mine["provider_pid"], mine["consumer_pid"]
    body = message("TransferSuspensionMessage", ppid, cpid, code="s", reason=["暂停"])
    outcomes = at_once(pair, f"/dsp/transfers/{ppid}/suspension", [body] * COPIES)
    assert outcomes == {(200, ""): 1, (409, "dsp.invalid_transition"): COPIES - 1}
    with pair.provider.platform.unit(write=False) as s:
        theirs = s.scalars(
            select(TransferProcess).where(
                TransferProcess.role == "provider", TransferProcess.provider_pid == ppid
            )
        ).one()
    assert [to for _, _, to in steps(pair.provider.platform, theirs.id)] == [
        "REQUESTED",
        "STARTED",
        "SUSPENDED",
    ]


def test_one_of_several_resume_requests_restarts_once(pair: Pair) -> None:
    mine = start(pair)
    ppid, cpid = mine["provider_pid"], mine["consumer_pid"]
    suspend = message("TransferSuspensionMessage", ppid, cpid)
    assert pair.provider.send(f"/dsp/transfers/{ppid}/suspension", suspend).status_code == 200
    resume = message("TransferStartMessage", ppid, cpid)
    outcomes = at_once(pair, f"/dsp/transfers/{ppid}/start", [resume] * COPIES)
    assert outcomes == {(200, ""): 1, (409, "dsp.invalid_transition"): COPIES - 1}
    starts = [m for m in pair.relays[0].transfer_messages() if m["@type"] == "TransferStartMessage"]
    assert len(starts) == 2  # the first start and one restart
