"""Progress for long runs: a bar on a terminal, a line on stderr every 30 s elsewhere.

A thesis-settings search takes minutes a face on a CPU, `evaluate` hours and a training run
longer; logs, CI and a notebook's captured output show no progress bar, so without these lines
a run looks hung.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

PROGRESS_EVERY = 30.0  # seconds between lines
# A line as Progress prints it, for tools that drop them from captured output (tools/store_notebooks.py)
LINE = re.compile(r"^[^:\n]+: \d+/\d+ \S+, [\d.e+-]+ s each, \d+ min left.*$")


class Progress:
    """A line on stderr every PROGRESS_EVERY seconds and at the end, once a line was printed:
    '{what}: {done}/{total} {unit}, {time} s each, {n} min left[, name value ...]'. Call it with
    the number of units just done (and, optionally, figures to show, such as losses). `initial`:
    units done before (a resumed run). `quiet_end`: no line at the end unless one came before (a
    search that ends within the interval says nothing; on a terminal its bar goes once done)."""

    def __init__(self, what: str, total: int, unit: str, enabled: bool = True, quiet_end: bool = False, initial: int = 0) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.enabled, self.quiet_end = enabled and total > initial, quiet_end
        self.done = self.initial = initial
        self.printed, self.start = False, time.perf_counter()
        self.last = self.start

    def __call__(self, n: int = 1, **figures: object) -> None:
        self.done += n
        now = time.perf_counter()
        due = now - self.last >= PROGRESS_EVERY or (self.done >= self.total and (self.printed or not self.quiet_end))
        if not self.enabled or not due:
            return
        self.last, self.printed = now, True
        each = (now - self.start) / (self.done - self.initial)
        seconds = f"{each:.0f}" if each >= 10 else f"{each:.2g}"  # 357, 0.7, 0.0051
        left = each * (self.total - self.done) / 60
        shown = "".join(f", {name} {value}" for name, value in figures.items())
        print(f"{self.what}: {self.done}/{self.total} {self.unit}, {seconds} s each, {left:.0f} min left{shown}", file=sys.stderr, flush=True)


@contextmanager
def shown(what: str, total: int, unit: str, progress: bool | None, initial: int = 0, quiet_end: bool = False) -> Iterator[Callable[..., None]]:
    """`advance(n=1, **figures)`, to call as units of work are done: with `progress=True`, or None
    on a terminal, it moves a tqdm bar (figures as its postfix); with None and no terminal (a
    log, CI, a notebook's captured output) it prints a `Progress` line every PROGRESS_EVERY
    seconds (figures at the end); with False it shows nothing."""
    if progress is None and not sys.stderr.isatty():
        yield Progress(what, total, unit, quiet_end=quiet_end, initial=initial)
        return
    with tqdm(total=total, initial=initial, disable=progress is False, desc=what, leave=not quiet_end) as bar:

        def advance(n: int = 1, **figures: object) -> None:
            bar.update(n)
            if figures:
                bar.set_postfix(figures, refresh=False)

        yield advance
