"""Progress on long stages, and the wall time of each.

Bars (tqdm) go to standard error, and only when it is a terminal: never into a pipe, a log
or a test's captured output, never with ``--quiet`` and never with ``--json`` (the command
line turns them off). Each stage's wall time is kept in ``TIMINGS``; when the environment
names a file in ``NEWSTABLES_STAGE_TIMES`` the build writes them there as JSON (what
``benchmarks/bench_scale.py`` reads), so the figures come from the build itself.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
STAGE_TIMES_ENV = "NEWSTABLES_STAGE_TIMES"
TIMINGS: dict[str, float] = {}
_state = {"enabled": False}


def configure(quiet: bool) -> None:
    """Show bars from now on, unless ``quiet`` or standard error is not a terminal."""
    _state["enabled"] = not quiet and sys.stderr.isatty()


def enabled() -> bool:
    """True when bars are shown."""
    return _state["enabled"]


def track(items: Iterable[T], total: int | None, label: str, unit: str = "document") -> Iterator[T]:
    """Iterate ``items``, with a bar on standard error when bars are shown."""
    if not enabled():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=label, unit=unit, file=sys.stderr, leave=False, mininterval=0.5)


@contextmanager
def stage(label: str) -> Iterator[None]:
    """Time a stage (kept in ``TIMINGS``); say when it starts and ends when bars are shown."""
    if enabled():
        print(f"{label} …", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        yield
    finally:
        TIMINGS[label] = TIMINGS.get(label, 0.0) + time.perf_counter() - start
        if enabled():
            print(f"{label}: {TIMINGS[label]:.1f} s", file=sys.stderr, flush=True)


def write_timings() -> None:
    """Write the stage times to the file ``NEWSTABLES_STAGE_TIMES`` names, if any."""
    target = os.environ.get(STAGE_TIMES_ENV)
    if target:
        Path(target).write_text(json.dumps(TIMINGS, indent=2) + "\n", encoding="utf-8")
