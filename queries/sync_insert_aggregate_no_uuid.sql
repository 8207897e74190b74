-- sync, before Mitaka (no aggregates.uuid, main migration 317): copy one parent aggregate into a child's main database.
INSERT INTO aggregates (created_at, updated_at, deleted_at, name, deleted)
VALUES (?, ?, NULL, ?, 0)
