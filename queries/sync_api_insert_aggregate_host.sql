-- sync, Newton to Stein: one member host of an aggregate in a child's API database.
INSERT INTO aggregate_hosts (created_at, updated_at, host, aggregate_id)
VALUES (?, NULL, ?, ?)
