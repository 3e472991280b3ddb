"""``newstables draft``: write a document's candidate annotations as draft YAML files.

Reads the document (checking its hash against ``meta.yaml``), the registry of known actors
unless ``--no-registry``, runs :func:`newstables.draft.draft_candidates` and writes
``data/articles/<id>/draft/{actors,actor_mentions,statements,dates,regions}.yaml``: records in
the format of the curated files, each with ``status: draft`` and a ``reason``. The folder is
replaced in one rename, so an interrupted draft leaves the previous one whole. The same
inputs give the same bytes.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newstables.articles import SEED_ID, Document, open_document, read_document
from newstables.draft import Candidate, KnownName, Region, Registry, boilerplate_regions, draft_candidates
from newstables.errors import NewstablesError
from newstables.project import ANNOTATIONS, Project, document_folder

DRAFT_FILES = ("actors", "actor_mentions", "statements", "dates", "regions")
HEADER = (
    "# DRAFT by `newstables draft {document_id}` ({mode}). Nothing here is published.\n"
    "# Curate by moving a record into the curated file and editing it: check the excerpt, the\n"
    "# type, the speaker or the date; delete `status` and `reason`. The build refuses any\n"
    "# record still marked `status: draft`.\n"
)


@dataclass(frozen=True)
class DraftResult:
    """What one draft run found and where it wrote it."""

    document: Document
    raw: str
    candidates: list[Candidate]
    regions: list[Region]
    folder: Path
    written: list[Path]


def load_registry(project: Project, raw: str, seed: bool = True) -> Registry:
    """Known names (actors.yaml names, names as written, actor_mentions.yaml excerpts) and regions.

    The curated regions (``regions.yaml``) are the seed's: they apply only when drafting the seed.
    """
    folder = project.path(ANNOTATIONS)
    actors = _records(folder / "actors.yaml")
    types = {str(a.get("actor_id")): str(a.get("actor_type")) for a in actors}
    names: set[KnownName] = set()
    for actor in actors:
        for key in ("canonical_name", "name_as_written", "excerpt"):
            if isinstance(actor.get(key), str):
                names.add(
                    KnownName(actor[key], str(actor["actor_id"]), types.get(str(actor["actor_id"]), ""))
                )
    for mention in _records(folder / "actor_mentions.yaml"):
        actor_id = str(mention.get("actor_id"))
        if isinstance(mention.get("excerpt"), str) and actor_id in types:
            kind = str(mention.get("mention_type") or "name")
            names.add(KnownName(mention["excerpt"], actor_id, types[actor_id], kind))
    regions = []
    for region in _records(folder / "regions.yaml") if seed else []:
        excerpt = region.get("excerpt")
        if region.get("kind") != "headline" and isinstance(excerpt, str) and excerpt in raw:
            start = raw.index(excerpt)
            regions.append((start, start + len(excerpt)))
    # One known name per (name, actor): a curated mention's type wins over the generic "name".
    unique: dict[tuple[str, str], KnownName] = {}
    for known in sorted(names, key=lambda k: (k.name, k.actor_id, k.mention_type == "name", k.mention_type)):
        unique.setdefault((known.name, known.actor_id), known)
    return Registry(tuple(unique.values()), tuple(sorted(regions)))


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [r for r in loaded or [] if isinstance(r, dict)]


def run_draft(
    project: Project, document_id: str, use_registry: bool = True, write: bool = True
) -> DraftResult:
    """Draft a document's candidates and (unless ``write`` is false) write the draft files."""
    document = open_document(project, document_id)
    raw = read_document(project, document)
    seed = document.document_id == SEED_ID
    registry = load_registry(project, raw, seed) if use_registry else None
    candidates = draft_candidates(raw, document.published, registry)
    regions = boilerplate_regions(raw)
    folder = document_folder(project, document.document_id) / "draft"
    written: list[Path] = []
    if write:
        mode = "with the registry" if use_registry else "--no-registry: from the text alone"
        files = draft_files(raw, candidates, regions, document.document_id, mode)
        written = _replace_folder(folder, files)
    return DraftResult(document, raw, candidates, regions, folder, written)


def draft_json(result: DraftResult) -> dict[str, Any]:
    """The ``--json`` output: the document id and every candidate."""
    return {
        "document_id": result.document.document_id,
        "candidates": [c.to_json() for c in result.candidates],
    }


def slug(text: str) -> str:
    """A readable id from a name ("Lech Wałęsa" -> "lech-walesa")."""
    folded = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L").replace("ø", "o"))
    ascii_text = folded.replace("Ø", "O").encode("ascii", "ignore").decode("ascii").lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)) or "unnamed"


@functools.lru_cache(maxsize=4096)
def _starts(raw: str, excerpt: str) -> list[int]:
    """Every whole-word occurrence of ``excerpt`` (the build's counting rule), cached per text."""
    head = r"(?<!\w)" if excerpt[:1].isalnum() else ""
    tail = r"(?!\w)" if excerpt[-1:].isalnum() else ""
    return [m.start() for m in re.finditer(head + re.escape(excerpt) + tail, raw)]


def _occurrence(raw: str, start: int, excerpt: str) -> int:
    starts = _starts(raw, excerpt)
    found = bisect.bisect_left(starts, start)
    return found + 1 if found < len(starts) and starts[found] == start else 1


def _evidence(raw: str, start: int, end: int) -> dict[str, Any]:
    excerpt = raw[start:end]
    record: dict[str, Any] = {"excerpt": excerpt}
    occurrence = _occurrence(raw, start, excerpt)
    if occurrence > 1:
        record["occurrence"] = occurrence
    record["char_start"], record["char_end"] = start, end
    return record


