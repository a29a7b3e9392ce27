-- name: subjects_species_sex
-- description: Distinct subjects per species (by NCBI taxon, one name each) and sex (subject ids are per dandiset)
SELECT coalesce(by_id.name, by_name.name, a.species, '(unknown)') AS species,
       coalesce(a.sex, '(unknown)') AS sex,
       count(DISTINCT a.dandiset_id || '/' || a.subject_id) AS subjects,
       count(DISTINCT a.dandiset_id) AS dandisets
FROM assets a
LEFT JOIN (SELECT DISTINCT species_id, name FROM species_map) by_id ON by_id.species_id = a.species_id
LEFT JOIN species_map by_name ON a.species_id IS NULL AND by_name.raw = a.species
WHERE a.subject_id IS NOT NULL
GROUP BY ALL
ORDER BY subjects DESC, species, sex
