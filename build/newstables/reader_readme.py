"""The README inside a release, written for the people who download it: what the data is and
its caveats, the tables and how they join, how to open every format with or without the
tool, the example queries, how to check the files, how to install the tool, how to cite.

Everything comes from the metadata (``schemas/package.yaml``, the Table Schemas, the example
queries in ``schemas/queries.yaml``) and the descriptor of the built release (file sizes),
never from the developers' README.
"""

from __future__ import annotations

from typing import Any

SUMS = "SHA256SUMS"
DUCKDB_VERSIONS = "DuckDB 1.2 or later (checked with 1.4.4 and 2.0.0)"
DATASETTE_PIN = "datasette==0.65.5"

# Release paths -> what a reader finds there (paths of the reader formats are fixed).
FILE_NOTES = {
    "csv": "one CSV per table: UTF-8 (no BOM), comma, header row, LF line ends, rows sorted by key",
    "parquet": "the same rows, typed (dates, booleans, integers), in Apache Parquet",
    "duckdb": f"every table with keys, constraints, comments and the views; opens in {DUCKDB_VERSIONS}",
    "sqlite": "every table with keys, the views and full-text search (FTS5); for Datasette and any "
    "SQLite client",
    "xlsx": "Excel workbook: a README sheet describing every column, then one sheet per table",
    "html": "the provenance page: the article with every evidence span highlighted; open it in a browser",
    "json": "Datasette metadata: titles, descriptions, licence, source and the example queries",
}


