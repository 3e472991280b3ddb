"""Publish format: ``viewer/index.html``, the provenance page.

One self-contained file (inline CSS and JavaScript, the data embedded as JSON, no network,
works from ``file://``): each article's text with every evidence span highlighted in the
colour of its table; clicking a span lists the rows resting on it, clicking a row shows its
fields and jumps to its span; a search box; corrections and fidelity warnings marked.

The text is cut into segments here, in Python, because evidence offsets count Unicode code
points and JavaScript strings count UTF-16 units. Every row with an excerpt becomes one
element carrying ``data-table`` and ``data-id``. The page is byte-reproducible.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from newstables.core.model import Package
from newstables.metadata import file_resource
from newstables.project import Project
from newstables.tables import Table

VIEWER_FILE = Path("viewer/index.html")
PALETTE = ["#ffd166", "#9ad1f5", "#b8e0a8", "#f7b2bd", "#d4bff9", "#ffc48c", "#a8e6e0", "#e0d39a"]
FIDELITY_OK = "paraphrased_copy"


def row_id(table: Table, row: dict[str, Any]) -> str:
    """The row's key as one string (composite keys joined with ``/``, as in ``external_facts``)."""
    return "/".join(str(row[k]) for k in table.primary_key)


def plain(value: Any) -> Any:
    """A cell as JSON: dates as ISO text, empty strings as null."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if value == "" else value


def corrections(tables: dict[str, Table]) -> dict[tuple[str, str], dict[str, str]]:
    """(table, id) -> the row's correction note, canonical name and name as written, for
    every row that has a correction note."""
    found = {}
    for table in tables.values():
        if "correction_note" in table.columns:
            for row in table.rows:
                if row["correction_note"]:
                    found[(table.name, row_id(table, row))] = {
                        "note": str(row["correction_note"]),
                        "canonical": str(row.get("canonical_name") or ""),
                        "written": str(row.get("name_as_written") or ""),
                    }
    return found


def garbles(excerpt: str, correction: dict[str, str]) -> bool:
    """True when an excerpt is one of the wrong forms a correction is about: not part of the
    canonical name, but quoted in the note or given as the name as written ("Haas", "Shi").
    A statement by a misnamed speaker is not itself garbled, so its span is not marked."""
    wrong_forms = correction["note"] + "\n" + correction["written"]
    return bool(excerpt) and excerpt not in correction["canonical"] and excerpt in wrong_forms


def row_notes(
    table: Table, row: dict[str, Any], corrected: dict[tuple[str, str], dict[str, str]]
) -> dict[str, Any]:
    """The warnings a reader must see with a row: its own correction or fidelity note, and
    the corrections of the rows it points to (a mention of a misnamed actor, say).

    ``corr`` marks the span when the correction is about these very characters (the row's
    own, or a garbled name of the row it points to); ``warn`` when the quotation's wording
    differs from the wire's."""
    notes: list[str] = []
    marked = False
    key = (table.name, row_id(table, row))
    excerpt = str(row.get("excerpt") or "")
    if key in corrected:
        notes.append(f"Correction: {corrected[key]['note']}")
        marked = True
    for fk in table.schema.get("foreignKeys", []):
        if len(fk["fields"]) == 1 and row.get(fk["fields"][0]):
            target = (fk["reference"]["resource"] or table.name, str(row[fk["fields"][0]]))
            if target in corrected and target != key:
                notes.append(f"Correction ({target[0]} {target[1]}): {corrected[target]['note']}")
                marked = marked or garbles(excerpt, corrected[target])
    fidelity = row.get("fidelity")
    if fidelity:
        text = f"Fidelity: {fidelity}"
        if row.get("fidelity_note"):
            text += f" — {row['fidelity_note']}"
        notes.append(text)
    return {"notes": notes, "warn": bool(fidelity and fidelity != FIDELITY_OK), "corr": marked}


def documents(project: Project, tables: dict[str, Table]) -> dict[str, dict[str, str]]:
    """The texts evidence points into, by document id: the ``documents`` rows (titled by the
    ``sources`` row of the same id when there is one), else ``sources`` rows with a local copy."""
    docs: dict[str, dict[str, str]] = {}
    sources = tables.get("sources")
    titles = {str(r["source_id"]): str(r["title"]) for r in sources.rows} if sources else {}
    listed = tables.get("documents")
    if listed is not None:
        candidates = [(str(r["document_id"]), r.get("path")) for r in listed.rows]
    else:
        candidates = [(str(r["source_id"]), r.get("path")) for r in (sources.rows if sources else [])]
    root = project.root.resolve()
    for doc_id, relative in candidates:
        if not relative:
            continue
        path = (root / str(relative)).resolve()
        if path.is_relative_to(root) and path.is_file():
            docs[doc_id] = {"title": titles.get(doc_id, doc_id), "text": path.read_text("utf-8")}
    return docs


