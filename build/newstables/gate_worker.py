"""The gate's worker process (``python -m newstables.gate_worker``), started by
``gate.GateWorker`` at the beginning of a build.

It imports Great Expectations at once (seconds of work that then overlap the build on the
other core), prints ``{"known": [...]}`` (the expectation types it implements), then
answers one JSON line per request ``{"database", "table", "expectations", "key"}`` with
``{"results": [...]}`` (the report rows of that frame's suite). It ends when its input
closes (the build ended, or died). It writes nothing but its answers; any failure is
answered as ``{"error": ...}`` and the build then runs the suite itself.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any


def serve(lines: Any, answer: Any) -> None:
    """Answer requests until the input ends."""
    from newstables.gate import _Validator, known_expectation_types

    answer({"known": sorted(known_expectation_types())})
    validators: dict[str, _Validator] = {}
    try:
        for line in lines:
            request = json.loads(line)
            database = str(request["database"])
            if database not in validators:
                validators[database] = _Validator(Path(database))
            checked = validators[database].check(request["table"], request["expectations"], request["key"])
            answer({"results": [row.__dict__ for row in checked]})
    finally:
        for validator in validators.values():
            validator.close()


def main() -> int:
    """Serve on stdin/stdout; exit 0 when the input closes."""

    def answer(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        sys.stdout.flush()

    try:
        serve(sys.stdin, answer)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the build falls back to running the suites itself
        with contextlib.suppress(BrokenPipeError):
            answer({"error": f"{type(exc).__name__}: {exc}"[:300]})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
