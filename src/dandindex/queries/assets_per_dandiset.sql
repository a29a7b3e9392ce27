-- name: assets_per_dandiset
-- description: Assets and bytes per dandiset and indexed version
SELECT a.dandiset_id, a.version, any_value(d.name) AS name, count(*) AS assets,
       sum(a.size) AS bytes, count(*) FILTER (a.encoding_format = 'application/x-nwb') AS nwb_assets
FROM assets a LEFT JOIN dandisets d USING (dandiset_id)
GROUP BY a.dandiset_id, a.version
ORDER BY bytes DESC NULLS LAST, a.dandiset_id
