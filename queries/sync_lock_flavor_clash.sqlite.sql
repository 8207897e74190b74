-- sync re-check inside the write transaction: live flavors with this flavorid or name (must be none before a copy is inserted); BEGIN IMMEDIATE already holds the database's write lock.
SELECT id, flavorid, name
FROM instance_types
WHERE (flavorid = ? OR name = ?) AND deleted = 0
