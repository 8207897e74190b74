-- sync re-check inside the write transaction: any row, soft-deleted or not, holding the id a copy is to keep (must be none).
SELECT id, flavorid, deleted
FROM instance_types
WHERE id = ?
