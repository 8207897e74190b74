-- sync: one API-database aggregate_metadata row by id (journal and undo).
SELECT id, created_at, updated_at, aggregate_id, `key`, value
FROM aggregate_metadata
WHERE id = ?
FOR UPDATE
