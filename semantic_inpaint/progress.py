"""Progress lines on stderr for runs without a terminal.

A thesis-settings search takes minutes a face on a CPU, and `evaluate` hours; logs, CI and a
notebook's captured output show no progress bar, so without these lines a run looks hung.
"""

from __future__ import annotations

import sys
import time

PROGRESS_EVERY = 30.0  # seconds between lines


class Progress:
    """A line on stderr every PROGRESS_EVERY seconds and at the end, once a line was printed:
    '{what}: {done}/{total} {unit}, {time} s each, {n} min left'. Call it with the number of
    units just done. `quiet_end`: no line at the end unless one came before (a search that
    ends within the interval says nothing)."""

    def __init__(self, what: str, total: int, unit: str, enabled: bool = True, quiet_end: bool = False) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.enabled, self.quiet_end = enabled and total > 0, quiet_end
        self.done, self.printed, self.start = 0, False, time.perf_counter()
        self.last = self.start

    def __call__(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        due = now - self.last >= PROGRESS_EVERY or (self.done >= self.total and (self.printed or not self.quiet_end))
        if not self.enabled or not due:
            return
        self.last, self.printed = now, True
        each = (now - self.start) / self.done
        seconds = f"{each:.0f}" if each >= 10 else f"{each:.2g}"  # 357, 0.7, 0.0051
        left = each * (self.total - self.done) / 60
        print(f"{self.what}: {self.done}/{self.total} {self.unit}, {seconds} s each, {left:.0f} min left", file=sys.stderr, flush=True)
