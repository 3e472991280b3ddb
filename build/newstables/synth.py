"""A deterministic synthetic corpus: ``newstables synth --articles N --seed S --out DIR``.

Writes a whole project folder in the corpus layout that ``newstables build -p DIR`` builds and
validates: the package's schemas and suites (with a synthetic ``package.yaml``, a ten-year
``story.yaml`` window and expected counts that match), a registry of about N/2 actors mentioned
with Zipf-like frequencies, and one folder per article (``article.txt``, ``meta.yaml`` and its
curated ``annotations/``). Every article is fictional: made-up people (with non-ASCII names such
as Wałęsa, Núñez, Ørsted), organizations and places, curly quotation marks, about ten statements,
thirty mentions and two events each, and now and then a long article. The text and its
annotations are generated together, so every record carries the exact ``char_start``/``char_end``
of its excerpt and the build never has to search for it.

Same seed, same bytes: everything comes from one ``random.Random(seed)`` (whose ``random()`` and
``randrange()`` sequences Python keeps stable), dates come from the seed, never the clock, and
every file is written in a fixed order with fixed formatting.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from newstables.articles import sha256_hex
from newstables.errors import NewstablesError
from newstables.project import ANNOTATIONS, ARTICLES, PACKAGE_METADATA, SCHEMAS, VALIDATION

# --- Vocabulary: every name is made up; combinations are drawn at random ------------------------

GIVEN_NAMES = (
    "Zofia", "Łukasz", "Núria", "Søren", "Ingrid", "Tomás", "Ayşe", "Björn", "Chloé", "José",
    "Małgorzata", "Jürgen", "Amara", "Kenji", "Olúwaseun", "Aino", "Radu", "Inès", "Mateus", "Žaneta",
    "Halvard", "Leilani", "Dmitar", "Renée", "Bartosz", "Eira", "Joaquín", "Yusuf", "Liesel", "Ciarán",
    "Dagný", "Farid", "Greta", "Hoa", "Ilse", "Jovana", "Kofi", "Lotte", "Mirela", "Nils",
    "Oksana", "Paulo", "Rania", "Sólveig", "Teodor", "Umaima", "Vesna", "Wiebke",
)  # fmt: skip
SURNAMES = (
    "Wałęsa", "Núñez", "Ørsted", "Nowak", "Kovačević", "Sánchez", "Müller", "Håkansson", "Öztürk",
    "Ibáñez", "Dąbrowska", "Lindqvist", "Moreau", "Okafor", "Tanaka", "Rossi", "Papadakis", "Ferreira",
    "Novák", "Kowalczyk", "Brennan", "Østergaard", "Çelik", "Duarte", "Eriksdóttir", "Fontaine",
    "Grünewald", "Halloran", "Iordache", "Jokinen", "Kaczmarek", "Laurén", "Mäkelä", "Nakamura",
    "Oyelaran", "Petrović", "Quintana", "Rasmussen", "Szabó", "Thorvaldsen", "Urquhart", "Vasquez",
    "Whitcombe", "Xuereb", "Yıldız", "Zapata", "Žukauskas", "Ábrahám",
)  # fmt: skip
PLACES = ("Velmora", "Østrand", "Kallisto", "Brezno", "Tavira", "Lúnaborg", "Saltmere", "Qarvik")
ORG_KINDS = (
    "Harbour Authority", "Fishers’ Union", "Ferry Company", "Port Council", "Tidal Institute",
    "Coastal Guild", "Shipping Board", "Lighthouse Trust",
)  # fmt: skip
OUTLETS = ("Harbour Gazette", "Coastal Ledger", "Tidewater Post", "Northern Beacon", "Quayside Times")
ROLES = (
    "a councillor", "a spokesperson", "an engineer", "a ferry captain", "a union organiser",
    "a harbour pilot",
)  # fmt: skip
HEADLINES = (
    "Talks on the ferry timetable stall again",
    "Fees at the harbour rise for a third winter",
    "Plans for the old pier divide the council",
    "Dredging contract questioned at a crowded meeting",
    "Night crossings kept running despite the dispute",
)
QUOTES = (
    "We will not accept another delay on the ferry timetable.",
    "We have asked for the figures twice and received nothing.",
    "This is a fair deal for the people who work on the quays.",
    "Nobody can keep raising berth fees every winter.",
    "Our members want an independent survey of the breakwater before any vote.",
    "We are ready to talk as soon as the council publishes its plan.",
    "Nobody asked us about the new dredging contract.",
    "The night crossings will keep running whatever happens.",
    "Everyone needs a clear answer on the harbour budget this season.",
    "This is the busiest season the old pier has seen in decades.",
)
FILLER = (
    "the meeting ran late and several residents waited outside the hall to hear the outcome, "
    "while the tide came in over the lower slipway and the ferries kept to their usual crossings."
)
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
FIRST_DAY = dt.date(2015, 1, 1)
SPAN_DAYS = 3652  # ten years of publication dates
ZIPF_EXPONENT = 1.0
PARAGRAPHS = 10  # statements per article (one per paragraph)
LONG_EVERY = 97  # about one article in LONG_EVERY is long (many filler paragraphs)
LONG_FILLER_PARAGRAPHS = 120
PERSON_SHARE = 0.85
TABLES = (
    "documents", "sources", "actors", "actor_mentions", "statements", "events",
    "event_participants", "statement_events", "votes", "actor_aliases", "event_reports", "redirects",
)  # fmt: skip
FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ı": "i", "ß": "ss", "’": ""})

# Sentence-initial words, places and months: not names of actors, waived for the name check.
OPENERS = tuple(sorted({text.split()[0] for text in (*HEADLINES, *QUOTES)} | {"It"}))
WAIVED_NAMES = (*OPENERS, *PLACES, *MONTHS)


@dataclass
class Actor:
    """One registry actor, with the first span that names it in full (its evidence)."""

    actor_id: str
    name: str
    surname: str | None  # persons only
    actor_type: str
    first: tuple[str, int, int] | None = None  # (document_id, char_start, char_end)


@dataclass
class Writer:
    """The text of one article, built piece by piece, with the spans of what it names."""

    parts: list[str] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> tuple[int, int]:
        """Append ``text``; return its span in code points."""
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length

    @property
    def text(self) -> str:
        """The article so far."""
        return "".join(self.parts)


@dataclass
class Article:
    """One generated article: its text and its annotation records, by table."""

    document_id: str
    outlet: str
    published: dt.date
    text: str
    records: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class SynthSummary:
    """What ``synth`` wrote: the folder, and the row count of every table."""

    out: Path
    articles: int
    counts: dict[str, int]


def slug(text: str) -> str:
    """A lower-case ASCII slug of a name (``Zofia Wałęsa`` -> ``zofia-walesa``)."""
    folded = unicodedata.normalize("NFKD", text.translate(FOLD)).encode("ascii", "ignore").decode("ascii")
    return "-".join("".join(c if c.isalnum() else " " for c in folded.lower()).split())


def make_registry(rng: random.Random, count: int) -> list[Actor]:
    """``count`` fictional actors: mostly people, some organizations; ids are unique slugs."""
    actors = []
    for index in range(count):
        if rng.random() < PERSON_SHARE:
            given, surname = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
            initial = chr(ord("A") + rng.randrange(26))
            name, kind = f"{given} {initial}. {surname}", "person"
        else:
            name, surname, kind = f"{rng.choice(ORG_KINDS)} of {rng.choice(PLACES)}", None, "organization"
        actors.append(Actor(f"{slug(name)}-{index + 1}", name, surname, kind))
    return with_two_people(rng, actors)


def with_two_people(rng: random.Random, actors: list[Actor]) -> list[Actor]:
    """``actors`` with its last organizations made people until two are people: a quote needs a
    person who speaks of someone else (a tiny registry of organizations only made the writer wait
    for a person forever). Registries that already hold two people are returned as they are."""
    people = sum(actor.actor_type == "person" for actor in actors)
    fixed = list(actors)
    for index in reversed(range(len(fixed))):
        if people >= 2:
            break
        if fixed[index].actor_type != "person":
            given, surname = rng.choice(GIVEN_NAMES), rng.choice(SURNAMES)
            name = f"{given} {chr(ord('A') + rng.randrange(26))}. {surname}"
            fixed[index] = Actor(f"{slug(name)}-{index + 1}", name, surname, "person")
            people += 1
    return fixed


class Zipf:
    """Draw registry ranks with probability proportional to 1 / rank**s."""

    def __init__(self, size: int, exponent: float = ZIPF_EXPONENT) -> None:
        total, self.cumulative = 0.0, []
        for rank in range(1, size + 1):
            total += 1.0 / rank**exponent
            self.cumulative.append(total)

    def draw(self, rng: random.Random) -> int:
        """A 0-based registry index."""
        target = rng.random() * self.cumulative[-1]
        return min(bisect.bisect_left(self.cumulative, target), len(self.cumulative) - 1)


def day_text(day: dt.date) -> str:
    """``14 March 2019``: how the articles write a date."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def evidence(document_id: str, span: tuple[int, int], text: str) -> dict[str, Any]:
    """The evidence keys of a record whose excerpt is ``text[span]`` (offsets given)."""
    start, end = span
    return {"document_id": document_id, "char_start": start, "char_end": end, "excerpt": text[start:end]}


