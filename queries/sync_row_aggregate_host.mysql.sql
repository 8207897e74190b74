-- sync: one aggregate_hosts row by id, as written (journal) and before undo (must still match the journal).
SELECT id, created_at, updated_at, deleted_at, host, aggregate_id, deleted
FROM aggregate_hosts
WHERE id = ?
FOR UPDATE
