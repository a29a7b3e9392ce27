-- name: ophys_visual_cortex
-- description: Optical physiology sessions recorded in visual cortex (Allen VIS and everything below it)
SELECT dandiset_id, version, asset_id, path, species, areas, size
FROM asset_facets
WHERE list_contains(modalities, 'ophys') AND list_contains(area_tree, 'VIS')
ORDER BY dandiset_id, path
