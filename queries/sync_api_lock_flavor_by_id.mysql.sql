-- sync re-check in a child's API database: the flavor the plan read is still there with this flavorid.
SELECT id, flavorid
FROM flavors
WHERE id = ? AND flavorid = ?
FOR UPDATE
