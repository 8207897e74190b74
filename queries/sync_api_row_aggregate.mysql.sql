-- sync: one API-database aggregates row by id, as written (journal) and before undo (must still match the journal).
SELECT id, created_at, updated_at, name, uuid
FROM aggregates
WHERE id = ?
FOR UPDATE
