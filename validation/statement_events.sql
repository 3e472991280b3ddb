-- The frame the statement_events suite validates: each link with the event's type.
SELECT l.*,
       e.event_type,
       l.relation <> 'made_in'
           OR e.event_type IN ('interview', 'statement', 'social_media_post', 'meeting', 'summit', 'call', 'report')
           AS made_in_a_speech_event
FROM statement_events l
JOIN events e USING (event_id)
ORDER BY l.statement_id, l.event_id, l.relation
