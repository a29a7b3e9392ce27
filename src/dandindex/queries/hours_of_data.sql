-- name: hours_of_data
-- description: Hours of recording by modality, species and brain area (a file's duration is its longest series), and the share of NWB files whose duration is known
WITH f AS (
    SELECT DISTINCT ON (n.asset_id) n.asset_id, n.duration, a.modalities, a.areas,
           coalesce(s.name, regexp_replace(a.species, ' \(the dandiset''s\)$', '')) AS species
    FROM nwb_files n JOIN asset_facets a USING (asset_id)
    LEFT JOIN (SELECT species_id, min(name) AS name FROM species_map GROUP BY species_id) s
           ON len(a.species_ids) = 1 AND s.species_id = a.species_ids[1]
    WHERE n.error IS NULL
    ORDER BY n.asset_id, a.version DESC
),
long AS (
    SELECT 'all' AS dimension, 'every NWB file' AS value, duration FROM f
    UNION ALL
    SELECT 'modality', unnest(CASE WHEN len(modalities) > 0 THEN modalities ELSE ['(none)'] END),
           duration FROM f
    UNION ALL
    SELECT 'species', coalesce(species, '(unknown)'), duration FROM f
    UNION ALL
    SELECT 'area', unnest(CASE WHEN len(areas) > 0 THEN areas ELSE ['(none)'] END), duration FROM f
)
SELECT dimension, value, count(*) AS files, count(duration) AS files_with_duration,
       round(coalesce(sum(duration), 0) / 3600, 3) AS hours,
       round(100.0 * count(duration) / count(*), 1) AS pct_duration_known
FROM long
GROUP BY dimension, value
ORDER BY CASE dimension WHEN 'all' THEN 0 WHEN 'modality' THEN 1 WHEN 'species' THEN 2 ELSE 3 END,
         hours DESC, files DESC, value
