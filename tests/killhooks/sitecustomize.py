"""Kill hook for tests/test_kill.py, loaded only when that test puts this folder on PYTHONPATH.

It wraps ``os.replace`` and ``os.unlink`` and sends SIGKILL to its own process just before
the call named by the environment: ``NEWSTABLES_KILL_OP`` (``replace`` or ``unlink``) on a
path matching the glob ``NEWSTABLES_KILL_PATH`` (the destination of a rename, or the file
removed). No hook lives in production code.
"""

from __future__ import annotations

import fnmatch
import os
import signal
from typing import Any

_OP = os.environ.get("NEWSTABLES_KILL_OP", "")
_PATH = os.environ.get("NEWSTABLES_KILL_PATH", "")


def _kill_if(op: str, path: Any) -> None:
    if op == _OP and fnmatch.fnmatchcase(os.path.abspath(os.fsdecode(path)), _PATH):
        os.kill(os.getpid(), signal.SIGKILL)


if _OP and _PATH:
    _replace, _unlink = os.replace, os.unlink

    def _killing_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        _kill_if("replace", dst)
        _replace(src, dst, *args, **kwargs)

    def _killing_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        _kill_if("unlink", path)
        _unlink(path, *args, **kwargs)

    os.replace = _killing_replace
    os.unlink = _killing_unlink
