-- sync re-check in a child's API database: flavors with this flavorid or name (both UNIQUE there; must be none before a copy).
SELECT id, flavorid, name
FROM flavors
WHERE flavorid = ? OR name = ?
FOR UPDATE
