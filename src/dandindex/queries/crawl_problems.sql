-- name: crawl_problems
-- description: What the crawler could not read, grouped by stage and field
SELECT stage, split_part(error, ':', 1) AS field, count(*) AS rows,
       count(DISTINCT dandiset_id) AS dandisets, any_value(error) AS example
FROM crawl_errors
GROUP BY ALL
ORDER BY rows DESC
