"""One metadata source, many views of it: the metadata model (``core.model``: package.yaml
plus the Table Schemas) generates ``datapackage.json``, the data dictionary,
``CITATION.cff`` and the JSON-LD file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from newstables.checksums import sha256_file
from newstables.core.model import Field, Model, Package, Resource
from newstables.core.parts import DEFAULT_PARTITION, PARTITION_FIELD, table_folder
from newstables.project import DUCKDB_FILE, parquet_files, parquet_path, published_csv, schema_path

DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"


def file_stats(path: Path) -> dict[str, Any]:
    """Byte count and prefixed SHA-256 hash of a file, as Data Package v2 writes them."""
    return {"bytes": path.stat().st_size, "hash": f"sha256:{sha256_file(path)}"}


def csv_resource(entry: Resource, staging: Path) -> dict[str, Any]:
    """The datapackage resource describing a table's CSV file (``data/<table>.csv``, or
    ``data/<table>.csv.gz`` with ``compression: gz`` for a table published compressed)."""
    name = entry.name
    path = published_csv(staging, name)
    compressed = {"compression": "gz"} if path.name.endswith(".gz") else {}
    return {
        "name": name,
        "type": "table",
        "path": path.as_posix(),
        "scheme": "file",
        "format": "csv",
        **compressed,
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": entry.title,
        "description": entry.description,
        **file_stats(staging / path),
        "schema": schema_path(name).as_posix(),
    }


def concatenated_stats(staging: Path, paths: Sequence[Path]) -> dict[str, Any]:
    """Bytes and hash of the files of a multipart resource, read one after the other (what
    Data Package v2 and Frictionless check for a resource whose ``path`` is a list)."""
    digest = hashlib.sha256()
    for path in paths:
        with (staging / path).open("rb") as handle:
            while chunk := handle.read(2**20):
                digest.update(chunk)
    size = sum((staging / path).stat().st_size for path in paths)
    return {"bytes": size, "hash": f"sha256:{digest.hexdigest()}"}


def parts_listing(staging: Path, paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The ``parts`` extension property: every part's path, bytes and hash (Data Package v2
    has one hash per resource; this lets a reader check, fetch or replace one part alone)."""
    return [{"path": p.as_posix(), **file_stats(staging / p)} for p in paths]


def parquet_resource(entry: Resource, staging: Path) -> dict[str, Any]:
    """The datapackage resource describing a table's Parquet file, or its parts.

    A partitioned table (see ``core.parts``) is one resource whose ``path`` lists its parts
    (Data Package v2 multipart; ``bytes`` and ``hash`` are those of the parts read in order)
    plus two extension properties: ``parts`` (each part's own path, bytes and hash) and
    ``partitioning`` (how the folders are named and what their value means).
    """
    name = entry.name
    csv = published_csv(staging, name).as_posix()
    files = parquet_files(staging, name) if entry.partition else [parquet_path(name)]
    resource: dict[str, Any] = {
        "name": f"{name}-parquet",
        # Frictionless reads Parquet through pandas and cannot then count its bytes or
        # hash it; as a "file" resource both are checked. Its rows are checked against
        # the CSV by the build (validate.check_formats_agree).
        "type": "file",
        "path": files[0].as_posix(),
        "scheme": "file",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "title": f"{entry.title} (Parquet)",
        "description": f"The same rows as {csv}, typed, in Apache Parquet.",
        **file_stats(staging / files[0]),
    }
    if entry.partition:
        folder = table_folder(name).as_posix()
        resource["path"] = [p.as_posix() for p in files]
        resource["description"] = (
            f"The same rows as {csv}, typed, in Apache Parquet, partitioned hive-style by the "
            f"publication year of each row's document: {folder}/{PARTITION_FIELD}=<YYYY>/part-<n>.parquet, "
            f"rows sorted by document_id then primary key. Read the folder with hive partitioning "
            f"to get the {PARTITION_FIELD} column."
        )
        resource.update(concatenated_stats(staging, files))
        resource["partitioning"] = {
            "style": "hive",
            "folder": folder,
            "field": PARTITION_FIELD,
            "type": "integer",
            "source": "documents.date_published (year), joined on document_id",
            "null_partition": DEFAULT_PARTITION,
            "null_means": "no document (external rows) or a document without a publication date",
        }
        resource["parts"] = parts_listing(staging, files)
    return resource


