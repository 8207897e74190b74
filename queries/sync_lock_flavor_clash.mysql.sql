-- sync re-check inside the write transaction: live flavors with this flavorid or name (must be none before a copy is inserted); locks what it reads until COMMIT.
SELECT id, flavorid, name
FROM instance_types
WHERE (flavorid = ? OR name = ?) AND deleted = 0
FOR UPDATE
