-- sync re-check in a child's API database: the aggregate the plan read is still there under its name.
SELECT id, name
FROM aggregates
WHERE id = ? AND name = ?
FOR UPDATE
