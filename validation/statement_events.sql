-- The frame the statement_events suite validates: each link with the event's type and status,
-- and whether a link saying where or when the statement was made (made_in, made_after,
-- planned_for) takes its evidence from the statement's own paragraph (or is an external row).
-- A paragraph's number is the count of blank-line breaks (two newlines, taken left to right
-- without overlap) wholly before a position, in code points as left() takes them (past the end
-- means the whole text, a negative position drops that many from the end). Each document's text
-- is split once at its breaks, the pieces' lengths giving every break's end; a position's number
-- is the count of ends at or before it. Copying each position's document prefix instead
-- (left(text, pos)) made the frame 2.4 CPU s at 1M statements, now 1.9.
-- Rows are numbered by the link's rowid (__gate_row): the staged table holds the links in the
-- published order (by statement, event and relation), so the frame needs no ORDER BY.
WITH break_ends AS (
    SELECT document_id,
           list_sum(lens)::BIGINT + 2 * (len(lens) - 1) AS n,  -- the text's length
           list_transform(range(1, len(lens)), lambda i: list_sum(lens[1:i])::BIGINT + 2 * i) AS ends
    FROM (SELECT document_id,
                 list_transform(string_split(text, chr(10) || chr(10)), lambda piece: length(piece)) AS lens
          FROM raw_documents)
),
linked AS (
    SELECT l.*, l.rowid AS gate_row, e.event_type, e.status AS event_status, s.char_start AS statement_start,
           lb.ends AS link_breaks, sb.ends AS statement_breaks,
           CASE WHEN l.char_start < 0 THEN lb.n + l.char_start ELSE l.char_start END AS link_at,
           CASE WHEN s.char_start < 0 THEN sb.n + s.char_start ELSE s.char_start END AS statement_at
    FROM statement_events l
    JOIN events e USING (event_id)
    JOIN statements s USING (statement_id)
    LEFT JOIN break_ends lb ON lb.document_id = l.document_id
    LEFT JOIN break_ends sb ON sb.document_id = s.document_id
)
SELECT l.gate_row AS __gate_row,
       l.* EXCLUDE (gate_row, statement_start, link_breaks, statement_breaks, link_at, statement_at),
       l.relation <> 'made_in'
           OR l.event_type IN ('interview', 'statement', 'social_media_post', 'meeting', 'summit', 'call', 'report')
           AS made_in_a_speech_event,
       l.relation <> 'made_in' OR l.event_status <> 'planned' AS made_in_not_planned,
       l.relation <> 'planned_for' OR l.event_status = 'planned' AS planned_for_a_planned_event,
       l.relation NOT IN ('made_in', 'made_after', 'planned_for') OR l.is_external OR l.statement_start IS NULL
           OR coalesce(CASE WHEN l.link_at IS NOT NULL THEN len(list_filter(l.link_breaks, lambda x: x <= l.link_at)) END
                       = len(list_filter(l.statement_breaks, lambda x: x <= l.statement_at)), false)
           AS occasion_in_statement_paragraph
FROM linked l
