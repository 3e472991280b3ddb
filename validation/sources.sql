-- The frame the sources suite validates: each source with the number of rows and values
-- that rest on it, across every table and every column that references sources; whether its
-- address is a document's (not a bare site root), whether its title carries a date (which
-- belongs in date_published with its basis), and whether a dossier-only date says so.
WITH uses AS (
    SELECT evidence_source_id AS source_id FROM sources WHERE evidence_source_id <> source_id
    UNION ALL SELECT derived_from_id FROM sources
    UNION ALL SELECT metadata_source_id FROM sources WHERE metadata_source_id <> source_id
    UNION ALL SELECT date_source_id FROM sources
    UNION ALL SELECT evidence_source_id FROM actors
    UNION ALL SELECT canonical_source_id FROM actors
    UNION ALL SELECT evidence_source_id FROM actor_mentions
    UNION ALL SELECT evidence_source_id FROM statements
    UNION ALL SELECT channel_source_id FROM statements
    UNION ALL SELECT date_source_id FROM statements
    UNION ALL SELECT fidelity_source_id FROM statements
    UNION ALL SELECT evidence_source_id FROM events
    UNION ALL SELECT date_source_id FROM events
    UNION ALL SELECT evidence_source_id FROM event_participants
    UNION ALL SELECT evidence_source_id FROM statement_events
    UNION ALL SELECT evidence_source_id FROM votes
    UNION ALL SELECT document_source_id FROM votes
)
-- Rows are numbered by the source's rowid (__gate_row): the staged table holds them in the published order
-- (by source_id), so the frame needs no ORDER BY.
SELECT s.rowid AS __gate_row, s.*,
       (SELECT count(*) FROM uses u WHERE u.source_id = s.source_id) AS use_count,
       s.url IS NULL OR NOT regexp_matches(s.url, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*/?(#.*)?$')
           AS url_names_a_document,
       NOT regexp_matches(s.title, '\b(January|February|March|April|May|June|July|August|September|October|November|December)\b|(^|[^/\w])(19|20)\d\d([^/\w]|$)')
           AS title_has_no_date,
       s.date_source_id IS NULL OR coalesce((ds.kind = 'fact_dossier') = (s.date_basis = 'external_dossier'), false)
           AS dossier_date_flagged
FROM sources s
LEFT JOIN sources ds ON ds.source_id = s.date_source_id
