-- sync re-check inside the write transaction: the child's aggregate is still live under the id and name the plan used.
SELECT id, name
FROM aggregates
WHERE id = ? AND name = ? AND deleted = 0
FOR UPDATE
