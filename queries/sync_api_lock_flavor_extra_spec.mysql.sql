-- sync re-check in a child's API database: one extra spec of one flavor.
SELECT id, value, updated_at
FROM flavor_extra_specs
WHERE flavor_id = ? AND `key` = ?
FOR UPDATE
