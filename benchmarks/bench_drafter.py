"""Benchmark: the drafter's quality on the seed article, drafted from the text alone.

Runs ``newstables draft article --no-registry`` (in-process, nothing written) and compares
its candidates with the curated annotations:

- people and organizations: mentions in ``actor_mentions.yaml`` of actors typed (in
  ``actors.yaml``) person, or organization / media_outlet / international_body / government /
  military; descriptors and adjectives ("US officials", "Chinese") are not names and are left out.
  A mention is found when an actor candidate of the same group overlaps it;
- quotations: statements typed direct_quote or partial_quote in ``statements.yaml``; a statement
  is found when a quotation candidate overlaps it, and its speaker is right when the proposed
  speaker span overlaps a curated mention of the statement's speaker_id;
- dates: the ``date_text`` of events and statements; right when the candidate's span equals a
  curated [date_start, date_end], contains a curated day with a coarser precision, or both
  leave the date empty;
- boilerplate: candidates inside the curated boilerplate regions (must be zero).

Prints the figures and writes ``benchmarks/results/drafter.json`` (the quality figures are
deterministic; the last one is the wall time to draft about 1 MB of text). Run with
``make bench-drafter``. Asserts nothing: the targets are printed next to the figures.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from newstables.draft import Candidate, draft_candidates
from newstables.drafting import run_draft
from newstables.evidence import occurrences
from newstables.project import Project

ROOT = Path(__file__).resolve().parents[1]
ANNOTATIONS = ROOT / "data/annotations"
RESULTS = ROOT / "benchmarks/results/drafter.json"
PERSON = {"person"}
ORGANIZATION = {"organization", "media_outlet", "international_body", "government", "military"}
NOT_NAMES = {"descriptor", "adjective"}
TARGETS = {
    "quotation_span_recall": 0.95,
    "speaker_accuracy": 0.75,
    "people_organizations_recall": 0.85,
    "date_resolution_accuracy": 0.80,
    "boilerplate_candidates": 0,
}

Spans = tuple[int, int]


def load(name: str) -> list[dict[str, Any]]:
    """The records of one curated annotation file."""
    records: list[dict[str, Any]] = yaml.safe_load((ANNOTATIONS / f"{name}.yaml").read_text(encoding="utf-8"))
    return records


def locate(raw: str, excerpt: str, occurrence: int = 1) -> Spans:
    """The span of the n-th whole-word occurrence of an excerpt (the build's rule)."""
    start = occurrences(raw, excerpt)[occurrence - 1]
    return start, start + len(excerpt)


def overlaps(a: Spans, b: Spans) -> bool:
    """True when two half-open spans share a code point."""
    return a[0] < b[1] and b[0] < a[1]


def cspan(candidate: Candidate) -> Spans:
    """A candidate's span."""
    return candidate.char_start, candidate.char_end


def ratio(hits: int, total: int) -> float:
    """hits / total, rounded; 0 when there is nothing to count."""
    return round(hits / total, 4) if total else 0.0


def mention_spans(raw: str) -> dict[str, list[Spans]]:
    """actor_id -> spans of its curated mentions (and its evidence excerpt)."""
    spans: dict[str, list[Spans]] = {}
    for record in load("actor_mentions") + load("actors"):
        spans.setdefault(record["actor_id"], []).append(
            locate(raw, record["excerpt"], record.get("occurrence", 1))
        )
    return spans


def score_actors(raw: str, candidates: list[Candidate]) -> dict[str, Any]:
    """Recall and precision of person and organization candidates against curated mentions."""
    types = {a["actor_id"]: a["actor_type"] for a in load("actors")}
    gold = []
    for mention in load("actor_mentions"):
        actor_type = types[mention["actor_id"]]
        if actor_type in PERSON | ORGANIZATION and mention["mention_type"] not in NOT_NAMES:
            group = "person" if actor_type in PERSON else "organization"
            gold.append((group, locate(raw, mention["excerpt"], mention.get("occurrence", 1)), mention))
    actors = [c for c in candidates if c.kind == "actor"]
    groups = {"person": "person", "organization": "organization", "media": "organization"}
    groups["government"] = "organization"
    named = [c for c in actors if c.label in groups]
    found: dict[str, int] = {"person": 0, "organization": 0}
    missed = []
    for group, where, mention in gold:
        if any(groups[c.label] == group and overlaps(cspan(c), where) for c in named):
            found[group] += 1
        else:
            missed.append(f"{mention['excerpt']} ({mention['actor_id']}, {group})")
    right = [c for c in named if any(g == groups[c.label] and overlaps(cspan(c), w) for g, w, _ in gold)]
    wrong = [f"{c.excerpt} [{c.label}]" for c in named if c not in right]
    totals = {g: sum(1 for group, _, _ in gold if group == g) for g in found}
    return {
        "gold_mentions": len(gold),
        "people_recall": ratio(found["person"], totals["person"]),
        "organizations_recall": ratio(found["organization"], totals["organization"]),
        "people_organizations_recall": ratio(sum(found.values()), len(gold)),
        "people_organizations_precision": ratio(len(right), len(named)),
        "missed": missed,
        "false_positives": wrong,
    }


def score_quotations(raw: str, candidates: list[Candidate]) -> dict[str, Any]:
    """Quotation span recall/precision and speaker accuracy against curated statements."""
    mentions = mention_spans(raw)
    quotes = [c for c in candidates if c.kind == "quotation"]
    statements = load("statements")
    gold = [s for s in statements if s["statement_type"] in ("direct_quote", "partial_quote")]
    all_spans = [locate(raw, s["excerpt"], s.get("occurrence", 1)) for s in statements]
    found = right_speaker = exact = same_type = 0
    missed, wrong_speaker = [], []
    for statement in gold:
        where = locate(raw, statement["excerpt"], statement.get("occurrence", 1))
        matching = [c for c in quotes if overlaps(cspan(c), where)]
        if not matching:
            missed.append(statement["statement_id"])
            continue
        found += 1
        exact += any(cspan(c) == where for c in matching)
        same_type += matching[0].label == statement["statement_type"]
        speaker = matching[0].speaker
        if speaker is not None and any(
            overlaps((speaker.char_start, speaker.char_end), s)
            for s in mentions.get(statement["speaker_id"], [])
        ):
            right_speaker += 1
        else:
            got = None if speaker is None else speaker.excerpt
            wrong_speaker.append(
                f"{statement['statement_id']}: proposed {got!r}, curated {statement['speaker_id']}"
            )
    precise = [c for c in quotes if any(overlaps(cspan(c), s) for s in all_spans)]
    return {
        "gold_quotations": len(gold),
        "quotation_candidates": len(quotes),
        "quotation_span_recall": ratio(found, len(gold)),
        "quotation_exact_span_recall": ratio(exact, len(gold)),
        "quotation_precision": ratio(len(precise), len(quotes)),
        "speaker_accuracy": ratio(right_speaker, len(gold)),
        "statement_type_agreement": ratio(same_type, found),
        "curated_statements_not_quotations": len(statements) - len(gold),
        "missed": missed,
        "wrong_speaker": wrong_speaker,
    }


def gold_dates(raw: str) -> dict[Spans, list[tuple[str | None, str | None]]]:
    """Span of every curated date_text -> the curated (date_start, date_end) values for it."""
    gold: dict[Spans, list[tuple[str | None, str | None]]] = {}
    for record in load("events") + load("statements"):
        text = record.get("date_text")
        if not text:
            continue
        evidence = locate(raw, record["excerpt"], record.get("occurrence", 1))
        inside = [s for s in occurrences(raw, text) if evidence[0] <= s < evidence[1]]
        nearest = inside or sorted(occurrences(raw, text), key=lambda s: abs(s - evidence[0]))[:1]
        where = (nearest[0], nearest[0] + len(text))
        value = (record.get("date_start"), record.get("date_end") or record.get("date_start"))
        gold.setdefault(where, []).append(value if value[0] else (None, None))
    return gold


def date_right(candidate: Candidate, values: list[tuple[str | None, str | None]]) -> bool:
    """True when the candidate's resolution agrees with one curated value (see module doc)."""
    for start, end in values:
        if start is None:
            if candidate.date_start is None:
                return True
            continue
        if candidate.date_start is None or candidate.date_end is None:
            continue
        if (candidate.date_start, candidate.date_end) == (str(start), str(end)):
            return True
        day = date.fromisoformat(str(start))
        inside = date.fromisoformat(candidate.date_start) <= day <= date.fromisoformat(candidate.date_end)
        if start == end and candidate.date_precision != "day" and inside:
            return True
    return False


def score_dates(raw: str, candidates: list[Candidate]) -> dict[str, Any]:
    """Date expressions found and resolved to the right day or span."""
    gold = gold_dates(raw)
    dates = [c for c in candidates if c.kind == "date"]
    found = right = 0
    misses = []
    for where, values in sorted(gold.items()):
        matching = [c for c in dates if overlaps(cspan(c), where)]
        if not matching:
            misses.append(f"{raw[where[0] : where[1]]!r}: not found")
            continue
        found += 1
        if any(date_right(c, values) for c in matching):
            right += 1
        else:
            got = [(c.excerpt, c.date_start, c.date_end) for c in matching]
            misses.append(f"{raw[where[0] : where[1]]!r}: proposed {got}, curated {values}")
    extra = [
        f"{c.excerpt} -> {c.date_start}..{c.date_end}"
        for c in dates
        if not any(overlaps(cspan(c), w) for w in gold)
    ]
    return {
        "gold_date_expressions": len(gold),
        "date_candidates": len(dates),
        "date_recall": ratio(found, len(gold)),
        "date_resolution_accuracy": ratio(right, len(gold)),
        "date_precision": ratio(len(dates) - len(extra), len(dates)),
        "misses": misses,
        "not_in_curated_date_text": extra,
    }


def score_boilerplate(raw: str, candidates: list[Candidate], proposed: list[Spans]) -> dict[str, Any]:
    """Candidates inside curated boilerplate, and how many curated regions the drafter proposed."""
    regions = [locate(raw, r["excerpt"]) for r in load("regions") if r["kind"] != "headline"]
    inside = [c.excerpt for c in candidates if any(overlaps(cspan(c), r) for r in regions)]
    return {
        "boilerplate_candidates": len(inside),
        "inside": inside,
        "curated_regions": len(regions),
        "curated_regions_proposed_exactly": sum(r in proposed for r in regions),
    }


def speed() -> dict[str, float]:
    """Seconds to draft about 1 MB of text (the test articles repeated): the drafter must stay linear."""
    text = "\n\n".join(
        (ROOT / f"tests/fixtures/articles/{name}.txt").read_text(encoding="utf-8")
        for name in ("harbour-gazette", "nordic-wire", "city-desk")
    )
    big = text * (1_000_000 // len(text) + 1)
    started = time.perf_counter()
    draft_candidates(big, date(2026, 5, 20), None)
    seconds = time.perf_counter() - started
    return {"characters": len(big), "seconds": round(seconds, 2)}


def main() -> None:
    """Draft the seed from the text alone, score it, print and write the figures."""
    result = run_draft(Project(ROOT), "article", use_registry=False, write=False)
    raw, candidates = result.raw, result.candidates
    proposed = [(r.char_start, r.char_end) for r in result.regions if r.kind != "headline"]
    figures = {
        "document_id": "article",
        "mode": "--no-registry",
        "candidates": len(candidates),
        "actors": score_actors(raw, candidates),
        "quotations": score_quotations(raw, candidates),
        "dates": score_dates(raw, candidates),
        "boilerplate": score_boilerplate(raw, candidates, proposed),
        "targets": TARGETS,
    }
    headline = {
        "quotation_span_recall": figures["quotations"]["quotation_span_recall"],
        "speaker_accuracy": figures["quotations"]["speaker_accuracy"],
        "people_organizations_recall": figures["actors"]["people_organizations_recall"],
        "date_resolution_accuracy": figures["dates"]["date_resolution_accuracy"],
        "boilerplate_candidates": figures["boilerplate"]["boilerplate_candidates"],
    }
    figures["summary"] = headline
    print("drafter on the seed article, --no-registry:")
    for key, value in headline.items():
        target = TARGETS[key]
        met = value <= target if key == "boilerplate_candidates" else value >= target
        print(f"  {key:<32} {value:>7} (target {target}) {'met' if met else 'NOT MET'}")
    extra_keys = (
        "people_recall",
        "organizations_recall",
        "people_organizations_precision",
        "quotation_exact_span_recall",
        "quotation_precision",
        "statement_type_agreement",
        "date_precision",
        "date_recall",
    )
    for section in ("actors", "quotations", "dates"):
        for key in extra_keys:
            if key in figures[section]:
                print(f"  {key:<32} {figures[section][key]:>7}")
    timing = figures["speed_1mb"] = speed()
    print(f"  seconds to draft {timing['characters']} characters: {timing['seconds']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
