"""Draft: propose candidate annotations for an article, offline and deterministically.

Pure logic only (no files): :func:`draft_candidates` turns raw text, its publication date
and an optional registry of known actors into candidates (actor mentions, quotations with a
proposed speaker, date expressions resolved against the publication date);
:func:`boilerplate_regions` proposes the page furniture no candidate may come from. The word
lists live in ``draft_cues.yaml``. Every candidate's offsets are code points into ``raw`` and
``raw[char_start:char_end] == excerpt`` holds (asserted). A person curates every candidate;
nothing here is published as is.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

import pycountry
import yaml

WORD = re.compile(r"[^\W\d_][\w’'.&-]*")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = tuple(calendar.month_name)[1:]
BOILERPLATE_MAX_WORDS = 30
BLANKS = re.compile(r"[\n\r \t\u00a0]*")
SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
PAST_VERB = re.compile(
    r"\b(?:\w{3,}ed|was|were|had|did|struck|met|said|told|took|made|came|went|began|spoke|wrote"
    r"|won|lost|held|gave|saw|ran|kept|left|sent|brought|thought|found|fought|got|became|led)\b"
)
FUTURE_CUES = re.compile(r"\b(?:will|would|shall|plans? to|is to|are to|is due|expected to|next)\b")


@dataclass(frozen=True)
class Span:
    """A half-open span of code points of the raw text, with the text it selects."""

    char_start: int
    char_end: int
    excerpt: str


@dataclass(frozen=True)
class Candidate:
    """One proposed annotation: an actor mention, a quotation or a date expression.

    ``label`` is the proposed actor type (actors), the proposed statement type
    (quotations) or the date basis (dates); ``reason`` says which rule proposed it.
    """

    kind: str
    char_start: int
    char_end: int
    excerpt: str
    label: str
    reason: str
    speaker: Span | None = None
    date_start: str | None = None
    date_end: str | None = None
    date_precision: str | None = None
    mention_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The candidate in the documented ``--json`` shape."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "excerpt": self.excerpt,
            "label": self.label,
            "reason": self.reason,
        }
        if self.kind == "quotation":
            out["speaker"] = None if self.speaker is None else self.speaker.__dict__.copy()
        if self.kind == "date":
            out.update(date_start=self.date_start, date_end=self.date_end, date_precision=self.date_precision)
        return out


@dataclass(frozen=True)
class Region:
    """A proposed page region (boilerplate kind, or the headline)."""

    kind: str
    char_start: int
    char_end: int
    excerpt: str
    reason: str


@dataclass(frozen=True)
class KnownName:
    """A name from the registry: how it is written, the actor it names, its type."""

    name: str
    actor_id: str
    actor_type: str
    mention_type: str = "name"


@dataclass(frozen=True)
class Registry:
    """Curated knowledge the drafter may use: known names, and regions to skip."""

    names: tuple[KnownName, ...] = ()
    regions: tuple[tuple[int, int], ...] = ()


@functools.cache
def cues() -> dict[str, Any]:
    """The drafter's word lists (``draft_cues.yaml``)."""
    text = resources.files(__package__).joinpath("draft_cues.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@functools.cache
def country_names() -> frozenset[str]:
    """Country names a text may use: pycountry's short and common names, plus the cue aliases."""
    names = {c.name for c in pycountry.countries}
    names |= {getattr(c, "common_name", c.name) for c in pycountry.countries}
    return frozenset(names | set(cues()["country_aliases"]))


def span(raw: str, start: int, end: int) -> Span:
    """The span [start, end) of ``raw``."""
    return Span(start, end, raw[start:end])


# --- boilerplate -------------------------------------------------------------------------


def paragraphs(raw: str) -> Iterator[tuple[int, int]]:
    """Spans of the non-empty lines of ``raw`` (a scraped article has one paragraph a line)."""
    for match in re.finditer(r"[^\r\n]+", raw):
        text = match.group()
        stripped = text.strip()
        if stripped:
            start = match.start() + (len(text) - len(text.lstrip()))
            yield start, start + len(stripped)


def boilerplate_regions(raw: str) -> list[Region]:
    """Propose the headline and the page furniture (see-also links, share links, comment forms...)."""
    cue = cues()
    regions: list[Region] = []
    lines = list(paragraphs(raw))
    for index, (start, end) in enumerate(lines):
        text = raw[start:end]
        kind, prefix = _boilerplate_kind(text, cue["boilerplate_line_starts"])
        if kind is None:
            if index == 0:
                regions.extend(_headline(raw, start, end, cue["section_label_max_chars"]))
            continue
        previous = regions[-1] if regions else None
        if previous and previous.kind == kind and not raw[previous.char_end : start].strip():
            regions[-1] = Region(
                kind, previous.char_start, end, raw[previous.char_start : end], previous.reason
            )
        else:
            reason = f"paragraph starts with {prefix!r} (a {kind.replace('_', ' ')} cue)"
            regions.append(Region(kind, start, end, text, reason))
    return regions


def _boilerplate_kind(text: str, starts: dict[str, list[str]]) -> tuple[str | None, str]:
    if len(text.split()) > BOILERPLATE_MAX_WORDS:
        return None, ""  # a long paragraph is article text, whatever its first word
    folded = text.replace("\u00a0", " ").casefold()
    for kind, prefixes in starts.items():
        for prefix in prefixes:
            if not folded.startswith(prefix.casefold()):
                continue
            rest = folded[len(prefix) :]
            if rest[:1].isalnum() and not prefix.endswith(" "):
                continue  # "Commentary", not "Comments"
            if " " not in prefix.strip() and not prefix.endswith(":") and len(rest.split()) > 3:
                continue  # a one-word cue ("Comments") only labels a short line, never a sentence
            return str(kind), prefix
    return None, ""


def _headline(raw: str, start: int, end: int, max_label: int) -> list[Region]:
    text = raw[start:end]
    label = re.search(r"\s(\|\s*[^|\n]{1," + str(max_label) + r"})$", text)
    if label is None:
        return [Region("headline", start, end, text, "first line of the text")]
    cut = start + label.start(1)
    head_end = start + len(text[: label.start(1)].rstrip())
    return [
        Region("headline", start, head_end, raw[start:head_end], "first line of the text"),
        Region("section_label", cut, end, raw[cut:end], "' | Label' at the end of the headline line"),
    ]


# --- actors -------------------------------------------------------------------------------


@dataclass
class _Context:
    """The text being drafted, with indexes that keep every lookup near-linear in its length."""

    raw: str
    published: date
    skip: list[tuple[int, int]]
    persons: list[Span] = field(default_factory=list)
    skip_mask: bytearray = field(default_factory=bytearray)
    sentence_starts: list[int] = field(default_factory=list)
    person_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.skip_mask = bytearray(len(self.raw))
        for start, end in self.skip:
            self.skip_mask[start:end] = b"\x01" * (end - start)
        self.sentence_starts = [0] + [m.end() for m in SENTENCE_END.finditer(self.raw)]

    def skipped(self, start: int, end: int) -> bool:
        """True when [start, end) touches a skipped (boilerplate) region."""
        return any(self.skip_mask[start:end])

    def set_persons(self, persons: list[Span]) -> None:
        """Record the person mentions (sorted by start) for speaker lookups."""
        self.persons = sorted(persons, key=lambda p: (p.char_start, p.char_end))
        self.person_starts = [p.char_start for p in self.persons]

    def persons_within(self, low: int, high: int) -> list[Span]:
        """Person mentions lying inside [low, high), in text order."""
        first = bisect.bisect_left(self.person_starts, low)
        last = bisect.bisect_left(self.person_starts, high)
        return [p for p in self.persons[first:last] if p.char_end <= high]

    def sentence_start(self, position: int) -> int:
        """Where the sentence holding ``position`` starts."""
        return self.sentence_starts[bisect.bisect_right(self.sentence_starts, position) - 1]


def _name_sequences(raw: str) -> Iterator[tuple[int, int]]:
    """Runs of capitalized words, allowing connectors ("University of Oxford")."""
    cue = cues()
    connectors = sorted(cue["name_connectors"], key=len, reverse=True)
    not_names = set(cue["not_names"])
    words = [m for m in WORD.finditer(raw)]
    index = 0
    while index < len(words):
        word = words[index]
        token = _clean(word.group())
        if not token[:1].isupper() or token in not_names:
            index += 1
            continue
        start, end, last = word.start(), word.start() + len(token), index
        probe = index + 1
        while probe < len(words):
            gap = raw[end : words[probe].start()]
            nxt = _clean(words[probe].group())
            if gap == " " and nxt[:1].isupper() and nxt not in not_names and token == word.group():
                end, last = words[probe].start() + len(nxt), probe
                token = nxt
                word = words[probe]
                probe += 1
                continue
            joined = _connector_run(raw, end, words, probe, connectors, not_names)
            if joined is not None:
                probe, end, word = joined
                token = _clean(word.group())
                last = probe
                probe += 1
                continue
            break
        yield start, end
        index = last + 1


def _connector_run(
    raw: str, end: int, words: list[re.Match[str]], probe: int, connectors: list[str], not_names: set[str]
) -> tuple[int, int, re.Match[str]] | None:
    for connector in connectors:
        size = len(connector.split())
        stop = probe + size
        if stop >= len(words):
            continue
        between = raw[end : words[stop].start()]
        if between != f" {connector} ":
            continue
        nxt = _clean(words[stop].group())
        if nxt[:1].isupper() and nxt not in not_names:
            return stop, words[stop].start() + len(nxt), words[stop]
    return None


def _clean(token: str) -> str:
    """A word without a possessive ending or trailing punctuation ("Putin’s" -> "Putin")."""
    for suffix in ("’s", "'s"):
        if token.endswith(suffix):
            token = token[: -len(suffix)]
    while token and token[-1] in ".'’-&":
        if token.endswith(".") and token in cues()["person_titles"]:
            break
        if token.endswith(".") and re.fullmatch(r"(?:[A-Z]\.)+", token):
            break
        token = token[:-1]
    return token


def _split_leading(raw: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Split a sequence into typed parts: demonyms, titles, countries and the name itself."""
    cue = cues()
    parts: list[tuple[int, int, str]] = []
    titles = sorted(cue["person_titles"], key=len, reverse=True)
    changed = True
    while changed and start < end:
        changed = False
        text = raw[start:end]
        first = text.split(" ")[0]
        if first in cue["demonyms"] and " " in text:
            parts.append((start, start + len(first), "demonym"))
            start += len(first) + 1
            changed = True
            continue
        for title in titles:
            if text.startswith(title + " "):
                parts.append((start, start + len(title), "title"))
                start += len(title) + 1
                changed = True
                break
        if changed:
            continue
        first_word = text.split(" ", 1)[0]
        for country in _countries_by_first_word().get(first_word, ()):
            if text.startswith(country + " ") and not _has_org_cue(text[len(country) + 1 :]):
                parts.append((start, start + len(country), "country"))
                start += len(country) + 1
                changed = True
                break
    if start < end:
        parts.append((start, end, "name"))
    return parts


def _has_org_cue(text: str) -> bool:
    cue = cues()
    words = set(text.split())
    if words & set(cue["organization_cues"]):
        return True
    return any(c in text for c in cue["government_cues"])


def _classify(raw: str, start: int, end: int, persons: set[str]) -> tuple[str, str, str] | None:
    """Propose (type, mention type, reason) for a name, or None when it is not a name."""
    cue = cues()
    text = raw[start:end]
    words = text.split()
    before = raw[max(0, start - 12) : start]
    after = raw[end : end + 40]
    if text in cue["demonyms"]:
        return "country", "adjective", f"demonym of {cue['demonyms'][text]}"
    if text in country_names():
        return "country", "full_name" if len(text) > 3 else "acronym", "country name (pycountry or cue list)"
    if any(c in text for c in cue["government_cues"]):
        return "government", "name", "government cue word"
    if set(words) & set(cue["organization_cues"]):
        return "organization", "full_name", "organization cue word"
    if text in cue["capitals"]:
        if re.search(r"\b(?:in|at|from|near|the|of)\s+$", before):
            return "place", "name", "capital city after a place preposition"
        return "government", "metonym", "capital city named as an actor (metonym for its government)"
    if text in cue["places"]:
        return "place", "name", "place name (cue list)"
    if _title_before().search(before):
        return "person", "full_name" if len(words) > 1 else "surname", "follows a title"
    if len(words) > 1:
        if re.search(r"\bthe\s+$", before):
            return (
                "organization",
                "name",
                "several capitalized words after 'the' (a person's name takes no article)",
            )
        if text.isupper():
            return "organization", "acronym", "upper-case name"
        return "person", "full_name", "two or more capitalized words with no organization cue"
    if text in persons:
        return "person", "surname", "a word of a person's full name given elsewhere in the text"
    if text.isupper() and len(text) > 1:
        return "organization", "acronym", "upper-case acronym"
    if _speech_verb_at(after.lstrip(" ,")) is not None and after[:1] in " ,":
        return "person", "name", "a single name followed by a speech verb"
    return None


def _speech_verb_at(text: str) -> str | None:
    match = _speech_verb_start().match(text)
    return match.group() if match else None


@functools.cache
def _speech_verb_start() -> re.Pattern[str]:
    verbs = "|".join(re.escape(v) for v in sorted(cues()["speech_verbs"], key=len, reverse=True))
    return re.compile(r"(?:" + verbs + r")\b")


@functools.cache
def _title_before() -> re.Pattern[str]:
    titles = "|".join(re.escape(t) for t in sorted(cues()["person_titles"], key=len, reverse=True))
    return re.compile(r"(?:" + titles + r")\s+$")


@functools.cache
def _countries_by_first_word() -> dict[str, tuple[str, ...]]:
    """Country names by their first word, longest first ("United States" before "United")."""
    index: dict[str, list[str]] = {}
    for name in sorted(country_names(), key=lambda n: (-len(n), n)):
        index.setdefault(name.split(" ", 1)[0], []).append(name)
    return {word: tuple(names) for word, names in index.items()}


def _media(raw: str) -> Iterator[tuple[int, int]]:
    """Known outlets anywhere in the text, case-insensitively (a copy may lowercase them)."""
    for outlet in sorted(cues()["media_outlets"], key=len, reverse=True):
        for match in re.finditer(r"(?<!\w)" + re.escape(outlet), raw, flags=re.IGNORECASE):
            if outlet.isupper() and match.group() != outlet:
                continue
            start = match.start()
            if match.group().startswith("the "):
                start += len("the ")  # "the Washington Post": the article, not the name
            yield start, match.end()


def actor_candidates(ctx: _Context, registry: Registry | None) -> list[Candidate]:
    """Actor mentions: registry names, known outlets and capitalized name sequences, typed from cues."""
    raw = ctx.raw
    found: list[Candidate] = []
    taken = bytearray(len(raw))

    def free(start: int, end: int) -> bool:
        return not ctx.skipped(start, end) and not any(taken[start:end])

    def add(start: int, end: int, label: str, mention: str, reason: str) -> None:
        taken[start:end] = b"\x01" * (end - start)
        found.append(Candidate("actor", start, end, raw[start:end], label, reason, mention_type=mention))

    if registry is not None:
        for known in sorted(registry.names, key=lambda k: (-len(k.name), k.name, k.actor_id)):
            for start in _whole_word(raw, known.name):
                end = start + len(known.name)
                if free(start, end):
                    label = _issue_type(known.actor_type)
                    reason = f"registry: {known.actor_id} ({known.actor_type})"
                    add(start, end, label, known.mention_type, reason)
    for start, end in _media(raw):
        if free(start, end):
            add(start, end, "media", "name", "known media outlet or platform (cue list)")
    sequences = [(s, e) for s, e in _name_sequences(raw) if free(s, e)]
    parts = [p for s, e in sequences for p in _split_leading(raw, s, e)]
    persons: set[str] = set()
    for start, end, part in parts:
        full = _classify(raw, start, end, set()) if part == "name" and " " in raw[start:end] else None
        if full is not None and full[0] == "person":
            persons.update(raw[start:end].split())
    for start, end, part in parts:
        if part == "title" or not free(start, end):
            continue
        if part == "demonym":
            add(start, end, "country", "adjective", f"demonym of {cues()['demonyms'][raw[start:end]]}")
            continue
        if part == "country":
            add(start, end, "country", "full_name", "country name (pycountry or cue list)")
            continue
        text = raw[start:end]
        if " " not in text and text.endswith("ing") and text not in cues()["places"] + cues()["capitals"]:
            continue  # a capitalized gerund mid-sentence ("China Supplying arms") is no name
        first, _, rest = text.partition(" ")
        if rest and first in persons and rest.split()[0] not in persons and _has_org_cue(rest):
            # "Biden White House": a person's name in front of an institution is its own mention.
            add(start, start + len(first), "person", "surname", "a person's name before an institution")
            start += len(first) + 1
        proposed = _classify(raw, start, end, persons)
        if proposed is not None:
            add(start, end, *proposed)
    found.sort(key=lambda c: (c.char_start, c.char_end))
    ctx.set_persons([Span(c.char_start, c.char_end, c.excerpt) for c in found if c.label == "person"])
    return found


def _issue_type(actor_type: str) -> str:
    mapping = {"media_outlet": "media", "international_body": "organization", "military": "government"}
    return mapping.get(actor_type, actor_type if actor_type in ISSUE_TYPES else "organization")


ISSUE_TYPES = ("person", "organization", "media", "government", "country", "place")


def _whole_word(raw: str, text: str) -> list[int]:
    if not text:
        return []
    head = r"(?<!\w)" if text[0].isalnum() else ""
    tail = r"(?!\w)" if text[-1].isalnum() else ""
    return [m.start() for m in re.finditer(head + re.escape(text) + tail, raw)]


# --- quotations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quote:
    open_at: int
    close_at: int
    nested: bool

    @property
    def inner(self) -> tuple[int, int]:
        return self.open_at + 1, self.close_at


def quote_pairs(raw: str) -> list[_Quote]:
    """Every quotation-mark pair: curly and straight doubles, single quotes nested inside them.

    A curly quotation left open at the end of a paragraph continues when the next paragraph
    opens with a quotation mark (the newspaper convention for multi-paragraph quotes).
    """
    pairs: list[_Quote] = []
    stack: list[tuple[str, int]] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\n" and stack:
            resume = BLANKS.match(raw, index).end()  # type: ignore[union-attr]
            if stack[0][0] == "“" and raw.startswith("“", resume):
                index = resume + 1  # the quote goes on in the next paragraph
                continue
            stack.clear()  # an unclosed quotation ends with its paragraph
        elif char == "“":
            stack.append(("“", index))
        elif char == "”" and stack and stack[-1][0] == "“":
            _, start = stack.pop()
            pairs.append(_Quote(start, index, nested=bool(stack)))
        elif char == '"':
            if stack and stack[-1][0] == '"' and _closes(raw, index):
                _, start = stack.pop()
                pairs.append(_Quote(start, index, nested=bool(stack)))
            elif _opens(raw, index):
                stack.append(('"', index))
        elif char in "‘'" and stack and _opens(raw, index):
            stack.append(("'", index))
        elif char in "’'" and stack and stack[-1][0] == "'" and _closes(raw, index):
            _, start = stack.pop()
            pairs.append(_Quote(start, index, nested=True))
        index += 1
    return sorted(pairs, key=lambda q: (q.open_at, q.close_at))


def _opens(raw: str, index: int) -> bool:
    before = raw[index - 1] if index else " "
    after = raw[index + 1] if index + 1 < len(raw) else " "
    return (before.isspace() or before in "([{—–-“‘\"'") and not after.isspace()


def _closes(raw: str, index: int) -> bool:
    before = raw[index - 1] if index else " "
    after = raw[index + 1] if index + 1 < len(raw) else " "
    return not before.isspace() and not after.isalnum()


def quotation_candidates(ctx: _Context) -> list[Candidate]:
    """One candidate per quotation-mark pair, with a proposed speaker."""
    raw = ctx.raw
    found = []
    for quote in quote_pairs(raw):
        start, end = quote.inner
        if ctx.skipped(quote.open_at, quote.close_at + 1) or start >= end:
            continue
        if quote.nested:
            reason = "quotation nested inside another quotation; its speaker is quoted by the outer speaker"
            found.append(Candidate("quotation", start, end, raw[start:end], "nested_quote", reason))
            continue
        speaker, why = propose_speaker(ctx, quote.open_at, quote.close_at + 1)
        label = "direct_quote" if _stands_alone(raw, quote) else "partial_quote"
        reason = f"{'straight' if raw[quote.open_at] == chr(34) else 'curly'} quotation marks; speaker: {why}"
        found.append(Candidate("quotation", start, end, raw[start:end], label, reason, speaker=speaker))
    return found


def _stands_alone(raw: str, quote: _Quote) -> bool:
    """A quotation that is a whole sentence (or clause) rather than a few words inside one."""
    inner = raw[quote.open_at + 1 : quote.close_at].rstrip()
    return bool(inner) and inner[:1].isupper() and (inner[-1] in ".,!?…" or len(inner.split()) > 6)


def propose_speaker(ctx: _Context, open_at: int, close_end: int) -> tuple[Span | None, str]:
    """The proposed speaker of the quotation [open_at, close_end), and why."""
    raw = ctx.raw
    stop = len(raw)
    for match in re.finditer(r"[.!?](?=\s)|\n|“|\"", raw[close_end:]):
        stop = close_end + match.start()
        break
    after = raw[close_end:stop]
    inner_end = raw[open_at + 1 : close_end - 1].rstrip()[-1:]
    # Only a quotation that ends its clause (“...,” / “...?”) takes an attribution after it.
    verb = _find_verb(after) if inner_end in (",", ".", "?", "!", "…", "—") else None
    if verb is not None and len(after[: verb[0]].split()) > 6:
        verb = None
    if verb is not None:
        verb_at = close_end + verb[0]
        named = ctx.persons_within(close_end, verb_at)
        if named:
            return named[-1], f"name before the speech verb {verb[1]!r} after the quotation"
        following = [
            p for p in ctx.persons_within(verb_at, verb_at + 200) if p.char_start < verb_at + len(verb[1]) + 3
        ]
        if following:
            return following[0], f"name after the speech verb {verb[1]!r} after the quotation"
        pronoun = _pronoun_before(raw, close_end, verb_at)
        if pronoun is not None:
            resolved = _resolve_pronoun(ctx, close_end)
            return resolved, f"pronoun {pronoun!r} with {verb[1]!r}, resolved to the last named person"
    sentence = ctx.sentence_start(open_at)
    before = raw[sentence:open_at]
    verbs = list(_all_verbs(before))
    if verbs:
        verb_at, verb_text = sentence + verbs[-1][0], verbs[-1][1]
        pronoun = _pronoun_before(raw, sentence, verb_at)
        if pronoun is not None:
            return _resolve_pronoun(ctx, verb_at), f"pronoun {pronoun!r} resolved to the last named person"
        named = ctx.persons_within(sentence, verb_at)
        if verb_text == "according to":
            named = [p for p in ctx.persons_within(verb_at + 1, verb_at + 200) if p.char_start < verb_at + 15]
        if named:
            return named[-1], f"name before the speech verb {verb_text!r} before the quotation"
    last = _last_person(ctx, open_at, paragraphs_back=2)
    if last is not None:
        return last, "no speech verb in the sentence: the last named person (quotation continues)"
    return None, "none found"


def _find_verb(text: str) -> tuple[int, str] | None:
    verbs = list(_all_verbs(text))
    return verbs[0] if verbs else None


def _all_verbs(text: str) -> Iterator[tuple[int, str]]:
    alternatives = "|".join(re.escape(v) for v in sorted(cues()["speech_verbs"], key=len, reverse=True))
    for match in re.finditer(r"(?<!\w)(?:" + alternatives + r")(?!\w)", text):
        yield match.start(), match.group()


def _pronoun_before(raw: str, start: int, verb_at: int) -> str | None:
    pronouns = "|".join(cues()["speaker_pronouns"])
    match = re.search(r"(?<!\w)(" + pronouns + r")\s+$", raw[start:verb_at])
    return match.group(1) if match else None


def _resolve_pronoun(ctx: _Context, position: int) -> Span | None:
    """The person a pronoun stands for: the last speaker named in the paragraph, else the last person."""
    raw = ctx.raw
    paragraph = raw.rfind("\n", 0, position) + 1
    for person in reversed(ctx.persons_within(paragraph, position)):
        if _speech_verb_at(raw[person.char_end : person.char_end + 30].lstrip(" ,")) is not None:
            return person
    return _last_person(ctx, position, paragraphs_back=3)


def _last_person(ctx: _Context, position: int, paragraphs_back: int) -> Span | None:
    floor = position
    for _ in range(paragraphs_back + 1):
        floor = max(0, ctx.raw.rfind("\n\n", 0, floor))
        if floor == 0:
            break
    earlier = ctx.persons_within(floor, position)
    return earlier[-1] if earlier else None


# --- dates ------------------------------------------------------------------------------------


def _date_pattern() -> re.Pattern[str]:
    numbers = "|".join(sorted(cues()["number_words"], key=len, reverse=True))
    month = "|".join(MONTHS)
    weekday = "|".join(WEEKDAYS)
    unit = r"(?:day|week|month|year)s?"
    return re.compile(
        r"(?<!\w)(?:"
        rf"(?P<absolute>(?:(?:{month})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)"
        rf"|(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{month})(?:,?\s+\d{{4}})?))"
        rf"|(?P<monthyear>(?:{month})\s+\d{{4}})"
        rf"|(?P<weekday>(?:[Oo]n\s+|[Ll]ast\s+|[Nn]ext\s+|[Tt]his\s+)?(?:{weekday}))"
        rf"|(?P<relative>(?:[Ll]ast|[Nn]ext|[Tt]his)\s+(?:week|month|year))"
        rf"|(?P<ago>(?:\d+|(?i:{numbers}))\s+{unit}\s+(?:ago|later|earlier|before|after))"
        rf"|(?P<vague>(?:[Dd]ays|[Ww]eeks|[Mm]onths|[Yy]ears)\s+(?:before|after|earlier|later|ago))"
        r"|(?P<deictic>[Yy]esterday|[Tt]oday|[Tt]omorrow)"
        rf"|(?P<month>(?:[Ii]n\s+)?(?:{month}))"
        r"|(?P<year>(?:[Ii]n\s+|[Ss]ince\s+|[Bb]y\s+|[Uu]ntil\s+)?(?:19|20)\d\d)"
        r")(?!\w)"
    )


def date_candidates(ctx: _Context) -> list[Candidate]:
    """Date expressions, resolved against the publication date with precision and basis."""
    raw = ctx.raw
    found = []
    for match in _date_pattern().finditer(raw):
        start, end = match.span()
        if ctx.skipped(start, end) or _is_part_of_name(raw, match):
            continue
        kind = str(match.lastgroup)
        future = _future_tense(raw[ctx.sentence_start(start) : start])
        resolved = resolve_date(match.group(), kind, ctx.published, future)
        if resolved is None:
            found.append(
                Candidate(
                    "date",
                    start,
                    end,
                    raw[start:end],
                    "unresolved",
                    f"{kind} expression; anchored on another event, not on the publication date: left empty",
                )
            )
            continue
        first, last, precision, basis, why = resolved
        found.append(
            Candidate(
                "date", start, end, raw[start:end], basis, why,
                date_start=first.isoformat(), date_end=last.isoformat(), date_precision=precision,
            )
        )  # fmt: skip
    return found


def _future_tense(before: str) -> bool:
    """True when the clause before a date expression speaks of the future ("will meet on Monday").

    A past-tense verb after the last future cue wins ("will follow up on agreements struck in
    November").
    """
    cues_found = list(FUTURE_CUES.finditer(before))
    if not cues_found:
        return False
    return not PAST_VERB.search(before[cues_found[-1].end() :])


def _is_part_of_name(raw: str, match: re.Match[str]) -> bool:
    # "May" the modal verb, "March" the verb: a bare month needs "in" or a capital-free context.
    if match.lastgroup != "month":
        return False
    text = match.group()
    if text.lower().startswith("in "):
        return False
    return text in ("May", "March", "August") or raw[match.end() : match.end() + 1] == "-"


DateResolution = tuple[date, date, str, str, str]


def resolve_date(text: str, kind: str, published: date, future: bool) -> DateResolution | None:
    """Resolve one date expression to (start, end, precision, basis, reason), or None."""
    lowered = text.lower()
    if kind == "absolute" or kind == "monthyear":
        return _absolute(text, published, future, kind)
    if kind == "weekday":
        day = next(d for d in WEEKDAYS if d.lower() in lowered)
        target = WEEKDAYS.index(day)
        if lowered.startswith("next") or (future and not lowered.startswith("last")):
            delta = (target - published.weekday()) % 7 or 7
            when, rule = published + timedelta(days=delta), "the next such weekday after publication"
        else:
            delta = (published.weekday() - target) % 7
            if lowered.startswith("last") and delta == 0:
                delta = 7
            when, rule = published - timedelta(days=delta), "the latest such weekday on or before publication"
        return when, when, "day", "resolved_relative", f"weekday: {rule}"
    if kind == "relative":
        return _relative(lowered, published)
    if kind == "ago":
        return _ago(lowered, published)
    if kind == "deictic":
        offset = {"yesterday": -1, "today": 0, "tomorrow": 1}[lowered]
        when = published + timedelta(days=offset)
        return when, when, "day", "resolved_relative", f"{lowered}, counted from the publication date"
    if kind == "month":
        name = text.split()[-1]
        month = MONTHS.index(name) + 1
        year = published.year
        if future and month < published.month:
            year += 1
        if not future and month > published.month:
            year -= 1
        first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        rule = "the next" if future else "the latest"
        return first, last, "month", "resolved_relative", f"month name: {rule} {name} relative to publication"
    if kind == "year":
        year = int(text.split()[-1])
        return date(year, 1, 1), date(year, 12, 31), "year", "stated", "a year stated in the text"
    return None


@functools.lru_cache(maxsize=1024)
def _absolute(text: str, published: date, future: bool, kind: str) -> DateResolution | None:
    import dateparser  # imported here: loading its language data is slow and only dates need it

    prefer = "future" if future else "past"
    settings = {
        "RELATIVE_BASE": datetime(published.year, published.month, published.day),
        "PREFER_DATES_FROM": prefer,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    if parsed is None:
        return None
    when = parsed.date()
    has_year = bool(re.search(r"\d{4}", text))
    basis = "stated" if has_year else "resolved_relative"
    if kind == "monthyear":
        first = date(when.year, when.month, 1)
        last = date(when.year, when.month, calendar.monthrange(when.year, when.month)[1])
        return first, last, "month", "stated", "month and year (parsed with dateparser)"
    why = "full date" if has_year else f"day and month; year from the publication date (prefer {prefer})"
    return when, when, "day", basis, f"{why} (parsed with dateparser)"


def _relative(lowered: str, published: date) -> DateResolution:
    which, unit = lowered.split()
    step = {"last": -1, "this": 0, "next": 1}[which]
    if unit == "week":
        if step == 0:
            first = published - timedelta(days=published.weekday())
            return first, first + timedelta(days=6), "week", "resolved_relative", "this week: the ISO week"
        if step < 0:
            first = published - timedelta(days=6)
            return (
                first,
                published,
                "week",
                "resolved_relative",
                "last week: the seven days ending on publication",
            )
        return (published + timedelta(days=1), published + timedelta(days=7), "week", "resolved_relative",
                "next week: the seven days after publication")  # fmt: skip
    if unit == "month":
        month_index = published.year * 12 + published.month - 1 + step
        year, month = divmod(month_index, 12)
        first = date(year, month + 1, 1)
        last = date(year, month + 1, calendar.monthrange(year, month + 1)[1])
        return (
            first,
            last,
            "month",
            "resolved_relative",
            f"{lowered}: calendar month from the publication date",
        )
    year = published.year + step
    return date(year, 1, 1), date(year, 12, 31), "year", "resolved_relative", f"{lowered}: calendar year"


def _ago(lowered: str, published: date) -> DateResolution | None:
    count_text, unit, direction = lowered.split()[-3:]
    if direction not in ("ago", "later"):
        return None  # "two days before the vote" is anchored on another event
    words: dict[str, int] = cues()["number_words"]
    count = int(count_text) if count_text.isdigit() else words[count_text]
    sign = -1 if direction == "ago" else 1
    unit = unit.rstrip("s")
    if unit == "day":
        when = published + timedelta(days=sign * count)
        return when, when, "day", "resolved_relative", f"{lowered}, counted from the publication date"
    if unit == "week":
        when = published + timedelta(days=sign * 7 * count)
        first, last = when - timedelta(days=when.weekday()), when + timedelta(days=6 - when.weekday())
        return (
            first,
            last,
            "week",
            "resolved_relative",
            f"{lowered}: the week that many weeks from publication",
        )
    if unit == "month":
        index = published.year * 12 + published.month - 1 + sign * count
        year, month = divmod(index, 12)
        last_day = calendar.monthrange(year, month + 1)[1]
        return (date(year, month + 1, 1), date(year, month + 1, last_day), "month", "resolved_relative",
                f"{lowered}: that calendar month")  # fmt: skip
    year = published.year + sign * count
    return date(year, 1, 1), date(year, 12, 31), "year", "resolved_relative", f"{lowered}: that calendar year"


# --- entry ------------------------------------------------------------------------------------


def draft_candidates(raw: str, published: date, registry: Registry | None) -> list[Candidate]:
    """Every candidate for ``raw`` (actors, quotations, dates), in text order; none in boilerplate.

    ``registry`` (known names and curated regions) is None for a draft from the text alone.
    """
    skip = [(r.char_start, r.char_end) for r in boilerplate_regions(raw) if r.kind != "headline"]
    if registry is not None:
        skip.extend(registry.regions)
    ctx = _Context(raw, published, sorted(skip))
    found = actor_candidates(ctx, registry) + quotation_candidates(ctx) + date_candidates(ctx)
    in_dates = bytearray(len(raw) + 1)
    for date_candidate in (c for c in found if c.kind == "date"):
        in_dates[date_candidate.char_start : date_candidate.char_end] = b"\x01" * len(date_candidate.excerpt)
    found = [c for c in found if c.kind != "actor" or not all(in_dates[c.char_start : c.char_end])]
    for candidate in found:
        _check_exact(raw, candidate)
        if ctx.skipped(candidate.char_start, candidate.char_end):
            raise AssertionError(f"candidate inside boilerplate: {candidate}")
    order = {"actor": 0, "quotation": 1, "date": 2}
    return sorted(found, key=lambda c: (c.char_start, c.char_end, order[c.kind], c.excerpt))


def _check_exact(raw: str, candidate: Candidate) -> None:
    """Refuse a candidate whose offsets do not select its excerpt (an explicit check, kept under -O)."""
    spans = [(candidate.char_start, candidate.char_end, candidate.excerpt)]
    if candidate.speaker is not None:
        spans.append((candidate.speaker.char_start, candidate.speaker.char_end, candidate.speaker.excerpt))
    for start, end, excerpt in spans:
        if raw[start:end] != excerpt:
            raise AssertionError(f"raw[{start}:{end}] is {raw[start:end]!r}, not {excerpt!r}")
