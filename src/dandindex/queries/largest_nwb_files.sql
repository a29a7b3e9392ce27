-- name: largest_nwb_files
-- description: The largest NWB files, with what they hold
-- param: top: how many (default 20)
WITH top AS (
    SELECT asset_id, size, nwb_version, n_objects, n_electrodes, n_units, n_rois
    FROM nwb_files WHERE error IS NULL
    ORDER BY size DESC, asset_id LIMIT coalesce(try_cast($top AS INTEGER), 20)
)
SELECT a.dandiset_id, a.path, coalesce(t.size, a.size) AS size, t.nwb_version, t.n_objects,
       t.n_electrodes, t.n_units, t.n_rois, a.api_url
FROM top t JOIN (
    SELECT DISTINCT ON (asset_id) asset_id, dandiset_id, path, size, api_url FROM assets
    WHERE asset_id IN (SELECT asset_id FROM top) ORDER BY asset_id, version DESC
) a USING (asset_id)
ORDER BY size DESC, a.dandiset_id, a.path