SCHEMA_ACTOR_TYPE = {"media": "media_outlet", "place": "place"}


def draft_files(
    raw: str, candidates: list[Candidate], regions: list[Region], document_id: str, mode: str
) -> dict[str, str]:
    """The text of every draft file, by file stem."""
    actors: dict[str, dict[str, Any]] = {}
    mentions, statements, dates = [], [], []
    person_ids = _person_ids(candidates)
    for candidate in candidates:
        if candidate.kind == "actor":
            actor_id = _actor_id(candidate, person_ids)
            if actor_id not in actors:
                actors[actor_id] = {
                    "actor_id": actor_id,
                    "canonical_name": candidate.excerpt,
                    "name_as_written": candidate.excerpt,
                    "actor_type": SCHEMA_ACTOR_TYPE.get(candidate.label, candidate.label),
                    **_evidence(raw, candidate.char_start, candidate.char_end),
                    "status": "draft",
                    "reason": f"first mention; type {candidate.label}: {candidate.reason}",
                }
            mentions.append(
                {
                    "actor_id": actor_id,
                    "mention_type": candidate.mention_type or "name",
                    **_evidence(raw, candidate.char_start, candidate.char_end),
                    "status": "draft",
                    "reason": candidate.reason,
                }
            )
        elif candidate.kind == "quotation":
            speaker = candidate.speaker
            record: dict[str, Any] = {
                "statement_id": f"{document_id}-quote-{candidate.char_start}",
                "speaker_id": None
                if speaker is None
                else person_ids.get(speaker.excerpt, slug(speaker.excerpt)),
                "statement_type": candidate.label if candidate.label != "nested_quote" else "partial_quote",
                "fidelity": None,
                **_evidence(raw, candidate.char_start, candidate.char_end),
                "status": "draft",
            }
            where = (
                ""
                if speaker is None
                else f" {speaker.excerpt!r} at [{speaker.char_start}, {speaker.char_end})"
            )
            record["reason"] = f"{candidate.reason}{where}"
            statements.append(record)
        else:
            dates.append(
                {
                    "date_text": candidate.excerpt,
                    "date_start": candidate.date_start,
                    "date_end": candidate.date_end,
                    "date_precision": candidate.date_precision,
                    "date_basis": None if candidate.label == "unresolved" else candidate.label,
                    **_evidence(raw, candidate.char_start, candidate.char_end),
                    "status": "draft",
                    "reason": candidate.reason
                    + "; copy the date fields onto the event or statement it dates",
                }
            )
    region_records = [
        {
            "region_id": f"{r.kind.replace('_', '-')}-{r.char_start}",
            "kind": r.kind,
            **_evidence(raw, r.char_start, r.char_end),
            "status": "draft",
            "reason": r.reason,
        }
        for r in regions
    ]
    contents = {
        "actors": list(actors.values()),
        "actor_mentions": mentions,
        "statements": statements,
        "dates": dates,
        "regions": region_records,
    }
    header = HEADER.format(document_id=document_id, mode=mode)
    for records in contents.values():
        for record in records:
            _assert_exact(raw, record)
    return {name: header + _dump(records) for name, records in contents.items()}


def _assert_exact(raw: str, record: dict[str, Any]) -> None:
    start, end = record["char_start"], record["char_end"]
    if raw[start:end] != record["excerpt"]:  # never write a record whose offsets are wrong
        raise AssertionError(f"raw[{start}:{end}] is {raw[start:end]!r}, not {record['excerpt']!r}")


def _person_ids(candidates: list[Candidate]) -> dict[str, str]:
    """Name as written -> proposed actor id; a lone surname joins the full name it ends."""
    full = sorted(
        {c.excerpt for c in candidates if c.kind == "actor" and c.label == "person" and " " in c.excerpt}
    )
    ids = {name: slug(name) for name in full}
    for candidate in candidates:
        if candidate.kind == "actor" and candidate.label == "person" and " " not in candidate.excerpt:
            owners = [n for n in full if candidate.excerpt in n.split()]
            ids.setdefault(
                candidate.excerpt, slug(owners[0]) if len(owners) == 1 else slug(candidate.excerpt)
            )
    return ids


def _actor_id(candidate: Candidate, person_ids: dict[str, str]) -> str:
    registry = re.match(r"registry: ([a-z0-9-]+)", candidate.reason)
    if registry:
        return registry.group(1)
    if candidate.label == "person":
        return person_ids.get(candidate.excerpt, slug(candidate.excerpt))
    return slug(candidate.excerpt)


def _dump(records: list[dict[str, Any]]) -> str:
    if not records:
        return "[]\n"
    return yaml.safe_dump(records, sort_keys=False, allow_unicode=True, default_flow_style=False, width=110)


def _replace_folder(folder: Path, files: dict[str, str]) -> list[Path]:
    """Write the draft files into a fresh folder, then swap it in place of the old one."""
    parent = folder.parent
    for path in (parent.parent, parent, folder):
        if path.is_symlink():
            raise NewstablesError("corpus-path-is-symlink", file=str(path))
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".draft-", dir=parent))
    old = parent / f".draft-old-{os.getpid()}"
    try:
        for name in DRAFT_FILES:
            (staging / f"{name}.yaml").write_text(files[name], encoding="utf-8")
        os.chmod(staging, 0o755)
        if folder.exists():
            folder.rename(old)
        try:
            staging.rename(folder)
        except BaseException:
            if old.exists() and not folder.exists():
                old.rename(folder)  # put the previous draft back
            raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
    return [folder / f"{name}.yaml" for name in DRAFT_FILES]
