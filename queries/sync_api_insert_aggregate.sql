-- sync, Newton to Stein: copy one parent aggregate into a child's own API database (no soft-delete columns there).
INSERT INTO aggregates (created_at, updated_at, name, uuid)
VALUES (?, ?, ?, ?)
