"""Articles of the corpus: register one (``newstables add``) and open one by its document id.

An article is stored byte for byte as ``data/articles/<document_id>/article.txt`` next to its
``meta.yaml``. Everything is checked before anything is written, and the folder appears in
one rename (written in a temporary folder inside ``data/articles`` first), so a refused or
interrupted ``add`` leaves the corpus as it was. The seed article is document ``article``
(``data/articles/article/``, or ``data/raw/article.txt`` in the legacy single-article layout);
every path goes through the one lookup ``project.document_text_path``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from newstables.errors import NewstablesError
from newstables.project import ARTICLES, SEED_DOCUMENT, Project, document_ids, document_text_path

SEED_ID = SEED_DOCUMENT
SEED_PUBLISHED = date(2022, 3, 13)
MAX_BYTES = 5 * 1024 * 1024
# A document id becomes a folder name: lower-case ASCII words joined by single hyphens.
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ID_MAX_CHARS = 80
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Document:
    """An article of the corpus: its id, text file, publication date and recorded hash."""

    document_id: str
    path: Path
    published: date
    sha256: str | None
    meta_path: Path | None


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def check_article_bytes(data: bytes, name: str) -> str:
    """Decode an article, refusing what would break code-point offsets; return its text."""
    if not data.strip():
        raise NewstablesError("add-article-empty", file=name)
    if b"\x00" in data:
        raise NewstablesError("add-article-nul", file=name, offset=data.index(b"\x00"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NewstablesError("article-not-utf8", file=name, offset=exc.start) from exc
    control = CONTROL.search(text)
    if control:
        raise NewstablesError(
            "add-article-binary", file=name, offset=control.start(), char=f"U+{ord(control.group()):04X}"
        )
    if text.startswith("\ufeff"):
        raise NewstablesError("article-has-bom", file=name, line=1)
    if not unicodedata.is_normalized("NFC", text):
        first = next(i for i, c in enumerate(text) if not unicodedata.is_normalized("NFC", text[i : i + 2]))
        raise NewstablesError(
            "add-article-not-nfc", file=name, offset=first, line=text[:first].count("\n") + 1
        )
    _check_line_endings(text, name)
    return text


def _check_line_endings(text: str, name: str) -> None:
    crlf = text.count("\r\n")
    lone_cr = len(re.findall(r"\r(?!\n)", text))
    lone_lf = len(re.findall(r"(?<!\r)\n", text))
    used = [kind for kind, count in (("CRLF", crlf), ("CR", lone_cr), ("LF", lone_lf)) if count]
    if len(used) > 1:
        second = re.search({"CRLF": r"\r\n", "CR": r"\r(?!\n)", "LF": r"(?<!\r)\n"}[used[1]], text)
        line = text[: second.start()].count("\n") + 1 if second else 0
        raise NewstablesError(
            "add-article-mixed-line-endings", file=name, line=line, found=" and ".join(used)
        )


def _check_path(path: Path) -> Path:
    name = str(path)
    if path.is_symlink():
        raise NewstablesError("add-path-is-symlink", file=name)
    if path.is_dir():
        raise NewstablesError("add-path-is-folder", file=name)
    if path.exists() and not path.is_file():
        raise NewstablesError("add-path-not-a-file", file=name)
    if not path.is_file():
        raise NewstablesError("add-path-missing", file=name)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise NewstablesError("add-article-too-large", file=name, found=size, expected=MAX_BYTES)
    return path


def _read_capped(path: Path) -> bytes:
    # Read at most one byte past the cap: a file that grows after stat() is still refused.
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise NewstablesError("add-article-too-large", file=str(path), found=len(data), expected=MAX_BYTES)
    return data


def check_document_id(document_id: str) -> str:
    """Refuse an id that is not a safe, readable slug (it becomes a folder name)."""
    if len(document_id) > ID_MAX_CHARS or not ID_PATTERN.fullmatch(document_id):
        raise NewstablesError(
            "add-invalid-id",
            field="--id",
            value=document_id,
            expected=f"{ID_PATTERN.pattern}, at most {ID_MAX_CHARS}",
        )
    return document_id


def default_id(outlet: str, published: date, digest: str) -> str:
    """A readable id: outlet slug, publication date and the first 8 hex digits of the hash."""
    folded = unicodedata.normalize("NFKD", outlet).encode("ascii", "ignore").decode("ascii").lower()
    slug = "-".join(re.findall(r"[a-z0-9]+", folded))[:40].strip("-") or "article"
    return f"{slug}-{published.isoformat()}-{digest[:8]}"


def parse_day(value: str, option: str) -> date:
    """Parse a YYYY-MM-DD option value, refusing anything else."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise NewstablesError("add-invalid-option", field=option, value=value, expected="YYYY-MM-DD") from exc


def known_documents(project: Project) -> dict[str, str]:
    """sha256 -> document id for every article of the corpus, the seed included."""
    known: dict[str, str] = {}
    for document_id in document_ids(project):
        article = document_text_path(project, document_id)
        meta_path = article.parent / "meta.yaml" if article.name == "article.txt" else None
        digest: Any = None
        if meta_path is not None and article.parent.name == document_id and meta_path.is_file():
            digest = _load_meta(project, meta_path).get("sha256")
        if not digest and article.is_file() and not article.is_symlink():
            digest = sha256_hex(article.read_bytes())
        if isinstance(digest, str):
            known.setdefault(digest, document_id)
    return known


