-- Timestamps of the parent's live aggregates: a copy pushed to a child keeps them, as it keeps uuid and name.
SELECT id, created_at, updated_at
FROM aggregates
WHERE deleted = 0
ORDER BY id
