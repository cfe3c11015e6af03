"""`evaluate`'s progress lines on stderr."""

from __future__ import annotations

import sys
import time

PROGRESS_EVERY = 30.0  # seconds between evaluate's progress lines


class Progress:
    """A line on stderr every PROGRESS_EVERY seconds (and at the end): images done, rate and time
    left. A thesis-settings search takes minutes per image on a CPU; logs, CI and captured
    notebook output show no progress bar, so without this a run looks hung."""

    def __init__(self, what: str, total: int, enabled: bool = True) -> None:
        self.what, self.total, self.enabled, self.every = what, total, enabled and total > 0, PROGRESS_EVERY
        self.done, self.start = 0, time.perf_counter()
        self.last = self.start

    def __call__(self, n: int) -> None:
        """`n` more images done."""
        self.done += n
        now = time.perf_counter()
        if not self.enabled or (now - self.last < self.every and self.done < self.total):
            return
        self.last = now
        rate = (now - self.start) / self.done
        print(f"evaluate {self.what}: {self.done}/{self.total} images, {rate:.1f} s each, {rate * (self.total - self.done) / 60:.0f} min left", file=sys.stderr, flush=True)