def evidence_rows(tables: dict[str, Table]) -> list[dict[str, Any]]:
    """Every row with an excerpt, in table order then key order, with its notes."""
    corrected = corrections(tables)
    rows = []
    for table in tables.values():
        if "excerpt" not in table.columns:
            continue
        for row in table.rows:
            if row.get("excerpt") in (None, ""):
                continue
            rows.append(
                {
                    "t": table.name,
                    "id": row_id(table, row),
                    # the document the span is in (its own text), not the source row it cites
                    "doc": str(row.get("document_id") or row["evidence_source_id"]),
                    "s": row["char_start"],
                    "e": row["char_end"],
                    # [name, value] pairs, so that the page shows them in schema order
                    "fields": [[c, plain(row[c])] for c in table.columns if plain(row[c]) is not None],
                    **row_notes(table, row, corrected),
                }
            )
    return rows


def external_rows(tables: dict[str, Table]) -> list[dict[str, str]]:
    """Rows without an excerpt: they rest on an external reference, not on the text."""
    rows = []
    for table in tables.values():
        for row in table.rows:
            if "excerpt" in table.columns and row.get("excerpt") in (None, ""):
                rows.append(
                    {"t": table.name, "id": row_id(table, row), "source": str(row.get("evidence_source_id"))}
                )
    return rows


def segments(
    text: str, rows: list[dict[str, Any]], doc: str, numbers: list[int] | None = None
) -> list[list[Any]]:
    """The text cut at every span boundary: ``[text, [row numbers covering it]]`` pieces
    (``numbers``: the rows of ``doc``, when the caller has indexed them)."""
    candidates = range(len(rows)) if numbers is None else numbers
    spans = [
        (i, rows[i]["s"], rows[i]["e"])
        for i in candidates
        if rows[i]["doc"] == doc and rows[i]["s"] is not None
    ]
    cuts = sorted({0, len(text), *(s for _, s, _ in spans), *(e for _, _, e in spans)})
    starts: dict[int, list[int]] = {}
    for i, start, _ in spans:
        starts.setdefault(start, []).append(i)
    active: set[int] = set()
    pieces: list[list[Any]] = []
    for a, b in itertools.pairwise(cuts):
        active.update(starts.get(a, []))
        active = {i for i in active if rows[i]["e"] > a}
        pieces.append([text[a:b], sorted(active, key=lambda i: (rows[i]["e"] - rows[i]["s"], i))])
    return pieces


def page_data(project: Project, tables: dict[str, Table], package: Package) -> dict[str, Any]:
    """Everything the page shows, as one JSON-able document."""
    rows = evidence_rows(tables)
    docs = documents(project, tables)
    by_document: dict[str, list[int]] = {}
    for number, row in enumerate(rows):
        if row["s"] is not None:
            by_document.setdefault(row["doc"], []).append(number)
    return {
        "title": package.title,
        "version": package.version,
        "tables": [
            {"name": name, "title": table.resource.title or name, "color": PALETTE[i % len(PALETTE)]}
            for i, (name, table) in enumerate(tables.items())
        ],
        "documents": [
            {"id": doc, "title": d["title"], "segments": segments(d["text"], rows, doc, by_document[doc])}
            for doc, d in docs.items()
            if doc in by_document
        ],
        "rows": rows,
        "external": external_rows(tables),
    }


def script_json(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script>``: no ``<``, ``>``, ``&`` or line separators in the raw
    text, so no data can close the tag or start a comment (``</script>``, ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def html_escape(text: str) -> str:
    """Text safe in HTML element content."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def asset(name: str) -> str:
    """One of the page's parts shipped with the package: ``viewer.html``, ``.css``, ``.js``."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def render(data: dict[str, Any]) -> str:
    """The page: the HTML shell with the CSS, the data and the script that draws it inlined."""
    title = html_escape(f"Provenance — {data['title']} {data['version']}")
    parts = {"@@CSS@@": asset("viewer.css"), "@@JS@@": asset("viewer.js"), "@@DATA@@": script_json(data)}
    page = asset("viewer.html").replace("@@TITLE@@", title)
    # One pass over the markers, so that no inserted text is itself searched for markers.
    return re.sub("@@(CSS|JS|DATA)@@", lambda m: parts[m.group(0)], page)


def write_viewer(
    project: Project, tables: dict[str, Table], package: Package, staging: Path
) -> list[dict[str, Any]]:
    """Write ``viewer/index.html`` under ``staging``; return its datapackage resource.

    Example: open ``viewer/index.html`` in a browser (no server needed).
    """
    path = staging / VIEWER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(page_data(project, tables, package)), encoding="utf-8")
    return [
        file_resource(
            staging,
            VIEWER_FILE,
            name="provenance-page",
            format="html",
            mediatype="text/html",
            title="Provenance page",
            description="The article with every evidence span highlighted by table; click a span "
            "for the rows resting on it, a row for its span. Opens offline in any browser.",
        )
    ]
