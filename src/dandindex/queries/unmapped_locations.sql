-- name: unmapped_locations
-- description: Location strings that name no brain area the atlas knows (nor a placeholder), with the files and dandisets using them, most used first: candidates for new aliases
WITH uses AS (
    SELECT l.location AS raw, l.asset_id, n.dandiset_id
    FROM nwb_locations l LEFT JOIN nwb_files n USING (asset_id)
    UNION ALL SELECT unnest(anatomy), asset_id, dandiset_id FROM assets
    UNION ALL SELECT unnest(anatomy), NULL, dandiset_id FROM versions
),
m AS (
    SELECT raw FROM location_map GROUP BY raw
    HAVING count(acronym) = 0 AND NOT bool_or(dropped)
)
SELECT m.raw AS location, count(DISTINCT u.asset_id) AS files, count(DISTINCT u.dandiset_id) AS dandisets
FROM m JOIN uses u USING (raw)
GROUP BY m.raw
ORDER BY files DESC, dandisets DESC, location
