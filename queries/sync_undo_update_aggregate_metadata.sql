-- sync --undo: put back the value and updated_at a --fix-drift update replaced.
UPDATE aggregate_metadata
SET value = ?, updated_at = ?
WHERE id = ?
