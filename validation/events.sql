-- The frame the events suite validates: each event with its participant and vote counts,
-- whether a date resting on the facts dossier alone says so (date_basis), and whether the
-- title carries a date (a month name or a stand-alone year), which belongs in the date columns;
-- a `reported` event is attributed: some statement speaks of it (or denies it).
-- The counts and the reporter test join each table once, aggregated (a correlated
-- subquery per column joined events to a copy of their ids first): 0.5-0.6 to 0.4 CPU s at
-- 200,000 events.
-- Rows are numbered by the event's rowid (__gate_row): the staged table holds them in the published order
-- (by event_id), so the frame needs no ORDER BY.
SELECT e.rowid AS __gate_row, e.*,
       coalesce(pc.n, 0) AS participant_count,
       coalesce(vc.n, 0) AS vote_count,
       e.date_basis <> 'stated' OR e.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       e.status <> 'planned' OR e.date_start IS NULL
           OR e.date_start >= getvariable('report_date') AS planned_not_in_past,
       e.date_source_id IS NULL OR coalesce((ds.kind = 'fact_dossier') = (e.date_basis = 'external_dossier'), false)
           AS dossier_date_flagged,
       e.status <> 'reported' OR rep.event_id IS NOT NULL AS reported_event_has_a_reporter,
       NOT regexp_matches(e.title, '\b(January|February|March|April|May|June|July|August|September|October|November|December)\b|(^|[^/\w])(19|20)\d\d([^/\w]|$)')
           AS title_has_no_date
FROM events e
LEFT JOIN sources ds ON ds.source_id = e.date_source_id
LEFT JOIN (SELECT event_id, count(*) AS n FROM event_participants GROUP BY event_id) pc ON pc.event_id = e.event_id
LEFT JOIN (SELECT event_id, count(*) AS n FROM votes GROUP BY event_id) vc ON vc.event_id = e.event_id
LEFT JOIN (SELECT DISTINCT event_id FROM statement_events WHERE relation IN ('about', 'denies')) rep
    ON rep.event_id = e.event_id