def duckdb_resource(staging: Path) -> dict[str, Any]:
    """The datapackage resource describing the DuckDB database file."""
    return {
        "name": "database",
        "type": "file",
        "path": DUCKDB_FILE.as_posix(),
        "scheme": "file",
        "format": "duckdb",
        "mediatype": "application/vnd.duckdb",
        "title": "DuckDB database",
        "description": "Every table with its keys, constraints and comments, and the convenience "
        "views; written in a storage format that DuckDB 1.x and 2.x open.",
        **file_stats(staging / DUCKDB_FILE),
    }


def file_resource(staging: Path, path: Path, **fields: str) -> dict[str, Any]:
    """A datapackage ``file`` resource (name, format, mediatype, title, description given as
    keywords) for a file written under ``staging``, with its bytes and hash."""
    return {
        "name": fields["name"],
        "type": "file",
        "path": path.as_posix(),
        "scheme": "file",
        **{k: v for k, v in fields.items() if k != "name"},
        **file_stats(staging / path),
    }


def datapackage(
    model: Model, staging: Path, extra_resources: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The Data Package v2 descriptor of the release, with file sizes and hashes;
    ``extra_resources`` (the reader formats: SQLite, Excel, the provenance page) come last."""
    package, entries = model.package, model.resources
    return {
        "$schema": DATAPACKAGE_PROFILE,
        "name": package.name,
        "title": package.title,
        "description": package.description,
        "version": package.version,
        "created": package.created,
        "keywords": list(package.keywords),
        "licenses": list(package.licenses),
        "contributors": list(package.contributors),
        "sources": list(package.sources),
        "resources": [csv_resource(e, staging) for e in entries]
        + [parquet_resource(e, staging) for e in entries]
        + [duckdb_resource(staging)]
        + list(extra_resources),
    }


def datapackage_json(model: Model, staging: Path, extra_resources: Sequence[dict[str, Any]] = ()) -> str:
    """``datapackage.json`` text: stable key order, UTF-8, two-space indent, final newline."""
    return json.dumps(datapackage(model, staging, extra_resources), indent=2, ensure_ascii=False) + "\n"


def release_date(package: Package | dict[str, Any]) -> str:
    """The release date ``YYYY-MM-DD``: the date part of ``created`` (never the clock).

    Takes the model's :class:`Package` or its plain form (``Package.as_dict()``).
    """
    return package.release_date if isinstance(package, Package) else str(package["created"])[:10]


def _cff_author(contributor: dict[str, Any]) -> dict[str, str]:
    """A CFF author: a person (given/family names) or an entity (name)."""
    if contributor.get("familyName"):
        person = {"family-names": str(contributor["familyName"])}
        if contributor.get("givenName"):
            person["given-names"] = str(contributor["givenName"])
        return person
    return {"name": str(contributor["title"])}


def _authors(package: Package) -> list[dict[str, Any]]:
    """Contributors credited as authors: creators/authors, or everyone when none is."""
    contributors = list(package.contributors)
    credited = [c for c in contributors if {"creator", "author"} & set(c.get("roles", []))]
    return credited or contributors


def citation_cff(package: Package) -> str:
    """``CITATION.cff`` (Citation File Format 1.2.0, type dataset) from ``package.yaml``."""
    import yaml

    cff: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": package.title,
        "version": package.version,
        "date-released": package.release_date,
        "abstract": package.description,
        "authors": [_cff_author(c) for c in _authors(package)] or [{"name": package.name}],
        "keywords": list(package.keywords),
    }
    if package.licenses:
        cff["license"] = package.licenses[0].get("name") or package.licenses[0].get("path")
    if package.homepage:
        cff["url"] = package.homepage
    text: str = yaml.safe_dump(cff, sort_keys=False, allow_unicode=True, width=100)
    return text


def _schema_org_agent(contributor: dict[str, Any]) -> dict[str, str]:
    """A schema.org Person or Organization from a Data Package contributor."""
    if contributor.get("familyName"):
        name = " ".join(str(contributor[k]) for k in ("givenName", "familyName") if contributor.get(k))
        return {"@type": "Person", "name": name}
    return {"@type": "Organization", "name": str(contributor["title"])}


def _distribution(resource: dict[str, Any]) -> dict[str, Any]:
    """A schema.org DataDownload describing one datapackage resource file."""
    entry: dict[str, Any] = {
        "@type": "DataDownload",
        "name": resource["name"],
        "contentUrl": resource["path"],
        "encodingFormat": resource.get("mediatype", "application/octet-stream"),
    }
    digest = str(resource.get("hash", ""))
    if digest.startswith("sha256:"):
        entry["sha256"] = digest.removeprefix("sha256:")
    if "bytes" in resource:
        entry["contentSize"] = f"{resource['bytes']} B"
    return entry


def _files_of(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per file of a resource: the resource itself, or each of its ``parts``, named
    ``<resource>/<year=...>/part-<n>.parquet`` after its path under the table's folder."""
    parts = resource.get("parts")
    if not isinstance(parts, list):
        return [resource]
    folder = str(resource.get("partitioning", {}).get("folder", ""))
    return [
        {
            **{k: v for k, v in resource.items() if k in ("mediatype",)},
            "name": f"{resource['name']}/{str(part['path']).removeprefix(folder + '/')}",
            "path": part["path"],
            "bytes": part["bytes"],
            "hash": part["hash"],
        }
        for part in parts
    ]


def jsonld(package: Package, datapackage_dict: dict[str, Any]) -> str:
    """``datapackage.jsonld``: a schema.org Dataset with one distribution per resource file."""
    document: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": package.title,
        "alternateName": package.name,
        "description": package.description,
        "version": package.version,
        "datePublished": package.release_date,
        "keywords": list(package.keywords),
        "license": [lic.get("path") or lic["name"] for lic in package.licenses],
        "creator": [_schema_org_agent(c) for c in _authors(package)],
        "isBasedOn": [
            {"@type": "CreativeWork", "name": s.get("title", ""), "url": s.get("path", "")}
            for s in package.sources
        ],
        "distribution": [
            _distribution(part) for r in datapackage_dict.get("resources", []) for part in _files_of(r)
        ],
    }
    if package.homepage:
        document["url"] = package.homepage
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell (no pipes, no line breaks)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _constraints_text(spec: Field) -> str:
    """A field's constraints other than ``required``, as short Markdown, in declared order."""
    texts = {
        "unique": "unique",
        "enum": "one of " + ", ".join(f"`{v}`" for v in spec.enum or ()),
        "pattern": f"pattern `{spec.pattern}`",
        "minimum": f"minimum {spec.minimum}",
        "maximum": f"maximum {spec.maximum}",
    }
    declared = spec.to_frictionless().get("constraints", {})
    return "; ".join(texts[key] for key in declared if key in texts and declared[key] is not False)


