-- sync re-check in a child's API database: one metadata key of one aggregate.
SELECT id, value, updated_at
FROM aggregate_metadata
WHERE aggregate_id = ? AND `key` = ?
FOR UPDATE
