"""The background sequencer `serve` runs: new evidence becomes leaves, then checkpoints.

Every server process may run one; the advisory lock (PostgreSQL) or the write lock (SQLite)
lets one sequence at a time, so running several is safe and survives any one dying.
"""

from __future__ import annotations

import logging
import threading
import time

from shuchang.domains.evidence import log
from shuchang.platform import Platform

logger = logging.getLogger("shuchang.evidence")


class Sequencer:
    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="evidence-sequencer", daemon=True)
        self._last_checkpoint = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def tick(self) -> int:
        """One round: sequence a batch; publish a checkpoint when due. Returns leaves added."""
        settings = self._platform.settings
        with self._platform.unit() as session:
            batch = log.sequence(session)
            added = batch.count
            due = time.monotonic() - self._last_checkpoint >= settings.checkpoint_interval_s
            due = due and batch.locked  # the process holding the lock publishes
            if due:
                signer = self._platform.log_signer
                log.publish_checkpoint(session, signer, signer.name)
        if due:
            self._last_checkpoint = time.monotonic()
        return added

    def _run(self) -> None:
        interval = self._platform.settings.sequencer_interval_ms / 1000
        while not self._stop.is_set():
            try:
                added = self.tick()
            except Exception:  # any failure: log it, keep the thread, try again next round
                logger.exception("sequencer round failed; retrying")
                added = 0
            if not added:
                self._stop.wait(interval)
