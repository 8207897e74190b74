-- sync, Newton to Stein: one metadata key of an aggregate in a child's API database.
INSERT INTO aggregate_metadata (created_at, updated_at, aggregate_id, `key`, value)
VALUES (?, NULL, ?, ?, ?)
