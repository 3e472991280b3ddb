-- The frame the event_participants suite validates: each participation with the event's
-- type, whether the role makes sense for that type of event, and whether the event's state
-- parties are all at one level (all countries or all governments, never a mix).
WITH fitting_roles(event_type, role) AS (
    VALUES ('vote', 'voter'), ('vote', 'voting_body'),
           ('interview', 'interviewer'), ('interview', 'interviewee'),
           ('invasion', 'aggressor'), ('invasion', 'target'),
           ('attack', 'aggressor'), ('attack', 'target'),
           ('request', 'requester'), ('request', 'requested_party'),
           ('report', 'publisher'), ('report', 'author'),
           ('briefing', 'briefer'), ('briefing', 'briefed'),
           ('warning', 'warner'), ('warning', 'warned'),
           ('sanctions', 'target'), ('sanctions', 'affected')
)
-- Rows are numbered by the participant's rowid (__gate_row): the staged table holds them in the published order
-- (by event, actor and role), so the frame needs no ORDER BY.
SELECT p.rowid AS __gate_row, p.*,
       e.event_type,
       p.role IN ('participant', 'host', 'speaker', 'author', 'publisher')
           OR EXISTS (SELECT 1 FROM fitting_roles f WHERE f.event_type = e.event_type AND f.role = p.role)
           AS role_fits_event,
       a.actor_type NOT IN ('country', 'government')
           OR NOT EXISTS (SELECT 1 FROM event_participants q JOIN actors b ON b.actor_id = q.actor_id
                          WHERE q.event_id = p.event_id AND b.actor_type IN ('country', 'government')
                            AND b.actor_type <> a.actor_type)
           AS state_parties_at_one_level
FROM event_participants p
JOIN events e USING (event_id)
JOIN actors a ON a.actor_id = p.actor_id
