-- name: changed_since
-- description: Dandisets modified on or after a date, with how many of their assets changed
-- param: since: an ISO date, e.g. 2024-01-01
SELECT d.dandiset_id, d.name, d.modified, d.latest_version,
       count(a.asset_id) FILTER (a.modified >= CAST($since AS TIMESTAMPTZ)) AS assets_changed
FROM dandisets d LEFT JOIN assets a ON a.dandiset_id = d.dandiset_id AND a.version = 'draft'
WHERE d.modified >= CAST($since AS TIMESTAMPTZ)
GROUP BY ALL
ORDER BY d.modified DESC
