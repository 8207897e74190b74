-- sync --undo: put back an API-database metadata value (and its updated_at) a --fix-drift run replaced.
UPDATE aggregate_metadata
SET value = ?, updated_at = ?
WHERE id = ?
