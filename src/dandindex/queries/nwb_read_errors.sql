-- name: nwb_read_errors
-- description: NWB files that could not be summarised, and why
SELECT f.dandiset_id, a.path, f.size, f.error
FROM nwb_files f LEFT JOIN (SELECT DISTINCT ON (asset_id) asset_id, path FROM assets) a USING (asset_id)
WHERE f.error IS NOT NULL
ORDER BY f.dandiset_id, a.path
