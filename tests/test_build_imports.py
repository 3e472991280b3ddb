"""What a seed build imports: neither pandas nor Great Expectations.

The seed's cold build has a budget of seconds (issue 9), and these two imports alone took
most of it: Great Expectations (2-4 s) now runs only when a suite needs it or a release is
cut, and pandas (0.5-2 s) came in through ``pa.array``/``pa.table`` on Python lists, which
the build no longer uses (``core.formats.arrow_table``, ``text_array``). A new import of
either on the build path fails here, in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from pathlib import Path
from newstables.pipeline import build
build(Path(sys.argv[1]))
print(json.dumps({m: m in sys.modules for m in ("pandas", "great_expectations")}))
"""


def test_a_seed_build_imports_neither_pandas_nor_great_expectations(repo_project: Path) -> None:
    environment = dict(os.environ, NEWSTABLES_GATE_WORKER="0")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(repo_project)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        cwd=repo_project,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert imported == {"pandas": False, "great_expectations": False}
