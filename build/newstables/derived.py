"""Part of stage 3, build tables: the rows the build derives from other built tables (never
typed), and the checks that span tables of the corpus (redirects, Wikidata items).

- ``actor_aliases``: one row per actor and distinct excerpt of its mentions, with counts and
  the first mention's evidence.
- ``event_reports``: the event's own evidence is a report of its document (``origin``
  ``event_evidence``); curated reports (``origin`` ``curated``) come from the annotation files.
- ``redirects``: an old id is no longer live, its chain ends on a live id of the same table and
  never loops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newstables.errors import NewstablesError
from newstables.evidence import EVIDENCE_FIELDS
from newstables.project import SEED_DOCUMENT
from newstables.read import Record

if TYPE_CHECKING:
    from newstables.tables import Table

# The evidence columns a derived row copies from the row it rests on (the published order).
EVIDENCE_COPY = EVIDENCE_FIELDS
KEY_SEPARATOR = "/"


def _publication_order(tables: dict[str, Table]) -> dict[str, tuple[str, str]]:
    """Sort key of each document: its publication date (unknown last), then its id."""
    documents = tables.get("documents")
    rows = documents.rows if documents is not None else []
    return {
        str(r["document_id"]): (str(r.get("date_published") or "9999"), str(r["document_id"])) for r in rows
    }


def _first_key(row: dict[str, Any], order: dict[str, tuple[str, str]]) -> tuple[tuple[str, str], int]:
    document_id = str(row["document_id"])
    return order.get(document_id, ("9999", document_id)), int(row["char_start"])


def actor_aliases(tables: dict[str, Table]) -> list[tuple[dict[str, Any], Record]]:
    """One row per (actor, excerpt as written) of ``actor_mentions``, with the number of
    mentions and documents and the first mention (earliest-published document, then lowest
    offset) as evidence; external mentions without an excerpt write no alias."""
    mentions = tables["actor_mentions"]
    order = _publication_order(tables)
    groups: dict[tuple[str, str], list[tuple[dict[str, Any], Record]]] = {}
    for row, record in zip(mentions.rows, mentions.records, strict=True):
        if row.get("excerpt"):
            groups.setdefault((str(row["actor_id"]), str(row["excerpt"])), []).append((row, record))
    derived = []
    for (actor_id, alias), members in sorted(groups.items()):
        first, record = min(
            members,
            key=lambda m: (
                order.get(str(m[0]["document_id"]), ("9999", str(m[0]["document_id"]))),
                m[0]["char_start"],
            ),
        )
        row = {
            "actor_id": actor_id,
            "alias": alias,
            "mention_count": len(members),
            "document_count": len({m[0]["document_id"] for m in members}),
            "first_mention_id": first["mention_id"],
            **{name: first[name] for name in EVIDENCE_COPY},
        }
        derived.append((row, record))
    return derived


def event_reports(tables: dict[str, Table], id_template: str) -> list[tuple[dict[str, Any], Record]]:
    """The report each event's own evidence makes of its document (``origin: event_evidence``),
    with the status the event row gives; an external event without an excerpt makes none."""
    events = tables["events"]
    derived = []
    for row, record in zip(events.rows, events.records, strict=True):
        if not row.get("excerpt"):
            continue
        report = {
            "event_id": row["event_id"],
            "status": row.get("status"),
            "origin": "event_evidence",
            **{name: row[name] for name in EVIDENCE_COPY},
        }
        prefix = "" if row["document_id"] == SEED_DOCUMENT else f"{row['document_id']}@"
        report["report_id"] = id_template.format(**report, document_prefix=prefix)
        derived.append((report, record))
    return derived


def live_ids(table: Table) -> set[str]:
    """The ids of a table's rows: the primary key, its values joined with ``/`` when composite."""
    return {KEY_SEPARATOR.join(str(row[k]) for k in table.primary_key) for row in table.rows}


def check_redirects(tables: dict[str, Table]) -> None:
    """Refuse a redirect of an unknown table, whose old id is still live
    (``redirect-old-id-live``), whose chain loops (``redirect-cycle``) or ends on an id that
    names nothing (``redirect-target-unknown``)."""
    redirects = tables.get("redirects")
    if redirects is None:
        return
    # an empty new_id is a retraction (a tombstone): the old id resolves to no row, on purpose
    pairs = {
        (str(r["table_name"]), str(r["old_id"])): str(r["new_id"]) for r in redirects.rows if r["new_id"]
    }
    retracted = {(str(r["table_name"]), str(r["old_id"])) for r in redirects.rows if not r["new_id"]}
    live = {name: live_ids(table) for name, table in tables.items() if name != "redirects"}
    for row, record in zip(redirects.rows, redirects.records, strict=True):
        table, old = str(row["table_name"]), str(row["old_id"])
        if table not in live:
            raise NewstablesError(
                "redirect-target-unknown",
                **record.where("table_name"),
                value=table,
                detail="no such table; expected one of " + ", ".join(sorted(live)),
            )
        if old in live[table]:
            raise NewstablesError("redirect-old-id-live", **record.where("old_id"), value=old, table=table)
        if not row["new_id"]:
            continue
        chain, current = [old], str(row["new_id"])
        while (table, current) in pairs and current not in chain:
            chain.append(current)
            current = pairs[(table, current)]
        if current in chain:
            raise NewstablesError(
                "redirect-cycle", **record.where("new_id"), detail=" -> ".join([*chain, current]), table=table
            )
        if current not in live[table] and (table, current) not in retracted:
            detail = " -> ".join([*chain, current])
            raise NewstablesError(
                "redirect-target-unknown",
                **record.where("new_id"),
                value=current,
                detail=f"{detail}: no row of {table} has this id",
            )


def check_wikidata_sources(tables: dict[str, Table]) -> None:
    """A Wikidata QID is an external fact: it needs ``wikidata_source_id`` naming a sources row
    of kind ``external_reference`` (``wikidata-without-source``); a source without a QID is
    refused the same way, so the two columns are given together."""
    actors, sources = tables.get("actors"), tables.get("sources")
    if actors is None or sources is None or "wikidata_qid" not in actors.columns:
        return
    kinds = {str(r["source_id"]): r["kind"] for r in sources.rows}
    for row, record in zip(actors.rows, actors.records, strict=True):
        qid, source = row.get("wikidata_qid"), row.get("wikidata_source_id")
        if qid is None and source is None:
            continue
        if qid is None:
            raise NewstablesError(
                "wikidata-without-source",
                **record.where("wikidata_source_id"),
                value=source,
                expected="wikidata_qid given together with its source",
            )
        if source is None or kinds.get(str(source)) != "external_reference":
            raise NewstablesError(
                "wikidata-without-source",
                **record.where("wikidata_source_id" if source else "wikidata_qid"),
                value=qid,
                expected="wikidata_source_id naming a sources row of kind external_reference",
            )