def _table_section(entry: Resource) -> list[str]:
    """The data-dictionary section of one table."""
    lines = [
        f"## {entry.name}: {entry.title}",
        "",
        _cell(entry.description),
        "",
        "Primary key: " + ", ".join(f"`{k}`" for k in entry.primary_key),
        "",
    ]
    for fk in entry.foreign_keys:
        lines.append(
            f"- Foreign key: {', '.join(fk.fields)} → {fk.resource} ({', '.join(fk.reference_fields)})"
        )
    if entry.foreign_keys:
        lines.append("")
    lines += ["| name | type | required | description | constraints |", "|---|---|---|---|---|"]
    for spec in entry.fields:
        required = "yes" if spec.required else "no"
        lines.append(
            f"| `{spec.name}` | {spec.type} | {required} | "
            f"{_cell(spec.description)} | {_cell(_constraints_text(spec))} |"
        )
    return [*lines, ""]


def data_dictionary(model: Model) -> str:
    """``docs/data-dictionary.md``: every table and field, from the metadata model."""
    lines = [
        f"# Data dictionary: {model.package.title}",
        "",
        f"Version {model.package.version}, released {model.package.release_date}. Generated from "
        "`schemas/package.yaml` and the Table Schemas in `schemas/`; edit those, not this file.",
        "",
    ]
    for entry in model.resources:
        lines += _table_section(entry)
    return "\n".join(lines).rstrip("\n") + "\n"
