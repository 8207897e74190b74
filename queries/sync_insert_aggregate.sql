-- sync: copy one parent aggregate into a child; the child assigns its own id.
INSERT INTO aggregates (created_at, updated_at, deleted_at, name, uuid, deleted)
VALUES (?, ?, NULL, ?, ?, 0)
