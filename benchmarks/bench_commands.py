"""Benchmark: wall time of each release command on the real project, each in a fresh
interpreter (as a journalist runs them). Prints figures; asserts nothing.

Run with `make bench`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def timed(label: str, *args: str) -> float:
    """Run ``newstables ARGS`` in a new interpreter; print and return its wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "newstables", *args], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    print(f"  {label:<52} {seconds:6.2f} s")
    return seconds


def main() -> None:
    """Release the project, then time verify, diff and query against that release."""
    metadata = yaml.safe_load((ROOT / "schemas/package.yaml").read_text(encoding="utf-8"))
    base = f"{metadata['name']}-{metadata['version']}"
    with tempfile.TemporaryDirectory() as tmp:
        dist = Path(tmp) / "dist"
        print(f"commands on the real project ({base}):")
        timed(
            "release (build + gate + assemble + verify + archive)",
            "release",
            "-p",
            str(ROOT),
            "--dist",
            str(dist),
        )
        timed("verify folder", "verify", str(dist / base))
        timed("verify .zip", "verify", str(dist / f"{base}.zip"))
        timed("verify .tar.gz", "verify", str(dist / f"{base}.tar.gz"))
        timed("diff (release against the working build)", "diff", str(dist / base), str(ROOT))
        timed(
            "query (statements_by_speaker, table output)",
            "query",
            "SELECT speaker, text FROM statements_by_speaker",
            "--db",
            str(dist / base / "data/newstables.duckdb"),
        )


if __name__ == "__main__":
    main()
