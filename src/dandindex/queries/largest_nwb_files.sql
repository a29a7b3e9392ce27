-- name: largest_nwb_files
-- description: The largest NWB files, with what they hold
-- param: top: how many (default 20)
SELECT a.dandiset_id, a.path, a.size, f.nwb_version, f.n_objects, f.n_electrodes, f.n_units, f.n_rois, a.api_url
FROM nwb_files f JOIN (SELECT DISTINCT ON (asset_id) * FROM assets) a USING (asset_id)
WHERE f.error IS NULL
ORDER BY a.size DESC
LIMIT coalesce(try_cast($top AS INTEGER), 20)