def human_size(size: int) -> str:
    """A byte count as people read it (KB and MB are 1000-based, as file managers show)."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.2f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.1f} KB"
    return f"{size} B"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _paragraph(text: Any) -> str:
    return " ".join(str(text or "").split())


def header(metadata: dict[str, Any]) -> list[str]:
    """Title, version, date and what the data is."""
    return [
        f"# {metadata['title']}",
        "",
        f"Version {metadata['version']}, released {str(metadata['created'])[:10]}.",
        "",
        _paragraph(metadata.get("description")),
        "",
        "Open [`viewer/index.html`](viewer/index.html) in a browser to see every row where it comes "
        "from in the article; [`validation/report/index.html`](validation/report/index.html) lists "
        "every check the release passed.",
        "",
    ]


def caveats(metadata: dict[str, Any]) -> list[str]:
    """The caveats every reader must know, from package.yaml."""
    items = metadata.get("caveats") or []
    if not items:
        return []
    return ["## Before you use it: caveats", "", *(f"- {_paragraph(c)}" for c in items), ""]


def files_section(descriptor: dict[str, Any]) -> list[str]:
    """What is in the release: the formats with their sizes, then the documents."""
    by_format: dict[str, list[dict[str, Any]]] = {}
    for resource in descriptor.get("resources", []):
        by_format.setdefault(str(resource.get("format", "")), []).append(resource)
    lines = ["## What is in this release", "", "| path | what | size |", "|---|---|---|"]
    for fmt, note in FILE_NOTES.items():
        resources = by_format.get(fmt, [])
        if not resources:
            continue
        size = human_size(sum(int(r.get("bytes", 0)) for r in resources))
        if fmt == "csv":
            compressed = sum(1 for r in resources if str(r.get("path", "")).endswith(".gz"))
            gz = f", {compressed} of them gzip-compressed `data/<table>.csv.gz`" if compressed else ""
            path = f"`data/<table>.csv` ({len(resources)} files{gz})"
        elif fmt == "parquet":
            files = sum(len(r.get("parts", [r])) for r in resources)
            partitioned = sum(1 for r in resources if "parts" in r)
            parts = (
                f"; {partitioned} tables as parts `data/parquet/<table>/year=<YYYY>/part-<n>.parquet`"
                if partitioned
                else ""
            )
            path = f"`data/parquet/<table>.parquet` ({files} files{parts})"
        else:
            path = f"[`{resources[0]['path']}`]({resources[0]['path']})"
        lines.append(f"| {path} | {note} | {size} |")
    lines += [
        "| `datapackage.json` | Data Package v2 descriptor: every file above with its size and SHA-256 | |",
        "| `schemas/` | the Table Schemas (types, keys, constraints); `docs/data-dictionary.md` explains "
        "every column | |",
        "| `data/articles/<document_id>/` | each article of the corpus byte for byte (`article.txt`) and "
        "its `meta.yaml`; table `documents` lists them (outlet, date, sha256) | |",
        "| `data/raw/` | the checked external facts | |",
        f"| `{SUMS}` | SHA-256 of every other file | |",
        "| `CHANGELOG.md`, `CITATION.cff`, `datapackage.jsonld` | what changed, how to cite, schema.org "
        "metadata | |",
        "",
    ]
    return lines


def tables_section(
    metadata: dict[str, Any], schemas: dict[str, dict[str, Any]], counts: dict[str, int]
) -> list[str]:
    """The tables, their keys and how they join."""
    lines = ["## The tables and how they join", "", "| table | rows | key | what |", "|---|---|---|---|"]
    for entry in metadata["resources"]:
        name = entry["name"]
        key = ", ".join(f"`{k}`" for k in schemas.get(name, {}).get("primaryKey", []))
        lines.append(f"| `{name}` | {counts.get(name, 0)} | {key} | {_cell(entry.get('description', ''))} |")
    lines += ["", "Joins (foreign keys; each is checked at build):", ""]
    for entry in metadata["resources"]:
        for fk in schemas.get(entry["name"], {}).get("foreignKeys", []):
            ref = fk["reference"]
            target = ref["resource"] or entry["name"]
            pairs = ", ".join(
                f"`{entry['name']}.{a}` → `{target}.{b}`"
                for a, b in zip(fk["fields"], ref["fields"], strict=False)
            )
            lines.append(f"- {pairs}")
    lines += [
        "",
        "Every table of facts has the evidence columns `evidence_source_id`, `document_id`, "
        "`char_start`, `char_end`, `prefix`, `excerpt`, `suffix` and `is_external`: `excerpt` is "
        "exactly the characters `[char_start, char_end)` (Unicode code points, from 0) of the "
        "document named by `document_id`, or the row is `is_external` and rests on the external "
        "reference it names; `document_id` lets every table be counted or filtered per article. "
        "The DuckDB and SQLite files also have the views "
        "`statements_by_speaker`, `timeline`, `external_facts`, `who_said_what_about_whom`, "
        "`event_articles`, `rows_per_document` and `resolved_redirects` (the DuckDB file stores "
        "`statements_by_speaker`, `timeline`, `who_said_what_about_whom` and `rows_per_document` "
        "as derived tables, computed from the published tables by the build; the Parquet files "
        "carry only the published tables); an id of an earlier release resolves through "
        "`redirects` (in DuckDB: `SELECT resolve_id('actors', 'old-id')`).",
        "",
    ]
    return lines


def opening_section() -> list[str]:
    """How to open each format, with and without the tool."""
    return [
        "## Open it",
        "",
        "### DuckDB",
        "",
        f"The database file opens in {DUCKDB_VERSIONS}.",
        "",
        "```sh",
        "duckdb -readonly data/newstables.duckdb",
        "```",
        "",
        "```python",
        "import duckdb",
        'con = duckdb.connect("data/newstables.duckdb", read_only=True)',
        'con.sql("SELECT speaker, text FROM statements_by_speaker").show()',
        "```",
        "",
        "DuckDB 1.0 and 1.1 cannot open this file; they read the Parquet files: "
        "`SELECT * FROM 'data/parquet/actors.parquet'`.",
        "",
        "### pandas",
        "",
        "```python",
        "import pandas as pd",
        "import pyarrow.dataset as ds",
        'votes = pd.read_parquet("data/parquet/votes.parquet")',
        "# a partitioned table: its folder of parts, with the `year` column (pd.read_parquet on the",
        "# folder refuses the NULL partition: 'Cannot yet unify dictionaries with nulls')",
        'statements = ds.dataset("data/parquet/statements", partitioning="hive").to_table().to_pandas()',
        "# or from CSV: keep empty cells empty and ids as text",
        'actors = pd.read_csv("data/actors.csv", keep_default_na=False, dtype=str)',
        "```",
        "",
        "### polars",
        "",
        "```python",
        "import polars as pl",
        'statements = pl.scan_parquet("data/parquet/statements", hive_partitioning=True)  # lazy',
        'actors = pl.read_csv("data/actors.csv", infer_schema=False)  # every column as text',
        "sql = pl.SQLContext(statements=statements)",
        'sql.execute("SELECT year, count(*) AS n FROM statements GROUP BY year").collect()',
        "```",
        "",
        "### Spark",
        "",
        "```python",
        "from pyspark.sql import SparkSession",
        'spark = SparkSession.builder.master("local[*]").getOrCreate()',
        'spark.read.parquet("data/parquet/statements").createOrReplaceTempView("statements")',
        'spark.read.parquet("data/parquet/actors.parquet").createOrReplaceTempView("actors")',
        'spark.sql("SELECT year, count(*) FROM statements GROUP BY year").show()',
        "```",
        "",
        "### R",
        "",
        "```r",
        'statements <- dplyr::collect(arrow::open_dataset("data/parquet/statements"))  # adds `year`',
        'votes <- arrow::read_parquet("data/parquet/votes.parquet")',
        'actors <- readr::read_csv("data/actors.csv", na = "", col_types = readr::cols(.default = "c"))',
        "# or SQL on the database file",
        'con <- DBI::dbConnect(duckdb::duckdb(), "data/newstables.duckdb", read_only = TRUE)',
        'DBI::dbGetQuery(con, "SELECT * FROM timeline")',
        "```",
        "",
        "### Excel",
        "",
        "Open [`data/newstables.xlsx`](data/newstables.xlsx): a README sheet describes every column, "
        "then one sheet per table with a frozen, filterable header row, real dates and TRUE/FALSE "
        "values. Every text is stored as text, also one that starts with `=`, `+`, `-` or `@`.",
        "",
        "To import a CSV instead, do not double-click it (Excel would read the UTF-8 file in your "
        "local code page and show `China’s` as `Chinaâ€™s`): in Excel choose **Data > From Text/CSV**, "
        "pick the file, set **File Origin** to **65001: Unicode (UTF-8)** and **Delimiter** to "
        "**Comma**, then **Transform Data** and set the id columns to Text (or simply **Load**).",
        "",
        "### Datasette and SQLite",
        "",
        "```sh",
        f'pip install "{DATASETTE_PIN}"',
        "datasette data/newstables.sqlite --metadata datasette/metadata.json",
        "# then open http://127.0.0.1:8001/ — or, without a server:",
        "sqlite3 -readonly data/newstables.sqlite 'SELECT speaker, text FROM statements_by_speaker'",
        "```",
        "",
        "Datasette shows every table and column with its description, a search box on "
        "`statements` and `actor_mentions` (SQLite FTS5 full-text search) and the example queries "
        "below as canned queries. In SQLite, booleans are 0/1 and dates ISO text (`YYYY-MM-DD`).",
        "",
        "### The provenance page",
        "",
        "Open [`viewer/index.html`](viewer/index.html) in any browser; it needs no network and no "
        "server. Every evidence span of the article is highlighted in its table's colour; click a "
        "span to list the rows resting on it, click a row to see its fields and its span. "
        "Corrections and fidelity warnings are marked where they apply.",
        "",
    ]


def parts_section(descriptor: dict[str, Any]) -> list[str]:
    """How the partitioned tables are laid out and read (nothing when no table is)."""
    partitioned = [r for r in descriptor.get("resources", []) if isinstance(r.get("parts"), list)]
    if not partitioned:
        return []
    names = ", ".join(f"`{str(r['name']).removesuffix('-parquet')}`" for r in partitioned)
    return [
        "## Partitioned tables",
        "",
        f"The Parquet copies of {names} are folders of parts, hive-style, by the publication year "
        "of each row's document (`documents.date_published`, joined on `document_id`): "
        "`data/parquet/<table>/year=<YYYY>/part-<n>.parquet`, rows sorted by `document_id` and then "
        "the primary key. Rows without a document (external rows) and rows of a document without "
        "a date are in `year=__HIVE_DEFAULT_PARTITION__`, which DuckDB 2.x, Polars and Spark read "
        "as NULL. The `year` column is in the folder names only: read the folder with hive "
        "partitioning to get it. `datapackage.json` lists every part with its bytes and SHA-256 "
        "(`parts`); the CSV file of the table holds the same rows in one file.",
        "",
        "```sql",
        "-- DuckDB 2.x",
        "SELECT year, count(*) FROM read_parquet('data/parquet/statements/*/*.parquet', "
        "hive_partitioning = true) GROUP BY year ORDER BY year;",
        "-- DuckDB 1.x reads the NULL partition as the text '__HIVE_DEFAULT_PARTITION__' (and `year` "
        "as text):",
        "SELECT * REPLACE (CAST(NULLIF(year, '__HIVE_DEFAULT_PARTITION__') AS BIGINT) AS year)",
        "FROM read_parquet('data/parquet/statements/*/*.parquet', hive_partitioning = true);",
        "```",
        "",
    ]


def queries_section(queries: list[dict[str, Any]]) -> list[str]:
    """The example queries (each runs on the DuckDB and the SQLite file unless marked)."""
    if not queries:
        return []
    lines = [
        "## Example queries",
        "",
        "Each query runs as is in DuckDB (`duckdb -readonly data/newstables.duckdb`) and in SQLite "
        "or Datasette, unless marked; the test suite runs every one on both files.",
        "",
    ]
    for query in queries:
        only = "" if len(query["engines"]) > 1 else f" ({query['engines'][0]} only)"
        lines += [f"**{query['title']}**{only}: {_paragraph(query['description'])}", ""]
        lines += ["```sql", query["sql"].strip(), "```", ""]
    return lines


def checking_section() -> list[str]:
    """How to check the files, with and without the tool, and what is byte-reproducible."""
    return [
        "## Check the files",
        "",
        f"Every file is listed in `{SUMS}` with its SHA-256. In the release folder:",
        "",
        "```sh",
        f"sha256sum -c {SUMS}            # Linux; on macOS: shasum -a 256 -c {SUMS}",
        "newstables verify .               # or: newstables verify newstables-<version>.zip",
        "```",
        "",
        "On Windows, `Get-FileHash data\\newstables.xlsx -Algorithm SHA256` in PowerShell prints "
        "a file's hash to compare with its line in `SHA256SUMS`.",
        "",
        "`newstables verify` also checks each file's size and hash against `datapackage.json`, "
        "every CSV header against its Table Schema, the row counts, that CSV, Parquet and the "
        "DuckDB file hold the same rows, every excerpt against its offsets in the article, and "
        "the whole package with Frictionless; it exits non-zero naming each problem.",
        "",
        "**Byte-reproducible:** every file of the release. The same inputs, built with the same "
        "pinned tool versions, give the same bytes for the CSV, Parquet, DuckDB (written with one "
        "thread, uncompressed), SQLite (fixed page size, vacuumed), Excel (fixed document "
        "date), the provenance page, Datasette's metadata, `datapackage.json`, the documents and "
        "the `.zip`/`.tar.gz` archives; the project's test suite rebuilds and compares the bytes. "
        "Across tool versions the DuckDB, SQLite and Excel bytes may change (each library writes "
        "its own version or layout), so for those the check is by content: the build and "
        "`verify` compare CSV, Parquet and DuckDB row by row, and the test suite compares the "
        "SQLite file and the workbook with the DuckDB file.",
        "",
    ]


def install_section(metadata: dict[str, Any]) -> list[str]:
    """How to install the ``newstables`` tool (only needed for ``verify``, ``diff``, ``query``)."""
    where = metadata.get("homepage") or "the project's repository"
    return [
        "## Install the tool",
        "",
        "You need none of it to use the data. The `newstables` command (verify, diff, query) is a "
        f"Python 3.11 package; in a clone of {where}:",
        "",
        "```sh",
        "python3.11 -m venv .venv",
        ".venv/bin/pip install -r requirements.lock",
        ".venv/bin/pip install --no-deps .",
        ".venv/bin/newstables verify path/to/this/release",
        "```",
        "",
    ]


def citation_section(metadata: dict[str, Any]) -> list[str]:
    """How to cite: one plain reference and a pointer to CITATION.cff."""
    contributors = metadata.get("contributors") or []
    credited = [c for c in contributors if {"creator", "author"} & set(c.get("roles", []))] or contributors
    authors = ", ".join(str(c.get("title", "")) for c in credited) or str(metadata["name"])
    year = str(metadata["created"])[:4]
    link = f" {metadata['homepage']}" if metadata.get("homepage") else ""
    return [
        "## Cite",
        "",
        f"{authors} ({year}). *{_paragraph(metadata['title'])}* (version {metadata['version']}) "
        f"[Data set].{link}",
        "",
        "`CITATION.cff` has the same in Citation File Format (GitHub and Zenodo read it). Cite the "
        "version you used: a version is never overwritten, and `CHANGELOG.md` says what changed.",
        "",
    ]


def licence_section(metadata: dict[str, Any]) -> list[str]:
    """The one Licence section: the data licences, then any further rights note."""
    lines = ["## Licence", ""]
    for licence in metadata.get("licenses", []):
        title = licence.get("title") or licence["name"]
        path = f" — {licence['path']}" if licence.get("path") else ""
        lines.append(f"- {licence['name']}: {title}{path}")
    if metadata.get("rights"):
        lines += ["", _paragraph(metadata["rights"])]
    return [*lines, ""]


def reader_readme(
    metadata: dict[str, Any],
    schemas: dict[str, dict[str, Any]],
    descriptor: dict[str, Any],
    counts: dict[str, int],
    queries: list[dict[str, Any]],
) -> str:
    """README.md of a release, for its readers.

    Example: ``reader_readme(metadata, schemas, descriptor, {"statements": 24}, queries)``.
    """
    lines = [
        *header(metadata),
        *caveats(metadata),
        *files_section(descriptor),
        *tables_section(metadata, schemas, counts),
        *opening_section(),
        *parts_section(descriptor),
        *queries_section(queries),
        *checking_section(),
        *install_section(metadata),
        *citation_section(metadata),
        *licence_section(metadata),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
