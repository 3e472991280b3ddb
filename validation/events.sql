-- The frame the events suite validates: each event with its participant and vote counts.
SELECT e.*,
       (SELECT count(*) FROM event_participants p WHERE p.event_id = e.event_id) AS participant_count,
       (SELECT count(*) FROM votes v WHERE v.event_id = e.event_id) AS vote_count,
       e.date_basis <> 'stated' OR e.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       e.status <> 'planned' OR e.date_start IS NULL
           OR e.date_start >= getvariable('report_date') AS planned_not_in_past
FROM events e
ORDER BY e.event_id
