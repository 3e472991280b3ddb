-- The frame the statements suite validates: each statement with its speaker's type, the
-- quotation-mark depth at the edges of its excerpt, whether it contains quoted words, the dates of the events it reports,
-- and the editorial checks: channel named in the statement's own paragraph (the carry-over rule), one channel per
-- speaker and paragraph, overlaps declared as nesting (reported_via_id) or joint (joint_with_id), dossier-only dates flagged.
-- A paragraph's number is the count of blank-line breaks (two newlines, taken left to right without overlap) wholly
-- before a position; the depth is the count of “ minus the count of ” before it. Positions are code points as left()
-- takes them: past the end means the whole text, a negative one drops that many from the end.
-- Written for a million statements (figures: CPU s at 1M statements, 2 cores): each document's text is read once
-- (marks): split at each kind of mark, its pieces' lengths give every mark's end, and a position's count is the
-- number of ends at or before it (a list_filter over about ten); copying each position's document prefix instead
-- (left(text, pos), then replace) was 5.2 s of the frame's 11.6. The pairwise checks (one channel per speaker and
-- paragraph, overlaps) first narrow to the statements that can fail them, found by a group or a window: the
-- self-joins over every document's statements were 1.5-2 s each. The frame is now 4.9-6 s (2.6-3.1 s wall).
-- Rows are numbered by the statement's rowid (__gate_row): the staged table holds the statements in the published
-- order (by statement_id), so the frame needs no ORDER BY.
WITH marks AS (
    SELECT document_id,
           list_sum(b)::BIGINT + 2 * (len(b) - 1) AS n,  -- the text's length
           list_transform(range(1, len(o)), lambda i: list_sum(o[1:i])::BIGINT + i) AS opens,
           list_transform(range(1, len(c)), lambda i: list_sum(c[1:i])::BIGINT + i) AS closes,
           list_transform(range(1, len(b)), lambda i: list_sum(b[1:i])::BIGINT + 2 * i) AS breaks
    FROM (SELECT document_id,
                 list_transform(string_split(text, '“'), lambda piece: length(piece)) AS o,
                 list_transform(string_split(text, '”'), lambda piece: length(piece)) AS c,
                 list_transform(string_split(text, chr(10) || chr(10)), lambda piece: length(piece)) AS b
          FROM raw_documents)
),
reported AS (
    SELECT l.statement_id, max(e.date_start) AS latest_reported_event_start
    FROM statement_events l JOIN events e USING (event_id)
    WHERE l.relation IN ('about', 'denies') AND e.status <> 'planned'
    GROUP BY l.statement_id
),
-- A channel's paragraph is that of its position in the statement's own document, when some statement, source or
-- link of that document starts there (always so when the channel is in that document).
channel_lookups AS MATERIALIZED (
    SELECT DISTINCT s.document_id, ch.char_start
    FROM statements s JOIN sources ch ON ch.source_id = s.channel_source_id
    WHERE ch.document_id IS DISTINCT FROM s.document_id AND s.document_id IS NOT NULL AND ch.char_start IS NOT NULL
),
channels_elsewhere AS (
    SELECT c.document_id, c.char_start
    FROM channel_lookups c
    WHERE EXISTS (SELECT 1
                  FROM (SELECT document_id, char_start FROM statements
                        UNION ALL SELECT document_id, char_start FROM sources
                        UNION ALL SELECT document_id, char_start FROM statement_events) p
                  WHERE p.document_id = c.document_id AND p.char_start = c.char_start)
),
positioned AS (
    SELECT s.*, s.rowid AS gate_row, m.opens, m.closes, m.breaks,
           CASE WHEN s.char_start < 0 THEN m.n + s.char_start ELSE s.char_start END AS start_at,
           CASE WHEN s.char_end < 0 THEN m.n + s.char_end ELSE s.char_end END AS end_at,
           CASE WHEN ch.document_id = s.document_id OR ce.char_start IS NOT NULL THEN
               CASE WHEN ch.char_start < 0 THEN m.n + ch.char_start ELSE ch.char_start END END AS channel_at
    FROM statements s
    LEFT JOIN marks m ON m.document_id = s.document_id
    LEFT JOIN sources ch ON ch.source_id = s.channel_source_id
    LEFT JOIN channels_elsewhere ce ON ce.document_id = s.document_id AND ce.char_start = ch.char_start
),
placed AS (
    SELECT s.* EXCLUDE (opens, closes, breaks, start_at, end_at, channel_at),
           CASE WHEN start_at IS NOT NULL THEN len(list_filter(breaks, lambda x: x <= start_at)) END AS paragraph,
           CASE WHEN channel_at IS NOT NULL THEN len(list_filter(breaks, lambda x: x <= channel_at)) END
               AS channel_paragraph,
           CASE WHEN start_at IS NOT NULL THEN
               len(list_filter(opens, lambda x: x <= start_at)) - len(list_filter(closes, lambda x: x <= start_at))
           END AS depth_at_start,
           CASE WHEN start_at IS NOT NULL AND end_at IS NOT NULL THEN
               len(list_filter(opens, lambda x: x <= end_at)) - len(list_filter(closes, lambda x: x <= end_at))
           END AS depth_at_end
    FROM positioned s
),
occasion_paragraphs AS (
    SELECT l.statement_id, len(list_filter(l.breaks, lambda x: x <= l.at)) AS paragraph
    FROM (SELECT l.statement_id, m.breaks,
                 CASE WHEN l.char_start < 0 THEN m.n + l.char_start ELSE l.char_start END AS at
          FROM statement_events l JOIN marks m ON m.document_id = l.document_id
          WHERE l.relation IN ('made_in', 'made_after', 'planned_for') AND NOT l.is_external
            AND l.char_start IS NOT NULL) l
),
-- A speaker's statements in one paragraph can differ in channel only where they do in the document: only those
-- statements are placed and compared pairwise.
channel_groups AS (
    SELECT document_id, speaker_id
    FROM statements
    WHERE document_id IS NOT NULL
    GROUP BY document_id, speaker_id
    HAVING min(channel_source_id) <> max(channel_source_id) OR count(channel_source_id) NOT IN (0, count(*))
),
channel_candidates AS MATERIALIZED (
    SELECT s.statement_id, s.document_id, s.speaker_id, s.channel_source_id,
           len(list_filter(s.breaks, lambda x: x <= s.at)) AS paragraph
    FROM (SELECT s.statement_id, s.document_id, s.speaker_id, s.channel_source_id, m.breaks,
                 CASE WHEN s.char_start < 0 THEN m.n + s.char_start ELSE s.char_start END AS at
          FROM statements s
          JOIN channel_groups g ON g.document_id = s.document_id AND g.speaker_id = s.speaker_id
          JOIN marks m ON m.document_id = s.document_id
          WHERE s.char_start IS NOT NULL) s
),
mixed_channels AS (
    SELECT DISTINCT s.statement_id, s.document_id, s.speaker_id, s.channel_source_id, s.paragraph
    FROM channel_candidates s JOIN channel_candidates o
      ON o.document_id = s.document_id AND o.speaker_id = s.speaker_id AND o.paragraph = s.paragraph
     AND o.statement_id <> s.statement_id AND o.channel_source_id IS DISTINCT FROM s.channel_source_id
),
-- A statement overlaps another only if their spans, taken from the lesser end to the greater one, touch: among the
-- spans of a document sorted by start, one touches an earlier one when the greatest earlier end reaches its start,
-- a later one when the next start is within it.
spans AS (
    SELECT statement_id, document_id, char_start, char_end, reported_via_id, joint_with_id,
           least(char_start, char_end) AS lo, greatest(char_start, char_end) AS hi
    FROM statements
    WHERE document_id IS NOT NULL AND char_start IS NOT NULL AND char_end IS NOT NULL
),
touching AS MATERIALIZED (
    SELECT * EXCLUDE (hi_before, lo_after)
    FROM (SELECT *,
                 max(hi) OVER (PARTITION BY document_id ORDER BY lo ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                     AS hi_before,
                 lead(lo) OVER (PARTITION BY document_id ORDER BY lo) AS lo_after
          FROM spans)
    WHERE hi_before >= lo OR lo_after <= hi
),
undeclared_overlaps AS (
    SELECT DISTINCT s.statement_id, s.document_id, s.char_start, s.char_end, s.reported_via_id, s.joint_with_id
    FROM touching s JOIN touching o
      ON o.document_id = s.document_id AND o.statement_id <> s.statement_id
     AND o.char_start < s.char_end AND s.char_start < o.char_end
     AND NOT coalesce(
         (s.reported_via_id = o.statement_id AND o.char_start <= s.char_start AND s.char_end <= o.char_end)
         OR (o.reported_via_id = s.statement_id AND s.char_start <= o.char_start AND o.char_end <= s.char_end)
         OR (o.char_start = s.char_start AND o.char_end = s.char_end
             AND (s.joint_with_id = o.statement_id OR o.joint_with_id = s.statement_id
                  OR s.joint_with_id = o.joint_with_id)), false)
)
SELECT s.gate_row AS __gate_row,
       s.* EXCLUDE (gate_row, paragraph, channel_paragraph, depth_at_start, depth_at_end),
       a.actor_type AS speaker_type,
       s.depth_at_start = 1 AND s.depth_at_end = 1 AS inside_quotation_marks,
       CASE WHEN NOT (contains(s.excerpt, '“') OR contains(s.excerpt, '"')) THEN false  -- a search is cheaper
            ELSE regexp_matches(s.excerpt, '“[^“”]+”|"[^"]+"') END AS contains_quoted_words,  -- curly or straight marks
       s.date_basis <> 'stated' OR s.date_start BETWEEN getvariable('window_start')
           AND getvariable('window_end') AS date_in_window_or_flagged,
       s.date_end IS NULL OR p.latest_reported_event_start IS NULL
           OR s.date_end >= p.latest_reported_event_start AS not_before_reported_events,
       s.channel_source_id IS NULL OR s.paragraph IS NULL
           OR coalesce(s.channel_paragraph = s.paragraph, false)
           OR EXISTS (SELECT 1 FROM occasion_paragraphs o
                      WHERE o.statement_id = s.statement_id AND o.paragraph = s.paragraph)
           AS channel_named_in_paragraph,
       mc.statement_id IS NULL AS one_channel_per_speaker_and_paragraph,
       u.statement_id IS NULL AS overlap_declared,
       s.reported_via_id IS NULL OR coalesce(via.char_start <= s.char_start AND s.char_end <= via.char_end, false)
           AS nested_inside_reported_via,
       s.joint_with_id IS NULL OR coalesce(joint.char_start = s.char_start AND joint.char_end = s.char_end, false)
           AS joint_on_the_same_words,
       s.date_source_id IS NULL OR coalesce((ds.kind = 'fact_dossier') = (s.date_basis = 'external_dossier'), false)
           AS dossier_date_flagged
FROM placed s
JOIN actors a ON a.actor_id = s.speaker_id
LEFT JOIN reported p USING (statement_id)
LEFT JOIN statements via ON via.statement_id = s.reported_via_id
LEFT JOIN statements joint ON joint.statement_id = s.joint_with_id
LEFT JOIN sources ds ON ds.source_id = s.date_source_id
LEFT JOIN mixed_channels mc
  ON mc.statement_id = s.statement_id AND mc.document_id = s.document_id AND mc.speaker_id = s.speaker_id
 AND mc.paragraph = s.paragraph AND mc.channel_source_id IS NOT DISTINCT FROM s.channel_source_id
LEFT JOIN undeclared_overlaps u  -- on every column the pairwise test reads, as a correlated NOT EXISTS would be
  ON u.statement_id = s.statement_id AND u.document_id = s.document_id AND u.char_start = s.char_start
 AND u.char_end = s.char_end AND u.reported_via_id IS NOT DISTINCT FROM s.reported_via_id
 AND u.joint_with_id IS NOT DISTINCT FROM s.joint_with_id
