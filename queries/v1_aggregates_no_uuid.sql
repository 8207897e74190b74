-- Aggregates of a database older than Mitaka (schema 317 added aggregates.uuid).
SELECT id, name, NULL AS uuid, deleted
FROM aggregates
ORDER BY id
