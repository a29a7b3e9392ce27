-- name: subjects_species_sex
-- description: Distinct subjects per species and sex (subject ids are per dandiset)
SELECT coalesce(species, '(unknown)') AS species, coalesce(sex, '(unknown)') AS sex,
       count(DISTINCT dandiset_id || '/' || subject_id) AS subjects, count(DISTINCT dandiset_id) AS dandisets
FROM assets
WHERE subject_id IS NOT NULL
GROUP BY ALL
ORDER BY subjects DESC, species, sex
