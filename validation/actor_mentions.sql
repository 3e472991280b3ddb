-- The frame the actor_mentions suite validates: each mention, and whether its evidence covers
-- the name or phrase only (word boundaries at both ends, where a change from lower to upper
-- case counts as one, and no glued word that the actor's canonical name lacks), and whether it is
-- read off the document it names (its evidence source is that document's own sources row).
SELECT m.*,
       m.char_start IS NULL OR coalesce(
           (m.char_start = 0 OR NOT regexp_matches(substr(r.text, m.char_start, 2), '^[\pL\pN][\pL\pN]$')
                OR regexp_matches(substr(r.text, m.char_start, 2), '^\p{Ll}\p{Lu}$'))
           AND (m.char_end >= length(r.text) OR NOT regexp_matches(substr(r.text, m.char_end, 2), '^[\pL\pN][\pL\pN]$')
                OR regexp_matches(substr(r.text, m.char_end, 2), '^\p{Ll}\p{Lu}$'))
           AND len(list_filter(regexp_extract_all(m.excerpt, '\p{Ll}\p{Lu}'),
                               lambda x: NOT contains(a.canonical_name, x))) = 0, false)
           AS evidence_is_the_name_only,
       coalesce(m.evidence_source_id = m.document_id, false) AS read_off_its_document
FROM actor_mentions m
JOIN actors a USING (actor_id)
LEFT JOIN raw_documents r ON r.document_id = m.document_id
ORDER BY m.mention_id
