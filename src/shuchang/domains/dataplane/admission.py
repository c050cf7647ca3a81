"""Group commit (成组提交) of the gateway's database work: admissions and outcomes in batches.

Every data request writes twice: its admission (transfer checked, use decided and counted,
usage record opened — one transaction, committed before the request goes upstream) and,
after the answer, its outcome. One transaction per write queues every request on the
database's single writer (SQLite) or on the agreement's counter row (PostgreSQL), and the
commits cost more than everything else a request does. The committer's one thread takes what
is waiting — up to ``MAX_BATCH`` admissions and outcomes — and writes it in one transaction,
one statement per step (:func:`.service.admit_many`, :func:`.metering.close_records`).

Nothing about the guarantees changes: a request is forwarded only after the transaction that
counted it and opened its record has committed (its future resolves after the commit), so a
counted use always has its record and a crash loses neither; batching only decides how many
requests share a commit. Requests that arrive while a batch is being written form the next
batch, so a lone request waits for one commit, not for a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from shuchang.domains.dataplane import metering
from shuchang.domains.dataplane.service import Admission, DataRequest, Targets, admit_many
from shuchang.domains.transfers import TokenClaims
from shuchang.platform import Platform

logger = logging.getLogger("shuchang.dataplane")
MAX_BATCH = 512
CLIENT_CLOSED = 499  # status recorded when the client went away before the answer (nginx's)


@dataclass
class _Admit:
    claims: TokenClaims
    request: DataRequest
    future: asyncio.Future[Admission]
    loop: asyncio.AbstractEventLoop


@dataclass
class _Close:
    closing: metering.Closing
    future: asyncio.Future[None] | None
    loop: asyncio.AbstractEventLoop | None


class Committer:
    """The writer thread of one gateway process. ``start`` before use, ``stop`` at the end
    (it writes what is still queued first)."""

    def __init__(self, platform: Platform, targets: Targets, *, max_batch: int = MAX_BATCH):
        self.platform, self.targets, self.max_batch = platform, targets, max_batch
        self._queue: deque[_Admit | _Close] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="dataplane-committer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    async def admit(self, claims: TokenClaims, request: DataRequest) -> Admission:
        """The request's admission once committed; raises what the admission refused with."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Admission] = loop.create_future()
        self._put(_Admit(claims, request, future, loop))
        try:
            return await future
        except asyncio.CancelledError:  # dropped just after its admission was committed
            if future.done() and not future.cancelled() and future.exception() is None:
                self.abandoned(future.result())
            raise

    async def close(self, closing: metering.Closing) -> None:
        """Write a permitted request's outcome; returns once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._put(_Close(closing, future, loop))
        await future

    def _put(self, item: _Admit | _Close) -> None:
        with self._ready:
            if self._thread is None:
                raise RuntimeError("the gateway's committer is not running (lifespan)")
            self._queue.append(item)
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    return
                n = min(len(self._queue), self.max_batch)
                batch = [self._queue.popleft() for _ in range(n)]
            self._write(batch)

    def _write(self, batch: list[_Admit | _Close]) -> None:
        admits = [x for x in batch if isinstance(x, _Admit)]
        closes = [x for x in batch if isinstance(x, _Close)]
        try:
            with self.platform.unit() as session:
                written = metering.close_records(session, [c.closing for c in closes])
                results = admit_many(session, self.targets, [(a.claims, a.request) for a in admits])
        except Exception as exc:  # nothing of the batch was written; every request hears it
            logger.exception("writing a batch of %d data requests failed", len(batch))
            for item in batch:
                if item.future is not None and item.loop is not None:
                    item.loop.call_soon_threadsafe(_fail, item.future, exc)
            return
        if written < len(closes):
            late = len(closes) - written
            logger.warning("%d usage records were sealed before their outcome", late)
        for close in closes:
            if close.future is not None and close.loop is not None:
                close.loop.call_soon_threadsafe(_settle, close.future, None, self)
        for admit, result in zip(admits, results, strict=True):
            admit.loop.call_soon_threadsafe(_settle, admit.future, result, self)

    def abandoned(self, admission: Admission) -> None:
        """A request admitted after its client went away: close its record as such."""
        if not admission.decision.permitted:
            return
        took = int((time.monotonic() - admission.request.clock_start) * 1000)
        closing = metering.Closing(admission.record_id, "client_gone", CLIENT_CLOSED, 0, 0, took)
        with contextlib.suppress(RuntimeError):  # stopped: the record stays unknown (counted)
            self._put(_Close(closing, None, None))


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _settle(future: asyncio.Future[Any], result: Any, committer: Committer) -> None:
    if future.cancelled():  # the request was dropped while its admission was being written
        if isinstance(result, Admission):
            committer.abandoned(result)
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
