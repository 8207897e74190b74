-- Instances `nova-manage db archive_deleted_rows` moved out of a cell's instances table.
SELECT uuid
FROM shadow_instances
WHERE uuid IS NOT NULL
ORDER BY uuid
