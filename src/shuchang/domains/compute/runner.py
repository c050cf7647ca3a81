"""Where jobs run (运行器): a small thread pool per platform process in front of the
sandbox pool, so the API can answer a small job synchronously (wait up to N seconds) and
let a large one finish in the background. The CLI runs jobs inline instead."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from shuchang.domains.compute.execution import Unit, run_job
from shuchang.domains.compute.sandbox import Sandbox, shared_sandbox
from shuchang.settings import Settings


@dataclass
class Runner:
    """Runs jobs on ``workers`` threads; ``cancel`` reaches a job running in this process
    at once (other processes see the database flag within half a second)."""

    unit: Unit
    settings: Settings
    sandbox: Sandbox
    _pool: ThreadPoolExecutor = field(init=False, repr=False)
    _cancels: dict[uuid.UUID, threading.Event] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.compute_workers, thread_name_prefix="compute"
        )

    def start(self, job_id: uuid.UUID) -> Future[None]:
        cancel = threading.Event()
        with self._lock:
            self._cancels[job_id] = cancel
        return self._pool.submit(self._run, job_id, cancel)

    def _run(self, job_id: uuid.UUID, cancel: threading.Event) -> None:
        try:
            run_job(self.unit, self.settings, self.sandbox, job_id, cancel)
        finally:
            with self._lock:
                self._cancels.pop(job_id, None)

    def cancel(self, job_id: uuid.UUID) -> None:
        with self._lock:
            event = self._cancels.get(job_id)
        if event is not None:
            event.set()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


_runners: dict[int, Runner] = {}
_runners_lock = threading.Lock()


def runner_for(unit: Unit, settings: Settings, key: int) -> Runner:
    """The runner of one platform (``key``: its identity), created on first use."""
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            sandbox = shared_sandbox(settings.compute_workers)
            runner = _runners[key] = Runner(unit, settings, sandbox)
        return runner
