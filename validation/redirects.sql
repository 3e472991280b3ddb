-- The frame the redirects suite validates: each redirect, whether it names another id, and
-- whether its chain (the shipped view resolved_redirects: followed to the end, at most 1000 steps) ends on the id of a live row of its
-- table (composite keys joined with '/', as the redirects name them) or is a retraction (no new_id).
WITH live(table_name, id) AS (
    SELECT 'documents', document_id FROM documents
    UNION ALL SELECT 'sources', source_id FROM sources
    UNION ALL SELECT 'actors', actor_id FROM actors
    UNION ALL SELECT 'actor_mentions', mention_id FROM actor_mentions
    UNION ALL SELECT 'actor_aliases', actor_id || '/' || alias FROM actor_aliases
    UNION ALL SELECT 'statements', statement_id FROM statements
    UNION ALL SELECT 'events', event_id FROM events
    UNION ALL SELECT 'event_reports', report_id FROM event_reports
    UNION ALL SELECT 'event_participants', event_id || '/' || actor_id || '/' || role FROM event_participants
    UNION ALL SELECT 'statement_events', statement_id || '/' || event_id || '/' || relation FROM statement_events
    UNION ALL SELECT 'votes', vote_id FROM votes
)
SELECT r.*,
       coalesce(r.old_id <> r.new_id, true) AS points_elsewhere,
       r.new_id IS NULL OR EXISTS (SELECT 1 FROM resolved_redirects c
               JOIN live l ON l.table_name = c.table_name AND l.id = c.final_id
               WHERE c.table_name = r.table_name AND c.old_id = r.old_id) AS resolves_to_a_row
FROM redirects r
ORDER BY r.table_name, r.old_id
