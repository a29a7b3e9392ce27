-- name: species_modality
-- description: Dandisets and assets per species (by NCBI taxon, one name each) and modality
SELECT coalesce(by_id.name, by_name.name, f.species, '(none)') AS species, m.modality,
       count(DISTINCT f.dandiset_id) AS dandisets, count(DISTINCT f.asset_id) AS assets
FROM asset_facets f
LEFT JOIN (SELECT DISTINCT species_id, name FROM species_map) by_id ON by_id.species_id = f.species_id
LEFT JOIN species_map by_name ON f.species_id IS NULL AND by_name.raw = f.species,
     unnest(CASE WHEN len(f.modalities) = 0 THEN ['(none)'] ELSE f.modalities END) AS m(modality)
GROUP BY ALL
ORDER BY dandisets DESC, assets DESC, species, m.modality
