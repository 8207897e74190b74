-- sync: one aggregate_metadata row by id, as written (journal) and before undo (must still match the journal).
SELECT id, created_at, updated_at, deleted_at, aggregate_id, `key`, value, deleted
FROM aggregate_metadata
WHERE id = ?
FOR UPDATE
