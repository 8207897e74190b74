-- sync: one API-database aggregate_hosts row by id (journal and undo).
SELECT id, created_at, updated_at, host, aggregate_id
FROM aggregate_hosts
WHERE id = ?
FOR UPDATE
