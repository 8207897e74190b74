-- sync: one metadata key of an aggregate, under the child's own aggregate id.
INSERT INTO aggregate_metadata (created_at, updated_at, deleted_at, aggregate_id, `key`, value, deleted)
VALUES (?, NULL, NULL, ?, ?, ?, 0)
