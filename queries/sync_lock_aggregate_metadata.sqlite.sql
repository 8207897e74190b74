-- sync re-check inside the write transaction: the live value of one metadata key (none before an insert; the planned old value before an update).
SELECT id, value, updated_at
FROM aggregate_metadata
WHERE aggregate_id = ? AND `key` = ? AND deleted = 0
