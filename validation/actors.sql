-- The frame the actors suite validates: each actor with its mention count, the type of
-- the actor it is affiliated with, whether its canonical basis matches the kind of its
-- canonical source (the facts dossier alone is `external_dossier`), and whether its name
-- evidence covers the name only (word boundaries at both ends, where a change from lower to
-- upper case counts as one, and no glued word that the canonical name lacks).
SELECT a.*,
       (SELECT count(*) FROM actor_mentions m WHERE m.actor_id = a.actor_id) AS mention_count,
       f.actor_type AS affiliation_type,
       a.canonical_source_id IS NULL
           OR coalesce(a.canonical_basis = CASE WHEN cs.kind = 'fact_dossier' THEN 'external_dossier'
                                                ELSE 'external_reference' END, false)
           AS canonical_basis_matches_source,
       a.char_start IS NULL OR coalesce(
           (a.char_start = 0 OR NOT regexp_matches(substr(r.text, a.char_start, 2), '^[\pL\pN][\pL\pN]$')
                OR regexp_matches(substr(r.text, a.char_start, 2), '^\p{Ll}\p{Lu}$'))
           AND (a.char_end >= length(r.text) OR NOT regexp_matches(substr(r.text, a.char_end, 2), '^[\pL\pN][\pL\pN]$')
                OR regexp_matches(substr(r.text, a.char_end, 2), '^\p{Ll}\p{Lu}$'))
           AND len(list_filter(regexp_extract_all(a.excerpt, '\p{Ll}\p{Lu}'),
                               lambda x: NOT contains(a.canonical_name, x))) = 0, false)
           AS evidence_is_the_name_only
FROM actors a
LEFT JOIN actors f ON f.actor_id = a.affiliation_id
LEFT JOIN sources cs ON cs.source_id = a.canonical_source_id
LEFT JOIN raw_documents r ON r.document_id = a.document_id
ORDER BY a.actor_id
