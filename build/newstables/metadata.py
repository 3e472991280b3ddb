"""One metadata source, many views of it: ``schemas/package.yaml`` plus the Table Schemas
generate ``datapackage.json``, the data dictionary, ``CITATION.cff`` and the JSON-LD file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from newstables.checksums import sha256_file
from newstables.project import csv_path, parquet_path, schema_path

DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"


def file_stats(path: Path) -> dict[str, Any]:
    """Byte count and prefixed SHA-256 hash of a file, as Data Package v2 writes them."""
    return {"bytes": path.stat().st_size, "hash": f"sha256:{sha256_file(path)}"}


def csv_resource(entry: dict[str, Any], staging: Path) -> dict[str, Any]:
    """The datapackage resource describing a table's CSV file."""
    name = entry["name"]
    return {
        "name": name,
        "type": "table",
        "path": csv_path(name).as_posix(),
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": entry["title"],
        "description": entry["description"],
        **file_stats(staging / csv_path(name)),
        "schema": schema_path(name).as_posix(),
    }


def parquet_resource(entry: dict[str, Any], staging: Path) -> dict[str, Any]:
    """The datapackage resource describing a table's Parquet file."""
    name = entry["name"]
    return {
        "name": f"{name}-parquet",
        # Frictionless reads Parquet through pandas and cannot then count its bytes or
        # hash it; as a "file" resource both are checked. Its rows are checked against
        # the CSV by the build (validate.check_formats_agree).
        "type": "file",
        "path": parquet_path(name).as_posix(),
        "scheme": "file",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "title": f"{entry['title']} (Parquet)",
        "description": f"The same rows as {csv_path(name).as_posix()}, typed, in Apache Parquet.",
        **file_stats(staging / parquet_path(name)),
    }


def datapackage(metadata: dict[str, Any], staging: Path) -> dict[str, Any]:
    """The Data Package v2 descriptor of the release, with file sizes and hashes."""
    entries = metadata["resources"]
    return {
        "$schema": DATAPACKAGE_PROFILE,
        "name": metadata["name"],
        "title": metadata["title"],
        "description": metadata["description"],
        "version": metadata["version"],
        "created": metadata["created"],
        "keywords": metadata["keywords"],
        "licenses": metadata["licenses"],
        "contributors": metadata["contributors"],
        "sources": metadata["sources"],
        "resources": [csv_resource(e, staging) for e in entries]
        + [parquet_resource(e, staging) for e in entries],
    }


def datapackage_json(metadata: dict[str, Any], staging: Path) -> str:
    """``datapackage.json`` text: stable key order, UTF-8, two-space indent, final newline."""
    return json.dumps(datapackage(metadata, staging), indent=2, ensure_ascii=False) + "\n"
