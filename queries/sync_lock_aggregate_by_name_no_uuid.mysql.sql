-- sync re-check before Mitaka (no aggregates.uuid, main migration 317): live aggregates with this name (must be none).
SELECT id, name
FROM aggregates
WHERE name = ? AND deleted = 0
FOR UPDATE
