"""Allow ``python -m newstables``."""

from newstables.cli import run

run()
