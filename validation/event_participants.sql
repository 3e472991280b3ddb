-- The frame the event_participants suite validates: each participation with the event's
-- type and whether the role makes sense for that type of event.
WITH fitting_roles(event_type, role) AS (
    VALUES ('vote', 'voter'), ('vote', 'voting_body'),
           ('interview', 'interviewer'), ('interview', 'interviewee'),
           ('invasion', 'aggressor'), ('invasion', 'target'),
           ('attack', 'aggressor'), ('attack', 'target'),
           ('request', 'requester'), ('request', 'requested_party'),
           ('report', 'publisher'), ('report', 'author'),
           ('briefing', 'briefer'), ('briefing', 'briefed')
)
SELECT p.*,
       e.event_type,
       p.role IN ('participant', 'host', 'speaker', 'author', 'publisher')
           OR EXISTS (SELECT 1 FROM fitting_roles f WHERE f.event_type = e.event_type AND f.role = p.role)
           AS role_fits_event
FROM event_participants p
JOIN events e USING (event_id)
ORDER BY p.event_id, p.actor_id, p.role
