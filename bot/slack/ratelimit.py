"""Per-user and per-channel sliding-window limits, so one person or one busy channel cannot starve
the answering workers (which are few and CPU-bound)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    """At most `per_user` questions per user and `per_channel` per channel in any `window_s` seconds."""

    def __init__(self, *, per_user: int, per_channel: int, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"user": per_user, "channel": per_channel}
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, *, user: str, channel: str) -> str | None:
        """Count a question; returns None if allowed, else which limit (`"user"` or `"channel"`) was hit.

        A refused question is not counted, so waiting out the window always works.
        """
        now = self.clock()
        keys = [("user", user), ("channel", channel)]
        with self._lock:
            for key in keys:
                hits = self._hits[key]
                while hits and now - hits[0] >= self.window_s:
                    hits.popleft()
                if len(hits) >= self.limits[key[0]]:
                    return key[0]
            for key in keys:
                self._hits[key].append(now)
        return None
