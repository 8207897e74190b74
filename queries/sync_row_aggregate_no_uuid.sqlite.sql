-- sync, before Mitaka (no aggregates.uuid): one aggregates row by id (journal and undo).
SELECT id, created_at, updated_at, deleted_at, name, deleted
FROM aggregates
WHERE id = ?
