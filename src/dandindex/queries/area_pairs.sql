-- name: area_pairs
-- description: Pairs of brain areas recorded in the same NWB file (electrodes, imaging planes, intracellular electrodes): how many sessions and dandisets recorded both
-- param: min_sessions: leave out pairs recorded together in fewer files (default 1)
WITH a AS (
    SELECT DISTINCT asset_id, acronym FROM asset_areas
    WHERE source IN ('electrodes', 'imaging_plane', 'intracellular_electrode', 'other')
      AND acronym IS NOT NULL AND NOT placeholder
),
d AS (SELECT DISTINCT asset_id, dandiset_id FROM assets),
p AS (
    SELECT x.asset_id, x.acronym AS area_a, y.acronym AS area_b
    FROM a x JOIN a y ON x.asset_id = y.asset_id AND x.acronym < y.acronym
)
SELECT area_a, area_b, count(DISTINCT p.asset_id) AS sessions,
       count(DISTINCT d.dandiset_id) AS dandisets,
       list_sort(list_distinct(list(d.dandiset_id)))[1:10] AS some_dandisets
FROM p JOIN d USING (asset_id)
GROUP BY area_a, area_b
HAVING count(DISTINCT p.asset_id) >= coalesce(try_cast($min_sessions AS INTEGER), 1)
ORDER BY sessions DESC, dandisets DESC, area_a, area_b
