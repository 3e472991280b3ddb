-- The frame the votes suite validates: each vote with the types of voter and body and the
-- date of its vote event.
SELEC v.*,
       voter.actor_type AS voter_type,
       body.actor_type AS body_type,
       v.vote_date IS NULL OR v.vote_date = e.date_start AS date_matches_event
FROM votes v
JOIN actors voter ON voter.actor_id = v.voter_id
JOIN actors body ON body.actor_id = v.body_id
JOIN events e ON e.event_id = v.event_id
ORDER BY v.vote_id
