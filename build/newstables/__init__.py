"""newstables: a news article as a versioned, provenance-checked data release.

The build runs five stages, one module each:
read (``read``) -> resolve evidence (``evidence``) -> build tables (``tables``)
-> validate (``validate``) -> publish (``publish``).
"""

__version__ = "0.1.0"
