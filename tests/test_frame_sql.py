"""The gates' frame SQL files (``validation/<table>.sql``) keep their values where a cheap test
settles a row first: each frame column equals the plain expression it replaced, on tiny tables
crossing the edge cases (non-ASCII letters and digits, CJK, combining marks, empty and missing
texts, NULL positions)."""

from __future__ import annotations

import itertools

import duckdb

from tests.conftest import REPO

# The name-evidence test as plain regular expressions (RE2's \pL \pN \p{Ll} \p{Lu}): the frame's
# evidence_is_the_name_only must equal it on every row.
NAME_ONLY = r"""
    m.char_start IS NULL OR coalesce(
        CASE WHEN m.char_start = 0 THEN true
             WHEN NOT regexp_matches((right(coalesce(m.prefix, ''), 1)
                                      || left(coalesce(m.excerpt, '') || coalesce(m.suffix, ''), 1)),
                                     '^[\pL\pN][\pL\pN]$') THEN true
             ELSE regexp_matches((right(coalesce(m.prefix, ''), 1)
                                  || left(coalesce(m.excerpt, '') || coalesce(m.suffix, ''), 1)),
                                 '^\p{Ll}\p{Lu}$') END
        AND CASE WHEN coalesce(m.suffix, '') = '' THEN true
             WHEN NOT regexp_matches((right(coalesce(m.prefix, '') || coalesce(m.excerpt, ''), 1)
                                      || left(coalesce(m.suffix, ''), 1)),
                                     '^[\pL\pN][\pL\pN]$') THEN true
             ELSE regexp_matches((right(coalesce(m.prefix, '') || coalesce(m.excerpt, ''), 1)
                                  || left(coalesce(m.suffix, ''), 1)),
                                 '^\p{Ll}\p{Lu}$') END
        AND CASE WHEN m.excerpt IS NULL THEN NULL WHEN NOT regexp_matches(m.excerpt, '\p{Ll}\p{Lu}') THEN true
             ELSE len(list_filter(regexp_extract_all(m.excerpt, '\p{Ll}\p{Lu}'),
                                  lambda x: NOT contains(a.canonical_name, x))) = 0 END, false)
"""

# Characters either side of a boundary: ASCII space, line break, tab, punctuation, letters and
# digits; Latin letters beyond ASCII (lower and upper), a CJK ideograph, a combining acute, an
# Arabic-Indic digit, a curly quote, a non-breaking space, DEL; empty and missing texts.
PREFIXES = [
    "said ",
    "said\n",
    "said\t",
    "(",
    "x",
    "Xa",
    "a5",
    "café",
    "ŁÓDŹ",
    "中",
    "e\u0301",
    "٣",
    "“",
    "\u00a0",
    "\x7f",
    "",
    None,
]
EXCERPTS = ["Ann Lee", "ann", "McLeod", "ÉmileÉcole", "Łódź", "中文", "\u0301Ann", "5G", "dĳŁ", "", None]
SUFFIXES = [" said", ".", ",", "s", "Z", "7", "é", "Ł", "中", "\u0301", "’", "@", "[", "{", "\x7f", "", None]
CANONICAL = ["Ann Lee", "Emile McLeod", "ÉmileÉcole Łódź 中文"]
STARTS = [None, 0, 12]


def test_actor_mentions_name_evidence_matches_the_plain_expression() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE actors (actor_id VARCHAR, canonical_name VARCHAR)")
    con.executemany("INSERT INTO actors VALUES (?, ?)", [[f"a{i}", n] for i, n in enumerate(CANONICAL)])
    con.execute(
        "CREATE TABLE actor_mentions (mention_id VARCHAR, actor_id VARCHAR, evidence_source_id VARCHAR, "
        "document_id VARCHAR, char_start BIGINT, char_end BIGINT, prefix VARCHAR, excerpt VARCHAR, "
        "suffix VARCHAR, is_external BOOLEAN)"
    )
    rows = [
        [
            f"m{n}",
            f"a{actor}",
            "d1",
            "d1",
            start,
            None if start is None else start + 5,
            prefix,
            excerpt,
            suffix,
            False,
        ]
        for n, (actor, start, prefix, excerpt, suffix) in enumerate(
            itertools.product(range(len(CANONICAL)), STARTS, PREFIXES, EXCERPTS, SUFFIXES)
        )
    ]
    con.executemany("INSERT INTO actor_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    frame = (REPO / "validation" / "actor_mentions.sql").read_text(encoding="utf-8")
    con.execute(f"CREATE TABLE frame AS {frame}")
    con.execute(
        f"CREATE TABLE plain AS SELECT m.mention_id, {NAME_ONLY} AS expected "
        "FROM actor_mentions m JOIN actors a USING (actor_id)"
    )
    differ = con.execute(
        "SELECT f.mention_id, f.prefix, f.excerpt, f.suffix, f.evidence_is_the_name_only, p.expected "
        "FROM frame f FULL JOIN plain p USING (mention_id) "
        "WHERE f.evidence_is_the_name_only IS DISTINCT FROM p.expected LIMIT 5"
    ).fetchall()
    assert differ == []
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT evidence_is_the_name_only) FROM frame"
    ).fetchone()
    assert counts is not None and counts[0] == len(rows) and 0 < counts[1] < counts[0]


