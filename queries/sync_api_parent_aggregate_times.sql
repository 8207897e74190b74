-- Timestamps of the aggregates in a parent's API database: a copy pushed to a child keeps them.
SELECT id, created_at, updated_at
FROM aggregates
ORDER BY id
