-- sync --fix-drift: set a drifted metadata value to the parent's; the old value in WHERE makes a concurrent change match nothing.
UPDATE aggregate_metadata
SET value = ?, updated_at = ?
WHERE aggregate_id = ? AND `key` = ? AND value = ? AND deleted = 0
