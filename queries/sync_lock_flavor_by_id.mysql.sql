-- sync re-check inside the write transaction: the child's flavor is still live under the id and flavorid the plan used.
SELECT id, flavorid
FROM instance_types
WHERE id = ? AND flavorid = ? AND deleted = 0
FOR UPDATE
