-- name: neurodata_types
-- description: Neurodata types across the archive: files and dandisets that contain each
SELECT o.neurodata_type, any_value(o.namespace) AS namespace, count(*) AS objects,
       count(DISTINCT o.asset_id) AS files, count(DISTINCT a.dandiset_id) AS dandisets
FROM nwb_objects o LEFT JOIN (SELECT DISTINCT asset_id, dandiset_id FROM assets) a USING (asset_id)
GROUP BY o.neurodata_type
ORDER BY files DESC, o.neurodata_type
