-- The frame the events suite validates: each event with its participant and vote counts,
-- whether a date resting on the facts dossier alone says so (date_basis), and whether the
-- title carries a date (a month name or a stand-alone year), which belongs in the date columns;
-- a `reported` event is attributed: some statement speaks of it (or denies it).
SELECT e.*,
       (SELECT count(*) FROM event_participants p WHERE p.event_id = e.event_id) AS participant_count,
       (SELECT count(*) FROM votes v WHERE v.event_id = e.event_id) AS vote_count,
       e.date_basis <> 'stated' OR e.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       e.status <> 'planned' OR e.date_start IS NULL
           OR e.date_start >= getvariable('report_date') AS planned_not_in_past,
       e.date_source_id IS NULL OR coalesce((ds.kind = 'fact_dossier') = (e.date_basis = 'external_dossier'), false)
           AS dossier_date_flagged,
       e.status <> 'reported'
           OR EXISTS (SELECT 1 FROM statement_events l
                      WHERE l.event_id = e.event_id AND l.relation IN ('about', 'denies'))
           AS reported_event_has_a_reporter,
       NOT regexp_matches(e.title, '\b(January|February|March|April|May|June|July|August|September|October|November|December)\b|(^|[^/\w])(19|20)\d\d([^/\w]|$)')
           AS title_has_no_date
FROM events e
LEFT JOIN sources ds ON ds.source_id = e.date_source_id
ORDER BY e.event_id
