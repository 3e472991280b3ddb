"""Allow ``python -m newstables``."""

from newstables.cli import main

main()
