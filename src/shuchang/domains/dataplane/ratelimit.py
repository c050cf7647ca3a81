"""Per-agreement rate limit of one gateway process (限流): a token bucket per agreement.

The bucket holds at most one second's worth of requests (``rate``) and refills continuously,
so a client may burst ``rate`` requests and then keep ``rate`` per second. It lives in the
process (the event loop's thread only): with N gateway processes the space-wide ceiling is
N × rate, which is what the setting documents.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

MAX_BUCKETS = 100_000  # idle agreements' buckets beyond this are forgotten (they refill anyway)


class RateLimiter:
    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(rate)
        self._clock = clock
        self._buckets: OrderedDict[uuid.UUID, tuple[float, float]] = OrderedDict()

    def take(self, key: uuid.UUID) -> float:
        """Take one request from ``key``'s bucket: 0.0 if allowed, else seconds until one is."""
        now = self._clock()
        tokens, stamp = self._buckets.pop(key, (self.rate, now))
        tokens = min(self.rate, tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return 0.0 if allowed else (1.0 - tokens) / self.rate
