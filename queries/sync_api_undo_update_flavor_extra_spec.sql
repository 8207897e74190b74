-- sync --undo: put back an API-database extra spec value (and its updated_at) a --fix-drift run replaced.
UPDATE flavor_extra_specs
SET value = ?, updated_at = ?
WHERE id = ?
