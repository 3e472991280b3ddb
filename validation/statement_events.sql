-- The frame the statement_events suite validates: each link with the event's type and status,
-- and whether a link saying where or when the statement was made (made_in, made_after,
-- planned_for) takes its evidence from the statement's own paragraph (or is an external row).
WITH paragraph_of(document_id, pos, paragraph) AS (
    SELECT p.document_id, p.pos,
           (strlen(left(r.text, p.pos)) - strlen(replace(left(r.text, p.pos), chr(10) || chr(10), ''))) // 2  -- bytes: a break is 2
    FROM (SELECT document_id, char_start AS pos FROM statements
          UNION SELECT document_id, char_start FROM statement_events) p
    JOIN raw_documents r USING (document_id)
    WHERE p.pos IS NOT NULL
)
SELECT l.*,
       e.event_type,
       e.status AS event_status,
       l.relation <> 'made_in'
           OR e.event_type IN ('interview', 'statement', 'social_media_post', 'meeting', 'summit', 'call', 'report')
           AS made_in_a_speech_event,
       l.relation <> 'made_in' OR e.status <> 'planned' AS made_in_not_planned,
       l.relation <> 'planned_for' OR e.status = 'planned' AS planned_for_a_planned_event,
       l.relation NOT IN ('made_in', 'made_after', 'planned_for') OR l.is_external OR s.char_start IS NULL
           OR coalesce((SELECT po.paragraph FROM paragraph_of po
                        WHERE po.pos = l.char_start AND po.document_id = l.document_id)
                       = (SELECT po.paragraph FROM paragraph_of po
                          WHERE po.pos = s.char_start AND po.document_id = s.document_id), false)
           AS occasion_in_statement_paragraph
FROM statement_events l
JOIN events e USING (event_id)
JOIN statements s USING (statement_id)
ORDER BY l.statement_id, l.event_id, l.relation
