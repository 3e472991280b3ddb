"""The core layer every stage builds on: the typed metadata model (``core.model``) and the
CSV / Parquet readers and writers shared by publish, verify and diff (``core.formats``)."""
