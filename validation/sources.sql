-- The frame the sources suite validates: each source with the number of rows and values
-- that rest on it, across every table and every column that references sources.
WITH uses AS (
    SELECT evidence_source_id AS source_id FROM sources WHERE evidence_source_id <> source_id
    UNION ALL SELECT derived_from_id FROM sources
    UNION ALL SELECT metadata_source_id FROM sources WHERE metadata_source_id <> source_id
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
SELECT s.*,
       (SELECT count(*) FROM uses u WHERE u.source_id = s.source_id) AS use_count
FROM sources s
ORDER BY s.source_id
