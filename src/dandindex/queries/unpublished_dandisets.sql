-- name: unpublished_dandisets
-- description: Dandisets without any published version
SELECT dandiset_id, name, created, modified, asset_count, size, contact_person
FROM dandisets
WHERE latest_version IS NULL
ORDER BY dandiset_id
