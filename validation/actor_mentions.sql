-- The frame the actor_mentions suite validates: each mention, and whether its evidence covers
-- the name or phrase only (word boundaries at both ends, where a change from lower to upper
-- case counts as one, and no glued word that the actor's canonical name lacks), and whether
-- it is read off its own document (evidence_source_id is the document's sources row).
-- The characters around the evidence are read off its prefix and suffix (the text's
-- 32 characters before and after it, which the build's excerpt check proves equal to
-- the document's): cutting them out of the whole text took 3x the time at 330,000 mentions.
-- Each test is a CASE, so that a row settled by a cheap test is not matched again (a lower-
-- upper case pair is looked for only when letters or digits meet at a boundary, and listed
-- only in an excerpt that has one): the same values, a quarter less time.
-- The common case is settled first by tests that imply the whole expression is true (a
-- space or line break ends the prefix; the suffix starts with an ASCII character other than
-- a letter or digit, or is empty; the excerpt is part of the canonical name, so every pair it
-- holds is too); any other row gets the full expression, unchanged. Building the boundary
-- strings cost more than matching them: 4.9-5.2 to 3.2-3.4 CPU s at 3.3M mentions.
-- Rows are numbered by the mention's rowid (__gate_row): the staged table holds the mentions in
-- the published order (by mention_id), so the frame needs no ORDER BY, whose sort of every row
-- was 2.3 of the frame's 3.7 CPU s at 3.3M mentions.
SELECT m.rowid AS __gate_row, m.*,
       coalesce(m.evidence_source_id = m.document_id AND NOT m.is_external, false) AS from_its_document,
       CASE WHEN (m.char_start = 0 OR ends_with(m.prefix, ' ') OR ends_with(m.prefix, chr(10)))
                 AND (ord(m.suffix) < 48 OR ord(m.suffix) BETWEEN 58 AND 64
                      OR ord(m.suffix) BETWEEN 91 AND 96 OR ord(m.suffix) BETWEEN 123 AND 127)
                 AND contains(a.canonical_name, m.excerpt) THEN true
            ELSE
              m.char_start IS NULL OR coalesce(
                  CASE WHEN m.char_start = 0 THEN true
                       WHEN NOT regexp_matches((right(coalesce(m.prefix, ''), 1) || left(coalesce(m.excerpt, '') || coalesce(m.suffix, ''), 1)), '^[\pL\pN][\pL\pN]$') THEN true
                       ELSE regexp_matches((right(coalesce(m.prefix, ''), 1) || left(coalesce(m.excerpt, '') || coalesce(m.suffix, ''), 1)), '^\p{Ll}\p{Lu}$') END
                  AND CASE WHEN coalesce(m.suffix, '') = '' THEN true
                       WHEN NOT regexp_matches((right(coalesce(m.prefix, '') || coalesce(m.excerpt, ''), 1) || left(coalesce(m.suffix, ''), 1)), '^[\pL\pN][\pL\pN]$') THEN true
                       ELSE regexp_matches((right(coalesce(m.prefix, '') || coalesce(m.excerpt, ''), 1) || left(coalesce(m.suffix, ''), 1)), '^\p{Ll}\p{Lu}$') END
                  AND CASE WHEN m.excerpt IS NULL THEN NULL WHEN NOT regexp_matches(m.excerpt, '\p{Ll}\p{Lu}') THEN true
                       ELSE len(list_filter(regexp_extract_all(m.excerpt, '\p{Ll}\p{Lu}'),
                                      lambda x: NOT contains(a.canonical_name, x))) = 0 END, false)
       END AS evidence_is_the_name_only
FROM actor_mentions m
JOIN actors a USING (actor_id)
