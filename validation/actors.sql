-- The frame the actors suite validates: each actor with its mention count and the type of
-- the actor it is affiliated with.
SELECT a.*,
       (SELECT count(*) FROM actor_mentions m WHERE m.actor_id = a.actor_id) AS mention_count,
       f.actor_type AS affiliation_type
FROM actors a
LEFT JOIN actors f ON f.actor_id = a.affiliation_id
ORDER BY a.actor_id
