-- Convenience views shipped in the DuckDB file. Plain SQL over the published tables.

-- Who said what, through which channel, with the speaker's canonical and written names.
CREATE VIEW statements_by_speaker AS
SELECT s.statement_id,
       a.canonical_name AS speaker,
       a.name_as_written AS speaker_as_written,
       a.actor_type AS speaker_type,
       s.statement_type,
       s.excerpt AS text,
       ch.title AS channel,
       s.date_start,
       s.date_basis,
       s.fidelity,
       s.char_start,
       s.char_end,
       s.reported_via_id AS reported_via,
       s.document_id
FROM statements s
JOIN actors a ON a.actor_id = s.speaker_id
LEFT JOIN sources ch ON ch.source_id = s.channel_source_id;

-- The story's timeline: one row per event, with its participants listed (by name, then role).
-- The list is built per event before the join (grouping by the event's id, not by all its
-- columns) and sorted with list_sort instead of an ordered string_agg (3x cheaper at 200,000
-- events): each item is 'name<NUL>role)', and NUL sorts before every character, so the order
-- is that of ORDER BY canonical_name, role (no role is a prefix of another); the NUL then
-- becomes ' ('.
CREATE VIEW timeline AS
SELECT e.event_id,
       e.date_start,
       e.date_end,
       e.date_precision,
       e.date_basis,
       e.event_type,
       e.status,
       e.title,
       e.location,
       l.participants
FROM events e
LEFT JOIN (
    SELECT p.event_id,
           replace(array_to_string(list_sort(list(a.canonical_name || chr(0) || p.role || ')')), '; '),
                   chr(0), ' (') AS participants
    FROM event_participants p
    JOIN actors a ON a.actor_id = p.actor_id
    GROUP BY p.event_id
) l ON l.event_id = e.event_id;

-- Every row, or group of columns, that rests on an external reference rather than on the
-- article text: whole rows flagged is_external, plus corrected names/roles, resolved dates
-- and fidelity notes that cite a source. One row per (table, row, columns, source).
CREATE VIEW external_facts AS
WITH claims AS (
    SELECT 'sources' AS table_name, source_id AS row_id, '*' AS columns, evidence_source_id AS source_id
    FROM sources WHERE is_external
    UNION ALL SELECT 'actors', actor_id, '*', evidence_source_id FROM actors WHERE is_external
    UNION ALL SELECT 'actors', actor_id, 'canonical_name, role_title, affiliation_id', canonical_source_id
    FROM actors WHERE canonical_source_id IS NOT NULL
    UNION ALL SELECT 'actors', actor_id, 'wikidata_qid', wikidata_source_id
    FROM actors WHERE wikidata_source_id IS NOT NULL
    UNION ALL SELECT 'actor_mentions', mention_id, '*', evidence_source_id FROM actor_mentions WHERE is_external
    UNION ALL SELECT 'statements', statement_id, '*', evidence_source_id FROM statements WHERE is_external
    UNION ALL SELECT 'statements', statement_id, 'date_start, date_end', date_source_id
    FROM statements WHERE date_source_id IS NOT NULL
    UNION ALL SELECT 'statements', statement_id, 'fidelity_note', fidelity_source_id
    FROM statements WHERE fidelity_source_id IS NOT NULL
    UNION ALL SELECT 'events', event_id, '*', evidence_source_id FROM events WHERE is_external
    UNION ALL SELECT 'events', event_id, 'date_start, date_end', date_source_id
    FROM events WHERE date_source_id IS NOT NULL
    UNION ALL SELECT 'event_participants', event_id || '/' || actor_id || '/' || role, '*', evidence_source_id
    FROM event_participants WHERE is_external
    UNION ALL SELECT 'statement_events', statement_id || '/' || event_id || '/' || relation, '*',
           evidence_source_id
    FROM statement_events WHERE is_external
    UNION ALL SELECT 'votes', vote_id, '*', evidence_source_id FROM votes WHERE is_external
    UNION ALL SELECT 'votes', vote_id, 'document_symbol, motion_title, vote_date, outcome', document_source_id
    FROM votes WHERE document_source_id IS NOT NULL
    UNION ALL SELECT 'sources', source_id, 'url, publisher_name, derived_from_id', metadata_source_id
    FROM sources WHERE metadata_source_id IS NOT NULL AND metadata_source_id <> source_id
    UNION ALL SELECT 'sources', source_id, 'date_published', date_source_id
    FROM sources WHERE date_source_id IS NOT NULL
)
SELECT c.table_name, c.row_id, c.columns, c.source_id, src.kind AS source_kind,
       src.title AS source_title, src.url AS source_url
