-- sync --fix-drift, Newton to Stein: set one metadata value in a child's API database, only if it still holds the planned old value.
UPDATE aggregate_metadata
SET value = ?, updated_at = ?
WHERE aggregate_id = ? AND `key` = ? AND value = ?
