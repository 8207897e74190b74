-- Every flavor row of a child's API database, shaped like sync_child_flavor_ids.sql (no soft delete there).
SELECT id, flavorid, name, 0 AS deleted
FROM flavors
ORDER BY id