def _same_rows(con: duckdb.DuckDBPyConnection, table: str, plain: str) -> None:
    """The frame of ``table`` (its SQL file) and ``plain`` give the same rows, as many times each."""
    frame = (REPO / "validation" / f"{table}.sql").read_text(encoding="utf-8")
    con.execute(f"CREATE TABLE numbered AS {frame}")
    if "__gate_row" in [row[0] for row in con.execute("DESCRIBE numbered").fetchall()]:
        # A frame numbering its own rows (gate.materialize_frame): one number per row, its table's rowid.
        numbers = con.execute(
            "SELECT count(*), count(DISTINCT __gate_row), max(__gate_row) FROM numbered"
        ).fetchone()
        total = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert numbers is not None and total is not None
        assert numbers[0] == numbers[1] and numbers[2] < total[0]
        con.execute("CREATE TABLE frame AS SELECT * EXCLUDE (__gate_row) FROM numbered ORDER BY __gate_row")
    else:
        con.execute("CREATE TABLE frame AS FROM numbered")
    con.execute(f"CREATE TABLE plain AS {plain}")
    assert con.execute("DESCRIBE frame").fetchall() == con.execute("DESCRIBE plain").fetchall()
    only = con.execute(
        "SELECT (SELECT count(*) FROM (FROM frame EXCEPT ALL FROM plain)), "
        "(SELECT count(*) FROM (FROM plain EXCEPT ALL FROM frame)), (SELECT count(*) FROM frame)"
    ).fetchone()
    assert only is not None and only[:2] == (0, 0) and only[2] > 0


# The actors frame as it was written first: mentions counted by a correlated subquery, the
# characters at each end cut out of the text joined to every actor.
PLAIN_ACTORS = r"""
SELECT a.*,
       (SELECT count(*) FROM actor_mentions m WHERE m.actor_id = a.actor_id) AS mention_count,
       f.actor_type AS affiliation_type,
       a.canonical_source_id IS NULL
           OR coalesce(a.canonical_basis = CASE WHEN cs.kind = 'fact_dossier' THEN 'external_dossier'
                                                ELSE 'external_reference' END, false)
           AS canonical_basis_matches_source,
       a.char_start IS NULL OR coalesce(
           (a.char_start = 0 OR NOT regexp_matches(substr(r.text, a.char_start, 2), '^[\pL\pN][\pL\pN]$')
                OR regexp_matches(substr(r.text, a.char_start, 2), '^\p{Ll}\p{Lu}$'))
           AND (a.char_end >= length(r.text)
                OR NOT regexp_matches(substr(r.text, a.char_end, 2), '^[\pL\pN][\pL\pN]$')
                OR regexp_matches(substr(r.text, a.char_end, 2), '^\p{Ll}\p{Lu}$'))
           AND len(list_filter(regexp_extract_all(a.excerpt, '\p{Ll}\p{Lu}'),
                               lambda x: NOT contains(a.canonical_name, x))) = 0, false)
           AS evidence_is_the_name_only
FROM actors a
LEFT JOIN actors f ON f.actor_id = a.affiliation_id
LEFT JOIN sources cs ON cs.source_id = a.canonical_source_id
LEFT JOIN raw_documents r ON r.document_id = a.document_id
"""


