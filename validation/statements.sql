-- The frame the statements suite validates: each statement with its speaker's type, the
-- quotation-mark depth at the edges of its excerpt, whether it contains quoted words, the dates of the events it reports,
-- and the editorial checks: channel named in the statement's own paragraph (the carry-over rule), one channel per
-- speaker and paragraph, overlaps declared as nesting (reported_via_id) or joint (joint_with_id), dossier-only dates flagged.
-- A paragraph's number is the count of blank-line breaks before a position.
-- The depth is the count of “ minus the count of ” before a position, counted by what a plain
-- replace removes: a regular expression deleting every other character took 45 s on 10,000
-- statements. The removed bytes are counted (strlen: each mark is 3 bytes in UTF-8, a break 2),
-- which needs no walk through the characters as length() does.
WITH quote_depth AS (
    SELECT s.statement_id,
           (strlen(replace(left(r.text, s.char_start), '”', ''))
             - strlen(replace(left(r.text, s.char_start), '“', ''))) // 3 AS depth_at_start,
           (strlen(replace(left(r.text, s.char_end), '”', ''))
             - strlen(replace(left(r.text, s.char_end), '“', ''))) // 3 AS depth_at_end
    FROM statements s JOIN raw_documents r ON r.document_id = s.document_id
    WHERE s.char_start IS NOT NULL
),
reported AS (
    SELECT l.statement_id, max(e.date_start) AS latest_reported_event_start
    FROM statement_events l JOIN events e USING (event_id)
    WHERE l.relation IN ('about', 'denies') AND e.status <> 'planned'
    GROUP BY l.statement_id
),
paragraph_of(document_id, pos, paragraph) AS (
    SELECT p.document_id, p.pos,
           (strlen(left(r.text, p.pos)) - strlen(replace(left(r.text, p.pos), chr(10) || chr(10), ''))) // 2
    FROM (SELECT document_id, char_start AS pos FROM statements
          UNION SELECT document_id, char_start FROM sources
          UNION SELECT document_id, char_start FROM statement_events) p
    JOIN raw_documents r USING (document_id)
    WHERE p.pos IS NOT NULL
),
placed AS (
    SELECT s.*, po.paragraph
    FROM statements s LEFT JOIN paragraph_of po ON po.pos = s.char_start AND po.document_id = s.document_id
),
occasion_paragraphs AS (
    SELECT l.statement_id, po.paragraph
    FROM statement_events l JOIN paragraph_of po ON po.pos = l.char_start AND po.document_id = l.document_id
    WHERE l.relation IN ('made_in', 'made_after', 'planned_for') AND NOT l.is_external
)
SELECT s.* EXCLUDE (paragraph),
       a.actor_type AS speaker_type,
       q.depth_at_start = 1 AND q.depth_at_end = 1 AS inside_quotation_marks,
       regexp_matches(s.excerpt, '“[^“”]+”|"[^"]+"') AS contains_quoted_words,  -- curly or straight marks
       s.date_basis <> 'stated' OR s.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       s.date_end IS NULL OR p.latest_reported_event_start IS NULL
           OR s.date_end >= p.latest_reported_event_start AS not_before_reported_events,
       s.channel_source_id IS NULL OR s.paragraph IS NULL
           OR coalesce((SELECT po.paragraph FROM paragraph_of po
                        WHERE po.pos = ch.char_start AND po.document_id = s.document_id) = s.paragraph, false)
           OR EXISTS (SELECT 1 FROM occasion_paragraphs o
                      WHERE o.statement_id = s.statement_id AND o.paragraph = s.paragraph)
           AS channel_named_in_paragraph,
       NOT EXISTS (SELECT 1 FROM placed o
                   WHERE o.statement_id <> s.statement_id AND o.speaker_id = s.speaker_id
                     AND o.paragraph = s.paragraph AND o.document_id = s.document_id
                     AND o.channel_source_id IS DISTINCT FROM s.channel_source_id)
           AS one_channel_per_speaker_and_paragraph,
       NOT EXISTS (SELECT 1 FROM statements o
                   WHERE o.statement_id <> s.statement_id AND o.document_id = s.document_id
                     AND o.char_start < s.char_end AND s.char_start < o.char_end
                     AND NOT coalesce(
                         (s.reported_via_id = o.statement_id AND o.char_start <= s.char_start AND s.char_end <= o.char_end)
                         OR (o.reported_via_id = s.statement_id AND s.char_start <= o.char_start AND o.char_end <= s.char_end)
                         OR (o.char_start = s.char_start AND o.char_end = s.char_end
                             AND (s.joint_with_id = o.statement_id OR o.joint_with_id = s.statement_id
                                  OR s.joint_with_id = o.joint_with_id)), false))
           AS overlap_declared,
       s.reported_via_id IS NULL OR coalesce(via.char_start <= s.char_start AND s.char_end <= via.char_end, false)
           AS nested_inside_reported_via,
       s.joint_with_id IS NULL OR coalesce(joint.char_start = s.char_start AND joint.char_end = s.char_end, false)
           AS joint_on_the_same_words,
       s.date_source_id IS NULL OR coalesce((ds.kind = 'fact_dossier') = (s.date_basis = 'external_dossier'), false)
           AS dossier_date_flagged
FROM placed s
JOIN actors a ON a.actor_id = s.speaker_id
LEFT JOIN quote_depth q USING (statement_id)
LEFT JOIN reported p USING (statement_id)
LEFT JOIN sources ch ON ch.source_id = s.channel_source_id
LEFT JOIN statements via ON via.statement_id = s.reported_via_id
LEFT JOIN statements joint ON joint.statement_id = s.joint_with_id
LEFT JOIN sources ds ON ds.source_id = s.date_source_id
ORDER BY s.statement_id
