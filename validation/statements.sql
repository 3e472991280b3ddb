-- The frame the statements suite validates: each statement with its speaker's type, the
-- quotation-mark depth at the edges of its excerpt, whether it contains quoted words, and the dates of the events it reports.
WITH quote_depth AS (
    SELECT s.statement_id,
           length(regexp_replace(left(r.text, s.char_start), '[^“]', '', 'g'))
             - length(regexp_replace(left(r.text, s.char_start), '[^”]', '', 'g')) AS depth_at_start,
           length(regexp_replace(left(r.text, s.char_end), '[^“]', '', 'g'))
             - length(regexp_replace(left(r.text, s.char_end), '[^”]', '', 'g')) AS depth_at_end
    FROM statements s CROSS JOIN raw_article r
    WHERE s.char_start IS NOT NULL
),
reported AS (
    SELECT l.statement_id, max(e.date_start) AS latest_reported_event_start
    FROM statement_events l JOIN events e USING (event_id)
    WHERE l.relation IN ('about', 'denies') AND e.status <> 'planned'
    GROUP BY l.statement_id
)
SELECT s.*,
       a.actor_type AS speaker_type,
       q.depth_at_start = 1 AND q.depth_at_end = 1 AS inside_quotation_marks,
       regexp_matches(s.excerpt, '“[^“”]+”') AS contains_quoted_words,
       s.date_basis <> 'stated' OR s.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       s.date_end IS NULL OR p.latest_reported_event_start IS NULL
           OR s.date_end >= p.latest_reported_event_start AS not_before_reported_events
FROM statements s
JOIN actors a ON a.actor_id = s.speaker_id
LEFT JOIN quote_depth q USING (statement_id)
LEFT JOIN reported p USING (statement_id)
ORDER BY s.statement_id
