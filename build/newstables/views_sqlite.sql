-- The SQLite versions of the views of views.sql that use DuckDB-only SQL (3.31+), for
-- data/newstables.sqlite. The portable views are taken from views.sql as they are (one
-- definition each); publish_sqlite.views_sql() puts these in place of the DuckDB ones.
-- Same names, same columns, same rows (tests/test_sqlite.py compares each view with DuckDB's).
-- Booleans are 0/1 and dates ISO text in SQLite.

-- The story's timeline: one row per event, with its participants listed (ordered by name,
-- then role, as in DuckDB: SQLite before 3.44 has no ORDER BY inside group_concat, so the
-- list is built from an ordered subquery).
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
       (SELECT group_concat(label, '; ')
        FROM (SELECT a.canonical_name || ' (' || p.role || ')' AS label
              FROM event_participants p
              JOIN actors a ON a.actor_id = p.actor_id
              WHERE p.event_id = e.event_id
              ORDER BY a.canonical_name, p.role)) AS participants
FROM events e;
