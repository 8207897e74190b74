-- Aggregates of a Newton+ API database (api_migrations 017_aggregates): no soft delete there, every row is live.
-- Shaped like v1_aggregates.sql (id, name, uuid, deleted) so the same checks read either.
SELECT id, name, uuid, 0 AS deleted
FROM aggregates
ORDER BY id
