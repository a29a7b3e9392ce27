-- name: visual_cohort
-- description: The tour's question (how visual areas coordinate during natural scenes, and how running changes it): mouse sessions with units or dF/F in VISp, VISl, VISal or VISpm, a natural-scenes presentation table and a running-speed series; their areas, electrodes or ROIs per area, duration, and whether two or more of those areas were recorded together
WITH visual AS (
    SELECT asset_id, acronym,
           sum(count) FILTER (source = 'electrodes') AS electrodes,
           sum(count) FILTER (source = 'imaging_plane') AS planes
    FROM asset_areas
    WHERE source IN ('electrodes', 'imaging_plane') AND acronym IN ('VISp', 'VISl', 'VISal', 'VISpm')
    GROUP BY asset_id, acronym
),
per_file AS (
    SELECT asset_id, list(acronym ORDER BY acronym) AS areas,
           string_agg(acronym || ': ' || CASE WHEN electrodes IS NOT NULL
                          THEN electrodes || ' electrodes' ELSE planes || ' plane(s)' END,
                      '; ' ORDER BY acronym) AS per_area,
           sum(planes) AS planes
    FROM visual GROUP BY asset_id
),
parts AS (
    SELECT asset_id,
           bool_or(regexp_matches(lower(path), '/natural_(scenes|images|movie)[^/]*$')
                   AND neurodata_type = 'TimeIntervals') AS natural_scenes,
           bool_or(regexp_matches(lower(path), '/running_speed$')) AS running_speed,
           bool_or(neurodata_type = 'Units') AS units,
           bool_or(neurodata_type = 'DfOverF'
                   OR (neurodata_type = 'RoiResponseSeries'
                       AND regexp_matches(lower(path), 'dff|dfoverf|delta'))) AS dff
    FROM nwb_objects
    WHERE asset_id IN (SELECT asset_id FROM per_file)
    GROUP BY asset_id
),
mouse AS (
    SELECT DISTINCT ON (asset_id) asset_id, dandiset_id, path
    FROM asset_facets
    WHERE list_contains(species_ids, 'http://purl.obolibrary.org/obo/NCBITaxon_10090')
    ORDER BY asset_id, version DESC
)
SELECT m.dandiset_id, m.path, v.areas, len(v.areas) >= 2 AS simultaneous, v.per_area,
       CASE WHEN p.units THEN 'units' ELSE 'dF/F' END AS activity,
       f.n_units, CASE WHEN v.planes = f.n_imaging_planes THEN f.n_rois END AS n_rois,
       round(f.duration / 60, 1) AS minutes, m.asset_id
FROM per_file v
JOIN parts p USING (asset_id)
JOIN mouse m USING (asset_id)
JOIN nwb_files f USING (asset_id)
WHERE p.natural_scenes AND p.running_speed AND (p.units OR p.dff)
ORDER BY simultaneous DESC, len(v.areas) DESC, m.dandiset_id, m.path
