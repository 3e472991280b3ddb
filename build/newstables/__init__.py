"""newstables: a news article as a versioned, provenance-checked data release.

The build runs five stages, one module each:
read (``read``) -> resolve evidence (``evidence``) -> build tables (``tables``)
-> validate (``validate``) -> publish (``publish``).
"""

import os
import sys

__version__ = "0.1.0"

# DuckDB's allocator (the jemalloc its Linux library bundles) fills the memory it hands out with a
# fixed byte when asked before DuckDB loads: the unused ends of dictionary-compressed string
# segments then hold that byte instead of leftover memory, and a large release's DuckDB file is
# the same bytes from run to run (``sql.reproducible_connection``, which checks that the filling
# is on before it compresses anything). A setting the environment already has is kept.
if "_duckdb" not in sys.modules:
    os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", "junk:true")