def add_article(
    project: Project,
    source: Path,
    outlet: str,
    url: str,
    published: str,
    document_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Document:
    """Register an article: check it, refuse duplicates, write ``article.txt`` and ``meta.yaml``."""
    day = parse_day(published, "--published")
    for option, value in (("--outlet", outlet), ("--url", url)):
        if not value.strip():
            raise NewstablesError(
                "add-invalid-option", field=option, value=value, expected="a non-empty value"
            )
    data = _read_capped(_check_path(source))
    text = check_article_bytes(data, str(source))
    digest = sha256_hex(data)
    existing = known_documents(project).get(digest)
    if existing is not None:
        raise NewstablesError("add-duplicate-article", file=str(source), sha256=digest, other=existing)
    doc_id = check_document_id(document_id if document_id is not None else default_id(outlet, day, digest))
    folder = project.path(ARTICLES)
    if folder.is_symlink():
        raise NewstablesError("corpus-path-is-symlink", file=project.rel(folder))
    target = folder / doc_id
    if doc_id == SEED_ID or target.exists() or target.is_symlink():
        raise NewstablesError("add-id-exists", field="--id", value=doc_id, file=project.rel(target))
    meta = _meta(doc_id, outlet, url, day, data, text, extra or {})
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".add-", dir=folder))
    try:
        (staging / "article.txt").write_bytes(data)
        (staging / "meta.yaml").write_text(_dump_meta(meta), encoding="utf-8")
        for written in staging.iterdir():
            _fsync(written)
        os.chmod(staging, 0o755)
        try:
            staging.rename(target)  # atomic; refuses a non-empty folder that appeared meanwhile
        except OSError as exc:
            raise NewstablesError(
                "add-id-exists", field="--id", value=doc_id, file=project.rel(target)
            ) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Document(doc_id, target / "article.txt", day, digest, target / "meta.yaml")


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


META_HEADER = (
    "# Metadata of one article of the corpus, written by `newstables add`.\n"
    "# Empty values are unknown: fill them in by hand (never guess). sha256 and bytes are of\n"
    "# article.txt exactly as received; `newstables draft` refuses an article that changed.\n"
)


def _meta(
    doc_id: str, outlet: str, url: str, day: date, data: bytes, text: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "outlet": outlet,
        "url": url,
        "published": day.isoformat(),
        "published_precision": "day",
        "published_basis": "stated",
        "language": extra.get("language"),
        "captured": extra.get("captured"),
        "rights": extra.get("rights"),
        "relation": extra.get("relation"),
        "sha256": sha256_hex(data),
        "bytes": len(data),
        "characters": len(text),
        "line_ending": "CRLF" if "\r\n" in text else "CR" if "\r" in text else "LF",
    }


def _dump_meta(meta: dict[str, Any]) -> str:
    body = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return META_HEADER + body


def _load_meta(project: Project, path: Path) -> dict[str, Any]:
    name = project.rel(path)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise NewstablesError(
            "draft-meta-invalid", file=name, field="-", detail=str(exc).splitlines()[0]
        ) from exc
    if not isinstance(loaded, dict):
        raise NewstablesError("draft-meta-invalid", file=name, field="-", detail="expected a mapping")
    return loaded


def open_document(project: Project, document_id: str) -> Document:
    """Find a document by id (the seed is ``article``), refusing unknown ids."""
    path = document_text_path(project, document_id)
    if document_id == SEED_ID and path.parent.name != SEED_ID:  # the legacy layout: data/raw/article.txt
        return Document(SEED_ID, path, SEED_PUBLISHED, None, None)
    folder = path.parent
    if not ID_PATTERN.fullmatch(document_id) or not (folder / "meta.yaml").is_file():
        raise NewstablesError(
            "draft-unknown-document", value=document_id, file=project.rel(project.path(ARTICLES))
        )
    meta_path = folder / "meta.yaml"
    meta = _load_meta(project, meta_path)
    published = str(meta.get("published") or "")
    try:
        day = date.fromisoformat(published)
    except ValueError as exc:
        raise NewstablesError(
            "draft-meta-invalid",
            file=project.rel(meta_path),
            field="published",
            detail=f"{published!r} is not YYYY-MM-DD",
        ) from exc
    digest = meta.get("sha256")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise NewstablesError(
            "draft-meta-invalid",
            file=project.rel(meta_path),
            field="sha256",
            detail=f"{digest!r} is not the 64-hex-digit SHA-256 that `newstables add` records",
        )
    return Document(document_id, folder / "article.txt", day, digest, meta_path)


def read_document(project: Project, document: Document) -> str:
    """The document's text, after checking it is still the article that was added."""
    name = project.rel(document.path)
    if document.path.is_symlink() or not document.path.is_file():
        raise NewstablesError("article-missing", file=name)
    data = document.path.read_bytes()
    if document.sha256 is not None and sha256_hex(data) != document.sha256:
        raise NewstablesError(
            "draft-article-changed",
            file=name,
            found=sha256_hex(data),
            expected=document.sha256,
            meta=project.rel(document.meta_path) if document.meta_path else "-",
        )
    return check_article_bytes(data, name)