class ArticleBuilder:
    """Writes one article and its records together, so that every offset is exact."""

    def __init__(self, document_id: str, registry: list[Actor]) -> None:
        self.document_id = document_id
        self.registry = registry
        self.writer = Writer()
        self.spans: list[tuple[str, str, tuple[int, int]]] = []  # (table, key, span) pending excerpts
        self.records: dict[str, list[dict[str, Any]]] = {
            "sources": [],
            "actor_mentions": [],
            "statements": [],
            "events": [],
            "event_participants": [],
            "statement_events": [],
        }
        self.named: set[str] = set()

    def name(self, actor: Actor, short: bool = False) -> tuple[int, int]:
        """Write an actor's name (its surname once named in full) and record the mention."""
        use_surname = short and actor.surname is not None and actor.actor_id in self.named
        written = actor.surname if use_surname and actor.surname else actor.name
        span = self.writer.add(written)
        kind = "surname" if use_surname else ("full_name" if actor.actor_type == "person" else "name")
        self.records["actor_mentions"].append(
            {"actor_id": actor.actor_id, "mention_type": kind, "span": span}
        )
        if not use_surname:
            self.named.add(actor.actor_id)
            if actor.first is None:
                actor.first = (self.document_id, *span)
        return span

    def finish(self) -> tuple[str, dict[str, list[dict[str, Any]]]]:
        """The text and the records with their evidence keys filled in from the spans."""
        text = self.writer.text
        for records in self.records.values():
            for record in records:
                span = record.pop("span", None)
                if span is not None:
                    record.update(evidence(self.document_id, span, text))
        return text, self.records


