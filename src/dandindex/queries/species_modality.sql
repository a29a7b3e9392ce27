-- name: species_modality
-- description: Dandisets and assets per species and modality
SELECT coalesce(species, '(none)') AS species, m.modality,
       count(DISTINCT dandiset_id) AS dandisets, count(DISTINCT asset_id) AS assets
FROM asset_facets, unnest(CASE WHEN len(modalities) = 0 THEN ['(none)'] ELSE modalities END) AS m(modality)
GROUP BY ALL
ORDER BY dandisets DESC, assets DESC, species, m.modality
