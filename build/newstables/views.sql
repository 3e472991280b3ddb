-- Convenience views shipped in the DuckDB file. Plain SQL over the published tables.

-- Who said what, through which channel, with the speaker's canonical and written names.
CREATE VIEW statements_by_speaker AS
SELECT s.statement_id,
       a.canonical_name AS speaker,
       a.name_as_written AS speaker_as_written,
       a.actor_type AS speaker_type,
       s.statement_type,
       s.excerpt AS text,
       ch.title AS channel,
       s.date_start,
       s.date_basis,
       s.fidelity,
       s.char_start,
       s.char_end
FROM statements s
JOIN actors a ON a.actor_id = s.speaker_id
LEFT JOIN sources ch ON ch.source_id = s.channel_source_id;

-- The story's timeline: one row per event, with its participants listed.
CREATE VIEW timeline AS
SELECT e.event_id,
       e.date_start,
       e.date_end,
       e.date_precision,
       e.date_basis,
       e.event_type,
       e.status,
       e.title,
       e.location,
       string_agg(a.canonical_name || ' (' || p.role || ')', '; ' ORDER BY a.canonical_name, p.role)
           AS participants
FROM events e
LEFT JOIN event_participants p ON p.event_id = e.event_id
LEFT JOIN actors a ON a.actor_id = p.actor_id
GROUP BY ALL;