def write_article(
    rng: random.Random, zipf: Zipf, registry: list[Actor], document_id: str, debut: list[Actor]
) -> Article:
    """One article: headline, two event paragraphs, ten statement paragraphs (and, now and then,
    many filler paragraphs); mentions drawn from the registry with Zipf-like frequencies."""
    outlet = rng.choice(OUTLETS)
    published = FIRST_DAY + dt.timedelta(days=rng.randrange(SPAN_DAYS))
    build = ArticleBuilder(document_id, registry)
    write = build.writer.add
    headline = write(rng.choice(HEADLINES))
    build.records["sources"].append(
        {
            "source_id": document_id,
            "kind": "article_copy",
            "title": f"{outlet}: a synthetic article",
            "publisher_name": outlet,
            "url": f"https://example.org/{slug(outlet)}/{document_id}",
            "path": f"{ARTICLES.as_posix()}/{document_id}/article.txt",
            "date_published": published.isoformat(),
            "date_precision": "day",
            "date_basis": "stated",
            "span": headline,
        }
    )

    def pick(kind: str | None = None) -> Actor:
        while True:
            actor = registry[zipf.draw(rng)]
            if kind is None or actor.actor_type == kind:
                return actor

    events: list[str] = []
    pending = list(debut)
    # Two events: a meeting of two actors, and a report published by one.
    for number, event_type in enumerate(("meeting", "report"), start=1):
        write("\n\n")
        day = published - dt.timedelta(days=rng.randrange(1, 30))
        event_id = f"{document_id}-e{number}"
        start = build.writer.length
        if event_type == "meeting":
            first = pending.pop() if pending else pick()
            second = pick()
            while second is first:
                second = pick()
            spans = [(first, build.name(first))]
            write(" met ")
            spans.append((second, build.name(second)))
            write(f" in {rng.choice(PLACES)} on ")
            title = f"{first.name} meets {second.name}"
        else:
            first = pending.pop() if pending else pick()
            spans = [(first, build.name(first))]
            write(" published a report on the harbour accounts on ")
            title = f"Report by {first.name}"
        date_span = write(day_text(day))
        end = build.writer.length
        write(".")
        build.records["events"].append(
            {
                "event_id": event_id,
                "event_type": event_type,
                "title": title,
                "status": "occurred",
                "date_start": day.isoformat(),
                "date_end": day.isoformat(),
                "date_precision": "day",
                "date_basis": "stated",
                "date_text": build.writer.text[date_span[0] : date_span[1]],
                "span": (start, end),
            }
        )
        role = "participant" if event_type == "meeting" else "publisher"
        for actor, span in spans:
            build.records["event_participants"].append(
                {"event_id": event_id, "actor_id": actor.actor_id, "role": role, "span": span}
            )
        events.append(event_id)
    long_article = rng.randrange(LONG_EVERY) == 0
    for number in range(1, PARAGRAPHS + 1):
        write("\n\n")
        other = pending.pop() if pending else pick()
        speaker = pick("person")
        while speaker is other:
            speaker = pick("person")
        build.name(speaker)
        write(f", {rng.choice(ROLES)}, spoke after talks with ")
        build.name(other, short=True)
        write(". “")
        quote = write(rng.choice(QUOTES))
        write("” ")
        build.name(speaker, short=True)
        write(" said.")
        statement_id = f"{document_id}-s{number:02d}"
        build.records["statements"].append(
            {
                "statement_id": statement_id,
                "speaker_id": speaker.actor_id,
                "statement_type": "direct_quote",
                "fidelity": "paraphrased_copy",
                "span": quote,
            }
        )
        build.records["statement_events"].append(
            {"statement_id": statement_id, "event_id": rng.choice(events), "relation": "about", "span": quote}
        )
        if long_article:
            for _ in range(LONG_FILLER_PARAGRAPHS // PARAGRAPHS):
                write("\n\nIt was reported that " + FILLER)
    write("\n")
    text, records = build.finish()
    return Article(document_id, outlet, published, text, records)


# --- Writing files: flow-style YAML with JSON-quoted strings (fast, exact, deterministic) -------


def yaml_value(value: Any) -> str:
    """A scalar as YAML: numbers bare, strings double-quoted (JSON escapes are YAML escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def yaml_records(records: list[dict[str, Any]]) -> str:
    """A YAML list of flow mappings, one record per line."""
    lines = []
    for record in records:
        body = ", ".join(f"{key}: {yaml_value(value)}" for key, value in record.items())
        lines.append(f"- {{{body}}}\n")
    return "".join(lines)


def write_file(path: Path, text: str) -> None:
    """Write UTF-8 text with LF line ends, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def meta_yaml(article: Article, data: bytes) -> str:
    """The article's ``meta.yaml``, in the format ``newstables add`` writes."""
    meta = {
        "document_id": article.document_id,
        "outlet": article.outlet,
        "url": f"https://example.org/{slug(article.outlet)}/{article.document_id}",
        "published": article.published.isoformat(),
        "published_precision": "day",
        "published_basis": "stated",
        "language": "en",
        "rights": "Synthetic text written by `newstables synth`: fictional, no rights reserved.",
        "sha256": sha256_hex(data),
        "bytes": len(data),
        "characters": len(article.text),
        "line_ending": "LF",
    }
    header = "# A synthetic, fictional article written by `newstables synth`.\n"
    return header + "".join(f"{key}: {yaml_value(value)}\n" for key, value in meta.items())


def write_article_folder(out: Path, article: Article) -> None:
    """``data/articles/<id>/``: the text, its meta.yaml and its annotation files."""
    folder = out / ARTICLES / article.document_id
    data = article.text.encode("utf-8")
    folder.mkdir(parents=True)
    (folder / "article.txt").write_bytes(data)
    write_file(folder / "meta.yaml", meta_yaml(article, data))
    for table, records in article.records.items():
        if records:
            write_file(folder / "annotations" / f"{table}.yaml", yaml_records(records))


def actor_records(registry: list[Actor]) -> list[dict[str, Any]]:
    """The actors registry: every actor with its first full-name mention as evidence."""
    records = []
    for actor in registry:
        assert actor.first is not None, "every actor debuts in some article"
        document_id, start, end = actor.first
        records.append(
            {
                "actor_id": actor.actor_id,
                "canonical_name": actor.name,
                "actor_type": actor.actor_type,
                "document_id": document_id,
                "char_start": start,
                "char_end": end,
                "excerpt": actor.name,
            }
        )
    return records


def package_yaml(template: Path, articles: int, seed: int, created: dt.date) -> str:
    """The synthetic project's ``schemas/package.yaml``: the template's tables and licences,
    with a synthetic name, title and description, version 0.1.0 and a seed-derived date."""
    data = yaml.safe_load(template.read_text(encoding="utf-8"))
    data.update(
        {
            "name": f"newstables-synth-{articles}-seed-{seed}",
            "title": f"Synthetic corpus of {articles} fictional articles (seed {seed})",
            "description": (
                f"A deterministic synthetic corpus written by `newstables synth --articles {articles} "
                f"--seed {seed}`: fictional people, organizations, places, statements and events, for "
                "testing and benchmarking the build at scale. Nothing in it is news."
            ),
            "version": "0.1.0",
            "created": f"{created.isoformat()}T00:00:00Z",
            "keywords": ["synthetic", "benchmark", "newstables"],
            "caveats": ["**Everything here is fictional**: generated text, made-up names and events."],
            "rights": "Synthetic data written by `newstables synth`; no rights reserved.",
            "sources": [{"title": f"newstables synth, seed {seed}"}],
        }
    )
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def suite_without_seed_facts(text: str) -> str:
    """A suite with the expectations that encode the seed's own facts removed (the seed's
    mentions all rest on its one article, ``value_set: ["article"]``)."""
    suite = json.loads(text)
    key = "expectations" if isinstance(suite, dict) else None
    expectations = suite[key] if key else suite
    kept = [e for e in expectations if (e.get("kwargs") or {}).get("value_set") != ["article"]]
    if key:
        suite[key] = kept
    else:
        suite = kept
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def copy_metadata(template: Path, out: Path, articles: int, seed: int, created: dt.date) -> None:
    """Schemas and suites from the template project, adapted to the synthetic corpus."""
    for name in sorted(p.name for p in (template / SCHEMAS).iterdir() if p.is_file()):
        if name != PACKAGE_METADATA.name:
            shutil.copyfile(template / SCHEMAS / name, out / SCHEMAS / name)
    write_file(out / PACKAGE_METADATA, package_yaml(template / PACKAGE_METADATA, articles, seed, created))
    for path in sorted((template / VALIDATION).iterdir()):
        if path.suffix == ".sql":
            shutil.copyfile(path, out / VALIDATION / path.name)
        elif path.suffix == ".json":
            write_file(out / VALIDATION / path.name, suite_without_seed_facts(path.read_text("utf-8")))
    story = {
        "report_date": (FIRST_DAY + dt.timedelta(days=SPAN_DAYS)).isoformat(),
        "window_start": (FIRST_DAY - dt.timedelta(days=60)).isoformat(),
        "window_end": (FIRST_DAY + dt.timedelta(days=SPAN_DAYS)).isoformat(),
    }
    write_file(
        out / VALIDATION / "story.yaml",
        "# The synthetic corpus's window: ten years of publication dates (and the month before).\n"
        + "".join(f"{key}: {yaml_value(value)}\n" for key, value in story.items()),
    )


def check_options(out: Path, articles: int, seed: int, template: Path) -> None:
    """Refuse a bad count or seed, a target that is not an empty folder, a template without schemas."""
    if articles < 1:
        raise NewstablesError(
            "synth-invalid-option", field="--articles", value=articles, expected="a whole number >= 1"
        )
    if seed < 0:
        raise NewstablesError("synth-invalid-option", field="--seed", value=seed, expected="a number >= 0")
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise NewstablesError("synth-out-not-empty", file=str(out))
    if not (template / PACKAGE_METADATA).is_file():
        raise NewstablesError(
            "synth-invalid-option", field="--project", value=str(template), expected="a project with schemas/"
        )


def synth(out: Path, articles: int, seed: int, template: Path) -> SynthSummary:
    """Write a synthetic project of ``articles`` fictional articles into the empty folder ``out``.

    Schemas and suites come from the ``template`` project (the package's own by default).
    Example: ``synth(Path("/tmp/corpus"), 1000, 7, Path("."))`` then ``newstables build -p /tmp/corpus``.
    """
    check_options(out, articles, seed, template)
    rng = random.Random(seed)
    registry = make_registry(rng, max(2, articles // 2))
    zipf = Zipf(len(registry))
    # Actor k debuts in article k * articles // len(registry), so every actor is mentioned.
    debuts: dict[int, list[Actor]] = {}
    for index, actor in enumerate(registry):
        debuts.setdefault(index * articles // len(registry), []).append(actor)
    (out / SCHEMAS).mkdir(parents=True, exist_ok=True)
    (out / VALIDATION).mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TABLES, 0)
    aliases: set[tuple[str, str]] = set()
    last = FIRST_DAY
    width = max(6, len(str(articles)))
    for number in range(articles):
        document_id = f"synth-{number + 1:0{width}d}"
        article = write_article(rng, zipf, registry, document_id, list(reversed(debuts.get(number, []))))
        write_article_folder(out, article)
        last = max(last, article.published)
        counts["documents"] += 1
        for table, records in article.records.items():
            counts[table] += len(records)
        # Derived by the build: one alias per actor and spelling, one report per event.
        aliases.update((r["actor_id"], r["excerpt"]) for r in article.records["actor_mentions"])
        counts["event_reports"] += len(article.records.get("events", []))
    counts["actors"] = len(registry)
    counts["actor_aliases"] = len(aliases)
    write_file(out / ANNOTATIONS / "actors.yaml", yaml_records(actor_records(registry)))
    reason = "A sentence-initial word, a place or a month name, not an actor."
    waivers = [{"check": "name", "text": word, "reason": reason} for word in WAIVED_NAMES]
    write_file(out / ANNOTATIONS / "waivers.yaml", yaml_records(waivers))
    copy_metadata(template, out, articles, seed, last + dt.timedelta(days=1))
    write_file(
        out / VALIDATION / "expected_counts.yaml",
        "# Row counts of the synthetic corpus (written by newstables synth).\n"
        + "".join(f"{table}: {count}\n" for table, count in counts.items()),
    )
    return SynthSummary(out, articles, counts)


def default_template() -> Path:
    """The package's own project (schemas/ and validation/ next to build/), else the current folder."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / PACKAGE_METADATA).is_file() else Path(".")
