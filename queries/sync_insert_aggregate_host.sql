-- sync: one member host (plain name, as the child's services know it), under the child's own aggregate id.
INSERT INTO aggregate_hosts (created_at, updated_at, deleted_at, host, aggregate_id, deleted)
VALUES (?, NULL, NULL, ?, ?, 0)