FROM claims c
JOIN sources src ON src.source_id = c.source_id
WHERE src.kind IN ('external_reference', 'fact_dossier', 'original_report')
ORDER BY c.table_name, c.row_id, c.columns;

-- Who said what about whom: one row per statement and each actor or event it is about.
-- An actor is a subject when the statement's own words name it (a mention lying inside the
-- statement's excerpt; the speaker naming itself does not count); an event is one when the
-- statement is linked to it as `about` or `denies`. A statement about nothing recorded still
-- appears once, with empty subject columns. Portable SQL (no DuckDB-only functions).
CREATE VIEW who_said_what_about_whom AS
WITH named AS (
    SELECT s.statement_id, m.actor_id, m.excerpt, m.char_start,
           row_number() OVER (PARTITION BY s.statement_id, m.actor_id ORDER BY m.char_start) AS nth
    FROM statements s
    JOIN actor_mentions m
      ON m.document_id = s.document_id
     AND m.char_start >= s.char_start AND m.char_end <= s.char_end AND m.actor_id <> s.speaker_id
),
subjects AS (
    SELECT statement_id, 'actor' AS subject_type, actor_id AS subject_id, 'mentions' AS relation,
           excerpt AS subject_excerpt, char_start AS subject_char_start
    FROM named WHERE nth = 1
    UNION ALL
    SELECT statement_id, 'event', event_id, relation, excerpt, char_start
    FROM statement_events WHERE relation IN ('about', 'denies')
)
SELECT s.statement_id,
       sp.canonical_name AS speaker,
       s.speaker_id,
       s.statement_type,
       sub.relation,
       sub.subject_type,
       sub.subject_id,
       coalesce(a.canonical_name, e.title) AS subject,
       s.excerpt AS text,
       ch.title AS channel,
       s.channel_source_id,
       s.date_start,
       s.fidelity,
       s.evidence_source_id,
       s.char_start,
       s.char_end,
       s.is_external,
       sub.subject_excerpt,
       sub.subject_char_start,
       s.document_id,
       d.outlet,
       d.date_published AS document_date_published,
       d.url AS document_url
FROM statements s
JOIN actors sp ON sp.actor_id = s.speaker_id
LEFT JOIN subjects sub ON sub.statement_id = s.statement_id
LEFT JOIN actors a ON sub.subject_type = 'actor' AND a.actor_id = sub.subject_id
LEFT JOIN events e ON sub.subject_type = 'event' AND e.event_id = sub.subject_id
LEFT JOIN sources ch ON ch.source_id = s.channel_source_id
LEFT JOIN documents d ON d.document_id = s.document_id;

-- Which articles report each event: one row per report (the event's own evidence and every
-- curated report), with the document's outlet, address and date and the words that report it.
-- Portable SQL.
CREATE VIEW event_articles AS
SELECT e.event_id,
       e.title,
       e.event_type,
       e.status AS event_status,
       r.report_id,
       r.status AS status_in_report,
       r.origin,
       r.document_id,
       d.outlet,
       d.url,
       d.date_published,
       r.excerpt,
       r.char_start,
       r.char_end
