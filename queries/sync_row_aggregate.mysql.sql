-- sync: one aggregates row by id, as written (journal) and before undo (must still match the journal).
SELECT id, created_at, updated_at, deleted_at, name, uuid, deleted
FROM aggregates
WHERE id = ?
FOR UPDATE
