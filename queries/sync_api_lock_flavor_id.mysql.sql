-- sync re-check in a child's API database: no flavor holds the id a copy keeps.
SELECT id, flavorid, 0 AS deleted
FROM flavors
WHERE id = ?
FOR UPDATE