def test_actors_frame_matches_the_plain_query() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE sources (source_id VARCHAR, kind VARCHAR)")
    con.execute("INSERT INTO sources VALUES ('s1', 'fact_dossier'), ('s2', 'web')")
    # Texts: ASCII, non-ASCII letters either side, a combining mark, CJK, a digit, a glued
    # lower-upper pair; d2 twice (each actor on it is joined to both), d9 has no text.
    con.execute("CREATE TABLE raw_documents (document_id VARCHAR, text VARCHAR)")
    con.execute(
        "INSERT INTO raw_documents VALUES ('d1', 'Said Ann Lee, then éAnn Leeé.'), "
        "('d2', 'xAnn LeeZ 中Ann Lee中 e\u0301Ann Lee5'), ('d2', 'Ann Lee'), ('d3', ''), "
        "('d4', 'theAnn LeeSaid Łódź')"
    )
    con.execute(
        "CREATE TABLE actors (actor_id VARCHAR, canonical_name VARCHAR, affiliation_id VARCHAR, "
        "actor_type VARCHAR, canonical_source_id VARCHAR, canonical_basis VARCHAR, document_id VARCHAR, "
        "char_start BIGINT, char_end BIGINT, excerpt VARCHAR)"
    )
    places = [
        ("d1", 5, 12),
        ("d1", 0, 4),
        ("d1", 19, 26),
        ("d1", 18, 27),
        ("d1", 29, 40),
        ("d2", 1, 8),
        ("d2", 11, 18),
        ("d2", 22, 29),
        ("d2", 0, 7),
        ("d3", 0, 0),
        ("d3", 3, 5),
        ("d4", 3, 10),
        ("d4", 14, 18),
        ("d4", 13, 19),
        ("d9", 1, 2),
        (None, 1, 2),
        ("d1", None, None),
        ("d1", -2, -1),
    ]
    rows = [
        [
            f"a{i}",
            name,
            "a0" if i % 3 else None,
            "person",
            "s1" if i % 2 else None,
            "external_dossier" if i % 4 == 1 else "external_reference",
            doc,
            start,
            end,
            excerpt,
        ]
        for i, ((doc, start, end), (name, excerpt)) in enumerate(
            itertools.product(places, [("Ann Lee", "Ann Lee"), ("Ann Lee", "AnnLee"), ("McAnn", "McAnn")])
        )
    ]
    rows.append(rows[0])  # a duplicated actor row
    con.executemany("INSERT INTO actors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE actor_mentions (actor_id VARCHAR)")
    con.execute("INSERT INTO actor_mentions VALUES ('a0'), ('a0'), ('a1'), (NULL), ('zz')")
    _same_rows(con, "actors", PLAIN_ACTORS)


# The events frame as it was written first: counts and the reporter test as correlated subqueries.
PLAIN_EVENTS = r"""
SELECT e.*,
       (SELECT count(*) FROM event_participants p WHERE p.event_id = e.event_id) AS participant_count,
       (SELECT count(*) FROM votes v WHERE v.event_id = e.event_id) AS vote_count,
       e.date_basis <> 'stated' OR e.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       e.status <> 'planned' OR e.date_start IS NULL
           OR e.date_start >= getvariable('report_date') AS planned_not_in_past,
       e.date_source_id IS NULL
           OR coalesce((ds.kind = 'fact_dossier') = (e.date_basis = 'external_dossier'), false)
           AS dossier_date_flagged,
       e.status <> 'reported'
           OR EXISTS (SELECT 1 FROM statement_events l
                      WHERE l.event_id = e.event_id AND l.relation IN ('about', 'denies'))
           AS reported_event_has_a_reporter,
       NOT regexp_matches(e.title, '\b(January|February|March|April|May|June|July|August|September'
                                   '|October|November|December)\b|(^|[^/\w])(19|20)\d\d([^/\w]|$)')
           AS title_has_no_date
FROM events e
LEFT JOIN sources ds ON ds.source_id = e.date_source_id
"""


def test_events_frame_matches_the_plain_query() -> None:
    con = duckdb.connect()
    for name, value in (
        ("window_start", "2020-01-01"),
        ("window_end", "2024-12-31"),
        ("report_date", "2023-06-01"),
    ):
        con.execute(f"SET VARIABLE {name} = DATE '{value}'")
    con.execute("CREATE TABLE sources (source_id VARCHAR, kind VARCHAR)")
    con.execute("INSERT INTO sources VALUES ('s1', 'fact_dossier'), ('s2', 'web')")
    con.execute(
        "CREATE TABLE events (event_id VARCHAR, title VARCHAR, status VARCHAR, date_start DATE, "
        "date_basis VARCHAR, date_source_id VARCHAR)"
    )
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
        [
            ["e1", "Talks in May", "reported", "2021-05-01", "stated", "s1"],
            ["e2", "Talks", "reported", "2019-05-01", "external_dossier", "s1"],
            ["e3", "Vote of 2022", "planned", "2022-01-01", "stated", None],
            ["e4", "Vote", "planned", None, None, "s2"],
            ["e5", "Summit", None, "2023-07-01", "stated", "s9"],
            ["e5", "Summit", None, "2023-07-01", "stated", "s9"],
            [None, "Nameless", "reported", None, "stated", None],
            ["e6", "Denied", "reported", "2022-02-02", "stated", None],
        ],
    )
    con.execute("CREATE TABLE event_participants (event_id VARCHAR)")
    con.execute("INSERT INTO event_participants VALUES ('e1'), ('e1'), ('e5'), (NULL), ('e9')")
    con.execute("CREATE TABLE votes (event_id VARCHAR)")
    con.execute("INSERT INTO votes VALUES ('e3'), (NULL)")
    con.execute("CREATE TABLE statement_events (event_id VARCHAR, relation VARCHAR)")
    con.execute(
        "INSERT INTO statement_events VALUES ('e1', 'about'), ('e1', 'about'), ('e2', 'mentions'), "
        "('e6', 'denies'), (NULL, 'about'), ('e4', NULL)"
    )
    _same_rows(con, "events", PLAIN_EVENTS)
