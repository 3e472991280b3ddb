"""The provenance page (viewer/index.html), in a real browser: headless Chromium from Debian's
``chromium`` package, driven by Selenium through Debian's ``/usr/bin/chromedriver`` (``make
test`` installs both). In CI a missing browser fails the test; elsewhere it skips with the
reason. A screenshot is saved with the test output and in benchmarks/results/viewer.png."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from newstables.core.model import load_model
from newstables.project import Project
from newstables.tables import Table
from newstables.viewer import VIEWER_FILE, render, script_json, segments
from tests.conftest import REPO

PAGE = REPO / VIEWER_FILE
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = REPO / "benchmarks/results/viewer.png"
PROJECT = Project(REPO)
SCHEMAS = {r.name: r.descriptor() for r in load_model(REPO).resources}


def evidence_rows() -> set[tuple[str, str]]:
    """(table, id) of every published row with a non-empty excerpt, read from the CSV files."""
    con = duckdb.connect()
    rows = set()
    for table, schema in SCHEMAS.items():
        if "excerpt" not in {f["name"] for f in schema["fields"]}:  # documents: the text itself
            continue
        key = " || '/' || ".join(schema["primaryKey"])
        found = con.execute(
            f"SELECT {key} FROM read_csv('{REPO / 'data' / (table + '.csv')}', all_varchar=true) "
            "WHERE coalesce(excerpt, '') <> ''"
        ).fetchall()
        rows |= {(table, r[0]) for r in found}
    return rows


# --- without a browser ------------------------------------------------------------------------


def test_embedded_data_cannot_close_the_script_tag() -> None:
    hostile = "</script><script>alert(1)</script><!-- & \u2028"
    text = script_json({"title": hostile, "version": "1", "rows": [hostile]})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    page = render(
        {"title": hostile, "version": "1", "tables": [], "documents": [], "rows": [], "external": []}
    )
    assert page.count("</script>") == 2, "only the page's own two script tags close"
    assert "<script>alert(1)" not in page


def test_segments_count_code_points_not_utf16_units() -> None:
    text = "😀 Xi said “hi”."
    rows = [{"doc": "a", "s": 2, "e": 4, "t": "actor_mentions", "id": "x"}]
    pieces = segments(text, rows, "a")
    assert pieces == [["😀 ", []], ["Xi", [0]], [" said “hi”.", []]]


def test_the_page_is_self_contained() -> None:
    html = PAGE.read_text(encoding="utf-8")
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", html), "no external resource"
    assert "http://" not in html.split('<script type="application/json"')[0]


# --- in Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"{', '.join(missing)} missing: run `make test` (installs Debian chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1000")
    # An explicit driver path: Selenium Manager must never try to download a driver.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.get(PAGE.as_uri())
        yield driver
    finally:
        driver.quit()


def test_every_evidence_row_is_one_highlighted_element(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    elements = browser.find_elements(By.CSS_SELECTOR, "[data-table][data-id]")
    shown = [(e.get_attribute("data-table"), e.get_attribute("data-id")) for e in elements]
    expected = evidence_rows()
    assert len(shown) == len(expected)
    assert set(shown) == expected
    highlighted = browser.find_elements(By.CSS_SELECTOR, "#text .seg")
    assert highlighted, "the article text is highlighted"
    loaded = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert loaded == 0, "the page loads nothing from anywhere"


def test_clicking_a_statement_reveals_its_excerpt_and_marks_its_span(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    statement = browser.find_element(
        By.CSS_SELECTOR, '[data-table="statements"][data-id="hass-hasten-division"]'
    )
    excerpt = statement.find_element(By.CSS_SELECTOR, ".excerpt")
    assert not excerpt.is_displayed()
    statement.click()
    assert excerpt.is_displayed()
    assert excerpt.text.startswith("If China were to contribute materially")
    active = browser.find_elements(By.CSS_SELECTOR, "#text .seg.active")
    assert "".join(s.text for s in active).replace("\n", " ").startswith("If China were to contribute")
    browser.save_screenshot(str(tmp_path / "viewer.png"))
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "viewer.png", SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000


def test_clicking_a_span_lists_the_rows_resting_on_it(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    span = next(s for s in browser.find_elements(By.CSS_SELECTOR, "#text .seg") if s.text == "Liu Bingyu")
    span.click()
    visible = [e for e in browser.find_elements(By.CSS_SELECTOR, "[data-table][data-id]") if e.is_displayed()]
    ids = {(e.get_attribute("data-table"), e.get_attribute("data-id")) for e in visible}
    assert ("actor_mentions", "liu-pengyu@02436") in ids
    assert all("correction" in e.text for e in visible if e.get_attribute("data-table") == "actor_mentions")
    browser.find_element(By.ID, "showall").click()


def test_search_filters_the_rows(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "search")
    box.clear()
    box.send_keys("absolute consequences")
    visible = [e for e in browser.find_elements(By.CSS_SELECTOR, "[data-table][data-id]") if e.is_displayed()]
    ids = {e.get_attribute("data-id") for e in visible}
    assert "sullivan-absolute-consequences" in ids
    matches = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-table][data-id]'))"
        ".filter(e => !e.classList.contains('hidden')).map(e => e._search.includes(arguments[0]))",
        "absolute consequences",
    )
    assert matches and all(matches), "only matching rows stay visible"
    assert len(visible) < len(evidence_rows())
    assert browser.find_elements(By.CSS_SELECTOR, "#text .seg.found")
    box.clear()
    box.send_keys(" ")
    box.clear()


def test_fidelity_warnings_and_corrections_are_marked(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    differs = (
        duckdb.connect()
        .execute(
            f"SELECT statement_id FROM read_csv('{REPO / 'data/statements.csv'}', all_varchar=true) "
            "WHERE fidelity = 'paraphrased_copy_differs_from_wire'"
        )
        .fetchall()
    )
    for (statement_id,) in differs:
        row = browser.find_element(By.CSS_SELECTOR, f'[data-table="statements"][data-id="{statement_id}"]')
        assert row.find_elements(By.CSS_SELECTOR, ".flag.w"), statement_id
    assert browser.find_elements(By.CSS_SELECTOR, "#text .seg.warn")
    assert browser.find_elements(By.CSS_SELECTOR, "#text .seg.corr")

    def flagged(table: str, row_id: str) -> bool:
        row = browser.find_element(By.CSS_SELECTOR, f'[data-table="{table}"][data-id="{row_id}"]')
        return bool(row.find_elements(By.CSS_SELECTOR, ".flag:not(.w)"))

    # "Shi" is the garbled Xi Jinping; "Xi" is written right; Hass's statement is not a name.
    assert flagged("actor_mentions", "xi-jinping@03649") and flagged("actors", "ryan-hass")
    assert not flagged("actor_mentions", "xi-jinping@03872")
    assert not flagged("statements", "hass-hasten-division")


def test_the_validation_report_and_release_readme_link_the_page() -> None:
    report = (REPO / "validation/report/index.html").read_text(encoding="utf-8")
    assert 'href="../../viewer/index.html"' in report


def test_a_table_of_rows_renders_for_any_project(tmp_path: Path) -> None:
    """The page is written from the tables alone (no browser): rows without a document still
    get an element, so the count holds for rows whose article is not shipped."""
    from dataclasses import replace

    from newstables.core.model import load_package, parse_schema
    from newstables.viewer import page_data

    types = {"row_id": "string", "evidence_source_id": "string", "excerpt": "string"}
    types |= {"char_start": "integer", "char_end": "integer"}
    fields = [{"name": n, "type": t, "title": n, "description": n} for n, t in types.items()]
    schema = {"fields": fields, "primaryKey": ["row_id"]}
    resource = parse_schema(schema, "things.schema.json", {"name": "things"})
    table = Table(
        "things",
        resource,
        rows=[{"row_id": "a", "evidence_source_id": "doc", "excerpt": "x", "char_start": 0, "char_end": 1}],
    )
    package = replace(load_package(REPO), title="T", version="1")
    data = page_data(Project(tmp_path), {"things": table}, package)
    assert [(r["t"], r["id"]) for r in data["rows"]] == [("things", "a")]
    assert data["documents"] == []


def test_each_document_highlights_only_its_own_spans(tmp_path: Path) -> None:
    """Two documents: a span is drawn in the text of its ``document_id``, never at the same
    offsets of another document, even when both cite the same source row."""
    from dataclasses import replace

    from newstables.core.model import load_package, parse_schema
    from newstables.viewer import page_data

    for name, text in (("one", "Alpha said yes."), ("two", "Beta said no.")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "article.txt").write_text(text, encoding="utf-8")
    columns = {"document_id": "string", "path": "string"}
    docs = parse_schema(
        {
            "fields": [{"name": n, "type": t, "title": n, "description": n} for n, t in columns.items()],
            "primaryKey": ["document_id"],
        },
        "documents.schema.json",
        {"name": "documents"},
    )
    types = {"row_id": "string", "evidence_source_id": "string", "document_id": "string", "excerpt": "string"}
    types |= {"char_start": "integer", "char_end": "integer"}
    fields = [{"name": n, "type": t, "title": n, "description": n} for n, t in types.items()]
    schema = {"fields": fields, "primaryKey": ["row_id"]}
    things = parse_schema(schema, "things.schema.json", {"name": "things"})
    rows = [
        {"row_id": "a", "evidence_source_id": "one", "document_id": "one", "excerpt": "Alpha"},
        {"row_id": "b", "evidence_source_id": "one", "document_id": "two", "excerpt": "Beta"},
    ]
    rows[0] |= {"char_start": 0, "char_end": 5}
    rows[1] |= {"char_start": 0, "char_end": 4}
    tables = {
        "documents": Table(
            "documents",
            docs,
            rows=[{"document_id": d, "path": f"{d}/article.txt"} for d in ("one", "two")],
        ),
        "things": Table("things", things, rows=rows),
    }
    package = replace(load_package(REPO), title="T", version="1")
    data = page_data(Project(tmp_path), tables, package)
    drawn = {d["id"]: d["segments"] for d in data["documents"]}
    assert drawn["one"] == [["Alpha", [0]], [" said yes.", []]]
    assert drawn["two"] == [["Beta", [1]], [" said no.", []]]
