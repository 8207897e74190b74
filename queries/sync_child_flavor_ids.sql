-- Every flavor row of a child, soft-deleted ones included: an id is free only if no row has it.
SELECT id, flavorid, name, deleted
FROM instance_types
ORDER BY id
