-- name: areas_most_units
-- description: Brain areas (Allen acronyms, else the raw string) with the most sorted units in files recording there
WITH per_file AS (
    SELECT coalesce(acronym, raw) AS area, asset_id,
           sum(count) FILTER (source = 'electrodes') AS electrodes
    FROM asset_areas
    WHERE NOT placeholder
    GROUP BY 1, 2
)
SELECT p.area, count(*) AS files, sum(f.n_units) AS units, sum(p.electrodes) AS electrodes
FROM per_file p JOIN nwb_files f USING (asset_id)
WHERE f.n_units > 0
GROUP BY p.area
ORDER BY units DESC, p.area