FROM event_reports r
JOIN events e ON e.event_id = r.event_id
JOIN documents d ON d.document_id = r.document_id;

-- Rows per document: for each article, how many statements, actor mentions, distinct actors
-- and events rest on its text (each table grouped once, no correlated subquery). Portable SQL.
CREATE VIEW rows_per_document AS
SELECT d.document_id, d.outlet, d.date_published,
       coalesce(s.statements, 0) AS statements, coalesce(m.mentions, 0) AS mentions,
       coalesce(m.actors_mentioned, 0) AS actors_mentioned, coalesce(e.events, 0) AS events
FROM documents d
LEFT JOIN (SELECT document_id, count(*) AS statements FROM statements GROUP BY document_id) s
  ON s.document_id = d.document_id
LEFT JOIN (SELECT document_id, count(*) AS mentions, count(DISTINCT actor_id) AS actors_mentioned
           FROM actor_mentions GROUP BY document_id) m
  ON m.document_id = d.document_id
LEFT JOIN (SELECT document_id, count(*) AS events FROM events GROUP BY document_id) e
  ON e.document_id = d.document_id;

-- Every redirected id with the id it finally resolves to (chains followed to the end; the
-- build refuses loops and ends that name no row); final_id is NULL for a retracted id (a
-- tombstone, whose note says why). Portable SQL (recursive CTE).
CREATE VIEW resolved_redirects AS
WITH RECURSIVE chain(table_name, old_id, current_id, steps) AS (
    SELECT table_name, old_id, new_id, 1 FROM redirects
    UNION ALL
    SELECT c.table_name, c.old_id, r.new_id, c.steps + 1
    FROM chain c
    JOIN redirects r ON r.table_name = c.table_name AND r.old_id = c.current_id
    WHERE c.steps < 1000
)
SELECT c.table_name, c.old_id, c.current_id AS final_id, c.steps
FROM chain c
WHERE NOT EXISTS (
    SELECT 1 FROM redirects r WHERE r.table_name = c.table_name AND r.old_id = c.current_id
);

-- resolve_id('actors', 'some-old-id'): the live id an id published in any version names
-- today (itself when it was never redirected; NULL when it was retracted, see redirects.note). DuckDB only (SQLite has no macros: join
-- resolved_redirects there).
CREATE MACRO resolve_id(redirected_table, redirected_id) AS CASE
    WHEN EXISTS (SELECT 1 FROM resolved_redirects rr
                 WHERE rr.table_name = redirected_table AND rr.old_id = redirected_id)
    THEN (SELECT rr.final_id FROM resolved_redirects rr
          WHERE rr.table_name = redirected_table AND rr.old_id = redirected_id)
    ELSE redirected_id
END;

COMMENT ON VIEW statements_by_speaker IS 'Who said what: each statement with its speaker''s canonical and written names, type, channel, date, fidelity warning and document; reported_via names the statement it is relayed inside (count rows where it is NULL to count claims without double-counting words).';
COMMENT ON VIEW timeline IS 'The story''s timeline: one row per event with its dates, how each date is known (date_basis) and its participants.';
COMMENT ON VIEW external_facts IS 'Every row or value that rests on an external reference rather than on the article, with the reference.';
COMMENT ON VIEW who_said_what_about_whom IS 'Who said what about whom, in which articles: each statement with its speaker, channel, evidence and document (outlet, date, address), once per actor its words name and per event it is about or denies.';
COMMENT ON VIEW event_articles IS 'Which articles report each event: one row per report, with the document''s outlet, address, date and the words that report it.';
COMMENT ON VIEW rows_per_document IS 'Rows per document: for each article, how many statements, actor mentions, distinct actors and events rest on its text.';
COMMENT ON VIEW resolved_redirects IS 'Every id a later version merged or renamed, with the live id it finally resolves to (chains followed); DuckDB macro resolve_id(table, id) applies it.';
